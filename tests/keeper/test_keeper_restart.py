"""The node goes away and comes back (Anvil stopped and restarted on the same port with ``--state``, so the
chain survives and the mempool does not): the real keeper process backs off, resumes, resends the hedge
the restart lost with the same nonce, and acts on later conditions, with no double action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import WAD, KeeperProcess, Market, hedged_events, mine, rpc, tx_count

from hedgevault.chain import Node, free_port, latest_timestamp, start_anvil, warp

ISOLATE = False  # this module restarts its node: no snapshots


class Restartable:
    """An Anvil on a fixed port whose state file outlives restarts."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.state = log_dir / "anvil-state.json"
        self.log_dir = log_dir
        self.node = self._start()

    def _start(self, *extra: str) -> Node:
        return start_anvil(port=self.port, log_dir=self.log_dir, extra_args=["--state", str(self.state), *extra])

    def stop(self) -> None:
        self.node.stop()  # SIGTERM: Anvil writes its state file on the way out

    def restart(self, *extra: str) -> None:
        self.node = self._start(*extra)


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    r = Restartable(tmp_path_factory.mktemp("anvil-restart"))
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="module")
def chain(restartable: Restartable) -> Node:
    return restartable.node


def test_keeper_survives_a_node_restart_without_double_actions(
    restartable: Restartable,
    market: Market,
    spawn: Callable[..., KeeperProcess],
    keeper: LocalAccount,
    tmp_path: Path,
) -> None:
    s, w3 = market.suite, market.w3
    config = tmp_path / "keeper.toml"
    config.write_text(
        f"""
rpc_url = "{restartable.node.url}"
poll_interval_sec = 0.1
backoff_initial_sec = 0.2
backoff_max_sec = 1.0
log_level = "debug"
[[vaults]]
address = "{s.vault.address}"
name = "v1"
"""
    )
    proc = spawn(["--config", str(config), "--anvil-account", "3"])
    proc.wait_ticks(w3.eth.block_number)

    # condition 1, before the restart
    market.move_market(3150 * WAD)
    proc.wait_event("mined", action="hedge")

    # condition 2 appears; the keeper's hedge is pending (mining off) when the node goes away
    s.move_pool_price(3300 * WAD, market.trader)
    warp(w3, s.config.oracle.twap_window_sec + 1)
    rpc(w3, "evm_setAutomine", False)
    s.feed.functions.setAnswer(s.feed_answer(3300 * WAD)).transact({"from": s.admin})
    mine(w3)
    breach_block = w3.eth.block_number
    (_, lost) = proc.wait_event("sent", count=2)
    last_timestamp = latest_timestamp(w3)
    restartable.stop()
    proc.wait_event("rpc_unavailable")
    # same port, same chain, the pending hedge is gone. Anvil does not keep the clock offset our warps
    # built up: set its clock back to the chain's before anything is mined
    restartable.restart("--no-mining")
    rpc(w3, "anvil_setTime", last_timestamp + 1)
    proc.wait_event("rpc_restored")
    assert w3.eth.block_number == breach_block  # the chain survived the restart
    (resent,) = proc.wait_event("replace")
    assert resent["nonce"] == lost["nonce"] == 1 and "dropped" in resent["reason"]
    mine(w3)
    rpc(w3, "evm_setAutomine", True)
    proc.wait_event("mined", count=2, action="hedge")
    assert len(hedged_events(s, breach_block)) == 1
    assert not market.check_upkeep()[0]

    # condition 3, after the restart
    market.move_market(3000 * WAD)
    proc.wait_event("mined", count=3, action="hedge")
    mine(w3, 3)
    proc.wait_ticks(w3.eth.block_number)
    assert len(hedged_events(s, breach_block)) == 2
    assert tx_count(w3, keeper.address) == 3  # three conditions, three transactions
    assert proc.process.poll() is None
    assert proc.terminate() == 0
