"""The volatility oracle's rate limit (issue 9, item 3): a post of an expiry posted before must come at
least ``minIntervalSec`` after it and move at most min(maxStepWad, maxRatePerHourWad x elapsed / 3600)
(rounded down), so over any window W one expiry's vol moves at most maxStep + rate x W.

Each error is checked at its boundary second / wei, the two new parameters at their hard bounds, many posts
in one block, and the bound itself (the fastest walk the contract allows, deterministic and with random
post schedules). The session clock is frozen (``tests/conftest.py``): time moves only through ``warp``, so
a view at ``latest`` and the next transaction see the same block time. Tolerances: none (exact integers).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaultkit import DAY, WAD, Actors, now, reverts
from web3 import Web3

from hedgevault.chain import warp
from hedgevault.suite import Suite, VolParams
from hedgevault.txs import send
from hedgevault.volrule import HOUR_SEC, allowed_step_wad

V0 = 8 * WAD // 10


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    return w3.provider.make_request(method, list(params))  # type: ignore[arg-type]


def _first_post(s: Suite, vol_wad: int = V0) -> tuple[int, int]:
    """A new expiry 30 days out with its first post; returns (expiry, post time)."""
    expiry = now(s.w3) + 30 * DAY
    receipt = send(s.w3, s.vol_oracle.functions.postVol(expiry, vol_wad), s.admin)
    return expiry, int(s.w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def test_defaults_and_params_returns_the_full_struct(suite: Suite) -> None:
    p = suite.config.vol
    assert (p.max_step_wad, p.max_rate_per_hour_wad, p.min_interval_sec) == (WAD // 20, WAD // 20, 300)
    assert tuple(suite.vol_oracle.functions.params().call()) == p.as_tuple()


def test_post_too_soon_at_the_boundary_second(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vol_oracle.functions
    interval = s.config.vol.min_interval_sec
    expiry, posted_at = _first_post(s)
    reverts(v.postVol(expiry, V0), actors.admin, "VolPostTooSoon", expiry, posted_at, interval)  # same second
    warp(s.w3, interval - 1)
    assert v.maxStepNowWad(expiry).call() == 0
    reverts(v.postVol(expiry, V0), actors.admin, "VolPostTooSoon", expiry, posted_at, interval)
    warp(s.w3, 1)
    allowed = allowed_step_wad(s.config.vol, interval)
    assert v.maxStepNowWad(expiry).call() == allowed > 0
    send(s.w3, v.postVol(expiry, V0 + allowed), actors.admin)
    assert v.lastPost(expiry).call() == [V0 + allowed, posted_at + interval]


@pytest.mark.parametrize("elapsed_sec", [300, 301, 1000, 1799, 3600, 3601, 2 * 3600])
@pytest.mark.parametrize("up", [True, False], ids=["up", "down"])
def test_step_at_the_boundary_wei(suite: Suite, actors: Actors, elapsed_sec: int, up: bool) -> None:
    """allowed = min(maxStep, rate x elapsed / 3600) rounded down: exactly allowed passes, one wei more reverts
    ``VolRateExceeded(previous, new, allowed)``; past 1 h the step is capped at maxStep."""
    s = suite
    v = s.vol_oracle.functions
    p = s.config.vol
    expiry, _ = _first_post(s)
    warp(s.w3, elapsed_sec)
    allowed = p.max_rate_per_hour_wad * elapsed_sec // HOUR_SEC
    allowed = min(allowed, p.max_step_wad)
    assert allowed == allowed_step_wad(p, elapsed_sec) == v.maxStepNowWad(expiry).call()
    sign = 1 if up else -1
    too_far = V0 + sign * (allowed + 1)
    reverts(v.postVol(expiry, too_far), actors.admin, "VolRateExceeded", V0, too_far, allowed)
    send(s.w3, v.postVol(expiry, V0 + sign * allowed), actors.admin)
    assert v.lastPost(expiry).call()[0] == V0 + sign * allowed


def test_many_posts_in_one_block_revert(suite: Suite, actors: Actors) -> None:
    """The attack of issue 9: walk 80% -> 5% in one block. The first post of the block takes at most the
    allowed step; every further post of the expiry in that block reverts ``VolPostTooSoon``."""
    s, w3 = suite, suite.w3
    v = s.vol_oracle.functions
    expiry, _ = _first_post(s)
    warp(w3, DAY)
    step = s.config.vol.max_step_wad
    walk = [V0 - i * step for i in range(1, 16)]  # 0.75, 0.70, ... 0.05
    assert walk[-1] == s.config.vol.min_vol_wad
    _rpc(w3, "evm_setAutomine", False)
    try:
        hashes = [v.postVol(expiry, vol).transact({"from": actors.admin, "gas": 200_000}) for vol in walk]
        _rpc(w3, "evm_mine")
    finally:
        _rpc(w3, "evm_setAutomine", True)
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert len({r["blockNumber"] for r in receipts}) == 1
    assert [r["status"] for r in receipts] == [1] + [0] * (len(walk) - 1)
    assert v.lastPost(expiry).call()[0] == V0 - step
    posted_at = v.lastPost(expiry).call()[1]
    reverts(v.postVol(expiry, walk[1]), actors.admin, "VolPostTooSoon", expiry, posted_at, None)


def test_first_post_of_an_expiry_starts_next_to_the_reference(suite: Suite, actors: Actors) -> None:
    """The oracle's very first post is bounded by [minVol, maxVol] only; every later first post of an expiry
    within maxStep of the oracle's latest post (``referenceVolWad``), so a compromised updater cannot open a
    newly listed expiry at 5% while the curve is at 80%."""
    s = suite
    v = s.vol_oracle.functions
    p = s.config.vol
    first = now(s.w3) + 30 * DAY
    assert v.referenceVolWad().call() == 0
    assert v.maxStepNowWad(first).call() == p.max_vol_wad - p.min_vol_wad
    reverts(v.postVol(first, p.max_vol_wad + 1), actors.admin, "VolOutOfBounds")
    send(s.w3, v.postVol(first, V0), actors.admin)
    assert v.referenceVolWad().call() == V0
    new = now(s.w3) + 60 * DAY
    step = p.max_step_wad
    reverts(v.postVol(new, p.min_vol_wad), actors.admin, "VolFirstPostTooFar", new, p.min_vol_wad, V0, step)
    reverts(v.postVol(new, V0 - step - 1), actors.admin, "VolFirstPostTooFar", new, V0 - step - 1, V0, step)
    reverts(v.postVol(new, V0 + step + 1), actors.admin, "VolFirstPostTooFar", new, V0 + step + 1, V0, step)
    send(s.w3, v.postVol(new, V0 - step), actors.admin)
    assert v.referenceVolWad().call() == V0 - step
    assert v.maxStepNowWad(now(s.w3)).call() == 0  # an expiry that has come: no post is possible


def _with(p: VolParams, **kw: int) -> tuple[int, ...]:
    return replace(p, **kw).as_tuple()


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("max_rate_per_hour_wad", WAD // 1000 - 1, False),
        ("max_rate_per_hour_wad", WAD // 1000, True),
        ("max_rate_per_hour_wad", WAD // 1000 + 1, True),
        ("max_rate_per_hour_wad", WAD - 1, True),
        ("max_rate_per_hour_wad", WAD, True),
        ("max_rate_per_hour_wad", WAD + 1, False),
        ("min_interval_sec", 59, False),
        ("min_interval_sec", 60, True),
        ("min_interval_sec", 61, True),
        ("min_interval_sec", DAY - 1, True),
        ("min_interval_sec", DAY, True),
        ("min_interval_sec", DAY + 1, False),
    ],
)
def test_hard_bounds_of_the_rate_parameters(suite: Suite, actors: Actors, name: str, value: int, ok: bool) -> None:
    s = suite
    params = replace(s.config.vol, **{name: value})  # type: ignore[arg-type]
    fn = s.vol_oracle.functions.setParams(params.as_tuple())
    assert params.out_of_bounds() == ([] if ok else [params.out_of_bounds()[0]])  # the Python mirror agrees
    if ok:
        send(s.w3, fn, actors.admin)
        assert tuple(s.vol_oracle.functions.params().call()) == params.as_tuple()
    else:
        field = "maxRatePerHourWad" if name == "max_rate_per_hour_wad" else "minIntervalSec"
        lo, hi = (WAD // 1000, WAD) if name == "max_rate_per_hour_wad" else (60, DAY)
        got = reverts(fn, actors.admin, "VolParamOutOfBounds", None, value, lo, hi)
        assert got[0].rstrip(b"\0").decode() == field


def test_min_interval_may_not_exceed_max_age(suite: Suite, actors: Actors) -> None:
    """A minimum interval longer than the staleness limit would let every post go stale before the next."""
    s = suite
    p = replace(s.config.vol, max_age_sec=3600)
    send(s.w3, s.vol_oracle.functions.setParams(_with(p, min_interval_sec=3600)), actors.admin)
    reverts(s.vol_oracle.functions.setParams(_with(p, min_interval_sec=3601)), actors.admin, "VolParamOutOfBounds")
    assert replace(p, min_interval_sec=3601).out_of_bounds() == ["min_interval_sec 3601 is outside [60, 3600]"]


def _walk(s: Suite, expiry: int, gaps: list[int], up: bool) -> list[int]:
    """Post the largest step the contract allows (``maxStepNowWad``) after each gap; return the vols."""
    v = s.vol_oracle.functions
    vols = []
    for gap in gaps:
        warp(s.w3, gap)
        allowed = int(v.maxStepNowWad(expiry).call())
        last = int(v.lastPost(expiry).call()[0])
        p = s.config.vol
        target = min(last + allowed, p.max_vol_wad) if up else max(last - allowed, p.min_vol_wad)
        send(s.w3, v.postVol(expiry, target), s.admin)
        vols.append(target)
    return vols


def test_fastest_walk_for_one_hour_moves_at_most_max_step_plus_rate_times_an_hour(
    suite: Suite, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a post a day old: the whole maxStep at once, then the allowed step every minInterval for an
    hour. The vol moves maxStep + 12 x floor(rate x 300 s / 1 h) <= maxStep + rate x 1 h (10 points)."""
    s = suite
    p = s.config.vol
    expiry, _ = _first_post(s)
    interval = p.min_interval_sec
    gaps = [DAY] + [interval] * (HOUR_SEC // interval)
    vols = _walk(s, expiry, gaps, up=False)
    moved = V0 - vols[-1]
    bound = p.max_step_wad + p.max_rate_per_hour_wad
    assert moved == p.max_step_wad + (HOUR_SEC // interval) * allowed_step_wad(p, interval)
    assert moved <= bound
    with capsys.disabled():
        print(
            f"\n[vol rate] fastest walk over 1 h: {V0 / WAD:.4f} -> {vols[-1] / WAD:.4f} "
            f"({moved / WAD:.4f}, bound {bound / WAD:.4f})"
        )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gaps=st.lists(st.integers(min_value=300, max_value=1200), min_size=1, max_size=10),
    lead_sec=st.integers(min_value=300, max_value=2 * DAY),
    up=st.booleans(),
)
def test_any_schedule_moves_at_most_max_step_plus_rate_times_the_window(
    suite: Suite, gaps: list[int], lead_sec: int, up: bool
) -> None:
    """Property: whatever the post times, the change over the window from the first post after the lead to
    the last is at most maxStep + rate x window / 1 h (the window's length W = sum of the gaps after it)."""
    s, w3 = suite, suite.w3
    snapshot = _rpc(w3, "evm_snapshot")["result"]
    try:
        p = s.config.vol
        expiry, _ = _first_post(s)
        vols = _walk(s, expiry, [lead_sec, *gaps], up)
        window_sec = sum(gaps)
        moved = abs(vols[-1] - V0)
        assert moved <= p.max_step_wad + p.max_rate_per_hour_wad * window_sec // HOUR_SEC
    finally:
        _rpc(w3, "evm_revert", snapshot)
