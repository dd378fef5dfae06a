"""Deploy compiled artifacts with web3 from an unlocked (local) account."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from hedgevault.chain.sending import send
from hedgevault.errors import ChainError, ToolchainError
from hedgevault.toolchain.compiler import Artifact


def deploy_with_receipt(
    w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None
) -> tuple[Contract, TxReceipt]:
    """Deploy ``artifact`` with constructor ``args`` from the unlocked ``sender`` (default: the node's
    first account); return the bound contract and the creation receipt."""
    sender = sender or w3.eth.accounts[0]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send(w3, factory.constructor(*args), sender)
    if receipt["contractAddress"] is None:
        raise ChainError(f"deploying {artifact.name}: the receipt has no contract address")
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi), receipt


def deploy(w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None) -> Contract:
    """Deploy ``artifact`` with constructor ``args``; return the bound contract."""
    return deploy_with_receipt(w3, artifact, *args, sender=sender)[0]


def link(artifact: Artifact, libraries: dict[str, str]) -> Artifact:
    """Replace solc's ``__$<34 hex>$__`` placeholders for ``{"path:Name": address}``."""
    bytecode = artifact.bytecode
    for name, address in libraries.items():
        placeholder = "__$" + Web3.keccak(text=name).hex().removeprefix("0x")[:34] + "$__"
        bytecode = bytecode.replace(placeholder, address[2:].lower())
    if "__$" in bytecode:
        raise ToolchainError(f"{artifact.name} still has unlinked libraries after linking {sorted(libraries)}")
    return Artifact(artifact.name, artifact.source, artifact.abi, bytecode, artifact.deployed_bytecode)
