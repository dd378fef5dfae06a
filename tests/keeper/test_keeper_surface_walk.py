"""The keeper walks toward a fitted slice the oracle's rate limit refuses (``hedgevault.surface.walk``, branch svwalk),
on the real ``VolatilityOracle`` with the keeper's real code (``Keeper.tick`` -> ``SurfacePoster`` -> ``postSlices``).

* The attack (issue 13's adverse selection): the market's skew jumps by far more than the oracle's per-strike step
  (put wing +11 vol points, call wing -9, the money unchanged). Before the walk the keeper kept the last good slice
  forever (every later fit refused again: the vault sold at the stale smile); with it every post lands, each strike's
  vol moves toward the fit by at most the allowed step, never back, and the fit is reached within the predicted
  number of posts (ceil(largest per-strike distance / allowed step), +1 for the refits' wobble, below).
* A fit refused for calendar arbitrage against the farther expiry as well as for the rate limit is not walked toward
  (the blend part of the way would pass: the walk would post a slice the market's quotes do not justify).

Tolerances: a refit from the same quotes moves by well under 0.01 vol points between passes (the quotes are implied
vols, the time to expiry changes by 20 minutes): a strike's vol may go back by at most ``WOBBLE`` = 1e-4 (0.01
points) between posts and the prediction gets one post of slack for it; the fit itself is within 0.5 points of the
quotes (as in ``test_keeper_surface.py``).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import WAD, Market
from web3 import Web3

from hedgevault.chain import freeze_clock, latest_timestamp, warp
from hedgevault.keeper import Keeper, KeeperConfig, OracleUpdater, VaultConfig
from hedgevault.keeper.metrics import KeeperMetrics
from hedgevault.keeper.oracles import NoMarketSource
from hedgevault.params import VolParams
from hedgevault.surface.mirror import Slice
from hedgevault.volrule import allowed_step_wad

STRIKES = [2400 + 150 * i for i in range(9)]
F = 3000
#: Time between passes: 20 minutes, an allowed step of 5 x 20 / 60 = 1.67 vol points (the default VolParams).
PASS_SEC = 1200
WOBBLE = WAD // 10_000


@pytest.fixture(scope="module", autouse=True)
def _frozen_clock(cw3: Web3, market: Market) -> Iterator[None]:
    freeze_clock(cw3)
    yield


def _smile(k: float, atm: float, skew: float, curve: float = 0.2) -> float:
    return atm + skew * k + curve * k * k


def _write(path: Path, expiries: dict[int, tuple[float, float]], curve: float = 0.2) -> None:
    quotes = [
        {
            "strike": k,
            "expiry": expiry,
            "bid": _smile(math.log(k / F), atm, skew, curve) - 0.002,
            "ask": _smile(math.log(k / F), atm, skew, curve) + 0.002,
            "kind": "iv",
        }
        for expiry, (atm, skew) in expiries.items()
        for k in STRIKES
    ]
    path.write_text(json.dumps({"spot": float(F), "rate": 0.0, "now": 0, "quotes": quotes}))


def _setup(
    market: Market, account: LocalAccount, path: Path, metrics: KeeperMetrics | None = None
) -> tuple[Keeper, OracleUpdater]:
    s = market.suite
    updater = OracleUpdater(
        market.w3, account, s.feed.address, s.vol_oracle.address, NoMarketSource(), quotes_file=path
    )
    config = KeeperConfig(vaults=[VaultConfig(s.vault.address, "v1")], quotes_file=path)
    return Keeper(market.w3, account, config, oracle_updater=updater, metrics=metrics), updater


def _first_post_of_two(
    market: Market, keeper: LocalAccount, tmp_path: Path, near: tuple[float, float], far_smile: tuple[float, float]
) -> tuple[Path, int, int, Keeper, OracleUpdater]:
    """Quotes for the market's expiry and one a week later, the keeper set up on them and its first surface post
    landed an hour on: (quotes path, near expiry, far expiry, keeper, updater)."""
    path = tmp_path / "quotes.json"
    e, far = market.expiry, market.expiry + 7 * 86_400
    _write(path, {e: near, far: far_smile})
    k, updater = _setup(market, keeper, path)
    warp(market.w3, 3600)
    assert _surface(k.tick()) == [("oracle", "success")]
    assert updater.surface is not None
    return path, e, far, k, updater


def _surface(records: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(r.kind, r.status) for r in records if r.name == "oracle:surface"]


def _vols(market: Market, expiry: int) -> list[int]:
    """The oracle's vol at every strike of the expiry's set (and the money), at the forward (rate 0: the spot)."""
    o = market.suite.vol_oracle.functions
    return [int(o.strikeVolWad(expiry, k * WAD, F * WAD).call()) for k in [*STRIKES, F]]


def test_a_skew_jump_beyond_the_limit_is_walked_to_in_steps_within_the_limit(
    market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    s = market.suite
    o = s.vol_oracle.functions
    params = VolParams(*(int(v) for v in o.params().call()))
    path = tmp_path / "quotes.json"
    e = market.expiry
    _write(path, {e: (0.8, -0.1)})
    metrics = KeeperMetrics(process_metrics=False)
    k, updater = _setup(market, keeper, path, metrics)
    warp(market.w3, 3600)
    assert _surface(k.tick()) == [("oracle", "success")]
    assert updater.surface is not None
    before = _vols(market, e)

    def sample(name: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"expiry": str(e)})

    # the jump: the skew steepens from -0.1 to -0.6 (put wing +11 points, call wing -9, the money unchanged)
    _write(path, {e: (0.8, -0.6)})
    wanted = [round(_smile(math.log(x / F), 0.8, -0.6) * WAD) for x in [*STRIKES, F]]
    allowed = allowed_step_wad(params, PASS_SEC)
    distance = max(abs(w - b) for w, b in zip(wanted, before, strict=True))
    assert distance > 5 * allowed, "the jump is far beyond one step"
    predicted = math.ceil(distance / allowed) + 1
    history = [before]
    for _ in range(predicted):
        warp(market.w3, PASS_SEC)
        records = k.tick()
        # every post lands (a refused batch would be skipped: `skip`, and the oracle would stay behind)
        assert _surface(records) == [("oracle", "success")], records
        assert int(o.lastPost(e).call()[1]) == latest_timestamp(market.w3)
        now = _vols(market, e)
        prev = history[-1]
        for i, (v0, v1, w) in enumerate(zip(prev, now, wanted, strict=True)):
            assert abs(v1 - v0) <= allowed, f"strike {i}: moved {v1 - v0} > allowed {allowed}"
            toward = 1 if w > before[i] else -1
            assert (v1 - v0) * toward >= -WOBBLE, f"strike {i}: moved away from the fit ({v0} -> {v1}, fit {w})"
        history.append(now)
        if not updater.surface.walks.get(e) and not updater.surface.fallbacks:
            break  # the fit itself was posted: reached
        step = updater.surface.walks[e]
        assert step.num > 0 and step.max_left_wad > 0
        assert sample("hedgevault_keeper_surface_walk_lambda_ratio") == step.lam
        assert sample("hedgevault_keeper_surface_walk_left_vol_ratio") == step.max_left_wad / WAD

    posts = len(history) - 1
    assert not updater.surface.fallbacks and e not in updater.surface.walks, (
        f"not reached after {posts} posts (predicted {predicted})"
    )
    for got, w in zip(history[-1], wanted, strict=True):
        assert abs(got - w) < WAD // 200  # within 0.5 vol points of the market's smile
    assert posts >= math.ceil(distance / allowed), "no faster than the limit allows"
    assert updater.surface.walk_posts == posts - 1
    assert sample("hedgevault_keeper_surface_walk_steps_total") == posts - 1
    assert sample("hedgevault_keeper_surface_walk_left_vol_ratio") == 0.0
    assert sample("hedgevault_keeper_surface_walk_lambda_ratio") == 1.0
    assert sample("hedgevault_keeper_surface_fallbacks_total") is None


def test_without_the_walk_the_keeper_stays_on_the_stale_smile(
    market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    """Today's behaviour (``surface_walk=False``, as on main): every fit after the jump is refused again and the
    slice stays where it was at every strike for as long as the jump lasts."""
    s = market.suite
    path = tmp_path / "quotes.json"
    e = market.expiry
    _write(path, {e: (0.8, -0.1)})
    updater = OracleUpdater(
        market.w3, keeper, s.feed.address, s.vol_oracle.address, NoMarketSource(), quotes_file=path, surface_walk=False
    )
    config = KeeperConfig(vaults=[VaultConfig(s.vault.address, "v1")], quotes_file=path)
    k = Keeper(market.w3, keeper, config, oracle_updater=updater)
    warp(market.w3, 3600)
    assert _surface(k.tick()) == [("oracle", "success")]
    before = _vols(market, e)
    _write(path, {e: (0.8, -0.6)})
    for _ in range(4):
        warp(market.w3, PASS_SEC)
        path.write_text(path.read_text())  # the market keeps quoting the new skew: a refit every pass
        k.tick()
        assert updater.surface is not None and "rate limit" in updater.surface.fallbacks[e]
        assert _vols(market, e) == before


def test_a_fit_refused_for_calendar_arbitrage_is_not_walked_toward_a_lagging_farther_slice_is(
    market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    """Two expiries, the farther one a week later at 0.76. The near expiry's skew then jumps so steeply (to -1.6)
    that its put-wing total variance would exceed the farther's there: the fit is refused for the rate limit AND
    for calendar arbitrage against the farther slice (on chain and in the quotes), so it is not walked toward; the
    near expiry keeps its slice, with the reason. When the farther expiry's quotes jump too, the near one is walked
    toward: its on-chain farther merely lags."""
    s = market.suite
    o = s.vol_oracle.functions
    path, e, far, k, updater = _first_post_of_two(market, keeper, tmp_path, (0.8, -0.1), (0.76, -0.1))
    near_slice = tuple(o.sliceOf(e).call())
    _write(path, {e: (0.8, -1.6), far: (0.76, -0.1)})
    warp(market.w3, PASS_SEC)
    records = k.tick()
    assert e not in updater.surface.walks
    reason = updater.surface.fallbacks[e]
    assert "not walked toward" in reason, reason
    # the near expiry's slice is unchanged (the far one may be re-posted from its unchanged fit)
    assert tuple(o.sliceOf(e).call()) == near_slice
    assert all(status == "success" for kind, status in _surface(records))
    far_slice = Slice(*(int(x) for x in o.sliceOf(far).call()))
    assert far_slice.b_wad > 0, "the farther expiry holds a smile the near one is checked against"
    # the same jump on both expiries (the farther's total variance twice the near one's: no arbitrage in the quotes):
    # the near fit still crosses the farther's on-chain slice, which lags, but not the farther's fit of the quotes,
    # so it is walked toward, as far as the on-chain farther allows, in a batch that lands
    _write(path, {e: (0.8, -1.6), far: (0.8, -1.6)})
    warp(market.w3, PASS_SEC)
    records = k.tick()
    assert _surface(records) == [("oracle", "success")], records
    assert updater.surface.walks[e].num > 0 and e not in updater.surface.fallbacks
    assert tuple(o.sliceOf(e).call()) != near_slice


def test_random_manipulated_quotes_never_make_a_batch_revert_nor_a_vol_jump(
    market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    """The attacker controls the quotes: 10 passes 20 minutes apart, two expiries, each pass a random smile per
    expiry (at-the-money 0.5-1.3, skew -2 to +0.6, curvature 0-0.8: many beyond the step, some arbitrage between the
    two). Every slice batch the keeper sends lands (none skipped by its simulation), and no strike of either expiry
    moves by more than the allowed step between two posts. Seeded."""
    s = market.suite
    o = s.vol_oracle.functions
    params = VolParams(*(int(v) for v in o.params().call()))
    rng = random.Random(1313)
    path, e, far, k, updater = _first_post_of_two(market, keeper, tmp_path, (0.8, -0.1), (0.8, -0.1))
    walked = 0
    for _ in range(10):
        before = {x: (_vols(market, x), int(o.lastPost(x).call()[1])) for x in (e, far)}
        smiles = {x: (rng.uniform(0.5, 1.3), rng.uniform(-2.0, 0.6)) for x in (e, far)}
        _write(path, smiles, curve=rng.uniform(0.0, 0.8))
        warp(market.w3, PASS_SEC)
        records = k.tick()
        assert all(status == "success" for _, status in _surface(records)), records
        walked += len(updater.surface.walks)
        for x, (vols, posted_at) in before.items():
            allowed = allowed_step_wad(params, latest_timestamp(market.w3) - posted_at)
            for i, (v0, v1) in enumerate(zip(vols, _vols(market, x), strict=True)):
                assert abs(v1 - v0) <= allowed, f"expiry {x}, strike {i}: {v0} -> {v1} (allowed {allowed})"
    assert walked > 0, "some of the random smiles were walked toward"
