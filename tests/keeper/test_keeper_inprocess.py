"""The ``Keeper`` class in-process (the API the simulator uses): settlement of a due expiry, a reverting
checkUpkeep that is logged and counted without crashing, and oracle posts from a scenario source before
the vaults are checked."""

from __future__ import annotations

import logging

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import DAY, WAD, Market
from web3 import Web3

from hedgevault.chain import latest_timestamp, warp
from hedgevault.keeper import Keeper, KeeperConfig, KeeperMetrics, MarketQuote, OracleUpdater, VaultConfig
from hedgevault.txs import send


def _keeper(market: Market, account: LocalAccount, **kw: object) -> Keeper:
    config = KeeperConfig(vaults=[VaultConfig(market.suite.vault.address, "v1")])
    return Keeper(market.w3, account, config, **kw)  # type: ignore[arg-type]


def test_due_expiry_is_settled(market: Market, keeper: LocalAccount) -> None:
    s, w3 = market.suite, market.w3
    expiry = latest_timestamp(w3) + 2 * 3600
    fn = s.vault.functions.listSeries(expiry, 3000 * WAD, False)
    series_id = int(fn.call({"from": s.admin}))
    send(w3, fn, s.admin)
    send(w3, s.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), s.admin)
    market.series_id = series_id
    market.buy(5 * WAD)
    warp(w3, 2 * 3600 + 1)
    s.set_feed_price(2900 * WAD)  # the first round after expiry
    needed, data = market.check_upkeep()
    assert needed and data  # performData = abi.encode(expiry, roundId)
    k = _keeper(market, keeper)
    records = k.tick()
    assert [(r.kind, r.status) for r in records] == [("settle", "success")]
    assert records[0].gas_used and records[0].tx_hash
    (event,) = s.vault.events.ExpirySettled().get_logs(from_block=w3.eth.block_number)
    assert event["args"]["expiry"] == expiry and event["args"]["priceWad"] == 2900 * WAD
    assert s.vault.functions.settlementPriceWad(expiry).call() == 2900 * WAD


def test_reverting_check_is_logged_and_counted_never_raised(
    market: Market, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """A stale feed: checkUpkeep reverts, which the keeper logs and counts; it reports the oracle outage once
    (the vault's exit clock starts: withdrawals open at the conservative valuation a day later)."""
    warp(market.w3, 2 * 3600)  # the feed is older than its 1 h heartbeat: the oracle fails closed
    metrics = KeeperMetrics()
    k = _keeper(market, keeper, metrics=metrics)
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        first, report = k.tick()
        market.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        (second,) = k.tick()
    assert (first.kind, first.status) == ("skip", "check_failed")
    assert first.reason is not None and first.reason.startswith("FeedStale(")
    assert (report.kind, report.status) == ("report_outage", "success")
    (event,) = market.suite.vault.events.OracleOutageReported().get_logs(from_block=0)
    assert event["args"]["sinceSec"] > 0
    assert second.status == "check_failed"  # reported once: nothing sent again
    vault = market.suite.vault.address
    value = metrics.registry.get_sample_value(
        "hedgevault_keeper_failures_total", {"vault": vault, "reason": "check:FeedStale"}
    )
    assert value == 2.0
    logged = [r for r in caplog.records if r.getMessage() == "check_failed"]
    assert len(logged) == 1  # the same reason again is counted, not logged again every block
    assert market.w3.eth.get_transaction_count(keeper.address) == 1


def test_an_address_without_code_fails_alone_and_the_other_vaults_are_kept(
    market: Market, keeper: LocalAccount
) -> None:
    """A configured vault address with no code answers every eth_call with nothing: that vault's check fails
    with a message naming the likely cause; the real vault in the same batch still hedges."""
    nobody = Web3.to_checksum_address("0x" + "42" * 20)
    assert market.w3.eth.get_code(nobody) == b""
    market.move_market(3150 * WAD)
    metrics = KeeperMetrics(process_metrics=False)
    config = KeeperConfig(vaults=[VaultConfig(nobody, "typo"), VaultConfig(market.suite.vault.address, "v1")])
    k = Keeper(market.w3, keeper, config, metrics=metrics)
    records = k.tick()
    failed = [r for r in records if r.vault == nobody]
    kept = [r for r in records if r.vault == market.suite.vault.address]
    assert [(r.kind, r.status) for r in failed] == [("skip", "check_failed")]
    assert failed[0].reason is not None and "no data" in failed[0].reason and "OptionVault" in failed[0].reason
    assert [(r.kind, r.status) for r in kept] == [("hedge", "success")]
    value = metrics.registry.get_sample_value(
        "hedgevault_keeper_failures_total", {"vault": nobody, "reason": "check:empty"}
    )
    assert value == 1.0


def test_an_outage_someone_else_reported_is_not_reported_again(market: Market, keeper: LocalAccount) -> None:
    warp(market.w3, 2 * 3600)
    send(market.w3, market.suite.vault.functions.reportOracleOutage(), market.suite.admin)
    k = _keeper(market, keeper)
    (record,) = k.tick()
    assert record.status == "check_failed"
    assert market.w3.eth.get_transaction_count(keeper.address) == 0


class _Scenario:
    """A market source that posts one quote, then has nothing new."""

    def __init__(self, quote: MarketQuote) -> None:
        self._quotes = [quote]

    def quote(self) -> MarketQuote | None:
        return self._quotes.pop() if self._quotes else None


def test_oracle_updates_go_first_then_the_vaults(market: Market, keeper: LocalAccount) -> None:
    s, w3 = market.suite, market.w3
    warp(w3, 3600)  # the vol oracle allows its whole maxStep (5 points) an hour after the last post
    s.move_pool_price(3100 * WAD, market.trader)
    warp(w3, s.config.oracle.twap_window_sec + 1)
    source = _Scenario(MarketQuote(3100 * WAD, {market.expiry: 85 * WAD // 100}))
    updater = OracleUpdater(w3, keeper, s.feed.address, s.vol_oracle.address, source)
    k = _keeper(market, keeper, oracle_updater=updater)
    records = k.tick()
    assert [(r.kind, r.status) for r in records[:2]] == [("oracle", "success"), ("oracle", "success")]
    assert s.feed.functions.latestRoundData().call()[1] == s.feed_answer(3100 * WAD)
    assert s.vol_oracle.functions.lastPost(market.expiry).call()[0] == 85 * WAD // 100
    # the vault was checked on the new price: the move opened a gap, hedged in the same tick
    assert [(r.kind, r.status) for r in records[2:]] == [("hedge", "success")]
    assert k.tick() == []
    assert Web3.is_address(records[0].vault) and records[0].vault == s.feed.address
    assert market.expiry > latest_timestamp(w3) + DAY


def test_a_gap_larger_than_a_slice_hedges_then_waits_for_arbitrage(
    market: Market, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """300 at-the-money puts sold: the target is a short of ~145 underlying, more than one slice (the swap
    stops at the oracle spot - 1%, ~70 underlying into the 20,000-underlying pool). The pass lands one
    upkeep, checks again, finds the pool at the slice's limit (PoolBeyondLimit) and reports it once as
    waiting with the gap left: no failure counted. After arbitrage moves the pool back, the next pass
    hedges again and the gap shrinks."""
    s, w3 = market.suite, market.w3
    fn = s.vault.functions.listSeries(market.expiry, 3000 * WAD, False)
    market.series_id = int(fn.call({"from": s.admin}))
    send(w3, fn, s.admin)
    market.buy(300 * WAD)
    metrics = KeeperMetrics()
    k = _keeper(market, keeper, metrics=metrics)
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        records = k.tick()
    assert [(r.kind, r.status) for r in records] == [("hedge", "success"), ("skip", "waiting")]
    assert records[1].reason is not None and records[1].reason.startswith("PoolBeyondLimit(")
    (waiting,) = [r for r in caplog.records if r.getMessage() == "hedge_waiting"]
    fields = waiting.fields  # type: ignore[attr-defined]
    book = s.book_view()
    assert book["hedgeWad"] < -50 * WAD, "the first slice sold held underlying and borrowed on Aave"
    gap = abs(-book["bookDeltaWad"] - book["hedgeWad"])
    assert fields["upkeeps"] == 1
    assert fields["gap_left"] == round(gap / WAD, 6) > 50
    assert fields["hedge"] == round(book["hedgeWad"] / WAD, 6)
    assert fields["collateral_units"] == book["collateral"] > 0
    assert "waiting for arbitrage: PoolBeyondLimit(" in fields["reason"]
    assert not [r for r in caplog.records if r.getMessage() in ("skip", "check_failed")]
    vault = {"vault": str(s.vault.address)}
    assert metrics.registry.get_sample_value("hedgevault_keeper_hedge_gap_underlying_tokens", vault) == gap / WAD
    waits = {**vault, "reason": "PoolBeyondLimit"}
    assert metrics.registry.get_sample_value("hedgevault_keeper_hedge_waits_total", waits) == 1.0
    failures = [m for m in metrics.registry.collect() if m.name == "hedgevault_keeper_failures"]
    assert not [x for m in failures for x in m.samples], "waiting for arbitrage is not a failure"
    # arbitrage restores the pool to the oracle: the next pass sells the next slice
    s.move_pool_price(3000 * WAD, market.trader)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        records = k.tick()
    assert records[0].kind == "hedge" and records[0].status == "success"
    after = s.book_view()
    assert abs(-after["bookDeltaWad"] - after["hedgeWad"]) < gap
    assert [r for r in caplog.records if r.getMessage() in ("hedge_waiting", "hedge_pass")]


def test_one_hedge_per_pass_when_capped(market: Market, keeper: LocalAccount) -> None:
    """max_hedges_per_pass = 1: the pass lands its hedge and does not check the vault again."""
    s, w3 = market.suite, market.w3
    fn = s.vault.functions.listSeries(market.expiry, 3000 * WAD, False)
    market.series_id = int(fn.call({"from": s.admin}))
    send(w3, fn, s.admin)
    market.buy(300 * WAD)
    config = KeeperConfig(vaults=[VaultConfig(s.vault.address, "v1")], max_hedges_per_pass=1)
    records = Keeper(w3, keeper, config).tick()
    assert [(r.kind, r.status) for r in records] == [("hedge", "success")]
