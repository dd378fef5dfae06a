"""Errors of ``hedgevault deploy`` and of reading deployment manifests."""

from __future__ import annotations

from hedgevault.errors import HedgevaultError


class DeploymentError(HedgevaultError):
    """The suite could not be deployed, reused or attached."""


class DeployConfigError(DeploymentError):
    """The deployment config file or a ``--set`` flag is wrong."""


class ManifestError(DeploymentError):
    """A manifest file is missing, unreadable or not in hedgevault's format."""


class WrongChainError(DeploymentError):
    """A manifest belongs to another chain (chain id or genesis block differ)."""


class DeploymentMismatch(DeploymentError):
    """What is on the chain differs from what the manifest or the config says.

    ``differences`` lists each one as ``what: expected ..., found ...``.
    """

    def __init__(self, summary: str, differences: list[str], advice: str) -> None:
        self.differences = differences
        lines = "\n".join(f"  - {d}" for d in differences)
        super().__init__(f"{summary}:\n{lines}\n{advice}")
