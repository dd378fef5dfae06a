"""The `hedgevault simulate` subcommand: the README's demo (7 days at hourly steps by default), and with
``--portfolio`` the portfolio vault's simulation (30 days at 4-hour steps, a crash, by default)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from hedgevault.cliargs import finite_float, positive_decimal, uint
from hedgevault.units import to_seconds

#: The longest horizon the option-vault `simulate` takes.
MAX_DAYS = 366

#: Flags of the option-vault simulation only, and of the portfolio simulation only (dest names).
_OPTION_ONLY = (
    "step",
    "prices",
    "spot",
    "drift",
    "vol",
    "vol_model",
    "market",
    "flat_vol",
    "quote_every",
    "no_informed",
)
#: Flags of the skewed market only (``--market merton``).
_MERTON_ONLY = ("flat_vol", "quote_every", "no_informed")
_PORTFOLIO_ONLY = ("step_hours", "scenario", "mode", "target_vol", "model")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _number(text: str | None, name: str, default: float) -> float:
    """A finite number from a flag (one-line ``SimulationError`` otherwise)."""
    from hedgevault.sim.errors import SimulationError

    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SimulationError(f"{name} takes a number, got {text!r}") from None
    if not math.isfinite(value):
        raise SimulationError(f"{name} must be a finite number, got {text!r}")
    return value


def _cmd_portfolio(args: argparse.Namespace) -> int:
    from hedgevault.sim.errors import SimulationError
    from hedgevault.sim.portfolio.run import DEFAULT_DAYS, DEFAULT_STEP_HOURS, PortfolioOptions, run_portfolio

    given = [_flag(d) for d in _OPTION_ONLY if getattr(args, d) not in (None, False)]
    if given:
        raise SimulationError(f"{', '.join(given)} apply to the option-vault simulation, not to --portfolio")
    options = PortfolioOptions(
        days=_number(args.days, "--days", DEFAULT_DAYS),
        step_hours=_number(args.step_hours, "--step-hours", DEFAULT_STEP_HOURS),
        seed=args.seed,
        scenario=args.scenario or "crash",
        mode=args.mode or "target-vol",
        target_vol=_number(args.target_vol, "--target-vol", 0.20),
        out_dir=Path(args.out) if args.out else None,
        onchain=not args.model,
        rpc_url=args.rpc_url,
        charts=not args.no_charts,
        quiet=args.quiet,
    )
    output = run_portfolio(options)
    if not args.quiet:
        _print_run(output.table, output.out_dir, output.charts, f"{output.timing['total_sec']:.1f} s")
    return 0


def _print_run(table: str, out_dir: Path, charts: list[Path], wall: str) -> None:
    """The end of a run: its table, where its files are, how long it took."""
    print()
    print(table)
    print()
    print(f"results: {out_dir / 'results.json'}" + (f", charts: {', '.join(c.name for c in charts)}" if charts else ""))
    print(f"wall time: {wall}")


def _quote_every(value: int | None) -> int:
    from hedgevault.sim.errors import SimulationError

    if value is None:
        return 1
    if value < 1:
        raise SimulationError("--quote-every must be at least 1 step")
    return value


def _cmd_simulate(args: argparse.Namespace) -> int:
    from hedgevault.sim.errors import SimulationError
    from hedgevault.sim.run import RunOptions, run
    from hedgevault.sim.scenario import GbmParams

    if args.portfolio:
        return _cmd_portfolio(args)
    given = [_flag(d) for d in _PORTFOLIO_ONLY if getattr(args, d) not in (None, False)]
    if given:
        raise SimulationError(f"{', '.join(given)} apply to the portfolio simulation: add --portfolio")
    horizon = None
    if args.days is not None:
        horizon = to_seconds(f"{args.days}d", "--days")
        if horizon > MAX_DAYS * 86_400:
            raise SimulationError(f"--days {args.days} is more than {MAX_DAYS} days: simulate a year at most")
    step = to_seconds(args.step, "--step") if args.step is not None else None
    market = args.market or "gbm"
    if market != "merton":
        given = [_flag(d) for d in _MERTON_ONLY if getattr(args, d) not in (None, False)]
        if given:
            raise SimulationError(f"{', '.join(given)} apply to the skewed market: add --market merton")
    elif args.vol_model is not None:
        raise SimulationError("--vol-model applies to the GBM market; --market merton's vol is its diffusion's")
    spot = args.spot if args.spot is not None else 3000.0
    drift = args.drift if args.drift is not None else 0.0
    vol = args.vol if args.vol is not None else 0.8
    from hedgevault.surface.merton import MertonParams

    merton = MertonParams() if args.vol is None else MertonParams(sigma=args.vol)
    options = RunOptions(
        seed=args.seed,
        horizon_sec=horizon,
        step_sec=step,
        prices_csv=Path(args.prices) if args.prices else None,
        gbm=GbmParams(spot=spot, drift=drift, vol=vol, vol_model=args.vol_model or "constant"),
        out_dir=Path(args.out) if args.out else None,
        rpc_url=args.rpc_url,
        charts=not args.no_charts,
        quiet=args.quiet,
        market=market,
        merton=merton,
        flat_vol=args.flat_vol,
        quote_every_steps=_quote_every(args.quote_every),
        informed=not args.no_informed,
    )
    output = run(options)
    if not args.quiet:
        wall = f"{output.timing['total_sec']:.1f} s (setup {output.timing['setup_sec']:.1f} s)"
        _print_run(output.table, output.out_dir, output.charts, wall)
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
            "Writes results.json, summary.txt, charts and logs to --out (default out/sim-SEED). With --portfolio: "
            "the portfolio vault (three assets) through correlated GBM or a crash, against buy-and-hold, weekly "
            "calendar rebalancing, a 5% band and a constant-weight portfolio on the same paths (out/portfolio-SEED)."
        ),
    )
    p.add_argument(
        "--days",
        type=positive_decimal("--days"),
        help="horizon in days (default 7, at most 366; --portfolio: 30; not with --prices)",
    )
    p.add_argument("--step", help="step length: 3600, 30m, 1h, 4h (default 1h)")
    p.add_argument(
        "--seed", type=uint("--seed", 2**32 - 1), default=1, help="seed of the price path and the agents (default 1)"
    )
    p.add_argument(
        "--prices", metavar="CSV", help="prices from a CSV: header timestamp,price[,vol] or step,price[,vol]"
    )
    p.add_argument(
        "--spot", type=finite_float("--spot", 1e-6, 1e12), help="GBM start price, quote per underlying (default 3000)"
    )
    p.add_argument("--drift", type=finite_float("--drift", -5.0, 5.0), help="GBM annual drift, -5..5 (default 0)")
    p.add_argument(
        "--vol",
        type=finite_float("--vol", 0.05, 3.0),
        help="annual volatility, 0.05..3 (GBM; and posted when the CSV has no vol column; default 0.8)",
    )
    p.add_argument("--vol-model", choices=("constant", "mean-reverting"), help="GBM volatility path (default constant)")
    p.add_argument(
        "--market",
        choices=("gbm", "merton"),
        help="gbm (default: flat vol) or merton: a jump-diffusion path whose option quotes the keeper fits and posts "
        "as SVI slices, with an informed buyer who trades where the vault is cheaper (--vol: its diffusion vol, "
        "default 0.55)",
    )
    p.add_argument(
        "--flat-vol", action="store_true", help="--market merton: post the at-the-money vol (postVol), not the surface"
    )
    p.add_argument(
        "--quote-every",
        type=uint("--quote-every", 10_000),
        metavar="STEPS",
        help="--market merton: rewrite the quotes (the keeper refits, ~2 s an expiry) every STEPS steps (default 1)",
    )
    p.add_argument("--no-informed", action="store_true", help="--market merton: without the informed buyer")
    portfolio = p.add_argument_group("portfolio vault (--portfolio)")
    portfolio.add_argument("--portfolio", action="store_true", help="simulate the portfolio vault instead")
    portfolio.add_argument("--step-hours", help="step length in hours (default 4)")
    portfolio.add_argument("--scenario", help="gbm or crash (default crash: -35%% in 3 days, correlations 0.9)")
    portfolio.add_argument("--mode", help="target-vol (default), risk-parity or min-variance")
    portfolio.add_argument("--target-vol", help="target volatility in target-vol mode (default 0.20)")
    portfolio.add_argument(
        "--model", action="store_true", help="the off-chain model of the keeper and vault instead of the chain (fast)"
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default out/sim-SEED; --portfolio: out/portfolio-SEED)")
    p.add_argument("--rpc-url", help="attach to this Anvil instead of starting one")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=_cmd_simulate)
