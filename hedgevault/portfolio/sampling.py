"""Random inputs for comparing the portfolio mirror with the contracts (tests and ``bench/``).

Both generators are seeded and aim at the decision boundaries, not only at the bulk: correlation matrices
from a factor model (PSD), from a factor model with a pair pushed toward +-1 (often not PSD) and from
uniform draws (mostly not PSD), across the whole tolerance range; targets that are the optimizer's
solution of their mode (risk parity, minimum variance) perturbed by relative noise 1e-12 .. 1e-2 so that
they straddle the tolerance, plus random weights, shorts, sums above one, bounds that bind and bands around
the target's own volatility.
"""

from __future__ import annotations

import numpy as np

from hedgevault.portfolio import mirror
from hedgevault.portfolio.mirror import WAD, CorrWords, Mode, TargetRules
from hedgevault.portfolio.onchain import PsdInput, VerifyInput
from hedgevault.portfolio.optimizer import SolveError, min_variance_weights, risk_budget_weights


def _factor_corr(rng: np.random.Generator, n: int) -> np.ndarray:
    loadings = rng.normal(size=(n, int(rng.integers(1, 4)))) * rng.uniform(0.2, 1.5)
    c = loadings @ loadings.T + np.diag(rng.uniform(0.01, 1.0, n))
    d = np.sqrt(np.diag(c))
    return np.asarray(c / np.outer(d, d))


def _corr_bp(rng: np.random.Generator, n: int) -> list[int]:
    kind = rng.integers(3)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if kind == 2:
        return [int(rng.integers(-10_000, 10_001)) for _ in pairs]
    corr = _factor_corr(rng, n)
    out = [round(corr[i, j] * 1e4) for i, j in pairs]
    if kind == 1 and pairs:
        k = int(rng.integers(len(pairs)))
        out[k] = int(np.clip(out[k] + rng.choice([-1, 1]) * rng.integers(0, 6000), -10_000, 10_000))
    return out


def random_psd_inputs(count: int, seed: int) -> list[PsdInput]:
    """(correlation words, n, tolerance bp) for the PSD check, n in 1..8, tolerance 1..100 bp."""
    rng = np.random.default_rng(seed)
    out: list[PsdInput] = []
    for _ in range(count):
        n = int(rng.integers(1, 9))
        out.append((mirror.pack_corrs(_corr_bp(rng, n)), n, int(rng.integers(1, 101))))
    return out


def random_covariance(rng: np.random.Generator, n: int) -> tuple[int, CorrWords, list[int]]:
    """A post the oracle would accept (PSD at 5 bp) and its covariance: (vols word, correlation words, S wad)."""
    vols = [int(rng.integers(500, 20_001)) for _ in range(n)]
    corr = _factor_corr(rng, n)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    for keep in np.linspace(1.0, 0.0, 21):
        words = mirror.pack_corrs([round(keep * corr[i, j] * 1e4) for i, j in pairs])
        if mirror.is_psd(words, n, 5):
            break
    vols_word = mirror.pack_vols(vols)
    return vols_word, words, mirror.covariance_wad(vols_word, words, n)


def _perturb(rng: np.random.Generator, w: np.ndarray) -> np.ndarray:
    noise = 10.0 ** rng.uniform(-12, -2)
    return np.asarray(np.maximum(w * (1 + noise * rng.normal(size=len(w))), 0.0))


def random_verify_inputs(count: int, seed: int) -> list[VerifyInput]:
    """(weights wad, covariance wad, rules) for ``verify``, every mode, n in 1..8."""
    rng = np.random.default_rng(seed)
    out: list[VerifyInput] = []
    for _ in range(count):
        n = int(rng.integers(1, 9))
        _, _, cov_wad = random_covariance(rng, n)
        cov = np.array(cov_wad, dtype=np.float64).reshape(n, n) / WAD
        mode = Mode(int(rng.integers(3)))
        budgets = rng.dirichlet(np.ones(n) * 2)
        budget_wad = [max(1, int(b * WAD)) for b in budgets]
        budget_wad[-1] = WAD - sum(budget_wad[:-1]) if rng.random() < 0.9 else budget_wad[-1]
        style = rng.integers(4)
        try:
            if style == 0:
                w = rng.dirichlet(np.ones(n)) * rng.uniform(0.3, 1.1)
            elif mode == Mode.RISK_PARITY:
                w = _perturb(rng, risk_budget_weights(cov, np.array(budget_wad, dtype=np.float64)))
            else:
                w = _perturb(rng, min_variance_weights(cov))
        except SolveError:
            w = rng.dirichlet(np.ones(n))
        if w.sum() > 1 and rng.random() < 0.8:
            w = w / w.sum()
        w = w * rng.uniform(0.5, 1.0) if rng.random() < 0.3 else w
        if mode == Mode.MIN_VARIANCE and n > 1 and rng.random() < 0.2:
            w[int(np.argmax(w))] = 0.0  # an unheld asset that would lower the variance
        if rng.random() < 0.02:
            w = np.zeros(n)  # no risk
        weights = [int(x * WAD) for x in w]
        if rng.random() < 0.03:
            weights[int(rng.integers(n))] = -int(rng.integers(1, WAD // 10))
        vol = float(np.sqrt(max(0.0, float(w @ cov @ w))))
        min_w = [0 if rng.random() < 0.97 else int(rng.uniform(0, 0.1) * WAD) for _ in range(n)]
        max_w = [WAD if rng.random() < 0.97 else int(rng.uniform(0.2, 1.0) * WAD) for _ in range(n)]
        rules = TargetRules(
            mode=mode,
            min_weight_wad=tuple(min_w),
            max_weight_wad=tuple(max_w),
            min_vol_wad=int(vol * rng.uniform(0.8, 1.05) * WAD),
            max_vol_wad=int(vol * rng.uniform(0.95, 1.2) * WAD),
            budget_wad=tuple(budget_wad) if rng.random() < 0.97 else tuple(budget_wad[:-1]),
            tolerance_wad=int(10.0 ** rng.uniform(-9, -2) * WAD),
        )
        out.append((weights, cov_wad, rules))
    return out
