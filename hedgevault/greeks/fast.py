"""Vectorised float64 Black-Scholes prices and greeks for simulations.

Inputs are float arrays (or scalars) in *natural units* -- spot 3000.0,
strike 3100.0, vol 0.2, rate 0.05 (may be negative), time to expiry in
seconds -- broadcast against each other.  Outputs are float64 arrays of the
broadcast shape (0-d arrays for scalar inputs) in the same natural units as
:mod:`hedgevault.greeks.reference`: prices in spot-token units, gamma per unit
of spot, vega per 1.00 of vol, theta per year, rho per 1.00 of rate.  Year
length is ``YEAR_SECONDS = 31_536_000``.  ``time_sec == 0`` follows the
expired-option convention element-wise (intrinsic value, call delta
1 / 0.5 / 0, other greeks 0) without numpy warnings; negative times are
treated as expired too (no validation, for speed).  ``vol`` must be > 0
where ``time_sec > 0``.

N(x) is ``scipy.special.ndtr``, which keeps relative precision deep in the
lower tail; N(-d) is evaluated directly rather than as 1 - N(d), and
``log(S/K)`` rather than ``log(S) - log(K)``.

Measured error against the 50-digit reference (``tests/unit/test_fast.py``,
``bench/bench_float64.py`` and 20,000 further samples), over spot and strike
in 1e-6..1e12 with K/S in [0.01, 100], vol 0.001..10, time 1 s..10 years,
rate -1..1.  Inputs are the wad integers the reference sees, correctly
rounded to float64; half of the samples are log-uniform over that box, half
have the strike set so that |d1| <= 8 (near the money, where the greeks are
largest and most sensitive).  Worst cases over ~27,000 samples:

* price (call and put), ``|error| / max(S, K e^{-r tau})``: 1.1e-15
  (5.1 eps).  Tested bound: 16 eps.
* price, ``|error| / max(S, K)``: 2.1e-12.  This larger figure is not a
  loss of accuracy: for r < 0 the put itself is worth up to
  ``K e^{-r tau}`` (= 22026 K at r = -1, 10 years), and the error is a few
  ulp of that.  For r >= 0, K e^{-r tau} <= K, so this figure can only be
  smaller than the one above.
* delta (call and put), absolute: 2.1e-10.  Tested bound: 1e-9.

The delta error is set by the conditioning of the problem, not by the
code: one ulp in S, K or log(S/K) moves d1 by about
``1.1e-16 / (sigma sqrt(tau))`` -- up to 6.2e-10 at sigma = 0.001 and a 1 s
expiry -- and delta moves by phi(d1) <= 0.4 times that.  Away from that
corner the delta error shrinks in proportion: measured worst 5.5e-14 for
sigma sqrt(tau) >= 1e-3, 4.2e-15 for >= 1e-2, 3.9e-16 for >= 0.1.  Gamma, vega, theta and
rho carry the same conditioning, relative error up to ~2e-9 in the same
corner.  The tests bound every greek by
``8 * (eps |greek| (1 + |r| tau) + |d greek / d d1| * dd1)`` with
``dd1 = eps (1 + |ln(S/K)| + |r| tau + sigma^2 tau) / (sigma sqrt(tau))
+ eps |d1|``; the measured worst ratio to the unscaled bound is 2.0.

Throughput (``bench/bench_float64.py``, 1e6 options, one core): about
8e6 options/s for :func:`price_f64` and 5e6 options/s for :func:`greeks_f64`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

__all__ = ["YEAR_SECONDS", "GreeksF64", "greeks_f64", "price_f64"]

YEAR_SECONDS = 31_536_000

F64 = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GreeksF64(NamedTuple):
    """Price and greeks of a European call and put (float64 arrays)."""

    call: F64
    put: F64
    call_delta: F64
    put_delta: F64
    gamma: F64
    vega: F64
    call_theta: F64
    put_theta: F64
    call_rho: F64
    put_rho: F64


class _Prepared(NamedTuple):
    shape: tuple[int, ...]
    s: F64
    k: F64
    sigma: F64
    r: F64
    live: npt.NDArray[np.bool_]  # time_sec > 0
    tau: F64  # years; 1.0 where expired (placeholder, never used there)


def _prepare(spot: ArrayLike, strike: ArrayLike, time_sec: ArrayLike, vol: ArrayLike, rate: ArrayLike) -> _Prepared:
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (spot, strike, time_sec, vol, rate)))
    shape = arrays[0].shape
    s, k, t, sigma, r = (np.ravel(a).astype(np.float64, copy=False) for a in arrays)
    live = t > 0.0
    # Expired entries get a harmless placeholder tau (and vol) so the closed
    # form below runs warning-free on the whole array; they are overwritten.
    tau = np.where(live, t / YEAR_SECONDS, 1.0)
    sigma = np.where(live, sigma, 1.0)
    return _Prepared(shape, s, k, sigma, r, live, tau)


def _d1_d2(p: _Prepared) -> tuple[F64, F64, F64, F64]:
    """Return (d1, d2, sqrt(tau), K e^{-r tau})."""
    sqrt_tau = np.sqrt(p.tau)
    sst = p.sigma * sqrt_tau
    d1 = (np.log(p.s / p.k) + (p.r + 0.5 * p.sigma * p.sigma) * p.tau) / sst
    d2 = d1 - sst
    kd = p.k * np.exp(-p.r * p.tau)
    return d1, d2, sqrt_tau, kd


def _out(p: _Prepared, live_value: F64, expired_value: F64 | float) -> F64:
    res: F64 = np.where(p.live, live_value, expired_value).reshape(p.shape)
    return res


def price_f64(
    spot: ArrayLike, strike: ArrayLike, time_sec: ArrayLike, vol: ArrayLike, rate: ArrayLike
) -> tuple[F64, F64]:
    """(call, put) prices; same conventions as :func:`greeks_f64`, cheaper."""
    p = _prepare(spot, strike, time_sec, vol, rate)
    d1, d2, _, kd = _d1_d2(p)
    call = p.s * ndtr(d1) - kd * ndtr(d2)
    put = kd * ndtr(-d2) - p.s * ndtr(-d1)
    return (
        _out(p, call, np.maximum(p.s - p.k, 0.0)),
        _out(p, put, np.maximum(p.k - p.s, 0.0)),
    )


def greeks_f64(spot: ArrayLike, strike: ArrayLike, time_sec: ArrayLike, vol: ArrayLike, rate: ArrayLike) -> GreeksF64:
    """Prices and greeks, element-wise over the broadcast inputs.

    ``spot``/``strike`` in spot-token units, ``time_sec`` in seconds,
    ``vol``/``rate`` as plain fractions (0.2, 0.05).  See the module
    docstring for units, the expiry convention and the measured accuracy.
    """
    p = _prepare(spot, strike, time_sec, vol, rate)
    d1, d2, sqrt_tau, kd = _d1_d2(p)
    n_d1, n_d2 = ndtr(d1), ndtr(d2)
    n_md1, n_md2 = ndtr(-d1), ndtr(-d2)
    pdf1 = np.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
    s_pdf1 = p.s * pdf1
    decay = -s_pdf1 * p.sigma / (2.0 * sqrt_tau)
    r_kd = p.r * kd

    expired_cd = np.where(p.s > p.k, 1.0, np.where(p.s == p.k, 0.5, 0.0))
    return GreeksF64(
        call=_out(p, p.s * n_d1 - kd * n_d2, np.maximum(p.s - p.k, 0.0)),
        put=_out(p, kd * n_md2 - p.s * n_md1, np.maximum(p.k - p.s, 0.0)),
        call_delta=_out(p, n_d1, expired_cd),
        put_delta=_out(p, -n_md1, expired_cd - 1.0),
        gamma=_out(p, pdf1 / (p.s * p.sigma * sqrt_tau), 0.0),
        vega=_out(p, s_pdf1 * sqrt_tau, 0.0),
        call_theta=_out(p, decay - r_kd * n_d2, 0.0),
        put_theta=_out(p, decay + r_kd * n_md2, 0.0),
        call_rho=_out(p, kd * p.tau * n_d2, 0.0),
        put_rho=_out(p, -kd * p.tau * n_md2, 0.0),
    )
