"""Attacks on the surface's checks, performed against the compiled ``SviMath`` (``SviHarness`` on Anvil), each
against the mirror too.

* A compromised updater keeps the at-the-money vol and cheapens the out-of-the-money puts (the flat oracle's step
  limit sees only one vol): refused by the rate limit at the wing's strike.
* The residual: arbitrage between grid points. A slice with g < 0 between the points of a coarse grid passes it; the
  same slice is refused on a fine grid. The number of points is the defence (a bounded parameter at integration, and
  the keeper checks a finer grid before posting).
"""

from __future__ import annotations

from hedgevault.surface import errors as E
from hedgevault.surface import mirror
from hedgevault.surface.mirror import WAD, Grid, Post, Slice
from hedgevault.surface.onchain import SviHarness

DAY = 86_400
T30 = 30 * DAY
F = 3000 * WAD
STRIKES = tuple(int(F * x) for x in (0.7, 0.8, 0.9, 1.0, 1.1, 1.25))
SMILE = Slice.from_floats(0.018, 0.12, -0.45, 0.02, 0.15)


def _outcome(p: Post) -> bytes:
    try:
        mirror.check_post(p)
    except E.SviError as exc:
        return exc.revert_data()
    return b""


def test_updater_cannot_cheapen_the_puts_while_pinning_the_money_vol(svi: SviHarness) -> None:
    # the attacker's slice: skew flipped toward calls, a re-set so the money vol barely moves
    flipped = Slice.from_floats(0.018, 0.12, 0.1, 0.02, 0.15)
    lift = mirror.variance_down(SMILE, 0) - mirror.variance_down(flipped, 0)
    attack = Slice(flipped.a36 + lift, *flipped.as_tuple()[1:])
    atm_move = abs(mirror.vol_wad(attack, F, F, T30) - mirror.vol_wad(SMILE, F, F, T30))
    put_move = mirror.vol_wad(SMILE, STRIKES[0], F, T30) - mirror.vol_wad(attack, STRIKES[0], F, T30)
    assert atm_move < WAD // 1000 and put_move > 5 * WAD // 100  # < 0.1 point at the money, > 5 points on the put
    grid = mirror.grid_for_strikes(STRIKES, F, 24)
    p = Post(attack, grid, None, None, SMILE, T30, T30, STRIKES, F, 2 * WAD // 100)
    (got,) = svi.check_post([p])
    assert got == _outcome(p) and got[:4] == E.SviVolStepExceeded.selector()
    err = E.SviVolStepExceeded  # the strike reported is a put wing (index 0 or 1), not the money strike
    try:
        mirror.check_post(p)
    except err as exc:
        assert exc.values[0] in (0, 1)


def test_arbitrage_between_coarse_grid_points_is_the_residual(svi: SviHarness) -> None:
    """g(0.087) = -0.085 for this slice: the 5-point grid over [-0.5, 0.5] (points 0.25 apart) passes it, the 64-point
    grid refuses it with the figure. Documented limit (docs/volatility-surface.md)."""
    s = Slice(18841551312548169101231907265314816, 245545902431789472, 363545867346531072, 27921215621213580,
              18506442908083008)  # fmt: skip
    coarse = Post(s, Grid(-WAD // 2, WAD // 2, 5), None, None, s, T30, T30, (F,), F, 0)
    fine = Post(s, Grid(-WAD // 2, WAD // 2, 64), None, None, s, T30, T30, (F,), F, 0)
    got = svi.check_post([coarse, fine])
    assert got == [_outcome(coarse), _outcome(fine)]
    assert got[0] == b"" and got[1][:4] == E.SviButterflyArbitrage.selector()
