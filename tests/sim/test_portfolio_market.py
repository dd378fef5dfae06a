"""The portfolio simulator's market model (pure): seeded reproducibility, the statistics of correlated GBM
at scale against its inputs, and the crash regime's drawdown and correlations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgevault.sim.errors import ScenarioError
from hedgevault.sim.portfolio.market import (
    DAY_SEC,
    DEMO_ASSETS,
    DEMO_CORRELATION,
    AssetSpec,
    CrashParams,
    MarketParams,
    realised_stats,
    simulate_paths,
)

STEP = 4 * 3600


def test_same_seed_same_paths_other_seed_other_paths() -> None:
    a = simulate_paths(MarketParams(), horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=3)
    b = simulate_paths(MarketParams(), horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=3)
    c = simulate_paths(MarketParams(), horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=4)
    assert a == b
    assert a.prices_wad != c.prices_wad
    assert a.steps == 180 and a.n == 3
    assert a.prices_wad[0] == (3000 * 10**18, 60000 * 10**18, 150 * 10**18)
    # quantised to the feed's 8 decimals
    assert all(p % 10**10 == 0 for row in a.prices_wad for p in row)


def test_realised_vol_and_correlation_match_the_inputs_at_scale() -> None:
    """10 years of 4-hour steps (21,900 returns): the standard error of a realised vol is ~ vol / sqrt(2 N)
    (0.5% relative) and of a correlation ~ (1 - rho^2) / sqrt(N) (< 0.007); the bounds are 2% and 0.02."""
    paths = simulate_paths(MarketParams(), horizon_sec=10 * 365 * DAY_SEC, step_sec=STEP, seed=11)
    vols, corr = realised_stats(paths)
    for got, asset in zip(vols, DEMO_ASSETS, strict=True):
        assert got == pytest.approx(asset.vol, rel=0.02), asset.symbol
    assert np.allclose(corr, np.array(DEMO_CORRELATION), atol=0.02)


def test_drift_is_the_mean_log_return_plus_half_the_variance() -> None:
    params = MarketParams(assets=(AssetSpec("A", 18, 100.0, 0.1, drift=0.5),), correlation=((1.0,),))
    paths = simulate_paths(params, horizon_sec=10 * 365 * DAY_SEC, step_sec=STEP, seed=2)
    years = paths.steps * STEP / (365 * DAY_SEC)
    growth = math.log(paths.prices()[-1, 0] / paths.prices()[0, 0]) / years
    # mu - sigma^2 / 2 = 0.495; the standard error over 10 years is 0.1 / sqrt(10) = 0.032
    assert growth == pytest.approx(0.495, abs=0.1)


def test_crash_falls_35_percent_in_3_days_with_correlation_09() -> None:
    params = MarketParams(crash=CrashParams(start_day=10, recovery_fraction=0.0))
    paths = simulate_paths(params, horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=5)
    assert paths.crash_steps == (60, 78)  # day 10 to day 13 at 6 steps a day
    prices = paths.prices()
    first, last = paths.crash_steps
    # the bridge ends each asset exactly 35% below its level at the crash's start (feed rounding aside)
    assert np.allclose(prices[last] / prices[first], 0.65, rtol=1e-8)
    assert set(paths.regime[first + 1 : last + 1]) == {"crash"}
    assert paths.regime[first] == "normal" and paths.regime[last + 1] == "normal"
    # and the equal-weight market's drawdown over the crash is at least the 35%
    market = prices.mean(axis=1) / prices[0].mean()
    peak = np.maximum.accumulate(market)
    assert (1 - market / peak).max() >= 0.35 - 1e-9


def test_crash_correlation_jumps_toward_09() -> None:
    """Pooled over many crashes (seeds), the crash returns' correlation (the noise around the fall) is near
    0.9 while the normal regime's stays near the inputs."""
    params = MarketParams(crash=CrashParams(start_day=10, days=30, recovery_fraction=0.0))
    crash_returns = []
    for seed in range(20):
        paths = simulate_paths(params, horizon_sec=60 * DAY_SEC, step_sec=STEP, seed=seed)
        first, last = paths.crash_steps or (0, 0)
        r = paths.log_returns()[first:last]
        crash_returns.append(r - r.mean(axis=0))
    pooled = np.vstack(crash_returns)
    corr = np.corrcoef(pooled, rowvar=False)
    off = corr[~np.eye(3, dtype=bool)]
    assert off.min() > 0.85, corr
    assert off.max() < 0.95, corr


def test_recovery_regains_its_fraction_of_the_fall_on_average() -> None:
    params = MarketParams(crash=CrashParams(start_day=5, recovery_days=5, recovery_fraction=0.5))
    ratios = []
    for seed in range(40):
        paths = simulate_paths(params, horizon_sec=20 * DAY_SEC, step_sec=STEP, seed=seed)
        _, last = paths.crash_steps or (0, 0)
        lp = np.log(paths.prices())
        ratios.append(lp[last + 30] - lp[last])
    # half of -ln(0.65) = 0.215 in drift; the noise over 5 days averages out over 40 seeds x 3 assets
    assert float(np.mean(ratios)) == pytest.approx(-0.5 * math.log(0.65), abs=0.06)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (MarketParams(assets=(AssetSpec("A", 18, float("nan"), 0.5),), correlation=((1.0,),)), "finite"),
        (MarketParams(assets=(AssetSpec("A", 18, 100.0, -0.5),), correlation=((1.0,),)), "vol must be"),
        (MarketParams(assets=(AssetSpec("A", 18, 100.0, 0.5, drift=1e9),), correlation=((1.0,),)), "drift"),
        (MarketParams(correlation=((1.0, 0.99, 0.0), (0.99, 1.0, 0.99), (0.0, 0.99, 1.0))), "positive definite"),
        (MarketParams(correlation=((1.0, 0.5), (0.5, 1.0))), "3 x 3"),
        (MarketParams(crash=CrashParams(drawdown=1.2)), "drawdown"),
        (MarketParams(crash=CrashParams(start_day=28)), "does not fit"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(params: MarketParams, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        simulate_paths(params, horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=1)


def test_bad_horizon_or_step_is_refused() -> None:
    with pytest.raises(ScenarioError, match="step must be positive"):
        simulate_paths(MarketParams(), horizon_sec=DAY_SEC, step_sec=0, seed=1)
    with pytest.raises(ScenarioError, match="horizon"):
        simulate_paths(MarketParams(), horizon_sec=3600, step_sec=STEP, seed=1)
    with pytest.raises(ScenarioError, match="horizon"):
        simulate_paths(MarketParams(), horizon_sec=11 * 365 * DAY_SEC, step_sec=STEP, seed=1)


def test_the_demo_market_is_the_deployed_portfolios_first_post() -> None:
    """The simulator's default assets, volatilities and correlations are those the deployment's default
    portfolio config posts first, so the keeper's first estimate agrees with the paths."""
    from hedgevault.portfolio.config import PortfolioConfig
    from hedgevault.sim.portfolio.onchain import market_from_config

    assert market_from_config(PortfolioConfig()) == MarketParams()
