"""Portfolio simulation over seeds (issue 11, "Measured targets"): per seed three runs of ``--days`` (90) at
``--step-hours`` (4) on the same machinery as ``hedgevault simulate --portfolio``:

1. target-vol mode, GBM: the vault's realised annualised volatility (per-share NAV) against the 20% target
   (target: within +-10% relative, 18%-22%); its rebalancing cost (fees + price impact + gas, bps of NAV a
   year) and tracking error against the weekly calendar and the 5%-band baselines on the same paths and
   targets (target: lower cost at equal or better tracking error), and against the band and calendar
   baselines tuned to the vault's tracking error (``matched_baselines``: the widest band, the longest period
   that track as well);
2. risk-parity mode, GBM: the risk contributions w_i (Sw)_i / w'Sw against the budgets (1/3 each) at each
   rebalance (after the step's slices, S the posted covariance), as the largest |RC_i / b_i - 1| (target:
   within 5%); the posted targets' own figure beside it;
3. target-vol mode, crash scenario: the vault's max drawdown against a constant-weight portfolio holding
   the vault's average risky weights (target: at most 80% of it), and buy-and-hold; two figures: the max
   drawdown of the whole path (over 90 days mostly a GBM drawdown before or after the crash, where the
   two hold the same risk), and the crash drawdown: the largest fall of per-share NAV from its running peak
   after the crash's start to a trough before the recovery ends (``crash_drawdown``), what the target is
   about (the vault de-risking through the crash).

"At each rebalance" (risk parity): a step in which the vault traded (on chain: one or more slices, the
keeper landing slices until ``checkUpkeep`` is false), measured on the held weights after the step's last
slice, S the covariance posted at that step.

``--model`` runs the off-chain model of the keeper and the vault instead of the chain (seconds a run);
otherwise each run deploys the stack on its own embedded Anvil (minutes a run; ``--jobs`` in parallel).
``--runs rp`` (or any of ``tv,rp,crash``) runs only those of the three (the figures of the others print as n/a).
``--repost-error`` is the keeper's re-post threshold for risk-parity targets (0: off).

Usage: python bench/bench_portfolio_sim.py [--seeds 12] [--days 90] [--jobs 2] [--model] [--runs tv,rp,crash]
       [--repost-error 0.03] [--out bench/results/portfolio_sim.txt]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.sim.portfolio.market import CrashParams
from hedgevault.sim.portfolio.onchain import ChainOptions
from hedgevault.sim.portfolio.run import PortfolioOptions, matched_baselines, run_portfolio

TARGET_VOL = 0.20
VOL_TOLERANCE = 0.10
RC_TOLERANCE = 0.05
DRAWDOWN_RATIO = 0.80


def _risk_contribution_error(weights: np.ndarray, cov: np.ndarray, budgets: np.ndarray) -> float:
    variance = float(weights @ cov @ weights)
    if variance <= 0:
        return float("inf")
    rc = weights * (cov @ weights) / variance
    return float(np.max(np.abs(rc / budgets - 1)))


def crash_drawdown(values: np.ndarray, crash_steps: tuple[int, int] | None, recovery_steps: int) -> float:
    """The largest fall from the running peak after the crash's first step to a trough before the recovery
    ends (steps crash start .. crash end + recovery); the whole path's max drawdown without a crash."""
    v = np.asarray(values, dtype=np.float64)
    if crash_steps is not None:
        v = v[crash_steps[0] : crash_steps[1] + recovery_steps + 1]
    return float(np.max(1 - v / np.maximum.accumulate(v)))


RUNS = ("tv", "rp", "crash")
NAN = float("nan")
#: The figures of each run, NaN when it was not run.
RUN_KEYS = {
    "tv": [
        "vol",
        "vault_cost",
        "vault_te",
        "vault_te_ex_ante",
        "band_eq_cost",
        "band_eq_width",
        "cal_eq_cost",
        "cal_eq_hours",
        "cal_cost",
        "cal_te",
        "cal_te_ex_ante",
        "band_cost",
        "band_te",
        "band_te_ex_ante",
    ],
    "rp": [
        "rp_rebalances",
        "rp_rc_max",
        "rp_rc_share_in",
        "rp_rc_targets_max",
        "rp_rc_all_steps_max",
        "rp_target_posts",
        "rp_cost",
        "rp_slices",
    ],
    "crash": ["dd_vault", "dd_const", "dd_bh", "cdd_vault", "cdd_const"],
}


def one_seed(
    seed: int, days: float, step_hours: float, onchain: bool, chain: ChainOptions, runs: tuple[str, ...] = RUNS
) -> dict[str, Any]:
    out: dict[str, Any] = {"seed": seed}
    for run_name in RUNS:
        if run_name not in runs:
            out.update(dict.fromkeys(RUN_KEYS[run_name], NAN))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        common = {
            "days": days,
            "step_hours": step_hours,
            "seed": seed,
            "onchain": onchain,
            "quiet": True,
            "chain": chain,
        }
        if "tv" in runs:
            out.update(_target_vol(common, Path(tmp)))
        if "rp" in runs:
            out.update(_risk_parity(common, Path(tmp)))
        if "crash" in runs:
            out.update(_crash(common, Path(tmp)))
    out["wall_sec"] = time.perf_counter() - started
    return out


def _target_vol(common: dict[str, Any], tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tv = run_portfolio(PortfolioOptions(scenario="gbm", mode="target-vol", out_dir=tmp / "tv", charts=False, **common))
    m = {x.name: x for x in tv.metrics}
    vault = tv.metrics[0]
    out["vol"] = vault.realised_vol
    out["vault_cost"] = vault.cost_bps_per_year
    out["vault_te"] = vault.tracking_error
    out["vault_te_ex_ante"] = vault.tracking_error_ex_ante
    matched = matched_baselines(tv)
    out["band_eq_cost"] = matched["band"]["cost_bps_per_year"]
    out["band_eq_width"] = matched["band"]["band"]
    out["cal_eq_cost"] = matched["calendar"]["cost_bps_per_year"]
    out["cal_eq_hours"] = matched["calendar"]["period_hours"]
    for key, name in (("cal", "calendar weekly"), ("band", "5% band")):
        out[f"{key}_cost"] = m[name].cost_bps_per_year
        out[f"{key}_te"] = m[name].tracking_error
        out[f"{key}_te_ex_ante"] = m[name].tracking_error_ex_ante
    out["source"] = tv.vault.source
    return out


def _risk_parity(common: dict[str, Any], tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rp = run_portfolio(PortfolioOptions(scenario="gbm", mode="risk-parity", out_dir=tmp / "rp", charts=False, **common))
    run = rp.vault.run
    n = run.weights.shape[1]
    budgets = np.full(n, 1.0 / n)
    rebalances = [k for k in range(1, len(run.trades)) if run.trades[k] > 0]
    held = [_risk_contribution_error(run.weights[k], rp.vault.covariances[k], budgets) for k in rebalances]
    posted = [_risk_contribution_error(run.targets[k], rp.vault.covariances[k], budgets) for k in rebalances]
    all_steps = [
        _risk_contribution_error(run.weights[k], rp.vault.covariances[k], budgets) for k in range(len(run.trades))
    ]
    out["rp_rebalances"] = len(rebalances)
    out["rp_rc_max"] = max(held, default=float("nan"))
    out["rp_rc_share_in"] = float(np.mean([e <= RC_TOLERANCE for e in held])) if held else float("nan")
    out["rp_rc_targets_max"] = max(posted, default=float("nan"))
    out["rp_rc_all_steps_max"] = max(all_steps)
    # target posts over the run: a step whose targets differ from the step before's (changes, not calls)
    out["rp_target_posts"] = int(np.sum(np.any(np.diff(run.targets, axis=0) != 0, axis=1)))
    out["rp_cost"] = rp.metrics[0].cost_bps_per_year
    out["rp_slices"] = int(np.sum(run.trades))
    out["source"] = rp.vault.source
    return out


def _crash(common: dict[str, Any], tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    crash = run_portfolio(
        PortfolioOptions(scenario="crash", mode="target-vol", out_dir=tmp / "cr", charts=False, **common)
    )
    c = {x.name: x for x in crash.metrics}
    out["dd_vault"] = crash.metrics[0].max_drawdown
    out["dd_const"] = c["constant weight"].max_drawdown
    out["dd_bh"] = c["buy-and-hold"].max_drawdown
    paths = crash.paths
    recovery = round(CrashParams().recovery_days * 86_400 / paths.step_sec)
    vault_values = crash.vault.values if crash.vault.values is not None else crash.vault.run.nav
    const = next(b for b in crash.baselines if b.name == "constant weight")
    out["cdd_vault"] = crash_drawdown(vault_values, paths.crash_steps, recovery)
    out["cdd_const"] = crash_drawdown(const.nav, paths.crash_steps, recovery)
    out["source"] = crash.vault.source
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--step-hours", type=float, default=4.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", action="store_true", help="the off-chain model instead of the chain")
    parser.add_argument("--decay", type=float, default=ChainOptions().ewma_decay, help="the keeper's EWMA decay")
    parser.add_argument(
        "--fast-decay", type=float, default=ChainOptions().ewma_fast_decay, help="the keeper's fast EWMA (0: off)"
    )
    parser.add_argument(
        "--fast-margin", type=float, default=ChainOptions().ewma_fast_margin, help="the fast EWMA's margin"
    )
    parser.add_argument(
        "--band-scale-bp", type=int, default=ChainOptions().band_scale_bp, help="the vault's bandScaleBp"
    )
    parser.add_argument(
        "--derisk-margin-bps",
        type=int,
        default=round(ChainOptions().derisk_margin * 10_000),
        help="the vault's deriskMarginBps: de-risking sales are exempt from the bands while the held ex-ante vol is "
        "above the rules' band by more than this (relative)",
    )
    parser.add_argument(
        "--follow-up-sec",
        type=int,
        default=ChainOptions().follow_up_sec,
        help="on the chain: the keeper's follow-up ticks within a step after a clipped covariance post (s apart; 0: "
        "none, one keeper tick a step)",
    )
    parser.add_argument(
        "--repost-error",
        type=float,
        default=ChainOptions().repost_error,
        help="the keeper's re-post threshold for risk-parity targets: their worst |RC/b - 1| under the newest "
        "covariance (0: off)",
    )
    parser.add_argument(
        "--quote-buffer",
        type=float,
        default=ChainOptions().quote_buffer,
        help="on the chain: the keeper's risk-parity targets scaled by (1 - this), the rest in quote (0: off)",
    )
    parser.add_argument(
        "--runs", default=",".join(RUNS), help=f"which of the three runs per seed (comma-separated: {','.join(RUNS)})"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/portfolio_sim.txt"))
    args = parser.parse_args()
    runs = tuple(r.strip() for r in args.runs.split(",") if r.strip())
    if not runs or any(r not in RUNS for r in runs):
        parser.error(f"--runs: a comma-separated subset of {','.join(RUNS)}, got {args.runs!r}")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    chain = ChainOptions(
        ewma_decay=args.decay,
        ewma_fast_decay=args.fast_decay,
        ewma_fast_margin=args.fast_margin,
        band_scale_bp=args.band_scale_bp,
        derisk_margin=args.derisk_margin_bps / 10_000,
        follow_up_sec=args.follow_up_sec,
        repost_error=args.repost_error,
        quote_buffer=args.quote_buffer,
    )
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(
            pool.map(
                one_seed,
                seeds,
                [args.days] * len(seeds),
                [args.step_hours] * len(seeds),
                [not args.model] * len(seeds),
                [chain] * len(seeds),
                [runs] * len(seeds),
            )
        )
    wall = time.perf_counter() - started
    lo, hi = TARGET_VOL * (1 - VOL_TOLERANCE), TARGET_VOL * (1 + VOL_TOLERANCE)
    lines = [
        f"Portfolio simulation (issue 11): {len(seeds)} seeds x {args.days:g} days at {args.step_hours:g} h steps, "
        f"{results[0]['source']}; keeper EWMA decay {chain.ewma_decay:g} per step (fast {chain.ewma_fast_decay:g}, "
        f"margin {chain.ewma_fast_margin:g}), bandScaleBp {chain.band_scale_bp}, "
        f"deriskMarginBps {round(chain.derisk_margin * 10_000)}, risk-parity re-post threshold "
        f"{chain.repost_error:g}, risk-parity quote buffer {chain.quote_buffer:g}, runs {','.join(runs)}"
        + ("" if args.model else f", keeper follow-ups every {chain.follow_up_sec} s after a clipped post"),
        f"machine: {machine()}; wall time {wall:.0f} s with {args.jobs} jobs",
        "",
        "seed | realised vol (TV) | cost bps/y vault / calendar / 5% band (matched band) | "
        "TE realised vault / cal / band | RP rebalances, max |RC/b-1| held (targets) | "
        "max DD vault / const / B&H (ratio) | crash DD vault / const (ratio)",
    ]
    for r in results:
        ratio = r["dd_vault"] / r["dd_const"] if r["dd_const"] > 0 else float("nan")
        lines.append(
            f"{r['seed']:>4} | {r['vol']:.2%} {'in' if lo <= r['vol'] <= hi else 'OUT'} | "
            f"{r['vault_cost']:.0f} / {r['cal_cost']:.0f} / {r['band_cost']:.0f} ({r['band_eq_cost']:.0f}) | "
            f"{r['vault_te']:.2%} / {r['cal_te']:.2%} / {r['band_te']:.2%} | "
            f"{r['rp_rebalances']}, {r['rp_rc_max']:.1%} ({r['rp_rc_targets_max']:.1%}), "
            f"{r['rp_target_posts']} target changes, {r['rp_slices']} slices, {r['rp_cost']:.0f} bps/y | "
            f"{r['dd_vault']:.1%} / {r['dd_const']:.1%} / {r['dd_bh']:.1%} ({ratio:.2f}) | "
            f"{r['cdd_vault']:.1%} / {r['cdd_const']:.1%} ({r['cdd_vault'] / r['cdd_const']:.2f})"
        )
    vols = np.array([r["vol"] for r in results])
    in_band = int(np.sum((vols >= lo) & (vols <= hi)))
    cheaper_cal = sum(r["vault_cost"] < r["cal_cost"] and r["vault_te"] <= r["cal_te"] for r in results)
    cheaper_band = sum(r["vault_cost"] < r["band_cost"] and r["vault_te"] <= r["band_te"] for r in results)
    ratios = np.array([r["dd_vault"] / r["dd_const"] for r in results])
    cratios = np.array([r["cdd_vault"] / r["cdd_const"] for r in results])
    rc_in = [r["rp_rc_max"] <= RC_TOLERANCE for r in results]
    mean = lambda key: float(np.mean([r[key] for r in results]))  # noqa: E731
    lines += [
        "",
        "summary",
        f"  target vol {TARGET_VOL:.0%}: realised {vols.mean():.2%} mean, {vols.min():.2%} .. {vols.max():.2%}; "
        f"{in_band}/{len(results)} seeds within +-{VOL_TOLERANCE:.0%} relative "
        f"({'met' if in_band == len(results) else 'MISSED'})",
        f"  risk parity: max |RC/b - 1| after a rebalance {max(r['rp_rc_max'] for r in results):.1%} (mean of the "
        f"seeds' max {mean('rp_rc_max'):.1%}; rebalancing steps {mean('rp_rebalances'):.0f} and target changes "
        f"{mean('rp_target_posts'):.0f} a seed (mean), cost {mean('rp_cost'):.0f} bps/y (mean); share of rebalances "
        f"within {RC_TOLERANCE:.0%}: "
        f"{np.nanmean([r['rp_rc_share_in'] for r in results]):.0%}); posted targets "
        f"{max(r['rp_rc_targets_max'] for r in results):.1%}; {sum(rc_in)}/{len(results)} seeds within "
        f"{RC_TOLERANCE:.0%} at every rebalance ({'met' if all(rc_in) else 'MISSED'})",
        f"  cost bps/year (mean): vault {mean('vault_cost'):.0f}, calendar {mean('cal_cost'):.0f}, 5% band "
        f"{mean('band_cost'):.0f}; realised TE (mean): vault {mean('vault_te'):.2%}, calendar {mean('cal_te'):.2%}, "
        f"5% band {mean('band_te'):.2%}; ex-ante TE (mean): vault {mean('vault_te_ex_ante'):.2%}, calendar "
        f"{mean('cal_te_ex_ante'):.2%}, 5% band {mean('band_te_ex_ante'):.2%}",
        f"  lower cost at equal or better TE: vs calendar {cheaper_cal}/{len(results)} seeds, vs 5% band "
        f"{cheaper_band}/{len(results)} seeds "
        f"({'met' if cheaper_cal == cheaper_band == len(results) else 'MISSED'})",
        f"  at the vault's tracking error (baselines tuned to it): a band of {mean('band_eq_width'):.2%} (mean) costs "
        f"{mean('band_eq_cost'):.0f} bps/y, calendar every {mean('cal_eq_hours'):.0f} h (mean) "
        f"{mean('cal_eq_cost'):.0f} bps/y, vault {mean('vault_cost'):.0f}; vault cheaper than the matched band in "
        f"{sum(r['vault_cost'] < r['band_eq_cost'] for r in results)}/{len(results)} seeds, than the matched calendar "
        f"in {sum(r['vault_cost'] < r['cal_eq_cost'] for r in results)}/{len(results)}",
        f"  crash max drawdown: vault {mean('dd_vault'):.1%}, constant weight {mean('dd_const'):.1%}, buy-and-hold "
        f"{mean('dd_bh'):.1%} (means); vault / constant weight {ratios.mean():.2f} mean, {ratios.max():.2f} worst; "
        f"{int(np.sum(ratios <= DRAWDOWN_RATIO))}/{len(results)} seeds <= {DRAWDOWN_RATIO:.0%} "
        f"({'met' if np.all(ratios <= DRAWDOWN_RATIO) else 'MISSED'})",
        f"  crash drawdown (crash start to the recovery's end): vault {mean('cdd_vault'):.1%}, constant weight "
        f"{mean('cdd_const'):.1%} (means); ratio {cratios.mean():.2f} mean, {cratios.max():.2f} worst; "
        f"{int(np.sum(cratios <= DRAWDOWN_RATIO))}/{len(results)} seeds <= {DRAWDOWN_RATIO:.0%} "
        f"({'met' if np.all(cratios <= DRAWDOWN_RATIO) else 'MISSED'})",
        f"  wall time per seed (3 runs): {mean('wall_sec'):.0f} s",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
