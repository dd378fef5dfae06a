"""The stress margin M is a re-pricing of book and hedge under the stated shocks (``BookMath.stressMargin``,
``BookMarking``): exactly the Python re-pricing (the integer mirror of the Black-Scholes library) right
after a re-mark, and at or above it after trades until the next re-mark.

The re-pricing: at the marked spot S0 and time t0, with each expiry's posted volatility sigma and open o,
  mark   = sum ceil(o x C(S0, sigma))                    stressK = sum ceil(o x C(SK, sigma + volShock))
  SK     = floor(S0 x (1 + up)) and floor(S0 x (1 - down))
  M      = ceil(max(stressUp - mark - floor(H (Sup - S0)), stressDown - mark + ceil(H (S0 - Sdown)), 0) / scale)
with H the hedge (underlying wad) and scale = 10^(18 - quote decimals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from vaultkit import (
    DAY,
    WAD,
    YEAR,
    Actors,
    book,
    buy,
    deposit,
    list_series,
    move_market,
    now,
    perform_upkeep,
    q,
    refresh_feed,
)

from hedgevault.chain import warp
from hedgevault.greeks import mirror
from hedgevault.suite import Suite
from hedgevault.txs import send

BPS = 10_000


@dataclass(frozen=True)
class Listed:
    series_id: int
    expiry: int
    strike_wad: int
    is_call: bool


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def repriced_margin(s: Suite, listed: list[Listed]) -> int:
    """M by re-pricing every series with open interest at the book's marked point (quote units)."""
    v = book(s)
    t0 = v["marked_at_sec"]
    s0 = v["spot_wad"]
    risk = s.config.risk
    up_spot = s0 * (BPS + risk.spot_shock_up_bps) // BPS
    down_spot = s0 * (BPS - risk.spot_shock_down_bps) // BPS
    mark = stress_up = stress_down = 0
    for x in listed:
        open_wad = int(s.vault.functions.series(x.series_id).call()[3])
        if open_wad == 0:
            continue
        vol = int(s.vol_oracle.functions.volWad(x.expiry).call())
        tau = x.expiry - t0
        index = 0 if x.is_call else 1
        price = mirror.price(s0, x.strike_wad, tau, vol, risk.rate_wad)[index]
        up = mirror.price(up_spot, x.strike_wad, tau, vol + risk.vol_shock_wad, risk.rate_wad)[index]
        down = mirror.price(down_spot, x.strike_wad, tau, vol + risk.vol_shock_wad, risk.rate_wad)[index]
        mark += _ceil_div(open_wad * price, WAD)
        stress_up += _ceil_div(open_wad * up, WAD)
        stress_down += _ceil_div(open_wad * down, WAD)
    hedge_wad = v["hedge_wad"]
    loss_up = stress_up - mark - hedge_wad * (up_spot - s0) // WAD
    loss_down = stress_down - mark + _ceil_div(hedge_wad * (s0 - down_spot), WAD)
    LAST_LOSSES[:] = [loss_up, loss_down]
    return _ceil_div(max(loss_up, loss_down, 0), 10 ** (18 - s.config.quote_decimals))


#: The (up, down) scenario losses of the last ``repriced_margin`` (wad): which one the margin is.
LAST_LOSSES: list[int] = []


def _remark(s: Suite, actors: Actors) -> None:
    """Let the cache expire (one hour), refresh the feed and let an upkeep re-mark (and hedge)."""
    warp(s.w3, s.config.risk.cache_max_age_sec + 1)
    refresh_feed(s)
    assert book(s)["cache_fresh"] == 0
    perform_upkeep(s, actors.keeper)
    v = book(s)
    assert v["cache_fresh"] == 1 and v["marked_at_sec"] == now(s.w3)


def _market(s: Suite, actors: Actors) -> list[Listed]:
    deposit(s, actors.depositor, q(s, 1_000_000))
    t = now(s.w3)
    listed = []
    for days, strike, is_call in ((20, 3000, True), (20, 2800, False), (45, 3300, True), (45, 2500, False)):
        expiry = t + days * DAY
        if any(x.expiry == expiry for x in listed):
            warp(s.w3, s.config.vol.min_interval_sec)  # list_series posts the expiry's vol: the oracle's interval
        listed.append(Listed(list_series(s, expiry, strike * WAD, is_call), expiry, strike * WAD, is_call))
    return listed


def test_stress_margin_is_the_repricing_right_after_a_remark(any_suite: Suite, actors: Actors) -> None:
    s = any_suite
    listed = _market(s, actors)
    for x, amount in zip(listed, (30, 20, 15, 25), strict=True):
        buy(s, actors.buyer, x.series_id, amount * WAD)
    _remark(s, actors)
    v = book(s)
    assert v["hedge_wad"] > 0, "the upkeep hedged: the hedge enters both scenarios"
    # SM_EXACT: equal to the re-pricing to the unit
    expected = repriced_margin(s, listed)
    assert expected > 0
    assert v["stress_margin"] == expected, "SM_EXACT"
    # and HF uses it: A / (L + M)
    assert v["health_factor_wad"] == v["assets_value"] * WAD // (v["mark_value"] + v["payouts_owed"] + expected)


def test_stress_margin_with_a_short_hedge_is_the_repricing(any_suite: Suite, actors: Actors) -> None:
    """A put-heavy book hedged short (Aave borrow): the short hedge loses in the up scenario (rounded up) and
    gains in the down scenario (rounded down); SM_EXACT holds to the unit (to the wei with 18-decimal quote)."""
    s = any_suite
    listed = _market(s, actors)
    for x, amount in zip(listed, (5, 60, 5, 40), strict=True):
        buy(s, actors.buyer, x.series_id, amount * WAD)
    # an odd spot, so that hedge x (S0 shock) is not a whole number of wad and the roundings show
    move_market(s, 3001_234567891234567891, actors.attacker)
    _remark(s, actors)
    v = book(s)
    assert v["hedge_wad"] < 0, "the upkeep hedged short"
    assert (-v["hedge_wad"] * (v["spot_wad"] * 12_000 // BPS - v["spot_wad"])) % WAD != 0
    expected = repriced_margin(s, listed)
    assert expected > 0
    assert v["stress_margin"] == expected, "SM_EXACT"


def test_stress_margin_bounds_the_repricing_after_trades(suite: Suite, actors: Actors) -> None:
    s = suite
    listed = _market(s, actors)
    buy(s, actors.buyer, listed[0].series_id, 10 * WAD)
    _remark(s, actors)
    marked_at = book(s)["marked_at_sec"]
    assert book(s)["stress_margin"] == repriced_margin(s, listed), "SM_EXACT"
    # trades on the cached book (no re-mark): sales add an upper bound, buy-backs subtract a lower bound
    steps = [("buy", 1, 20), ("buy", 2, 15), ("sell", 0, 4), ("buy", 3, 30), ("sell", 1, 20), ("sell", 3, 7)]
    risk = s.config.risk
    s0 = book(s)["spot_wad"]
    up_spot = s0 * (BPS + risk.spot_shock_up_bps) // BPS
    shock = max(risk.spot_shock_up_bps, risk.spot_shock_down_bps)
    slack_wad = 0
    for kind, index, amount in steps:
        x = listed[index]
        if kind == "buy":
            buy(s, actors.buyer, x.series_id, amount * WAD)
        else:
            send(s.w3, s.vault.functions.sell(x.series_id, amount * WAD, 0, actors.buyer), actors.buyer)
        v = book(s)
        assert v["marked_at_sec"] == marked_at and v["cache_fresh"] == 1
        expected = repriced_margin(s, listed)
        # SM_BOUND: never below the re-pricing
        assert v["stress_margin"] >= expected, f"SM_BOUND after {kind} {index}"
        # and above it by no more than the documented per-option gap between the trade's upper and lower
        # bounds, 2 x shock x S + volShock x S sqrt(tau) / 2 (phi(0) < 1/2), per option traded
        root_tau = math.sqrt((x.expiry - marked_at) / YEAR)
        per_option = 2 * shock * up_spot // BPS + int(risk.vol_shock_wad * up_spot // WAD * root_tau) // 2
        slack_wad += amount * per_option
        assert v["stress_margin"] <= expected + slack_wad // 10 ** (18 - s.config.quote_decimals) + 1, (
            f"SM_BOUND looser than documented after {kind} {index}"
        )
    # the next re-mark makes it exact again
    _remark(s, actors)
    assert book(s)["stress_margin"] == repriced_margin(s, listed), "SM_EXACT after the next re-mark"


@pytest.mark.parametrize("sell_all", [True, False])
def test_stress_margin_without_options_is_the_hedge_loss(suite: Suite, actors: Actors, sell_all: bool) -> None:
    """Buy-backs down to no open interest: the book is zero in every scenario, M is the hedge's loss in the
    down scenario, ceil(H x (S0 - floor(S0 (1 - down))))."""
    s = suite
    listed = _market(s, actors)
    buy(s, actors.buyer, listed[0].series_id, 40 * WAD)
    _remark(s, actors)
    if sell_all:
        send(s.w3, s.vault.functions.sell(listed[0].series_id, 40 * WAD, 0, actors.buyer), actors.buyer)
    v = book(s)
    expected = repriced_margin(s, listed)
    if sell_all:
        assert v["hedge_wad"] > 0
        s0 = v["spot_wad"]
        down = s0 - s0 * (BPS - s.config.risk.spot_shock_down_bps) // BPS
        assert expected == _ceil_div(_ceil_div(v["hedge_wad"] * down, WAD), 10**12)
    assert v["stress_margin"] == expected
