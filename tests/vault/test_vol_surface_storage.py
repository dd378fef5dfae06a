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
from hedgevault.surface.oracle_rules import on_grid
from hedgevault.txs import send

SPOT = 3000 * WAD


def _skew(time_sec: int, atm: float = 0.8) -> M.Slice:
    b, sigma = 0.1, 0.1
    return on_grid(M.Slice.from_floats(atm * atm * time_sec / YEAR - b * sigma, b, -0.5, 0.0, sigma))


#: The slice of tests/vault/test_vol_surface.py: valid parameters, at-the-money vol 0.8 over 30 days, Gatheral's
#: g < 0 at k = ln 0.8 (outside the default grid [-0.1, 0.1]).
BUTTERFLY = M.Slice(
    22595911701385966 * 10**18, 257841985 * 10**9, -79985138 * 10**9, -126131031 * 10**9, 9190493 * 10**9
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


# ------------------------------------------------------------------- one word per expiry (branch svone)

A_UNIT, NANO = 10**18, 10**9


def test_a_smile_off_the_storage_grid_is_refused_naming_the_field(suite: Suite, actors: Actors) -> None:
    """The oracle stores a smile in the post's one word on a grid (a36 in steps of 1e18, the others of 1e9) and
    rounds nothing: one wei off in any field, up or down, reverts ``VolSliceOffGrid(name, value, unit)`` (after
    ``checkParams``: a parameter outside its domain keeps its own error), and the keeper's mirror raises the same
    bytes. A step of the grid is accepted and read back whole; a flat slice (b = 0) is stored as its vol to the wei,
    whatever its a."""
    from hedgevault.surface.errors import VolSliceOffGrid
    from hedgevault.surface.oracle_rules import check_post

    s = suite
    v = s.vol_oracle.functions
    _wide_steps(s, actors)
    expiry = now(s.w3) + 30 * DAY
    good = _skew(expiry - now(s.w3))
    fields = (("a36", A_UNIT), ("bWad", NANO), ("rhoWad", NANO), ("mWad", NANO), ("sigmaWad", NANO))
    for i, (name, unit) in enumerate(fields):
        for off in (1, -1, unit // 2):
            values = list(good.as_tuple())
            values[i] += off
            bad = M.Slice(*values)
            got = reverts(v.postSlice(expiry, bad.as_tuple(), SPOT, []), actors.admin, "VolSliceOffGrid")
            assert got[0].rstrip(b"\0") == name.encode() and tuple(got[1:]) == (values[i], unit)
            try:  # the keeper's check of a whole post (its mirror) refuses it first, with the same figures
                check_post(
                    bad,
                    time_sec=expiry - now(s.w3),
                    previous=None,
                    strikes_wad=(),
                    forward_wad=SPOT,
                    allowed_step_wad=0,
                    reference_vol_wad=0,
                    max_step_wad=WAD,
                    min_vol_wad=s.config.vol.min_vol_wad,
                    max_vol_wad=s.config.vol.max_vol_wad,
                    grid_points=24,
                )
            except VolSliceOffGrid as exc:
                assert exc.values == tuple(got)  # the mirror's figures are the oracle's
            else:
                raise AssertionError(f"the mirror let {name} + {off} through")
    # outside its domain first: checkParams' own error, not the grid's
    reverts(v.postSlice(expiry, replace(good, rho_wad=WAD).as_tuple(), SPOT, []), actors.admin, "SviRhoOutOfRange")
    stepped = replace(good, rho_wad=good.rho_wad + NANO, m_wad=good.m_wad - NANO, a36=good.a36 + A_UNIT)
    send(s.w3, v.postSlice(expiry, stepped.as_tuple(), SPOT, []), actors.admin)
    assert tuple(v.sliceOf(expiry).call()) == stepped.as_tuple()
    # a flat slice: its vol, to the wei, from an a off the grid
    flat_expiry = now(s.w3) + 40 * DAY
    flat = M.flat_slice(8 * WAD // 10 + 7, flat_expiry - now(s.w3))
    flat = replace(flat, a36=flat.a36 + 12_345)
    assert flat.a36 % A_UNIT
    send(s.w3, v.postSlice(flat_expiry, flat.as_tuple(), SPOT, []), actors.admin)
    atm = M._vol_at(flat, 0, flat_expiry - now(s.w3))
    assert v.lastPost(flat_expiry).call() == [atm, now(s.w3)] and v.sliceUntil(flat_expiry).call()[0] == atm


def test_slices_at_the_edges_of_their_fields_read_back_whole(suite: Suite, actors: Actors) -> None:
    """Each field of the post word is as wide as the bound written beside it in ``VolatilityOracle.Post`` and no
    narrower: two accepted smiles fill every field's top bit but one and every sign: a = 75 (a / 1e18 > 2^66), rho
    -0.95 (|rho| / 1e9 > 2^29), m +-4.5 and sigma 4.5 (> 2^32 and 2^32 steps), b 1.5 (> 2^30 steps; Lee's bound
    b (1 + |rho|) <= 2 caps it at 2), a negative a. Both read back to the wei, and ``lastPost`` gives the
    at-the-money vol the mirror computes (the integer the post computed; it is not stored)."""
    s = suite
    v = s.vol_oracle.functions
    p = s.config.vol
    # steps of 1 vol point up to 5: bridge the reference (the latest post) from about 0.8 to 2.8 on expiries that
    # then go stale (skipped as neighbours), and every expiry of the fixture with them
    send(s.w3, v.setParams((p.min_vol_wad, 5 * WAD, WAD, p.max_age_sec, WAD, p.min_interval_sec)), actors.admin)
    base = now(s.w3)
    for i, vol in enumerate((18 * WAD // 10, 28 * WAD // 10)):
        send(s.w3, v.postVol(base + (2 + i) * YEAR, vol), actors.admin)
    warp(s.w3, p.max_age_sec + 60)
    one = now(s.w3) + YEAR
    wide = M.Slice(-5 * 10**36, 15 * WAD // 10, 3 * WAD // 10, -45 * WAD // 10, 45 * WAD // 10)
    ten = now(s.w3) + 10 * YEAR - 2 * DAY
    deep = M.Slice(75 * 10**36, 102 * WAD // 100, -95 * WAD // 100, 45 * WAD // 10, 45 * WAD // 10)
    for expiry, sl in ((one, wide), (ten, deep)):
        t = expiry - now(s.w3)
        send(s.w3, v.postSlice(expiry, sl.as_tuple(), SPOT, []), actors.admin)
        assert tuple(v.sliceOf(expiry).call()) == sl.as_tuple()
        assert v.lastPost(expiry).call() == [M._vol_at(sl, 0, t), now(s.w3)]
        assert tuple(v.sliceUntil(expiry).call()[5]) == sl.as_tuple()
    assert (75 * 10**18) >> 66 and (95 * 10**7) >> 29 and (45 * 10**8) >> 32 and (15 * 10**8) >> 30
