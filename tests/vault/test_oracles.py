"""The fail-closed price oracle and the volatility oracle: every check and error, the TWAP and pool
prices against exact Python values, and the bounds of every setter."""

from __future__ import annotations

from dataclasses import replace

import pytest
from vaultkit import DAY, WAD, ZERO, Actors, now, refresh_feed, reverts, warp
from web3.exceptions import ContractCustomError

from hedgevault.suite import OracleParams, Suite, VolParams
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send

#: The TWAP is an integer tick (1.0001^tick): within half a tick (0.5 bp) of the pool price, plus the
#: tick rounding of the initial sqrt price. Stated tolerance: 1 bp.
TWAP_TOLERANCE_BPS = 1


def test_spot_is_the_feed_normalised_to_wad(any_suite: Suite) -> None:
    s = any_suite
    assert s.price_oracle.functions.spotWad().call() == 3000 * WAD
    refresh_feed(s, 3123_45678900 * WAD // 10**8)
    assert s.price_oracle.functions.spotWad().call() == 3123_45678900 * WAD // 10**8


def test_pool_and_twap_prices_match_python(any_suite: Suite, actors: Actors) -> None:
    s = any_suite
    pool_price = s.price_oracle.functions.poolSpotWad().call()
    assert abs(pool_price - s.pool_price_wad()) <= 1 + pool_price // 10**15
    twap = s.price_oracle.functions.twapWad().call()
    assert abs(twap - 3000 * WAD) * 10_000 <= TWAP_TOLERANCE_BPS * 3000 * WAD
    s.move_pool_price(3300 * WAD, actors.other)
    assert abs(s.pool_price_wad() - 3300 * WAD) * 10**6 <= 3300 * WAD * 10
    warp(s.w3, s.config.oracle.twap_window_sec + 1)
    twap = s.price_oracle.functions.twapWad().call()
    assert abs(twap - 3300 * WAD) * 10_000 <= TWAP_TOLERANCE_BPS * 3300 * WAD


def test_feed_answer_checks(suite: Suite, actors: Actors) -> None:
    s = suite
    o = s.price_oracle.functions
    t = now(s.w3)
    send(s.w3, s.feed.functions.setRound(50, 0, t, t, 50), actors.admin)
    reverts(o.spotWad(), actors.other, "FeedAnswerNotPositive", 50, 0)
    send(s.w3, s.feed.functions.setRound(51, -5, t, t, 51), actors.admin)
    reverts(o.spotWad(), actors.other, "FeedAnswerNotPositive", 51, -5)
    send(s.w3, s.feed.functions.setRound(52, 3000 * 10**8, t, 0, 52), actors.admin)
    reverts(o.spotWad(), actors.other, "FeedRoundIncomplete", 52, 0, 52)
    send(s.w3, s.feed.functions.setRound(53, 3000 * 10**8, t, t, 52), actors.admin)
    reverts(o.spotWad(), actors.other, "FeedRoundIncomplete", 53, t, 52)
    send(s.w3, s.feed.functions.setRound(54, 3000 * 10**8, t, t + 1000, 54), actors.admin)
    reverts(o.spotWad(), actors.other, "FeedStale", t + 1000, None, s.config.oracle.heartbeat_sec)
    refresh_feed(s, 3000 * WAD)
    warp(s.w3, s.config.oracle.heartbeat_sec + 1)
    reverts(o.spotWad(), actors.other, "FeedStale", None, None, s.config.oracle.heartbeat_sec)


def test_feed_far_from_twap_fails_closed(suite: Suite) -> None:
    s = suite
    refresh_feed(s, 3200 * WAD)  # 6.7% above the pool
    args = reverts(s.price_oracle.functions.spotWad(), s.admin, "TwapDeviation")
    assert args[0] == 3200 * WAD and args[2] == s.config.oracle.max_twap_deviation_bps
    refresh_feed(s, 3100 * WAD)  # 3.3%: inside the TWAP bound, outside the pool bound
    assert s.price_oracle.functions.spotWad().call() == 3100 * WAD
    reverts(s.price_oracle.functions.swapSpotWad(), s.admin, "PoolPriceDeviation", 3100 * WAD, None, 200)
    reverts(s.price_oracle.functions.checkPoolPrice(3100 * WAD), s.admin, "PoolPriceDeviation")


def test_twap_unavailable_on_a_fresh_pool(suite: Suite, actors: Actors, artifacts: dict[str, Artifact]) -> None:
    s = suite
    other = deploy(suite.w3, artifacts["MockERC20"], "Other", "OTH", 18)
    # a pool created now has no history over the window
    from hedgevault.uniswap import create_pool

    pool = create_pool(s.w3, s.uniswap, other, s.quote, 3000, 3000 * WAD, actors.admin)
    oracle = deploy(
        s.w3,
        artifacts["PriceOracle"],
        actors.admin,
        s.feed.address,
        ZERO,
        pool.address,
        other.address,
        s.quote.address,
        s.config.oracle.as_tuple(),
    )
    reverts(oracle.functions.twapWad(), actors.other, "TwapUnavailable", s.config.oracle.twap_window_sec)
    reverts(oracle.functions.spotWad(), actors.other, "TwapUnavailable")
    with pytest.raises(ContractCustomError):
        deploy(
            s.w3,
            artifacts["PriceOracle"],
            actors.admin,
            s.feed.address,
            ZERO,
            pool.address,
            s.underlying.address,
            s.quote.address,
            s.config.oracle.as_tuple(),
        )


def test_sequencer_feed(suite: Suite, actors: Actors, artifacts: dict[str, Artifact]) -> None:
    s = suite
    sequencer = deploy(s.w3, artifacts["MockAggregator"], 0, 0)
    oracle = deploy(
        s.w3,
        artifacts["PriceOracle"],
        actors.admin,
        s.feed.address,
        sequencer.address,
        s.pool.address,
        s.underlying.address,
        s.quote.address,
        s.config.oracle.as_tuple(),
    )
    grace = s.config.oracle.sequencer_grace_sec
    # just came up: inside the grace period
    reverts(oracle.functions.spotWad(), actors.other, "SequencerGracePeriod", None, grace)
    t = now(s.w3)
    send(s.w3, sequencer.functions.setRound(2, 1, t, t, 2), actors.admin)
    reverts(oracle.functions.spotWad(), actors.other, "SequencerDown", 1)
    send(s.w3, sequencer.functions.setRound(3, 0, t - grace - 10, t - grace - 10, 3), actors.admin)
    assert oracle.functions.spotWad().call() == 3000 * WAD


def test_settlement_round_checks(suite: Suite, actors: Actors) -> None:
    s = suite
    o = s.price_oracle.functions
    t0 = now(s.w3)
    refresh_feed(s, 3010 * WAD)
    first = s.feed.functions.latestRound().call()
    refresh_feed(s, 3020 * WAD)
    assert o.settlementPriceWad(first, t0).call() == 3010 * WAD
    # the round before is also at or after t0 - 10 000: not the first
    reverts(o.settlementPriceWad(first, t0 - 10_000), actors.other, "InvalidSettlementRound")
    reverts(o.settlementPriceWad(first + 1, t0), actors.other, "InvalidSettlementRound", first + 1, None, t0)
    reverts(o.settlementPriceWad(first, now(s.w3) + 100), actors.other, "InvalidSettlementRound")
    assert o.firstRoundAtOrAfter(t0).call() == first
    assert o.firstRoundAtOrAfter(now(s.w3) + 100).call() == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("heartbeat_sec", 59),
        ("sequencer_grace_sec", 2 * DAY),
        ("twap_window_sec", 2 * DAY),
        ("max_twap_deviation_bps", 9),
        ("max_pool_deviation_bps", 2001),
    ],
)
def test_oracle_params_are_bounded(suite: Suite, actors: Actors, name: str, value: int) -> None:
    s = suite
    params = replace(s.config.oracle, **{name: value})  # type: ignore[arg-type]
    reverts(s.price_oracle.functions.setParams(params.as_tuple()), actors.admin, "OracleParamOutOfBounds")
    reverts(
        s.price_oracle.functions.setParams(OracleParams().as_tuple()),
        actors.attacker,
        "AccessControlUnauthorizedAccount",
    )


def test_volatility_oracle(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vol_oracle.functions
    expiry = now(s.w3) + 30 * DAY
    reverts(v.volWad(expiry), actors.other, "VolNotPosted", expiry)
    reverts(v.postVol(expiry, WAD), actors.attacker, "AccessControlUnauthorizedAccount")
    reverts(v.postVol(expiry, WAD // 100), actors.admin, "VolOutOfBounds", WAD // 100, WAD // 20, 3 * WAD)
    reverts(v.postVol(now(s.w3) - 1, WAD), actors.admin, "VolExpiryPassed")
    send(s.w3, v.postVol(expiry, 8 * WAD // 10), actors.admin)
    assert v.volWad(expiry).call() == 8 * WAD // 10
    warp(s.w3, 3600)  # the rate limit allows the whole maxStep (5 points) an hour after the last post
    step = s.config.vol.max_step_wad
    reverts(v.postVol(expiry, 8 * WAD // 10 + step + 1), actors.admin, "VolRateExceeded", 8 * WAD // 10, None, step)
    send(s.w3, v.postVol(expiry, 8 * WAD // 10 + step), actors.admin)
    warp(s.w3, s.config.vol.max_age_sec + 1)
    reverts(v.volWad(expiry), actors.other, "VolStale", expiry, None, s.config.vol.max_age_sec)
    assert v.lastPost(expiry).call()[0] == 8 * WAD // 10 + step


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_vol_wad", WAD // 1000),
        ("max_vol_wad", 6 * WAD),
        ("max_step_wad", 2 * WAD),
        ("max_age_sec", 30),
        ("max_rate_per_hour_wad", 2 * WAD),
        ("min_interval_sec", 30),
    ],
)
def test_vol_params_are_bounded(suite: Suite, actors: Actors, name: str, value: int) -> None:
    s = suite
    params = replace(s.config.vol, **{name: value})  # type: ignore[arg-type]
    reverts(s.vol_oracle.functions.setParams(params.as_tuple()), actors.admin, "VolParamOutOfBounds")
    reverts(
        s.vol_oracle.functions.setParams(VolParams().as_tuple()), actors.attacker, "AccessControlUnauthorizedAccount"
    )
