"""The keeper-side optimizer (``hedgevault.portfolio.optimizer``): golden cases with closed forms, the
estimators, the post quantisation, and the logged fallback. Pure Python, no chain.

Closed forms (two assets with vols s1, s2 and covariance c; or equal correlations):
* minimum variance, two assets: w1 = (s2^2 - c) / (s1^2 + s2^2 - 2c) when that is in [0, 1];
* equal risk contribution, two assets: w1 / w2 = s2 / s1 for any correlation (Maillard, Roncalli and
  Teiletche 2010, section 2.2); n assets with equal correlations: w_i proportional to 1 / s_i (ibid.);
* unconstrained mean-variance: w = S^-1 mu / gamma.
Tolerances: the float solvers to 1e-9 (they stop at 1e-13 Newton decrement / exact active set); the
integers they return always pass the contract's checks exactly (each function runs the mirror).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hedgevault.portfolio import mirror
from hedgevault.portfolio import optimizer as opt
from hedgevault.portfolio.errors import OptimizerError
from hedgevault.portfolio.mirror import DEFAULT_COV_PARAMS, WAD, Mode, TargetRules

S1, S2, RHO = 0.2, 0.4, 0.25
COV2 = np.array([[S1 * S1, RHO * S1 * S2], [RHO * S1 * S2, S2 * S2]])


def _cov_wad(vols_bp: list[int], corr_bp: list[int]) -> list[int]:
    return mirror.covariance_wad(mirror.pack_vols(vols_bp), mirror.pack_corrs(corr_bp), len(vols_bp))


def _rules(mode: Mode, n: int, **kw: object) -> TargetRules:
    base: dict[str, object] = {
        "min_weight_wad": (0,) * n,
        "max_weight_wad": (WAD,) * n,
        "min_vol_wad": WAD // 10,
        "max_vol_wad": WAD // 5,
        "tolerance_wad": 10**12,
    }
    base.update(kw)
    return TargetRules(mode=mode, **base)  # type: ignore[arg-type]


def test_min_variance_two_assets_closed_form() -> None:
    c = COV2[0, 1]
    w1 = (S2**2 - c) / (S1**2 + S2**2 - 2 * c)
    assert opt.min_variance_weights(COV2) == pytest.approx([w1, 1 - w1], abs=1e-12)


def test_min_variance_corner_when_correlation_is_high() -> None:
    """rho = 0.9: c = 0.072 > s1^2, the closed form leaves [0, 1]; the long-only answer is all in asset 0."""
    cov = np.array([[0.04, 0.072], [0.072, 0.16]])
    assert opt.min_variance_weights(cov) == pytest.approx([1.0, 0.0], abs=1e-15)


def test_min_variance_equal_correlations_equal_vols_is_equal_weight() -> None:
    n = 6
    cov = 0.09 * (0.3 * np.ones((n, n)) + 0.7 * np.eye(n))
    assert opt.min_variance_weights(cov) == pytest.approx(np.full(n, 1 / n), abs=1e-12)


def test_min_variance_active_set_matches_a_generic_solver() -> None:
    """Random 8-asset covariances: the active-set answer is the SLSQP answer (to 1e-6) and satisfies KKT."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.normal(size=(8, 3))
        cov = a @ a.T * 0.05 + np.diag(rng.uniform(0.01, 0.2, 8))
        w = opt.min_variance_weights(cov)
        ref = minimize(
            lambda x, cov=cov: x @ cov @ x,
            np.full(8, 1 / 8),
            method="SLSQP",
            bounds=[(0, 1)] * 8,
            constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
            options={"ftol": 1e-15, "maxiter": 500},
        )
        assert w == pytest.approx(ref.x, abs=1e-5)
        g = cov @ w
        lam = w @ g
        assert np.all(np.abs(g[w > 0] - lam) < 1e-12) and np.all(g[w == 0] >= lam - 1e-12)


def test_risk_parity_two_assets_closed_form() -> None:
    w = opt.risk_budget_weights(COV2, np.array([0.5, 0.5]))
    assert w[0] / w[1] == pytest.approx(S2 / S1, rel=1e-12)


def test_risk_parity_equal_correlations_is_inverse_vol() -> None:
    vols = np.array([0.1, 0.2, 0.3, 0.5, 0.8])
    cov = np.outer(vols, vols) * (0.4 * np.ones((5, 5)) + 0.6 * np.eye(5))
    assert opt.risk_budget_weights(cov, np.full(5, 0.2)) == pytest.approx(opt.inverse_vol_weights(cov), abs=1e-12)


def test_risk_parity_budgets_are_met() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(8, 2))
    cov = a @ a.T * 0.04 + np.diag(rng.uniform(0.02, 0.3, 8))
    budgets = rng.dirichlet(np.ones(8))
    w = opt.risk_budget_weights(cov, budgets)
    shares = w * (cov @ w) / (w @ cov @ w)
    assert shares == pytest.approx(budgets, abs=1e-12)


def test_unconstrained_mean_variance_closed_form() -> None:
    mu = np.array([0.03, 0.05])
    gamma = 10.0
    w = opt.mean_variance_weights(mu, COV2, gamma, np.zeros(2), 0.0, np.zeros(2), np.ones(2), None)
    # SLSQP stops when the objective changes by < 1e-12: near a flat optimum the weights are then known to
    # about sqrt(2e-12 / (gamma lambda_min)) ~ 1e-6; mean-variance targets carry no optimality check on-chain
    assert w == pytest.approx(np.linalg.solve(COV2, mu) / gamma, abs=1e-6)


def test_turnover_penalty_keeps_the_previous_weights() -> None:
    """A turnover cost above every marginal gain: the optimum is not to trade."""
    mu = np.array([0.03, 0.05])
    prev = np.array([0.3, 0.2])
    w = opt.mean_variance_weights(mu, COV2, 10.0, prev, 1.0, np.zeros(2), np.ones(2), None)
    assert w == pytest.approx(prev, abs=1e-9)


# ----------------------------------------------------------------------------- verified allocations


@pytest.fixture
def cov8_wad() -> list[int]:
    rng = np.random.default_rng(8)
    a = rng.normal(size=(8, 2)) * 0.5
    c = a @ a.T + np.diag(rng.uniform(0.3, 1.0, 8))
    d = np.sqrt(np.diag(c))
    vols = rng.uniform(0.3, 1.0, 8)
    cov = c / np.outer(d, d) * np.outer(vols, vols)
    vols_word, words = opt.quantise_post(cov, DEFAULT_COV_PARAMS)
    return mirror.covariance_wad(vols_word, words, 8)


def test_every_mode_returns_weights_that_pass_the_mirror(cov8_wad: list[int]) -> None:
    runs = [
        opt.min_variance(cov8_wad, _rules(Mode.MIN_VARIANCE, 8)),
        opt.risk_parity(cov8_wad, _rules(Mode.RISK_PARITY, 8, budget_wad=(WAD // 8,) * 8)),
        opt.target_volatility(cov8_wad, _rules(Mode.TARGET_VOL, 8)),
        opt.mean_variance(cov8_wad, _rules(Mode.TARGET_VOL, 8), np.linspace(0.0, 0.3, 8)),
    ]
    for allocation in runs:
        assert allocation.fallback_reason is None, allocation
        rules = _rules(allocation.mode, 8, budget_wad=(WAD // 8,) * 8)
        assert mirror.verify(allocation.weights_wad, cov8_wad, rules) == allocation.vol_wad
        assert sum(allocation.weights_wad) <= WAD


def test_target_volatility_hits_the_band_middle(cov8_wad: list[int]) -> None:
    allocation = opt.target_volatility(cov8_wad, _rules(Mode.TARGET_VOL, 8))
    assert allocation.vol_wad == pytest.approx(0.15 * WAD, rel=1e-9)


def test_singular_covariance_falls_back_with_a_logged_reason(caplog: pytest.LogCaptureFixture) -> None:
    """Perfectly correlated assets (a PSD but singular covariance): minimum variance is not unique; the
    optimizer logs why and returns inverse-volatility weights verified in TargetVol mode."""
    cov = _cov_wad([2000, 4000], [10_000])
    with caplog.at_level(logging.WARNING, logger="hedgevault.portfolio.optimizer"):
        allocation = opt.min_variance(cov, _rules(Mode.MIN_VARIANCE, 2))
    assert allocation.method == "inverse-volatility" and allocation.mode == Mode.TARGET_VOL
    assert allocation.fallback_reason is not None and "singular" in allocation.fallback_reason
    assert "falling back to inverse-volatility" in caplog.text
    w = np.array(allocation.weights_wad) / WAD
    assert w[0] / w[1] == pytest.approx(2.0, rel=1e-12)


def test_failed_fallback_raises_instead_of_returning_unverified_weights() -> None:
    """A band above what the assets can reach (sum <= 1) and a singular matrix: nothing passes."""
    cov = _cov_wad([2000, 4000], [10_000])
    rules = _rules(Mode.MIN_VARIANCE, 2, min_vol_wad=WAD, max_vol_wad=2 * WAD)
    with pytest.raises(OptimizerError, match="fallback fails the checks too"):
        opt.min_variance(cov, rules)


def test_fallback_needs_a_band() -> None:
    cov = _cov_wad([2000, 4000], [10_000])
    with pytest.raises(OptimizerError, match="needs a volatility band"):
        opt.min_variance(cov, _rules(Mode.MIN_VARIANCE, 2, min_vol_wad=0, max_vol_wad=0))


def test_wrong_rules_mode_is_refused(cov8_wad: list[int]) -> None:
    with pytest.raises(ValueError, match="MIN_VARIANCE mode"):
        opt.min_variance(cov8_wad, _rules(Mode.TARGET_VOL, 8))


# ----------------------------------------------------------------------------- estimators and posts


def _prices_from_returns(r: np.ndarray) -> np.ndarray:
    return np.asarray(100.0 * np.exp(np.vstack([np.zeros(r.shape[1]), np.cumsum(r, axis=0)])))


def test_ewma_of_constant_magnitude_returns() -> None:
    """Returns +-a every period: every r_t^2 = a^2, so the EWMA variance is a^2 x periods exactly."""
    a = 0.01
    r = a * np.array([[1.0], [-1.0]] * 50)
    cov = opt.ewma_covariance(_prices_from_returns(r), decay=0.94, periods_per_year=365)
    assert cov[0, 0] == pytest.approx(a * a * 365, rel=1e-12)


def test_ledoit_wolf_shrinks_noise_not_structure() -> None:
    """iid returns of equal variance: the sample's off-diagonal is noise and the intensity is high; strongly
    correlated returns: the structure is real and the intensity is low."""
    rng = np.random.default_rng(1)
    iid = rng.normal(scale=0.01, size=(400, 6))
    _, delta_iid = opt.ledoit_wolf_covariance(_prices_from_returns(iid))
    common = rng.normal(scale=0.01, size=(2000, 1))
    correlated = common + rng.normal(scale=0.002, size=(2000, 6))
    cov, delta_corr = opt.ledoit_wolf_covariance(_prices_from_returns(correlated))
    assert delta_iid > 0.5 and delta_corr < 0.1
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_quantise_post_passes_the_oracle_and_shrinks_when_needed(caplog: pytest.LogCaptureFixture) -> None:
    vols_word, words = opt.quantise_post(COV2, DEFAULT_COV_PARAMS)
    assert mirror.unpack(vols_word, words, 2) == ([2000, 4000], [2500])
    # equal correlations -0.5 + 1e-6 for n = 3 rounded to -0.5 bp fields: PSD; at -0.52 it is not and shrinks
    bad = np.full((3, 3), -0.52) + 1.52 * np.eye(3)
    with caplog.at_level(logging.WARNING, logger="hedgevault.portfolio.optimizer"):
        vols_word, words = opt.quantise_post(bad * 0.04, DEFAULT_COV_PARAMS)
    assert "shrunk" in caplog.text
    mirror.check_post(DEFAULT_COV_PARAMS, 3, vols_word, words, None, 0)
