"""Run a simulation end to end: node, scenario, setup, steps with a progress bar, and the outputs
(``results.json``, ``timing.json``, ``keeper.log``, PNG charts, the table)."""

from __future__ import annotations

import json
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hedgevault.chain import local_node, unfreeze_clock
from hedgevault.params import OracleParams, SuiteConfig
from hedgevault.sim.agents import AgentParams, InformedParams
from hedgevault.sim.engine import SimConfig, Simulation, StepRecord, default_series
from hedgevault.sim.errors import SimulationError
from hedgevault.sim.market import SkewParams
from hedgevault.sim.report import charts, results_document, table, write_json
from hedgevault.sim.scenario import GbmParams, Scenario, gbm_scenario, load_csv, merton_scenario
from hedgevault.surface.merton import MertonParams

#: The markets ``hedgevault simulate --market`` knows: a GBM path (flat vol) or Merton's jump-diffusion (a skew).
MARKETS = ("gbm", "merton")

#: Demo defaults: 7 days at hourly steps.
DEFAULT_DAYS_SEC = 7 * 86_400
DEFAULT_STEP_SEC = 3600


def min_step_sec(oracle: OracleParams) -> int:
    """Shortest step: the arbitrageur moves the pool TWAP window + 1 s before the step time, plus a minute."""
    return oracle.twap_window_sec + 60


@dataclass(frozen=True)
class RunOptions:
    """What ``hedgevault simulate`` was asked for (durations in seconds)."""

    seed: int = 1
    horizon_sec: int | None = None
    step_sec: int | None = None
    prices_csv: Path | None = None
    gbm: GbmParams = field(default_factory=GbmParams)
    out_dir: Path | None = None
    rpc_url: str | None = None
    charts: bool = True
    quiet: bool = False
    #: "gbm" or "merton" (the skewed market: quotes fitted by the keeper, and the informed buyer).
    market: str = "gbm"
    merton: MertonParams = field(default_factory=MertonParams)
    #: The skewed market's flat baseline: the keeper posts the at-the-money vol (postVol) instead of the surface.
    flat_vol: bool = False
    #: The skewed market's quotes are rewritten (and refitted) every so many steps.
    quote_every_steps: int = 1
    #: The skewed market's informed buyer.
    informed: bool = True


def build_scenario(options: RunOptions, suite: SuiteConfig) -> Scenario:
    minimum = min_step_sec(suite.oracle)
    if options.market not in MARKETS:
        raise SimulationError(f"--market {options.market!r} is not one of {', '.join(MARKETS)}")
    if options.market == "merton" and options.prices_csv is not None:
        raise SimulationError("--prices gives the path of a CSV; --market merton makes its own: use one of them")
    if options.prices_csv is not None:
        if options.horizon_sec is not None:
            raise SimulationError("--days does not apply to --prices (the CSV's rows fix the horizon): drop --days")
        return load_csv(
            options.prices_csv, step_sec=options.step_sec, default_vol=options.gbm.vol, min_step_sec=minimum
        )
    step = options.step_sec if options.step_sec is not None else DEFAULT_STEP_SEC
    horizon = options.horizon_sec if options.horizon_sec is not None else DEFAULT_DAYS_SEC
    if step < minimum:
        raise SimulationError(f"--step {step} s is too short: at least {minimum} s (the pool's TWAP window + 1 min)")
    if horizon < step:
        raise SimulationError(f"--days gives {horizon} s, shorter than one step of {step} s")
    if options.market == "merton":
        return merton_scenario(
            options.merton,
            spot=options.gbm.spot,
            drift=options.gbm.drift,
            horizon_sec=horizon,
            step_sec=step,
            seed=options.seed,
        )
    return gbm_scenario(options.gbm, horizon_sec=horizon, step_sec=step, seed=options.seed)


def demo_config(scenario: Scenario, seed: int, options: RunOptions | None = None) -> SimConfig:
    """The demo market: the default suite at the scenario's first price, three depositors, calls and
    puts at three strikes and three expiries, random buyers and depositors. A Merton scenario adds the
    skewed market (quotes for the keeper's fit, or the flat baseline with ``options.flat_vol``) and, unless
    ``options.informed`` is False, the informed buyer."""
    suite = SuiteConfig(spot_wad=scenario.prices_wad[0])
    options = options or RunOptions()
    skew = informed = None
    if scenario.merton is not None:
        skew = SkewParams(surface=not options.flat_vol, quote_every_steps=options.quote_every_steps)
        informed = InformedParams() if options.informed else None
    return SimConfig(
        scenario=scenario,
        seed=seed,
        suite=suite,
        series=default_series(scenario.prices_wad[0], scenario.horizon_sec, suite.risk.trading_cutoff_sec),
        agents=AgentParams(),
        skew=skew,
        informed=informed,
    )


def _keeper_logger(path: Path) -> logging.Logger:
    logger = logging.getLogger(f"hedgevault.sim.keeper.{path}")
    logger.handlers.clear()
    handler = logging.FileHandler(path, mode="w")
    from hedgevault.keeper.logs import JsonLinesFormatter

    handler.setFormatter(JsonLinesFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


@dataclass
class RunOutput:
    out_dir: Path
    document: dict[str, Any]
    table: str
    timing: dict[str, float]
    charts: list[Path]


def run(options: RunOptions, config: SimConfig | None = None) -> RunOutput:
    """Run the demo (or ``config``) on the embedded Anvil (or ``options.rpc_url``) and write the outputs."""
    started = time.perf_counter()
    if config is None:
        scenario = build_scenario(options, SuiteConfig())
        config = demo_config(scenario, options.seed, options)
    out_dir = options.out_dir or Path("out") / f"sim-{options.seed}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulationError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
    with local_node(rpc_url=options.rpc_url, log_dir=out_dir) as node, ExitStack() as cleanup:
        w3 = node.web3()
        if options.rpc_url:
            # a node we attached to is somebody else's: its clock follows the wall clock again afterwards
            cleanup.callback(unfreeze_clock, w3)
        if config.skew is not None and config.quotes_path is None:
            config = replace(config, quotes_path=out_dir / "quotes.json")
        sim = Simulation(w3, config, keeper_logger=_keeper_logger(out_dir / "keeper.log"))
        sim.setup()
        setup_done = time.perf_counter()
        from tqdm import tqdm

        bar = tqdm(total=config.scenario.steps + 1, desc="simulating", unit="step", disable=options.quiet)

        def progress(record: StepRecord) -> None:
            bar.update(1)
            hf = "-" if record.health_factor is None else f"{record.health_factor:.2f}"
            bar.set_postfix_str(
                f"price {record.price:,.0f} NAV {record.nav / 10**config.suite.quote_decimals:,.0f} HF {hf}"
            )

        try:
            sim.run(progress)
        finally:
            bar.close()
        steps_done = time.perf_counter()
    scenario_info = {"description": config.scenario.description, "steps": config.scenario.steps}
    if config.scenario.merton is not None:
        scenario_info["merton"] = {
            "spot": config.scenario.prices_wad[0] / 10**18,
            "drift": options.gbm.drift,
            **{k: getattr(config.scenario.merton, k) for k in ("sigma", "lam", "mu_j", "delta_j")},
            "surface": config.skew is not None and config.skew.surface,
        }
    elif options.prices_csv is None:
        scenario_info["gbm"] = {
            k: getattr(options.gbm, k) for k in ("spot", "drift", "vol", "vol_model", "kappa", "xi")
        }
    document = results_document(sim, scenario_info)
    write_json(out_dir / "results.json", document)
    text = table(document["summary"])
    (out_dir / "summary.txt").write_text(text + "\n")
    pngs = charts(document, out_dir) if options.charts else []
    finished = time.perf_counter()
    timing = {
        "setup_sec": round(setup_done - started, 3),
        "steps_sec": round(steps_done - setup_done, 3),
        "outputs_sec": round(finished - steps_done, 3),
        "total_sec": round(finished - started, 3),
    }
    (out_dir / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    return RunOutput(out_dir=out_dir, document=document, table=text, timing=timing, charts=pngs)
