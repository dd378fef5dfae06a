"""The Python mirror of the volatility oracle's rate rule (``hedgevault.volrule``) and the deployment
config's check of the oracle's hard bounds (no chain: the contract side of both is in
``tests/vault/test_vol_rate_limit.py``, which also checks ``allowed_step_wad`` against ``maxStepNowWad``)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgevault.deployment.config import load_deploy_config
from hedgevault.deployment.errors import DeployConfigError
from hedgevault.suite import VolParams
from hedgevault.volrule import allowed_step_wad, plan_vol_post

WAD = 10**18
P = VolParams()
T0 = 1_700_000_000
V0 = 8 * WAD // 10


def test_first_post_is_not_rate_limited() -> None:
    plan = plan_vol_post(3 * WAD, last_vol_wad=0, last_updated_at=0, now_sec=T0, params=P)
    assert (plan.vol_wad, plan.allowed_step_wad, plan.reason) == (3 * WAD, None, "")


def test_first_post_of_an_expiry_is_clipped_to_the_reference() -> None:
    step = P.max_step_wad
    at = plan_vol_post(V0 + step, last_vol_wad=0, last_updated_at=0, now_sec=T0, params=P, reference_vol_wad=V0)
    assert (at.vol_wad, at.reason) == (V0 + step, "")
    far = plan_vol_post(V0 - step - 1, last_vol_wad=0, last_updated_at=0, now_sec=T0, params=P, reference_vol_wad=V0)
    assert far.clipped and far.vol_wad == V0 - step and "within" in far.reason


def test_held_until_the_minimum_interval() -> None:
    early = plan_vol_post(V0, last_vol_wad=V0, last_updated_at=T0, now_sec=T0 + P.min_interval_sec - 1, params=P)
    assert early.held and early.vol_wad is None
    assert early.reason == f"too soon: 299 s since the last post at {T0}, the oracle's minimum interval is 300 s"
    on_time = plan_vol_post(V0, last_vol_wad=V0, last_updated_at=T0, now_sec=T0 + P.min_interval_sec, params=P)
    assert (on_time.vol_wad, on_time.reason) == (V0, "")


@pytest.mark.parametrize(
    ("elapsed", "allowed"), [(300, 4166666666666666), (1000, 13888888888888888), (3600, WAD // 20)]
)
def test_allowed_step_rounds_down_and_caps_at_max_step(elapsed: int, allowed: int) -> None:
    assert allowed_step_wad(P, elapsed) == allowed
    assert allowed_step_wad(P, 86_400) == P.max_step_wad


@pytest.mark.parametrize("sign", [1, -1])
def test_clipped_toward_the_target_at_the_boundary_wei(sign: int) -> None:
    allowed = allowed_step_wad(P, 1000)
    at = plan_vol_post(V0 + sign * allowed, last_vol_wad=V0, last_updated_at=T0, now_sec=T0 + 1000, params=P)
    assert (at.vol_wad, at.clipped) == (V0 + sign * allowed, False)
    over = plan_vol_post(V0 + sign * (allowed + 1), last_vol_wad=V0, last_updated_at=T0, now_sec=T0 + 1000, params=P)
    assert (over.vol_wad, over.clipped, over.allowed_step_wad) == (V0 + sign * allowed, True, allowed)
    assert over.reason.startswith(f"clipped: target {V0 + sign * (allowed + 1)} is {allowed + 1} from the last post")


@given(
    target=st.integers(P.min_vol_wad, P.max_vol_wad),
    last=st.integers(P.min_vol_wad, P.max_vol_wad),
    elapsed=st.integers(0, 3 * 86_400),
)
def test_a_plan_is_what_the_contract_accepts_and_never_overshoots(target: int, last: int, elapsed: int) -> None:
    plan = plan_vol_post(target, last_vol_wad=last, last_updated_at=T0, now_sec=T0 + elapsed, params=P)
    if elapsed < P.min_interval_sec:
        assert plan.vol_wad is None
        return
    assert plan.vol_wad is not None
    assert abs(plan.vol_wad - last) <= allowed_step_wad(P, elapsed)  # VolRateExceeded never
    assert min(last, target) <= plan.vol_wad <= max(last, target)  # toward the target, not past it
    assert plan.vol_wad == target or abs(plan.vol_wad - last) == allowed_step_wad(P, elapsed)  # as far as allowed


# every hard bound of VolatilityOracle._setParams, each value at the bound and one past it
_BOUNDS = [
    ("min_vol_wad", WAD // 100, 5 * WAD),
    ("max_step_wad", WAD // 1000, WAD),
    ("max_age_sec", 60, 7 * 86_400),  # with min_interval_sec 60 (min_interval_sec <= max_age_sec)
    ("max_rate_per_hour_wad", WAD // 1000, WAD),
    ("min_interval_sec", 60, 86_400),
]


@pytest.mark.parametrize(("name", "lo", "hi"), _BOUNDS, ids=[b[0] for b in _BOUNDS])
def test_deploy_config_refuses_values_outside_the_oracle_hard_bounds(name: str, lo: int, hi: int) -> None:
    base = {"min_vol_wad": {"max_vol_wad": 5 * WAD}, "max_age_sec": {"min_interval_sec": 60}}.get(name, {})
    extra = [f"vol.{k}={v}" for k, v in base.items()]
    for ok in (lo, hi):
        assert getattr(load_deploy_config(None, [*extra, f"vol.{name}={ok}"]).suite.vol, name) == ok
    for bad in (lo - 1, hi + 1):
        with pytest.raises(DeployConfigError, match=f"vol.{name} {bad} is outside"):
            load_deploy_config(None, [*extra, f"vol.{name}={bad}"])


def test_deploy_config_checks_the_bounds_that_depend_on_another_field() -> None:
    with pytest.raises(DeployConfigError, match=r"vol.max_vol_wad 40000000000000000 is outside \[50000000000000000"):
        load_deploy_config(None, ["vol.max_vol_wad=0.04e18"])
    with pytest.raises(DeployConfigError, match=r"vol.min_interval_sec 301 is outside \[60, 300\]"):
        load_deploy_config(None, ["vol.max_age_sec=300", "vol.min_interval_sec=301"])
    assert replace(P, max_age_sec=60, min_interval_sec=60).out_of_bounds() == []
    assert load_deploy_config(None, []).suite.vol == P
