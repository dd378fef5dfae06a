"""Fixtures of the portfolio tests (on top of ``tests/conftest.py``'s session Anvil ``w3``, clock frozen).

* ``artifacts`` - the project compiled once for the session.
* ``who`` - named actors: admin (every role), keeper (the oracle's updater), attacker.
* ``harness`` - ``PortfolioHarness`` (the compiled ``CovarianceMath`` and ``PortfolioMath`` behind batched
  eth_calls, ``hedgevault.portfolio.onchain``), deployed once per module.
* ``oracle3`` / ``oracle8`` - a ``CovarianceOracle`` over 3 / 8 stand-in assets with the default parameters
  (``hedgevault.portfolio.mirror.DEFAULT_COV_PARAMS``), deployed once per module.
* ``stack`` - a portfolio vault over 3 assets (18, 8 and 9 decimals) against a 6-decimal quote, with mock
  feeds, real Uniswap V3 full-range pools, price oracles and a covariance oracle
  (``hedgevault.portfolio.localstack.deploy_local_stack``), deployed once per module; ``pv`` its actors.
* every test runs between ``evm_snapshot`` and ``evm_revert`` (``_isolate``), so tests are independent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from portfoliokit import Actors, actors, deploy_oracle
from pvkit import Actors as PvActors
from pvkit import pv_actors
from web3 import Web3
from web3.contract import Contract

from hedgevault.portfolio.localstack import PortfolioStack, deploy_local_stack
from hedgevault.portfolio.onchain import PortfolioHarness
from hedgevault.toolchain.compiler import Artifact, compile_project


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    return compile_project()


@pytest.fixture(scope="session")
def who(w3: Web3) -> Actors:
    return actors(w3)


@pytest.fixture(scope="module")
def harness(w3: Web3) -> PortfolioHarness:
    return PortfolioHarness.deploy(w3)


@pytest.fixture(scope="module")
def oracle3(w3: Web3, artifacts: dict[str, Artifact], who: Actors) -> Contract:
    return deploy_oracle(w3, artifacts["CovarianceOracle"], who, 3)


@pytest.fixture(scope="module")
def oracle8(w3: Web3, artifacts: dict[str, Artifact], who: Actors) -> Contract:
    return deploy_oracle(w3, artifacts["CovarianceOracle"], who, 8)


@pytest.fixture(scope="session")
def pv(w3: Web3) -> PvActors:
    return pv_actors(w3)


@pytest.fixture(scope="module")
def stack(w3: Web3, artifacts: dict[str, Artifact], pv: PvActors) -> PortfolioStack:
    return deploy_local_stack(w3, artifacts, pv.admin)


@pytest.fixture(autouse=True)
def _isolate(w3: Web3) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]
