"""The one exception hierarchy of hedgevault. Every message says what to do next."""

from __future__ import annotations


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
