"""De-risking triggers in the off-chain model (issue 11, the crash target; branch pcrash): does a trigger other than
the vault's (held ex-ante vol above maxVol x (1 + deriskMarginBps)) tell a crash from the estimator's noise, i.e.
keep the crash drawdown ratio while costing less in calm (GBM) markets?

Each variant replaces the model's ``baselines.derisking_assets`` (the vault's ``RebalanceMath.deriskMask``) and
runs ``bench_portfolio_sim.one_seed`` in ``--model`` mode over the seeds (GBM target-vol, risk parity, crash):

* ``maxvol:M``  - the vault's rule: w'Sw > (maxVol x (1 + M))^2 (M = 0.25: the default 2500 bp);
* ``target:M``  - against the targets' own ex-ante vol: w'Sw > (1 + M)^2 t'St;
* ``all:M``     - the vault's rule and every asset held above its target by more than the dust (breadth: a
  market-wide de-risking, not one asset's noise);
* ``two:M``     - the vault's rule and at least two assets above their targets by more than the dust;
* ``never``     - no exemption.

The estimator's variants are flags of the bench itself (``--fast-margin``, ``--follow-up-sec``).

Usage: python bench/bench_portfolio_trigger.py [--seeds 12] [--days 90] [--jobs 2] maxvol:0.25 target:0.2 ...
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_portfolio_sim as sim

from hedgevault.sim.portfolio import baselines as bl
from hedgevault.sim.portfolio.onchain import ChainOptions

_ORIGINAL = bl.derisking_assets
_VARIANT = ("maxvol", 0.25)


def _trigger(weights: Any, targets: Any, cov: Any, max_vol: float, dust: float = bl.RC_DUST) -> list[int]:
    """The variant's trigger, then the vault's choice of assets (``derisking_assets`` with the trigger met).
    ``max_vol`` is the model's maxVol x (1 + the run's margin); the variants' own margin replaces it."""
    kind, margin = _VARIANT
    if kind == "never":
        return []
    w = np.asarray(weights, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    band_top = max_vol / (1 + ChainOptions().derisk_margin)  # the rules' maxVol
    v = float(w @ cov @ w)
    if kind == "target":
        if v <= (1 + margin) ** 2 * float(t @ cov @ t):
            return []
    elif v <= (band_top * (1 + margin)) ** 2:
        return []
    chosen = _ORIGINAL(w, t, cov, 0.0, dust)  # the vault's choice of assets, its trigger always met
    above = int(np.sum(w - t > dust))
    if (kind == "all" and above < len(w)) or (kind == "two" and above < 2):
        return []
    return chosen


def _run(args: tuple[tuple[str, float], int, float, ChainOptions]) -> dict[str, Any]:
    global _VARIANT
    _VARIANT = args[0]
    bl.derisking_assets = _trigger
    return sim.one_seed(args[1], args[2], 4.0, False, args[3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fast-margin", type=float, default=ChainOptions().ewma_fast_margin)
    parser.add_argument("--follow-up-sec", type=int, default=ChainOptions().follow_up_sec)
    parser.add_argument("--out", type=Path, default=Path("bench/results/portfolio_trigger.txt"))
    args = parser.parse_args()
    chain = ChainOptions(ewma_fast_margin=args.fast_margin, follow_up_sec=args.follow_up_sec)
    lines = [
        f"De-risking triggers, off-chain model: {args.seeds} seeds x {args.days:g} days, fast margin "
        f"{args.fast_margin:g}, covariance follow-ups every {args.follow_up_sec} s (0: one clipped post a step)",
        "variant | crash DD ratio mean / worst (seeds <= 0.80) | GBM cost bps/y (TE) | cheaper than calendar / 5% "
        "band at equal or better TE | realised vol mean (min-max)",
    ]
    for spec in args.variants:
        kind, _, m = spec.partition(":")
        variant = (kind, float(m or 0))
        jobs = [(variant, s, args.days, chain) for s in range(1, args.seeds + 1)]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rs = list(pool.map(_run, jobs))
        cr = np.array([r["cdd_vault"] / r["cdd_const"] for r in rs])
        vols = np.array([r["vol"] for r in rs])
        cal = sum(r["vault_cost"] < r["cal_cost"] and r["vault_te"] <= r["cal_te"] for r in rs)
        band = sum(r["vault_cost"] < r["band_cost"] and r["vault_te"] <= r["band_te"] for r in rs)
        line = (
            f"{spec} | {cr.mean():.2f} / {cr.max():.2f} ({int(np.sum(cr <= sim.DRAWDOWN_RATIO))}/{len(rs)}) | "
            f"{np.mean([r['vault_cost'] for r in rs]):.0f} ({np.mean([r['vault_te'] for r in rs]):.2%}) | "
            f"{cal}/{len(rs)}, {band}/{len(rs)} | {vols.mean():.2%} ({vols.min():.2%}-{vols.max():.2%})"
        )
        print(line, flush=True)
        lines.append(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
