"""The volatility oracle's rate rule in Python: what a post of one expiry may be now.

``VolatilityOracle.postVol`` accepts a post of an expiry posted before only at least ``minIntervalSec``
after that post, and only within ``allowedStepWad`` of it (``IVolatilityOracle``). ``plan_vol_post`` mirrors
that check and turns a wanted volatility (the target) into what may be posted now: the target itself, the
target clipped to the allowed step (toward the target), or nothing yet. The keeper's ``OracleUpdater`` (and
through it the simulator) posts only what it says. The first post of an expiry is not rate limited, but it
must be within ``maxStepWad`` of the oracle's latest post of any expiry (``referenceVolWad``; none before the
oracle's first post).

Units: volatilities are annual in wad (1e18 = 100%), times unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgevault.params import VolParams

HOUR_SEC = 3600


def allowed_step_wad(params: VolParams, elapsed_sec: int) -> int:
    """The largest |change| a post ``elapsed_sec`` after the previous one may make (rounded down)."""
    # Solidity (VolatilityOracle._allowedStepWadDown):
    #   rateStepWad = uint256(p.maxRatePerHourWad) * elapsedSec / 1 hours;
    #   return rateStepWad < p.maxStepWad ? rateStepWad : p.maxStepWad;
    return min(params.max_step_wad, params.max_rate_per_hour_wad * elapsed_sec // HOUR_SEC)


@dataclass(frozen=True)
class VolPostPlan:
    """What to post for one expiry now: ``vol_wad`` (None: nothing may be posted yet), the ``target_wad`` it
    was asked for, the ``allowed_step_wad`` (None for a first post) and ``reason`` ("" when the target is
    posted as asked; else why it is clipped or held)."""

    vol_wad: int | None
    target_wad: int
    allowed_step_wad: int | None
    reason: str

    @property
    def clipped(self) -> bool:
        return self.vol_wad is not None and self.vol_wad != self.target_wad

    @property
    def held(self) -> bool:
        return self.vol_wad is None


def plan_vol_post(
    target_wad: int,
    *,
    last_vol_wad: int,
    last_updated_at: int,
    now_sec: int,
    params: VolParams,
    reference_vol_wad: int = 0,
) -> VolPostPlan:
    """The post of ``target_wad`` allowed at ``now_sec`` after the expiry's last post (``lastPost``: vol and
    time, (0, 0) if none). ``now_sec`` should be the head block's time: the allowed step only grows with
    time, so a post planned on it is still accepted when mined in a later block. ``reference_vol_wad`` is the
    oracle's ``referenceVolWad()`` (its latest post of any expiry), which bounds a first post."""
    if last_updated_at == 0:
        # Solidity (VolatilityOracle.postVol, first post of an expiry):
        #   if (reference_ != 0 && |newVolWad - reference_| > p.maxStepWad) revert VolFirstPostTooFar(...)
        if reference_vol_wad == 0 or abs(target_wad - reference_vol_wad) <= params.max_step_wad:
            return VolPostPlan(target_wad, target_wad, None, "")
        step = params.max_step_wad
        return VolPostPlan(
            _toward(reference_vol_wad, target_wad, step),
            target_wad,
            step,
            f"clipped: the first post of an expiry must be within {step} of the oracle's latest post "
            f"{reference_vol_wad}; target {target_wad}",
        )
    elapsed = now_sec - last_updated_at
    # Solidity (VolatilityOracle.postVol):
    #   if (elapsedSec < p.minIntervalSec) revert VolPostTooSoon(expiry, last.updatedAt, p.minIntervalSec);
    if elapsed < params.min_interval_sec:
        return VolPostPlan(
            None,
            target_wad,
            0,
            f"too soon: {elapsed} s since the last post at {last_updated_at}, the oracle's minimum interval is "
            f"{params.min_interval_sec} s",
        )
    allowed = allowed_step_wad(params, elapsed)
    #   if (|newVolWad - previous| > allowedStepWad) revert VolRateExceeded(previous, newVolWad, allowedStepWad);
    if abs(target_wad - last_vol_wad) <= allowed:
        return VolPostPlan(target_wad, target_wad, allowed, "")
    return VolPostPlan(
        _toward(last_vol_wad, target_wad, allowed),
        target_wad,
        allowed,
        f"clipped: target {target_wad} is {abs(target_wad - last_vol_wad)} from the last post {last_vol_wad}; "
        f"{elapsed} s after it the oracle allows a step of {allowed} (min(max step {params.max_step_wad}, "
        f"{params.max_rate_per_hour_wad} per hour))",
    )


def _toward(from_wad: int, target_wad: int, step_wad: int) -> int:
    """``from_wad`` moved ``step_wad`` toward ``target_wad`` (which is further than that)."""
    return from_wad + step_wad if target_wad > from_wad else from_wad - step_wad
