"""Send contract transactions from unlocked (local) accounts and fail loudly."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.types import TxReceipt

from hedgevault.errors import ChainError


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
