"""Pure-integer mirror of the Solidity Black-Scholes library, operation for operation.

Every function here corresponds to one in ``contracts/libraries/`` and returns the same integers
for the same inputs, or raises the exception named like the Solidity custom error (with the same
arguments). The Solidity line is quoted beside its Python mirror where they differ in spelling.

EVM arithmetic, mirrored:
* ``sdiv`` (Solidity ``/`` on int256) truncates toward zero: use :func:`_sdiv`, never ``//``.
* ``sar`` (Solidity ``>>`` on int256) floors: Python ``>>`` on int is the same operation.
* ``div`` on uint256 floors: Python ``//`` on non-negative ints is the same operation.
* No intermediate ever leaves the int256 / uint256 range (bounds are stated beside each product).

Fixed-point formats: ``*_wad`` are 1e18 fixed point; ``*_q96`` are binary fixed point with 96
fractional bits (2^96 = 1.0); times are whole seconds; a year is ``YEAR_SECONDS`` (365 days).
"""

from __future__ import annotations

from math import isqrt
from typing import NamedTuple

from hedgevault.greeks._cdf_table import CDF_COEFFS, CDF_WIDTH_SHIFT
from hedgevault.greeks.errors import (
    ImpliedVolIllConditioned,
    ImpliedVolNotConverged,
    MoneynessOutOfRange,
    PriceOutOfBounds,
    RateOutOfRange,
    SpotOutOfRange,
    StrikeOutOfRange,
    TimeOutOfRange,
    VolatilityNotInDomain,
    VolatilityOutOfRange,
)

Q96 = 1 << 96
WAD = 10**18
YEAR_SECONDS = 31_536_000  # 365 days

MIN_PRICE_WAD = 10**12  # 1e-6
MAX_PRICE_WAD = 10**30  # 1e12
MAX_MONEYNESS = 100  # strike / spot and spot / strike at most 100
MIN_VOL_WAD = 10**15  # 0.001
MAX_VOL_WAD = 10**19  # 10
MAX_TIME_SEC = 10 * YEAR_SECONDS
MAX_ABS_RATE_WAD = 10**18  # |rate| <= 1

LN2_Q96 = 54916777467707473351141471128  # round(ln 2 * 2^96)
INV_LN2_Q96 = 114302077158074026402637675937  # round(2^96 / ln 2)
SQRT2_Q96 = 112045541949572279837463876454  # floor(sqrt 2 * 2^96)
INV_SQRT_2PI_Q96 = 31607463825455920808620519744  # round(2^96 / sqrt(2 pi))

#: 2 atanh(z) = 2 z sum_{n=0..12} z^(2n) / (2n + 1); coefficients floor(2^96 / (2n + 1)), highest first.
_ATANH_COEFFS = tuple(Q96 // (2 * n + 1) for n in range(12, -1, -1))
#: Pade [6/6] of exp: e^y ~ P(y) / P(-y), P(y) = sum_j (12 - j)! / (j! (6 - j)!) y^j.
_PADE = (665280, 332640, 75600, 10080, 840, 42, 1)
CDF_MAX_Q96 = 19 << 95  # 9.5: N(x) = 1 at and beyond (1 - N(9.5) = 1.05e-21)
PDF_MAX_Q96 = 12 << 96  # 12: pdf = 0 at and beyond (pdf(12) = 2.1e-32 < 2^-96)
EXP_MIN_Q96 = -(67 << 96)  # exp(-67) = 8e-30 < 2^-96: returns 0 below

#: Implied volatility: accepted when (|residual| + PRICE_ERR) * 1e12 * IV_MARGIN <= vega.
IV_MAX_ITERATIONS = 40
IV_STEP_TOL_WAD = 1000  # |Newton step| <= 1e-15 in volatility: converged
IV_PRICE_ERR_WEI = 4  # price error bound: 4 wei + max(spot, discounted strike) / 1e17
IV_PRICE_ERR_REL_DIV = 10**17
IV_MARGIN = 2
#: 2 atanh(z) summed up to z^9 for the solver's rough ln; coefficients floor(2^96 / (2n + 1)), n = 4..0.
_ROUGH_ATANH_COEFFS = tuple(Q96 // (2 * n + 1) for n in range(4, -1, -1))
INV_PI_Q24 = 5340353  # floor(2^24 / pi)
SQRT_2PI_Q96 = 198595552305314927273837084508  # floor(sqrt(2 pi) * 2^96)
_IV_MAX_RATIO = 1 << 150  # q / vega beyond 2^54: no usable slope


class Greeks(NamedTuple):
    """The whole set, in wad: prices and rho/vega/theta per 1.00 of their variable, theta per year."""

    call: int
    put: int
    call_delta: int
    put_delta: int
    gamma: int
    vega: int
    call_theta: int
    put_theta: int
    call_rho: int
    put_rho: int


def _sdiv(a: int, b: int) -> int:
    """EVM ``sdiv``: truncate toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# ----------------------------------------------------------------------------- FixedPointMath


def sqrt(x: int) -> int:
    """floor(sqrt(x)) for uint256 x (FixedPointMath.sqrt)."""
    return isqrt(x)


def msb(x: int) -> int:
    """Index of the most significant set bit, x > 0 (FixedPointMath.msb)."""
    return x.bit_length() - 1


def ln_ratio_q96(num: int, den: int) -> int:
    """ln(num / den) in Q96 for 0 < num, den < 2^101 with num / den within [2^-7, 2^7].

    num / den = 2^k m with m in [1/sqrt 2, sqrt 2); ln m = 2 atanh(z), z = (num' - den') / (num' + den')
    computed from the integers themselves, so the relative error of ln stays below 2e-21 near 1.
    """
    q = (num << 96) // den  # < 2^197
    k = msb(q * SQRT2_Q96 >> 96) - 96
    if k >= 0:
        a, b = num, den << k
    else:
        a, b = num << -k, den
    z = _sdiv((a - b) << 96, a + b)  # |z| <= 0.1716 * 2^96; |a - b| < 2^108
    w = (z * z) >> 96
    p = _ATANH_COEFFS[0]
    for c in _ATANH_COEFFS[1:]:
        p = ((p * w) >> 96) + c
    return (((z * p) >> 96) << 1) + k * LN2_Q96


def exp_q96(x: int) -> int:
    """e^x in Q96 for x <= 11 * 2^96 (FixedPointMath.expQ96); 0 below -67.

    x = k ln 2 + y, |y| <= ln 2 / 2, e^y by the Pade [6/6] approximant (relative error < 2e-19).
    """
    if x < EXP_MIN_Q96:
        return 0
    k = (x * INV_LN2_Q96 + (1 << 191)) >> 192  # round(x / ln 2); |x * INV_LN2| < 2^200
    y = x - k * LN2_Q96
    y2 = (y * y) >> 96
    e = _PADE[6] * y2 + _PADE[4] * Q96
    e = ((e * y2) >> 96) + _PADE[2] * Q96
    e = ((e * y2) >> 96) + _PADE[0] * Q96
    o = _PADE[5] * y2 + _PADE[3] * Q96
    o = ((o * y2) >> 96) + _PADE[1] * Q96
    yo = (y * o) >> 96
    r = ((e + yo) << 96) // (e - yo)  # e +- yo > 0 and < 2^120
    return r << k if k >= 0 else r >> -k


# ----------------------------------------------------------------------------- NormalDist


def cdf_q96(x: int) -> int:
    """Standard normal CDF in Q96 of a Q96 argument (NormalDist.cdfQ96); in [0, 2^96]."""
    a = -x if x < 0 else x
    if a >= CDF_MAX_Q96:
        p = Q96
    else:
        i = a >> CDF_WIDTH_SHIFT  # intervals of width 1/4
        t = a - (((i << 1) | 1) << (CDF_WIDTH_SHIFT - 1))
        coeffs = CDF_COEFFS[i]
        p = coeffs[0]
        for c in coeffs[1:]:
            p = ((p * t) >> 96) + c
        if p > Q96:
            p = Q96
        elif p < 0:
            p = 0
    return Q96 - p if x < 0 else p


def pdf_q96(x: int) -> int:
    """Standard normal density in Q96 of a Q96 argument (NormalDist.pdfQ96)."""
    a = -x if x < 0 else x
    if a >= PDF_MAX_Q96:
        return 0
    return (exp_q96(-((a * a) >> 97)) * INV_SQRT_2PI_Q96) >> 96


# ----------------------------------------------------------------------------- BlackScholes


def check_inputs(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> None:
    """The domain (BlackScholes.checkInputs); raises the error of the first offending input."""
    if spot_wad < MIN_PRICE_WAD or spot_wad > MAX_PRICE_WAD:
        raise SpotOutOfRange(spot_wad)
    if strike_wad < MIN_PRICE_WAD or strike_wad > MAX_PRICE_WAD:
        raise StrikeOutOfRange(strike_wad)
    if strike_wad * MAX_MONEYNESS < spot_wad or spot_wad * MAX_MONEYNESS < strike_wad:
        raise MoneynessOutOfRange(spot_wad, strike_wad)
    if vol_wad < MIN_VOL_WAD or vol_wad > MAX_VOL_WAD:
        raise VolatilityOutOfRange(vol_wad)
    if time_sec > MAX_TIME_SEC:
        raise TimeOutOfRange(time_sec)
    if rate_wad < -MAX_ABS_RATE_WAD or rate_wad > MAX_ABS_RATE_WAD:
        raise RateOutOfRange(rate_wad)


class _Core(NamedTuple):
    sqrt_tau_q96: int
    vol_sqrt_tau_q96: int
    d1_q96: int
    d2_q96: int
    kdx: int  # strike * e^{-r tau} in wad * 2^32


def _sqrt_tau_q96(time_sec: int) -> int:
    return isqrt((time_sec << 192) // YEAR_SECONDS)  # time_sec < 2^29


def _drift_q96(spot_wad: int, strike_wad: int, time_sec: int, rate_wad: int) -> tuple[int, int]:
    """(ln(S / K) + r tau, r tau) in Q96."""
    r_tau = _sdiv((rate_wad * time_sec) << 96, WAD * YEAR_SECONDS)  # |r T| < 2^89
    return ln_ratio_q96(spot_wad, strike_wad) + r_tau, r_tau


def _d1_q96(x_q96: int, vst: int) -> int:
    # d1 = (ln(S/K) + r tau) / (sigma sqrt tau) + sigma sqrt tau / 2; |x| < 2^100
    return _sdiv(x_q96 << 96, vst) + (vst >> 1)


def _core(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> _Core:
    sqrt_tau = _sqrt_tau_q96(time_sec)
    vst = vol_wad * sqrt_tau // WAD
    x, r_tau = _drift_q96(spot_wad, strike_wad, time_sec, rate_wad)
    d1 = _d1_q96(x, vst)
    kdx = (strike_wad * exp_q96(-r_tau)) >> 64  # K < 2^100, e^{-r tau} < 2^111
    return _Core(sqrt_tau, vst, d1, d1 - vst, kdx)


def _call_x(spot_wad: int, kdx: int, n1: int, n2: int) -> int:
    """S N(d1) - K e^{-r tau} N(d2) in wad * 2^128 (unclamped)."""
    return ((spot_wad * n1) << 32) - kdx * n2


def _prices(spot_wad: int, kdx: int, n1: int, n2: int) -> tuple[int, int]:
    call = _call_x(spot_wad, kdx, n1, n2) >> 128
    kd = kdx >> 32
    lower = spot_wad - kd
    if call < lower:
        call = lower
    if call < 0:
        call = 0
    return call, call - spot_wad + kd  # put by parity, exactly


def _intrinsic(spot_wad: int, strike_wad: int) -> tuple[int, int, int]:
    call = spot_wad - strike_wad if spot_wad > strike_wad else 0
    put = strike_wad - spot_wad if strike_wad > spot_wad else 0
    if spot_wad > strike_wad:
        delta = WAD
    elif spot_wad == strike_wad:
        delta = WAD // 2
    else:
        delta = 0
    return call, put, delta


def price(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> tuple[int, int]:
    """(call, put) in wad (BlackScholes.price)."""
    check_inputs(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)
    if time_sec == 0:
        call, put, _ = _intrinsic(spot_wad, strike_wad)
        return call, put
    c = _core(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)
    return _prices(spot_wad, c.kdx, cdf_q96(c.d1_q96), cdf_q96(c.d2_q96))


def delta(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> tuple[int, int]:
    """(call delta, put delta) in wad (BlackScholes.delta)."""
    check_inputs(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)
    if time_sec == 0:
        _, _, d = _intrinsic(spot_wad, strike_wad)
        return d, d - WAD
    sqrt_tau = _sqrt_tau_q96(time_sec)
    vst = vol_wad * sqrt_tau // WAD
    x, _ = _drift_q96(spot_wad, strike_wad, time_sec, rate_wad)
    d = (cdf_q96(_d1_q96(x, vst)) * WAD) >> 96
    return d, d - WAD


def greeks(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> Greeks:
    """The whole set in one call (BlackScholes.greeks)."""
    check_inputs(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)
    if time_sec == 0:
        call, put, d = _intrinsic(spot_wad, strike_wad)
        return Greeks(call, put, d, d - WAD, 0, 0, 0, 0, 0, 0)
    c = _core(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)
    n1 = cdf_q96(c.d1_q96)
    n2 = cdf_q96(c.d2_q96)
    call, put = _prices(spot_wad, c.kdx, n1, n2)
    call_delta = (n1 * WAD) >> 96
    phi = pdf_q96(c.d1_q96)
    gamma = phi * 10**36 // (spot_wad * c.vol_sqrt_tau_q96)  # phi < 2^95, S * vst < 2^202
    s_phi = (spot_wad * phi) >> 64  # S phi in wad * 2^32, < 2^131
    vega = (s_phi * c.sqrt_tau_q96) >> 128
    decay = ((s_phi * vol_wad // WAD) << 63) // c.sqrt_tau_q96  # S phi sigma / (2 sqrt tau)
    kd_n2 = (c.kdx * n2) >> 128  # K e^{-r tau} N(d2), wad
    kd_nm2 = (c.kdx * (Q96 - n2)) >> 128  # K e^{-r tau} N(-d2), wad
    return Greeks(
        call=call,
        put=put,
        call_delta=call_delta,
        put_delta=call_delta - WAD,
        gamma=gamma,
        vega=vega,
        call_theta=-decay - _sdiv(rate_wad * kd_n2, WAD),
        put_theta=-decay + _sdiv(rate_wad * kd_nm2, WAD),
        call_rho=kd_n2 * time_sec // YEAR_SECONDS,
        put_rho=-(kd_nm2 * time_sec // YEAR_SECONDS),
    )


def _ln_ratio_rough(num: int, den: int) -> int:
    """ln(num / den) in Q96 for any 0 < num, den < 2^256 (BlackScholes._lnRatioRough).

    Both are aligned to bit 126 and the ratio of the aligned values is reduced to [1/sqrt 2, sqrt 2)
    with a power of two k; ln m = 2 atanh(z) is summed up to z^9 (|z| <= 0.1716), so the error is at
    most 3e-8 |ln m| + 2^-94 (and tends to 0 with m -> 1, where the solver needs it exact).
    """
    ka = msb(num)
    kb = msb(den)
    a = num << (126 - ka) if ka <= 126 else num >> (ka - 126)
    b = den << (126 - kb) if kb <= 126 else den >> (kb - 126)
    k = ka - kb
    if a > (b * SQRT2_Q96) >> 96:
        b <<= 1
        k += 1
    elif b > (a * SQRT2_Q96) >> 96:
        a <<= 1
        k -= 1
    z = _sdiv((a - b) << 96, a + b)  # a, b < 2^128
    w = (z * z) >> 96
    p = _ROUGH_ATANH_COEFFS[0]
    for c in _ROUGH_ATANH_COEFFS[1:]:
        p = ((p * w) >> 96) + c
    return (((z * p) >> 96) << 1) + k * LN2_Q96


def _iv_start(spot_wad: int, kdx: int, q_target_x: int, v_min: int, v_max: int) -> int:
    """First point of the implied-volatility solver (BlackScholes._ivStart), Q96.

    Corrado and Miller's closed form on the out-of-the-money side: with A = min(S, K e^{-r tau}),
    B = max(S, K e^{-r tau}), q the out-of-the-money price and h = q + (B - A) / 2,
    v0 = sqrt(2 pi) (h + sqrt(max(0, h^2 - (B - A)^2 / pi))) / (A + B), clamped to the domain.
    """
    kd = kdx >> 32
    lo_leg = spot_wad if spot_wad < kd else kd
    diff = (kd - spot_wad) if spot_wad < kd else (spot_wad - kd)  # B - A < 2^115
    h = (q_target_x >> 128) + (diff >> 1)  # < 2^116
    rad = h * h - (((diff * INV_PI_Q24) >> 24) * diff)
    root = isqrt(rad) if rad > 0 else 0
    v = (h + root) * SQRT_2PI_Q96 // (lo_leg + lo_leg + diff)  # (h + root) < 2^117
    return v_min if v < v_min else (v_max if v > v_max else v)


def implied_vol(price_wad: int, spot_wad: int, strike_wad: int, time_sec: int, rate_wad: int, is_call: bool) -> int:
    """Implied volatility in wad (BlackScholes.impliedVol), within 1e-12 of the exact one, or raises.

    Solved for v = sigma sqrt(tau) from Corrado and Miller's closed-form estimate (:func:`_iv_start`).
    Each point is first tested by the acceptance rule, on the price itself: the price residual is
    within the price's error bound, or the Newton step on the price is below 1e-15 in volatility; then
    the answer (that Newton point) is returned only if (|residual| + error bound) x 2e12 <= vega, which
    bounds the volatility error by 1e-12; otherwise it reverts. A point not accepted narrows the
    bracket [lo, hi] (the domain at first), and the next point is Halley's step on g(v) = ln(q(v) / q*)
    (q = the out-of-the-money price, call or put by parity; g' = vega / q, g'' / g' = d1 d2 / v - g'),
    whose log scale keeps its convergence rate independent of the moneyness. The step is kept within
    a factor 4 of v, and a point outside the bracket is replaced by its midpoint (or the domain's edge,
    probed once). Typically 3 to 4 evaluations.
    """
    check_inputs(spot_wad, strike_wad, time_sec, MIN_VOL_WAD, rate_wad)
    if time_sec == 0:
        raise TimeOutOfRange(time_sec)
    sqrt_tau = _sqrt_tau_q96(time_sec)
    x, r_tau = _drift_q96(spot_wad, strike_wad, time_sec, rate_wad)
    kdx = (strike_wad * exp_q96(-r_tau)) >> 64
    kd = kdx >> 32
    if is_call:
        lower = spot_wad - kd if spot_wad > kd else 0
        upper = spot_wad
        target = price_wad
    else:
        lower = kd - spot_wad if kd > spot_wad else 0
        upper = kd
    if price_wad <= lower or price_wad >= upper:
        raise PriceOutOfBounds(price_wad, lower, upper)
    if not is_call:
        target = price_wad + spot_wad - kd  # the call price of the same vol, by parity; > 0 here
    v_min = MIN_VOL_WAD * sqrt_tau // WAD
    v_max = MAX_VOL_WAD * sqrt_tau // WAD
    step_tol = IV_STEP_TOL_WAD * sqrt_tau // WAD  # a Newton step of 1e-15 in volatility, in v units
    target_x = target << 128
    # the out-of-the-money price (the put when x > 0), wad * 2^128: q* > 0 since price > lower
    q_target_x = target_x - ((spot_wad << 128) - (kdx << 96)) if x > 0 else target_x
    v = _iv_start(spot_wad, kdx, q_target_x, v_min, v_max)
    lo = v_min
    hi = v_max
    err_wei = IV_PRICE_ERR_WEI + max(spot_wad, kd) // IV_PRICE_ERR_REL_DIV
    for _ in range(IV_MAX_ITERATIONS):
        d1 = _d1_q96(x, v)
        d2 = d1 - v
        resid = _call_x(spot_wad, kdx, cdf_q96(d1), cdf_q96(d2)) - target_x  # wad * 2^128
        s_phi = (spot_wad * pdf_q96(d1)) >> 64  # dC/dv in wad * 2^32
        # Newton's next point; |resid >> 96| < 2^133 so the shift cannot overflow
        v_newton = v if s_phi == 0 else v - _sdiv((resid >> 96) << 96, s_phi)
        abs_resid_wei = (resid if resid >= 0 else -resid) >> 128
        if abs_resid_wei <= err_wei or -step_tol <= v - v_newton <= step_tol:
            # converged (or within the price's own error): accept only if that pins sigma to 1e-12
            vega = (s_phi * sqrt_tau) >> 128  # wad per 1.00 of volatility
            if (abs_resid_wei + err_wei) * 10**12 * IV_MARGIN > vega:
                raise ImpliedVolIllConditioned(price_wad, vega)
            if v_newton < v_min or v_newton > v_max:
                v_newton = v
            vol = v_newton * WAD // sqrt_tau
            # the edges' own rounding can put vol one unit outside the domain it was searched in
            return MIN_VOL_WAD if vol < MIN_VOL_WAD else (MAX_VOL_WAD if vol > MAX_VOL_WAD else vol)
        if resid > 0:
            if v == v_min:
                raise VolatilityNotInDomain(price_wad, MIN_VOL_WAD)
            hi = v
        else:
            if v == v_max:
                raise VolatilityNotInDomain(price_wad, MAX_VOL_WAD)
            lo = v
        v_next = _iv_halley(v, d1, d2, resid + q_target_x, q_target_x, s_phi, resid > 0)
        if v_next <= lo:
            # outside the bracket: probe the domain's edge once, else bisect
            v = v_min if lo == v_min else (lo + hi) >> 1
        elif v_next >= hi:
            v = v_max if hi == v_max else (lo + hi) >> 1
        else:
            v = v_next
    raise ImpliedVolNotConverged(price_wad, v * WAD // sqrt_tau)


def _iv_halley(v: int, d1: int, d2: int, q: int, q_target: int, s_phi: int, above: bool) -> int:
    """Halley's step on ln(q(v) / q*) from v, kept within [v / 4, 4 v] (BlackScholes._ivHalley).

    q, q* in wad * 2^128 (q may be <= 0 when the price underflows); without a usable slope the
    point moves by the factor 4 towards the target (down when ``above``).
    """
    v_next = (v >> 2) if above else (v << 2)
    if q > 0 and s_phi > 0:
        r = q // s_phi  # q / vega in Q96
        if r < _IV_MAX_RATIO:
            n = (_ln_ratio_rough(q, q_target) * r) >> 96  # Newton step; |ln| < 2^104, r < 2^150
            v_next = v - n
            if -v <= n <= v:
                # 1 - n g'' / (2 g'), g'' / g' = d1 d2 / v - q'/q; |d1 d2| < 2^246, |n| <= v < 2^102
                corr = _sdiv(n * ((d1 * d2) >> 96), v) - _sdiv(n << 96, r)
                den = Q96 - (corr >> 1)
                if Q96 >> 1 <= den <= Q96 << 1:
                    v_next = v - _sdiv(n << 96, den)
    lo = v >> 2
    hi = v << 2
    return lo if v_next < lo else (hi if v_next > hi else v_next)
