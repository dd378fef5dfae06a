"""An off-chain model of the keeper and the vault's rebalancing rule, on the same paths and pools.

It is what the on-chain run does, without the chain: the keeper's covariance is an EWMA of the feeds'
log-returns (started at the market's own covariance, as the deployment's first post), quantised to the
oracle's basis points (``optimizer.quantise_post``); the targets are the optimizer's answer in the run's
mode (``target_volatility`` / ``risk_parity`` / ``min_variance``, each verified by the mirror of the
contract's checks); the vault trades an asset to its target when its weight is more than its no-trade band
from it. The band is ``clamp(scale x cbrt(cost x sigma_i^2), min, max)``, sigma_i the asset's volatility in
the posted covariance (the shape the issue fixes: the optimal band grows like (cost x sigma^2)^(1/3)).

The model serves three purposes: the targets series when no chain is at hand (the baselines follow the
same targets), a cross-check of the on-chain run, and the long benchmarks (12 seeds x 90 days) when the
chain is too slow for them; every figure says which one it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hedgevault.keeper.portfolio import (
    DEFAULT_QUOTE_BUFFER_WAD,
    DEFAULT_REPOST_ERROR_WAD,
    repost_for_error,
    target_error_wad,
    with_quote_buffer,
)
from hedgevault.portfolio import mirror, optimizer
from hedgevault.portfolio.errors import PortfolioError
from hedgevault.portfolio.mirror import (
    DEFAULT_COV_PARAMS,
    DEFAULT_REBALANCE_PARAMS,
    WAD,
    CorrWords,
    CovParams,
    LastPost,
    Mode,
    TargetRules,
    covariance_wad,
)
from hedgevault.sim.portfolio.market import YEAR_SEC, MarketParams, Paths

Matrix = NDArray[np.float64]
Vector = NDArray[np.float64]

MODES = {"target-vol": Mode.TARGET_VOL, "risk-parity": Mode.RISK_PARITY, "min-variance": Mode.MIN_VARIANCE}


def default_rules(mode: str, n: int, target_vol: float = 0.20) -> TargetRules:
    """The demo's rules: long-only, at most 60% an asset; target-vol: a band of +-10% relative around ``target_vol`` (as
    the on-chain run's: 18-22% for 20%); risk parity: equal budgets within 2% of the portfolio variance; min
    variance: KKT within 1%."""
    zero = (0,) * n
    cap = (6 * WAD // 10,) * n
    if mode == "target-vol":
        # the on-chain run's band (``PortfolioSim.portfolio_config``), to the same wad
        lo, hi = round(target_vol * 0.9 * 100) * WAD // 100, round(target_vol * 1.1 * 100) * WAD // 100
        return TargetRules(Mode.TARGET_VOL, zero, cap, min_vol_wad=lo, max_vol_wad=hi)
    band = (0, 3 * WAD)  # risk parity and min variance are fully invested: the fallback scales into the band
    if mode == "risk-parity":
        budgets = [WAD // n] * n
        budgets[0] += WAD - sum(budgets)
        return TargetRules(
            Mode.RISK_PARITY,
            zero,
            (WAD,) * n,
            min_vol_wad=band[0],
            max_vol_wad=band[1],
            budget_wad=tuple(budgets),
            tolerance_wad=WAD // 50,
        )
    if mode == "min-variance":
        return TargetRules(
            Mode.MIN_VARIANCE, zero, (WAD,) * n, min_vol_wad=band[0], max_vol_wad=band[1], tolerance_wad=WAD // 100
        )
    raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")


def icbrt(x: int) -> int:
    """floor(cbrt(x)) of a non-negative integer (exact)."""
    if x < 0:
        raise ValueError("icbrt of a negative number")
    r = round(x ** (1 / 3)) if x < 2**1000 else 1 << ((x.bit_length() + 2) // 3)
    while r * r * r > x:
        r -= 1
    while (r + 1) ** 3 <= x:
        r += 1
    return r


def band_wad(cost_bps: int, band_scale_bp: int, sigma_wad: int, min_band_wad: int, max_band_wad: int) -> int:
    """The vault's no-trade band of an asset (``IPortfolioVault``): clamp(floor(bandScaleBp x
    floor(cbrt(costBps x 1e14 x sigmaWad^2)) / 1e4), minBandWad, maxBandWad)."""
    raw = band_scale_bp * icbrt(cost_bps * 10**14 * sigma_wad * sigma_wad) // 10_000
    return min(max(raw, min_band_wad), max_band_wad)


@dataclass(frozen=True)
class BandRule:
    """The vault's band parameters (``RebalanceParams``: costBps, bandScaleBp, minBandWad, maxBandWad); the
    simulator's default scale is the vault's, 0.35 (bands of 3.5-4.8% of NAV for the demo's 50-80% volatilities)."""

    cost_bps: int = 40
    band_scale_bp: int = DEFAULT_REBALANCE_PARAMS.band_scale_bp
    min_band_wad: int = WAD // 200
    max_band_wad: int = WAD // 10

    def bands(self, vols: Vector) -> Vector:
        """Bands (weights) for annualised volatilities (floats, rounded to wad as the oracle's are exact)."""
        out = [
            band_wad(self.cost_bps, self.band_scale_bp, round(float(v) * WAD), self.min_band_wad, self.max_band_wad)
            for v in vols
        ]
        return np.array(out, dtype=np.float64) / WAD


@dataclass(frozen=True)
class KeeperModel:
    """The keeper's estimator (EWMA with ``decay`` per step; with ``fast_decay`` > 0 also a fast EWMA, the
    post raising each volatility to the fast one's beyond ``fast_margin``: ``optimizer.fast_slow_covariance``)
    and its no-churn rule: a new target within ``min_target_change`` of the current one in every asset is
    not posted while the current one still verifies, unless it de-risks and ``post_derisking``, or (risk-parity
    and min-variance modes) the current one's error under the step's covariance exceeds ``repost_error`` and
    the new one's is below half of it (``PortfolioTaskConfig``'s fields of the same meaning; ``repost_for_error``)."""

    decay: float = 0.94
    min_target_change: float = 0.005
    cov_params: CovParams = DEFAULT_COV_PARAMS
    fast_decay: float = 0.0
    fast_margin: float = 0.2
    post_derisking: bool = True
    repost_error: float = DEFAULT_REPOST_ERROR_WAD / WAD
    #: Risk-parity targets scaled by (1 - this), the rest in quote (``PortfolioTaskConfig.quote_buffer_wad``).
    quote_buffer: float = DEFAULT_QUOTE_BUFFER_WAD / WAD
    #: The oracle's step limits (``cov_params``) on the posts, as the keeper's ``step_toward`` clips them: one
    #: post at each step and, while clipped, one every ``follow_up_sec`` within the step (the on-chain run's
    #: follow-up ticks; 0: one post a step); ``clip_posts`` False: every post is the estimate itself.
    clip_posts: bool = True
    follow_up_sec: int = 3_600
    #: The follow-ups stop this long before the next step (the on-chain run's arbitrage lag: TWAP window + 1 s).
    follow_up_lag_sec: int = 601


def market_covariance(params: MarketParams) -> Matrix:
    vols = np.array([a.vol for a in params.assets])
    return np.asarray(np.array(params.correlation) * np.outer(vols, vols), dtype=np.float64)


@dataclass
class TargetSeries:
    """Per step: the posted covariance (annual, floats, from the oracle's integers), the targets and bands."""

    covariances: list[Matrix]
    targets: Matrix
    bands: Matrix
    fallbacks: int


def _allocate(cov_wad: Sequence[int], rules: TargetRules) -> optimizer.Allocation:
    if rules.mode == Mode.TARGET_VOL:
        return optimizer.target_volatility(cov_wad, rules)
    if rules.mode == Mode.RISK_PARITY:
        return optimizer.risk_parity(cov_wad, rules)
    return optimizer.min_variance(cov_wad, rules)


def _repost(
    current: Sequence[int], fresh: optimizer.Allocation, cov_wad: Sequence[int], rules: TargetRules, threshold: int
) -> bool:
    """The keeper's re-post for accuracy (``plan_targets``): the current targets still verify, their error is past
    the threshold and the fresh solve's (in the rules' mode, not a fallback) below half of it."""
    try:
        mirror.verify(current, cov_wad, rules)
    except PortfolioError:
        return False  # an invalid target is replaced anyway
    held = target_error_wad(current, cov_wad, rules)
    fresh_error = target_error_wad(fresh.weights_wad, cov_wad, rules) if fresh.mode == rules.mode else None
    return repost_for_error(held, fresh_error, threshold)


def clipped_posts(
    last: LastPost | None, estimate: tuple[int, CorrWords], paths: Paths, k: int, keeper: KeeperModel
) -> LastPost:
    """The oracle's post at the end of step k's posts: the keeper's post toward ``estimate`` at the step's time
    within the oracle's step limits (``keeper.step_toward``), and while clipped one more every
    ``follow_up_sec`` until ``follow_up_lag_sec`` before the next step (the first post is the estimate)."""
    from hedgevault.keeper.portfolio import step_toward

    start = int(paths.times_sec[k])
    if last is None:
        return LastPost(estimate[0], estimate[1], start)
    at, end = start, start + paths.step_sec - keeper.follow_up_lag_sec
    while True:
        vols, corrs, t = step_toward(last, estimate, paths.n, keeper.cov_params, at)
        last = LastPost(vols, corrs, at)
        at += keeper.follow_up_sec
        if t == 1 or keeper.follow_up_sec <= 0 or at >= end:
            return last


def target_series(
    paths: Paths, params: MarketParams, rules: TargetRules, keeper: KeeperModel, band_rule: BandRule
) -> TargetSeries:
    """The keeper's posts and targets at every step (step k uses the returns up to step k)."""
    returns = paths.log_returns()
    periods = YEAR_SEC / paths.step_sec
    cov = market_covariance(params)
    fast = cov.copy()
    slow = cov.copy()
    covs: list[Matrix] = []
    targets = np.zeros((paths.steps + 1, paths.n))
    bands = np.zeros((paths.steps + 1, paths.n))
    fallbacks = 0
    min_change = round(keeper.min_target_change * WAD)
    repost_wad = round(keeper.repost_error * WAD)
    buffer_wad = round(keeper.quote_buffer * WAD)
    current: tuple[int, ...] | None = None
    last: LastPost | None = None
    for k in range(paths.steps + 1):
        if k > 0:
            r = returns[k - 1]
            slow = keeper.decay * slow + (1 - keeper.decay) * np.outer(r, r) * periods
            cov = slow
            if keeper.fast_decay > 0:
                fast = keeper.fast_decay * fast + (1 - keeper.fast_decay) * np.outer(r, r) * periods
                cov = optimizer.fast_slow_covariance(slow, fast, keeper.fast_margin)
        vols_word, corr_words = optimizer.quantise_post(cov, keeper.cov_params)
        if keeper.clip_posts:
            last = clipped_posts(last, (vols_word, corr_words), paths, k, keeper)
            vols_word, corr_words = last.vols_word, last.corr_words
        cov_wad = covariance_wad(vols_word, corr_words, paths.n)
        allocation = with_quote_buffer(_allocate(cov_wad, rules), cov_wad, rules, buffer_wad)
        fallbacks += allocation.fallback_reason is not None
        new = allocation.weights_wad
        # a de-risking move is never held back by the no-churn rule, nor a re-post for accuracy
        if (
            current is None
            or any(abs(a - b) >= min_change for a, b in zip(new, current, strict=True))
            or (keeper.post_derisking and optimizer.derisks(new, current, cov_wad))
            or _repost(current, allocation, cov_wad, rules, repost_wad)
        ):
            current = new
        else:
            try:  # the keeper keeps targets that still verify and are close to the new answer (no churn)
                mirror.verify(current, cov_wad, rules)
            except PortfolioError:
                current = new
        posted = optimizer.covariance_from_wad(cov_wad)
        covs.append(posted)
        targets[k] = np.array(current, dtype=np.float64) / WAD
        bands[k] = band_rule.bands(np.sqrt(np.diag(posted)))
    return TargetSeries(covariances=covs, targets=targets, bands=bands, fallbacks=fallbacks)
