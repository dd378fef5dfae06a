"""float64 Black-Scholes (hedgevault.greeks.fast) against the mpmath reference.

Domain (as documented in fast.py): spot and strike 1e-6..1e12 with K/S in
[0.01, 100], vol 0.001..10, time 1 s..10 years, rate -1..1.  Inputs are drawn
as wad integers (what the reference takes) and converted to float64 with
correct rounding (Python int / int), so the only float64 errors measured are
those of the inputs' last bit and of fast.py itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import ndtr

from hedgevault.greeks import fast
from hedgevault.greeks import reference as ref
from hedgevault.greeks.fast import GreeksF64, greeks_f64, price_f64
from hedgevault.greeks.sampling import mixed_inputs

W = 10**18
Y = ref.YEAR_SECONDS
EPS = float(np.finfo(np.float64).eps)  # 2.22e-16
F64 = npt.NDArray[np.float64]

# Documented headline tolerances (see fast.py's docstring for the measured
# values, which are about 3x below these).
#
# Price: |error| <= PRICE_TOL * max(S, K e^{-r tau}).  Both prices are
# bounded by that scale (C < S, P < K e^{-r tau}) and each term of the
# closed form carries a few rounding errors of that size; exp(-r tau) adds
# up to |r tau| <= 10 ulp of relative error.  Measured worst: 5.1 eps.
# (Normalising by max(S, K) instead, as one might first try, is not
# meaningful for r < 0: with r = -1 and tau = 10 y the put alone is worth
# up to K e^10 = 22026 K.)
PRICE_TOL = 16 * EPS
# Delta: |error| <= DELTA_TOL absolute over the whole domain.  It is limited
# by conditioning, not by the code: one ulp in S, K or log(S/K) moves d1 by
# ~1.1e-16 / (sigma sqrt(tau)), which is up to 6.2e-10 at sigma = 0.001 and
# tau = 1 s, and delta moves by phi(d1) <= 0.4 times that (a few such
# rounding errors add up).  Measured worst: 2.1e-10.
DELTA_TOL = 1e-9
# Every greek, deltas included: |error| <= MODEL_FACTOR * bound, where
#   bound = eps * |scale| * (1 + |r| tau) + |d greek / d d1| * dd1,
#   dd1   = eps * (1 + |ln(S/K)| + |r| tau + sigma^2 tau) / (sigma sqrt(tau))
#           + eps * |d1|,
# i.e. a few ulp of the greek itself plus the first-order effect of the
# float64 rounding in d1 (see ``_error_model``).  The measured worst ratio
# error/bound over 20,000 samples is 2.04; a factor 8 leaves a 4x margin
# while still catching any real formula or cancellation bug (those show up
# as ratios of 1e3 and more).
MODEL_FACTOR = 8.0

FIELDS = GreeksF64._fields


def to_float(samples: list[tuple[int, int, int, int, int]]) -> tuple[F64, F64, F64, F64, F64]:
    cols = list(zip(*samples, strict=True))
    return (
        np.array([x / W for x in cols[0]]),
        np.array([x / W for x in cols[1]]),
        np.array([float(x) for x in cols[2]]),
        np.array([x / W for x in cols[3]]),
        np.array([x / W for x in cols[4]]),
    )


def _error_model(s: F64, k: F64, t: F64, v: F64, r: F64) -> tuple[F64, dict[str, tuple[F64, F64]]]:
    """(dd1, {greek: (scale, |d greek / d d1|)}), evaluated in float64."""
    tau = t / Y
    sst = v * np.sqrt(tau)
    kd = k * np.exp(-r * tau)
    d1 = (np.log(s / k) + (r + v * v / 2) * tau) / sst
    d2 = d1 - sst
    dd1 = EPS * (1 + np.abs(np.log(s / k)) + np.abs(r) * tau + v * v * tau) / sst + EPS * np.abs(d1)
    phi1 = np.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi)
    phi2 = np.exp(-d2 * d2 / 2) / math.sqrt(2 * math.pi)
    gamma = phi1 / (s * sst)
    vega = s * phi1 * np.sqrt(tau)
    decay = s * phi1 * v / (2 * np.sqrt(tau))
    theta_sens = np.abs(d1 * decay) + np.abs(r * kd * phi2)
    return dd1, {
        "call_delta": (ndtr(d1), phi1),
        "put_delta": (ndtr(-d1), phi1),
        "gamma": (gamma, np.abs(d1 * gamma)),
        "vega": (vega, np.abs(d1 * vega)),
        "call_theta": (decay + np.abs(r * kd * ndtr(d2)), theta_sens),
        "put_theta": (decay + np.abs(r * kd * ndtr(-d2)), theta_sens),
        "call_rho": (kd * tau * ndtr(d2), kd * tau * phi2),
        "put_rho": (kd * tau * ndtr(-d2), kd * tau * phi2),
    }


@pytest.fixture(scope="module")
def comparison() -> tuple[tuple[F64, F64, F64, F64, F64], GreeksF64, dict[str, F64]]:
    samples = mixed_inputs(np.random.default_rng(20240601), 3000)
    inputs = to_float(samples)
    got = greeks_f64(*inputs)
    refs = [ref.greeks(*x) for x in samples]
    want = {f: np.array([float(getattr(g, f)) for g in refs]) for f in FIELDS}
    return inputs, got, want


def test_prices_against_reference(
    comparison: tuple[tuple[F64, F64, F64, F64, F64], GreeksF64, dict[str, F64]],
) -> None:
    (s, k, t, v, r), got, want = comparison
    kd = k * np.exp(-r * t / Y)
    scale = np.maximum(s, kd)
    for f in ("call", "put"):
        err = np.abs(getattr(got, f) - want[f])
        assert np.all(err <= PRICE_TOL * scale), (f, float(np.max(err / scale)) / EPS)
        # the max(S, K) normalisation, inflated by e^{-r tau} for r < 0
        assert np.all(err <= PRICE_TOL * np.maximum(s, k) * np.maximum(1.0, np.exp(-r * t / Y)))
    call, put = price_f64(s, k, t, v, r)
    np.testing.assert_array_equal(call, got.call)
    np.testing.assert_array_equal(put, got.put)


def test_greeks_against_reference(
    comparison: tuple[tuple[F64, F64, F64, F64, F64], GreeksF64, dict[str, F64]],
) -> None:
    (s, k, t, v, r), got, want = comparison
    for f in ("call_delta", "put_delta"):
        err = np.abs(getattr(got, f) - want[f])
        assert float(np.max(err)) <= DELTA_TOL, f
    dd1, model = _error_model(s, k, t, v, r)
    for f, (scale, sens) in model.items():
        err = np.abs(getattr(got, f) - want[f])
        bound = EPS * np.abs(scale) * (1 + np.abs(r) * t / Y) + sens * dd1
        ratio = err / np.maximum(bound, np.finfo(np.float64).tiny)
        worst = int(np.argmax(ratio))
        assert ratio[worst] <= MODEL_FACTOR, (f, float(ratio[worst]), float(want[f][worst]))


def test_expired_elementwise_without_warnings() -> None:
    s = np.array([3000.0, 2500.0, 3000.0, 3000.0])
    k = np.array([2500.0, 3000.0, 3000.0, 3100.0])
    t = np.array([0.0, 0.0, 0.0, 86400.0])
    v = np.array([0.0, 0.8, 0.5, 0.5])  # vol 0 is fine once expired
    r = np.array([0.05, -0.05, 0.0, 0.05])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            g = greeks_f64(s, k, t, v, r)
            c, p = price_f64(s, k, t, v, r)
    np.testing.assert_array_equal(g.call[:3], [500.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.put[:3], [0.0, 500.0, 0.0])
    np.testing.assert_array_equal(g.call_delta[:3], [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(g.put_delta[:3], [0.0, -1.0, -0.5])
    for f in ("gamma", "vega", "call_theta", "put_theta", "call_rho", "put_rho"):
        np.testing.assert_array_equal(getattr(g, f)[:3], 0.0)
    np.testing.assert_array_equal(c, g.call)
    np.testing.assert_array_equal(p, g.put)
    live = ref.greeks(3000 * W, 3100 * W, 86400, W // 2, W // 20)
    for f in FIELDS:
        assert getattr(g, f)[3] == pytest.approx(float(getattr(live, f)), rel=1e-12)


def test_scalars_and_broadcasting() -> None:
    g = greeks_f64(3000.0, 3100.0, 7 * 86400.0, 0.8, 0.05)
    for f in FIELDS:
        value = getattr(g, f)
        assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == np.float64
    want = ref.greeks(3000 * W, 3100 * W, 7 * 86400, 8 * W // 10, 5 * W // 100)
    assert float(g.call) == pytest.approx(float(want.call), rel=1e-14)
    strikes = np.linspace(2000.0, 4000.0, 5)
    times = np.array([[0.0], [86400.0]])
    c, p = price_f64(3000.0, strikes, times, 0.8, 0.05)
    assert c.shape == p.shape == (2, 5)
    np.testing.assert_array_equal(c[0], np.maximum(3000.0 - strikes, 0.0))
    gb = greeks_f64(3000.0, strikes, times, 0.8, 0.05)
    np.testing.assert_array_equal(gb.call, c)
    assert fast.YEAR_SECONDS == ref.YEAR_SECONDS


def test_tails_keep_relative_precision() -> None:
    # Far out of the money (d1 ~ -9 / +9) the value is ~1e-19 of the spot;
    # evaluating ndtr at the negative argument (never 1 - ndtr) keeps it
    # relatively accurate.  Expected relative error: ~1e-13 (the closed form
    # loses log10(|d1| / (sigma sqrt tau)) ~ 3 digits to cancellation).
    otm_call = (1000 * W, 1100 * W, 86400, W // 5, 0)
    otm_put = (1100 * W, 1000 * W, 86400, W // 5, 0)
    s, k, t, v, r = to_float([otm_call, otm_put])
    g = greeks_f64(s, k, t, v, r)
    c, p = ref.greeks(*otm_call), ref.greeks(*otm_put)
    assert 0 < float(c.call) < 1e-15 and 0 < float(p.put) < 1e-15
    assert float(g.call[0]) == pytest.approx(float(c.call), rel=1e-10)
    assert float(g.call_delta[0]) == pytest.approx(float(c.call_delta), rel=1e-10)
    assert float(g.put[1]) == pytest.approx(float(p.put), rel=1e-10)
    assert float(g.put_delta[1]) == pytest.approx(float(p.put_delta), rel=1e-10)
    assert float(g.gamma[0]) == pytest.approx(float(c.gamma), rel=1e-10)
