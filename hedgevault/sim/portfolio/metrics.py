"""Figures of a strategy run (on-chain or a baseline), all on the same steps.

* realised volatility: the standard deviation of the per-step log-returns of the NAV (per share for the
  on-chain run, whose depositors come and go) annualised by sqrt(steps per year); rolling over a window;
* maximum drawdown: the largest fall of the NAV from its running peak;
* turnover: value traded per year over the mean NAV;
* rebalancing cost in bps of the mean NAV per year: fees + price impact (value in - value out at the oracle
  price) + gas (valued by the gas model);
* tracking error to the targets: realised, the annualised deviation of the strategy's per-step return from
  that of a portfolio held exactly at the previous step's targets (at no cost); ex ante, the mean over
  the steps of sqrt((w - t)' S (w - t)), S the posted covariance of the step;
* the average risky weights (what the constant-weight comparison holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hedgevault.sim.portfolio.baselines import StrategyRun
from hedgevault.sim.portfolio.market import YEAR_SEC

Matrix = NDArray[np.float64]
Vector = NDArray[np.float64]


@dataclass(frozen=True)
class Metrics:
    name: str
    realised_vol: float
    max_drawdown: float
    total_return: float
    turnover_per_year: float
    cost_bps_per_year: float
    fee_bps_per_year: float
    impact_bps_per_year: float
    gas_bps_per_year: float
    tracking_error: float
    tracking_error_ex_ante: float
    average_weights: tuple[float, ...]
    trades: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def per_step_returns(values: Vector) -> Vector:
    v = np.asarray(values, dtype=np.float64)
    return np.asarray(v[1:] / v[:-1] - 1, dtype=np.float64)


def annualised_vol(values: Vector, step_sec: int) -> float:
    r = np.diff(np.log(np.asarray(values, dtype=np.float64)))
    if len(r) < 2:
        return 0.0
    return float(np.std(r, ddof=1) * np.sqrt(YEAR_SEC / step_sec))


def rolling_vol(values: Vector, step_sec: int, window: int) -> Vector:
    """Annualised vol of the ``window`` returns ending at each step (NaN until there are enough)."""
    r = np.diff(np.log(np.asarray(values, dtype=np.float64)))
    out = np.full(len(values), np.nan)
    scale = np.sqrt(YEAR_SEC / step_sec)
    for k in range(window, len(values)):
        out[k] = np.std(r[k - window : k], ddof=1) * scale
    return out


def drawdown(values: Vector) -> Vector:
    v = np.asarray(values, dtype=np.float64)
    return np.asarray(1 - v / np.maximum.accumulate(v), dtype=np.float64)


def target_returns(prices: Matrix, targets: Matrix) -> Vector:
    """Per step k >= 1: the return of the previous step's targets (rest in quote) over the step."""
    asset = prices[1:] / prices[:-1] - 1
    return np.asarray(np.sum(targets[:-1] * asset, axis=1), dtype=np.float64)


def compute(
    run: StrategyRun,
    prices: Matrix,
    step_sec: int,
    covariances: Sequence[Matrix],
    values: Vector | None = None,
) -> Metrics:
    """The run's figures; ``values`` is the per-share NAV when depositors move the NAV (default: the NAV)."""
    v = run.nav if values is None else np.asarray(values, dtype=np.float64)
    years = (len(v) - 1) * step_sec / YEAR_SEC
    mean_nav = float(np.mean(run.nav))
    per_year = 1e4 / mean_nav / years if years > 0 else 0.0
    gap = per_step_returns(v) - target_returns(prices, run.targets)
    te = float(np.std(gap, ddof=1) * np.sqrt(YEAR_SEC / step_sec)) if len(gap) > 1 else 0.0
    diffs = run.weights - run.targets
    ex_ante = [float(np.sqrt(max(d @ s @ d, 0.0))) for d, s in zip(diffs, covariances, strict=True)]
    return Metrics(
        name=run.name,
        realised_vol=annualised_vol(v, step_sec),
        max_drawdown=float(drawdown(v).max()),
        total_return=float(v[-1] / v[0] - 1),
        turnover_per_year=float(run.traded.sum()) / mean_nav / years if years > 0 else 0.0,
        cost_bps_per_year=float(run.cost.sum()) * per_year,
        fee_bps_per_year=float(run.fee.sum()) * per_year,
        impact_bps_per_year=float(run.impact.sum()) * per_year,
        gas_bps_per_year=float(run.gas.sum()) * per_year,
        tracking_error=te,
        tracking_error_ex_ante=float(np.mean(ex_ante)),
        average_weights=tuple(float(x) for x in run.weights.mean(axis=0)),
        trades=int(run.trades.sum()),
    )
