"""Fee tiers the canonical factory does not enable by itself (0 and 100 pips) are enabled by the factory
owner on a local chain; an unknown tier is refused with the tiers that work."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hedgevault.chain import Node
from hedgevault.deployment import DeployConfigError
from hedgevault.deployment.config import build_config
from hedgevault.suite import SuiteConfig, deploy_suite

WAD = 10**18


def test_zero_fee_pool_swaps_without_fee(anvils: Callable[..., Node]) -> None:
    w3 = anvils().web3()
    suite = deploy_suite(w3, SuiteConfig(pool_fee=0))
    assert int(suite.pool.functions.fee().call()) == 0
    assert int(suite.pool.functions.tickSpacing().call()) == 1
    trader = str(w3.eth.accounts[5])
    suite.move_pool_price(3300 * WAD, trader)
    assert abs(suite.pool_price_wad() / (3300 * WAD) - 1) < 1e-5
    # no fee accrues to the liquidity: the pool's fee growth stays at zero
    assert int(suite.pool.functions.feeGrowthGlobal0X128().call()) == 0
    assert int(suite.pool.functions.feeGrowthGlobal1X128().call()) == 0


def test_unknown_fee_tier_is_refused() -> None:
    with pytest.raises(DeployConfigError, match="not a Uniswap V3 fee tier we can create; use one of 0, 100, 500"):
        build_config({"local": {"pool_fee": 2500}})
