"""Arbitrary-precision Black-Scholes reference (the slow, obviously-correct one).

This module is the yardstick against which the fixed-point (integer) mirror of
the on-chain library and the float64 simulation code in :mod:`.fast` are
measured.  It trades speed for clarity and accuracy:

* Every input is converted exactly from its integer form (1e18 fixed point
  "wad" for spot, strike, vol and rate; whole seconds for time) into an
  ``mpmath.mpf``.  No Python ``float`` is involved anywhere.
* All arithmetic runs inside a *local* ``mpmath.workdps`` context of at least
  60 significant decimal digits; the global ``mpmath.mp.dps`` is never changed.
* :func:`greeks` uses a Ziv-style loop: the whole formula is evaluated at two
  working precisions (60 and 80 digits to start with) and the precision is
  raised until every output agrees to 1e-55 relative.  This absorbs the digits
  lost to cancellation in extreme cases (e.g. ``S*N(d1) - K*exp(-r*tau)*N(d2)``
  for a near-the-money option with a one-second expiry), so every returned
  value carries at least 50 correct significant digits.

Conventions (shared with the fixed-point and float64 implementations):

* ``YEAR_SECONDS = 31_536_000`` (365 days); ``tau = time_sec / YEAR_SECONDS``.
* Outputs are in natural units: prices in units of the spot token, deltas in
  [0, 1] / [-1, 0], gamma per unit of spot, vega per 1.00 of volatility, theta
  per year (calendar time), rho per 1.00 of rate.  No dividends.
* ``time_sec == 0`` (expired): intrinsic values, call delta 1 / 0.5 / 0 for
  S > K / S == K / S < K, ``put_delta = call_delta - 1`` and every other greek 0.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from typing import TypeAlias

import mpmath
from mpmath import mpf

__all__ = [
    "DPS",
    "WAD",
    "YEAR_SECONDS",
    "ReferenceGreeks",
    "exp",
    "greeks",
    "greeks_natural",
    "implied_vol",
    "ln",
    "norm_cdf",
    "norm_pdf",
    "price_natural",
    "sqrt",
]

YEAR_SECONDS = 31_536_000
WAD = 10**18
#: Working precision (significant decimal digits) of every computation here.
DPS = 60

# Ziv loop: guaranteed agreement and the precision step between evaluations.
_AGREE = mpf(10) ** -55
_STEP = 20
_MAX_DPS = 2000

Real: TypeAlias = "mpf | int | str | Fraction"


@dataclass(frozen=True)
class ReferenceGreeks:
    """Price and greeks of a European call and put, all ``mpmath.mpf``."""

    call: mpf
    put: mpf
    call_delta: mpf
    put_delta: mpf
    gamma: mpf
    vega: mpf
    call_theta: mpf
    put_theta: mpf
    call_rho: mpf
    put_rho: mpf


# --------------------------------------------------------------------------
# Thin wrappers at the reference precision (DPS digits).  Arguments may be
# mpf, int, decimal str or Fraction: ints are taken exactly, the others are
# rounded once to DPS digits.
# --------------------------------------------------------------------------


def norm_cdf(x: Real) -> mpf:
    """Standard normal CDF N(x), via ``erfc`` so that the lower tail keeps
    full relative precision."""
    with mpmath.workdps(DPS):
        return _ncdf(_to_mpf(x))


def norm_pdf(x: Real) -> mpf:
    """Standard normal density phi(x)."""
    with mpmath.workdps(DPS):
        return _npdf(_to_mpf(x))


def exp(x: Real) -> mpf:
    """e**x at the reference precision."""
    with mpmath.workdps(DPS):
        return mpmath.exp(_to_mpf(x))


def ln(x: Real) -> mpf:
    """Natural logarithm (x > 0) at the reference precision."""
    with mpmath.workdps(DPS):
        v = _to_mpf(x)
        if v <= 0:
            raise ValueError("ln: argument must be > 0")
        return mpmath.log(v)


def sqrt(x: Real) -> mpf:
    """Square root (x >= 0) at the reference precision."""
    with mpmath.workdps(DPS):
        v = _to_mpf(x)
        if v < 0:
            raise ValueError("sqrt: argument must be >= 0")
        return mpmath.sqrt(v)


def _to_mpf(x: Real) -> mpf:
    """mpf at the current precision; Fractions are rounded once, exactly."""
    if isinstance(x, Fraction):
        return mpf(x.numerator) / x.denominator
    return mpf(x)


def _ncdf(x: mpf) -> mpf:
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _npdf(x: mpf) -> mpf:
    return mpmath.exp(-(x * x) / 2) / mpmath.sqrt(2 * mpmath.pi)


# --------------------------------------------------------------------------
# Closed form in natural units.  Callers must already be inside a workdps.
# --------------------------------------------------------------------------


def _closed_form(s: mpf, k: mpf, tau: mpf, sigma: mpf, r: mpf) -> ReferenceGreeks:
    if tau == 0:
        zero = mpf(0)
        if s > k:
            cd = mpf(1)
        elif s == k:
            cd = mpf(1) / 2
        else:
            cd = mpf(0)
        return ReferenceGreeks(
            call=max(s - k, zero),
            put=max(k - s, zero),
            call_delta=cd,
            put_delta=cd - 1,
            gamma=zero,
            vega=zero,
            call_theta=zero,
            put_theta=zero,
            call_rho=zero,
            put_rho=zero,
        )
    sqrt_tau = mpmath.sqrt(tau)
    sst = sigma * sqrt_tau
    d1 = (mpmath.log(s / k) + (r + sigma * sigma / 2) * tau) / sst
    d2 = d1 - sst
    disc = mpmath.exp(-r * tau)
    kd = k * disc
    n_d1, n_d2 = _ncdf(d1), _ncdf(d2)
    n_md1, n_md2 = _ncdf(-d1), _ncdf(-d2)
    pdf1 = _npdf(d1)
    decay = -s * pdf1 * sigma / (2 * sqrt_tau)
    return ReferenceGreeks(
        call=s * n_d1 - kd * n_d2,
        put=kd * n_md2 - s * n_md1,
        call_delta=n_d1,
        # == call_delta - 1, written so that it keeps relative precision
        put_delta=-n_md1,
        gamma=pdf1 / (s * sst),
        vega=s * pdf1 * sqrt_tau,
        call_theta=decay - r * kd * n_d2,
        put_theta=decay + r * kd * n_md2,
        call_rho=kd * tau * n_d2,
        put_rho=-kd * tau * n_md2,
    )


def _agree(a: mpf, b: mpf) -> bool:
    return bool(abs(a - b) <= _AGREE * abs(b))


def _check_natural(s: mpf, k: mpf, tau: mpf, sigma: mpf) -> None:
    if s <= 0:
        raise ValueError("spot must be > 0")
    if k <= 0:
        raise ValueError("strike must be > 0")
    if tau < 0:
        raise ValueError("time must be >= 0")
    if tau > 0 and sigma <= 0:
        raise ValueError("vol must be > 0 when time > 0")


def greeks_natural(spot: Real, strike: Real, tau: Real, vol: Real, rate: Real) -> ReferenceGreeks:
    """Reference greeks from natural-unit inputs (tau in years).

    Inputs may be ints, mpf values, decimal strings or ``fractions.Fraction``;
    each is rounded once, at each working precision the loop uses (exact
    for ints and mpf values that fit).  Every field carries
    at least 50 correct significant digits (see the module docstring).
    """
    dps = DPS
    while True:
        with mpmath.workdps(dps):
            s, k, t, v, r = (_to_mpf(x) for x in (spot, strike, tau, vol, rate))
            _check_natural(s, k, t, v)
            lo = _closed_form(s, k, t, v, r)
        with mpmath.workdps(dps + _STEP):
            s, k, t, v, r = (_to_mpf(x) for x in (spot, strike, tau, vol, rate))
            hi = _closed_form(s, k, t, v, r)
            if all(_agree(getattr(lo, f.name), getattr(hi, f.name)) for f in fields(hi)):
                return hi
        dps += 2 * _STEP
        if dps > _MAX_DPS:  # pragma: no cover - never reached for finite inputs
            raise ArithmeticError("reference greeks failed to converge")


def price_natural(spot: Real, strike: Real, tau: Real, vol: Real, rate: Real) -> tuple[mpf, mpf]:
    """(call, put) reference prices from natural-unit inputs (tau in years)."""
    g = greeks_natural(spot, strike, tau, vol, rate)
    return g.call, g.put


def _wad_inputs(
    spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int
) -> tuple[Fraction, Fraction, Fraction, Fraction, Fraction]:
    """The exact rational natural-unit inputs."""
    for name, value in (
        ("spot_wad", spot_wad),
        ("strike_wad", strike_wad),
        ("time_sec", time_sec),
        ("vol_wad", vol_wad),
        ("rate_wad", rate_wad),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return (
        Fraction(spot_wad, WAD),
        Fraction(strike_wad, WAD),
        Fraction(time_sec, YEAR_SECONDS),
        Fraction(vol_wad, WAD),
        Fraction(rate_wad, WAD),
    )


def greeks(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> ReferenceGreeks:
    """Reference price and greeks of a European call and put.

    ``spot_wad``, ``strike_wad``, ``vol_wad`` and ``rate_wad`` are 1e18
    fixed-point integers (``rate_wad`` may be negative); ``time_sec`` is the
    time to expiry in whole seconds.  Outputs are natural-unit ``mpf`` values
    with at least 50 correct significant digits.

    Raises ``ValueError`` for spot <= 0, strike <= 0, time < 0, or vol <= 0
    with time > 0, and ``TypeError`` for non-int inputs.
    """
    # The inputs are exact rationals (denominator 1e18 or YEAR_SECONDS);
    # greeks_natural rounds them afresh at every precision it tries.
    return greeks_natural(*_wad_inputs(spot_wad, strike_wad, time_sec, vol_wad, rate_wad))


# --------------------------------------------------------------------------
# Implied volatility
# --------------------------------------------------------------------------

_IV_DPS = 100  # generous: prices of extreme options lose digits to cancellation
_IV_LO = "1e-6"
_IV_HI = 50


def implied_vol(
    price_wad: int,
    spot_wad: int,
    strike_wad: int,
    time_sec: int,
    rate_wad: int,
    is_call: bool,
) -> mpf | None:
    """Exact volatility (natural units, e.g. 0.2) reproducing ``price_wad``.

    Returns ``None`` when the price violates the no-arbitrage bounds
    (call: ``max(0, S - K e^{-r tau}) < C < S``; put:
    ``max(0, K e^{-r tau} - S) < P < K e^{-r tau}``), when no sigma in
    [1e-6, 50] reproduces it, or when ``time_sec == 0`` (the price of an
    expired option does not depend on sigma).

    Method: the price is strictly increasing in sigma, so the root is first
    bracketed by geometric bisection on [1e-6, 50] and then polished by
    Newton's method (derivative = vega) safeguarded by the bracket, all at
    100 working digits.  The result is rounded to 60 digits.
    """
    with mpmath.workdps(_IV_DPS):
        if not isinstance(price_wad, int) or isinstance(price_wad, bool):
            raise TypeError("price_wad must be an int")
        exact = _wad_inputs(spot_wad, strike_wad, time_sec, 0, rate_wad)
        s, k, tau, _, r = (_to_mpf(x) for x in exact)
        target = mpf(price_wad) / WAD
        _check_natural(s, k, tau, mpf(1))
        if tau == 0:
            return None
        kd = k * mpmath.exp(-r * tau)
        zero = mpf(0)
        if is_call:
            lower, upper = max(zero, s - kd), s
        else:
            lower, upper = max(zero, kd - s), kd
        if not lower < target < upper:
            return None

        def value(sigma: mpf) -> tuple[mpf, mpf]:
            g = _closed_form(s, k, tau, sigma, r)
            return (g.call if is_call else g.put) - target, g.vega

        a, b = mpf(_IV_LO), mpf(_IV_HI)
        fa, _ = value(a)
        fb, _ = value(b)
        if fa > 0 or fb < 0:
            return None
        if fa == 0:
            return _round60(a)
        if fb == 0:
            return _round60(b)

        # 1) geometric bisection until the bracket is within 0.1 % (about
        #    15 halvings of log(b/a)); price is monotone so the sign test is
        #    exact.
        while b / a > mpf("1.001"):
            m = mpmath.sqrt(a * b)
            fm, _ = value(m)
            if fm == 0:
                return _round60(m)
            if fm < 0:
                a = m
            else:
                b = m

        # 2) safeguarded Newton: keep the bracket, fall back to bisection
        #    whenever the Newton step leaves it.
        x = (a + b) / 2
        tol = mpf(10) ** -(_IV_DPS - 20)
        for _ in range(1000):
            fx, vega = value(x)
            if fx == 0:
                break
            if fx < 0:
                a = x
            else:
                b = x
            nxt = x - fx / vega if vega > 0 else (a + b) / 2
            if not a < nxt < b:
                nxt = (a + b) / 2
            if abs(nxt - x) <= tol * x or b - a <= tol * x:
                x = nxt
                break
            x = nxt
        else:  # pragma: no cover - bisection alone converges in ~300 steps
            raise ArithmeticError("implied_vol failed to converge")
        return _round60(x)


def _round60(x: mpf) -> mpf:
    with mpmath.workdps(DPS):
        return +x
