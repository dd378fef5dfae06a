"""The walk toward a fit the rate limit refuses (``hedgevault.surface.walk``): the blends' rounding, the bisection's
answer at its exact boundary (lambda at the limit passes, one quantum further is refused, and the compiled
``SviMath`` agrees bit for bit), the refusal of a target refused for arbitrage, and the walk on random slices never
returning a slice the mirror refuses.

Tolerances: none on the decisions (integers and revert bytes). ``blend_shape``'s total variance equals the blend of
the two slices' to the rounding of b (one wei, times |rho (k - m)| + sqrt((k - m)^2 + sigma^2) <= 12 for the
|k| <= 5 and sigma <= 5 here: 12e18 in 1e36 units), of b rho (one wei of rho times b) and of a (one unit).
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from hedgevault.surface import errors as E
from hedgevault.surface import mirror
from hedgevault.surface.mirror import WAD, Post, Slice
from hedgevault.surface.onchain import SviHarness
from hedgevault.surface.oracle_rules import A_UNIT_36, NANO_WAD, Previous, check_on_grid, on_grid, oracle_grid
from hedgevault.surface.walk import (
    WALK_STEPS,
    PostRules,
    blend,
    blend_shape,
    max_vol_gap_wad,
    reshape,
    walk_toward,
)

DAY = 86_400
T30 = 30 * DAY
F = 3000 * WAD
STRIKES = tuple(int(F * x) for x in (0.7, 0.8, 0.9, 1.0, 1.1, 1.25))
#: Every slice below on the oracle's storage grid (a36 in steps of 1e18, the others of 1e9), as posts must be.
SMILE = on_grid(Slice.from_floats(0.018, 0.12, -0.45, 0.02, 0.15))
_TILTED = Slice(SMILE.a36, 15 * WAD // 100, -9 * WAD // 10, SMILE.m_wad, SMILE.sigma_wad)
#: The market's skew jumped: b from 0.12 to 0.15 and rho from -0.45 to -0.9 (same m and sigma), a re-set to keep the
#: money's variance.
STEEP = on_grid(
    Slice(SMILE.a36 + mirror.variance_down(SMILE, 0) - mirror.variance_down(_TILTED, 0), *_TILTED.as_tuple()[1:])
)
A, N = A_UNIT_36, NANO_WAD
#: Twice the largest vol the grid's rounding of a blend can add or take at a strike here (see its use).
JITTER_WAD = 4 * 10**10
DEN = 1 << WALK_STEPS


def _rules(start: Slice | None, allowed: int, **kw: object) -> PostRules:
    base: dict[str, object] = {
        "time_sec": T30,
        "previous": None if start is None else Previous(start, T30),
        "strikes_wad": STRIKES,
        "forward_wad": F,
        "allowed_step_wad": allowed,
        "reference_vol_wad": 0,
        "max_step_wad": WAD // 20,
        "min_vol_wad": WAD // 20,
        "max_vol_wad": 3 * WAD,
        "grid_points": 24,
    }
    base.update(kw)
    return PostRules(**base)  # type: ignore[arg-type]


def test_blend_rounds_each_parameter_to_the_safe_side_and_keeps_the_ends() -> None:
    """In steps of the storage grid (A = 1e18 for a36, N = 1e9 for the others): half way, a 0.5 A -> A (up), b 0.5 N
    -> 0 (down), rho -0.5 N -> 0 (toward zero), m 0.5 N -> N and sigma 2.5 N -> 3 N (nearest, halves up)."""
    s, t = Slice(0, 0, 0, 0, 2 * N), Slice(A, N, -N, N, 3 * N)
    assert blend(s, t, 1, 2) == Slice(A, 0, 0, N, 3 * N)
    assert blend(s, Slice(0, 0, N, -N, 2 * N), 1, 2) == Slice(0, 0, 0, 0, 2 * N)  # m -0.5 N -> 0 (halves up)
    assert blend(s, Slice(-3 * A, 0, 0, 0, N), 1, 2) == Slice(-A, 0, 0, 0, 2 * N)  # a -1.5 A -> -A (up)
    # a step of a tenth of the grid still rounds to it: b 0.1 N -> 0, a 0.1 A -> A
    assert blend(s, Slice(A, N, 0, 0, 2 * N), 1, 10) == Slice(A, 0, 0, 0, 2 * N)
    assert blend(SMILE, STEEP, 0, DEN) == SMILE and blend(SMILE, STEEP, DEN, DEN) == STEEP
    # the ends exactly even off the grid (a flat slice read back from the chain: a36 to the unit), between them on it
    flat = mirror.flat_slice(8 * WAD // 10, T30)
    assert flat.a36 % A and blend(flat, STEEP, 0, DEN) == flat and blend(STEEP, flat, DEN, DEN) == flat
    for path in (blend, blend_shape):
        check_on_grid(path(SMILE, STEEP, DEN // 3, DEN))
    check_on_grid(blend(flat, STEEP, DEN // 3, DEN))
    with pytest.raises(ValueError):
        blend(SMILE, STEEP, DEN + 1, DEN)


def test_blend_shape_is_the_blend_of_the_total_variances_and_moves_every_vol_monotonically() -> None:
    assert blend_shape(SMILE, STEEP, 0, DEN) == SMILE and blend_shape(SMILE, STEEP, DEN, DEN) == STEEP
    with pytest.raises(ValueError):
        blend_shape(SMILE, Slice(SMILE.a36, SMILE.b_wad, SMILE.rho_wad, SMILE.m_wad + 1, SMILE.sigma_wad), 1, 2)
    ks = [mirror.log_moneyness_wad(k, F) for k in STRIKES]
    previous = [mirror._vol_at(SMILE, k, T30) for k in ks]
    for num in range(1, 17):
        b = blend_shape(SMILE, STEEP, num * DEN // 16, DEN)
        for j, k in enumerate(ks):
            w0, w1, got = (mirror.variance_down(x, k) for x in (SMILE, STEEP, b))
            want = w0 + (w1 - w0) * num // 16
            # the grid: a up by < A, b down by < N (times (rho d + r) < 1), b rho toward zero by < b N
            assert abs(got - want) <= A + 2 * N * WAD, (num, k)
            v = mirror._vol_at(b, k, T30)
            toward = 1 if mirror._vol_at(STEEP, k, T30) >= previous[j] else -1
            # monotone to the grid's rounding: w within A + 2 N WAD (2e-9) of the blend, so the vol within
            # 2e-9 / (2 v T) < 2e-8 (v > 0.6, T 30 days) of it; a strike whose vol hardly moves (the money: STEEP
            # keeps its variance) may step back by that much
            assert (v - previous[j]) * toward >= -JITTER_WAD, f"strike {j} moved away at {num}/16"
            previous[j] = v


def test_reshape_redraws_the_start_in_the_targets_shape() -> None:
    """A nearby shape (m 0.02 -> 0.03, sigma 0.15 -> 0.17) redraws the smile within 0.2 points at every strike (the
    hop counts in the first step's rate limit); a distant one (m 0.05, sigma 0.25) only within 1.5 points: then the
    first step may be refused and the keeper walks the parameters' blend instead (``SurfacePoster._walk``)."""
    near = Slice.from_floats(0.015, 0.13, -0.5, 0.03, 0.17)
    r = reshape(SMILE, near, STRIKES, F)
    assert (r.m_wad, r.sigma_wad) == (near.m_wad, near.sigma_wad)
    assert max_vol_gap_wad(r, SMILE, STRIKES, F, T30) < WAD // 500
    far = reshape(SMILE, Slice.from_floats(0.01, 0.2, -0.6, 0.05, 0.25), STRIKES, F)
    assert WAD // 500 < max_vol_gap_wad(far, SMILE, STRIKES, F, T30) < 15 * WAD // 1000
    assert reshape(SMILE, STEEP, STRIKES, F) is SMILE  # same shape: the start itself


def test_the_walk_stops_exactly_at_the_limit_and_one_quantum_further_is_refused(svi: SviHarness) -> None:
    """The allowed step set to the largest per-strike move of the blend at lambda = L exactly: the walk answers L
    (vols are monotone in lambda along ``blend_shape``, and one quantum moves the binding strike by ~1e11 wei);
    with one wei less it answers below L. The compiled SviMath gives the same verdicts (rate limit at the strikes,
    arbitrage on the oracle's grid)."""
    lam = 3 * DEN // 10 | 1  # odd: a bisection one halving short answers an even num (SW4)
    at = blend_shape(SMILE, STEEP, lam, DEN)
    allowed = max_vol_gap_wad(at, SMILE, STRIKES, F, T30)
    step = walk_toward(SMILE, STEEP, _rules(SMILE, allowed), path=blend_shape)
    assert step.num == lam and step.slice == at and not step.reached
    assert step.reason.startswith("SviVolStepExceeded")
    assert step.max_left_wad == max_vol_gap_wad(at, STEEP, STRIKES, F, T30) > 0
    past = blend_shape(SMILE, STEEP, lam + 1, DEN)
    assert _rules(SMILE, allowed).refusal(past) is not None
    below = walk_toward(SMILE, STEEP, _rules(SMILE, allowed - 1), path=blend_shape)
    assert below.num < lam
    grid = oracle_grid(STRIKES, F, 24)
    posts = [Post(x, grid, None, None, SMILE, T30, T30, STRIKES, F, allowed) for x in (at, past)]
    got = svi.check_post(posts)
    assert got[0] == b"" and got[1][:4] == E.SviVolStepExceeded.selector()


def test_a_target_within_the_step_is_posted_whole() -> None:
    gap = max_vol_gap_wad(SMILE, STEEP, STRIKES, F, T30)
    step = walk_toward(SMILE, STEEP, _rules(SMILE, gap), path=blend_shape)
    assert step.reached and step.slice == STEEP and step.max_left_wad == 0 and step.reason == ""


def test_a_target_refused_for_arbitrage_is_not_walked_toward() -> None:
    gap = max_vol_gap_wad(SMILE, STEEP, STRIKES, F, T30)
    rules = _rules(SMILE, gap // 4)
    assert rules.refused_only_for_rate(STEEP)
    # a farther expiry whose total variance is below the target's at the put wing: calendar arbitrage as well
    k_lo = mirror.log_moneyness_wad(STRIKES[0], F)
    excess = mirror.variance_down(STEEP, k_lo) - mirror.variance_down(SMILE, k_lo)
    farther = Slice(SMILE.a36 + excess // 2, SMILE.b_wad, SMILE.rho_wad, SMILE.m_wad, SMILE.sigma_wad)
    with_farther = _rules(SMILE, gap // 4, farther=farther)
    assert with_farther.refusal(SMILE) is None, "the start itself is free of arbitrage against it"
    assert "SviCalendarArbitrage" in (_rules(SMILE, WAD, farther=farther).refusal(STEEP) or "")
    assert not with_farther.refused_only_for_rate(STEEP)
    # a part of the way would pass (what the keeper must not post: the fit is not there to be walked to)
    assert walk_toward(SMILE, STEEP, with_farther, path=blend_shape).num > 0
    # butterfly arbitrage: the target's wings too steep for its curvature
    bad = Slice(SMILE.a36, 2 * WAD // 3, -WAD * 99 // 100, SMILE.m_wad, WAD // 100)
    assert not _rules(SMILE, gap // 4).refused_only_for_rate(bad)
    # wrong or manipulated quotes: a fit whose put wing is beyond the oracle's maximum vol (set just below it) is
    # refused for the per-strike bound, not only the rate: not walked toward either
    wing = mirror._vol_at(STEEP, k_lo, T30)
    capped = _rules(SMILE, gap // 4, max_vol_wad=wing - 1)
    assert "VolStrikeOutOfBounds" in (replace(capped, allowed_step_wad=WAD).refusal(STEEP) or "")
    assert capped.refusal(SMILE) is None and not capped.refused_only_for_rate(STEEP)
    # no previous post: no rate limit to walk under
    assert not _rules(None, 0).refused_only_for_rate(STEEP)


def test_the_walk_never_returns_a_slice_the_rules_refuse_on_random_slices() -> None:
    """200 random pairs (seeded): starts and targets from random skews and levels around SMILE, random allowed
    steps; both paths. Invariants: a step (num > 0) passes every rule; num < den means one quantum further is
    refused."""
    rng = random.Random(13)
    walked = 0
    for _ in range(200):

        def draw() -> Slice:
            return on_grid(
                Slice.from_floats(
                    rng.uniform(0.005, 0.03),
                    rng.uniform(0.02, 0.3),
                    rng.uniform(-0.95, 0.3),
                    rng.uniform(-0.1, 0.1),
                    rng.uniform(0.05, 0.4),
                )
            )

        start, target = draw(), draw()
        rules = _rules(start, rng.randrange(WAD // 1000, WAD // 20))
        if rules.refusal(start) is not None:
            continue
        for path in (blend, blend_shape):
            t = target if path is blend else reshape(target, start, STRIKES, F)
            step = walk_toward(start, t, rules, path=path, steps=12)
            if step.num > 0:
                walked += 1
                assert rules.refusal(step.slice) is None
            if step.num < step.den:
                assert rules.refusal(path(start, t, step.num + 1, step.den)) is not None
    assert walked > 100
