"""Fixtures of the option-vault tests (on top of ``tests/conftest.py``'s session Anvil ``w3``).

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
from vaultkit import Actors
from vaultkit import actors as make_actors
from web3 import Web3

from hedgevault.suite import Suite, SuiteConfig, deploy_suite
from hedgevault.toolchain.compiler import Artifact, compile_project


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
