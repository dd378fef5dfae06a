"""The keeper's Prometheus metrics as a scraper sees them: the real ``hedgevault keeper`` process's HTTP
endpoint parsed with prometheus_client's own parser (names, types, labels, the histogram's buckets, the
last-hedge timestamp against the chain), and in-process keepers for what needs the chain held still
(a transaction sent but not mined: Anvil with automine off) or taken away (a node stopped under a running
keeper). Also the log's explanation of a hedge that cannot buy once withdrawals emptied the free cash."""

from __future__ import annotations

import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import WAD, KeeperProcess, Market, keeper_args, mine, rpc, wait_for
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from hedgevault.chain import Node, free_port, start_anvil
from hedgevault.hints import for_keeper
from hedgevault.keeper import Keeper, KeeperConfig, KeeperMetrics, VaultConfig
from hedgevault.keeper.logs import explain
from hedgevault.txs import send

Spawn = Callable[..., KeeperProcess]
#: Names of the keeper's own metrics; the standard collectors' start ``process_`` or ``python_``.
OWN_NAME = re.compile(r"^hedgevault_[a-z0-9_]+$")
STANDARD_PREFIXES = ("process_", "python_")


def _scrape(port: int) -> dict[str, tuple[str, list[Sample]]]:
    """family name -> (type, samples) from the endpoint's text format."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {f.name: (f.type, list(f.samples)) for f in text_string_to_metric_families(text)}


def _value(families: dict[str, tuple[str, list[Sample]]], sample: str, **labels: str) -> float:
    family = next(n for n in families if sample == n or sample.startswith(n + "_"))
    (value,) = [s.value for s in families[family][1] if s.name == sample and s.labels == labels]
    return value


def test_the_endpoint_follows_the_naming_conventions(
    chain: Node, market: Market, spawn: Spawn, keeper: LocalAccount
) -> None:
    vault = market.suite.vault.address
    port = free_port()
    proc = spawn(keeper_args(chain.url, vault, "--anvil-account", "3", "--metrics-port", str(port)))
    proc.wait_ticks(market.w3.eth.block_number)
    market.move_market(3150 * WAD)
    proc.wait_event("mined", action="hedge")
    block = market.w3.eth.block_number
    proc.wait_ticks(block)
    families = _scrape(port)

    for name, (kind, samples) in families.items():
        assert OWN_NAME.match(name) or name.startswith(STANDARD_PREFIXES), name
        if kind == "counter":
            assert all(s.name == name + "_total" for s in samples), f"{name}: {[s.name for s in samples]}"
    for standard in (
        "process_cpu_seconds",
        "process_resident_memory_bytes",
        "python_gc_objects_collected",
        "python_info",
    ):
        assert standard in families, f"{standard} missing: the standard collectors are registered"

    assert _value(families, "hedgevault_keeper_vault_info", vault=vault, name="v1", kind="option") == 1
    assert _value(families, "hedgevault_keeper_actions_total", vault=vault, action="hedge") == 1
    last_hedge = market.suite.vault.functions.lastHedgeTime().call()
    assert last_hedge > 0
    assert _value(families, "hedgevault_keeper_last_hedge_timestamp_seconds", vault=vault) == last_hedge
    assert _value(families, "hedgevault_keeper_pending_transactions", vault=vault) == 0  # mined
    assert _value(families, "hedgevault_keeper_rpc_up") == 1
    assert _value(families, "hedgevault_keeper_head_block_number") >= block
    assert abs(_value(families, "hedgevault_keeper_last_tick_timestamp_seconds") - time.time()) < 60
    book = market.suite.book_view()
    assert _value(families, "hedgevault_keeper_hedge_underlying_tokens", vault=vault) == book["hedgeWad"] / WAD
    assert _value(families, "hedgevault_keeper_collateral_quote_units", vault=vault) == book["collateral"]

    kind, samples = families["hedgevault_keeper_tick_duration_seconds"]
    assert kind == "histogram"
    buckets = [s for s in samples if s.name == "hedgevault_keeper_tick_duration_seconds_bucket"]
    assert len(buckets) >= 10 and buckets[-1].labels["le"] == "+Inf"
    ticks = _value(families, "hedgevault_keeper_tick_duration_seconds_count")
    assert ticks >= 2 and buckets[-1].value == ticks
    assert not [s for f in families.values() for s in f[1] if s.name.endswith("_created")]
    assert proc.terminate() == 0


def _keeper(w3: Web3, account: LocalAccount, vault: str, metrics: KeeperMetrics, **kw: object) -> Keeper:
    config = KeeperConfig(vaults=[VaultConfig(vault, "v1")], **kw)  # type: ignore[arg-type]
    return Keeper(w3, account, config, metrics=metrics)


def test_pending_transactions_count_a_sent_transaction_until_it_is_mined(market: Market, keeper: LocalAccount) -> None:
    vault = market.suite.vault.address
    market.move_market(3150 * WAD)
    metrics = KeeperMetrics(process_metrics=False)
    k = _keeper(market.w3, keeper, vault, metrics)
    rpc(market.w3, "evm_setAutomine", False)
    (sent,) = k.tick()
    assert (sent.kind, sent.status) == ("hedge", "pending")
    pending = metrics.registry.get_sample_value("hedgevault_keeper_pending_transactions", {"vault": vault})
    assert pending == 1
    assert (
        metrics.registry.get_sample_value("hedgevault_keeper_actions_total", {"vault": vault, "action": "hedge"}) == 1
    )
    mine(market.w3)
    (landed,) = k.tick()
    assert (landed.kind, landed.status) == ("hedge", "success")
    assert metrics.registry.get_sample_value("hedgevault_keeper_pending_transactions", {"vault": vault}) == 0
    last_hedge = market.suite.vault.functions.lastHedgeTime().call()
    mine(market.w3)
    assert k.tick() == []
    observed = metrics.registry.get_sample_value("hedgevault_keeper_last_hedge_timestamp_seconds", {"vault": vault})
    assert observed == last_hedge


def test_rpc_up_falls_to_zero_when_the_node_stops(
    tmp_path_factory: pytest.TempPathFactory, keeper: LocalAccount
) -> None:
    """A running keeper on a node of its own that is then stopped: rpc_up 1 -> 0 and one keeper-wide failure
    (no vault: the empty label value). The "vault" there is a stub that reverts every call (``REVERT(0, 0)``):
    its checks fail and are counted under its address, the ticks complete."""
    node = start_anvil(log_dir=tmp_path_factory.mktemp("anvil-dies"))
    metrics = KeeperMetrics(process_metrics=False)
    stop = threading.Event()
    thread: threading.Thread | None = None
    try:
        w3 = Web3(HTTPProvider(node.url, request_kwargs={"timeout": 5}, exception_retry_configuration=None))
        nowhere = Web3.to_checksum_address("0x" + "42" * 20)
        rpc(w3, "anvil_setCode", nowhere, "0x60006000fd")
        k = _keeper(w3, keeper, nowhere, metrics, poll_interval_sec=0.05, backoff_initial_sec=0.05)
        assert metrics.registry.get_sample_value("hedgevault_keeper_rpc_up") == 0  # before the first tick
        thread = threading.Thread(target=k.run, args=(stop,), daemon=True)
        thread.start()
        wait_for(lambda: metrics.registry.get_sample_value("hedgevault_keeper_rpc_up") == 1, "rpc_up 1")
        checks = metrics.registry.get_sample_value(
            "hedgevault_keeper_failures_total", {"vault": nowhere, "reason": "check:empty"}
        )
        assert checks is not None and checks >= 1
        node.stop()
        wait_for(lambda: metrics.registry.get_sample_value("hedgevault_keeper_rpc_up") == 0, "rpc_up 0")
        down = metrics.registry.get_sample_value(
            "hedgevault_keeper_failures_total", {"vault": "", "reason": "rpc:unavailable"}
        )
        assert down == 1
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)
        node.stop()


def test_a_hedge_that_cannot_buy_after_withdrawals_is_explained(
    market: Market, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """The depositor withdraws all that may leave, which empties the vault's free cash; the price then rises
    and the short calls need more underlying, which the hedger cannot buy without quote. The keeper's log says
    what the revert means and what to do, in words."""
    s, w3 = market.suite, market.w3
    room = int(s.vault.functions.maxWithdraw(market.depositor).call())
    send(w3, s.vault.functions.withdraw(room, market.depositor, market.depositor), market.depositor)
    market.move_market(3300 * WAD)
    assert market.check_upkeep()[0]
    metrics = KeeperMetrics(process_metrics=False)
    k = _keeper(w3, keeper, s.vault.address, metrics)
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        (record,) = k.tick()
    assert (record.kind, record.status) == ("skip", "waiting")
    assert record.reason is not None and record.reason.startswith("NothingToHedge(")
    (waiting,) = [r for r in caplog.records if r.getMessage() == "hedge_waiting"]
    fields = waiting.fields  # type: ignore[attr-defined]
    assert fields["explanation"].startswith("NothingToHedge: the hedge slice traded nothing")
    assert "no free quote" in fields["explanation"] and "withdrawals" in fields["explanation"]
    assert fields["gap_left"] > 0
    waits = metrics.registry.get_sample_value(
        "hedgevault_keeper_hedge_waits_total", {"vault": s.vault.address, "reason": "NothingToHedge"}
    )
    assert waits == 1


def test_explain_finds_the_error_in_a_reason() -> None:
    """The keeper's explanation is the shared table's meaning and keeper step (``hedgevault.hints``); the
    table's coverage of the declared errors is tests/unit/test_hints.py."""
    reason = "waiting: NothingToHedge(hedgeWad=1, targetWad=2)"
    assert explain(None, reason) == "NothingToHedge: " + str(for_keeper("NothingToHedge"))
    assert explain("Error('x')", "UnknownThing(a=1)") is None
    assert explain("simulate: Panic(0x11); then FeedStale(updatedAt=1)") == "FeedStale: " + str(for_keeper("FeedStale"))
    assert "the keeper reports the outage" in str(explain("FeedStale(updatedAt=1)"))
