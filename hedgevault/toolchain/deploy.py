"""Deploy compiled artifacts with web3 from an unlocked (local) account."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.errors import ChainError
from hedgevault.toolchain.compiler import Artifact


def deploy(w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None) -> Contract:
    """Deploy ``artifact`` with constructor ``args``; return the bound contract."""
    sender = sender or w3.eth.accounts[0]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or receipt["contractAddress"] is None:
        raise ChainError(f"deploying {artifact.name} failed (tx {tx_hash.hex()})")
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
