"""The session Anvil the fixtures start (``tests/conftest.py`` for all, ``tests/vault/conftest.py`` for the vault
tests' own): one embedded node per worker, its log under the session's temporary folder, its clock frozen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from hedgevault.chain import Node, freeze_clock, local_node


def session_anvil(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Node]:
    """An embedded Anvil (stopped when the generator closes), its log in a temporary folder ``name``."""
    with local_node(log_dir=tmp_path_factory.mktemp(name)) as running:
        yield running


def frozen_web3(node: Node) -> Web3:
    """A web3 connection to ``node`` with its clock frozen (``hedgevault.chain.freeze_clock``)."""
    connection = node.web3()
    freeze_clock(connection)
    return connection
