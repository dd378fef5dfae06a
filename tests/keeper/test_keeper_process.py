"""The real keeper process (``hedgevault keeper``) against Anvil with the real suite (Uniswap V3 pool,
oracles, vault): hedges a band breach in the next block, never lets two keepers land one condition
twice, never sends what would revert, --once, --dry-run, SIGTERM, metrics and local oracle posts."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from keeperkit import WAD, KeeperProcess, Market, hedged_events, keeper_args, mine, rpc, run_keeper_once, tx_count

from hedgevault.chain import Node, free_port, latest_timestamp, warp
from hedgevault.reverts import describe

Spawn = Callable[..., KeeperProcess]


def test_band_breach_is_hedged_in_the_next_block(chain: Node, market: Market, spawn: Spawn) -> None:
    keeper = spawn(keeper_args(chain.url, market.suite.vault.address, "--anvil-account", "3"))
    start = market.w3.eth.block_number
    keeper.wait_ticks(start)
    feed_block = market.move_market(3150 * WAD)  # the breach becomes visible in this block
    (event,) = keeper.wait_event("mined", action="hedge")
    hedges = hedged_events(market.suite, start + 1)
    assert len(hedges) == 1
    assert hedges[0]["blockNumber"] == feed_block + 1
    assert event["tx"] == "0x" + hedges[0]["transactionHash"].hex().removeprefix("0x")
    assert event["gas"] > 0 and event["status"] == "success"
    assert not market.check_upkeep()[0]  # the vault is back inside its band
    assert keeper.terminate() == 0


def test_two_keepers_never_both_land_one_condition(chain: Node, market: Market, spawn: Spawn) -> None:
    w3 = market.w3
    start = w3.eth.block_number
    # condition 1: both keepers see the breach in the same block and both send before anything is mined
    market.suite.move_pool_price(3150 * WAD, market.trader)
    warp(w3, market.suite.config.oracle.twap_window_sec + 1)
    rpc(w3, "evm_setAutomine", False)
    market.suite.feed.functions.setAnswer(market.suite.feed_answer(3150 * WAD)).transact({"from": market.suite.admin})
    mine(w3)
    assert market.check_upkeep()[0]
    vault = market.suite.vault.address
    one = spawn(keeper_args(chain.url, vault, "--anvil-account", "3"), name="one")
    two = spawn(keeper_args(chain.url, vault, "--anvil-account", "7"), name="two")
    one.wait_ticks(w3.eth.block_number)
    two.wait_ticks(w3.eth.block_number)
    # each either sent, or skipped because the other's pending hedge already closed the gap (Anvil's eth_call
    # at "latest" sees the mempool); a node without that lets both send and the vault reverts the second
    sent = one.named("sent") + two.named("sent")
    assert 1 <= len(sent) <= 2
    mine(w3)
    rpc(w3, "evm_setAutomine", True)
    for proc in (one, two):
        if proc.named("sent"):
            proc.wait_event("mined")
    landed = [e["status"] for e in one.named("mined") + two.named("mined")]
    assert landed.count("success") == 1 and len(landed) == len(sent)
    assert len(hedged_events(market.suite, start + 1)) == 1
    # condition 2, with automine: still exactly one more hedge
    block = market.move_market(3300 * WAD)
    mine(w3, 3)
    one.wait_ticks(block + 3)
    two.wait_ticks(block + 3)
    assert len(hedged_events(market.suite, start + 1)) == 2


def test_would_revert_action_is_never_sent(chain: Node, market: Market, spawn: Spawn, keeper: LocalAccount) -> None:
    s = market.suite
    # the pool 3% away from the feed (the swap bound is 2%) while a purchase opens a hedge gap:
    # checkUpkeep says yes, performUpkeep would revert PoolPriceDeviation
    s.move_pool_price(3090 * WAD, market.trader)
    market.buy(10 * WAD)
    assert market.check_upkeep()[0]
    port = free_port()
    proc = spawn(keeper_args(chain.url, s.vault.address, "--anvil-account", "3", "--metrics-port", str(port)))
    start = market.w3.eth.block_number
    proc.wait_ticks(start)
    for i in range(1, 6):  # five more blocks, each checked
        mine(market.w3)
        proc.wait_ticks(start + i)
    skips = proc.named("skip", action="hedge")
    assert skips and "PoolPriceDeviation" in skips[0]["reason"]
    assert tx_count(market.w3, keeper.address) == 0
    assert not proc.named("sent")
    assert (
        _metrics(port)[
            f'hedgevault_keeper_failures_total{{reason="simulate:PoolPriceDeviation",vault="{s.vault.address}"}}'
        ]
        >= 6
    )
    assert proc.terminate() == 0


def test_once_hedges_and_exits_with_a_key_from_the_environment(
    chain: Node, market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    market.move_market(3150 * WAD)
    start = market.w3.eth.block_number
    code, stderr = run_keeper_once(
        keeper_args(chain.url, market.suite.vault.address),
        tmp_path / "once.log",
        env={"HEDGEVAULT_PRIVATE_KEY": keeper.key.hex()},
    )
    assert code == 0, stderr
    assert len(hedged_events(market.suite, start + 1)) == 1
    assert tx_count(market.w3, keeper.address) == 1


def test_dry_run_sends_nothing_with_a_keystore(
    chain: Node, market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    keystore = tmp_path / "keeper.json"
    keystore.write_text(json.dumps(Account.encrypt(keeper.key, "pw", iterations=2)))
    market.move_market(3150 * WAD)
    log = tmp_path / "dry.log"
    code, stderr = run_keeper_once(
        [*keeper_args(chain.url, market.suite.vault.address), "--keystore", str(keystore), "--dry-run"],
        log,
        env={"HEDGEVAULT_KEYSTORE_PASSWORD": "pw"},
    )
    assert code == 0, stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["event"] == "dry_run" and e["action"] == "hedge" for e in events)
    assert tx_count(market.w3, keeper.address) == 0
    assert market.check_upkeep()[0]  # still to do


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("hedgevault_keeper_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_endpoint_and_sigterm(chain: Node, market: Market, spawn: Spawn, keeper: LocalAccount) -> None:
    port = free_port()
    proc = spawn(
        keeper_args(chain.url, market.suite.vault.address, "--anvil-account", "3", "--metrics-port", str(port))
    )
    proc.wait_ticks(market.w3.eth.block_number)
    market.move_market(3150 * WAD)
    proc.wait_event("mined", action="hedge")
    block = market.w3.eth.block_number
    proc.wait_ticks(block)
    metrics = _metrics(port)
    book = market.suite.vault.functions.book().call()  # BookView as a tuple: read by name below
    names = [c["name"] for c in market.suite.vault.functions.book().abi["outputs"][0]["components"]]
    view = dict(zip(names, book, strict=True))
    net_delta = (view["bookDeltaWad"] + view["hedgeWad"]) / WAD
    v = f'{{vault="{market.suite.vault.address}"}}'
    assert abs(metrics[f"hedgevault_keeper_net_delta_underlying_tokens{v}"] - net_delta) < 1e-9
    assert metrics[f"hedgevault_keeper_hedge_underlying_tokens{v}"] == view["hedgeWad"] / WAD
    gap = abs(-view["bookDeltaWad"] - view["hedgeWad"]) / WAD
    assert abs(metrics[f"hedgevault_keeper_hedge_gap_underlying_tokens{v}"] - gap) < 1e-9
    assert metrics[f"hedgevault_keeper_collateral_quote_units{v}"] == view["collateral"]
    assert abs(metrics[f"hedgevault_keeper_health_factor_ratio{v}"] - view["healthFactorWad"] / WAD) < 1e-9
    hedges = f'{{action="hedge",vault="{market.suite.vault.address}"}}'
    assert metrics[f"hedgevault_keeper_actions_total{hedges}"] == 1.0
    assert metrics["hedgevault_keeper_account_balance_ether"] == market.w3.eth.get_balance(keeper.address) / WAD
    last_hedge = market.suite.vault.functions.lastHedgeTime().call()
    assert metrics[f"hedgevault_keeper_last_hedge_timestamp_seconds{v}"] == last_hedge
    assert metrics["hedgevault_keeper_head_block_number"] >= block
    assert proc.terminate() == 0
    assert proc.named("stopped")


def test_local_oracles_post_feed_and_vols_before_the_vault_is_checked(
    chain: Node, market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    s, w3 = market.suite, market.w3
    warp(w3, 13 * 3600)  # feed (1 h heartbeat) stale, vol post 13 h old
    assert "FeedStale" in _check_revert(market)
    log = tmp_path / "oracles.log"
    code, stderr = run_keeper_once(
        [*keeper_args(chain.url, s.vault.address, "--anvil-account", "3"), "--local-oracles"], log
    )
    assert code == 0, stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert not [e for e in events if e["event"] == "check_failed"]  # the feed was fresh when the vault was checked
    now = latest_timestamp(w3)
    _, answer, _, updated_at, _ = s.feed.functions.latestRoundData().call()
    assert now - updated_at < 60
    twap_answer = s.feed_answer(int(s.price_oracle.functions.twapWad().call()))
    assert abs(answer - twap_answer) * 1000 <= twap_answer  # the TWAP when posted (a hedge may follow: 0.1%)
    vol, posted_at = s.vol_oracle.functions.lastPost(market.expiry).call()
    assert vol == 8 * WAD // 10 and now - posted_at < 60
    assert tx_count(w3, keeper.address) >= 2


def _check_revert(market: Market) -> str:
    try:
        market.suite.vault.functions.checkUpkeep(b"").call()
    except Exception as exc:  # noqa: BLE001 - any revert: its text is checked by the caller
        return describe(exc)
    return ""


def test_oracle_posts_need_the_role(chain: Node, market: Market, tmp_path: Path) -> None:
    """A keeper without VOL_UPDATER_ROLE: the vol post is skipped with the reason, the feed still goes out."""
    outsider: LocalAccount = Account.create()
    rpc(market.w3, "anvil_setBalance", outsider.address, hex(WAD))
    warp(market.w3, 13 * 3600)
    log = tmp_path / "role.log"
    code, stderr = run_keeper_once(
        [*keeper_args(chain.url, market.suite.vault.address), "--local-oracles"],
        log,
        env={"HEDGEVAULT_PRIVATE_KEY": outsider.key.hex()},
    )
    assert code == 0, stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    skips = [e for e in events if e["event"] == "skip" and e.get("action") == "oracle"]
    assert skips and "AccessControlUnauthorizedAccount" in skips[0]["reason"]
    assert [e for e in events if e["event"] == "mined" and e["action"] == "oracle"]
