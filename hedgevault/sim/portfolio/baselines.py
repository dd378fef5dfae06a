"""Baselines on the same paths, pure Python: buy-and-hold, calendar rebalancing, a fixed band, and a
constant-weight portfolio; all trade through the same pools (:mod:`hedgevault.sim.portfolio.costs`).

A baseline holds asset balances and quote. At each step the pools are put at the step's prices (the
arbitrageur's move, as on chain); the policy names the assets to trade to their targets; sales go first
(they raise the quote), then buys (each spends at most the quote there is: a buy never borrows). Within a
step the trades move the pools, so a second trade on the same pool pays the first one's impact.

Every strategy starts at step 0 holding the same weights (the first targets, or the on-chain vault's
weights once its deposits are invested), bought at the oracle prices at no cost.

* buy-and-hold: never trades;
* calendar: every asset to its target every ``period_sec`` (a week);
* band: each asset whose weight is more than ``band`` (0.05) from its target, traded to its target;
* constant weight: every asset to fixed weights at every step (the crash comparison: the same average
  risky weights as the target-volatility run, held throughout).

Gas is a cost of the strategy (reported with the fees and impact) but, as for the vault, whose keeper pays
it in ETH, it is not taken from the NAV. Targets are per step (``targets[k]``: the vault's targets after
step k of the on-chain run, or any series); weights and NAV are at the oracle prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hedgevault.sim.portfolio.costs import GasModel, PoolModel, buy_cost, sell_cost
from hedgevault.sim.portfolio.market import Paths

Matrix = NDArray[np.float64]
Vector = NDArray[np.float64]
WEEK_SEC = 7 * 86_400
#: A trade smaller than this fraction of NAV is not made (dust).
MIN_TRADE_FRACTION = 1e-6
#: Risk-parity mode: a weight within this of its target is not traded for the risk contributions' sake (the
#: default of the vault's ``RebalanceParams.rcDustWad``).
RC_DUST = 0.001


@dataclass(frozen=True)
class Policy:
    """When a strategy trades: ``kind`` one of buy-and-hold, calendar, band (one fixed band), every-step, and
    bands (a band per asset and step: the vault's rule in the off-chain model)."""

    kind: str
    period_sec: int = WEEK_SEC
    band: float = 0.05
    #: bands policies: trade to ``edge`` x the band short of the target (0: to the target; 1: to the band's edge)
    edge: float = 0.0

    def assets_to_trade(
        self, k: int, time_sec: int, last_sec: int, weights: Vector, targets: Vector, bands: Vector | None
    ) -> list[int]:
        n = len(weights)
        if k == 0 or self.kind == "buy-and-hold":
            return []
            return []
        if self.kind == "calendar":
            return list(range(n)) if time_sec - last_sec >= self.period_sec else []
        if self.kind == "band":
            return [i for i in range(n) if abs(weights[i] - targets[i]) > self.band]
        if self.kind == "every-step":
            return list(range(n))
        if self.kind == "bands":
            if bands is None:
                raise ValueError("the bands policy needs a band per asset and step")
            return [i for i in range(n) if abs(weights[i] - targets[i]) > bands[i]]
        raise ValueError(f"unknown policy {self.kind!r}")


BUY_AND_HOLD = Policy("buy-and-hold")
CALENDAR_WEEKLY = Policy("calendar", period_sec=WEEK_SEC)
BAND_5 = Policy("band", band=0.05)
EVERY_STEP = Policy("every-step")
#: The vault's rule (PortfolioEngine): an asset beyond its band is traded back to half its band short of the
#: target (the no-trade-band rule: back inside the band, not to its centre).
VAULT_BANDS = Policy("bands", edge=0.5)


@dataclass
class StrategyRun:
    """Per step (after the step's trades): NAV and weights at the oracle prices, the targets, the value
    traded, the costs (fee, impact, gas; quote) and the number of trades; ``balances`` and ``quote`` at
    the end of each step."""

    name: str
    times_sec: Vector
    nav: Vector
    weights: Matrix
    targets: Matrix
    traded: Vector
    fee: Vector
    impact: Vector
    gas: Vector
    trades: Vector
    balances: Matrix = field(repr=False)
    quote: Vector = field(repr=False)

    @property
    def cost(self) -> Vector:
        return np.asarray(self.fee + self.impact + self.gas, dtype=np.float64)


@dataclass
class VaultRun:
    """The vault's run (on-chain or modelled): its strategy series, posted covariances, bands, per-share
    NAV, and what else it reports (``extra``: the on-chain records, budget, agents...)."""

    run: StrategyRun
    covariances: list[np.ndarray]
    bands: np.ndarray | None
    values: np.ndarray | None
    pools: list[PoolModel]
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


def run_strategy(
    name: str,
    paths: Paths,
    targets: Matrix,
    policy: Policy,
    pools: Sequence[PoolModel],
    gas: GasModel,
    nav0: float,
    bands: Matrix | None = None,
    start_weights: Vector | None = None,
    risk_budgets: Vector | None = None,
    covariances: Sequence[Matrix] | None = None,
    rc_tolerance: float = 0.05,
    rc_dust: float = RC_DUST,
    max_vol: float | None = None,
) -> StrategyRun:
    """Run ``policy`` on ``paths`` from ``nav0`` quote. The start is the first targets (or ``start_weights``)
    bought at the oracle prices at no cost: the initial allocation is not rebalancing, and every strategy
    starts from the same one (the on-chain vault's, after its deposits are invested). ``max_vol`` (target-vol
    mode, with ``covariances``): the vault's de-risking exemption (:func:`derisking_assets`), whose assets are
    sold to their targets past their bands."""
    prices = paths.prices()
    steps, n = prices.shape
    t = np.asarray(targets, dtype=np.float64)
    if t.shape != (steps, n):
        raise ValueError(f"targets must be {steps} x {n}, got {t.shape}")
    w0 = t[0] if start_weights is None else np.asarray(start_weights, dtype=np.float64)
    balances = w0 * nav0 / prices[0]
    quote = float(nav0 * (1 - w0.sum()))
    out = StrategyRun(
        name=name,
        times_sec=np.array(paths.times_sec, dtype=np.float64),
        nav=np.zeros(steps),
        weights=np.zeros((steps, n)),
        targets=t.copy(),
        traded=np.zeros(steps),
        fee=np.zeros(steps),
        impact=np.zeros(steps),
        gas=np.zeros(steps),
        trades=np.zeros(steps),
        balances=np.zeros((steps, n)),
        quote=np.zeros(steps),
    )
    last_sec = 0
    for k in range(steps):
        p = prices[k]
        for pool, price in zip(pools, p, strict=True):
            pool.reset(float(price))
        nav = quote + float(balances @ p)
        weights = balances * p / nav
        chosen = policy.assets_to_trade(
            k, paths.times_sec[k], last_sec, weights, t[k], None if bands is None else bands[k]
        )
        rounds = 0
        edges = np.full(n, policy.edge)
        if risk_budgets is not None and covariances is not None:
            catch_up = _rc_round(weights, t[k], covariances[k], risk_budgets, rc_tolerance, rc_dust)
            if catch_up:  # risk-parity catch-up: every asset off its target, all the way
                chosen = sorted(set(chosen) | set(catch_up))
                edges[:] = 0.0
        elif max_vol is not None and covariances is not None:
            derisking = derisking_assets(weights, t[k], covariances[k], max_vol, rc_dust)
            if derisking:  # de-risking sales exempt from the band, all the way to the target
                chosen = sorted(set(chosen) | set(derisking))
                edges[derisking] = 0.0
        if chosen:
            last_sec = paths.times_sec[k]
        while chosen:
            rounds += 1
            gaps = {i: float(t[k][i] * nav - balances[i] * p[i]) for i in chosen}
            if bands is not None:  # stop short of the target, inside the band
                gaps = {i: g - np.sign(g) * min(abs(g), edges[i] * bands[k][i] * nav) for i, g in gaps.items()}
            gaps = {i: g for i, g in gaps.items() if abs(g) > MIN_TRADE_FRACTION * nav}
            for i in sorted(gaps, key=lambda i: gaps[i]):  # sales (negative gaps) first
                gap = gaps[i]
                if gap < 0:
                    amount = min(-gap / p[i], float(balances[i]))
                    got, cost = sell_cost(pools[i], float(p[i]), amount, gas)
                    balances[i] -= amount
                    quote += got
                    out.traded[k] += amount * p[i]
                else:
                    spend = min(gap, quote)
                    if spend <= MIN_TRADE_FRACTION * nav:
                        continue
                    got, cost = buy_cost(pools[i], float(p[i]), spend, gas)
                    balances[i] += got
                    quote -= spend
                    out.traded[k] += spend
                out.fee[k] += cost.fee
                out.impact[k] += cost.impact
                out.gas[k] += cost.gas
                out.trades[k] += 1
            if risk_budgets is None or covariances is None or rounds > len(weights):
                break
            nav = quote + float(balances @ p)
            weights = balances * p / nav
            chosen = _rc_round(weights, t[k], covariances[k], risk_budgets, rc_tolerance, rc_dust)
            edges[:] = 0.0
        nav = quote + float(balances @ p)
        out.nav[k] = nav
        out.weights[k] = balances * p / nav
        out.balances[k] = balances
        out.quote[k] = quote
    return out


def rc_offenders(weights: Vector, cov: Matrix, budgets: Vector, tolerance: float) -> list[int]:
    """The assets whose risk contribution w_i (Sw)_i / w'Sw is off its budget by more than ``tolerance``
    (relative: |RC_i / b_i - 1|); every asset when the portfolio carries no variance."""
    w = np.asarray(weights, dtype=np.float64)
    variance = float(w @ cov @ w)
    if variance <= 0:
        return list(range(len(w)))
    rc = w * (cov @ w) / variance
    return [i for i in range(len(w)) if abs(rc[i] / budgets[i] - 1) > tolerance]


def derisking_assets(weights: Vector, targets: Vector, cov: Matrix, max_vol: float, dust: float = RC_DUST) -> list[int]:
    """Target-vol mode (``RebalanceMath.deriskMask``): while the held weights' ex-ante volatility sqrt(w'Sw) is
    above ``max_vol``, every asset held above its target whose sale lowers the variance and the tracking error
    to first order ((Sw)_i > 0, (Sd)_i > 0) and whose step min(d_i, (Sd)_i / S_ii) exceeds ``dust``."""
    w = np.asarray(weights, dtype=np.float64)
    if float(w @ cov @ w) <= max_vol * max_vol:
        return []
    d = w - np.asarray(targets, dtype=np.float64)
    gw, g = cov @ w, cov @ d
    return [i for i in range(len(w)) if d[i] > 0 and g[i] > 0 and gw[i] > 0 and min(d[i], g[i] / cov[i, i]) > dust]


def _rc_round(
    weights: Vector, targets: Vector, cov: Matrix, budgets: Vector, tolerance: float, dust: float = RC_DUST
) -> list[int]:
    """Risk-parity mode: while some risk contribution is off its budget by more than ``tolerance``, every
    asset more than ``dust`` from its target is traded to it (none otherwise)."""
    if not rc_offenders(weights, cov, budgets, tolerance):
        return []
    return [i for i in range(len(weights)) if abs(weights[i] - targets[i]) > dust]


def constant_targets(weights: Sequence[float], steps: int) -> Matrix:
    """The same weights at every step (``steps`` + 1 rows)."""
    return np.tile(np.asarray(weights, dtype=np.float64), (steps + 1, 1))
