"""The keeper's walk toward a fit the oracle's rate limit refuses (issue 13's adverse selection: a smile that moved
more than the limit allows would otherwise never be caught up with).

When an expiry's fitted slice fails the oracle's rules only for the rate limit (it passes every rule once the
allowed step is lifted: parameters, the at-the-money and per-strike bounds, butterfly on the grid, calendar against
the neighbours), the keeper posts a slice on the way instead of re-posting the last good one. The path runs from the
re-post (the on-chain slice rescaled to the time left, what the keeper posted before the walk) to the fit:

* first :func:`reshape`: the start redrawn in the fit's m and sigma, then :func:`blend_shape`: a, b and b rho
  blended, so the total variance at every k is the same blend of the two slices' and each strike's vol moves
  monotonically toward the fit's (a raw blend of the five parameters moves m and sigma too, and its vols can go
  backwards on the way);
* if no step along it passes (the redrawn start itself too far from the start), :func:`blend`: the five parameters
  blended, ``start + lambda (target - start)``.

The step is the point of the path at the largest ``lambda = num / 2^steps`` that a fixed-length bisection finds such
that it, quantised as posts are, passes EVERY rule of the bit-exact mirror (:meth:`PostRules.check`,
``hedgevault.surface.oracle_rules.check_post``). A blend of two arbitrage-free slices need not be arbitrage-free: the
mirror decides each candidate; ``lambda = 0`` (the re-post) is the fallback with the refusal one quantum further as
its reason. Over successive posts the oracle's slice converges to the market's at the speed the rate limit allows.

The bisection keeps the invariant "``lo`` passes (or is 0), ``hi`` is refused" over ``steps`` halvings, so the
answer is deterministic and exact to one quantum (``2^-steps``): ``lo`` passes, ``lo + 1`` is refused. It does not
assume that the accepted set is an interval (a blend may fail in the middle and pass further on): it returns a
passing lambda, not necessarily the largest of all.

Units: the slices' units (``hedgevault.surface.mirror``), vols wad, times seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hedgevault.surface import mirror
from hedgevault.surface.errors import SviError
from hedgevault.surface.mirror import Slice
from hedgevault.surface.oracle_rules import (
    A_UNIT_36,
    NANO_WAD,
    Previous,
    VolAtmOutOfRule,
    VolStrikeOutOfBounds,
    check_post,
)

#: Bisection steps: lambda in multiples of 2^-20 (about 1e-6 of the way: far below a wei of vol's worth of meaning).
WALK_STEPS = 20
#: What the oracle's rules raise (the mirror's errors and the two oracle-level ones).
RULE_ERRORS = (SviError, VolAtmOutOfRule, VolStrikeOutOfBounds)


def _ceil_div(x: int, d: int) -> int:
    return -((-x) // d)


def _trunc_div(x: int, d: int) -> int:
    q = abs(x) // d
    return q if x >= 0 else -q


def _nearest_div(x: int, d: int) -> int:
    """x / d to the nearest integer, halves up (d > 0)."""
    return (2 * x + d) // (2 * d)


def blend(start: Slice, target: Slice, num: int, den: int) -> Slice:
    """``start + (target - start) num / den`` per parameter on the oracle's storage grid
    (``oracle_rules.A_UNIT_36``, ``NANO_WAD``), each rounded as ``hedgevault.surface.fit.quantise`` rounds a post: a
    up, b down (at least 0), rho toward zero, m and sigma to the nearest (sigma at least one step). ``num`` 0 gives
    ``start``, ``num == den`` gives ``target``, exactly (on the grid or not: the chain's flat slices are not)."""
    if den <= 0 or not 0 <= num <= den:
        raise ValueError(f"the blend's weight must be num / den in [0, 1], got {num} / {den}")
    if num == 0:
        return start
    if num == den:
        return target

    def exact(x0: int, x1: int) -> int:  # the blend times den, exact
        return x0 * den + (x1 - x0) * num

    nano = den * NANO_WAD
    return Slice(
        a36=_ceil_div(exact(start.a36, target.a36), den * A_UNIT_36) * A_UNIT_36,
        b_wad=max(0, exact(start.b_wad, target.b_wad) // nano) * NANO_WAD,
        rho_wad=_trunc_div(exact(start.rho_wad, target.rho_wad), nano) * NANO_WAD,
        m_wad=_nearest_div(exact(start.m_wad, target.m_wad), nano) * NANO_WAD,
        sigma_wad=max(1, _nearest_div(exact(start.sigma_wad, target.sigma_wad), nano)) * NANO_WAD,
    )


def blend_shape(start: Slice, target: Slice, num: int, den: int) -> Slice:
    """For two slices of the same m and sigma: a, b and b rho blended (``start + (target - start) num / den``), so
    the total variance w(k) = a + b rho (k - m) + b sqrt((k - m)^2 + sigma^2) is the same blend of the two slices'
    at every k (to the rounding onto the storage grid: a up, b down, rho = (b rho) / b toward zero, below 1 in
    size): each strike's vol moves monotonically from the start's to the target's. ``num`` 0 gives ``start``,
    ``num == den`` gives ``target``, exactly. Raises ``ValueError`` when m or sigma differ."""
    if (start.m_wad, start.sigma_wad) != (target.m_wad, target.sigma_wad):
        raise ValueError("blend_shape needs two slices of the same m and sigma; use blend")
    if den <= 0 or not 0 <= num <= den:
        raise ValueError(f"the blend's weight must be num / den in [0, 1], got {num} / {den}")
    if num == 0:
        return start
    if num == den:
        return target
    a_td = start.a36 * den + (target.a36 - start.a36) * num
    b_td = start.b_wad * den + (target.b_wad - start.b_wad) * num
    c0, c1 = start.b_wad * start.rho_wad, target.b_wad * target.rho_wad
    c_td = c0 * den + (c1 - c0) * num  # (b rho) den, 1e36 units
    b = max(0, b_td // (den * NANO_WAD)) * NANO_WAD
    rho = 0 if b == 0 else _trunc_div(c_td, den * b * NANO_WAD) * NANO_WAD
    rho = max(-mirror.WAD + NANO_WAD, min(mirror.WAD - NANO_WAD, rho))
    return Slice(_ceil_div(a_td, den * A_UNIT_36) * A_UNIT_36, b, rho, start.m_wad, start.sigma_wad)


Path = Callable[[Slice, Slice, int, int], Slice]


def reshape(start: Slice, target: Slice, strikes_wad: Sequence[int], forward_wad: int) -> Slice:
    """``start``'s smile redrawn in ``target``'s shape (its m and sigma): the a, b, rho nearest to ``start``'s total
    variance at the money and at the strikes (``hedgevault.surface.fit.fit_with_shape``). The walk's first point on
    the path :func:`blend_shape` to ``target``; it is ``start`` itself when the shapes agree. Unchecked (the walk
    checks every point it posts, this one included: its distance from ``start`` counts in the rate limit)."""
    if (start.m_wad, start.sigma_wad) == (target.m_wad, target.sigma_wad):
        return start
    import numpy as np

    from hedgevault.surface.fit import fit_with_shape

    ks = sorted({0, *(mirror.log_moneyness_wad(k, forward_wad) for k in strikes_wad)})
    k = np.asarray(ks, dtype=np.float64) / mirror.WAD
    w = np.asarray([mirror.variance_down(start, x) for x in ks], dtype=np.float64) / mirror.E36
    return fit_with_shape(k, w, target)


@dataclass(frozen=True)
class PostRules:
    """Everything the oracle's rules read for one expiry's post but the slice (the arguments of
    ``oracle_rules.check_post``): the neighbours already as total variance now (``oracle_rules.neighbour_now``)."""

    time_sec: int
    previous: Previous | None
    strikes_wad: tuple[int, ...]
    forward_wad: int
    allowed_step_wad: int
    reference_vol_wad: int
    max_step_wad: int
    min_vol_wad: int
    max_vol_wad: int
    grid_points: int
    nearer: Slice | None = None
    farther: Slice | None = None

    def check(self, s: Slice) -> None:
        """Raises what the oracle would revert with for ``s`` (one of :data:`RULE_ERRORS`)."""
        check_post(
            s,
            time_sec=self.time_sec,
            previous=self.previous,
            strikes_wad=self.strikes_wad,
            forward_wad=self.forward_wad,
            allowed_step_wad=self.allowed_step_wad,
            reference_vol_wad=self.reference_vol_wad,
            max_step_wad=self.max_step_wad,
            min_vol_wad=self.min_vol_wad,
            max_vol_wad=self.max_vol_wad,
            grid_points=self.grid_points,
            nearer=self.nearer,
            farther=self.farther,
        )

    def refusal(self, s: Slice) -> str | None:
        """Why the oracle would refuse ``s`` (None: it would accept it)."""
        try:
            self.check(s)
        except RULE_ERRORS as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def refused_only_for_rate(self, s: Slice) -> bool:
        """True when ``s`` is refused and would pass every rule with the rate limit lifted (any step within the
        vol bounds: ``allowed_step_wad`` = ``max_vol_wad``). Needs a previous post (a first post has no rate)."""
        if self.previous is None or self.refusal(s) is None:
            return False
        return replace(self, allowed_step_wad=self.max_vol_wad).refusal(s) is None


@dataclass(frozen=True)
class WalkStep:
    """One partial step: the slice to post, ``lambda = num / den`` of the way from the start to the target, the
    largest per-strike vol distance left between the slice and the target over the expiry's strike set (wad),
    and ``reason``: the refusal one quantum further ("" when lambda is 1)."""

    slice: Slice
    num: int
    den: int
    max_left_wad: int
    reason: str

    @property
    def lam(self) -> float:
        return self.num / self.den

    @property
    def reached(self) -> bool:
        return self.num == self.den


def max_vol_gap_wad(a: Slice, b: Slice, strikes_wad: Sequence[int], forward_wad: int, time_sec: int) -> int:
    """The largest |vol under ``a`` - vol under ``b``| at the strikes (both over ``time_sec``, at ``forward_wad``;
    the oracle's per-strike evaluation, ``SviMath.volAtLogMoneyness``), and at the money."""
    ks = {0, *(mirror.log_moneyness_wad(k, forward_wad) for k in strikes_wad)}
    return max(abs(mirror._vol_at(a, k, time_sec) - mirror._vol_at(b, k, time_sec)) for k in ks)


def walk_toward(
    start: Slice, target: Slice, rules: PostRules, *, steps: int = WALK_STEPS, path: Path = blend
) -> WalkStep:
    """The blend of ``start`` and ``target`` furthest toward the target that the rules accept, found by ``steps``
    halvings of [0, 1] (``num / 2^steps``); ``num`` 0 when no blend one quantum or more away from the start passes
    (the caller re-posts the start). The rules are asked about ``target`` first (num = den). ``path``: :func:`blend`
    (any two slices) or :func:`blend_shape` (same m and sigma: every strike's vol monotone along the way)."""
    if steps < 1:
        raise ValueError(f"the walk needs at least one bisection step, got {steps}")
    den = 1 << steps
    reason = rules.refusal(target)
    if reason is None:
        chosen, lo = target, den
    else:
        lo, hi = 0, den
        chosen = start
        while hi - lo > 1:
            mid = (lo + hi) // 2
            candidate = path(start, target, mid, den)
            why = rules.refusal(candidate)
            if why is None:
                lo, chosen = mid, candidate
            else:
                hi, reason = mid, why
    left = max_vol_gap_wad(chosen, target, rules.strikes_wad, rules.forward_wad, rules.time_sec)
    return WalkStep(chosen, lo, den, left, reason or "")
