"""Fixtures for the whole suite, documented in one place.

* ``node``    - one embedded Anvil for the test session (``hedgevault.chain.local_node``): a free
                port on 127.0.0.1, block gas limit 1e9 for batched harness calls, stopped at exit;
                its log is kept under the session's temporary folder.
* ``w3``      - a web3 connection to ``node``, with its clock frozen (``hedgevault.chain.freeze_clock``):
                blocks keep the latest timestamp until a test moves time with ``hedgevault.chain.warp``,
                so what a view returns at ``latest`` holds for the next transaction on any machine load.
* ``harness`` - ``BlackScholesHarness`` compiled with the project's settings and deployed once
                (``hedgevault.greeks.onchain.GreeksHarness``): the real compiled library, called
                with eth_call.
* ``deployer`` - the named actor who deploys (Anvil's first unlocked account).

Tests are split by kind: ``tests/unit`` (pure Python, no chain) and ``tests/integration``
(Anvil + compiled contracts).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anvilkit import frozen_web3, session_anvil
from web3 import Web3

from hedgevault.chain import Node
from hedgevault.greeks.onchain import GreeksHarness


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from session_anvil(tmp_path_factory, "anvil")


@pytest.fixture(scope="session")
def w3(node: Node) -> Web3:
    return frozen_web3(node)


@pytest.fixture(scope="session")
def deployer(w3: Web3) -> str:
    return str(w3.eth.accounts[0])


@pytest.fixture(scope="session")
def harness(w3: Web3) -> GreeksHarness:
    return GreeksHarness.deploy(w3)
