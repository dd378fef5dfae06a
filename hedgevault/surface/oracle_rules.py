"""Mirror of ``VolatilityOracle``'s slice rules (``contracts/oracles/VolatilityOracle.sol``), on top of the SviMath
mirror: the per-strike bounds and rate limit of a post (``_checkStrikes``), the grid over an expiry's strike set
(``_grid``), a neighbour's slice as total variance now (``_neighbour``) and the check of a whole post. The keeper
runs :func:`check_post` before it sends a slice; the stateful test uses the same functions for its invariants.

Errors are the SviMath mirror's exceptions, ``VolSliceOffGrid`` (a smile off the storage grid,
:func:`check_on_grid`), plus :class:`VolStrikeOutOfBounds` / :class:`VolAtmOutOfRule`. Units:
vols and strikes wad, times in seconds, variances in 1e36 units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt

from hedgevault.errors import HedgevaultError
from hedgevault.surface import mirror
from hedgevault.surface.errors import SviVolStepExceeded, VolSliceOffGrid
from hedgevault.surface.mirror import WAD, Grid, Slice

#: The grid covers at least k in [-0.1, 0.1] and at most |k| <= 5 (VolatilityOracle constants).
MIN_GRID_HALF_WIDTH_WAD = WAD // 10
MAX_ABS_K_WAD = 5 * WAD
MAX_STRIKES = 16
#: The storage grid of a smile (VolatilityOracle ``Post``: the slice in the post's one word): a36 in steps of 1e18
#: (a in steps of 1e-18), b, rho, m and sigma in steps of 1e9 wad (1e-9). A flat slice is stored as its vol.
A_UNIT_36 = 10**18
NANO_WAD = 10**9


class VolStrikeOutOfBounds(HedgevaultError):
    """A strike's vol under the slice is outside the oracle's [minVolWad, maxVolWad]."""


class VolAtmOutOfRule(HedgevaultError):
    """The at-the-money vol breaks the oracle's bounds, step or first-post rule."""


@dataclass(frozen=True)
class Previous:
    """The expiry's stored post: its slice and the time to expiry at that post."""

    slice: Slice
    time_sec: int


def check_on_grid(s: Slice) -> None:
    """VolatilityOracle._checkGrid, for a smile (b != 0): raises ``VolSliceOffGrid`` at the first parameter (a36, b,
    rho, m, sigma) that is not a multiple of its step. A flat slice is not checked (its vol is stored to the wei)."""
    if s.b_wad == 0:
        return
    for name, value, unit in (
        ("a36", s.a36, A_UNIT_36),
        ("bWad", s.b_wad, NANO_WAD),
        ("rhoWad", s.rho_wad, NANO_WAD),
        ("mWad", s.m_wad, NANO_WAD),
        ("sigmaWad", s.sigma_wad, NANO_WAD),
    ):
        if value % unit != 0:  # Solidity's `%` is zero exactly where Python's is
            raise VolSliceOffGrid(mirror._name32(name), value, unit)


def on_grid(s: Slice) -> Slice:
    """A smile moved to the nearest point of the storage grid, field by field (halves away from zero; sigma at least
    one step, |rho| at most 1 - 1e-9): for slices built by hand (tests, benches, demos). The keeper's fit rounds
    toward the safe side instead (``hedgevault.surface.fit.quantise``). A flat slice (b = 0) is returned as it is."""
    if s.b_wad == 0:
        return s

    def near(x: int, unit: int) -> int:
        q = (abs(x) + unit // 2) // unit
        return (q if x >= 0 else -q) * unit

    rho = max(-WAD + NANO_WAD, min(WAD - NANO_WAD, near(s.rho_wad, NANO_WAD)))
    sigma = max(NANO_WAD, near(s.sigma_wad, NANO_WAD))
    return Slice(near(s.a36, A_UNIT_36), near(s.b_wad, NANO_WAD), rho, near(s.m_wad, NANO_WAD), sigma)


def oracle_grid(strikes_wad: Sequence[int], forward_wad: int, points: int) -> Grid:
    """VolatilityOracle._grid: the strikes' k at the forward, widened to [-0.1, 0.1], clamped to |k| <= 5."""
    lo, hi = -MIN_GRID_HALF_WIDTH_WAD, MIN_GRID_HALF_WIDTH_WAD
    if forward_wad != 0:
        for strike in strikes_wad:
            k = mirror.log_moneyness_wad(strike, forward_wad)
            if k < lo:
                lo = max(k, -MAX_ABS_K_WAD)
            if k > hi:
                hi = min(k, MAX_ABS_K_WAD)
    return Grid(lo, hi, points)


def _scale(x: int, num: int, den: int, up: bool) -> int:
    """VolatilityOracle._scale: x num / den truncated toward zero, then rounded up (``up``) or down."""
    prod = x * num
    q = abs(prod) // den * (1 if prod >= 0 else -1)
    r = prod - q * den
    if up and r > 0:
        q += 1
    if not up and r < 0:
        q -= 1
    return q


def neighbour_now(s: Slice, post_time_sec: int, now_time_sec: int, up: bool) -> Slice:
    """VolatilityOracle._neighbour: a and b times T_now / T_post, rounded up (nearer) or down (farther)."""
    if now_time_sec == post_time_sec:
        return s
    a = _scale(s.a36, now_time_sec, post_time_sec, up)
    b = _scale(s.b_wad, now_time_sec, post_time_sec, up)
    return Slice(a, b, s.rho_wad, s.m_wad, s.sigma_wad)


def refreshed(s: Slice, post_time_sec: int, now_time_sec: int) -> Slice:
    """A stored slice to re-post now with every strike's vol where it is: a and b times T_now / T_post
    (:func:`neighbour_now`, rounded down), a smile's then down onto the storage grid (a to a step of 1e-18, b to one
    of 1e-9: each strike's total variance at most 1e-18 + 1e-9 (rho d + r) lower, its vol some 1e-7 at most)."""
    r = neighbour_now(s, post_time_sec, now_time_sec, False)
    if r.b_wad == 0:
        return r
    return Slice(r.a36 // A_UNIT_36 * A_UNIT_36, r.b_wad // NANO_WAD * NANO_WAD, r.rho_wad, r.m_wad, r.sigma_wad)


def check_strikes(
    s: Slice,
    time_sec: int,
    previous: Previous | None,
    strikes_wad: Sequence[int],
    forward_wad: int,
    allowed_step_wad: int,
    min_vol_wad: int,
    max_vol_wad: int,
) -> None:
    """VolatilityOracle._checkStrikes: every strike's vol in the bounds and within the allowed step of the
    previous post's vol there (both at the forward). Raises ``VolStrikeOutOfBounds`` / ``SviVolStepExceeded``."""
    for i, strike in enumerate(strikes_wad):
        k = mirror.log_moneyness_wad(strike, forward_wad)
        new = mirror._vol_at(s, k, time_sec)
        if not min_vol_wad <= new <= max_vol_wad:
            raise VolStrikeOutOfBounds(f"strike {strike}: vol {new} outside [{min_vol_wad}, {max_vol_wad}]")
        if previous is None:
            continue
        before = mirror._vol_at(previous.slice, k, previous.time_sec)
        if abs(new - before) > allowed_step_wad:
            raise SviVolStepExceeded(i, before, new, allowed_step_wad)


def check_post(
    s: Slice,
    *,
    time_sec: int,
    previous: Previous | None,
    strikes_wad: Sequence[int],
    forward_wad: int,
    allowed_step_wad: int,
    reference_vol_wad: int,
    max_step_wad: int,
    min_vol_wad: int,
    max_vol_wad: int,
    grid_points: int,
    nearer: Slice | None = None,
    farther: Slice | None = None,
) -> None:
    """One slice post as the oracle checks it (the interval excepted): parameters, the at-the-money rules, every
    strike (``strikes_wad``: the expiry's strike set after the post), butterfly and calendar on the oracle's grid
    against the neighbours given (already as total variance now: :func:`neighbour_now`)."""
    mirror.check_params(s)
    check_on_grid(s)
    atm = mirror._vol_at(s, 0, time_sec)
    if not min_vol_wad <= atm <= max_vol_wad:
        raise VolAtmOutOfRule(f"at-the-money vol {atm} outside [{min_vol_wad}, {max_vol_wad}]")
    if previous is not None:
        before = mirror._vol_at(previous.slice, 0, previous.time_sec)
        if abs(atm - before) > allowed_step_wad:
            raise VolAtmOutOfRule(f"at-the-money vol moves {before} -> {atm}, more than {allowed_step_wad}")
    elif reference_vol_wad != 0 and abs(atm - reference_vol_wad) > max_step_wad:
        raise VolAtmOutOfRule(f"first post at {atm}, more than {max_step_wad} from the reference {reference_vol_wad}")
    if len(strikes_wad) > MAX_STRIKES:
        raise VolStrikeOutOfBounds(f"{len(strikes_wad)} strikes, at most {MAX_STRIKES}")
    if strikes_wad and (s.b_wad != 0 or (previous is not None and previous.slice.b_wad != 0)):
        check_strikes(s, time_sec, previous, strikes_wad, forward_wad, allowed_step_wad, min_vol_wad, max_vol_wad)
    mirror.check_arbitrage(s, oracle_grid(strikes_wad, forward_wad, grid_points), nearer, farther)


def series_vol_wad(
    s: Slice,
    atm_vol_wad: int,
    strike_wad: int,
    spot_wad: int,
    rate_wad: int,
    tau_sec: int,
    post_time_sec: int,
    min_vol_wad: int,
    max_vol_wad: int,
) -> int:
    """BookMarking._setSeriesVol: the vol the vault prices a series at from marks at ``spot_wad`` with ``tau_sec``
    to expiry: the slice at k = ln(K / S0) - r tau (S0 clamped to [K / 100, 100 K] and [1e-6, 1e12], k to |k| <= 5),
    floor(sqrt(floor(w x year / T0))), clamped to the oracle's bounds; a flat slice (b = 0): ``atm_vol_wad``."""
    if s.b_wad == 0:
        return atm_vol_wad
    lo = max((strike_wad + 99) // 100, 10**12)
    hi = min(strike_wad * 100, 10**30)
    spot = min(max(spot_wad, lo), hi)
    rt = rate_wad * tau_sec
    # Solidity: env.rateWad * int256(e.timeSec) / int256(YEAR_SEC), truncated toward zero
    rt_div = abs(rt) // mirror.YEAR_SEC * (1 if rt >= 0 else -1)
    k = max(-MAX_ABS_K_WAD, min(MAX_ABS_K_WAD, mirror.log_moneyness_wad(strike_wad, spot) - rt_div))
    w = mirror.variance_down(s, k)
    v = 0 if w <= 0 else isqrt(w * mirror.YEAR_SEC // post_time_sec)
    return max(min_vol_wad, min(max_vol_wad, v))
