"""Keeper metrics benchmark (prints its figures; not a test): what the metrics cost a keeper of N vaults.

1. Recording: one tick's metric updates for N option vaults (``observe_vault`` + ``observe_hedge`` per vault,
   ``observe_pending``, ``observe_tick``), median over repeats. Target: under 1% of the bench_keeper tick time
   with metrics on (137 ms for 100 vaults, bench/results/keeper.txt), i.e. under 1.4 ms.
2. Scraping: ``generate_latest`` of the registry (the HTTP endpoint's body) with every vault's series, the
   action and failure counters filled, the process/platform/GC collectors on and no ``_created`` series (as
   ``KeeperMetrics.serve`` serves them): time and size. Target:
   under 50 ms and 100 KiB for 100 vaults (a 15 s scrape interval takes well under 1% of a core).

    .venv/bin/python bench/bench_metrics.py [--vaults 100] [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import machine
from prometheus_client import disable_created_metrics, generate_latest
from web3 import Web3

from hedgevault.keeper import KeeperConfig, KeeperMetrics, VaultConfig

WAD = 10**18


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vaults", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    vaults = [Web3.to_checksum_address(f"0x{i + 1:040x}") for i in range(args.vaults)]
    config = KeeperConfig(vaults=[VaultConfig(a, f"v{i}") for i, a in enumerate(vaults)])
    disable_created_metrics()  # as KeeperMetrics.serve does for the endpoint
    metrics = KeeperMetrics()
    metrics.describe_vaults(config)
    for a in vaults:  # every counter series a busy keeper would have
        for action in ("hedge", "settle", "replace"):
            metrics.actions.labels(a, action).inc()
        for reason in ("simulate:PoolPriceDeviation", "check:FeedStale"):
            metrics.failures.labels(a, reason).inc()
        metrics.hedge_waits.labels(a, "PoolBeyondLimit").inc()

    record_ms = []
    for r in range(args.repeats):
        started = time.perf_counter()
        for i, a in enumerate(vaults):
            metrics.observe_vault(a, last_hedge_sec=1_700_000_000 + r, hf_wad=2 * WAD + i)
            metrics.observe_hedge(
                a, net_delta_wad=i * WAD // 100, hedge_wad=5 * WAD, gap_wad=WAD // 10, collateral=10**9, claim_reserve=0
            )
        metrics.observe_pending(vaults[: r % 3])
        metrics.observe_tick(head_block=r, balance_wei=10 * WAD, duration_sec=0.1)
        record_ms.append((time.perf_counter() - started) * 1000)

    scrape_ms = []
    body = b""
    for _ in range(max(10, args.repeats // 10)):
        started = time.perf_counter()
        body = generate_latest(metrics.registry)
        scrape_ms.append((time.perf_counter() - started) * 1000)
    series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))

    print(f"keeper metrics benchmark on {machine()}")
    rec = statistics.median(record_ms)
    print(
        f"recording, {args.vaults} vaults: {rec:.3f} ms per tick median, max {max(record_ms):.3f} ms "
        f"(target < 1.4 ms: {'met' if rec < 1.4 else 'missed'})"
    )
    scr = statistics.median(scrape_ms)
    print(
        f"scrape, {args.vaults} vaults: {scr:.2f} ms median, {len(body) / 1024:.1f} KiB, {series} series "
        f"(target < 50 ms and 100 KiB: {'met' if scr < 50 and len(body) < 100 * 1024 else 'missed'})"
    )


if __name__ == "__main__":
    main()
