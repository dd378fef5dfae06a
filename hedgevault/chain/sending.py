"""Sending transactions, the one path: EIP-1559 fees under a cap, local signing, raw broadcast, receipts, and
a revert raised with its decoded reason.

* ``capped_fees``: maxFeePerGas = 2 x base fee + tip, limited by the cap; refused (``FeeCapTooLow``) before
  anything is signed when the cap is below what the next block needs (base fee + tip).
* ``Signer``: signs ``TxRequest``s with a local key and broadcasts them raw (``eth_sendRawTransaction``), so
  the same path works on Anvil and on testnets; the caller chooses nonce and fees (the keeper's replacement
  rules live in ``hedgevault.keeper``).
* ``send_signed``: a web3 contract call or constructor, built (gas estimated: a call that would revert raises
  web3's ``ContractCustomError`` / ``ContractLogicError`` before anything is sent), signed, sent, mined.
* ``send``: the same from an account the node holds unlocked (local chains, tests).
* ``choose_access_list``: an EIP-2930 access list from ``eth_createAccessList`` for a ``TxRequest``, kept only
  when the estimate with it is lower than without; any failure of the node's answer means no list (an
  optimisation: a send never fails for it).

A mined transaction that reverted raises ``TransactionReverted`` carrying the decoded ``Revert``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.types import Nonce, TxParams, TxReceipt, Wei

from hedgevault.chain.rpc import AccessEntry, Revert, Rpc, RpcError, access_list_json
from hedgevault.errors import TransactionError

#: Gas estimates are raised by this factor (percent) to absorb state changes between estimate and mining.
GAS_MARGIN_PCT = 120
#: Default tip (wei per gas) when the node cannot suggest one.
DEFAULT_PRIORITY_FEE_WEI = 10**9


class FeeCapTooLow(TransactionError):
    """The fee cap is below what the next block needs: nothing was signed or sent."""


class TransactionReverted(TransactionError):
    """A mined transaction reverted; ``revert`` is why (replayed on the state before its block)."""

    def __init__(self, tx_hash: str, sender: str, revert: Revert, quote_decimals: int | None = None) -> None:
        super().__init__(f"transaction {tx_hash} from {sender} reverted: {revert.describe(quote_decimals)}")
        self.tx_hash = tx_hash
        self.revert = revert


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fees of one transaction (wei per gas)."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int


def capped_fees(*, base_fee_wei: int, priority_fee_wei: int, fee_cap_wei: int | None) -> Fees:
    """maxFeePerGas = 2 x base fee + tip (survives six full blocks of base-fee growth), limited by
    ``fee_cap_wei`` (None: no cap). Raises ``FeeCapTooLow`` when the cap is below base fee + tip.

    The one rule of every sender (the CLI's, the keeper's ``initial_fees``). The tip is never cut to fit under
    the cap: a transaction priced at the cap cannot be replaced (a replacement must raise maxFee 12.5% above
    it), so one whose tip was cut below what the operator chose may wait unmined, holding the nonce every later
    action needs and carrying calldata decided on an old block; refused instead, the caller decides again on
    the next block and sends with the whole tip once base fee + tip fits."""
    max_fee = 2 * base_fee_wei + priority_fee_wei
    if fee_cap_wei is not None and max_fee > fee_cap_wei:
        if fee_cap_wei < base_fee_wei + priority_fee_wei:
            raise FeeCapTooLow(
                f"fee cap {fee_cap_wei} wei/gas is below the base fee {base_fee_wei} + tip {priority_fee_wei}: "
                "raise the cap or wait for lower fees"
            )
        max_fee = fee_cap_wei
    return Fees(max_fee, priority_fee_wei)


def suggested_tip_wei(rpc: Rpc) -> int:
    """The node's suggested tip (``eth_maxPriorityFeePerGas``), or ``DEFAULT_PRIORITY_FEE_WEI`` without one."""
    try:
        return int(str(rpc.request("eth_maxPriorityFeePerGas", [])), 16)
    except RpcError:
        return DEFAULT_PRIORITY_FEE_WEI


def eip1559_fees(
    w3: Web3, *, priority_fee_wei: int | None = None, max_fee_cap_wei: int | None = None
) -> tuple[int, int]:
    """(maxFeePerGas, maxPriorityFeePerGas) for the next block of ``w3``'s chain (``capped_fees``); the tip
    is the node's suggestion unless given."""
    fees = _next_block_fees(Rpc(w3), priority_fee_wei, max_fee_cap_wei)
    return fees.max_fee_per_gas, fees.max_priority_fee_per_gas


def _next_block_fees(rpc: Rpc, priority_fee_wei: int | None, max_fee_cap_wei: int | None) -> Fees:
    base_fee = rpc.head().base_fee_wei
    tip = suggested_tip_wei(rpc) if priority_fee_wei is None else priority_fee_wei
    return capped_fees(base_fee_wei=base_fee, priority_fee_wei=tip, fee_cap_wei=max_fee_cap_wei)


@dataclass(frozen=True)
class TxRequest:
    """What to send: call ``data`` on ``to`` (``""``: create a contract) with ``gas`` and ``value`` (wei), and an
    EIP-2930 ``access_list`` (empty: none)."""

    to: str
    data: bytes
    gas: int
    value: int = 0
    access_list: tuple[AccessEntry, ...] = ()


class Signer:
    """Signs EIP-1559 transactions with a local account and broadcasts them raw (never eth_sendTransaction)."""

    def __init__(self, rpc: Rpc, account: LocalAccount, chain_id: int | None = None) -> None:
        self.rpc = rpc
        self.account = account
        self.address = str(account.address)
        self.chain_id = rpc.chain_id if chain_id is None else chain_id

    def nonce(self, block: str) -> int:
        """The account's transaction count at ``block`` ("latest": mined; "pending": with the mempool)."""
        return self.rpc.nonce(self.address, block)

    def send(self, request: TxRequest, nonce: int, fees: Fees) -> str:
        """Sign and broadcast; return the hash (hex). Raises ``RpcError`` when the node refuses it (the
        message says why: nonce too low, replacement underpriced, insufficient funds ...)."""
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "data": "0x" + request.data.hex(),
            "value": request.value,
            "gas": request.gas,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        if request.to:
            tx["to"] = request.to
        if request.access_list:
            tx["accessList"] = access_list_json(request.access_list)
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        try:
            self.rpc.request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        except RpcError as exc:
            if "already known" in exc.rpc_message.lower():  # a resend of the same bytes: fine
                return tx_hash
            raise
        return tx_hash

    def balance_wei(self) -> int:
        return self.rpc.balance_wei(self.address)


@dataclass(frozen=True)
class AccessListChoice:
    """What ``choose_access_list`` decided: the list to send (empty: none) and the gas estimate that goes with it;
    ``reason`` says why there is no list ("" when there is one), ``failed`` whether the node failed to answer
    (rather than the list not lowering the estimate)."""

    entries: tuple[AccessEntry, ...]
    gas: int
    reason: str = ""
    failed: bool = False


def choose_access_list(rpc: Rpc, *, sender: str, to: str, data: bytes, block: str, plain_gas: int) -> AccessListChoice:
    """The access list ``eth_createAccessList`` gives for calling ``data`` on ``to`` at ``block``, with
    ``eth_estimateGas`` run again with it: kept when that estimate is below ``plain_gas`` (the estimate without),
    else none. A list costs 2,400 gas an account and 1,900 a storage key up front and saves 2,500 / 2,000 on
    their first (cold) access, so it pays where a call reaches other contracts' accounts, and can cost more
    than it saves where it mostly lists the called contract itself (already warm). Any RPC failure (no such
    method, a revert, a malformed answer) gives no list and says why; ``RpcUnavailable`` (the node is down)
    propagates, as it would for the send."""
    try:
        entries = tuple(rpc.create_access_list(sender=sender, to=to, data=data, block=block))
    except RpcError as exc:
        return AccessListChoice((), plain_gas, f"eth_createAccessList failed: {exc}", failed=True)
    if not entries:
        return AccessListChoice((), plain_gas, "the access list is empty")
    try:
        listed = rpc.estimate_gas(sender=sender, to=to, data=data, block=block, access_list=entries)
    except RpcError as exc:
        return AccessListChoice((), plain_gas, f"eth_estimateGas with the access list failed: {exc}", failed=True)
    if isinstance(listed, Revert):
        return AccessListChoice(
            (), plain_gas, f"eth_estimateGas with the access list reverts: {listed.text}", failed=True
        )
    if listed < plain_gas:
        return AccessListChoice(entries, listed)
    return AccessListChoice((), plain_gas, f"no saving: {listed} gas with the list, {plain_gas} without")


class Buildable(Protocol):
    """A bound contract function or constructor (web3's ``ContractFunction`` / ``ContractConstructor``)."""

    def build_transaction(self, transaction: TxParams | None = None) -> TxParams: ...


def _receipt(w3: Web3, tx_hash: str, sender: str) -> TxReceipt:
    """The web3-formatted receipt of ``tx_hash`` once mined; ``TransactionReverted`` with the reason if it
    reverted."""
    receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash))
    if receipt["status"] != 1:
        raise TransactionReverted(tx_hash, sender, Rpc(w3).replay(tx_hash, int(receipt["blockNumber"])))
    return receipt


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
    """Build ``fn`` (a bound contract function or constructor) as an EIP-1559 transaction from ``account``
    with fees under ``max_fee_cap_wei`` (``capped_fees``: refused before signing when too low), sign it
    locally, send it raw and wait for the receipt.

    Gas is estimated (plus ``GAS_MARGIN_PCT``) unless given; an estimate that reverts raises web3's
    ``ContractCustomError`` / ``ContractLogicError`` before anything is sent. A mined transaction that
    reverted raises ``TransactionReverted`` with the decoded reason.
    """
    rpc = Rpc(w3)
    fees = _next_block_fees(rpc, priority_fee_wei, max_fee_cap_wei)
    params: TxParams = {
        "from": account.address,
        "nonce": Nonce(rpc.nonce(account.address, "pending")),
        "chainId": rpc.chain_id,
        "maxFeePerGas": Wei(fees.max_fee_per_gas),
        "maxPriorityFeePerGas": Wei(fees.max_priority_fee_per_gas),
        "value": Wei(value),
    }
    if gas is not None:
        params["gas"] = gas
    tx = fn.build_transaction(params)
    if gas is None:
        gas = int(tx["gas"]) * GAS_MARGIN_PCT // 100
    to = tx.get("to")
    request = TxRequest(str(to or ""), bytes(HexBytes(tx.get("data", b""))), int(gas), int(tx.get("value", 0)))
    tx_hash = Signer(rpc, account, rpc.chain_id).send(request, int(params["nonce"]), fees)
    return _receipt(w3, tx_hash, account.address)


def send(w3: Web3, fn: Any, sender: str, *, gas: int | None = None) -> TxReceipt:
    """Send the bound contract call or constructor ``fn`` from ``sender``, an account the node holds unlocked;
    return its receipt.

    A call that reverts raises web3's ``ContractCustomError`` / ``ContractLogicError`` while estimating gas
    (before anything is sent), so tests can match the custom error; one that reverts once mined (``gas``
    given) raises ``TransactionReverted`` with the decoded reason.
    """
    params: dict[str, Any] = {"from": sender}
    if gas is not None:
        params["gas"] = gas
    tx_hash = "0x" + bytes(fn.transact(params)).hex()
    return _receipt(w3, tx_hash, sender)
