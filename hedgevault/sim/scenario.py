"""Market scenarios: a seeded GBM path (constant or mean-reverting volatility), a seeded Merton jump-diffusion path
(the skewed market, ``merton_scenario``) or a CSV of prices.

A scenario is pure data: step times (seconds after the start, the first is 0), the underlying price at
each step (quote per underlying in wad, quantised to the feed's 8 decimals so that the feed, the pool and
the accounting all see the same number) and the annual volatility wanted at each step (wad, quantised to
1e-6; the keeper posts it within the oracle's rate rule). Step 0 is the market when the suite is
deployed; steps 1..n are simulated.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from hedgevault.sim.errors import ScenarioError
from hedgevault.surface.merton import MertonParams

WAD = 10**18
YEAR_SEC = 365 * 86_400
#: Prices are quantised to the mock feed's 8 decimals.
FEED_DECIMALS = 8
#: Volatilities are quantised to 1e-6 (0.0001 vol points).
VOL_DECIMALS = 6
#: Bounds the volatility oracle accepts (``hedgevault.suite.VolParams`` defaults): [5%, 300%]. How fast the
#: posted vol may move is the oracle's rate rule (``hedgevault.volrule``): the keeper posts a scenario vol
#: that moves faster clipped toward it, so the posted path may lag the scenario's (``StepRecord.vol_posted``).
MIN_VOL_WAD = WAD // 20
MAX_VOL_WAD = 3 * WAD


@dataclass(frozen=True)
class Scenario:
    """Step times (s after the start, strictly increasing, ``times_sec[0] == 0``), prices (quote per
    underlying, wad) and volatilities (annual, wad) at each step; ``description`` says where it came from."""

    times_sec: tuple[int, ...]
    prices_wad: tuple[int, ...]
    vols_wad: tuple[int, ...]
    description: str
    #: The jump-diffusion the prices follow (``merton_scenario``): the skewed market's option prices use the same.
    merton: MertonParams | None = None

    @property
    def steps(self) -> int:
        """Number of simulated steps (step 0 is the initial market)."""
        return len(self.times_sec) - 1

    @property
    def horizon_sec(self) -> int:
        return self.times_sec[-1]


@dataclass(frozen=True)
class GbmParams:
    """GBM of the price with annual ``drift`` and volatility; the volatility is ``vol`` throughout
    (``vol_model="constant"``) or a mean-reverting path around ``vol``: dv = kappa (vol - v) dt + xi dW
    (kappa and xi annual), clipped to the oracle's bounds. The price uses the step's volatility, so the
    posted (implied) volatility is also the realised one."""

    spot: float = 3000.0
    drift: float = 0.0
    vol: float = 0.8
    vol_model: str = "constant"
    kappa: float = 52.0
    xi: float = 1.0


VOL_MODELS = ("constant", "mean-reverting")


def _steps(horizon_sec: int, step_sec: int) -> tuple[int, float]:
    """(the number of steps, one step in years); ``ScenarioError`` unless the horizon holds at least one step."""
    if step_sec <= 0 or horizon_sec < step_sec:
        raise ScenarioError(f"the horizon ({horizon_sec} s) must hold at least one step of {step_sec} s")
    return horizon_sec // step_sec, step_sec / YEAR_SEC


def quantise_price(price: float) -> int:
    """A positive float price -> wad on the feed's 8-decimal grid."""
    step: int = 10 ** (18 - FEED_DECIMALS)
    per_unit: int = 10**FEED_DECIMALS
    return round(price * per_unit) * step


def quantise_vol(vol: float) -> int:
    step: int = 10 ** (18 - VOL_DECIMALS)
    per_unit: int = 10**VOL_DECIMALS
    return round(vol * per_unit) * step


def gbm_scenario(params: GbmParams, *, horizon_sec: int, step_sec: int, seed: int) -> Scenario:
    """A seeded GBM scenario of ``horizon_sec // step_sec`` steps of ``step_sec`` seconds."""
    if params.vol_model not in VOL_MODELS:
        raise ScenarioError(f"volatility model {params.vol_model!r} is not one of {', '.join(VOL_MODELS)}")
    if not params.spot > 0:
        raise ScenarioError(f"spot must be positive, got {params.spot}")
    vol_wad0 = quantise_vol(params.vol)
    if not MIN_VOL_WAD <= vol_wad0 <= MAX_VOL_WAD:
        raise ScenarioError(f"volatility {params.vol} is outside the oracle's bounds [0.05, 3]")
    n, dt = _steps(horizon_sec, step_sec)
    # independent streams for the price and the volatility, derived from the one seed
    price_rng, vol_rng = (np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(2))
    price_shocks = price_rng.standard_normal(n)
    vol_shocks = vol_rng.standard_normal(n)
    lo, hi = MIN_VOL_WAD / WAD, MAX_VOL_WAD / WAD
    vols = [params.vol]
    for k in range(n):
        v = vols[-1]
        if params.vol_model == "mean-reverting":
            v = v + params.kappa * (params.vol - v) * dt + params.xi * math.sqrt(dt) * float(vol_shocks[k])
            v = min(max(v, lo), hi)
        vols.append(v)
    prices = [params.spot]
    for k in range(n):
        sigma = vols[k]
        step = (params.drift - sigma * sigma / 2) * dt + sigma * math.sqrt(dt) * float(price_shocks[k])
        prices.append(prices[-1] * math.exp(step))
    return Scenario(
        times_sec=tuple(k * step_sec for k in range(n + 1)),
        prices_wad=tuple(quantise_price(p) for p in prices),
        vols_wad=tuple(quantise_vol(v) for v in vols),
        description=(
            f"GBM seed {seed}: spot {params.spot}, drift {params.drift}, vol {params.vol} ({params.vol_model}), "
            f"{n} steps of {step_sec} s"
        ),
    )


def merton_total_vol(p: MertonParams) -> float:
    """The annualised standard deviation of the log-price under ``p``: sqrt(sigma^2 + lam (mu_j^2 + delta_j^2))."""
    return math.sqrt(p.sigma**2 + p.lam * (p.mu_j**2 + p.delta_j**2))


def merton_scenario(
    merton: MertonParams, *, spot: float, drift: float, horizon_sec: int, step_sec: int, seed: int
) -> Scenario:
    """A seeded path of Merton's jump-diffusion with the parameters the market's option prices use
    (``hedgevault.surface.merton``): over a step of dt years the log-price moves by

        (drift - lam kappa - sigma^2 / 2) dt + sigma sqrt(dt) z + sum_{i <= N} Y_i,
        N ~ Poisson(lam dt), Y_i ~ N(mu_j, delta_j^2), kappa = e^{mu_j + delta_j^2 / 2} - 1,

    so E[S_t] = S_0 e^{drift t} (with drift = the rate, the pricing measure). The scenario's vol at every step is
    the log-price's total standard deviation (``merton_total_vol``: the diffusion and the jumps), for the record;
    what the oracle gets is the keeper's fit of the market's quotes, or in the flat baseline their at-the-money
    implied vol."""
    if not spot > 0:
        raise ScenarioError(f"spot must be positive, got {spot}")
    if not (merton.sigma > 0 and merton.lam >= 0 and merton.delta_j >= 0):
        raise ScenarioError(f"Merton parameters need sigma > 0, lam >= 0, delta_j >= 0: got {merton}")
    total = merton_total_vol(merton)
    vol_wad = quantise_vol(total)
    if not MIN_VOL_WAD <= vol_wad <= MAX_VOL_WAD:
        raise ScenarioError(f"the Merton market's total vol {total:.4f} is outside the oracle's bounds [0.05, 3]")
    n, dt = _steps(horizon_sec, step_sec)
    diffusion_rng, count_rng, size_rng = (
        np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(3)
    )
    z = diffusion_rng.standard_normal(n)
    counts = count_rng.poisson(merton.lam * dt, n)
    kappa = math.exp(merton.mu_j + merton.delta_j**2 / 2) - 1
    drift_dt = (drift - merton.lam * kappa - merton.sigma**2 / 2) * dt
    prices = [spot]
    for k in range(n):
        jumps = float(np.sum(size_rng.normal(merton.mu_j, merton.delta_j, int(counts[k])))) if counts[k] else 0.0
        prices.append(prices[-1] * math.exp(drift_dt + merton.sigma * math.sqrt(dt) * float(z[k]) + jumps))
    return Scenario(
        times_sec=tuple(k * step_sec for k in range(n + 1)),
        prices_wad=tuple(quantise_price(p) for p in prices),
        vols_wad=(vol_wad,) * (n + 1),
        description=(
            f"Merton seed {seed}: spot {spot}, drift {drift}, sigma {merton.sigma}, jumps {merton.lam}/year of "
            f"mean {merton.mu_j} sd {merton.delta_j} ({int(counts.sum())} jumps), {n} steps of {step_sec} s"
        ),
        merton=merton,
    )


def _decimal(text: str, what: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ScenarioError(f"{where}: {what} {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise ScenarioError(f"{where}: {what} {text.strip()!r} is not a finite number")
    return value


def _to_wad_on_grid(value: Decimal, decimals: int) -> int:
    step: int = 10 ** (18 - decimals)
    return int((value * 10**decimals).to_integral_value()) * step


#: The step length of a step-indexed CSV when none is given (`hedgevault simulate --step`'s default).
DEFAULT_CSV_STEP_SEC = 3600


def load_csv(path: Path, *, step_sec: int | None, default_vol: float, min_step_sec: int) -> Scenario:
    """Read a scenario from a CSV with a header: ``timestamp`` (unix seconds) or ``step`` (integers,
    ``step_sec`` apart, by default an hour), then ``price`` (quote per underlying) and optionally ``vol``
    (annual, e.g. 0.8). A UTF-8 byte-order mark (Excel's "CSV UTF-8") is accepted.

    Without a ``vol`` column every step posts ``default_vol``. Prices are quantised to 8 decimals and
    volatilities to 6. Errors name the line and what is wrong with it.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the prices CSV {path}: {exc.strerror or exc}") from None
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path} is not a text CSV (byte {exc.start} is not UTF-8): save it as CSV (UTF-8) text"
        ) from None
    if "\x00" in text:
        raise ScenarioError(f"{path} holds NUL bytes: it is a binary file, not a CSV")
    rows = [(i + 1, row) for i, row in enumerate(csv.reader(text.splitlines())) if any(c.strip() for c in row)]
    if not rows:
        raise ScenarioError(f"{path} is empty: expected a header `timestamp,price[,vol]` or `step,price[,vol]`")
    header_line, header = rows[0]
    columns = [c.strip().lower() for c in header]
    if columns not in (
        ["timestamp", "price"],
        ["timestamp", "price", "vol"],
        ["step", "price"],
        ["step", "price", "vol"],
    ):
        raise ScenarioError(
            f"{path} line {header_line}: header {','.join(header)!r} is not one of timestamp,price / "
            "timestamp,price,vol / step,price / step,price,vol"
        )
    by_step = columns[0] == "step"
    has_vol = len(columns) == 3
    if by_step and step_sec is None:
        step_sec = DEFAULT_CSV_STEP_SEC
    if not by_step and step_sec is not None:
        raise ScenarioError(f"{path} has timestamps, which fix the step times: drop --step")
    data = rows[1:]
    if len(data) < 2:
        raise ScenarioError(f"{path}: need at least two rows (the start and one step), found {len(data)}")
    default_vol_wad = quantise_vol(default_vol)
    marks: list[int] = []
    prices: list[int] = []
    vols: list[int] = []
    for line, row in data:
        where = f"{path} line {line}"
        if len(row) != len(columns):
            raise ScenarioError(f"{where}: expected {len(columns)} fields ({','.join(columns)}), found {len(row)}")
        mark = _decimal(row[0], columns[0], where)
        if mark != mark.to_integral_value():
            raise ScenarioError(f"{where}: {columns[0]} {row[0].strip()!r} is not a whole number")
        if marks and int(mark) <= marks[-1]:
            raise ScenarioError(f"{where}: {columns[0]} {int(mark)} is not after the previous row's {marks[-1]}")
        price = _decimal(row[1], "price", where)
        price_wad = _to_wad_on_grid(price, FEED_DECIMALS)
        if price_wad <= 0:
            raise ScenarioError(f"{where}: price {row[1].strip()!r} must be positive (at 8 decimals)")
        vol_wad = default_vol_wad
        if has_vol:
            vol_wad = _to_wad_on_grid(_decimal(row[2], "vol", where), VOL_DECIMALS)
            if not MIN_VOL_WAD <= vol_wad <= MAX_VOL_WAD:
                raise ScenarioError(f"{where}: vol {row[2].strip()} is outside the oracle's bounds [0.05, 3]")
        marks.append(int(mark))
        prices.append(price_wad)
        vols.append(vol_wad)
    scale = step_sec if by_step and step_sec is not None else 1
    times = tuple((m - marks[0]) * scale for m in marks)
    for (line, _), before, after in zip(data[1:], times, times[1:], strict=False):
        if after - before < min_step_sec:
            raise ScenarioError(
                f"{path} line {line}: {after - before} s after the previous row; steps must be at least "
                f"{min_step_sec} s (the pool's TWAP window plus a margin)"
            )
    if not has_vol and not MIN_VOL_WAD <= default_vol_wad <= MAX_VOL_WAD:
        raise ScenarioError(f"volatility {default_vol} is outside the oracle's bounds [0.05, 3]")
    return Scenario(
        times_sec=times,
        prices_wad=tuple(prices),
        vols_wad=tuple(vols),
        description=f"CSV {path.name}: {len(times) - 1} steps over {times[-1]} s",
    )
