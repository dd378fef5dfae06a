"""Pure-integer mirror of ``contracts/libraries/SviMath.sol``, operation for operation.

Each function returns the same integers as its Solidity counterpart or raises the exception named like the
custom error, with the same arguments (:mod:`hedgevault.surface.errors`). Units and the rules are those of
``interfaces/ISviMath.sol``: ``a36`` and every variance ``*36`` in 1e36 units, the other parameters and every
k in wad, times in seconds.

EVM arithmetic, mirrored: Solidity ``/`` on int256 truncates toward zero (:func:`_sdiv`), used by the library
only where the operands are non-negative (where it equals Python's ``//``), except the error figure of
``SviButterflyArbitrage``; the library's ``_floorDiv`` / ``_ceilDiv`` are the true floor and ceiling
(:func:`_floor_div`, :func:`_ceil_div`); ``>>`` on int256 floors, as Python's. Checked arithmetic never
overflows inside the domain (bounds in the Solidity), so none is mirrored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt

from hedgevault.greeks.mirror import ln_ratio_q96
from hedgevault.surface.errors import (
    SviBNegative,
    SviButterflyArbitrage,
    SviCalendarArbitrage,
    SviFlatVolOutOfRange,
    SviGridInvalid,
    SviLeeBoundExceeded,
    SviMinVarianceNegative,
    SviMoneynessOutOfRange,
    SviParamOutOfDomain,
    SviRhoOutOfRange,
    SviSigmaNotPositive,
    SviTimeOutOfRange,
    SviVarianceNotPositive,
    SviVolStepExceeded,
)

WAD = 10**18
E36 = 10**36
YEAR_SEC = 31_536_000
MAX_TIME_SEC = 10 * YEAR_SEC
MIN_PRICE_WAD = 10**12
MAX_PRICE_WAD = 10**30
MAX_MONEYNESS = 100

MAX_ABS_A36 = 100 * E36
MAX_B_WAD = 10 * WAD
MAX_ABS_M_WAD = 5 * WAD
MIN_SIGMA_WAD = 10**9
MAX_SIGMA_WAD = 5 * WAD
MAX_ABS_K_WAD = 5 * WAD
MAX_GRID_POINTS = 64
LEE_BOUND_36 = 2 * E36
MAX_FLAT_VOL_WAD = 10 * WAD


@dataclass(frozen=True)
class Slice:
    """``ISviMath.SviSlice``: a36 total variance (1e36 units), the others wad."""

    a36: int
    b_wad: int
    rho_wad: int
    m_wad: int
    sigma_wad: int

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.a36, self.b_wad, self.rho_wad, self.m_wad, self.sigma_wad)

    @classmethod
    def from_floats(cls, a: float, b: float, rho: float, m: float, sigma: float) -> Slice:
        """The slice nearest to real parameters (each rounded to nearest; no check)."""
        return cls(round(a * E36), round(b * WAD), round(rho * WAD), round(m * WAD), round(sigma * WAD))

    def to_floats(self) -> tuple[float, float, float, float, float]:
        return (self.a36 / E36, self.b_wad / WAD, self.rho_wad / WAD, self.m_wad / WAD, self.sigma_wad / WAD)


@dataclass(frozen=True)
class Grid:
    """``ISviMath.SviGrid``: ``points`` equally spaced k in [k_lo_wad, k_hi_wad]."""

    k_lo_wad: int
    k_hi_wad: int
    points: int

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.k_lo_wad, self.k_hi_wad, self.points)

    def ks(self) -> list[int]:
        """The grid's k values (wad), as the library forms them."""
        last = self.points - 1
        return [self.k_lo_wad + (self.k_hi_wad - self.k_lo_wad) * i // last for i in range(self.points)]


def _sdiv(a: int, b: int) -> int:
    """EVM ``sdiv``: truncate toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _floor_div(x: int, y: int) -> int:
    """SviMath._floorDiv (y > 0)."""
    return x // y


def _ceil_div(x: int, y: int) -> int:
    """SviMath._ceilDiv (y > 0)."""
    return -((-x) // y)


def _name32(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


# ----------------------------------------------------------------------------- evaluation


def _check_moneyness(strike_wad: int, forward_wad: int) -> None:
    if (
        strike_wad < MIN_PRICE_WAD
        or strike_wad > MAX_PRICE_WAD
        or forward_wad < MIN_PRICE_WAD
        or forward_wad > MAX_PRICE_WAD
        or strike_wad * MAX_MONEYNESS < forward_wad
        or forward_wad * MAX_MONEYNESS < strike_wad
    ):
        raise SviMoneynessOutOfRange(strike_wad, forward_wad)


def log_moneyness_wad(strike_wad: int, forward_wad: int) -> int:
    """k = ln(strike / forward) in wad, rounded down (SviMath.logMoneynessWad)."""
    _check_moneyness(strike_wad, forward_wad)
    return (ln_ratio_q96(strike_wad, forward_wad) * WAD) >> 96


def hypot_floor(d: int, sigma: int) -> int:
    """floor(sqrt(d^2 + sigma^2)) (the root inside SviMath.varianceDown and the grid checks, exact in its domain)."""
    return isqrt(d * d + sigma * sigma)


def variance_down(s: Slice, k_wad: int) -> int:
    """w(k) in 1e36 units, rounded down (SviMath.varianceDown)."""
    if s.b_wad == 0:
        return s.a36
    d = k_wad - s.m_wad
    r = hypot_floor(d, s.sigma_wad)
    # w36 = s.a36 + (s.bWad * (s.rhoWad * d + int256(r) * WAD)) / WAD  -- the operand is >= 0
    return s.a36 + (s.b_wad * (s.rho_wad * d + r * WAD)) // WAD


def _check_time(time_sec: int) -> None:
    if time_sec == 0 or time_sec > MAX_TIME_SEC:
        raise SviTimeOutOfRange(time_sec)


def _vol_at(s: Slice, k_wad: int, time_sec: int) -> int:
    w36 = variance_down(s, k_wad)
    if w36 <= 0:
        raise SviVarianceNotPositive(k_wad, w36)
    return isqrt(w36 * YEAR_SEC // time_sec)


def vol_wad(s: Slice, strike_wad: int, forward_wad: int, time_sec: int) -> int:
    """Implied volatility of the strike, wad (SviMath.volWad); a flat slice skips the logarithm."""
    _check_time(time_sec)
    if s.b_wad != 0:
        return _vol_at(s, log_moneyness_wad(strike_wad, forward_wad), time_sec)
    _check_moneyness(strike_wad, forward_wad)
    if s.a36 <= 0:
        raise SviVarianceNotPositive(log_moneyness_wad(strike_wad, forward_wad), s.a36)
    return isqrt(s.a36 * YEAR_SEC // time_sec)


def flat_slice(vol: int, time_sec: int) -> Slice:
    """The flat slice of ``vol`` (wad) over ``time_sec`` (SviMath.flatSlice)."""
    if vol == 0 or vol > MAX_FLAT_VOL_WAD:
        raise SviFlatVolOutOfRange(vol)
    _check_time(time_sec)
    return Slice(-((-vol * vol * time_sec) // YEAR_SEC), 0, 0, 0, WAD)


# ----------------------------------------------------------------------------- checks


def check_params(s: Slice) -> None:
    """SviMath.checkParams."""
    if s.b_wad < 0:
        raise SviBNegative(s.b_wad)
    if s.rho_wad <= -WAD or s.rho_wad >= WAD:
        raise SviRhoOutOfRange(s.rho_wad)
    if s.sigma_wad <= 0:
        raise SviSigmaNotPositive(s.sigma_wad)
    if s.a36 < -MAX_ABS_A36 or s.a36 > MAX_ABS_A36:
        raise SviParamOutOfDomain(_name32("a36"), s.a36, -MAX_ABS_A36, MAX_ABS_A36)
    if s.b_wad > MAX_B_WAD:
        raise SviParamOutOfDomain(_name32("bWad"), s.b_wad, 0, MAX_B_WAD)
    if s.m_wad < -MAX_ABS_M_WAD or s.m_wad > MAX_ABS_M_WAD:
        raise SviParamOutOfDomain(_name32("mWad"), s.m_wad, -MAX_ABS_M_WAD, MAX_ABS_M_WAD)
    if s.sigma_wad < MIN_SIGMA_WAD or s.sigma_wad > MAX_SIGMA_WAD:
        raise SviParamOutOfDomain(_name32("sigmaWad"), s.sigma_wad, MIN_SIGMA_WAD, MAX_SIGMA_WAD)
    slope36 = s.b_wad * (WAD + abs(s.rho_wad))
    if slope36 > LEE_BOUND_36:
        raise SviLeeBoundExceeded(s.b_wad, s.rho_wad, _ceil_div(slope36, WAD))
    root = isqrt(E36 - s.rho_wad * s.rho_wad)
    min_var36 = s.a36 + s.b_wad * s.sigma_wad * root // WAD  # non-negative operand
    if min_var36 < 0:
        raise SviMinVarianceNegative(min_var36)


def _root(s: Slice, k: int) -> tuple[int, int, int]:
    d = k - s.m_wad
    q = d * d + s.sigma_wad * s.sigma_wad
    r = isqrt(q)
    return d, r, (r if r * r == q else r + 1)


def _variance_from_root(s: Slice, d: int, r_lo: int, r_hi: int) -> tuple[int, int]:
    rd = s.rho_wad * d
    return s.a36 + s.b_wad * (rd + r_lo * WAD) // WAD, s.a36 + _ceil_div(s.b_wad * (rd + r_hi * WAD), WAD)


def variance_bounds(s: Slice, k: int) -> tuple[int, int]:
    """[w rounded down, w rounded up] at k, 1e36 units (SviMath._varianceBounds)."""
    if s.b_wad == 0:
        return s.a36, s.a36
    return _variance_from_root(s, *_root(s, k))


def _slopes(s: Slice, d: int, r_lo: int, r_hi: int) -> tuple[int, int, int]:
    u_lo = _floor_div(d * WAD, r_hi if d >= 0 else r_lo)
    u_hi = _ceil_div(d * WAD, r_lo if d >= 0 else r_hi)
    d_lo = _floor_div(s.b_wad * (s.rho_wad + u_lo), WAD)
    d_hi = _ceil_div(s.b_wad * (s.rho_wad + u_hi), WAD)
    ratio = s.sigma_wad * s.sigma_wad * WAD // (r_hi * r_hi)
    return d_lo, d_hi, s.b_wad * ratio // r_hi


def g36_lower(k: int, w_lo: int, w_hi: int, d_lo: int, d_hi: int, e_lo: int) -> int:
    """Lower bound of 16 w^2 g in 1e36 units (SviMath._g36Lower)."""
    if k >= 0:
        kd_lo, kd_hi = _floor_div(k * d_lo, WAD), _ceil_div(k * d_hi, WAD)
    else:
        kd_lo, kd_hi = _floor_div(k * d_hi, WAD), _ceil_div(k * d_lo, WAD)
    x_lo = 2 * w_lo - kd_hi
    x_hi = 2 * w_hi - kd_lo
    x_sq = x_lo * x_lo if x_lo > 0 else (x_hi * x_hi if x_hi < 0 else 0)
    d_max = max(abs(d_lo), abs(d_hi))
    dw = _ceil_div(d_max * w_hi, WAD)
    ew = e_lo * w_lo // WAD
    return 4 * x_sq - 4 * d_max * dw - dw * dw + 8 * ew * w_lo


def g_lower_bound(s: Slice, k: int) -> int:
    """The figure the butterfly check decides on at k: the lower bound of 16 w^2 g (1e36 units); raises
    :class:`SviVarianceNotPositive` where w's lower bound is <= 0. For tests and the fit's diagnostics."""
    if s.b_wad == 0:
        if s.a36 <= 0:
            raise SviVarianceNotPositive(k, s.a36)
        return 1
    d, r_lo, r_hi = _root(s, k)
    w_lo36, w_hi36 = _variance_from_root(s, d, r_lo, r_hi)
    if w_lo36 <= 0:
        raise SviVarianceNotPositive(k, w_lo36)
    return g36_lower(k, w_lo36 // WAD, _ceil_div(w_hi36, WAD), *_slopes(s, d, r_lo, r_hi))


def _check_butterfly_at(s: Slice, k: int) -> tuple[int, int]:
    if s.b_wad == 0:
        if s.a36 <= 0:
            raise SviVarianceNotPositive(k, s.a36)
        return s.a36, s.a36
    d, r_lo, r_hi = _root(s, k)
    w_lo36, w_hi36 = _variance_from_root(s, d, r_lo, r_hi)
    if w_lo36 <= 0:
        raise SviVarianceNotPositive(k, w_lo36)
    d_lo, d_hi, e_lo = _slopes(s, d, r_lo, r_hi)
    w_hi = _ceil_div(w_hi36, WAD)
    g36 = g36_lower(k, w_lo36 // WAD, w_hi, d_lo, d_hi, e_lo)
    if g36 < 0:
        raise SviButterflyArbitrage(k, _sdiv(g36 * WAD, 16 * w_hi * w_hi))
    return w_lo36, w_hi36


def check_grid(grid: Grid) -> None:
    if (
        grid.points < 2
        or grid.points > MAX_GRID_POINTS
        or grid.k_lo_wad >= grid.k_hi_wad
        or grid.k_lo_wad < -MAX_ABS_K_WAD
        or grid.k_hi_wad > MAX_ABS_K_WAD
    ):
        raise SviGridInvalid(grid.k_lo_wad, grid.k_hi_wad, grid.points)


def check_arbitrage(s: Slice, grid: Grid, nearer: Slice | None = None, farther: Slice | None = None) -> None:
    """SviMath.checkArbitrage (a neighbour of None: hasNearer / hasFarther false)."""
    check_grid(grid)
    for k in grid.ks():
        w_lo36, w_hi36 = _check_butterfly_at(s, k)
        if nearer is not None:
            near_hi36 = variance_bounds(nearer, k)[1]
            if near_hi36 > w_lo36:
                raise SviCalendarArbitrage(k, near_hi36, w_lo36)
        if farther is not None:
            far_lo36 = variance_bounds(farther, k)[0]
            if w_hi36 > far_lo36:
                raise SviCalendarArbitrage(k, w_hi36, far_lo36)


def check_rate_limit(
    previous: Slice,
    previous_time_sec: int,
    s: Slice,
    time_sec: int,
    strikes_wad: Sequence[int],
    forward_wad: int,
    max_step_wad: int,
) -> None:
    """SviMath.checkRateLimit."""
    _check_time(previous_time_sec)
    _check_time(time_sec)
    for i, strike in enumerate(strikes_wad):
        k = log_moneyness_wad(strike, forward_wad)
        before = _vol_at(previous, k, previous_time_sec)
        after = _vol_at(s, k, time_sec)
        if abs(after - before) > max_step_wad:
            raise SviVolStepExceeded(i, before, after, max_step_wad)


@dataclass(frozen=True)
class Post:
    """``SviHarness.PostInput``: one expiry's post with everything its checks read."""

    slice: Slice
    grid: Grid
    nearer: Slice | None
    farther: Slice | None
    previous: Slice
    previous_time_sec: int
    time_sec: int
    strikes_wad: tuple[int, ...]
    forward_wad: int
    max_step_wad: int

    def as_tuple(self) -> tuple[object, ...]:
        empty = (0, 0, 0, 0, 0)
        return (
            self.slice.as_tuple(),
            self.grid.as_tuple(),
            self.nearer.as_tuple() if self.nearer else empty,
            self.nearer is not None,
            self.farther.as_tuple() if self.farther else empty,
            self.farther is not None,
            self.previous.as_tuple(),
            self.previous_time_sec,
            self.time_sec,
            list(self.strikes_wad),
            self.forward_wad,
            self.max_step_wad,
        )


def check_post(p: Post) -> None:
    """The harness's checkPost: parameters, arbitrage on the grid, rate limit."""
    check_params(p.slice)
    check_arbitrage(p.slice, p.grid, p.nearer, p.farther)
    check_rate_limit(p.previous, p.previous_time_sec, p.slice, p.time_sec, p.strikes_wad, p.forward_wad, p.max_step_wad)


def grid_for_strikes(strikes_wad: Sequence[int], forward_wad: int, points: int) -> Grid:
    """The grid over the listed strikes' range of log-moneyness (k rounded outward to the wad)."""
    ks = [log_moneyness_wad(k, forward_wad) for k in strikes_wad]
    return Grid(min(ks), max(ks) + 1, points)
