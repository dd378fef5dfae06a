"""Helpers of the keeper tests: a market on a suite (deposit, list, buy, move the price), events counted
from the chain, and the REAL keeper process (``.venv/bin/hedgevault keeper``) with its JSON-lines log.

Amounts: quote in quote units, options in underlying wad, prices in wad.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from hedgevault.chain import latest_timestamp, warp
from hedgevault.suite import Suite
from hedgevault.toolchain.paths import PROJECT_ROOT
from hedgevault.txs import send

WAD = 10**18
DAY = 86_400
HEDGEVAULT = str(Path(sys.executable).with_name("hedgevault"))
#: Generous bound for a condition a test waits for (the keeper polls every 0.1 s); a failure, not a timing.
WAIT_SEC = 60.0


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, f"{method}: {response['error']}"
    return response.get("result")


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        rpc(w3, "evm_mine")


@dataclass
class Market:
    """A suite with a depositor, one listed 7-day call at 3000 and a buyer; ``hedged_baseline`` leaves the
    vault hedged, so a test starts with nothing to do."""

    suite: Suite
    depositor: str
    buyer: str
    trader: str
    series_id: int
    expiry: int

    @property
    def w3(self) -> Web3:
        return self.suite.w3

    def buy(self, amount_wad: int) -> None:
        s = self.suite
        premium, fee = s.vault.functions.quoteBuy(self.series_id, amount_wad).call()
        send(s.w3, s.quote.functions.mint(self.buyer, premium + fee), self.buyer)
        send(s.w3, s.quote.functions.approve(s.vault.address, premium + fee), self.buyer)
        send(s.w3, s.vault.functions.buy(self.series_id, amount_wad, premium + fee, self.buyer), self.buyer)

    def move_market(self, price_wad: int) -> int:
        """Move the pool, let the TWAP catch up (window + 1 s), post the feed; return the feed tx's block."""
        s = self.suite
        s.move_pool_price(price_wad, self.trader)
        warp(s.w3, s.config.oracle.twap_window_sec + 1)
        receipt = send(s.w3, s.feed.functions.setAnswer(s.feed_answer(price_wad)), s.admin)
        return int(receipt["blockNumber"])

    def check_upkeep(self) -> tuple[bool, bytes]:
        needed, data = self.suite.vault.functions.checkUpkeep(b"").call()
        return bool(needed), bytes(data)


def setup_market(s: Suite, keeper_addresses: Sequence[str]) -> Market:
    """Deposit 1,000,000 quote, list a 7-day 3000 call (vol 80%), buy 10 and hedge once (admin), grant the
    keepers VOL_UPDATER_ROLE and fund them with 100 ETH."""
    w3 = s.w3
    accounts = [str(a) for a in w3.eth.accounts]
    depositor, buyer, trader = accounts[1], accounts[2], accounts[5]
    amount = s.quote_units(1_000_000)
    send(w3, s.quote.functions.mint(depositor, amount), depositor)
    send(w3, s.quote.functions.approve(s.vault.address, amount), depositor)
    send(w3, s.vault.functions.deposit(amount, depositor), depositor)
    expiry = latest_timestamp(w3) + 7 * DAY
    fn = s.vault.functions.listSeries(expiry, 3000 * WAD, True)
    series_id = int(fn.call({"from": s.admin}))
    send(w3, fn, s.admin)
    send(w3, s.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), s.admin)
    role = s.vol_oracle.functions.VOL_UPDATER_ROLE().call()
    for keeper in keeper_addresses:
        send(w3, s.vol_oracle.functions.grantRole(role, keeper), s.admin)
        rpc(w3, "anvil_setBalance", keeper, hex(100 * WAD))
    market = Market(s, depositor, buyer, trader, series_id, expiry)
    market.buy(10 * WAD)
    needed, data = market.check_upkeep()
    assert needed, "the purchase should have opened a hedge gap"
    send(w3, s.vault.functions.performUpkeep(data), s.admin)
    assert not market.check_upkeep()[0]
    return market


def hedged_events(s: Suite, from_block: int = 0) -> list[Any]:
    return list(s.vault.events.Hedged().get_logs(from_block=from_block))


def tx_count(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(address), "latest"))


def wait_for(condition: Callable[[], Any], what: str, timeout_sec: float = WAIT_SEC) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout_sec``."""
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class KeeperProcess:
    """``hedgevault keeper`` as a subprocess; its JSON-lines log is ``log_path``."""

    def __init__(self, args: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.args = [HEDGEVAULT, "keeper", *args, "--log-file", str(log_path)]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGEVAULT_")}
        full_env.update(env or {})
        self.stderr_path = log_path.with_suffix(".stderr")
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=self._stderr, env=full_env, cwd=PROJECT_ROOT
        )

    def events(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        out = []
        for line in self.log_path.read_text().splitlines():
            if line.strip():
                out.append(json.loads(line))  # every line must be one JSON object
        return out

    def named(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["event"] == event and all(e.get(k) == v for k, v in match.items())]

    def wait_event(self, event: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        def found() -> list[dict[str, Any]]:
            assert self.process.poll() is None or self.named(event, **match), self.diagnose()
            hits = self.named(event, **match)
            return hits if len(hits) >= count else []

        result: list[dict[str, Any]] = wait_for(found, f"{count} x {event} {match} in {self.log_path}")
        return result

    def wait_ticks(self, blocks: int) -> None:
        """Wait until the keeper has ticked at least at ``blocks`` (a block number)."""
        wait_for(
            lambda: any(e["event"] == "tick" and e["block"] >= blocks for e in self.events()), f"a tick at {blocks}"
        )

    def diagnose(self) -> str:
        return f"keeper exited {self.process.returncode}; stderr: {self.stderr_path.read_text()[-2000:]}"

    def terminate(self, timeout_sec: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_sec)
        finally:
            self._stderr.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._stderr.close()


def run_keeper_once(args: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``hedgevault keeper --once ...`` to completion; (exit code, stderr)."""
    proc = KeeperProcess(["--once", *args], log_path, env)
    try:
        code = proc.process.wait(timeout=120)
    finally:
        proc.kill()
    return code, proc.stderr_path.read_text()


def keeper_args(url: str, vault: str, *extra: str) -> list[str]:
    return ["--rpc-url", url, "--vault", f"{vault}:v1", "--poll-interval", "0.1", "--log-level", "debug", *extra]
