"""Hedging quality: the vault sells one at-the-money call (7 days, vol 80%, spot 3000) and the real keeper
hedges it N times over its life (N = 24, 96, 384: the hedge interval is life / N, the band is wide so that
only the interval triggers, nothing else trades). Over many GBM seeds (constant vol 80%, zero drift; the
realised vol equals the implied one), the standard deviation of the hedged PnL (NAV change from the sale
to the settlement) is compared with discrete hedging theory (Derman and Kamal):

    sd ~ sqrt(pi / 4) x vega x sigma / sqrt(N),  vega = S sqrt(T) phi(d1) quote per 1.00 of vol, per option

Each N runs on two pools: the 0.3% fee tier and a zero-fee pool (tier 0, enabled by the factory owner at
deployment); both keep the price impact of the hedge swaps. Beside each, the same runs with every swap
cost (fee + price impact against the oracle) added back by the PnL attribution: every hedge at the
oracle price, the frictionless figure of the theory.
Between seeds the chain is reset with evm_snapshot / evm_revert instead of redeploying. The standard
error of a ratio of standard deviations over n seeds is ratio / sqrt(2 (n - 1)).

Usage: python bench/bench_hedging.py [--seeds 16] [--n 24 96 384] [--pool-fees 3000 0] [--out bench/results/hedging.md]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
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


def theory_sd(n: int) -> float:
    """Derman-Kamal: sqrt(pi/4) x vega x sigma / sqrt(N), quote per option."""
    t = LIFE_SEC / (365 * 86_400)
    d1 = VOL * math.sqrt(t) / 2
    vega = SPOT * math.sqrt(t) * math.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi)
    return math.sqrt(math.pi / 4) * vega * VOL / math.sqrt(n)


def config_for(n: int, pool_fee: int) -> SimConfig:
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
        series=(SeriesSpec(LIFE_SEC, int(SPOT) * WAD, True),),
        agents=None,
        initial_deposits_whole=(100_000,),
        opening_trades=(OpeningTrade(0, WAD),),
    )


def hedged_pnls(n: int, seeds: int, pool_fee: int) -> tuple[list[float], list[float], list[int]]:
    """(PnL with costs, PnL without swap costs, hedges) per seed, quote per option."""
    with_costs: list[float] = []
    frictionless: list[float] = []
    hedges: list[int] = []
    with local_node() as node:
        w3 = node.web3()
        config = config_for(n, pool_fee)
        sim = Simulation(w3, config)
        sim.setup()
        snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        for seed in range(1, seeds + 1):
            w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
            snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
            step = LIFE_SEC // n
            sim.restart(
                gbm_scenario(GbmParams(spot=SPOT, vol=VOL), horizon_sec=LIFE_SEC, step_sec=step, seed=seed), seed
            )
            sim.run()
            if sim.ledger.settlements != 1:
                raise RuntimeError(f"N={n} seed {seed}: the option did not settle")
            qs = 10**config.suite.quote_decimals
            nav_change = (sim.records[-1].nav - sim.nav0) / qs
            with_costs.append(nav_change)
            frictionless.append(nav_change + float(sim.ledger.pnl.swap_cost) / qs)
            hedges.append(sim.ledger.hedges)
    return with_costs, frictionless, hedges


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--pool-fees", type=int, nargs="+", default=[3000, 0], help="fee tiers in pips")
    parser.add_argument("--n", type=int, nargs="+", default=[24, 96, 384])
    parser.add_argument("--out", type=Path, default=Path("bench/results/hedging.md"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    se = 1 / math.sqrt(2 * (args.seeds - 1))
    for n in args.n:
        for fee in args.pool_fees:
            t0 = time.perf_counter()
            costs, free, hedges = hedged_pnls(n, args.seeds, fee)
            theory = theory_sd(n)
            sd_costs = float(np.std(costs, ddof=1))
            sd_free = float(np.std(free, ddof=1))
            row = (
                f"| {n} | {fee / 10_000:g}% | {theory:.2f} | {sd_costs:.2f} | "
                f"{sd_costs / theory:.3f} +- {sd_costs / theory * se:.3f} | {sd_free:.2f} | "
                f"{sd_free / theory:.3f} +- {sd_free / theory * se:.3f} | {np.mean(costs):.2f} | {np.mean(free):.2f} | "
                f"{np.mean(hedges):.1f} | {time.perf_counter() - t0:.0f} s |"
            )
            print(row, flush=True)
            rows.append(row)
    header = [
        "# Hedging quality (bench/bench_hedging.py)",
        "",
        f"machine: {machine()}; {args.seeds} seeds per N; total {time.perf_counter() - started:.0f} s",
        "",
        "One ATM call sold by the vault (spot 3000, strike 3000, 7 days, vol 80% constant, zero drift, rate 0),",
        "hedged every life/N by the real keeper on a Uniswap V3 pool of the given fee tier (band 10, so only the",
        "interval triggers). PnL = the vault's NAV change from the sale to the settlement, quote per option.",
        "Theory: Derman-Kamal sqrt(pi/4) x vega x sigma / sqrt(N). 'At the oracle' = the same runs with every",
        "swap cost (fee + price impact against the oracle) added back by the PnL attribution. Ratios +- one",
        "standard error (ratio / sqrt(2 (seeds - 1))).",
        "",
        "| N | pool fee | theory sd | sd of PnL | ratio | sd at the oracle | ratio | mean PnL | mean PnL at the oracle "
        "| hedges | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    text = "\n".join(header + rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
