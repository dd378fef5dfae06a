"""Tests of the mpmath Black-Scholes reference (hedgevault.greeks.reference).

Two kinds of evidence:

* golden vectors from a textbook (Hull), matched to the printed rounding;
* first-principles identities that must hold to (nearly) the working
  precision: put-call parity, closed forms for special cases, greeks equal
  to numerical derivatives of the price, implied-vol round trips, and an
  independent high-precision evaluation of the formulas.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import mpmath
import pytest
from mpmath import mpf

from hedgevault.greeks import reference as ref
from hedgevault.greeks.reference import YEAR_SECONDS, greeks, implied_vol

W = 10**18
HP = 100  # digits the tests themselves compute and compare at
HALF_YEAR = YEAR_SECONDS // 2  # 0.5 year = 15_768_000 s exactly


@pytest.fixture(autouse=True)
def _high_precision() -> Iterator[None]:
    """Run each test at HP digits, so that literals such as mpf("1e-50") and
    the comparisons themselves are exact enough.  The module under test must
    neither depend on nor change this context."""
    with mpmath.workdps(HP):
        yield
    assert mpmath.mp.dps == 15


def wad(x: str) -> int:
    """Exact decimal string -> wad int."""
    f = Fraction(x) * W
    assert f.denominator == 1
    return int(f)


def close(a: mpf, b: mpf, rel: str) -> bool:
    with mpmath.workdps(120):
        return bool(abs(mpf(a) - mpf(b)) <= mpf(rel) * max(abs(mpf(b)), mpf("1e-300")))


# ---------------------------------------------------------------------------
# Golden vectors
# ---------------------------------------------------------------------------


def test_hull_example_15_6() -> None:
    # Hull, Options, Futures and Other Derivatives, Example 15.6:
    # S0 = 42, K = 40, r = 10 %, sigma = 20 %, T = 0.5 year
    # -> d1 = 0.7693, d2 = 0.6278, c = 4.76, p = 0.81.
    g = greeks(wad("42"), wad("40"), HALF_YEAR, wad("0.2"), wad("0.1"))
    assert round(float(g.call), 2) == 4.76
    assert round(float(g.put), 2) == 0.81
    with mpmath.workdps(60):
        tau = mpf(1) / 2
        sst = mpf("0.2") * mpmath.sqrt(tau)
        d1 = (mpmath.log(mpf(42) / 40) + (mpf("0.1") + mpf("0.02")) * tau) / sst
    assert abs(float(d1) - 0.7693) < 5e-5
    assert abs(float(d1 - sst) - 0.6278) < 5e-5


def test_hull_greeks_chapter_examples() -> None:
    # Hull, chapter "The Greek Letters" (Examples 19.1-19.7 in the 8th/9th
    # editions): S0 = 49, K = 50, r = 5 %, sigma = 20 %, T = 20 weeks
    # = 0.3846 year.  Printed: call = 2.40, delta = 0.522, theta = -4.31 per
    # year, gamma = 0.066, vega = 12.1 (per 1.00 of vol), rho = 8.91.
    # 20/52 year in whole seconds is 12_129_230.77 -> 12_129_231 s; the
    # 0.02 s rounding moves nothing at the printed precision.
    t = round(Fraction(20, 52) * YEAR_SECONDS)
    g = greeks(wad("49"), wad("50"), t, wad("0.2"), wad("0.05"))
    assert round(float(g.call), 2) == 2.40
    assert round(float(g.call_delta), 3) == 0.522
    assert round(float(g.call_theta), 2) == -4.31
    assert round(float(g.gamma), 3) == 0.066
    assert round(float(g.vega), 1) == 12.1
    assert round(float(g.call_rho), 2) == 8.91


def test_expired_convention() -> None:
    itm = greeks(wad("3000"), wad("2500"), 0, wad("0.8"), wad("0.05"))
    assert (itm.call, itm.put, itm.call_delta, itm.put_delta) == (500, 0, 1, 0)
    otm = greeks(wad("2500"), wad("3000"), 0, wad("0.8"), wad("-0.05"))
    assert (otm.call, otm.put, otm.call_delta, otm.put_delta) == (0, 500, 0, -1)
    atm = greeks(wad("3000"), wad("3000"), 0, 0, 0)  # vol irrelevant at expiry
    assert (atm.call, atm.put, atm.call_delta, atm.put_delta) == (0, 0, mpf(1) / 2, -mpf(1) / 2)
    for g in (itm, otm, atm):
        for f in ("gamma", "vega", "call_theta", "put_theta", "call_rho", "put_rho"):
            assert getattr(g, f) == 0
    assert implied_vol(wad("500"), wad("3000"), wad("2500"), 0, 0, True) is None


# ---------------------------------------------------------------------------
# First principles
# ---------------------------------------------------------------------------

# (spot, strike, time_sec, vol, rate) as exact decimal strings / seconds,
# spanning moneyness, expiries, vols and signs of the rate.
CASES = [
    ("42", "40", HALF_YEAR, "0.2", "0.1"),
    ("3000", "3100", 7 * 86400, "0.8", "0.05"),
    ("1", "1", 1, "0.001", "0"),  # near-money, 1 s, tiny vol: heavy cancellation
    ("0.000001", "0.0001", 10 * YEAR_SECONDS, "10", "-1"),
    ("1000000000000", "10000000000", 3600, "0.05", "1"),
    ("25.5", "30", 2 * YEAR_SECONDS, "1.5", "-0.02"),
]


def _wad_case(case: tuple[str, str, int, str, str]) -> tuple[int, int, int, int, int]:
    s, k, t, v, r = case
    return wad(s), wad(k), t, wad(v), wad(r)


def _natural(case: tuple[str, str, int, str, str]) -> tuple[mpf, mpf, mpf, mpf, mpf]:
    s, k, t, v, r = case
    return mpf(s), mpf(k), mpf(t) / YEAR_SECONDS, mpf(v), mpf(r)


@pytest.mark.parametrize("case", CASES)
def test_put_call_parity(case: tuple[str, str, int, str, str]) -> None:
    # C - P = S - K e^{-r tau}, exactly, for European options without
    # dividends (replication argument).
    g = greeks(*_wad_case(case))
    with mpmath.workdps(120):
        s, k, tau, _, r = _natural(case)
        rhs = s - k * mpmath.exp(-r * tau)
        scale = max(s, k * mpmath.exp(-r * tau))
        assert abs((g.call - g.put) - rhs) <= mpf("1e-40") * scale
        # Greeks of the parity identity: delta_C - delta_P = 1, equal gamma
        # and vega (same for both), theta_C - theta_P = -r K e^{-r tau},
        # rho_C - rho_P = K tau e^{-r tau}.
        assert abs(g.call_delta - g.put_delta - 1) <= mpf("1e-55")
        kd = k * mpmath.exp(-r * tau)
        assert abs(g.call_theta - g.put_theta + r * kd) <= mpf("1e-50") * (abs(g.call_theta) + abs(r * kd))
        assert abs(g.call_rho - g.put_rho - kd * tau) <= mpf("1e-50") * kd * tau


def _independent(case: tuple[str, str, int, str, str]) -> dict[str, mpf]:
    """The textbook formulas at 150 digits, via mpmath.ncdf/npdf (not the
    erfc route the module takes)."""
    with mpmath.workdps(150):
        s, k, tau, v, r = _natural(case)
        sst = v * mpmath.sqrt(tau)
        d1 = (mpmath.log(s / k) + (r + v**2 / 2) * tau) / sst
        d2 = d1 - sst
        kd = k * mpmath.exp(-r * tau)
        n, p = mpmath.ncdf, mpmath.npdf
        decay = -s * p(d1) * v / (2 * mpmath.sqrt(tau))
        return {
            "call": s * n(d1) - kd * n(d2),
            "put": kd * n(-d2) - s * n(-d1),
            "call_delta": n(d1),
            "put_delta": n(d1) - 1,
            "gamma": p(d1) / (s * sst),
            "vega": s * p(d1) * mpmath.sqrt(tau),
            "call_theta": decay - r * kd * n(d2),
            "put_theta": decay + r * kd * n(-d2),
            "call_rho": kd * tau * n(d2),
            "put_rho": -kd * tau * n(-d2),
        }


@pytest.mark.parametrize("case", CASES)
def test_fifty_significant_digits(case: tuple[str, str, int, str, str]) -> None:
    g = greeks(*_wad_case(case))
    for name, value in _independent(case).items():
        assert close(getattr(g, name), value, "1e-50"), name
    assert mpmath.mp.dps == HP  # the global context is untouched


@pytest.mark.parametrize("case", CASES[:3] + CASES[5:])
def test_greeks_are_derivatives_of_price(case: tuple[str, str, int, str, str]) -> None:
    # Central differences (mpmath.diff) of the 55+-digit reference price.
    g = greeks(*_wad_case(case))
    s, k, tau, v, r = _natural(case)

    def call(ss: mpf = s, kk: mpf = k, tt: mpf = tau, vv: mpf = v, rr: mpf = r) -> mpf:
        return ref.price_natural(ss, kk, tt, vv, rr)[0]

    def put(ss: mpf = s, kk: mpf = k, tt: mpf = tau, vv: mpf = v, rr: mpf = r) -> mpf:
        return ref.price_natural(ss, kk, tt, vv, rr)[1]

    # Steps are chosen relative to the scale on which the price varies in
    # each variable (S varies on S*sigma*sqrt(tau) for short expiries), so the
    # O(h^2) truncation error of the central difference is ~1e-30 (first
    # derivatives) / ~1e-20 (gamma) relative, and the rounding error of the
    # 55-digit price divided by h (or h^2) is below 1e-35.
    with mpmath.workdps(60):
        sst = v * mpmath.sqrt(tau)
        h_s1 = s * min(1, sst) * mpf("1e-15")
        h_s2 = s * min(1, sst) * mpf("1e-10")
        h_v, h_t = v * mpf("1e-15"), tau * mpf("1e-15")
        h_r = min(1, sst / tau) * mpf("1e-15")
        d = mpmath.diff
        checks = {
            "call_delta": d(lambda x: call(ss=x), s, h=h_s1),
            "put_delta": d(lambda x: put(ss=x), s, h=h_s1),
            "gamma": d(lambda x: call(ss=x), s, 2, h=h_s2),
            "gamma(put)": d(lambda x: put(ss=x), s, 2, h=h_s2),
            "vega": d(lambda x: call(vv=x), v, h=h_v),
            "vega(put)": d(lambda x: put(vv=x), v, h=h_v),
            # theta is per year of calendar time: -d/d(tau)
            "call_theta": -d(lambda x: call(tt=x), tau, h=h_t),
            "put_theta": -d(lambda x: put(tt=x), tau, h=h_t),
            "call_rho": d(lambda x: call(rr=x), r, h=h_r),
            "put_rho": d(lambda x: put(rr=x), r, h=h_r),
        }
    for name, value in checks.items():
        field = name.split("(")[0]
        tol = "1e-18" if field == "gamma" else "1e-25"
        assert close(value, getattr(g, field), tol), name


def test_atm_zero_rate_closed_form() -> None:
    # S = K, r = 0: d1 = -d2 = sigma sqrt(tau) / 2, so
    # C = P = S (N(d1) - N(-d1)) = S erf(sigma sqrt(tau) / (2 sqrt 2)),
    # delta = N(d1), vega = S phi(d1) sqrt(tau), rho_C = K tau N(-d1).
    t = 90 * 86400
    g = greeks(wad("2000"), wad("2000"), t, wad("0.65"), 0)
    with mpmath.workdps(80):
        tau = mpf(t) / YEAR_SECONDS
        x = mpf("0.65") * mpmath.sqrt(tau) / 2
        expected = 2000 * mpmath.erf(x / mpmath.sqrt(2))
        assert close(g.call, expected, "1e-55")
        assert close(g.put, expected, "1e-55")
        assert close(g.call_delta, mpmath.ncdf(x), "1e-55")
        assert close(g.vega, 2000 * mpmath.npdf(x) * mpmath.sqrt(tau), "1e-55")
        assert close(g.call_rho, 2000 * tau * mpmath.ncdf(-x), "1e-55")


def test_limits_in_vol() -> None:
    # sigma -> 0 (1e-6): call -> forward intrinsic max(S - K e^{-r tau}, 0).
    # sigma -> large: call -> S, put -> K e^{-r tau}.
    s, k, t, r = wad("100"), wad("90"), YEAR_SECONDS, wad("0.03")
    with mpmath.workdps(60):
        kd = 90 * mpmath.exp(-mpf("0.03"))
    low = greeks(s, k, t, 10**12, r)
    assert abs(low.call - (100 - kd)) < mpf("1e-50") and abs(low.put) < mpf("1e-50")
    high = greeks(s, k, t, wad("50"), r)
    assert abs(high.call - 100) < mpf("1e-30") and abs(high.put - kd) < mpf("1e-30")


# ---------------------------------------------------------------------------
# Implied volatility
# ---------------------------------------------------------------------------

IV_CASES = [
    ("42", "40", HALF_YEAR, "0.2", "0.1"),
    ("3000", "3100", 7 * 86400, "0.8", "0.05"),
    ("3000", "2000", 30 * 86400, "1.2", "-0.01"),
    ("1", "1.3", YEAR_SECONDS, "0.05", "0"),
    ("25.5", "30", 2 * YEAR_SECONDS, "7", "-0.02"),
]


@pytest.mark.parametrize("case", IV_CASES)
@pytest.mark.parametrize("is_call", [True, False])
def test_implied_vol_round_trip(case: tuple[str, str, int, str, str], is_call: bool) -> None:
    sw, kw, t, vw, rw = _wad_case(case)
    g = greeks(sw, kw, t, vw, rw)
    price = g.call if is_call else g.put
    price_wad = int(mpmath.floor(price * W))  # truncated to a wad: error <= 1e-18
    iv = implied_vol(price_wad, sw, kw, t, rw, is_call)
    assert iv is not None
    # (a) the returned sigma reprices the given wad exactly (to 50 digits)
    s, k, tau, v, r = _natural(case)
    c, p = ref.price_natural(s, k, tau, iv, r)
    assert close(c if is_call else p, mpf(price_wad) / W, "1e-50")
    # (b) it differs from the true sigma only by the wad truncation / vega
    assert abs(iv - v) <= mpf("1.01e-18") / g.vega


def test_implied_vol_rejects_impossible_prices() -> None:
    s, k, t, r = wad("100"), wad("100"), YEAR_SECONDS, wad("0.05")
    with mpmath.workdps(60):
        kd = 100 * mpmath.exp(-mpf("0.05")) * W  # K e^{-r tau} in wad, irrational
        kd_floor, kd_ceil = int(mpmath.floor(kd)), int(mpmath.ceil(kd))
    # at or beyond the no-arbitrage bounds
    assert implied_vol(s, s, k, t, r, True) is None  # C == S
    assert implied_vol(s + 1, s, k, t, r, True) is None
    assert implied_vol(s - kd_ceil, s, k, t, r, True) is None  # C < S - K e^{-r tau}
    assert implied_vol(0, s, k, t, r, True) is None
    assert implied_vol(0, s, k, t, r, False) is None
    assert implied_vol(kd_ceil, s, k, t, r, False) is None  # P > K e^{-r tau}
    assert implied_vol(-1, s, k, t, r, False) is None
    # inside the bounds but needing sigma > 50: a 1-second ATM option can
    # never be worth half the spot
    assert implied_vol(wad("50"), s, k, 1, 0, True) is None
    # one wei inside the bounds still resolves to a sigma in [1e-6, 50]
    iv_lo = implied_vol(s - kd_floor, s, k, t, r, True)  # C a hair above S - K e^{-r tau}
    iv_hi = implied_vol(kd_floor, s, k, t, r, False)  # P a hair below K e^{-r tau}
    assert iv_lo is not None and iv_hi is not None
    assert mpf("1e-6") < iv_lo < iv_hi < 50


def test_input_validation() -> None:
    with pytest.raises(ValueError):
        greeks(0, W, 1, W, 0)
    with pytest.raises(ValueError):
        greeks(W, -1, 1, W, 0)
    with pytest.raises(ValueError):
        greeks(W, W, -1, W, 0)
    with pytest.raises(ValueError):
        greeks(W, W, 1, 0, 0)
    with pytest.raises(TypeError):
        greeks(1.0, W, 1, W, 0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Elementary wrappers
# ---------------------------------------------------------------------------

# ln 2 to 60 significant digits (OEIS A002162).
LN2_60 = "0.693147180559945309417232121458176568075500134360255254120680"


def test_wrappers_precision() -> None:
    assert abs(ref.ln(2) - mpf(LN2_60)) < mpf("1e-59")
    with mpmath.workdps(80):
        assert abs(ref.exp(ref.ln("12345.678")) - mpf("12345.678")) < mpf("1e-54")
        assert abs(ref.sqrt(2) ** 2 - 2) < mpf("1e-58")
        assert abs(ref.exp(1) - mpmath.e) < mpf("1e-58")
    assert ref.norm_cdf(0) == mpf(1) / 2
    assert close(ref.norm_pdf(0), 1 / mpmath.sqrt(2 * mpmath.pi), "1e-58")
    with mpmath.workdps(80):
        for x in ("0.5", "1.96", "3", "12.25"):
            # N(x) + N(-x) = 1 (symmetry of the density)
            assert abs(ref.norm_cdf(x) + ref.norm_cdf("-" + x) - 1) < mpf("1e-58")
    # deep lower tail keeps relative precision: N(-40) ~ 3.66e-350
    with mpmath.workdps(100):
        assert close(ref.norm_cdf(-40), mpmath.ncdf(-40), "1e-55")
        assert close(ref.norm_pdf("-7.5"), mpmath.npdf(mpf("-7.5")), "1e-55")
    with pytest.raises(ValueError):
        ref.ln(0)
    with pytest.raises(ValueError):
        ref.sqrt(-1)
    assert mpmath.mp.dps == HP
