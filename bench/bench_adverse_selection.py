"""The vault's loss to adverse selection in a skewed market, with the fitted surface and with a flat volatility
(issue 13's target: surface loss <= 20% of flat loss, on the same paths).

Per seed, the simulator of ``hedgevault simulate --market merton`` (the same scenario and configuration:
``build_scenario``, ``demo_config``; Merton's jump-diffusion at its default parameters, the default series: calls and
puts at 90%, 100%, 110% of spot for three expiries) runs twice on the same path:

(a) surface: the market's quotes go to the quotes file every step and the real keeper fits and posts SVI slices
    (``SurfacePoster``); the first surface is posted by the admin at the setup;
(b) flat: the keeper posts each expiry's at-the-money implied vol of the market with ``postVol``.

Only the informed buyer trades (no random buyers or depositors: the two runs see the same flows): each step it buys a
lot (5 options, halved while the vault refuses) of every series whose all-in cost is below the market's (Merton)
value, and sells back what it holds where the vault pays more. The vault's loss to it is printed two ways: the edge
at trade (market value - cost of each buy, proceeds - market value of each sale: what the vault gives away at the
market's prices; the figure the target is judged on) and the buyer's P&L at the end (its quote balance's change,
claims at settlement included, plus what it still holds at the market's price: the edge plus the path's luck). "min
markup" is how close the vault came to being picked off: the smallest (all-in cost / market value - 1) among the buys
compared whose lot is worth more than 1 quote token (negative: the vault was cheaper, and the buyer bought).

With ``--walk-compare`` each seed also runs (c) surface without the walk: the keeper before branch svwalk, whose fits
refused by the rate limit keep the last good slice (``SkewParams.walk`` False); the surface runs then also print the
partial steps posted, the slice batches the keeper's simulation refused ("refused": none should be) and, with
``--jump-at-hours``, how many posts each expiry took after the skew jump to post the
fit itself (the market switches at that hour to Merton parameters with ``--jump-lam`` jumps a year of log-mean
``--jump-mu``: a steeper put skew; the spot path is unchanged).

Usage: python bench/bench_adverse_selection.py [--seeds 1,2] [--days 2] [--step 7200] [--walk-compare]
       [--jump-at-hours H --jump-lam 6 --jump-mu -0.2 [--predict-only]] [--runs surface,no-walk,flat]
       [--out bench/results/adverse_selection.txt]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.params import SuiteConfig
from hedgevault.sim.run import RunOptions, build_scenario, demo_config, run
from hedgevault.surface.merton import MertonParams

TARGET_RATIO = 0.20


def _converge(doc: dict[str, Any], jump_step: int | None) -> str:
    """Per expiry (days from the start): the partial steps posted from the jump's step until the fit itself was
    posted (a step with neither a partial step nor a refusal), "n+" when still walking at the end."""
    if jump_step is None:
        return "-"
    walks: dict[int, set[int]] = {}
    refused: dict[int, set[int]] = {}
    for w in doc.get("walks", []):
        walks.setdefault(w["expiry_offset_sec"], set()).add(w["step"])
    for f in doc.get("fallbacks", []):
        refused.setdefault(f["expiry_offset_sec"], set()).add(f["step"])
    out = []
    last = max((p["step"] for p in doc.get("smile_posts", [])), default=jump_step)
    for e in sorted(set(walks) | set(refused)):
        n, k = 0, jump_step
        while k <= last and (k in walks.get(e, set()) or k in refused.get(e, set())):
            n += k in walks.get(e, set())
            k += 1
        out.append(f"{e / 86_400:.2g}d:{n}{'+' if k > last else ''}")
    return " ".join(out) or "0"


def predicted_posts(jump: tuple[int, MertonParams], days: float, step_sec: int, spot: float = 3000.0) -> str:
    """Per expiry of the default series: the largest implied-vol move at its quoted strikes when the market jumps
    (the Merton prices before and after, at ``spot``, at the jump's time), and the posts the rate limit needs for it:
    ceil(move / allowed step), the step min(maxStep, rate x the step time) of the default ``VolParams``."""
    from scipy.optimize import brentq

    from hedgevault.params import VolParams
    from hedgevault.sim.engine import default_series
    from hedgevault.sim.market import SkewParams, quoted_strikes
    from hedgevault.sim.scenario import merton_total_vol
    from hedgevault.surface.merton import bs_call, merton_prices
    from hedgevault.volrule import allowed_step_wad

    horizon = int(days * 86_400)
    series = default_series(int(spot * 10**18), horizon, SuiteConfig().risk.trading_cutoff_sec)
    expiries = sorted({s.expiry_offset_sec for s in series})
    base = MertonParams()
    strikes = quoted_strikes(
        spot, merton_total_vol(base), max(expiries), SkewParams().strike_sds, [s.strike_wad / 10**18 for s in series]
    )
    step = allowed_step_wad(VolParams(), step_sec) / 10**18

    def iv(p: MertonParams, strike: float, t_years: float) -> float:
        call = float(merton_prices(spot, [strike], t_years, 0.0, p)[0][0])
        try:
            return float(brentq(lambda v: float(bs_call(spot, strike, t_years, 0.0, v)) - call, 1e-3, 10.0))
        except ValueError:
            return float("nan")

    out = []
    for e in expiries:
        t_years = (e - jump[0]) / (365 * 86_400)
        if t_years <= 0:
            continue
        moves = [abs(iv(jump[1], k, t_years) - iv(base, k, t_years)) for k in strikes]
        move = max(m for m in moves if m == m)
        out.append(f"{e / 86_400:.2g}d: {100 * move:.1f} pts -> {math.ceil(move / step)} posts")
    return "predicted posts to the fit after the jump (spot 3000): " + ", ".join(out)


def one(
    seed: int, days: float, step_sec: int, flat: bool, walk: bool = True, jump: tuple[int, MertonParams] | None = None
) -> dict[str, Any]:
    with TemporaryDirectory(prefix="advsel-") as tmp:
        options = RunOptions(
            seed=seed,
            horizon_sec=int(days * 86_400),
            step_sec=step_sec,
            market="merton",
            flat_vol=flat,
            out_dir=Path(tmp),
            charts=False,
            quiet=True,
        )
        config = replace(demo_config(build_scenario(options, SuiteConfig()), seed, options), agents=None)
        assert config.skew is not None
        jump_at, jump_params = (None, None) if jump is None else jump
        config = replace(config, skew=replace(config.skew, walk=walk, jump_at_sec=jump_at, jump=jump_params))
        started = time.perf_counter()
        output = run(options, config)
        wall = time.perf_counter() - started
        doc = json.loads((Path(tmp) / "results.json").read_text())
    s = output.document["summary"]
    # how close the vault came to being picked off: the smallest markup of its all-in cost over the market's value
    # among the buys compared (market value above 1 quote token for the lot: deep wings priced at a fraction of a cent
    # say nothing)
    markups = [
        d["vault_units"] / d["market_units"] - 1
        for d in doc["informed_decisions"]
        if d["side"] == "buy" and d["market_units"] > 10**6 and d["vault_units"] > 0
    ]
    return {
        "informed": s["informed"],
        "skew": s["skew"],
        "wall": wall,
        "fallbacks": len(doc.get("fallbacks", [])),
        "walks": len(doc.get("walks", [])),
        "refused_batches": sum(n for k, n in s["skipped"].items() if k.startswith("keeper postSlices")),
        "converge": _converge(doc, None if jump is None else -(-jump[0] // step_sec)),
        "min_markup": min(markups) if markups else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2", help="comma-separated seeds (default 1,2)")
    parser.add_argument("--days", type=float, default=2.0, help="horizon in days (default 2)")
    parser.add_argument("--step", type=int, default=7200, help="step in seconds (default 7200)")
    parser.add_argument("--walk-compare", action="store_true", help="also run the surface without the walk")
    parser.add_argument("--jump-at-hours", type=float, default=None, help="the skew jump's time (default: none)")
    parser.add_argument("--jump-lam", type=float, default=6.0, help="jumps a year after the skew jump (default 6)")
    parser.add_argument("--jump-mu", type=float, default=-0.2, help="log-jump mean after the skew jump (default -0.2)")
    parser.add_argument("--predict-only", action="store_true", help="print the predicted posts after the jump, exit")
    parser.add_argument("--runs", default="", help="only these runs (comma-separated: surface, no-walk, flat)")
    parser.add_argument("--out", default="bench/results/adverse_selection.txt")
    args = parser.parse_args()
    seeds = [int(x) for x in args.seeds.split(",")]
    jump = None
    if args.jump_at_hours is not None:
        jump = (int(args.jump_at_hours * 3600), replace(MertonParams(), lam=args.jump_lam, mu_j=args.jump_mu))
    runs = (
        [("surface", False, True)] + ([("no-walk", False, False)] if args.walk_compare else []) + [("flat", True, True)]
    )
    if args.runs:
        runs = [r for r in runs if r[0] in args.runs.split(",")]
    if jump is not None:
        prediction = predicted_posts(jump, args.days, args.step)
        print(prediction, flush=True)
        if args.predict_only:
            return
    lines = [
        f"machine: {machine()}",
        f"Merton market, default parameters; {args.days:g} days at {args.step} s steps; informed buyer only"
        + ("" if jump is None else f"; skew jump at {args.jump_at_hours:g} h to {jump[1]}"),
        *([] if jump is None else [prediction]),
        "",
        f"{'seed':>4} {'run':>8} {'buys':>5} {'options':>8} {'edge at trade':>14} {'P&L end':>10} "
        f"{'RMSE (vol pts, mean per expiry)':>34} {'fallbacks':>9} {'walks':>5} {'refused':>7} {'min markup':>10} "
        f"{'wall s':>7}" + ("" if jump is None else "  partial steps to the fit after the jump"),
    ]
    print("\n".join(lines), flush=True)
    totals = {name: [0.0, 0.0] for name, _, _ in runs}
    for seed in seeds:
        for name, flat, walk in runs:
            r = one(seed, args.days, args.step, flat, walk, jump)
            i = r["informed"]
            totals[name][0] += i["edge_at_trade"]
            totals[name][1] += i["pnl_end"]
            rmse = ", ".join(f"{v['mean']:.2f}" for v in r["skew"]["rmse_vol_points"].values())
            line = (
                f"{seed:>4} {name:>8} {i['buys']:>5} {i['bought_wad'] / 10**18:>8g} {i['edge_at_trade']:>14,.2f} "
                f"{i['pnl_end']:>10,.2f} {rmse:>34} {r['fallbacks']:>9} {r['walks']:>5} {r['refused_batches']:>7} "
                f"{100 * r['min_markup']:>9.2f}% "
                f"{r['wall']:>7.1f}" + ("" if jump is None or flat else f"  {r['converge']}")
            )
            lines.append(line)
            print(line, flush=True)
            if r["skew"].get("fallback_reasons"):
                why = "; ".join(f"{k} x{n}" for k, n in r["skew"]["fallback_reasons"].items())
                lines.append(f"{'':>14}fits that kept the last good slice: {why}")
                print(lines[-1], flush=True)
    surface_edge, flat_edge = totals.get("surface", [0.0])[0], totals.get("flat", [0.0])[0]
    ratio = surface_edge / flat_edge if flat_edge > 0 else float("nan")
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    tail = [
        "",
        "loss to the informed buyer, edge at trade, all seeds: "
        f"surface {surface_edge:,.2f}, flat {flat_edge:,.2f} quote",
        f"ratio surface / flat: {ratio:.3f} (target <= {TARGET_RATIO}: {verdict})",
        f"P&L at the end, all seeds: surface {totals.get('surface', [0, 0])[1]:,.2f}, flat "
        f"{totals.get('flat', [0, 0])[1]:,.2f} quote",
    ]
    if "no-walk" in totals:
        old = totals["no-walk"][0]
        tail.append(
            f"without the walk: edge at trade {old:,.2f} quote, ratio to flat "
            f"{old / flat_edge if flat_edge > 0 else float('nan'):.3f}"
        )
    lines += tail
    print("\n".join(tail))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
