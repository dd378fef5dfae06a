"""Fixtures of the option-vault tests.

* ``node`` / ``w3`` - the vault tests' own Anvil (per worker, clock frozen as in ``tests/conftest.py``),
  not the session node the other directories share: every module elsewhere that deploys on the shared node
  moves its clock (a local deployment warps past the pool's TWAP window, 600 s), and seven of them after
  ``suite6`` left its feed an hour stale (``FeedStale``) whenever the scheduler put those files first.
  Here the clock moves only through these fixtures and the tests, each undone by ``_isolate``.

* ``suite6`` / ``suite18`` - the whole suite (``hedgevault.suite.deploy_suite``: mock quote token with
  6 or 18 decimals, 18-decimal underlying, mock Chainlink feed at 3000, the real Uniswap V3 factory,
  pool and SwapRouter from npm with 20,000 underlying of full-range liquidity, price and volatility
  oracles, pricer, swap library, option token, vault), deployed once per session.
* ``suite`` - ``suite6``; ``any_suite`` - parametrised over both quote decimals.
* ``artifacts`` - the project compiled once for the session (``compile_project()``), so that tests do
  not recompile while someone edits the sources.
* ``actors`` - named accounts: admin (every role), depositor, depositor2, buyer, keeper, attacker, other.
* every test runs between ``evm_snapshot`` and ``evm_revert`` (``_isolate``), so tests are independent
  and the suites are deployed only once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anvilkit import frozen_web3, session_anvil
from vaultkit import Actors
from vaultkit import actors as make_actors
from web3 import Web3

from hedgevault.chain import Node
from hedgevault.suite import Suite, SuiteConfig, deploy_suite
from hedgevault.toolchain.compiler import Artifact, compile_project


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from session_anvil(tmp_path_factory, "anvil-vault")


@pytest.fixture(scope="session")
def w3(node: Node) -> Web3:
    return frozen_web3(node)


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    return compile_project()


@pytest.fixture(scope="session")
def suite6(w3: Web3) -> Suite:
    return deploy_suite(w3, SuiteConfig(quote_decimals=6))


@pytest.fixture(scope="session")
def suite18(w3: Web3) -> Suite:
    return deploy_suite(w3, SuiteConfig(quote_decimals=18))


@pytest.fixture(autouse=True)
def _isolate(w3: Web3, suite6: Suite, suite18: Suite) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture
def suite(suite6: Suite) -> Suite:
    return suite6


@pytest.fixture(params=[6, 18], ids=["quote6", "quote18"])
def any_suite(request: pytest.FixtureRequest, suite6: Suite, suite18: Suite) -> Suite:
    return suite6 if request.param == 6 else suite18


@pytest.fixture(scope="session")
def actors(w3: Web3) -> Actors:
    return make_actors(w3)
