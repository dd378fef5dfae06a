"""Fixtures of the deployment tests (documented here; the session Anvil of ``tests/conftest.py`` is not used:
these tests need chains of their own, with real clocks, to tell chains apart and to fork them).

* ``anvils`` - a factory of Anvil nodes (``hedgevault.chain.start_anvil``, free ports, logs under the
  module's temporary folder), all stopped when the module ends: ``anvils()`` or ``anvils(fork_url=...)``.
* ``hv`` - runs the ``hedgevault`` command in-process (``hedgevault.cli.main``) and returns its exit code,
  stdout and stderr.
* ``deployer`` - Anvil's development account 0 (a local key: every deployment is signed locally).
* ``chain``, ``w3``, ``manifest_path`` - a module's own Anvil, a connection to it, and the suite deployed
  on it once for the module by `hedgevault deploy` with its defaults (timelock 24 h).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from flows import Run
from web3 import Web3

from hedgevault.chain import Node, start_anvil
from hedgevault.cli import main
from hedgevault.keys import anvil_account


@pytest.fixture(scope="module")
def anvils(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Node]]:
    started: list[Node] = []
    log_dir = tmp_path_factory.mktemp("nodes")

    def start(**kwargs: Any) -> Node:
        node = start_anvil(log_dir=log_dir, **kwargs)
        started.append(node)
        return node

    yield start
    for node in reversed(started):
        node.stop()


@pytest.fixture
def hv(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*argv: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def deployer() -> LocalAccount:
    return anvil_account(0)


@pytest.fixture(scope="module")
def chain(anvils: Callable[..., Node]) -> Node:
    return anvils()


@pytest.fixture(scope="module")
def w3(chain: Node) -> Web3:
    return chain.web3()


@pytest.fixture(scope="module")
def manifest_path(chain: Node, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("manifests") / "suite.json"
    assert main(["deploy", "--rpc-url", chain.url, "--manifest", str(path)]) == 0
    return path
