"""Run a portfolio simulation end to end: the paths, the vault's run (on chain, or the off-chain model),
the baselines on the same paths and pools, the figures, the table, ``results.json`` and the charts."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hedgevault.portfolio.mirror import WAD, Mode
from hedgevault.sim.errors import SimulationError
from hedgevault.sim.portfolio import baselines as bl
from hedgevault.sim.portfolio.baselines import VaultRun
from hedgevault.sim.portfolio.costs import GasModel, PoolModel
from hedgevault.sim.portfolio.market import (
    DAY_SEC,
    HOUR_SEC,
    CrashParams,
    MarketParams,
    Paths,
    simulate_paths,
)
from hedgevault.sim.portfolio.metrics import Metrics, compute
from hedgevault.sim.portfolio.model import MODES, BandRule, KeeperModel, default_rules, target_series
from hedgevault.sim.portfolio.onchain import ChainOptions
from hedgevault.sim.portfolio.report import charts, run_document, table, write_json

SCENARIOS = ("gbm", "crash")
#: Demo defaults: 30 days at 4-hour steps, crash scenario, target-volatility mode.
DEFAULT_DAYS = 30.0
DEFAULT_STEP_HOURS = 4.0
MAX_DAYS = 3650.0
#: Off-chain model: NAV and the pools' depth (quote per side of each pool).
MODEL_NAV = 750_000.0
MODEL_POOL_SIDE_QUOTE = 10_000_000.0


@dataclass(frozen=True)
class PortfolioOptions:
    """What ``hedgevault simulate --portfolio`` was asked for."""

    days: float = DEFAULT_DAYS
    step_hours: float = DEFAULT_STEP_HOURS
    seed: int = 1
    scenario: str = "crash"
    mode: str = "target-vol"
    target_vol: float = 0.20
    out_dir: Path | None = None
    onchain: bool = True
    rpc_url: str | None = None
    charts: bool = True
    quiet: bool = False
    market: MarketParams = field(default_factory=MarketParams)
    gas: GasModel = field(default_factory=GasModel)
    chain: ChainOptions = field(default_factory=ChainOptions)

    def check(self) -> None:
        """One-line reasons for bad input (``SimulationError``; the CLI exits 2)."""
        for name, value in (("--days", self.days), ("--step-hours", self.step_hours)):
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise SimulationError(f"{name} must be a positive finite number, got {value}")
        if self.days > MAX_DAYS:
            raise SimulationError(f"--days must be at most {MAX_DAYS:g}, got {self.days:g}")
        if self.step_hours > 24 * self.days:
            raise SimulationError(f"--step-hours {self.step_hours:g} is longer than the horizon of {self.days:g} days")
        if self.step_hours * HOUR_SEC < 600:
            raise SimulationError(f"--step-hours must be at least 10 minutes (1/6), got {self.step_hours:g}")
        if self.scenario not in SCENARIOS:
            raise SimulationError(f"--scenario must be one of {', '.join(SCENARIOS)}, got {self.scenario!r}")
        if self.mode not in MODES:
            raise SimulationError(f"--mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 0.02 <= self.target_vol <= 2.0:
            raise SimulationError(f"--target-vol must be in [0.02, 2], got {self.target_vol}")
        if not -(2**63) <= self.seed < 2**63 or self.seed < 0:
            raise SimulationError(f"--seed must be in [0, 2^63), got {self.seed}")

    @property
    def step_sec(self) -> int:
        return round(self.step_hours * HOUR_SEC)

    @property
    def horizon_sec(self) -> int:
        return round(self.days * DAY_SEC)


def build_paths(options: PortfolioOptions) -> Paths:
    market = options.market
    if options.scenario == "crash" and market.crash is None:
        market = MarketParams(assets=market.assets, correlation=market.correlation, crash=CrashParams())
    if options.scenario == "gbm":
        market = MarketParams(assets=market.assets, correlation=market.correlation, crash=None)
    return simulate_paths(market, horizon_sec=options.horizon_sec, step_sec=options.step_sec, seed=options.seed)


def model_pools(paths: Paths, side_quote: float = MODEL_POOL_SIDE_QUOTE) -> list[PoolModel]:
    """Full-range pools holding ``side_quote`` of quote (and as much asset) at the start's prices."""
    p0 = paths.prices()[0]
    return [PoolModel(depth=side_quote / math.sqrt(float(p)), fee_pips=3000) for p in p0]


def model_vault_run(paths: Paths, options: PortfolioOptions) -> VaultRun:
    """The off-chain model of the keeper and the vault (``hedgevault.sim.portfolio.model``)."""
    rules = default_rules(options.mode, paths.n, options.target_vol)
    keeper = KeeperModel(
        decay=options.chain.ewma_decay,
        fast_decay=options.chain.ewma_fast_decay,
        fast_margin=options.chain.ewma_fast_margin,
        follow_up_sec=options.chain.follow_up_sec,
        repost_error=options.chain.repost_error,
        quote_buffer=options.chain.quote_buffer,
    )
    series = target_series(paths, options.market, rules, keeper, BandRule(band_scale_bp=options.chain.band_scale_bp))
    pools = model_pools(paths)
    budgets = None
    if rules.mode == Mode.RISK_PARITY and options.chain.rc_tolerance > 0:
        budgets = np.array(rules.budget_wad, dtype=np.float64) / WAD
    run = bl.run_strategy(
        "vault (model)",
        paths,
        series.targets,
        bl.VAULT_BANDS,
        pools,
        options.gas,
        MODEL_NAV,
        bands=series.bands,
        risk_budgets=budgets,
        covariances=series.covariances,
        rc_tolerance=options.chain.rc_tolerance,
        rc_dust=options.chain.rc_dust,
        max_vol=rules.max_vol_wad / WAD * (1 + options.chain.derisk_margin) if rules.mode == Mode.TARGET_VOL else None,
    )
    return VaultRun(
        run=run,
        covariances=series.covariances,
        bands=series.bands,
        values=None,
        pools=pools,
        source="off-chain model",
        extra={"fallbacks": series.fallbacks},
    )


def baseline_runs(paths: Paths, vault: VaultRun, gas: GasModel) -> list[bl.StrategyRun]:
    """Buy-and-hold, weekly calendar and the 5% band to the vault's targets; the constant-weight portfolio
    at the vault's average risky weights; all from the vault's starting NAV, on the same pools."""
    targets = vault.run.targets
    nav0 = float(vault.run.nav[0]) if vault.run.nav[0] > 0 else MODEL_NAV
    out = []
    for name, policy, t in (
        ("buy-and-hold", bl.BUY_AND_HOLD, targets),
        ("calendar weekly", bl.CALENDAR_WEEKLY, targets),
        ("5% band", bl.BAND_5, targets),
        ("constant weight", bl.EVERY_STEP, bl.constant_targets(vault.run.weights.mean(axis=0), paths.steps)),
    ):
        pools = [PoolModel(depth=p.depth, fee_pips=p.fee_pips) for p in vault.pools]
        out.append(bl.run_strategy(name, paths, t, policy, pools, gas, nav0, start_weights=vault.run.weights[0]))
    return out


@dataclass
class PortfolioOutput:
    out_dir: Path
    document: dict[str, Any]
    table: str
    metrics: list[Metrics]
    charts: list[Path]
    timing: dict[str, float]
    vault: VaultRun
    baselines: list[bl.StrategyRun]
    paths: Paths


def run_portfolio(options: PortfolioOptions) -> PortfolioOutput:
    options.check()
    started = time.perf_counter()
    paths = build_paths(options)
    out_dir = options.out_dir or Path("out") / f"portfolio-{options.seed}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulationError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
    if options.onchain:
        from hedgevault.sim.portfolio.onchain import onchain_vault_run

        vault = onchain_vault_run(paths, options, out_dir)
    else:
        vault = model_vault_run(paths, options)
    chain_done = time.perf_counter()
    # the baselines' trades cost the gas the vault's slices measured (the stated gas per trade without a chain)
    slice_gas = vault.extra.get("mean_slice_gas")
    baseline_gas = replace(options.gas, gas_per_trade=int(slice_gas)) if slice_gas else options.gas
    runs = [vault.run, *baseline_runs(paths, vault, baseline_gas)]
    prices = paths.prices()
    metrics = [
        compute(r, prices, paths.step_sec, vault.covariances, values=vault.values if j == 0 else None)
        for j, r in enumerate(runs)
    ]
    target_vol = options.target_vol if options.mode == "target-vol" else None
    subtitle = (
        f"{options.scenario} scenario, seed {options.seed}, {options.days:g} days at {options.step_hours:g} h steps, "
        f"mode {options.mode}" + (f" (target {options.target_vol:.0%})" if target_vol else "") + f"; {vault.source}"
    )
    header = f"Portfolio simulation: {subtitle}\n{paths.description}"
    text = table(metrics, header, target_vol)
    extra_lines = vault.extra.get("table_lines")
    if extra_lines:
        text += "\n\n" + "\n".join(extra_lines)
    document = {
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(options).items()
            if k not in ("market", "gas", "chain", "out_dir", "rpc_url")
        },
        "chain": asdict(options.chain),
        "baseline_gas_per_trade": baseline_gas.gas_per_trade,
        "market": asdict(options.market),
        "gas_model": asdict(options.gas),
        "scenario": {
            "description": paths.description,
            "steps": paths.steps,
            "crash_steps": paths.crash_steps,
            "prices": [list(map(str, row)) for row in paths.prices_wad],
        },
        "source": vault.source,
        "metrics": [m.as_dict() for m in metrics],
        "runs": [run_document(r) for r in runs],
        "vault": {k: v for k, v in vault.extra.items() if k not in ("table_lines", "wall_sec")},
    }
    write_json(out_dir / "results.json", document)
    (out_dir / "summary.txt").write_text(text + "\n")
    pngs = (
        charts(paths, runs, metrics, out_dir, subtitle, target_vol, bands=vault.bands, values=vault.values)
        if options.charts
        else []
    )
    finished = time.perf_counter()
    timing = {
        **{f"{k}_sec": v for k, v in vault.extra.get("wall_sec", {}).items()},
        "vault_run_sec": round(chain_done - started, 3),
        "outputs_sec": round(finished - chain_done, 3),
        "total_sec": round(finished - started, 3),
    }
    (out_dir / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    return PortfolioOutput(
        out_dir=out_dir,
        document=document,
        table=text,
        metrics=metrics,
        charts=pngs,
        timing=timing,
        vault=vault,
        baselines=runs[1:],
        paths=paths,
    )


def matched_baselines(output: PortfolioOutput, gas: GasModel | None = None) -> dict[str, dict[str, float]]:
    """The cost of the band and calendar baselines tuned to the vault's realised tracking error, on the same
    paths, targets and pools: the widest fixed band (bisection) and the longest calendar period (in steps)
    whose tracking error is at most the vault's; "cost at equal or better tracking error" compares these
    costs with the vault's (``inf`` cost when no setting reaches the vault's tracking error)."""
    vault = output.vault
    paths = output.paths
    prices = paths.prices()
    te_goal = output.metrics[0].tracking_error
    gas = gas or GasModel()
    slice_gas = vault.extra.get("mean_slice_gas")
    if slice_gas:
        gas = replace(gas, gas_per_trade=int(slice_gas))
    nav0 = float(vault.run.nav[0])

    def run(policy: bl.Policy) -> Metrics:
        pools = [PoolModel(depth=p.depth, fee_pips=p.fee_pips) for p in vault.pools]
        r = bl.run_strategy(
            policy.kind, paths, vault.run.targets, policy, pools, gas, nav0, start_weights=vault.run.weights[0]
        )
        return compute(r, prices, paths.step_sec, vault.covariances)

    out: dict[str, dict[str, float]] = {}
    lo, hi = 0.0, 0.2
    best: Metrics | None = None
    best_band = float("nan")
    for _ in range(14):
        mid = (lo + hi) / 2
        m = run(bl.Policy("band", band=mid))
        if m.tracking_error <= te_goal:
            best, best_band, lo = m, mid, mid
        else:
            hi = mid
    out["band"] = {
        "band": best_band,
        "cost_bps_per_year": best.cost_bps_per_year if best else float("inf"),
        "tracking_error": best.tracking_error if best else float("nan"),
    }
    best = None
    best_period = float("nan")
    for period in range(1, 43):
        m = run(bl.Policy("calendar", period_sec=period * paths.step_sec))
        if m.tracking_error <= te_goal:
            best, best_period = m, float(period)
    out["calendar"] = {
        "period_hours": best_period * paths.step_sec / HOUR_SEC,
        "cost_bps_per_year": best.cost_bps_per_year if best else float("inf"),
        "tracking_error": best.tracking_error if best else float("nan"),
    }
    return out
