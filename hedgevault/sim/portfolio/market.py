"""Market model of the portfolio simulator: correlated GBM for N assets, with an optional crash regime.

Pure Python on numpy, seeded and reproducible (same parameters and seed, same paths to the bit).

Normal regime: log-returns over a step of ``dt`` years are
``r = (mu - sigma^2 / 2) dt + sigma sqrt(dt) L z`` with ``L L' = C`` (the Cholesky factor of the
correlation matrix) and ``z`` independent standard normals.

Crash regime (``CrashParams``): from ``start_day`` for ``days`` (3 by default) every asset falls by
``drawdown`` (35%) from its level at the crash's start, exactly: its log-path over the crash is a Brownian
bridge from ``ln S_start`` to ``ln S_start + ln(1 - drawdown)`` whose noise has the crash correlation
(0.9 between every pair) and the volatilities times ``vol_multiplier``. Then a recovery of
``recovery_days`` regains ``recovery_fraction`` of the fall (a drift, normal correlations and volatilities,
plus the normal noise), and the normal regime resumes.

Prices are quantised to the feed's 8 decimals (wad on the 1e-8 grid), as in the option-vault scenario, so
the feeds, the pools, the on-chain run and the off-chain baselines all see the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hedgevault.sim.errors import ScenarioError
from hedgevault.sim.scenario import FEED_DECIMALS, quantise_price

WAD = 10**18
HOUR_SEC = 3600
DAY_SEC = 86_400
YEAR_SEC = 365 * DAY_SEC
#: Largest horizon the model accepts (steps x assets stay small enough for a simulation): 10 years.
MAX_HORIZON_SEC = 10 * YEAR_SEC
#: Largest annual volatility and absolute drift the model accepts.
MAX_VOL = 5.0
MAX_DRIFT = 5.0

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class AssetSpec:
    """One risky asset: its symbol, token decimals, price at the start (quote per asset), annual
    volatility and annual drift."""

    symbol: str
    decimals: int
    spot: float
    vol: float
    drift: float = 0.0


#: The demo's three assets: WETH-, WBTC- and SOL-like (realistic decimals), and their correlations: those
#: the deployment's default portfolio config posts first (``hedgevault.portfolio.config.DEFAULT_ASSETS``).
DEMO_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("tWETH", 18, 3000.0, 0.60),
    AssetSpec("tWBTC", 8, 60000.0, 0.50),
    AssetSpec("tSOL", 9, 150.0, 0.80),
)
DEMO_CORRELATION: tuple[tuple[float, ...], ...] = (
    (1.0, 0.8, 0.75),
    (0.8, 1.0, 0.7),
    (0.75, 0.7, 1.0),
)


@dataclass(frozen=True)
class CrashParams:
    """The crash regime (see the module's docstring). ``start_day`` None: at a third of the horizon."""

    start_day: float | None = None
    days: float = 3.0
    drawdown: float = 0.35
    correlation: float = 0.9
    vol_multiplier: float = 1.5
    recovery_days: float = 7.0
    recovery_fraction: float = 0.3


@dataclass(frozen=True)
class MarketParams:
    """Assets, their correlation matrix and, for the crash scenario, the crash."""

    assets: tuple[AssetSpec, ...] = DEMO_ASSETS
    correlation: tuple[tuple[float, ...], ...] = DEMO_CORRELATION
    crash: CrashParams | None = None

    @property
    def n(self) -> int:
        return len(self.assets)


@dataclass(frozen=True)
class Paths:
    """Simulated prices: ``prices_wad[k][i]`` is asset i's price at step k (quote per asset, wad on the
    feed's 8-decimal grid); step 0 is the start. ``regime[k]`` names the regime of the step ending at k
    ("start", "normal", "crash", "recovery"). ``description`` says how the paths were made."""

    times_sec: tuple[int, ...]
    prices_wad: tuple[tuple[int, ...], ...]
    regime: tuple[str, ...]
    symbols: tuple[str, ...]
    description: str
    step_sec: int
    crash_steps: tuple[int, int] | None = field(default=None)

    @property
    def steps(self) -> int:
        return len(self.times_sec) - 1

    @property
    def n(self) -> int:
        return len(self.symbols)

    def prices(self) -> Matrix:
        """Prices as floats, (steps + 1) x n."""
        return np.array(self.prices_wad, dtype=np.float64) / WAD

    def log_returns(self) -> Matrix:
        return np.asarray(np.diff(np.log(self.prices()), axis=0), dtype=np.float64)


def _finite(value: float, what: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def check_params(params: MarketParams) -> Matrix:
    """Validate ``params``; returns the Cholesky factor of the correlation matrix. Errors say what is wrong."""
    n = params.n
    if n < 1:
        raise ScenarioError("the market needs at least one asset")
    for a in params.assets:
        if not 0 < _finite(a.spot, f"{a.symbol} spot") < 1e12:
            raise ScenarioError(f"{a.symbol} spot must be in (0, 1e12), got {a.spot}")
        if quantise_price(a.spot) <= 0:
            raise ScenarioError(f"{a.symbol} spot {a.spot} is below the feed's 1e-{FEED_DECIMALS} grid")
        if not 0 < _finite(a.vol, f"{a.symbol} vol") <= MAX_VOL:
            raise ScenarioError(f"{a.symbol} vol must be in (0, {MAX_VOL}], got {a.vol}")
        if abs(_finite(a.drift, f"{a.symbol} drift")) > MAX_DRIFT:
            raise ScenarioError(f"{a.symbol} drift must be within +-{MAX_DRIFT}, got {a.drift}")
    corr = np.array(params.correlation, dtype=np.float64)
    if corr.shape != (n, n):
        raise ScenarioError(f"the correlation matrix must be {n} x {n}, got shape {corr.shape}")
    if not np.all(np.isfinite(corr)) or not np.allclose(corr, corr.T, atol=0) or not np.all(np.diag(corr) == 1.0):
        raise ScenarioError("the correlation matrix must be finite, symmetric, with ones on the diagonal")
    if np.any(np.abs(corr) > 1):
        raise ScenarioError("correlations must be within [-1, 1]")
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise ScenarioError("the correlation matrix is not positive definite") from None
    crash = params.crash
    if crash is not None:
        if not 0 < _finite(crash.drawdown, "crash drawdown") < 1:
            raise ScenarioError(f"crash drawdown must be in (0, 1), got {crash.drawdown}")
        if not 0 < _finite(crash.days, "crash days") <= 365:
            raise ScenarioError(f"crash days must be in (0, 365], got {crash.days}")
        if not -1 / max(n - 1, 1) < _finite(crash.correlation, "crash correlation") < 1:
            raise ScenarioError(f"crash correlation must be in (-1/(n-1), 1), got {crash.correlation}")
        if not 0 < _finite(crash.vol_multiplier, "crash vol multiplier") <= 10:
            raise ScenarioError(f"crash vol multiplier must be in (0, 10], got {crash.vol_multiplier}")
        if not 0 <= _finite(crash.recovery_days, "recovery days") <= 365:
            raise ScenarioError(f"recovery days must be in [0, 365], got {crash.recovery_days}")
        if not 0 <= _finite(crash.recovery_fraction, "recovery fraction") <= 1:
            raise ScenarioError(f"recovery fraction must be in [0, 1], got {crash.recovery_fraction}")
        if crash.start_day is not None and not _finite(crash.start_day, "crash start day") >= 0:
            raise ScenarioError(f"crash start day must be >= 0, got {crash.start_day}")
    return np.asarray(chol, dtype=np.float64)


def simulate_paths(params: MarketParams, *, horizon_sec: int, step_sec: int, seed: int) -> Paths:
    """Seeded paths of ``horizon_sec // step_sec`` steps of ``step_sec`` seconds (see the module's docstring)."""
    chol = check_params(params)
    if step_sec <= 0:
        raise ScenarioError(f"the step must be positive, got {step_sec} s")
    if not step_sec <= horizon_sec <= MAX_HORIZON_SEC:
        raise ScenarioError(f"the horizon ({horizon_sec} s) must hold one step of {step_sec} s and be at most 10 years")
    n_steps = horizon_sec // step_sec
    n = params.n
    dt = step_sec / YEAR_SEC
    vols = np.array([a.vol for a in params.assets])
    drifts = np.array([a.drift for a in params.assets])
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    z = rng.standard_normal((n_steps, n))
    normal = (drifts - vols**2 / 2) * dt + (z @ chol.T) * vols * math.sqrt(dt)
    returns = normal.copy()
    regime = ["normal"] * n_steps
    crash_steps: tuple[int, int] | None = None
    crash = params.crash
    if crash is not None:
        start_day = crash.start_day if crash.start_day is not None else horizon_sec / DAY_SEC / 3
        first = round(start_day * DAY_SEC / step_sec)  # index of the first crash return
        length = max(1, round(crash.days * DAY_SEC / step_sec))
        if first + length > n_steps:
            raise ScenarioError(
                f"the crash ({crash.days:g} days from day {start_day:g}) does not fit in the horizon of "
                f"{horizon_sec / DAY_SEC:g} days"
            )
        crash_steps = (first, first + length)
        c = np.full((n, n), crash.correlation)
        np.fill_diagonal(c, 1.0)
        crash_chol = np.linalg.cholesky(c)
        crash_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(1)[0]))
        noise = (crash_rng.standard_normal((length, n)) @ crash_chol.T) * vols * crash.vol_multiplier * math.sqrt(dt)
        # Brownian bridge: remove the noise's total in proportion to time, add the fall in equal parts
        cumulative = np.cumsum(noise, axis=0)
        bridge = cumulative - np.outer(np.arange(1, length + 1) / length, cumulative[-1])
        increments = np.diff(np.vstack([np.zeros(n), bridge]), axis=0)
        returns[first : first + length] = increments + math.log(1 - crash.drawdown) / length
        regime[first : first + length] = ["crash"] * length
        rec_len = min(round(crash.recovery_days * DAY_SEC / step_sec), n_steps - first - length)
        if rec_len > 0 and crash.recovery_fraction > 0:
            regain = -math.log(1 - crash.drawdown) * crash.recovery_fraction / rec_len
            lo = first + length
            returns[lo : lo + rec_len] += regain
            regime[lo : lo + rec_len] = ["recovery"] * rec_len
    spots = np.array([a.spot for a in params.assets])
    log_paths = np.vstack([np.log(spots), np.log(spots) + np.cumsum(returns, axis=0)])
    prices = np.exp(log_paths)
    prices_wad = tuple(tuple(quantise_price(float(p)) for p in row) for row in prices)
    for k, row in enumerate(prices_wad):
        if min(row) <= 0:
            raise ScenarioError(f"step {k}: a price fell below the feed's 1e-{FEED_DECIMALS} grid")
    kind = "GBM" if crash is None else "GBM with a crash"
    description = (
        f"{kind}, seed {seed}: {n} assets ({', '.join(a.symbol for a in params.assets)}), vols "
        f"{', '.join(f'{a.vol:g}' for a in params.assets)}, {n_steps} steps of {step_sec / HOUR_SEC:g} h"
    )
    if crash is not None and crash_steps is not None:
        description += (
            f"; crash -{100 * crash.drawdown:g}% over {crash.days:g} days from day "
            f"{crash_steps[0] * step_sec / DAY_SEC:g} (correlation {crash.correlation:g}), recovery of "
            f"{100 * crash.recovery_fraction:g}% over {crash.recovery_days:g} days"
        )
    return Paths(
        times_sec=tuple(k * step_sec for k in range(n_steps + 1)),
        prices_wad=prices_wad,
        regime=("start", *regime),
        symbols=tuple(a.symbol for a in params.assets),
        description=description,
        step_sec=step_sec,
        crash_steps=crash_steps,
    )


def realised_stats(paths: Paths, steps: Sequence[int] | None = None) -> tuple[Matrix, Matrix]:
    """(annualised volatilities, correlation matrix) of the log-returns of the steps ``steps`` (indexes of
    returns, 0-based; all by default)."""
    r = paths.log_returns()
    if steps is not None:
        r = r[list(steps)]
    periods = YEAR_SEC / paths.step_sec
    cov = np.cov(r, rowvar=False) * periods
    vols = np.sqrt(np.diag(cov))
    return np.asarray(vols, dtype=np.float64), np.asarray(cov / np.outer(vols, vols), dtype=np.float64)
