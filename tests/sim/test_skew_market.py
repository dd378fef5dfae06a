"""The skewed market's pure parts: the Merton path, the quotes the keeper fits, the quoted strikes, and the informed
buyer's rule (no chain; seconds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgevault.sim.agents import InformedDecision, InformedParams, informed_wants
from hedgevault.sim.errors import ScenarioError
from hedgevault.sim.market import SkewedMarket, SkewParams, quoted_strikes
from hedgevault.sim.scenario import merton_scenario, merton_total_vol
from hedgevault.surface.fit import MarketSnapshot, Quote, fit_surface
from hedgevault.surface.merton import MertonParams, merton_prices

WAD = 10**18
DAY = 86_400
YEAR = 365 * DAY


def test_merton_path_is_seeded_and_jumps_as_its_parameters_say() -> None:
    """Same seed, same path; with frequent large jumps (100 a year of mean -0.1) a year of hourly steps holds
    about 100 jumps: the mean log-return of the steps is (drift - lam kappa - sigma^2 / 2) dt + lam dt mu_j within
    5 standard errors, and the negative jumps make the returns' skew negative."""
    p = MertonParams(sigma=0.3, lam=100.0, mu_j=-0.1, delta_j=0.05)
    a = merton_scenario(p, spot=3000.0, drift=0.0, horizon_sec=YEAR, step_sec=3600, seed=4)
    b = merton_scenario(p, spot=3000.0, drift=0.0, horizon_sec=YEAR, step_sec=3600, seed=4)
    assert a == b
    assert a.merton == p
    r = np.diff(np.log(np.asarray(a.prices_wad, dtype=np.float64)))
    dt = 3600 / YEAR
    kappa = math.exp(p.mu_j + p.delta_j**2 / 2) - 1
    mean = (-p.lam * kappa - p.sigma**2 / 2) * dt + p.lam * dt * p.mu_j
    var = (p.sigma**2 + p.lam * (p.mu_j**2 + p.delta_j**2)) * dt
    assert abs(r.mean() - mean) < 5 * math.sqrt(var / len(r))
    skew = float(np.mean((r - r.mean()) ** 3) / r.std() ** 3)
    assert skew < -1, skew
    assert r.std() == pytest.approx(math.sqrt(var), rel=0.05)
    assert set(a.vols_wad) == {round(merton_total_vol(p) * 10**6) * 10**12}


def test_merton_scenario_refuses_bad_input() -> None:
    with pytest.raises(ScenarioError, match="sigma > 0"):
        merton_scenario(MertonParams(sigma=0.0), spot=3000.0, drift=0.0, horizon_sec=DAY, step_sec=3600, seed=1)
    with pytest.raises(ScenarioError, match="spot must be positive"):
        merton_scenario(MertonParams(), spot=0.0, drift=0.0, horizon_sec=DAY, step_sec=3600, seed=1)
    with pytest.raises(ScenarioError, match="at least one step"):
        merton_scenario(MertonParams(), spot=3000.0, drift=0.0, horizon_sec=60, step_sec=3600, seed=1)


def test_quoted_strikes_cover_the_listed_ones_and_widen_with_time() -> None:
    near = quoted_strikes(3000.0, 0.6, DAY, (-2.0, 0.0, 2.0), [2700.0, 3300.0])
    far = quoted_strikes(3000.0, 0.6, 30 * DAY, (-2.0, 0.0, 2.0), [])
    assert 2700.0 in near and 3300.0 in near and 3000.0 in near
    assert near == tuple(sorted(near))
    assert far[0] < min(near[0], 2700.0) or far[0] < near[1]
    assert far[-1] - far[0] > near[-2] - near[1]


def test_quotes_are_out_of_the_money_around_merton_prices_and_stop_near_expiry() -> None:
    now = 1_000_000
    e1, e2 = now + 2 * DAY, now + 3000  # the second is within min_quote_sec (3600): not quoted
    strikes = {e1: (2700.0, 2900.0, 3000.0, 3100.0, 3300.0), e2: (2900.0, 3000.0, 3100.0, 3200.0, 3300.0)}
    market = SkewedMarket(MertonParams(), strikes, SkewParams(half_spread=0.01))
    doc = market.quotes(3000.0, now, [e1, e2])
    assert {q["expiry"] for q in doc["quotes"]} == {e1}
    calls, puts = merton_prices(3000.0, strikes[e1], 2 * DAY / YEAR, 0.0)
    for q, call, put in zip(doc["quotes"], calls, puts, strict=True):
        assert q["kind"] == ("call" if q["strike"] >= 3000.0 else "put")
        mid = call if q["kind"] == "call" else put
        assert q["bid"] == pytest.approx(mid * 0.99) and q["ask"] == pytest.approx(mid * 1.01)
        assert q["bid"] < q["ask"]
    assert market.price(3000.0, 2700.0, 2 * DAY, False) == pytest.approx(puts[0])
    assert market.price(2500.0, 2700.0, 0, False) == 200.0  # intrinsic at expiry
    assert market.price(2500.0, 2700.0, -5, True) == 0.0


def test_the_keepers_fit_of_the_quotes_is_skewed_and_close() -> None:
    """The quotes fitted with the keeper's fit: b > 0 and rho < 0 (negative mean jumps: the put wing above), and the
    at-the-money vol within a point of the market's."""
    now = 1_000_000
    expiry = now + 5 * DAY
    strikes = {expiry: quoted_strikes(3000.0, 0.6, 5 * DAY, SkewParams().strike_sds, [2700.0, 3000.0, 3300.0])}
    market = SkewedMarket(MertonParams(), strikes, SkewParams())
    doc = market.quotes(3000.0, now, [expiry])
    snapshot = MarketSnapshot(
        3000.0, 0.0, now, tuple(Quote(q["strike"], q["expiry"], q["bid"], q["ask"], q["kind"]) for q in doc["quotes"])
    )
    res = fit_surface(snapshot)[expiry]
    assert res.fitted and res.slice is not None
    assert res.slice.b_wad > 0 and res.slice.rho_wad < 0
    assert res.rmse_vol_points is not None and res.rmse_vol_points < 1.0
    from hedgevault.keeper.oracles import mirror_atm

    assert mirror_atm(res.slice, 5 * DAY) / WAD == pytest.approx(market.atm_vol(3000.0, 5 * DAY), abs=0.01)


def test_informed_rule_trades_only_against_a_mispriced_vault() -> None:
    assert informed_wants("buy", 99, 100.0)
    assert not informed_wants("buy", 100, 100.0)  # a tie is no trade
    assert not informed_wants("buy", 101, 100.0)
    assert informed_wants("sell", 101, 100.0)
    assert not informed_wants("sell", 100, 100.0)
    assert not informed_wants("sell", 99, 100.0)
    with pytest.raises(ValueError, match="side"):
        informed_wants("hold", 1, 1.0)
    d = InformedDecision(3, 1, "buy", WAD, 90, 100.0, WAD, "")
    assert d.edge_units == 10.0
    assert InformedDecision(3, 1, "sell", WAD, 110, 100.0, WAD, "").edge_units == 10.0
    with pytest.raises(ValueError):
        InformedParams(lot_wad=WAD, min_lot_wad=2 * WAD)
    with pytest.raises(ValueError):
        SkewParams(strike_sds=(0.0, 1.0))


def test_caption_of_a_merton_run() -> None:
    from hedgevault.sim.report import caption

    doc = {
        "seed": 2,
        "summary": {"steps": 12, "horizon_sec": DAY, "hedger": "aave"},
        "scenario": {
            "description": "Merton ...",
            "merton": {"spot": 3000.0, "sigma": 0.55, "lam": 1.5, "mu_j": -0.12, "delta_j": 0.15, "surface": False},
        },
    }
    assert caption(doc) == (
        "seed 2, 1 days in 12 steps of 2 h; Merton spot 3000, sigma 0.55, jumps 1.5/yr (mean -0.12, sd 0.15), "
        "flat ATM vol; aave hedger"
    )


def test_cli_refuses_skew_flags_without_the_merton_market(capsys: pytest.CaptureFixture[str]) -> None:
    from hedgevault.cli import main

    for argv, message in (
        (["simulate", "--flat-vol"], "--flat-vol apply to the skewed market: add --market merton"),
        (["simulate", "--quote-every", "2"], "--quote-every apply to the skewed market"),
        (["simulate", "--market", "merton", "--vol-model", "constant"], "--vol-model applies to the GBM market"),
        (["simulate", "--market", "merton", "--quote-every", "0"], "--quote-every must be at least 1 step"),
        (["simulate", "--portfolio", "--market", "merton"], "--market apply to the option-vault simulation"),
        (["simulate", "--market", "merton", "--prices", "x.csv"], "--market merton makes its own"),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)


def test_a_skew_jump_needs_its_time_and_its_parameters_and_steepens_the_put_wing() -> None:
    """``SkewParams.jump_at_sec`` / ``jump`` (the bench's skew jump, branch svwalk): both or neither; the jumped
    parameters (6 jumps a year of log-mean -0.2) price the 5-day 80% put at more than 1.5 times the default
    market's."""
    with pytest.raises(ValueError):
        SkewParams(jump_at_sec=3600)
    with pytest.raises(ValueError):
        SkewParams(jump=MertonParams(lam=6.0, mu_j=-0.2))
    SkewParams(jump_at_sec=3600, jump=MertonParams(lam=6.0, mu_j=-0.2))
    strikes = {0: (2400.0, 3000.0)}
    before = SkewedMarket(MertonParams(), strikes, SkewParams())
    after = SkewedMarket(MertonParams(lam=6.0, mu_j=-0.2), strikes, SkewParams())
    put_before, put_after = (m.price(3000.0, 2400.0, 5 * DAY, False) for m in (before, after))
    assert put_after > 1.5 * put_before
