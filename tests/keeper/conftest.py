"""Fixtures of the keeper tests (their own Anvil per module, not the session one: the keeper runs as a
separate process that must see a chain whose clock follows the wall clock and whose mining mode the
tests change).

* ``chain``   - an Anvil for the module (``hedgevault.chain.start_anvil``), stopped at the end.
* ``cw3``     - web3 on ``chain``.
* ``market``  - the suite deployed on ``chain`` (``deploy_suite``) with a deposit, a listed 7-day call, a
                purchase and one hedge already done (``keeperkit.setup_market``), so each test starts with
                nothing to do; the keepers (Anvil accounts 3 and 7, signing locally) hold VOL_UPDATER_ROLE
                and 100 ETH.
* ``keeper`` / ``keeper2`` - those signing accounts (eth-account ``LocalAccount``).
* ``spawn``   - starts real ``hedgevault keeper`` processes, killed after the test.
* every test runs between ``evm_snapshot`` and ``evm_revert``, with automine switched back on and the
  mempool emptied after it (a module with ``ISOLATE = False`` manages its chain itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import KeeperProcess, Market, rpc, setup_market
from web3 import Web3

from hedgevault.chain import Node, start_anvil
from hedgevault.keys import anvil_account
from hedgevault.suite import SuiteConfig, deploy_suite


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = start_anvil(log_dir=tmp_path_factory.mktemp("anvil"))
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def cw3(chain: Node) -> Web3:
    return chain.web3()


@pytest.fixture(scope="module")
def keeper() -> LocalAccount:
    return anvil_account(3)


@pytest.fixture(scope="module")
def keeper2() -> LocalAccount:
    return anvil_account(7)


@pytest.fixture(scope="module")
def market(cw3: Web3, keeper: LocalAccount, keeper2: LocalAccount) -> Market:
    return setup_market(deploy_suite(cw3, SuiteConfig()), [keeper.address, keeper2.address])


@pytest.fixture(autouse=True)
def _isolate(request: pytest.FixtureRequest) -> Iterator[None]:
    if "market" not in request.fixturenames or not getattr(request.module, "ISOLATE", True):
        yield
        return
    w3: Web3 = request.getfixturevalue("cw3")
    snapshot = rpc(w3, "evm_snapshot")
    yield
    rpc(w3, "anvil_dropAllTransactions")
    rpc(w3, "evm_setAutomine", True)
    rpc(w3, "evm_revert", snapshot)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., KeeperProcess]]:
    """Start ``hedgevault keeper`` processes (log in ``tmp_path/<name>.log``); all are killed after the test."""
    started: list[KeeperProcess] = []

    def _spawn(args: list[str], *, name: str = "keeper", env: dict[str, str] | None = None) -> KeeperProcess:
        proc = KeeperProcess(args, tmp_path / f"{name}.log", env)
        started.append(proc)
        return proc

    yield _spawn
    for proc in started:
        proc.kill()
