"""Delta neutrality of the demo market over many seeds: the simulator of ``hedgevault simulate`` (the same
scenario, demo configuration and step loop: ``hedgevault.sim.run.build_scenario``, ``demo_config``,
``Simulation``; GBM, 7 days at hourly steps, agents alternating call-heavy and put-heavy stretches, the real
keeper with the default ``AaveHedger``) run once per seed, without the charts and files.

Printed per seed, from the state after each step's last keeper pass: the share of steps with |net delta|
within the vault's band (0.5 underlying by default), the largest |net delta|, the longest run of consecutive
steps outside the band and whether the keeper was working through a sliced hedge throughout it (a step is
"in progress" when the hedger traded a slice in it or the keeper's hedge waited for arbitrage:
``Slice`` events and the keeper's waiting passes, per step), the hedge's range (min/max: short under put-heavy
books, long under call-heavy ones), hedge upkeeps / slices / waits, Aave interest (borrow paid, supply earned)
and the wall time. Then the aggregate against issue 10's targets: >= 95% of steps within the band (each seed
and overall), and never more than 3 consecutive steps outside except while a sliced hedge is in progress.
The demo's own run (``make demo``: seed 1) is marked.

Usage: python bench/bench_neutrality.py [--seeds 12] [--jobs 1] [--out bench/results/neutrality.txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.chain import local_node
from hedgevault.sim.engine import Simulation, StepRecord
from hedgevault.sim.report import summary
from hedgevault.sim.run import RunOptions, build_scenario, demo_config
from hedgevault.suite import SuiteConfig

TARGET_SHARE = 0.95
TARGET_RUN = 3
DEMO_SEED = RunOptions().seed


@dataclass
class Run:
    """Consecutive steps outside the band: first step, length, and whether every step of it had a slice
    or a waiting hedge."""

    start: int
    length: int
    in_progress: bool


@dataclass
class SeedResult:
    seed: int
    steps: int
    share_in_band: float
    max_abs_net_delta: float
    runs: list[Run]
    hedge_min: float
    hedge_max: float
    hedges: int
    slices: int
    waits: dict[str, int]
    borrow_interest: float
    supply_interest: float
    seconds: float
    band: float

    @property
    def longest(self) -> Run | None:
        return max(self.runs, key=lambda r: (r.length, not r.in_progress), default=None)

    @property
    def longest_idle(self) -> int:
        """The longest run outside the band in which some step had neither a slice nor a waiting hedge."""
        return max((r.length for r in self.runs if not r.in_progress), default=0)


def outside_runs(records: list[StepRecord], working: list[bool], band: float) -> list[Run]:
    runs: list[Run] = []
    current: Run | None = None
    for k, r in enumerate(records):
        if abs(r.net_delta) > band:
            if current is None:
                current = Run(k, 0, True)
                runs.append(current)
            current.length += 1
            current.in_progress = current.in_progress and working[k]
        else:
            current = None
    return runs


def run_seed(seed: int) -> SeedResult:
    """The demo simulation for ``seed`` on a fresh embedded Anvil."""
    started = time.perf_counter()
    options = RunOptions(seed=seed, charts=False, quiet=True)
    config = demo_config(build_scenario(options, SuiteConfig()), seed)
    waits_after: list[int] = []
    with local_node() as node:
        sim = Simulation(node.web3(), config)
        sim.setup()

        def progress(_: StepRecord) -> None:
            waits_after.append(sum(sim.counters.hedge_waits.values()))

        sim.run(progress)
        s: dict[str, Any] = summary(sim)
    records = sim.records
    working = [
        (r.slices > (records[k - 1].slices if k else 0)) or (waits_after[k] > (waits_after[k - 1] if k else 0))
        for k, r in enumerate(records)
    ]
    n = s["neutrality"]
    return SeedResult(
        seed=seed,
        steps=len(records),
        share_in_band=n["share_in_band"],
        max_abs_net_delta=n["max_abs_net_delta"],
        runs=outside_runs(records, working, n["band"]),
        hedge_min=s["hedge_min"],
        hedge_max=s["hedge_max"],
        hedges=s["hedges"],
        slices=s["slices"],
        waits=s["hedge_waits"],
        borrow_interest=s["pnl"]["borrow_interest"],
        supply_interest=s["pnl"]["supply_interest"],
        seconds=time.perf_counter() - started,
        band=n["band"],
    )


def report(results: list[SeedResult], jobs: int, total_sec: float) -> str:
    band = results[0].band
    lines = [
        "Delta neutrality of the demo market (bench/bench_neutrality.py): `hedgevault simulate` defaults (GBM, 7 days "
        "hourly, agents alternating call-heavy and put-heavy stretches, AaveHedger), one run per seed",
        f"machine: {machine()}; {len(results)} seeds, {jobs} job(s), {total_sec:.0f} s wall",
        f"band: |net delta| <= {band:g} underlying after each step's last keeper pass; a run outside is 'sliced' when "
        "every step of it had a hedge slice or a waiting hedge",
        "",
        "| seed | steps in band | max abs net delta | longest run outside (sliced?) | longest run not sliced | "
        "hedge min .. max | upkeeps / slices | waits | interest: borrow / supply | time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lr = r.longest
        longest = (
            "0" if lr is None else f"{lr.length} (step {lr.start}, {'sliced' if lr.in_progress else 'not sliced'})"
        )
        waits = ", ".join(f"{k} {v}" for k, v in r.waits.items()) or "none"
        demo = " (demo)" if r.seed == DEMO_SEED else ""
        lines.append(
            f"| {r.seed}{demo} | {100 * r.share_in_band:.1f}% | {r.max_abs_net_delta:.3f} | {longest} | "
            f"{r.longest_idle} | {r.hedge_min:+.2f} .. {r.hedge_max:+.2f} | {r.hedges} / {r.slices} | {waits} | "
            f"{r.borrow_interest:.4f} / {r.supply_interest:.4f} | {r.seconds:.0f} s |"
        )
    steps = sum(r.steps for r in results)
    in_band = sum(r.share_in_band * r.steps for r in results)
    worst_share = min(results, key=lambda r: r.share_in_band)
    worst_idle = max(results, key=lambda r: r.longest_idle)
    share_ok = all(r.share_in_band >= TARGET_SHARE for r in results)
    run_ok = worst_idle.longest_idle <= TARGET_RUN
    both_sides = sum(r.hedge_min < 0 < r.hedge_max for r in results)
    lines += [
        "",
        f"Overall: {100 * in_band / steps:.1f}% of {steps} steps within the band; lowest seed {worst_share.seed} at "
        f"{100 * worst_share.share_in_band:.1f}% (target >= {100 * TARGET_SHARE:.0f}% each: "
        f"**{'met' if share_ok else 'missed'}**); max |net delta| {max(r.max_abs_net_delta for r in results):.3f}.",
        f"Longest run outside the band: {max((lr.length for r in results if (lr := r.longest)), default=0)} steps; "
        f"longest not during a sliced hedge: {worst_idle.longest_idle} (seed {worst_idle.seed}) (target <= "
        f"{TARGET_RUN}: **{'met' if run_ok else 'missed'}**).",
        f"Runs outside the band: {sum(len(r.runs) for r in results)}, of which sliced throughout "
        f"{sum(x.in_progress for r in results for x in r.runs)}.",
        f"Both hedge signs (long and short) in {both_sides} of {len(results)} seeds.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="seeds 1..N (1 is the demo's)")
    parser.add_argument("--jobs", type=int, default=1, help="simulations (each with its Anvil) side by side")
    parser.add_argument("--out", type=Path, default=Path("bench/results/neutrality.txt"))
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    started = time.perf_counter()
    results: list[SeedResult] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for r in pool.map(run_seed, range(1, args.seeds + 1)):
            print(
                f"seed {r.seed}: {100 * r.share_in_band:.1f}% in band, longest outside "
                f"{r.longest.length if r.longest else 0}, {r.seconds:.0f} s",
                flush=True,
            )
            results.append(r)
    text = report(results, args.jobs, time.perf_counter() - started)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
