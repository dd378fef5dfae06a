"""The keeper's vol posts under the oracle's rate rule (``hedgevault.volrule.plan_vol_post``): a target
beyond the allowed step is posted clipped toward it and logged ``oracle_clipped`` with the reason, the
updater walks on toward it on later ticks, and nothing is sent sooner than the minimum interval after the
last post (``oracle_held``). The module's chain clock is frozen, so the allowed step is known to the wei:
the keeper plans on the head's time and the post is mined at that same time."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import WAD, Market
from web3 import Web3

from hedgevault.chain import freeze_clock, latest_timestamp, warp
from hedgevault.keeper import Keeper, KeeperConfig, MarketQuote, OracleUpdater, VaultConfig
from hedgevault.suite import VolParams
from hedgevault.volrule import allowed_step_wad

V0 = 8 * WAD // 10  # the vol keeperkit.setup_market posts


@pytest.fixture(scope="module", autouse=True)
def _frozen_clock(cw3: Web3, market: Market) -> Iterator[None]:
    freeze_clock(cw3)
    yield
    cw3.provider.make_request("anvil_removeBlockTimestampInterval", [])  # type: ignore[arg-type]


class _Quotes:
    """A market source that gives each queued quote once, then nothing new."""

    def __init__(self) -> None:
        self.queue: list[MarketQuote] = []

    def quote(self) -> MarketQuote | None:
        return self.queue.pop(0) if self.queue else None


def _setup(market: Market, account: LocalAccount) -> tuple[Keeper, OracleUpdater, _Quotes]:
    s = market.suite
    source = _Quotes()
    updater = OracleUpdater(market.w3, account, s.feed.address, s.vol_oracle.address, source)
    config = KeeperConfig(vaults=[VaultConfig(s.vault.address, "v1")])
    return Keeper(market.w3, account, config, oracle_updater=updater), updater, source


def _last(market: Market) -> tuple[int, int]:
    vol, at = market.suite.vol_oracle.functions.lastPost(market.expiry).call()
    return int(vol), int(at)


def _oracle(records: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(r.kind, r.status) for r in records if r.name and r.name.startswith("oracle:vol")]


def test_target_beyond_the_allowed_step_is_clipped_logged_and_walked_toward(
    market: Market, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    k, updater, source = _setup(market, keeper)
    params = VolParams(*market.suite.vol_oracle.functions.params().call())
    _, posted_at = _last(market)
    elapsed = latest_timestamp(market.w3) - posted_at + 1800
    warp(market.w3, 1800)
    target = 15 * WAD // 10
    source.queue.append(MarketQuote(None, {market.expiry: target}))
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        records = k.tick()
    assert _oracle(records) == [("oracle", "success")]
    first = V0 + allowed_step_wad(params, elapsed)
    assert _last(market)[0] == first < target
    (clipped,) = [r for r in caplog.records if r.getMessage() == "oracle_clipped"]
    fields = clipped.fields  # type: ignore[attr-defined]
    assert fields["call"] == f"postVol({market.expiry}, {first})"
    assert fields["reason"].startswith(f"clipped: target {target} is {target - V0} from the last post {V0}")
    assert updater.targets == {market.expiry: target}
    # the source has nothing new: the updater walks on toward the remembered target
    warp(market.w3, params.min_interval_sec)
    assert _oracle(k.tick()) == [("oracle", "success")]
    assert _last(market)[0] == first + allowed_step_wad(params, params.min_interval_sec)
    assert (updater.stats.posted, updater.stats.clipped) == (2, 2)
    # a new target within reach replaces the old one and is posted as asked
    warp(market.w3, 3600)
    source.queue.append(MarketQuote(None, {market.expiry: V0}))
    assert _oracle(k.tick()) == [("oracle", "success")]
    assert _last(market)[0] == V0 and updater.targets == {}


def test_no_post_sooner_than_the_minimum_interval(
    market: Market, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    k, updater, source = _setup(market, keeper)
    params = VolParams(*market.suite.vol_oracle.functions.params().call())
    warp(market.w3, 3600)
    source.queue.append(MarketQuote(None, {market.expiry: V0 + WAD // 100}))
    assert _oracle(k.tick()) == [("oracle", "success")]
    posted_at = _last(market)[1]
    warp(market.w3, params.min_interval_sec - 1)
    source.queue.append(MarketQuote(None, {market.expiry: V0 + 2 * WAD // 100}))
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        assert _oracle(k.tick()) == []
    # no vol post went out (the feed, not refreshed here, may have gone stale: the keeper may then report the
    # oracle outage to the vault, which is not a post)
    assert _last(market) == (V0 + WAD // 100, posted_at), "nothing posted"
    (held,) = [r for r in caplog.records if r.getMessage() == "oracle_held"]
    assert held.fields["reason"].startswith(  # type: ignore[attr-defined]
        f"too soon: {params.min_interval_sec - 1} s since the last post at {posted_at}"
    )
    assert updater.stats.held == 1
    # one second later the remembered target goes out (clipped to the 300 s step)
    warp(market.w3, 1)
    assert _oracle(k.tick()) == [("oracle", "success")]
    step = allowed_step_wad(params, params.min_interval_sec)
    assert _last(market) == (V0 + WAD // 100 + step, posted_at + params.min_interval_sec)
