"""Deploy compiled artifacts with web3 from an unlocked (local) account."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from hedgevault.errors import ChainError
from hedgevault.toolchain.compiler import Artifact


def deploy_with_receipt(
    w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None
) -> tuple[Contract, TxReceipt]:
    """Deploy ``artifact`` with constructor ``args`` from the unlocked ``sender`` (default: the node's
    first account); return the bound contract and the creation receipt."""
    sender = sender or w3.eth.accounts[0]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or receipt["contractAddress"] is None:
        raise ChainError(f"deploying {artifact.name} failed (tx {tx_hash.hex()})")
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi), receipt


def deploy(w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None) -> Contract:
    """Deploy ``artifact`` with constructor ``args``; return the bound contract."""
    return deploy_with_receipt(w3, artifact, *args, sender=sender)[0]
