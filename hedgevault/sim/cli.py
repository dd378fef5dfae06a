"""The `hedgevault simulate` subcommand: the README's demo (7 days at hourly steps by default)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hedgevault.units import to_seconds


def _cmd_simulate(args: argparse.Namespace) -> int:
    from hedgevault.sim.errors import SimulationError
    from hedgevault.sim.run import RunOptions, run
    from hedgevault.sim.scenario import GbmParams

    horizon = None
    if args.days is not None:
        horizon = to_seconds(f"{args.days}d", "--days")
        if horizon <= 0:
            raise SimulationError(f"--days must be positive, got {args.days}")
    step = to_seconds(args.step, "--step") if args.step is not None else None
    try:
        spot, drift, vol = float(args.spot), float(args.drift), float(args.vol)
    except ValueError as exc:
        raise SimulationError(f"--spot, --drift and --vol take numbers: {exc}") from None
    options = RunOptions(
        seed=args.seed,
        horizon_sec=horizon,
        step_sec=step,
        prices_csv=Path(args.prices) if args.prices else None,
        gbm=GbmParams(spot=spot, drift=drift, vol=vol, vol_model=args.vol_model),
        out_dir=Path(args.out) if args.out else None,
        rpc_url=args.rpc_url,
        charts=not args.no_charts,
        quiet=args.quiet,
    )
    output = run(options)
    if not args.quiet:
        print()
        print(output.table)
        print()
        print(
            f"results: {output.out_dir / 'results.json'}"
            + (f", charts: {len(output.charts)} PNG" if output.charts else "")
        )
        print(f"wall time: {output.timing['total_sec']:.1f} s (setup {output.timing['setup_sec']:.1f} s)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hedgevault simulate` to the `hedgevault` parser."""
    p = sub.add_parser(
        "simulate",
        help="drive the deployed suite through a seeded market on Anvil; table, charts and results.json",
        description=(
            "Deploys the suite on an embedded Anvil (or --rpc-url), then steps a market: a GBM path (default: "
            "7 days at hourly steps) or a CSV of prices. Per step the pool is arbitraged to the price, the real "
            "keeper posts the oracles and hedges or settles, buyers trade options and depositors come and go. "
            "Writes results.json, summary.txt, charts and logs to --out (default out/sim-SEED)."
        ),
    )
    p.add_argument("--days", help="horizon in days (default 7; not with --prices)")
    p.add_argument("--step", help="step length: 3600, 30m, 1h, 4h (default 1h)")
    p.add_argument("--seed", type=int, default=1, help="seed of the price path and the agents (default 1)")
    p.add_argument(
        "--prices", metavar="CSV", help="prices from a CSV: header timestamp,price[,vol] or step,price[,vol]"
    )
    p.add_argument("--spot", default="3000", help="GBM start price, quote per underlying (default 3000)")
    p.add_argument("--drift", default="0", help="GBM annual drift (default 0)")
    p.add_argument("--vol", default="0.8", help="annual volatility (GBM; and posted when the CSV has no vol column)")
    p.add_argument(
        "--vol-model", choices=("constant", "mean-reverting"), default="constant", help="GBM volatility path"
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default out/sim-SEED)")
    p.add_argument("--rpc-url", help="attach to this Anvil instead of starting one")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=_cmd_simulate)
