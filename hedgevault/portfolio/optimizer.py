"""Keeper-side portfolio construction on numpy/scipy, whose answers pass the contract's checks.

Covariance estimates from a price history (:func:`ewma_covariance`, :func:`ledoit_wolf_covariance`), the
quantised post of one to the covariance oracle (:func:`quantise_post`), and four ways to choose target
weights, each returning an :class:`Allocation` whose integer weights have passed
:func:`hedgevault.portfolio.mirror.verify` against the covariance the chain will use (the oracle's
``covarianceWad``, exact integers), so a posted target is not refused for a reason the keeper could see:

* :func:`min_variance` - long-only minimum variance, by a primal active-set method (exact on its support);
* :func:`risk_parity` - equal risk contribution with budgets b, by Newton's method on Spinu's convex
  formulation min 1/2 x'Sx - sum b_i ln x_i (its minimiser has x_i (Sx)_i = b_i), w = x / sum x;
* :func:`target_volatility` - a base allocation (inverse volatility unless given) scaled to the middle of the
  volatility band, within sum <= 1 and the per-asset maxima;
* :func:`mean_variance` - max mu'w - gamma/2 w'Sw - kappa |w - w_prev|_1 within the bounds, sum <= 1 and
  the band (SLSQP over the buys and sells).

When a solve fails or the covariance is singular (or the solution fails the mirror's checks), each falls
back to inverse-volatility weights scaled into the band and verified in TargetVol mode, and logs the
reason; the :class:`Allocation` says so (``fallback_reason``). If the fallback fails the checks too,
:class:`~hedgevault.portfolio.errors.OptimizerError` is raised: nothing unverified is returned.

Units: floats are fractions of NAV and annualised figures (0.2 = 20%); integers are wad as in the mirror.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from hedgevault.portfolio import mirror
from hedgevault.portfolio.errors import OptimizerError, PortfolioError
from hedgevault.portfolio.mirror import WAD, CorrWords, CovParams, Mode, TargetRules

log = logging.getLogger(__name__)

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]

#: A covariance whose condition number exceeds this is treated as singular.
MAX_CONDITION = 1e12
#: Solver stopping rules: Newton decrement (risk parity), SLSQP ftol, active-set iterations per asset.
NEWTON_TOL = 1e-13
NEWTON_MAX_ITERATIONS = 100
SLSQP_FTOL = 1e-12
ACTIVE_SET_ITERATIONS_PER_ASSET = 4


class SolveError(Exception):
    """A solver failed; caught inside this module and turned into a logged fallback."""


@dataclass(frozen=True)
class Allocation:
    """Target weights that passed the mirror's checks, and how they were found.

    ``mode`` is the mode the weights were verified in (TargetVol for a fallback or a mean-variance
    target); ``vol_wad`` the ex-ante volatility the check computed; ``fallback_reason`` None unless the
    requested method failed and inverse-volatility weights were returned instead.
    """

    weights_wad: tuple[int, ...]
    mode: Mode
    vol_wad: int
    method: str
    fallback_reason: str | None = None


# ----------------------------------------------------------------------------- covariance estimates


def _log_returns(prices: NDArray[np.float64]) -> Matrix:
    p = np.asarray(prices, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 3:
        raise ValueError(f"prices must be a T x n array with T >= 3 rows, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("prices must be finite and positive")
    return np.diff(np.log(p), axis=0)


def ewma_covariance(prices: NDArray[np.float64], decay: float = 0.94, periods_per_year: float = 365.0) -> Matrix:
    """Annualised EWMA (RiskMetrics) covariance of log returns, zero mean: sum_t a_t r_t r_t' with weights
    a_t proportional to decay^(age of r_t), normalised to 1; times ``periods_per_year``."""
    if not 0.0 < decay < 1.0:
        raise ValueError(f"decay must be in (0, 1), got {decay}")
    r = _log_returns(prices)
    weights = decay ** np.arange(r.shape[0] - 1, -1, -1, dtype=np.float64)
    weights /= weights.sum()
    return np.asarray((r * weights[:, None]).T @ r * periods_per_year, dtype=np.float64)


def fast_slow_covariance(slow: Matrix, fast: Matrix, margin: float = 0.0) -> Matrix:
    """An estimate that rises with a fast covariance estimate and falls with a slow one: the slow matrix with
    each asset's volatility raised toward the fast one's where the fast one exceeds it by more than
    ``margin`` (relative), D S D with D_ii = max(1, (sigma_fast_i / sigma_slow_i) / (1 + margin)). A
    congruence: positive semi-definite as S is, the slow correlations kept. The margin keeps the fast
    estimate's noise out of calm markets (its volatility ratio rarely exceeds 1.2 without a shock)."""
    slow = np.asarray(slow, dtype=np.float64)
    fast = np.asarray(fast, dtype=np.float64)
    if slow.shape != fast.shape or margin < 0:
        raise ValueError(f"fast_slow_covariance: shapes {slow.shape} / {fast.shape}, margin {margin}")
    sd_slow = np.sqrt(np.clip(np.diag(slow), 0.0, None))
    sd_fast = np.sqrt(np.clip(np.diag(fast), 0.0, None))
    ratio = np.divide(sd_fast, sd_slow, out=np.ones_like(sd_slow), where=sd_slow > 0)
    d = np.maximum(ratio / (1.0 + margin), 1.0)
    return np.asarray(slow * np.outer(d, d), dtype=np.float64)


def derisks(new_wad: Sequence[int], current_wad: Sequence[int], cov_wad: Sequence[int]) -> bool:
    """The new targets carry strictly less ex-ante variance than the current ones under the same covariance
    (exact integers: w'Sw in 1e54 units). The keeper posts such a move whatever its size: the no-churn rule
    holds back small moves, never a de-risking one."""
    n = len(current_wad)
    if len(new_wad) != n or len(cov_wad) != n * n:
        return False

    def variance(w: Sequence[int]) -> int:
        return sum(w[i] * cov_wad[i * n + j] * w[j] for i in range(n) for j in range(n))

    return variance(new_wad) < variance(current_wad)


def ledoit_wolf_covariance(prices: NDArray[np.float64], periods_per_year: float = 365.0) -> tuple[Matrix, float]:
    """Annualised Ledoit-Wolf (2004) covariance: the sample covariance shrunk toward mu I (mu its mean
    variance) by the estimated optimal intensity delta = min(b^2, d^2) / d^2, where d^2 = |S - mu I|_F^2 and
    b^2 = (1/T^2) sum_t |x_t x_t' - S|_F^2 (x demeaned returns). Returns (covariance, delta)."""
    x = _log_returns(prices)
    x = x - x.mean(axis=0)
    t, n = x.shape
    sample = x.T @ x / t
    mu = float(np.trace(sample)) / n
    target = mu * np.eye(n)
    d2 = float(np.sum((sample - target) ** 2))
    b2_bar = float(sum(np.sum((np.outer(row, row) - sample) ** 2) for row in x)) / t**2
    delta = 0.0 if d2 == 0.0 else min(b2_bar, d2) / d2
    return np.asarray((delta * target + (1.0 - delta) * sample) * periods_per_year, dtype=np.float64), delta


def quantise_post(cov: Matrix, params: CovParams, max_shrink_steps: int = 100) -> tuple[int, CorrWords]:
    """The oracle post (vols word, correlation words) of a covariance: volatilities and correlations rounded
    to basis points and clipped to the oracle's bounds; if the rounded correlation matrix fails the oracle's
    PSD check (rounding moves eigenvalues by up to (n - 1) x 0.5e-4), it is shrunk toward the identity in
    steps of 1% until it passes, and the shrinkage is logged. Raises ``ValueError`` when it never does."""
    c = np.asarray(cov, dtype=np.float64)
    vols = np.sqrt(np.diag(c))
    if np.any(~np.isfinite(vols)) or np.any(vols <= 0):
        raise ValueError("every variance must be finite and positive")
    n = len(vols)
    corr = c / np.outer(vols, vols)
    vols_bp = [min(max(round(v * 1e4), params.min_vol_bp), params.max_vol_bp) for v in vols]
    vols_word = mirror.pack_vols(vols_bp)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    for step in range(max_shrink_steps + 1):
        keep = 1.0 - step / 100.0
        corrs_bp = [min(max(round(keep * corr[i, j] * 1e4), params.min_corr_bp), params.max_corr_bp) for i, j in pairs]
        words = mirror.pack_corrs(corrs_bp)
        if mirror.is_psd(words, n, params.psd_tol_bp):
            if step:
                log.warning("correlations shrunk by %d%% toward the identity to pass the PSD check", step)
            return vols_word, words
    raise ValueError("the correlation matrix fails the PSD check even shrunk to the identity")


# ----------------------------------------------------------------------------- solvers (floats)


def covariance_from_wad(cov_wad: Sequence[int]) -> Matrix:
    """The oracle's covariance (wad, n x n row-major) as a float matrix."""
    n = round(len(cov_wad) ** 0.5)
    if n * n != len(cov_wad):
        raise ValueError(f"a covariance needs n x n entries, got {len(cov_wad)}")
    return np.array(cov_wad, dtype=np.float64).reshape(n, n) / WAD


def _check_nonsingular(cov: Matrix) -> None:
    eig = np.linalg.eigvalsh(cov)
    if eig[0] <= 0 or eig[-1] / eig[0] > MAX_CONDITION:
        raise SolveError(f"covariance singular or ill-conditioned (eigenvalues {eig[0]:.3g} .. {eig[-1]:.3g})")


def inverse_vol_weights(cov: Matrix) -> Vector:
    """w_i proportional to 1 / sigma_i, summing to 1 (equal risk contributions when correlations are equal)."""
    inv = 1.0 / np.sqrt(np.diag(cov))
    return np.asarray(inv / inv.sum(), dtype=np.float64)


def min_variance_weights(cov: Matrix) -> Vector:
    """argmin w'Sw subject to sum w = 1, w >= 0 (primal active-set method; S positive definite)."""
    _check_nonsingular(cov)
    n = cov.shape[0]
    w = np.full(n, 1.0 / n)
    free = np.ones(n, dtype=bool)
    for _ in range(ACTIVE_SET_ITERATIONS_PER_ASSET * n + 1):
        idx = np.flatnonzero(free)
        z = np.linalg.solve(cov[np.ix_(idx, idx)], np.ones(len(idx)))
        target = np.zeros(n)
        target[idx] = z / z.sum()
        negative = free & (target < 0)
        if not negative.any():
            w = target
            g = cov @ w
            lam = float(w @ g)  # sum w = 1
            below = ~free & (g < lam * (1 - 1e-14))
            if not below.any():
                return w
            free[int(np.argmin(np.where(below, g, np.inf)))] = True
            continue
        # step from w toward the target until the first weight reaches zero; that asset leaves the free set
        ratios = np.where(negative, w / np.where(negative, w - target, 1.0), np.inf)
        k = int(np.argmin(ratios))
        w = w + ratios[k] * (target - w)
        w[k] = 0.0
        free[k] = False
    raise SolveError("minimum variance: the active-set method did not converge")


def risk_budget_weights(cov: Matrix, budgets: Vector) -> Vector:
    """Weights with risk contributions w_i (Sw)_i / w'Sw = b_i (Spinu 2013: Newton's method on the strictly
    convex f(x) = 1/2 x'Sx - sum b_i ln x_i, damped while the Newton decrement exceeds 1/4)."""
    _check_nonsingular(cov)
    b = np.asarray(budgets, dtype=np.float64)
    if b.shape != (cov.shape[0],) or np.any(b <= 0):
        raise SolveError("risk budgets must be positive, one per asset")
    b = b / b.sum()
    x = b / np.sqrt(float(b @ cov @ b))
    for _ in range(NEWTON_MAX_ITERATIONS):
        grad = cov @ x - b / x
        hess = cov + np.diag(b / x**2)
        step = np.linalg.solve(hess, grad)
        decrement = float(np.sqrt(step @ grad))
        x = x - (step / (1.0 + decrement) if decrement > 0.25 else step)
        if np.any(x <= 0):
            raise SolveError("risk parity: Newton left the positive orthant")
        if decrement < NEWTON_TOL:
            return np.asarray(x / x.sum(), dtype=np.float64)
    raise SolveError("risk parity: Newton's method did not converge")


def scale_to_volatility(w: Vector, cov: Matrix, target_vol: float, max_weight: Vector) -> Vector:
    """c w with sqrt(c^2 w'Sw) = target_vol, c capped so that sum c w <= 1 and c w_i <= max_weight_i."""
    vol = float(np.sqrt(w @ cov @ w))
    if vol <= 0:
        raise SolveError("target volatility: the base allocation has no risk")
    caps = [1.0 / float(w.sum())] + [float(m / x) for m, x in zip(max_weight, w, strict=True) if x > 0]
    return np.asarray(w * min(target_vol / vol, *caps), dtype=np.float64)


def mean_variance_weights(
    mu: Vector,
    cov: Matrix,
    risk_aversion: float,
    previous: Vector,
    turnover_cost: float,
    min_weight: Vector,
    max_weight: Vector,
    vol_band: tuple[float, float] | None,
) -> Vector:
    """argmax mu'w - gamma/2 w'Sw - kappa sum |w_i - w_prev,i| over min <= w <= max, sum w <= 1 and (when
    given) the volatility band; w = w_prev + u - d with u, d >= 0 makes the L1 term linear (SLSQP)."""
    n = cov.shape[0]
    prev = np.clip(np.asarray(previous, dtype=np.float64), min_weight, max_weight)

    def weights(z: Vector) -> Vector:
        return np.asarray(prev + z[:n] - z[n:], dtype=np.float64)

    def objective(z: Vector) -> tuple[float, Vector]:
        w = weights(z)
        g = cov @ w
        value = -float(mu @ w) + 0.5 * risk_aversion * float(w @ g) + turnover_cost * float(z.sum())
        dw = -mu + risk_aversion * g
        return value, np.concatenate([dw + turnover_cost, -dw + turnover_cost])

    jac_w = np.hstack([np.eye(n), -np.eye(n)])
    constraints: list[dict[str, object]] = [
        {"type": "ineq", "fun": lambda z: 1.0 - weights(z).sum(), "jac": lambda z: -jac_w.sum(axis=0)}
    ]
    if vol_band is not None:
        low, high = vol_band
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda z: high**2 - float(weights(z) @ cov @ weights(z)),
                "jac": lambda z: -2.0 * (cov @ weights(z)) @ jac_w,
            }
        )
        if low > 0:
            constraints.append(
                {
                    "type": "ineq",
                    "fun": lambda z: float(weights(z) @ cov @ weights(z)) - low**2,
                    "jac": lambda z: 2.0 * (cov @ weights(z)) @ jac_w,
                }
            )
    bounds = [(0.0, float(max_weight[i] - prev[i])) for i in range(n)]
    bounds += [(0.0, float(prev[i] - min_weight[i])) for i in range(n)]
    start = np.zeros(2 * n)
    result = minimize(
        objective,
        start,
        jac=True,
        method="SLSQP",
        bounds=bounds,
        constraints=constraints,
        options={"ftol": SLSQP_FTOL, "maxiter": 200},
    )
    if not result.success:
        raise SolveError(f"mean-variance: SLSQP failed ({result.message})")
    return weights(np.asarray(result.x, dtype=np.float64))


# ----------------------------------------------------------------------------- verified allocations


def to_wad(w: Vector, rules: TargetRules) -> tuple[int, ...]:
    """Weights as wad integers: floored, then clipped into the rules' per-asset [min, max] (a weight a
    solver put on a bound may float a few wei past it; negatives are solver noise), and any excess of the
    sum over 1e18 (float rounding) taken from the largest weight, so the sum never exceeds 1."""
    out = [
        min(max(int(np.floor(float(x) * WAD)), lo, 0), hi)
        for x, lo, hi in zip(w, rules.min_weight_wad, rules.max_weight_wad, strict=True)
    ]
    excess = sum(out) - WAD
    if excess > 0:
        k = max(range(len(out)), key=out.__getitem__)
        out[k] -= excess
    return tuple(out)


def _bounds(rules: TargetRules) -> tuple[Vector, Vector]:
    return (
        np.array(rules.min_weight_wad, dtype=np.float64) / WAD,
        np.array(rules.max_weight_wad, dtype=np.float64) / WAD,
    )


def _band_mid(rules: TargetRules) -> float:
    return (rules.min_vol_wad + rules.max_vol_wad) / 2 / WAD


def _verified(
    weights: tuple[int, ...], cov_wad: Sequence[int], rules: TargetRules, method: str, reason: str | None = None
) -> Allocation:
    vol_wad = mirror.verify(weights, cov_wad, rules)
    return Allocation(weights_wad=weights, mode=rules.mode, vol_wad=vol_wad, method=method, fallback_reason=reason)


def _fallback(cov_wad: Sequence[int], rules: TargetRules, method: str, reason: str) -> Allocation:
    """Inverse-volatility weights scaled to the band's middle, verified in TargetVol mode."""
    log.warning("%s failed (%s): falling back to inverse-volatility weights", method, reason)
    if rules.max_vol_wad == 0:
        raise OptimizerError(
            f"{method} failed ({reason}) and the fallback needs a volatility band to scale into: "
            "give the rules min_vol_wad / max_vol_wad (the band the vault checks TargetVol posts against)"
        )
    cov = covariance_from_wad(cov_wad)
    _, max_w = _bounds(rules)
    fallback_rules = replace(rules, mode=Mode.TARGET_VOL)
    try:
        w = scale_to_volatility(inverse_vol_weights(cov), cov, _band_mid(rules), max_w)
        return _verified(to_wad(w, rules), cov_wad, fallback_rules, "inverse-volatility", reason)
    except (SolveError, PortfolioError) as exc:
        raise OptimizerError(
            f"{method} failed ({reason}) and the inverse-volatility fallback fails the checks too ({exc}); "
            "widen the weight bounds or the volatility band, or post a different covariance"
        ) from exc


def _run(cov_wad: Sequence[int], rules: TargetRules, method: str, solve: Callable[[Matrix], Vector]) -> Allocation:
    try:
        w = solve(covariance_from_wad(cov_wad))
        if not np.all(np.isfinite(w)):
            raise SolveError("the solver returned non-finite weights")
        return _verified(to_wad(w, rules), cov_wad, rules, method)
    except (SolveError, np.linalg.LinAlgError, PortfolioError) as exc:
        return _fallback(cov_wad, rules, method, f"{type(exc).__name__}: {exc}")


def _require_mode(rules: TargetRules, mode: Mode, method: str) -> None:
    if rules.mode != mode:
        raise ValueError(f"{method} targets are verified in {mode.name} mode; got rules for {rules.mode.name}")


def min_variance(cov_wad: Sequence[int], rules: TargetRules) -> Allocation:
    """Long-only minimum-variance weights, verified in MinVariance mode (or the logged fallback)."""
    _require_mode(rules, Mode.MIN_VARIANCE, "min_variance")
    return _run(cov_wad, rules, "min-variance", min_variance_weights)


def risk_parity(cov_wad: Sequence[int], rules: TargetRules) -> Allocation:
    """Equal-risk-contribution weights with the rules' budgets, verified in RiskParity mode (or the fallback)."""
    _require_mode(rules, Mode.RISK_PARITY, "risk_parity")
    budgets = np.array(rules.budget_wad, dtype=np.float64)
    return _run(cov_wad, rules, "risk-parity", lambda cov: risk_budget_weights(cov, budgets))


def target_volatility(cov_wad: Sequence[int], rules: TargetRules, base: Vector | None = None) -> Allocation:
    """``base`` (inverse volatility if None) scaled to the band's middle, verified in TargetVol mode."""
    _require_mode(rules, Mode.TARGET_VOL, "target_volatility")
    _, max_w = _bounds(rules)

    def solve(cov: Matrix) -> Vector:
        start = inverse_vol_weights(cov) if base is None else np.asarray(base, dtype=np.float64)
        return scale_to_volatility(start, cov, _band_mid(rules), max_w)

    return _run(cov_wad, rules, "target-volatility", solve)


def mean_variance(
    cov_wad: Sequence[int],
    rules: TargetRules,
    expected_returns: Vector,
    previous_weights: Vector | None = None,
    risk_aversion: float = 4.0,
    turnover_cost: float = 0.001,
) -> Allocation:
    """Mean-variance weights with an L1 turnover penalty from ``previous_weights`` (default all quote),
    inside the rules' bounds and band, verified in TargetVol mode (or the fallback)."""
    _require_mode(rules, Mode.TARGET_VOL, "mean_variance")
    min_w, max_w = _bounds(rules)
    mu = np.asarray(expected_returns, dtype=np.float64)
    prev = np.zeros(len(mu)) if previous_weights is None else np.asarray(previous_weights, dtype=np.float64)
    # SLSQP meets constraints to about 1e-10: aim 1e-6 (relative) inside the band the chain checks exactly
    band = (rules.min_vol_wad / WAD * (1 + 1e-6), rules.max_vol_wad / WAD * (1 - 1e-6))

    def solve(cov: Matrix) -> Vector:
        _check_nonsingular(cov)
        return mean_variance_weights(mu, cov, risk_aversion, prev, turnover_cost, min_w, max_w, band)

    return _run(cov_wad, rules, "mean-variance", solve)
