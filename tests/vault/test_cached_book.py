"""The cached book (``BookMarking``): the bounds that stand in for a full re-mark hold, in the direction
against the user, and valuations never revert at the edge of the Black-Scholes library's domain.

Tolerance: none. The bounds are compared with a full re-mark computed from the pricer (the same
library integers the vault would use), per series ceil(open x price), so they must hold exactly.
"""

from __future__ import annotations

import pytest
from vaultkit import DAY, WAD, Actors, book, buy, deposit, list_series, now, q, warp

from hedgevault.suite import Suite
from hedgevault.txs import send


def _full_mark_wad(s: Suite, series: list[tuple[int, int, int, bool]], spot_wad: int) -> int:
    """sum ceil(open x price / 1e18) at ``spot_wad`` and now: the vault's full re-mark."""
    t = now(s.w3)
    total = 0
    for series_id, expiry, strike, is_call in series:
        open_wad = int(s.vault.functions.series(series_id).call()[3])
        vol = int(s.vol_oracle.functions.volWad(expiry).call())
        price = int(s.pricer.functions.price(spot_wad, strike, expiry - t, vol, 0, is_call).call())
        total += -(-open_wad * price // WAD)
    return total


@pytest.mark.parametrize(("move_bps", "minutes"), [(0, 0), (60, 10), (-90, 45), (95, 59), (0, 59)])
def test_cached_bounds_bracket_a_full_remark(suite: Suite, actors: Actors, move_bps: int, minutes: int) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 20 * DAY
    listed = [(3000 * WAD, True), (2800 * WAD, False), (3300 * WAD, True)]
    series = []
    for i, (k, c) in enumerate(listed):
        if i:
            warp(s.w3, s.config.vol.min_interval_sec)  # list_series posts the expiry's vol: the oracle's interval
        series.append((list_series(s, expiry, k, c), expiry, k, c))
    for series_id, _, _, _ in series:
        buy(s, actors.buyer, series_id, 5 * WAD)
    before = book(s)
    assert before["cache_fresh"] == 1
    spot = 3000 * WAD * (10_000 + move_bps) // 10_000
    if minutes:
        warp(s.w3, minutes * 60)
    s.set_feed_price(spot)
    after = book(s)
    # CB_FRESH: a move inside the 1% band within the hour keeps the cache
    assert after["cache_fresh"] == 1, "CB_FRESH: the cache was expected to hold"
    full_wad = _full_mark_wad(s, series, spot)
    scale = 10 ** (18 - s.config.quote_decimals)
    # CB_BOUNDS: lower bound (deposits) <= full re-mark <= upper bound (withdrawals, HF), in quote units
    assert after["mark_lower_value"] <= full_wad // scale, "CB_BOUNDS: the lower bound is above the re-mark"
    assert after["mark_value"] >= -(-full_wad // scale), "CB_BOUNDS: the upper bound is below the re-mark"
    # and tight enough: within 1% of the mark plus a unit at the band edge after an hour (measured 0.46%)
    assert after["mark_value"] - after["mark_lower_value"] <= full_wad // scale // 100 + 2


def test_move_beyond_the_band_remarks(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 20 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 5 * WAD)
    s.set_feed_price(3000 * WAD * 102 // 100)
    # a 2% move leaves the 1% band: the view re-marks (upper and lower bound coincide up to the slop)
    b = book(s)
    assert b["cache_fresh"] == 0
    assert b["mark_value"] - b["mark_lower_value"] <= 1
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data == b""
    send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    assert book(s)["cache_fresh"] == 1


@pytest.mark.parametrize("is_call", [True, False])
@pytest.mark.parametrize("factor", [200, 10**4])
def test_valuation_beyond_the_domain_does_not_revert(suite: Suite, is_call: bool, factor: int) -> None:
    """Spot above strike x 100 (or below strike / 100): the pricer's mark is the domain edge's price
    continued by an upper bound, never a revert."""
    p = suite.pricer.functions
    strike = 3000 * WAD
    t, vol = 30 * DAY, 8 * WAD // 10
    for spot, edge in ((strike * factor, strike * 100), (strike // factor, strike // 100)):
        price, delta, inside = p.markAndDelta(spot, strike, t, vol, 0, is_call).call()
        edge_price = int(p.price(edge, strike, t, vol, 0, is_call).call())
        assert not inside
        if spot > edge:
            assert price == (edge_price + spot - edge if is_call else edge_price)
            assert delta == (WAD if is_call else 0)
        else:
            assert price == (edge_price if is_call else edge_price + edge - spot)
            assert delta == (0 if is_call else -WAD)


def test_price_and_delta_from_one_evaluation_match_the_mirror(suite: Suite) -> None:
    """The pricer prices and takes the delta from one evaluation (``BlackScholes.priceAndDelta``): the same
    integers as the library's separate ``price`` and ``delta``, mirrored in Python, at expiry too."""
    import random

    from hedgevault.greeks import mirror

    p = suite.pricer.functions
    rng = random.Random(7)
    cases = [(3000 * WAD, 3000 * WAD, 0, WAD, 0), (3000 * WAD, 2900 * WAD, 1, 5 * WAD // 100, -WAD // 10)]
    for _ in range(24):
        strike = rng.randint(10**15, 10**24)
        spot = strike * rng.randint(60, 150) // 100
        cases.append(
            (
                spot,
                strike,
                rng.randint(1, 2 * 365 * DAY),
                rng.randint(10**16, 3 * WAD),
                rng.randint(-WAD // 10, WAD // 2),
            )
        )
    for spot, strike, t, vol, rate in cases:
        call, put = mirror.price(spot, strike, t, vol, rate)
        call_delta, put_delta = mirror.delta(spot, strike, t, vol, rate)
        for is_call, want in ((True, (call, call_delta)), (False, (put, put_delta))):
            args = (spot, strike, t, vol, rate, is_call)
            assert tuple(p.priceAndDelta(*args).call()) == want, args
            assert tuple(p.markAndDelta(*args).call())[:2] == want, args
            assert p.price(*args).call() == want[0], args
