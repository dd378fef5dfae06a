"""Who sends the deployment's transactions.

* ``SignedSender`` signs every transaction locally with a key (``hedgevault.chain.sending.send_signed``): the path
  a testnet deployment takes, used by ``hedgevault deploy`` on every chain, local ones included.
* ``UnlockedSender`` lets the node sign for one of its unlocked accounts: what the vault tests'
  ``hedgevault.suite.deploy_suite`` uses on the embedded Anvil.

Both count what they send (``transactions``), so callers can show or test that a rerun sent nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from hedgevault.chain.sending import send, send_signed
from hedgevault.errors import ChainError
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy_with_receipt


class Sender(Protocol):
    """Deploys contracts and sends contract calls from one account (``address``)."""

    w3: Web3
    address: str
    transactions: int

    def deploy(self, artifact: Artifact, *args: Any) -> tuple[Contract, TxReceipt]:
        """Deploy ``artifact`` with constructor ``args``; the bound contract and the receipt."""
        ...

    def send(self, fn: Any) -> TxReceipt:
        """Send the bound contract call ``fn``; its receipt (raises when it reverted)."""
        ...


class SignedSender:
    """Signs locally with ``account``; EIP-1559 fees capped at ``max_fee_cap_wei`` (wei per gas) if given."""

    def __init__(self, w3: Web3, account: LocalAccount, *, max_fee_cap_wei: int | None = None) -> None:
        self.w3 = w3
        self.account = account
        self.address = str(account.address)
        self.max_fee_cap_wei = max_fee_cap_wei
        self.transactions = 0

    def deploy(self, artifact: Artifact, *args: Any) -> tuple[Contract, TxReceipt]:
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.send(factory.constructor(*args))
        address = receipt["contractAddress"]
        if address is None:
            raise ChainError(f"deploying {artifact.name}: the receipt has no contract address")
        return self.w3.eth.contract(address=address, abi=artifact.abi), receipt

    def send(self, fn: Any) -> TxReceipt:
        self.transactions += 1
        return send_signed(self.w3, fn, self.account, max_fee_cap_wei=self.max_fee_cap_wei)


class UnlockedSender:
    """Sends from ``address``, an account the node holds unlocked (local chains)."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address = address
        self.transactions = 0

    def deploy(self, artifact: Artifact, *args: Any) -> tuple[Contract, TxReceipt]:
        self.transactions += 1
        return deploy_with_receipt(self.w3, artifact, *args, sender=self.address)

    def send(self, fn: Any) -> TxReceipt:
        self.transactions += 1
        return send(self.w3, fn, self.address)
