"""The `hedgevault simulate` subcommand: the README's demo (7 days at hourly steps by default)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hedgevault.cliargs import finite_float, positive_decimal, uint
from hedgevault.units import to_seconds

#: The longest horizon `simulate` takes.
MAX_DAYS = 366


def _cmd_simulate(args: argparse.Namespace) -> int:
    from hedgevault.sim.errors import SimulationError
    from hedgevault.sim.run import RunOptions, run
    from hedgevault.sim.scenario import GbmParams

    horizon = None
    if args.days is not None:
        horizon = to_seconds(f"{args.days}d", "--days")
        if horizon > MAX_DAYS * 86_400:
            raise SimulationError(f"--days {args.days} is more than {MAX_DAYS} days: simulate a year at most")
    step = to_seconds(args.step, "--step") if args.step is not None else None
    spot, drift, vol = args.spot, args.drift, args.vol
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
    p.add_argument(
        "--days", type=positive_decimal("--days"), help="horizon in days, up to 366 (default 7; not with --prices)"
    )
    p.add_argument("--step", help="step length: 3600, 30m, 1h, 4h (default 1h)")
    p.add_argument(
        "--seed", type=uint("--seed", 2**32 - 1), default=1, help="seed of the price path and the agents (default 1)"
    )
    p.add_argument(
        "--prices", metavar="CSV", help="prices from a CSV: header timestamp,price[,vol] or step,price[,vol]"
    )
    p.add_argument(
        "--spot",
        type=finite_float("--spot", 1e-6, 1e12),
        default=3000.0,
        help="GBM start price, quote per underlying (default 3000)",
    )
    p.add_argument(
        "--drift", type=finite_float("--drift", -5.0, 5.0), default=0.0, help="GBM annual drift, -5..5 (default 0)"
    )
    p.add_argument(
        "--vol",
        type=finite_float("--vol", 0.05, 3.0),
        default=0.8,
        help="annual volatility, 0.05..3 (GBM; and posted when the CSV has no vol column)",
    )
    p.add_argument(
        "--vol-model", choices=("constant", "mean-reverting"), default="constant", help="GBM volatility path"
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default out/sim-SEED)")
    p.add_argument("--rpc-url", help="attach to this Anvil instead of starting one")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=_cmd_simulate)
