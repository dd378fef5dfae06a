"""The portfolio simulator off the chain: baselines (each policy's trades, the cost accounting), the
figures, the model of the keeper and the vault's band rule, the runner and the CLI's bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hedgevault.cli import main
from hedgevault.portfolio.mirror import DEFAULT_COV_PARAMS, WAD, LastPost, pack_corrs, pack_vols, unpack
from hedgevault.sim.portfolio import baselines as bl
from hedgevault.sim.portfolio.costs import GasModel
from hedgevault.sim.portfolio.market import DAY_SEC, CrashParams, MarketParams, Paths, simulate_paths
from hedgevault.sim.portfolio.metrics import annualised_vol, compute, drawdown, target_returns
from hedgevault.sim.portfolio.model import (
    BandRule,
    KeeperModel,
    band_wad,
    clipped_posts,
    default_rules,
    icbrt,
    target_series,
)
from hedgevault.sim.portfolio.run import PortfolioOptions, model_pools, run_portfolio

STEP = 4 * 3600
GAS = GasModel()


@pytest.fixture(scope="module")
def paths() -> Paths:
    return simulate_paths(MarketParams(), horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=9)


def _targets(paths: Paths, w: tuple[float, ...] = (0.1, 0.12, 0.08)) -> np.ndarray:
    return bl.constant_targets(w, paths.steps)


def test_buy_and_hold_never_trades_and_its_nav_is_its_holdings(paths: Paths) -> None:
    run = bl.run_strategy("bh", paths, _targets(paths), bl.BUY_AND_HOLD, model_pools(paths), GAS, 1_000_000.0)
    assert run.trades.sum() == 0 and run.cost.sum() == 0
    prices = paths.prices()
    expected = run.balances[0] @ prices[-1] + run.quote[0]
    assert run.nav[-1] == pytest.approx(expected, rel=1e-12)
    assert run.weights[0] == pytest.approx([0.1, 0.12, 0.08])


def test_calendar_trades_weekly_and_only_then(paths: Paths) -> None:
    run = bl.run_strategy("cal", paths, _targets(paths), bl.CALENDAR_WEEKLY, model_pools(paths), GAS, 1_000_000.0)
    days_traded = [paths.times_sec[k] / DAY_SEC for k in np.flatnonzero(run.trades)]
    assert days_traded == [7.0, 14.0, 21.0, 28.0]
    for k in np.flatnonzero(run.trades):  # back at the targets after each (up to the trade's own cost)
        assert run.weights[k] == pytest.approx([0.1, 0.12, 0.08], abs=2e-4)


def test_band_trades_only_assets_outside_the_band(paths: Paths) -> None:
    policy = bl.Policy("band", band=0.01)
    run = bl.run_strategy("band", paths, _targets(paths), policy, model_pools(paths), GAS, 1_000_000.0)
    assert run.trades.sum() > 0
    targets = np.array([0.1, 0.12, 0.08])
    for k in range(1, paths.steps + 1):
        # before the step's trades the weights are the previous holdings at the new prices
        prices = paths.prices()[k]
        before = run.balances[k - 1] * prices / (run.quote[k - 1] + run.balances[k - 1] @ prices)
        outside = int(np.sum(np.abs(before - targets) > 0.01))
        assert run.trades[k] == outside, k


def test_sales_go_first_so_a_fully_invested_portfolio_can_switch_assets(paths: Paths) -> None:
    """Fully invested in tWETH and tWBTC, targets moving all of tWETH into tSOL: the week's rebalance must
    sell tWETH before it buys tSOL (a buy spends only the quote there is)."""
    targets = bl.constant_targets((0.0, 0.5, 0.5), paths.steps)
    run = bl.run_strategy(
        "switch",
        paths,
        targets,
        bl.CALENDAR_WEEKLY,
        model_pools(paths, 1e9),
        GAS,
        1e6,
        start_weights=np.array([0.5, 0.5, 0.0]),
    )
    k = int(np.flatnonzero(run.trades)[0])
    assert run.weights[k] == pytest.approx([0.0, 0.5, 0.5], abs=0.005)  # the sale's fee shorts the buy by 0.15%
    assert run.quote[k] >= 0


def test_nav_change_is_holdings_pnl_minus_fees_and_impact(paths: Paths) -> None:
    """Exactly (floats): NAV_k - NAV_(k-1) = b_(k-1) . (p_k - p_(k-1)) - (fee + impact)_k; gas is reported as
    a cost but paid outside the NAV (as the vault's keeper pays it)."""
    run = bl.run_strategy("every", paths, _targets(paths), bl.EVERY_STEP, model_pools(paths), GAS, 1_000_000.0)
    prices = paths.prices()
    for k in range(1, paths.steps + 1):
        pnl = run.balances[k - 1] @ (prices[k] - prices[k - 1])
        assert run.nav[k] - run.nav[k - 1] == pytest.approx(pnl - run.fee[k] - run.impact[k], abs=1e-6)
    assert run.fee[1:].sum() > 0 and run.impact[1:].sum() > 0
    assert run.gas[1:].sum() == pytest.approx(GAS.quote_of(GAS.gas_per_trade) * run.trades[1:].sum())


def test_a_deeper_pool_costs_less_impact_not_less_fee(paths: Paths) -> None:
    shallow = bl.run_strategy("s", paths, _targets(paths), bl.EVERY_STEP, model_pools(paths, 1e6), GAS, 1e6)
    deep = bl.run_strategy("d", paths, _targets(paths), bl.EVERY_STEP, model_pools(paths, 1e8), GAS, 1e6)
    assert deep.impact.sum() < shallow.impact.sum() / 50
    assert deep.fee.sum() == pytest.approx(shallow.fee.sum(), rel=0.05)


def test_metrics_on_known_series() -> None:
    values = np.array([100.0, 110.0, 99.0, 120.0])
    assert drawdown(values).max() == pytest.approx(0.1)
    r = np.diff(np.log(values))
    assert annualised_vol(values, STEP) == pytest.approx(np.std(r, ddof=1) * math.sqrt(365 * 6))
    prices = np.array([[1.0, 10.0], [1.1, 10.0], [1.1, 5.0]])
    targets = np.array([[0.5, 0.5], [0.2, 0.4], [0.0, 0.0]])
    assert target_returns(prices, targets) == pytest.approx([0.05, -0.2])


def test_tracking_error_is_zero_at_the_targets_and_grows_with_the_band(paths: Paths) -> None:
    covs = [np.eye(3) * 0.36] * (paths.steps + 1)
    prices = paths.prices()
    tight = bl.run_strategy("t", paths, _targets(paths), bl.Policy("band", band=0.002), model_pools(paths), GAS, 1e6)
    loose = bl.run_strategy("l", paths, _targets(paths), bl.Policy("band", band=0.03), model_pools(paths), GAS, 1e6)
    mt, ml = compute(tight, prices, STEP, covs), compute(loose, prices, STEP, covs)
    assert mt.tracking_error < ml.tracking_error
    assert mt.tracking_error_ex_ante < ml.tracking_error_ex_ante
    assert mt.cost_bps_per_year > ml.cost_bps_per_year
    assert mt.turnover_per_year > ml.turnover_per_year


def test_band_wad_is_the_vaults_formula() -> None:
    # sigma 60%, cost 40 bps, scale 1.0: cbrt(0.004 x 0.36) = 0.11292 -> clamped to the 10% ceiling
    assert band_wad(40, 10_000, 6 * WAD // 10, WAD // 200, WAD // 10) == WAD // 10
    assert band_wad(40, 1_000, 6 * WAD // 10, WAD // 200, WAD // 10) == 1000 * icbrt(4 * 10**15 * 36 * 10**34) // 10**4
    assert band_wad(40, 1, 6 * WAD // 10, WAD // 200, WAD // 10) == WAD // 200
    assert icbrt(8) == 2 and icbrt(7) == 1 and icbrt(10**54 + 1) == 10**18 and icbrt(0) == 0


def test_model_targets_hold_the_target_vol_and_fall_in_the_crash() -> None:
    params = MarketParams(crash=CrashParams(start_day=10))
    p = simulate_paths(params, horizon_sec=30 * DAY_SEC, step_sec=STEP, seed=3)
    rules = default_rules("target-vol", 3)
    series = target_series(p, params, rules, KeeperModel(), BandRule())
    for t, cov in zip(series.targets, series.covariances, strict=True):
        assert rules.min_vol_wad / WAD <= math.sqrt(t @ cov @ t) <= rules.max_vol_wad / WAD  # 18-22%
    first, last = p.crash_steps or (0, 0)
    assert series.targets[last].sum() < 0.8 * series.targets[first].sum(), "targets must de-risk in the crash"


def test_risk_parity_model_targets_have_equal_risk_contributions(paths: Paths) -> None:
    series = target_series(paths, MarketParams(), default_rules("risk-parity", 3), KeeperModel(), BandRule())
    for t, cov in zip(series.targets[:20], series.covariances[:20], strict=True):
        rc = t * (cov @ t) / (t @ cov @ t)
        assert rc == pytest.approx([1 / 3] * 3, abs=0.01)


def test_model_run_writes_table_json_and_charts(tmp_path: Path) -> None:
    out = run_portfolio(PortfolioOptions(onchain=False, days=10, seed=4, out_dir=tmp_path, quiet=True))
    names = [m.name for m in out.metrics]
    assert names == ["vault (model)", "buy-and-hold", "calendar weekly", "5% band", "constant weight"]
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["source"] == "off-chain model" and len(doc["runs"]) == 5
    assert {p.name for p in out.charts} == {"realised_vol.png", "weights.png", "drawdown.png", "costs_turnover.png"}
    assert all(p.stat().st_size > 20_000 for p in out.charts)
    assert "realised vol (annual)" in out.table and "cost (bps / year)" in out.table
    # the constant-weight portfolio holds the vault's average weights
    const = out.metrics[-1]
    assert const.average_weights == pytest.approx(out.metrics[0].average_weights, abs=0.01)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--portfolio", "--days", "nan"], "--days: 'nan' is not a finite number"),
        (["--portfolio", "--days", "-1"], "--days must be > 0"),
        (["--portfolio", "--days", "1e12"], "--days must be at most"),
        (["--portfolio", "--days", "abc"], "--days: 'abc' is not a number"),
        (["--portfolio", "--step-hours", "0"], "--step-hours must be a positive"),
        (["--portfolio", "--step-hours", "inf"], "--step-hours must be a finite number"),
        (["--portfolio", "--step-hours", "0.01"], "at least 10 minutes"),
        (["--portfolio", "--days", "1", "--step-hours", "48"], "longer than the horizon"),
        (["--portfolio", "--scenario", "meltdown"], "--scenario must be one of gbm, crash"),
        (["--portfolio", "--mode", "yolo"], "--mode must be one of"),
        (["--portfolio", "--target-vol", "-0.2"], "--target-vol must be in"),
        (["--portfolio", "--target-vol", "0.01"], "--target-vol must be in"),
        (["--portfolio", "--spot", "100"], "--spot apply to the option-vault simulation"),
        (["--portfolio", "--seed", "-5"], "--seed: -5 is negative"),
        (["--mode", "risk-parity"], "add --portfolio"),
        (["--portfolio", "--days", "2", "--scenario", "crash"], "does not fit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["simulate", *argv, "--model", "--quiet", "--no-charts", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err, err
    assert "\n" not in err and "Traceback" not in err


def test_model_derisking_assets_are_the_vaults_rule() -> None:
    """The model's de-risking exemption (``bl.derisking_assets``, the vault's ``deriskMask``): above the trigger
    volatility, every asset held above its target whose sale lowers w'Sw and d'Sd and whose step exceeds the
    dust; none at or below the trigger, none for an asset held below its target."""
    cov = np.array([[0.36, 0.24], [0.24, 0.25]])  # vols 60% / 50%, correlation 0.8
    w = np.array([0.4, 0.3])
    vol = math.sqrt(float(w @ cov @ w))
    t_low = np.array([0.38, 0.29])
    assert bl.derisking_assets(w, t_low, cov, vol * 0.99) == [0, 1]
    assert bl.derisking_assets(w, t_low, cov, vol * 1.01) == []
    assert bl.derisking_assets(w, np.array([0.38, 0.31]), cov, vol * 0.99) == [0]
    assert bl.derisking_assets(w, np.array([0.3995, 0.29]), cov, vol * 0.99, dust=0.001) == [1]


def test_model_posts_are_clipped_as_the_oracle_clips_them_and_followed_up_hourly() -> None:
    """The model's covariance posts obey the oracle's step limits (``DEFAULT_COV_PARAMS``: 10 vol points a post
    and an hour) as the keeper's ``step_toward`` clips them: with hourly follow-ups (the on-chain run's) a step's
    posts move up to 4 x 10 points, with none 10; without clipping the post is the estimate. In a crash the
    follow-ups bring the posted volatility up faster than one post a step."""
    params = MarketParams(crash=CrashParams(start_day=2, days=1.0, recovery_fraction=0.0))
    p = simulate_paths(params, horizon_sec=4 * DAY_SEC, step_sec=STEP, seed=3)
    rules = default_rules("target-vol", 3)
    fast = dict(fast_decay=0.8, fast_margin=0.2)
    series = {f: target_series(p, params, rules, KeeperModel(follow_up_sec=f, **fast), BandRule()) for f in (3600, 0)}
    free = target_series(p, params, rules, KeeperModel(clip_posts=False, **fast), BandRule())
    vols = {f: np.array([np.sqrt(np.diag(c)) for c in s.covariances]) for f, s in series.items()}
    vols_free = np.array([np.sqrt(np.diag(c)) for c in free.covariances])
    step_vol = DEFAULT_COV_PARAMS.max_vol_step_bp / 10_000
    moves = {f: np.max(np.abs(np.diff(v, axis=0))) for f, v in vols.items()}
    assert moves[0] <= step_vol + 1e-4 < moves[3600] <= 4 * step_vol + 1e-4, moves
    assert np.max(np.abs(np.diff(vols_free, axis=0))) > 4 * step_vol  # the crash's estimate outruns the oracle
    first, last = p.crash_steps or (0, 0)
    assert np.all(vols[3600][first : last + 1] >= vols[0][first : last + 1] - 1e-4)
    assert np.max(vols[3600][first : last + 1] - vols[0][first : last + 1]) > 0.1
    # the posts themselves: the keeper's clip at each follow-up, exact integers
    est = (pack_vols([9000, 9000, 9000]), pack_corrs([9000, 9000, 9000]))
    start = LastPost(pack_vols([6000, 5000, 8000]), pack_corrs([8000, 7500, 7000]), 0)
    one = clipped_posts(start, est, p, 1, KeeperModel(follow_up_sec=0))
    four = clipped_posts(start, est, p, 1, KeeperModel(follow_up_sec=3600))
    assert unpack(one.vols_word, one.corr_words, 3)[0] == [6750, 6000, 8250]  # 1/4 of the way: WBTC 10 points
    assert unpack(four.vols_word, four.corr_words, 3)[0] == [9000, 9000, 9000]
    assert (one.updated_at, four.updated_at) == (p.times_sec[1], p.times_sec[1] + 3 * 3600)
