"""Hedging quality: the vault sells one at-the-money option (a call, or with ``--option put`` a put; 7 days,
vol 80%, spot 3000) and the real keeper hedges it N times over its life (the hedge interval is life / N, the
band is wide so that only the interval triggers, nothing else trades). Over many GBM seeds (constant vol
80%, zero drift; the realised vol equals the implied one), the standard deviation of the hedged PnL (NAV
change from the sale to the settlement) is compared with discrete hedging theory (Derman and Kamal):

    sd ~ sqrt(pi / 4) x vega x sigma / sqrt(N),  vega = S sqrt(T) phi(d1) quote per 1.00 of vol, per option

(the same for a call and a put of one strike). A short call is hedged long (underlying bought); a short put
is hedged short by the suite's default ``AaveHedger`` (underlying borrowed on the Aave v3 market against quote
collateral and sold): the bench checks that the hedger is that one and that the hedge went short. The NAV
counts the debt with its interest and the collateral with its supply interest, so the PnL includes both;
their means are printed beside it (from the simulator's ledger).

Each N runs on the pools asked for: by default the 0.3% fee tier and a zero-fee pool (tier 0, enabled by the
factory owner at deployment); both keep the price impact of the hedge swaps. Beside each, the same runs with
every swap cost (fee + price impact against the oracle) added back by the PnL attribution: every hedge at the
oracle price, the frictionless figure of the theory. On the fee tier the bench also reports the N that
minimises the total cost, taken as mean swap cost + 1 x sd of the hedged PnL (a one-standard-deviation risk
charge on top of the expected cost; the root of the sum of their squares, the RMS loss around the
frictionless mean, is printed beside it).

Between seeds the chain is reset with evm_snapshot / evm_revert instead of redeploying. ``--jobs`` runs that
many Anvil + worker pairs side by side (seeds are split into chunks; results do not depend on it). The
standard error of a ratio of standard deviations over n seeds is ratio / sqrt(2 (n - 1)).

Usage:
    python bench/bench_hedging.py [--option call] [--seeds 12] [--n 24 96 384] [--pool-fees 3000 0]
    python bench/bench_hedging.py --option put --seeds 8 --jobs 2 --out bench/results/hedging-put.md
      (put defaults: N = 24 48 96 192 384 on the 0.3% pool, N = 96 384 on the zero-fee pool)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.chain import local_node
from hedgevault.sim.engine import OpeningTrade, SeriesSpec, SimConfig, Simulation
from hedgevault.sim.scenario import GbmParams, gbm_scenario
from hedgevault.suite import HedgeParams, SuiteConfig

WAD = 10**18
LIFE_SEC = 7 * 86_400
SPOT = 3000.0
VOL = 0.8
#: Default plans: N per pool fee tier (pips).
DEFAULT_N = {"call": (24, 96, 384), "put": (24, 48, 96, 192, 384)}
DEFAULT_ZERO_FEE_N = {"call": (24, 96, 384), "put": (96, 384)}
#: A worker's task is at least this many hedge steps (seeds x N), so that the ~5 s setup stays small.
_MIN_TASK_STEPS = 400


def theory_sd(n: int) -> float:
    """Derman-Kamal: sqrt(pi/4) x vega x sigma / sqrt(N), quote per option."""
    t = LIFE_SEC / (365 * 86_400)
    d1 = VOL * math.sqrt(t) / 2
    vega = SPOT * math.sqrt(t) * math.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi)
    return math.sqrt(math.pi / 4) * vega * VOL / math.sqrt(n)


def config_for(n: int, pool_fee: int, is_call: bool) -> SimConfig:
    step = LIFE_SEC // n
    suite = SuiteConfig(
        spot_wad=int(SPOT) * WAD,
        pool_fee=pool_fee,
        hedge=HedgeParams(delta_band_wad=10 * WAD, dust_delta_wad=0, hedge_interval_sec=step),
    )
    scenario = gbm_scenario(GbmParams(spot=SPOT, vol=VOL), horizon_sec=LIFE_SEC, step_sec=step, seed=0)
    return SimConfig(
        scenario=scenario,
        seed=0,
        suite=suite,
        series=(SeriesSpec(LIFE_SEC, int(SPOT) * WAD, is_call),),
        agents=None,
        initial_deposits_whole=(100_000,),
        opening_trades=(OpeningTrade(0, WAD),),
    )


@dataclass
class Outcome:
    """One seed's run, quote per option (floats)."""

    seed: int
    pnl: float
    swap_cost: float
    borrow_interest: float
    supply_interest: float
    hedges: int
    hedge_min: float
    hedge_max: float


@dataclass
class Cell:
    """All seeds of one (N, pool fee)."""

    n: int
    fee: int
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(o, name) for o in sorted(self.outcomes, key=lambda o: o.seed)], dtype=float)


def run_seeds(n: int, pool_fee: int, is_call: bool, seeds: list[int]) -> tuple[list[Outcome], float]:
    """Deploy once on a fresh Anvil, then run each seed from a snapshot of the setup."""
    started = time.perf_counter()
    out: list[Outcome] = []
    with local_node() as node:
        w3 = node.web3()
        config = config_for(n, pool_fee, is_call)
        sim = Simulation(w3, config)
        sim.setup()
        kind = sim.suite.config.hedger.kind
        if not is_call and (kind != "aave" or not sim.can_short):
            raise RuntimeError(f"a put is hedged short: the bench needs the default AaveHedger, not {kind!r}")
        snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        qs = 10**config.suite.quote_decimals
        for seed in seeds:
            w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
            snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
            step = LIFE_SEC // n
            sim.restart(
                gbm_scenario(GbmParams(spot=SPOT, vol=VOL), horizon_sec=LIFE_SEC, step_sec=step, seed=seed), seed
            )
            sim.run()
            if sim.ledger.settlements != 1:
                raise RuntimeError(f"N={n} seed {seed}: the option did not settle")
            hedges = [r.hedge for r in sim.records]
            if not is_call and min(hedges) >= 0:
                raise RuntimeError(f"N={n} seed {seed}: the put's hedge never went short")
            pnl = sim.ledger.pnl
            out.append(
                Outcome(
                    seed=seed,
                    pnl=(sim.records[-1].nav - sim.nav0) / qs,
                    swap_cost=float(pnl.swap_cost) / qs,
                    borrow_interest=float(pnl.borrow_interest) / qs,
                    supply_interest=pnl.supply_interest / qs,
                    hedges=sim.ledger.hedges,
                    hedge_min=min(hedges),
                    hedge_max=max(hedges),
                )
            )
    return out, time.perf_counter() - started


def _task(args: tuple[int, int, bool, list[int]]) -> tuple[int, int, list[Outcome], float]:
    n, fee, is_call, seeds = args
    outcomes, seconds = run_seeds(n, fee, is_call, seeds)
    return n, fee, outcomes, seconds


def plan(ns_fee: list[int], ns_zero: list[int], fees: list[int]) -> list[tuple[int, int]]:
    """(N, fee) cells in print order: by N, then fee tier as given."""
    cells = {(n, fee) for fee in fees for n in (ns_zero if fee == 0 else ns_fee)}
    order = {fee: i for i, fee in enumerate(fees)}
    return sorted(cells, key=lambda c: (c[0], order[c[1]]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--option", choices=("call", "put"), default="call", help="the option the vault sells")
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--pool-fees", type=int, nargs="+", default=[3000, 0], help="fee tiers in pips")
    parser.add_argument("--n", type=int, nargs="+", default=None, help="hedges per life on the fee tiers")
    parser.add_argument("--zero-fee-n", type=int, nargs="+", default=None, help="hedges per life, zero-fee pool")
    parser.add_argument("--jobs", type=int, default=1, help="Anvil + worker pairs side by side")
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/hedging[-put].md")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 (a standard deviation)")
    is_call = args.option == "call"
    ns_fee = list(args.n or DEFAULT_N[args.option])
    ns_zero = list(args.zero_fee_n or DEFAULT_ZERO_FEE_N[args.option])
    out_path = args.out or Path("bench/results/hedging.md" if is_call else "bench/results/hedging-put.md")
    cells_order = plan(ns_fee, ns_zero, args.pool_fees)
    cells = {key: Cell(*key) for key in cells_order}
    started = time.perf_counter()
    tasks: list[tuple[int, int, bool, list[int]]] = []
    seeds = list(range(1, args.seeds + 1))
    for n, fee in cells_order:
        chunk = max(1, math.ceil(_MIN_TASK_STEPS / n))
        tasks += [(n, fee, is_call, seeds[i : i + chunk]) for i in range(0, len(seeds), chunk)]
    tasks.sort(key=lambda t: -t[0] * len(t[3]))  # longest first: the workers finish together
    print(
        f"{args.option}: {len(cells_order)} cells, {args.seeds} seeds, {len(tasks)} tasks on {args.jobs} job(s)",
        flush=True,
    )
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for n, fee, outcomes, seconds in pool.map(_task, tasks):
            cells[(n, fee)].outcomes += outcomes
            cells[(n, fee)].seconds += seconds
            print(f"  N={n} fee {fee}: seeds {[o.seed for o in outcomes]} done in {seconds:.0f} s", flush=True)
    total = time.perf_counter() - started
    text = report(args.option, args.seeds, [cells[k] for k in cells_order], total, args.jobs)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text + "\n")
    print(text)
    return 0


def report(option: str, n_seeds: int, cells: list[Cell], total_sec: float, jobs: int) -> str:
    se = 1 / math.sqrt(2 * (n_seeds - 1))
    hedge_side = "long (underlying bought)" if option == "call" else "short (borrowed on Aave v3 and sold)"
    lines = [
        f"# Hedging quality, short ATM {option} (bench/bench_hedging.py --option {option})",
        "",
        f"machine: {machine()}; {n_seeds} seeds per cell; {jobs} job(s); total {total_sec:.0f} s wall",
        "",
        f"One ATM {option} sold by the vault (spot 3000, strike 3000, 7 days, vol 80% constant, zero drift, rate 0),",
        f"hedged {hedge_side} every life/N by the real keeper on a Uniswap V3 pool of the given fee tier (band",
        "10, so only the interval triggers). PnL = the vault's NAV change from the sale to the settlement, quote",
        "per option (swap costs and Aave interest included). Theory: Derman-Kamal sqrt(pi/4) x vega x sigma /",
        "sqrt(N). 'At the oracle' = the same runs with every swap cost (fee + price impact against the oracle)",
        "added back by the PnL attribution. Ratios +- one standard error (ratio / sqrt(2 (seeds - 1)) =",
        f"{100 * se:.0f}% of the ratio). Interest: mean borrow interest paid / supply interest earned per run.",
        "",
        "| N | pool fee | theory sd | sd of PnL | ratio | sd at the oracle | ratio | mean PnL | mean PnL at the "
        "oracle | mean swap cost | interest: borrow / supply | hedges | hedge range | worker time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        pnl, cost = c.column("pnl"), c.column("swap_cost")
        free = pnl + cost
        theory = theory_sd(c.n)
        sd, sd_free = float(np.std(pnl, ddof=1)), float(np.std(free, ddof=1))
        lines.append(
            f"| {c.n} | {c.fee / 10_000:g}% | {theory:.2f} | {sd:.2f} | {sd / theory:.3f} +- {sd / theory * se:.3f} "
            f"| {sd_free:.2f} | {sd_free / theory:.3f} +- {sd_free / theory * se:.3f} | {pnl.mean():.2f} | "
            f"{free.mean():.2f} | {cost.mean():.2f} | {c.column('borrow_interest').mean():.4f} / "
            f"{c.column('supply_interest').mean():.4f} | {c.column('hedges').mean():.1f} | "
            f"{c.column('hedge_min').min():+.3f} .. {c.column('hedge_max').max():+.3f} | {c.seconds:.0f} s |"
        )
    zero = [c for c in cells if c.fee == 0]
    if zero:
        lines += ["", "Zero-fee pool against the target (sd within 1.1 x Derman-Kamal):", ""]
        for c in zero:
            ratio = float(np.std(c.column("pnl"), ddof=1)) / theory_sd(c.n)
            if ratio <= 1.1:
                verdict = "met"
            else:
                verdict = "missed, within one standard error" if ratio * (1 - se) <= 1.1 else "missed"
            lines.append(f"- N = {c.n}: ratio {ratio:.3f} +- {ratio * se:.3f}: **{verdict}**")
    for fee in sorted({c.fee for c in cells if c.fee != 0}):
        curve = [c for c in cells if c.fee == fee]
        lines += [
            "",
            f"Total cost on the {fee / 10_000:g}% pool: mean swap cost + 1 x sd of the hedged PnL (quote per option);",
            "RMS = sqrt(mean cost^2 + sd^2):",
            "",
            "| N | mean swap cost | sd of PnL | cost + sd | RMS |",
            "|---|---|---|---|---|",
        ]
        totals = []
        for c in curve:
            cost = float(c.column("swap_cost").mean())
            sd = float(np.std(c.column("pnl"), ddof=1))
            totals.append((cost + sd, c.n))
            lines.append(f"| {c.n} | {cost:.2f} | {sd:.2f} | {cost + sd:.2f} | {math.hypot(cost, sd):.2f} |")
        best = min(totals)
        lines += ["", f"Minimum of cost + sd: N = {best[1]} ({best[0]:.2f} quote per option)."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
