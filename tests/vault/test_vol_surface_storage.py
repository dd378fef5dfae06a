"""The volatility oracle's packed storage and shared work (the gas work on issue 13): the strike set two strikes a
slot with its size in the post's slot, and the arbitrage grid taken from the strike checks' logarithms. Each
test pins a behaviour the packing must not change: the set in order across posts (odd sizes, repeats), a strike
at the edge of the 128 bits a slot half holds, and the grid of a post without a forward (the default one, not the
strikes' range at the stored forward). Tolerances: none (exact integers).
"""

from __future__ import annotations

from dataclasses import replace

from vaultkit import DAY, WAD, YEAR, Actors, now, reverts

from hedgevault.chain import warp
from hedgevault.suite import Suite
from hedgevault.surface import mirror as M
from hedgevault.txs import send

SPOT = 3000 * WAD


def _skew(time_sec: int, atm: float = 0.8) -> M.Slice:
    b, sigma = 0.1, 0.1
    return M.Slice.from_floats(atm * atm * time_sec / YEAR - b * sigma, b, -0.5, 0.0, sigma)


#: The slice of tests/vault/test_vol_surface.py: valid parameters, at-the-money vol 0.8 over 30 days, Gatheral's
#: g < 0 at k = ln 0.8 (outside the default grid [-0.1, 0.1]).
BUTTERFLY = M.Slice(
    22595911701385965936375403942772736, 257841985470804160, -79985137839287520, -126131031245708656, 9190492526852230
)


def _wide_steps(s: Suite, actors: Actors) -> None:
    p = s.config.vol
    params = (p.min_vol_wad, p.max_vol_wad, WAD // 2, p.max_age_sec, WAD, p.min_interval_sec)
    send(s.w3, s.vol_oracle.functions.setParams(params), actors.admin)


def test_the_strike_set_keeps_every_strike_in_order_across_posts(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vol_oracle.functions
    expiry = now(s.w3) + 30 * DAY
    first = [2700 * WAD, 3000 * WAD, 3300 * WAD]  # an odd size: the second slot half-filled
    send(s.w3, v.postSlice(expiry, _skew(expiry - now(s.w3)).as_tuple(), SPOT, first), actors.admin)
    assert v.strikesOf(expiry).call() == first
    warp(s.w3, s.config.vol.min_interval_sec)
    more = [3000 * WAD, 2800 * WAD, 3300 * WAD, 3100 * WAD]  # two repeats, two new ones
    send(s.w3, v.postSlice(expiry, _skew(expiry - now(s.w3)).as_tuple(), SPOT, more), actors.admin)
    assert v.strikesOf(expiry).call() == [*first, 2800 * WAD, 3100 * WAD]
    # each stored strike is checked on the next post: a wing outside the bounds is refused with its vol
    warp(s.w3, s.config.vol.min_interval_sec)
    p = replace(s.config.vol, max_vol_wad=81 * WAD // 100)
    send(s.w3, v.setParams(p.as_tuple()), actors.admin)
    sl = _skew(expiry - now(s.w3))
    wing = M.vol_wad(sl, 2700 * WAD, SPOT, expiry - now(s.w3))
    assert wing > p.max_vol_wad
    fn = v.postSlice(expiry, sl.as_tuple(), SPOT, [])
    reverts(fn, actors.admin, "VolStrikeOutOfBounds", expiry, 2700 * WAD, wing, p.min_vol_wad, p.max_vol_wad)


def test_a_strike_beyond_128_bits_is_refused_and_the_largest_below_is_kept(suite: Suite, actors: Actors) -> None:
    """A strike at or above 2^128 can never be priced (the checks accept strikes up to 1e30): refused
    ``SviMoneynessOutOfRange`` with the forward, as the strike checks refuse a strike above 1e30, before the
    128-bit half of a slot could truncate it. A flat slice after a flat post skips the strike checks, so the
    largest 128-bit strike reaches the store there and reads back whole."""
    s = suite
    v = s.vol_oracle.functions
    expiry = now(s.w3) + 30 * DAY
    sl = _skew(expiry - now(s.w3))
    reverts(v.postSlice(expiry, sl.as_tuple(), SPOT, [2**128]), actors.admin, "SviMoneynessOutOfRange", 2**128, SPOT)
    reverts(v.postSlice(expiry, sl.as_tuple(), SPOT, [10**30 + 1]), actors.admin, "SviMoneynessOutOfRange")
    vol = 8 * WAD // 10
    send(s.w3, v.postVol(expiry, vol), actors.admin)
    warp(s.w3, s.config.vol.min_interval_sec)
    flat = M.flat_slice(vol, expiry - now(s.w3))
    big = 2**128 + 1
    reverts(v.postSlice(expiry, flat.as_tuple(), 0, [big]), actors.admin, "SviMoneynessOutOfRange", big, 0)
    send(s.w3, v.postSlice(expiry, flat.as_tuple(), 0, [2**128 - 1, 3000 * WAD]), actors.admin)
    assert v.strikesOf(expiry).call() == [2**128 - 1, 3000 * WAD]


def test_a_post_without_a_forward_checks_the_default_grid(suite: Suite, actors: Actors) -> None:
    """The grid covers the strikes' log-moneyness at the post's own forward; a post without one (forward 0)
    checks [-0.1, 0.1] even though its strike checks ran at the stored forward. BUTTERFLY's arbitrage lies at
    ln 0.8, outside that: accepted without a forward, refused with one."""
    s = suite
    v = s.vol_oracle.functions
    _wide_steps(s, actors)
    expiry = now(s.w3) + 30 * DAY
    strikes = [2400 * WAD, 3000 * WAD, 3600 * WAD]
    send(s.w3, v.postSlice(expiry, _skew(expiry - now(s.w3)).as_tuple(), SPOT, strikes), actors.admin)
    warp(s.w3, 3600)
    M.check_arbitrage(BUTTERFLY, M.Grid(-WAD // 10, WAD // 10, 24))
    reverts(v.postSlice(expiry, BUTTERFLY.as_tuple(), SPOT, []), actors.admin, "SviButterflyArbitrage")
    send(s.w3, v.postSlice(expiry, BUTTERFLY.as_tuple(), 0, []), actors.admin)
    assert tuple(v.sliceOf(expiry).call()) == BUTTERFLY.as_tuple()
