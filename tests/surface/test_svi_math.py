"""``SviMath`` (issue 13, foundation) through ``SviHarness`` on Anvil against the mirror
(``hedgevault.surface.mirror``): golden values of w(k) and of each check, every error constructed on purpose with
its figures, each decision at its exact boundary, the soundness of the conservative rounding (a slice that passes
has no arbitrage at the grid's points, in 50-digit arithmetic), and the mirror on a few thousand random inputs.

Differential tolerance: none. Each outcome is the same integer, or the same revert bytes. The 100,000-input run is
``bench/bench_svi_mirror.py``.
"""

from __future__ import annotations

import math
from collections import Counter

import mpmath
import numpy as np
import pytest

from hedgevault.surface import errors as E
from hedgevault.surface import mirror, sampling
from hedgevault.surface.mirror import E36, WAD, Grid, Post, Slice
from hedgevault.surface.onchain import SviHarness

DAY = 86_400
T30 = 30 * DAY
F = 3000 * WAD
STRIKES = tuple(int(F * x) for x in (0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5))
# a realistic 30-day ETH smile: ATM vol ~60%, put skew
SMILE = Slice.from_floats(0.018, 0.12, -0.45, 0.02, 0.15)
GRID = Grid(-WAD // 2, WAD // 2, 32)


def _post_outcome(p: Post) -> bytes:
    try:
        mirror.check_post(p)
    except E.SviError as exc:
        return exc.revert_data()
    return b""


def _both_post(svi: SviHarness, p: Post) -> bytes:
    """The contract's outcome, asserted equal to the mirror's."""
    (got,) = svi.check_post([p])
    assert got == _post_outcome(p)
    return got


def _post(s: Slice, **kw: object) -> Post:
    base: dict[str, object] = {
        "slice": s,
        "grid": GRID,
        "nearer": None,
        "farther": None,
        "previous": s,
        "previous_time_sec": T30,
        "time_sec": T30,
        "strikes_wad": STRIKES,
        "forward_wad": F,
        "max_step_wad": 0,
    }
    base.update(kw)
    return Post(**base)  # type: ignore[arg-type]


def _error(svi: SviHarness, p: Post) -> E.SviError:
    with pytest.raises(E.SviError) as info:
        mirror.check_post(p)
    assert _both_post(svi, p) == info.value.revert_data()
    return info.value


# ----------------------------------------------------------------------------- golden values


def test_golden_total_variance(svi: SviHarness) -> None:
    """Hand-computed w(k): a = 0.04, b = 0.1, sigma = 0.1, m = 0. At k = 0 the root is exact (0.1): w = 0.05. At
    k = 0.1, r = floor(sqrt(2e34)) = 141421356237309504 (wad): w = 0.04 + 0.1 (rho 0.1 + r)."""
    flat_rho = Slice(4 * 10**34, 10**17, 0, 0, 10**17)
    skew = Slice(4 * 10**34, 10**17, -(5 * 10**17), 0, 10**17)
    r = 141421356237309504
    assert r == math.isqrt(2 * 10**34)
    cases = [
        (flat_rho, 0, 5 * 10**34),
        (flat_rho, 10**17, 4 * 10**34 + 10**17 * r),
        (skew, 10**17, 4 * 10**34 + (10**17 * (r * WAD - 5 * 10**34)) // WAD),
        (skew, -(10**17), 4 * 10**34 + (10**17 * (r * WAD + 5 * 10**34)) // WAD),
    ]
    got = svi.variance([c[0] for c in cases], [c[1] for c in cases])
    assert got == [c[2] for c in cases] == [mirror.variance_down(s, k) for s, k, _ in cases]
    assert got[2] == 49142135623730950400000000000000000


def test_flat_slice_gives_exactly_the_flat_vol(svi: SviHarness) -> None:
    """b = 0, a = ceil(v^2 T / year): every strike's vol is v itself, to the wei, over vols and times from the
    smallest to the largest (1 s .. 10 years)."""
    rng = np.random.default_rng(7)
    inputs = []
    want = []
    for _ in range(400):
        v = int(10 ** rng.uniform(15, 19))
        t = int(rng.choice([1, 59, 3600, DAY, T30, 365 * DAY, mirror.MAX_TIME_SEC, int(rng.integers(1, 10**8))]))
        flat = mirror.flat_slice(v, t)
        strike = int(F * math.exp(float(rng.uniform(-4.5, 4.5))))
        inputs.append((flat, strike, F, t))
        want.append(v)
    assert [svi.flat_slice(v, inp[3]) for v, inp in zip(want[:20], inputs, strict=False)] == [i[0] for i in inputs[:20]]
    assert [mirror.vol_wad(*inp) for inp in inputs] == want
    assert svi.vol(inputs) == want


def test_smile_vols_and_errors_of_evaluation(svi: SviHarness) -> None:
    """The smile's vols (golden to 1e-12 against a float evaluation of the same formula), and the evaluation's
    errors with their figures."""
    vols = svi.vol([(SMILE, k, F, T30) for k in STRIKES])
    a, b, rho, m, sig = SMILE.to_floats()
    for k, v in zip(STRIKES, vols, strict=True):
        x = math.log(k / F)
        w = a + b * (rho * (x - m) + math.sqrt((x - m) ** 2 + sig**2))
        assert isinstance(v, int)
        assert abs(v / WAD - math.sqrt(w / (T30 / mirror.YEAR_SEC))) < 1e-12
    assert vols[0] > vols[3] and vols[-1] > vols[4]  # a smile with a put skew
    bad = [
        (SMILE, F, F, 0),
        (SMILE, F, F, mirror.MAX_TIME_SEC + 1),
        (SMILE, F * 101, F, T30),
        (SMILE, 10**12 - 1, 10**12 - 1, T30),
        (Slice(-(10**30), 0, 0, 0, WAD), F, F, T30),
        (Slice(-(10**34), 10**17, 0, 0, 10**17), F, F, T30),  # w(0) = -0.01 + 0.01 = 0
    ]
    got = svi.vol(bad)
    want: list[int | bytes] = []
    for inp in bad:
        with pytest.raises(E.SviError) as info:
            mirror.vol_wad(*inp)
        want.append(info.value.revert_data())
    assert got == want
    assert [type(mirror_err(i)).__name__ for i in bad] == [
        "SviTimeOutOfRange",
        "SviTimeOutOfRange",
        "SviMoneynessOutOfRange",
        "SviMoneynessOutOfRange",
        "SviVarianceNotPositive",
        "SviVarianceNotPositive",
    ]


def mirror_err(inp: tuple[Slice, int, int, int]) -> E.SviError:
    try:
        mirror.vol_wad(*inp)
    except E.SviError as exc:
        return exc
    raise AssertionError(f"{inp} did not revert")


# ----------------------------------------------------------------------------- parameter checks


def test_each_parameter_error_with_its_figure(svi: SviHarness) -> None:
    cases: list[tuple[Slice, type[E.SviError], tuple[object, ...]]] = [
        (Slice(0, -1, 0, 0, WAD), E.SviBNegative, (-1,)),
        (Slice(0, 0, WAD, 0, WAD), E.SviRhoOutOfRange, (WAD,)),
        (Slice(0, 0, -WAD, 0, WAD), E.SviRhoOutOfRange, (-WAD,)),
        (Slice(0, 0, 0, 0, 0), E.SviSigmaNotPositive, (0,)),
        (Slice(100 * E36 + 1, 0, 0, 0, WAD), E.SviParamOutOfDomain, (b"a36".ljust(32, b"\0"), 100 * E36 + 1)),
        (Slice(0, 10 * WAD + 1, 0, 0, WAD), E.SviParamOutOfDomain, (b"bWad".ljust(32, b"\0"), 10 * WAD + 1)),
        (Slice(0, 0, 0, -5 * WAD - 1, WAD), E.SviParamOutOfDomain, (b"mWad".ljust(32, b"\0"), -5 * WAD - 1)),
        (Slice(0, 0, 0, 0, 10**9 - 1), E.SviParamOutOfDomain, (b"sigmaWad".ljust(32, b"\0"), 10**9 - 1)),
        # Lee: b (1 + |rho|) = 2 exactly passes (below); one wei of b more fails, slope rounded up
        (
            Slice(E36, 4 * WAD // 3 + 1, WAD // 2, 0, WAD),
            E.SviLeeBoundExceeded,
            (4 * WAD // 3 + 1, WAD // 2, 2 * WAD + 1),
        ),
        (Slice(-(10**35) - 1, 10**17, 0, 0, WAD), E.SviMinVarianceNegative, (-1,)),
    ]
    got = svi.check_params([c[0] for c in cases])
    for (s, cls, fields), g in zip(cases, got, strict=True):
        with pytest.raises(cls) as info:
            mirror.check_params(s)
        assert g == info.value.revert_data()
        assert info.value.values[: len(fields)] == fields
    # the exact boundaries pass: b (1 + |rho|) = 2 with rho = -0.5 and b = 4/3 * (1 - 1 wei ...) exactly 2e36
    lee_exact = Slice(E36, 2 * 10**18, 0, 0, WAD)  # b = 2, rho = 0: slope exactly 2
    min_var_zero = Slice(-(10**35), 10**17, 0, 0, WAD)  # a + b sigma = 0 exactly
    assert svi.check_params([lee_exact, min_var_zero, SMILE]) == [b"", b"", b""]


# ----------------------------------------------------------------------------- arbitrage checks


def test_butterfly_arbitrage_constructed_and_refused(svi: SviHarness) -> None:
    """Steep wings at a tiny level (a = 0.001, b = 1, rho = -0.9, sigma = 0.05) satisfy every parameter bound but
    not Gatheral's g on the put wing: refused at the first grid point where g < 0, with g's figure; the realistic
    smile passes."""
    s = Slice.from_floats(0.001, 1.0, -0.9, 0.0, 0.05)
    mirror.check_params(s)
    err = _error(svi, _post(s, grid=Grid(-WAD, WAD, 21), max_step_wad=10 * WAD))
    assert isinstance(err, E.SviButterflyArbitrage)
    # golden: the first grid point, g's lower bound -0.447 (a 50-digit evaluation gives the same to 1e-15)
    assert err.values == (-WAD, -446978933699626330)
    assert abs(float(_g_exact(s, -WAD)) - (-0.446978933699626330)) < 1e-15
    assert _both_post(svi, _post(SMILE)) == b""


def test_calendar_arbitrage_against_each_neighbour(svi: SviHarness) -> None:
    """A nearer expiry whose variance exceeds this one's somewhere on the grid, and a farther one below it, are
    refused with both figures. The check is conservative: r = sqrt(.) is known to one wei, so w to b x 1e-36 (a
    unit of 1e-36 per wei of b), and two slices closer than that are refused even in the right order; b + 2 units
    apart they pass."""
    below = Slice(SMILE.a36 - 1, *SMILE.as_tuple()[1:])
    above = Slice(SMILE.a36 + 1, *SMILE.as_tuple()[1:])
    err = _error(svi, _post(SMILE, nearer=above))
    assert isinstance(err, E.SviCalendarArbitrage) and err.values[0] == GRID.k_lo_wad
    err = _error(svi, _post(SMILE, farther=below))
    assert isinstance(err, E.SviCalendarArbitrage)
    gap = SMILE.b_wad + 2
    for too_close in (Slice(SMILE.a36 - gap + 3, *SMILE.as_tuple()[1:]),):
        assert isinstance(_error(svi, _post(SMILE, nearer=too_close)), E.SviCalendarArbitrage)
    ok_near = Slice(SMILE.a36 - gap, *SMILE.as_tuple()[1:])
    ok_far = Slice(SMILE.a36 + gap, *SMILE.as_tuple()[1:])
    assert _both_post(svi, _post(SMILE, nearer=ok_near, farther=ok_far)) == b""
    # a flat nearer expiry at 70% (the smile is ~67% at the money, more in the wings): crossing mid-grid
    flat_high = mirror.flat_slice(7 * WAD // 10, T30)
    err = _error(svi, _post(SMILE, nearer=flat_high))
    assert isinstance(err, E.SviCalendarArbitrage)
    near_hi, far_lo = err.values[1], err.values[2]
    assert isinstance(near_hi, int) and isinstance(far_lo, int) and near_hi > far_lo


def test_calendar_bound_without_the_root_rounds_up_next_to_m(svi: SviHarness) -> None:
    """Where the nearer slice's root-free bound (r = |d| + sigma) equals the exact root's ceiling - one wei from
    its m, sigma at its floor (1e-9): sqrt(1 + 1e18) rounds up to 1e9 + 1 = |d| + sigma - the bound must round
    up as the exact check does: with the posted (flat) variance one unit below, refused at that point; at the
    bound, accepted. Rounded down, the bound would pass it (mutant S15)."""
    grid = Grid(0, 1, 2)  # k = 0 (d = 1 from m = -1 wei) and k = 1 wei (d = 2)
    nearer = Slice(4 * 10**34, 10**17, -(5 * 10**17) + 1, -1, mirror.MIN_SIGMA_WAD)
    assert (nearer.b_wad * nearer.rho_wad) % WAD != 0  # the bound's rounding matters at k = 0
    d, r_lo, r_hi = mirror._root(nearer, 0)
    assert (d, r_hi) == (1, abs(d) + nearer.sigma_wad) and r_lo + 1 == r_hi
    bound = mirror.variance_bounds(nearer, 0)[1]  # the exact ceiling; the nearer's largest on the grid (rho < 0)
    assert mirror.variance_bounds(nearer, 1)[1] < bound
    below = Slice(bound - 1, 0, 0, 0, 10**17)
    err = _error(svi, _post(below, grid=grid, nearer=nearer, previous=below))
    assert isinstance(err, E.SviCalendarArbitrage) and err.values == (0, bound, bound - 1)
    at = Slice(bound, 0, 0, 0, 10**17)
    assert _both_post(svi, _post(at, grid=grid, nearer=nearer, previous=at)) == b""


def test_rate_limit_at_every_listed_strike(svi: SviHarness) -> None:
    """The previous slice is the smile; the new one tilts the skew. The step the rule allows is the largest move
    over the listed strikes: at that step the post passes, one wei less it fails at the strike that moved most."""
    tilted = Slice.from_floats(0.018, 0.12, -0.55, 0.02, 0.15)
    moves = [abs(mirror.vol_wad(tilted, k, F, T30) - mirror.vol_wad(SMILE, k, F, T30 + 3600)) for k in STRIKES]
    worst = max(moves)
    p = _post(tilted, previous=SMILE, previous_time_sec=T30 + 3600, max_step_wad=worst)
    assert _both_post(svi, p) == b""
    err = _error(svi, _post(tilted, previous=SMILE, previous_time_sec=T30 + 3600, max_step_wad=worst - 1))
    assert isinstance(err, E.SviVolStepExceeded)
    assert err.values[0] == moves.index(worst) and err.values[3] == worst - 1
    # the ATM-only limit would not see it: the money strike moves less than the wings
    assert moves[STRIKES.index(F)] < worst


def test_grid_errors(svi: SviHarness) -> None:
    for g in (Grid(0, WAD, 1), Grid(0, WAD, 65), Grid(WAD, WAD, 8), Grid(-5 * WAD - 1, 0, 8), Grid(0, 5 * WAD + 1, 8)):
        err = _error(svi, _post(SMILE, grid=g))
        assert isinstance(err, E.SviGridInvalid) and err.values == g.as_tuple()
    # the widest grid is valid: whatever it finds, contract and mirror agree
    _both_post(svi, _post(SMILE, grid=Grid(-5 * WAD, 5 * WAD, 64)))


# ----------------------------------------------------------------------------- rounding soundness


def _g_exact(s: Slice, k: int) -> mpmath.mpf:
    mpmath.mp.dps = 50
    a, b, rho, m, sig = (mpmath.mpf(x) for x in s.as_tuple())
    a, b, rho, m, sig = a / E36, b / WAD, rho / WAD, m / WAD, sig / WAD
    x = mpmath.mpf(k) / WAD
    d = x - m
    r = mpmath.sqrt(d * d + sig * sig)
    w = a + b * (rho * d + r)
    w1 = b * (rho + d / r)
    w2 = b * sig * sig / r**3
    return (1 - x * w1 / (2 * w)) ** 2 - w1 * w1 / 4 * (1 / w + mpmath.mpf(1) / 4) + w2 / 2


def test_a_slice_that_passes_has_no_butterfly_at_the_grid_points() -> None:
    """VS_BUTTERFLY_SOUND: for random slices that pass the check, Gatheral's g in 50-digit arithmetic is >= 0 at
    every grid point; and the check is tight: where the exact g is above 1e-12 everywhere it passes."""
    rng = np.random.default_rng(11)
    passed = refused = 0
    for _ in range(300):
        s = sampling.random_slice(rng, float(rng.uniform(0.01, 1.5)), invalid_share=0.0)
        try:
            mirror.check_params(s)
        except E.SviError:
            continue
        grid = Grid(-WAD, WAD // 2, 16)
        exact = [_g_exact(s, k) for k in grid.ks()]
        try:
            mirror.check_arbitrage(s, grid)
        except (E.SviButterflyArbitrage, E.SviVarianceNotPositive):
            refused += 1
            assert min(exact) < 1e-12, "VS_BUTTERFLY_TIGHT: refused a slice clear of the boundary"
            continue
        passed += 1
        assert min(exact) >= 0, "VS_BUTTERFLY_SOUND: passed a slice with g < 0 on the grid"
    assert passed > 50 and refused > 10


# ----------------------------------------------------------------------------- the mirror


def test_exact_roots(svi: SviHarness) -> None:
    """FixedPointMath.sqrt (every uint256) and the root of w are floor(sqrt) exactly, perfect squares +- 1 included."""
    rng = np.random.default_rng(3)
    xs = [int(10 ** rng.uniform(0, 57)) for _ in range(600)]
    xs += [n * n + e for n in (1, 2, 3, 10**18, 2**64 - 1, 2**80 - 1) for e in (-1, 0, 1) if n * n + e >= 0]
    xs += [2**160 - 1, 2**191, 2**192 - 1, 0]
    # FixedPointMath.sqrt: every uint256
    xs += [n * n + e for n in (2**127, 2**128 - 1) for e in (-1, 0, 1)] + [2**255, 2**256 - 1]
    xs += [int(10 ** rng.uniform(57, 77)) for _ in range(200)]
    assert svi.sqrt_floor(xs) == [math.isqrt(x) for x in xs]
    ds = [int(rng.choice([-1, 1])) * int(10 ** rng.uniform(0, 19)) for _ in range(600)] + [0, 10**19, -(10**19)]
    sigmas = [int(10 ** rng.uniform(9, 18.7)) for _ in range(len(ds) - 3)] + [10**9, 5 * WAD, 5 * WAD]
    assert svi.hypot_floor(ds, sigmas) == [mirror.hypot_floor(d, s) for d, s in zip(ds, sigmas, strict=True)]


def test_mirror_matches_on_random_posts(svi: SviHarness) -> None:
    """2,000 random posts (valid and invalid, aimed at every boundary): the same revert bytes, and every check
    both accepts and refuses somewhere in the sample."""
    posts = sampling.random_posts(2000, seed=101)
    kinds: Counter[str] = Counter()
    for offset in range(0, len(posts), 250):
        chunk = posts[offset : offset + 250]
        for p, got in zip(chunk, svi.check_post(chunk), strict=True):
            assert got == _post_outcome(p), p
            kinds[
                next((e.__name__ for e in E.ALL_ERRORS if got[:4] == e.selector()), "passed") if got else "passed"
            ] += 1
    for name in (
        "passed",
        "SviBNegative",
        "SviRhoOutOfRange",
        "SviSigmaNotPositive",
        "SviParamOutOfDomain",
        "SviLeeBoundExceeded",
        "SviMinVarianceNegative",
        "SviGridInvalid",
        "SviButterflyArbitrage",
        "SviCalendarArbitrage",
        "SviVolStepExceeded",
    ):
        assert kinds[name] > 0, (name, kinds)


def test_mirror_matches_on_random_evaluations(svi: SviHarness) -> None:
    inputs = sampling.random_vol_inputs(3000, seed=202)
    for offset in range(0, len(inputs), 500):
        chunk = inputs[offset : offset + 500]
        for inp, got in zip(chunk, svi.vol(chunk), strict=True):
            try:
                want: int | bytes = mirror.vol_wad(*inp)
            except E.SviError as exc:
                want = exc.revert_data()
            assert got == want, inp
