"""The integer mirror (= the on-chain library, see tests/integration/test_differential.py):
golden vectors, parity, bounds, monotonicity, domain errors, expiry conventions and error bounds."""

from __future__ import annotations

import itertools
import random
from math import isqrt

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgevault.greeks import errors as E
from hedgevault.greeks import mirror as m
from hedgevault.greeks import reference
from hedgevault.greeks.accuracy import BOUNDS_REL, greeks_errors
from hedgevault.greeks.sampling import random_inputs

WAD = m.WAD
YEAR = m.YEAR_SECONDS

# ------------------------------------------------------------------ strategies over the domain

spots = st.integers(m.MIN_PRICE_WAD, m.MAX_PRICE_WAD)
times = st.integers(1, m.MAX_TIME_SEC)
vols = st.integers(m.MIN_VOL_WAD, m.MAX_VOL_WAD)
rates = st.integers(-m.MAX_ABS_RATE_WAD, m.MAX_ABS_RATE_WAD)


@st.composite
def valid_inputs(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    spot = draw(spots)
    lo = max(m.MIN_PRICE_WAD, -(-spot // 100))
    hi = min(m.MAX_PRICE_WAD, spot * 100)
    # log-uniform strike so deep ITM/OTM are as likely as ATM
    exp_ = draw(st.floats(min_value=0, max_value=1))
    strike = min(hi, max(lo, int(lo * (hi / lo) ** exp_)))
    return spot, strike, draw(times), draw(vols), draw(rates)


# ------------------------------------------------------------------ golden vectors


def test_hull_example_15_6() -> None:
    # Hull, Options, Futures and Other Derivatives, Example 15.6: S=42, K=40, r=10%, sigma=20%,
    # T=0.5 -> c = 4.76, p = 0.81 (printed to 2 decimals).
    g = m.greeks(42 * WAD, 40 * WAD, YEAR // 2, WAD // 5, WAD // 10)
    assert round(g.call / WAD, 2) == 4.76
    assert round(g.put / WAD, 2) == 0.81
    ref = reference.greeks(42 * WAD, 40 * WAD, YEAR // 2, WAD // 5, WAD // 10)
    with mpmath.workdps(50):
        assert abs(g.call - ref.call * WAD) <= 2  # within the 2-wei output quantum + 1e-17 x 42
        assert abs(g.put - ref.put * WAD) <= 2


def test_hull_greek_letters_example() -> None:
    # Hull, chapter "The Greek Letters": S=49, K=50, r=5%, sigma=20%, T=20 weeks (0.3846 years):
    # call 2.40, delta 0.522, gamma 0.066, vega 12.1 (per 1.00 vol), theta -4.31 per year, rho 8.91.
    g = m.greeks(49 * WAD, 50 * WAD, 12_129_231, WAD // 5, WAD // 20)
    assert round(g.call / WAD, 2) == 2.40
    assert round(g.call_delta / WAD, 3) == 0.522
    assert round(g.gamma / WAD, 3) == 0.066
    assert round(g.vega / WAD, 1) == 12.1
    assert round(g.call_theta / WAD, 2) == -4.31
    assert round(g.call_rho / WAD, 2) == 8.91


# ------------------------------------------------------------------ parity, bounds, monotonicity


@settings(max_examples=300, deadline=None)
@given(valid_inputs())
def test_parity_is_exact_and_prices_within_no_arbitrage_bounds(inp: tuple[int, int, int, int, int]) -> None:
    spot, strike, time_sec, _vol, rate = inp
    g = m.greeks(*inp)
    # put = call - S + K e^{-rT} to the wei: recover K e^{-rT} from it and check against mpmath
    kd = g.put - g.call + spot
    with mpmath.workdps(50):
        exact_kd = mpmath.mpf(strike) * mpmath.exp(-mpmath.mpf(rate) / WAD * time_sec / YEAR)
        # floor of K * D with D accurate to 2e-19 relative: within 1 wei + 2e-19 K e^{-rT}
        assert abs(kd - exact_kd) <= 1 + exact_kd * mpmath.mpf("2e-19")
    assert max(0, spot - kd) <= g.call <= spot
    assert max(0, kd - spot) <= g.put <= kd
    assert 0 <= g.call_delta <= WAD
    assert g.put_delta == g.call_delta - WAD
    assert g.gamma >= 0 and g.vega >= 0
    assert g.call_rho >= 0 >= g.put_rho


# Monotonicity holds up to the documented error bound of each side (2 wei + 1e-17 x scale each).
def _price_tol(spot: int, strike: int, time_sec: int, rate: int) -> int:
    kd = strike * float(mpmath.exp(-rate / WAD * time_sec / YEAR))
    return 4 + int(2e-17 * max(spot, kd) * 2)


@settings(max_examples=300, deadline=None)
@given(valid_inputs(), st.integers(1, 10**6))
def test_call_rises_with_spot_and_put_falls(inp: tuple[int, int, int, int, int], bump_ppm: int) -> None:
    spot, strike, time_sec, vol, rate = inp
    spot2 = spot + spot * bump_ppm // 10**8 + 1
    if spot2 > m.MAX_PRICE_WAD or strike * 100 < spot2:
        return
    c1, p1 = m.price(*inp)
    c2, p2 = m.price(spot2, strike, time_sec, vol, rate)
    tol = _price_tol(spot2, strike, time_sec, rate)
    assert c2 >= c1 - tol
    assert p2 <= p1 + tol


@settings(max_examples=300, deadline=None)
@given(valid_inputs(), st.integers(1, 10**6))
def test_prices_rise_with_volatility_and_delta_with_spot(inp: tuple[int, int, int, int, int], bump: int) -> None:
    spot, strike, time_sec, vol, rate = inp
    vol2 = min(m.MAX_VOL_WAD, vol + vol * bump // 10**7 + 1)
    c1, p1 = m.price(*inp)
    c2, p2 = m.price(spot, strike, time_sec, vol2, rate)
    tol = _price_tol(spot, strike, time_sec, rate)
    assert c2 >= c1 - tol and p2 >= p1 - tol
    spot2 = spot + spot // 1000 + 1
    if spot2 <= m.MAX_PRICE_WAD and strike * 100 >= spot2:
        d1, _ = m.delta(*inp)
        d2, _ = m.delta(spot2, strike, time_sec, vol, rate)
        assert d2 >= d1 - 2  # delta error <= 2 wei (floor + N error 1e-21)


@settings(max_examples=200, deadline=None)
@given(valid_inputs())
def test_entry_points_agree_with_the_whole_set(inp: tuple[int, int, int, int, int]) -> None:
    g = m.greeks(*inp)
    assert m.price(*inp) == (g.call, g.put)
    assert m.delta(*inp) == (g.call_delta, g.put_delta)


# ------------------------------------------------------------------ domain and expiry


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((m.MIN_PRICE_WAD - 1, WAD, YEAR, WAD, 0), E.SpotOutOfRange(m.MIN_PRICE_WAD - 1)),
        ((m.MAX_PRICE_WAD + 1, m.MAX_PRICE_WAD, YEAR, WAD, 0), E.SpotOutOfRange(m.MAX_PRICE_WAD + 1)),
        ((WAD, 0, YEAR, WAD, 0), E.StrikeOutOfRange(0)),
        ((WAD, m.MAX_PRICE_WAD + 1, YEAR, WAD, 0), E.StrikeOutOfRange(m.MAX_PRICE_WAD + 1)),
        ((WAD, 100 * WAD + 1, YEAR, WAD, 0), E.MoneynessOutOfRange(WAD, 100 * WAD + 1)),
        ((100 * WAD + 1, WAD, YEAR, WAD, 0), E.MoneynessOutOfRange(100 * WAD + 1, WAD)),
        ((WAD, WAD, YEAR, m.MIN_VOL_WAD - 1, 0), E.VolatilityOutOfRange(m.MIN_VOL_WAD - 1)),
        ((WAD, WAD, YEAR, m.MAX_VOL_WAD + 1, 0), E.VolatilityOutOfRange(m.MAX_VOL_WAD + 1)),
        ((WAD, WAD, m.MAX_TIME_SEC + 1, WAD, 0), E.TimeOutOfRange(m.MAX_TIME_SEC + 1)),
        ((WAD, WAD, YEAR, WAD, -WAD - 1), E.RateOutOfRange(-WAD - 1)),
        ((WAD, WAD, YEAR, WAD, WAD + 1), E.RateOutOfRange(WAD + 1)),
    ],
)
def test_outside_the_domain_raises_the_named_error_with_the_value(
    args: tuple[int, int, int, int, int], error: E.GreeksError
) -> None:
    for fn in (m.greeks, m.price, m.delta):
        with pytest.raises(type(error)) as info:
            fn(*args)
        assert info.value.values == error.values
        assert info.value.revert_data() == error.revert_data()


def test_domain_edges_are_inside() -> None:
    for args in [
        (m.MIN_PRICE_WAD, m.MIN_PRICE_WAD, 1, m.MIN_VOL_WAD, -WAD),
        (m.MAX_PRICE_WAD, m.MAX_PRICE_WAD, m.MAX_TIME_SEC, m.MAX_VOL_WAD, WAD),
        (m.MAX_PRICE_WAD, m.MAX_PRICE_WAD // 100, m.MAX_TIME_SEC, m.MIN_VOL_WAD, -WAD),
        (m.MIN_PRICE_WAD, m.MIN_PRICE_WAD * 100, 1, m.MAX_VOL_WAD, WAD),
    ]:
        g = m.greeks(*args)
        assert 0 <= g.call_delta <= WAD


def test_expired_conventions() -> None:
    itm = m.greeks(3 * WAD, 2 * WAD, 0, WAD, WAD // 10)
    assert itm == m.Greeks(WAD, 0, WAD, 0, 0, 0, 0, 0, 0, 0)
    otm = m.greeks(2 * WAD, 3 * WAD, 0, WAD, WAD // 10)
    assert otm == m.Greeks(0, WAD, 0, -WAD, 0, 0, 0, 0, 0, 0)
    atm = m.greeks(2 * WAD, 2 * WAD, 0, WAD, 0)
    assert atm == m.Greeks(0, 0, WAD // 2, -WAD // 2, 0, 0, 0, 0, 0, 0)


# ------------------------------------------------------------------ stated error bounds


def test_error_bounds_over_random_inputs() -> None:
    """Every output within its documented bound (hedgevault.greeks.accuracy) on 400 random inputs."""
    checked = 0
    for inp in random_inputs(600, seed=11):
        try:
            m.check_inputs(*inp)
        except E.GreeksError:
            continue
        if inp[2] == 0:
            continue
        checked += 1
        for name, err in greeks_errors(*inp).items():
            assert err.scaled <= BOUNDS_REL[name], (name, inp, err)
    assert checked > 300


# ------------------------------------------------------------------ approximations: stated bounds

Q96 = m.Q96


def _sorted_points(rng: random.Random, lo: float, hi: float, n: int) -> list[int]:
    return sorted(int(rng.uniform(lo, hi) * Q96) for _ in range(n))


def test_exp_error_and_monotonicity() -> None:
    # FixedPointMath.expQ96: relative error <= 2e-19 + 2^-95 absolute; monotone up to that error.
    rng = random.Random(1)
    xs = [*_sorted_points(rng, -67, 11, 3000), 0, -(67 << 96), 11 << 96]
    xs.sort()
    with mpmath.workdps(50):
        for x in xs:
            exact = mpmath.exp(mpmath.mpf(x) / Q96)
            assert abs(mpmath.mpf(m.exp_q96(x)) / Q96 - exact) <= exact * mpmath.mpf("2e-19") + mpmath.mpf(2) ** -95
    values = [m.exp_q96(x) for x in xs]
    for a, b, xa in zip(values, values[1:], xs, strict=False):
        assert b >= a - 2 * (a * 2 // 10**19 + 2), xa
    assert m.exp_q96(-(67 << 96) - 1) == 0


def test_ln_ratio_error_and_monotonicity() -> None:
    # FixedPointMath.lnRatioQ96: |error| <= 2e-21 |ln| + 2^-93, for ratios in [2^-7, 2^7].
    rng = random.Random(2)
    pairs = []
    for _ in range(3000):
        den = int(10 ** rng.uniform(12, 30))
        num = max(1, int(den * 10 ** rng.uniform(-2, 2)))
        pairs.append((num, den))
    pairs += [
        (10**18, 10**18),
        (10**18 + 1, 10**18),
        (10**18, 10**18 + 1),
        (10**30, 10**28),
        (10**12, 10**14),
    ]
    with mpmath.workdps(50):
        for num, den in pairs:
            exact = mpmath.log(mpmath.mpf(num) / den)
            got = mpmath.mpf(m.ln_ratio_q96(num, den)) / Q96
            assert abs(got - exact) <= abs(exact) * mpmath.mpf("2e-21") + mpmath.mpf(2) ** -93, (num, den)
    den = 10**24
    nums = sorted(int(den * 10 ** rng.uniform(-2, 2)) for _ in range(2000))
    values = [m.ln_ratio_q96(n, den) for n in nums]
    for a, b in itertools.pairwise(values):
        assert b >= a - 2 * (abs(a) * 2 // 10**21 + 8)


def test_cdf_error_symmetry_and_monotonicity() -> None:
    # NormalDist.cdfQ96: absolute error <= 1.1e-21 (largest just below 9.5, beyond which N = 1 exactly;
    # 1 - N(9.5) = 1.05e-21); N(-x) = 1 - N(x) exactly; monotone up to 2.2e-21.
    rng = random.Random(3)
    xs = _sorted_points(rng, -12, 12, 4000) + [i << 95 for i in range(-24, 25)]
    xs.sort()
    with mpmath.workdps(50):
        for x in xs:
            exact = mpmath.ncdf(mpmath.mpf(x) / Q96)
            assert abs(mpmath.mpf(m.cdf_q96(x)) / Q96 - exact) <= mpmath.mpf("1.1e-21"), x
            if x != 0:
                assert m.cdf_q96(-x) == Q96 - m.cdf_q96(x)
    tol = int(2.2e-21 * Q96) + 1
    values = [m.cdf_q96(x) for x in xs]
    for a, b in itertools.pairwise(values):
        assert b >= a - tol
    assert all(0 <= v <= Q96 for v in values)


def test_pdf_error_and_monotonicity() -> None:
    # NormalDist.pdfQ96: relative error <= 2e-19 + 2^-95 absolute (that of expQ96), 0 beyond |x| = 12;
    # non-increasing in |x| up to that error.
    rng = random.Random(4)
    xs = _sorted_points(rng, -13, 13, 3000)
    with mpmath.workdps(50):
        for x in xs:
            exact = mpmath.npdf(mpmath.mpf(x) / Q96)
            got = mpmath.mpf(m.pdf_q96(x)) / Q96
            assert abs(got - exact) <= exact * mpmath.mpf("2.5e-19") + mpmath.mpf(2) ** -94, x
    right = [m.pdf_q96(x) for x in xs if x >= 0]
    for a, b in itertools.pairwise(right):
        assert b <= a + 2 * (a // 10**18 + 2)
    assert m.pdf_q96(12 << 96) == 0 and m.pdf_q96(-(12 << 96)) == 0


def test_sqrt_is_exact_floor() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        x = rng.getrandbits(rng.randint(1, 256))
        assert m.sqrt(x) == isqrt(x)


# ------------------------------------------------------------------ implied volatility


def test_implied_vol_round_trip_hull() -> None:
    c, p = m.price(42 * WAD, 40 * WAD, YEAR // 2, WAD // 5, WAD // 10)
    for price, is_call in ((c, True), (p, False)):
        vol = m.implied_vol(price, 42 * WAD, 40 * WAD, YEAR // 2, WAD // 10, is_call)
        assert abs(vol - WAD // 5) <= 10**6  # 1e-12


def test_implied_vol_never_wrong() -> None:
    """Either within 1e-12 of the exact root for the given (integer) price, or a named revert."""
    rng = random.Random(6)
    returned = 0
    for _ in range(250):
        spot = int(10 ** rng.uniform(-5, 11) * 1e18)
        strike = int(spot * 10 ** rng.uniform(-0.3, 0.3))
        time_sec = int(10 ** rng.uniform(4, 8.4))
        vol = int(10 ** rng.uniform(-1.3, 0.5) * 1e18)
        rate = int(rng.uniform(-0.3, 0.3) * 1e18)
        is_call = rng.random() < 0.5
        ref = reference.greeks(spot, strike, time_sec, vol, rate)
        with mpmath.workdps(50):
            price = int((ref.call if is_call else ref.put) * WAD) + rng.randint(-3, 3)
        try:
            got = m.implied_vol(price, spot, strike, time_sec, rate, is_call)
        except (E.PriceOutOfBounds, E.ImpliedVolIllConditioned, E.VolatilityNotInDomain):
            continue
        exact = reference.implied_vol(price, spot, strike, time_sec, rate, is_call)
        assert exact is not None
        with mpmath.workdps(50):
            assert abs(mpmath.mpf(got) / WAD - exact) <= mpmath.mpf("1e-12"), (
                price,
                spot,
                strike,
                time_sec,
                rate,
            )
        returned += 1
    assert returned > 100  # the rest are honest reverts (ill-conditioned or outside the bounds)


def test_implied_vol_rejects_prices_outside_no_arbitrage_bounds() -> None:
    spot, strike = 100 * WAD, 90 * WAD
    with pytest.raises(E.PriceOutOfBounds):
        m.implied_vol(spot, spot, strike, YEAR, 0, True)  # call >= S
    with pytest.raises(E.PriceOutOfBounds):
        m.implied_vol(10 * WAD, spot, strike, YEAR, 0, True)  # call <= intrinsic
    with pytest.raises(E.TimeOutOfRange):
        m.implied_vol(10 * WAD, spot, strike, 0, 0, True)


def test_implied_vol_deep_itm_short_is_ill_conditioned_not_wrong() -> None:
    # Deep in-the-money, one hour: the time value is far below the price's error bound.
    spot, strike, time_sec = 3000 * WAD, 1000 * WAD, 3600
    c, _ = m.price(spot, strike, time_sec, WAD // 2, 0)
    with pytest.raises(E.PriceOutOfBounds):
        m.implied_vol(c, spot, strike, time_sec, 0, True)  # priced at exactly intrinsic
    with pytest.raises(E.ImpliedVolIllConditioned):
        m.implied_vol(c + 1, spot, strike, time_sec, 0, True)
