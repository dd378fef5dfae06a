"""Send transactions and fail loudly: from unlocked local accounts (``send``) or signed locally with a
key (``send_signed``, EIP-1559 with a fee cap), the path every testnet deployment takes."""

from __future__ import annotations

from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxParams, TxReceipt, Wei

from hedgevault.errors import ChainError, TransactionError

#: Gas estimates are raised by this factor (percent) to absorb state changes between estimate and mining.
GAS_MARGIN_PCT = 120
#: Default tip (wei per gas) when the node cannot suggest one.
DEFAULT_PRIORITY_FEE_WEI = 10**9


class Buildable(Protocol):
    """A bound contract function or constructor (web3's ``ContractFunction`` / ``ContractConstructor``)."""

    def build_transaction(self, transaction: TxParams | None = None) -> TxParams: ...


def send(w3: Web3, fn: Any, sender: str, *, gas: int | None = None) -> TxReceipt:
    """Send the bound contract call ``fn`` from ``sender``; return its receipt or raise ``ChainError``.

    A call that reverts raises web3's ``ContractCustomError`` / ``ContractLogicError`` while
    estimating gas (before anything is sent), so tests can match the custom error.
    """
    params: dict[str, Any] = {"from": sender}
    if gas is not None:
        params["gas"] = gas
    tx_hash = fn.transact(params)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise ChainError(f"transaction {tx_hash.hex()} from {sender} reverted; replay it with eth_call to see why")
    return receipt


def eip1559_fees(
    w3: Web3, *, priority_fee_wei: int | None = None, max_fee_cap_wei: int | None = None
) -> tuple[int, int]:
    """(maxFeePerGas, maxPriorityFeePerGas): twice the latest base fee plus the tip, limited by the cap.

    Raises ``TransactionError`` when the cap is below what the next block may need (base fee + tip)."""
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    if priority_fee_wei is None:
        try:
            priority_fee_wei = int(w3.eth.max_priority_fee)
        except Exception:  # noqa: BLE001 - nodes without eth_maxPriorityFeePerGas: use the default tip
            priority_fee_wei = DEFAULT_PRIORITY_FEE_WEI
    max_fee = 2 * base_fee + priority_fee_wei
    if max_fee_cap_wei is not None and max_fee > max_fee_cap_wei:
        if max_fee_cap_wei < base_fee + priority_fee_wei:
            raise TransactionError(
                f"fee cap {max_fee_cap_wei} wei/gas is below the base fee {base_fee} + tip {priority_fee_wei}: "
                "raise the cap or wait for lower fees"
            )
        max_fee = max_fee_cap_wei
    return max_fee, priority_fee_wei


def send_signed(
    w3: Web3,
    fn: Buildable,
    account: LocalAccount,
    *,
    gas: int | None = None,
    max_fee_cap_wei: int | None = None,
    priority_fee_wei: int | None = None,
    value: int = 0,
) -> TxReceipt:
    """Build ``fn`` (a bound contract function or constructor) as an EIP-1559 transaction from ``account``,
    sign it locally, send it and wait for the receipt.

    Gas is estimated (plus ``GAS_MARGIN_PCT``) unless given; an estimate that reverts raises web3's
    ``ContractCustomError`` / ``ContractLogicError`` before anything is sent. Raises ``TransactionError``
    when the mined transaction reverted.
    """
    max_fee, tip = eip1559_fees(w3, priority_fee_wei=priority_fee_wei, max_fee_cap_wei=max_fee_cap_wei)
    params: TxParams = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": w3.eth.chain_id,
        "maxFeePerGas": Wei(max_fee),
        "maxPriorityFeePerGas": Wei(tip),
        "value": Wei(value),
    }
    if gas is not None:
        params["gas"] = gas
    tx = fn.build_transaction(params)
    if gas is None:
        tx["gas"] = int(tx["gas"]) * GAS_MARGIN_PCT // 100
    signed = account.sign_transaction(tx)  # type: ignore[arg-type]
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise TransactionError(
            f"transaction {tx_hash.hex()} from {account.address} reverted; replay it with eth_call to see why"
        )
    return receipt
