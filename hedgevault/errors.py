"""The one exception hierarchy of hedgevault. Every message says what to do next."""

from __future__ import annotations

from typing import ClassVar

from eth_abi.abi import encode
from eth_utils.crypto import keccak


class HedgevaultError(Exception):
    """Base class of every error raised on purpose by hedgevault."""


class ToolchainError(HedgevaultError):
    """A build tool (solc, node, anvil) is missing or failed."""


class CompilationError(ToolchainError):
    """The Solidity sources do not compile."""


class ChainError(HedgevaultError):
    """The node could not be started or reached."""


class SigningKeyError(HedgevaultError):
    """No usable signing key: missing, malformed, or kept where it must not be."""


class TransactionError(HedgevaultError):
    """A transaction could not be built, was refused, or reverted."""


class ContractError(HedgevaultError):
    """An input a contract rejects, raised by a Python mirror of that contract: one subclass per Solidity
    custom error of the same name, with the same arguments, and ``revert_data()`` the exact bytes the
    contract reverts with (4-byte selector + ABI-encoded arguments), so tests compare them byte for byte."""

    #: Solidity signature, e.g. ``SpotOutOfRange(uint256)``.
    SIGNATURE: ClassVar[str] = ""
    #: Names of the arguments, in order.
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: What to do about it, appended to the message.
    HINT: ClassVar[str] = ""

    def __init__(self, *args: int | bytes) -> None:
        self.values = tuple(args)
        named = ", ".join(f"{k}={v!r}" for k, v in zip(self.FIELDS, args, strict=True))
        super().__init__(f"{type(self).__name__}({named}): {self.HINT}")

    @classmethod
    def selector(cls) -> bytes:
        return keccak(text=cls.SIGNATURE)[:4]

    def revert_data(self) -> bytes:
        inner = self.SIGNATURE[self.SIGNATURE.index("(") + 1 : -1]
        types = inner.split(",") if inner else []
        return self.selector() + encode(types, list(self.values))
