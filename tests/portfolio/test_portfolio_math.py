"""Target verification (``PortfolioMath``, issue 11 part B) and the PSD check through ``PortfolioHarness`` on
Anvil: every error with its figures, each decision at its exact boundary, and the mirror
(``hedgevault.portfolio.mirror``) against the compiled libraries on a few thousand random inputs.

Differential tolerance: none. Each outcome is the same integer, or the same revert bytes. The 100,000-input
run is ``bench/bench_portfolio_mirror.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from portfoliokit import WAD

from hedgevault.portfolio import errors as E
from hedgevault.portfolio import mirror, sampling
from hedgevault.portfolio.mirror import Mode, TargetRules
from hedgevault.portfolio.onchain import PortfolioHarness, VerifyInput

# two assets: vols 20% and 40%, correlation 0.25 (S wad)
S2 = [4 * 10**16, 2 * 10**16, 2 * 10**16, 16 * 10**16]
FREE2 = ((0, 0), (WAD, WAD))


def _rules(mode: Mode, n: int = 2, **kw: object) -> TargetRules:
    base: dict[str, object] = {"min_weight_wad": (0,) * n, "max_weight_wad": (WAD,) * n}
    base.update(kw)
    return TargetRules(mode=mode, **base)  # type: ignore[arg-type]


def _outcome(weights: Sequence[int], cov: Sequence[int], rules: TargetRules) -> int | bytes:
    try:
        return mirror.verify(weights, cov, rules)
    except E.PortfolioError as exc:
        return exc.revert_data()


def _both(harness: PortfolioHarness, weights: Sequence[int], cov: Sequence[int], rules: TargetRules) -> int | bytes:
    """The contract's outcome, asserted equal to the mirror's."""
    (got,) = harness.verify([(weights, cov, rules)])
    assert got == _outcome(weights, cov, rules)
    return got


def _error(
    harness: PortfolioHarness, weights: Sequence[int], cov: Sequence[int], rules: TargetRules
) -> E.PortfolioError:
    with pytest.raises(E.PortfolioError) as info:
        mirror.verify(weights, cov, rules)
    assert _both(harness, weights, cov, rules) == info.value.revert_data()
    return info.value


# ----------------------------------------------------------------------------- weight rules


def test_weight_rules(harness: PortfolioHarness) -> None:
    tv = _rules(Mode.TARGET_VOL, max_vol_wad=WAD)
    assert isinstance(_error(harness, [WAD // 2, -1], S2, tv), E.PmWeightNegative)
    bounded = _rules(Mode.TARGET_VOL, max_vol_wad=WAD, min_weight_wad=(WAD // 10, 0), max_weight_wad=(WAD // 2, WAD))
    err = _error(harness, [WAD // 2 + 1, 0], S2, bounded)
    assert err.values == (0, WAD // 2 + 1, WAD // 10, WAD // 2)
    err = _error(harness, [WAD // 10 - 1, 0], S2, bounded)
    assert isinstance(err, E.PmWeightOutOfBounds)
    err = _error(harness, [WAD // 2, WAD // 2 + 1], S2, tv)
    assert err.values == (WAD + 1,)
    assert _both(harness, [WAD // 2, WAD // 2], S2, tv) > 0  # exactly 1 passes
    err = _error(harness, [WAD, 0, 0], S2, _rules(Mode.TARGET_VOL, n=3, max_vol_wad=WAD))
    assert err.values == (mirror._name32("covWad"), 4, 9)
    err = _error(harness, [WAD, 0], S2, _rules(Mode.TARGET_VOL, n=3, max_vol_wad=WAD))
    assert err.values == (mirror._name32("minWeightWad"), 3, 2)


# ----------------------------------------------------------------------------- target volatility


def test_vol_band_at_the_exact_boundary(harness: PortfolioHarness) -> None:
    """w = (1, 0): variance 0.04 exactly, vol 0.2: the band [0.2, 0.2] passes; a band one wei above or below
    fails with the figure."""
    w = [WAD, 0]
    assert _both(harness, w, S2, _rules(Mode.TARGET_VOL, min_vol_wad=WAD // 5, max_vol_wad=WAD // 5)) == WAD // 5
    err = _error(harness, w, S2, _rules(Mode.TARGET_VOL, min_vol_wad=WAD // 5 + 1, max_vol_wad=WAD))
    assert err.values == (WAD // 5, WAD // 5 + 1, WAD)
    err = _error(harness, w, S2, _rules(Mode.TARGET_VOL, min_vol_wad=0, max_vol_wad=WAD // 5 - 1))
    assert isinstance(err, E.PmVolOutOfBand)


def test_all_quote_target(harness: PortfolioHarness) -> None:
    """Weights all zero (everything in quote): no risk, passes a band starting at 0, fails risk parity."""
    assert _both(harness, [0, 0], S2, _rules(Mode.TARGET_VOL, max_vol_wad=WAD)) == 0
    rp = _rules(Mode.RISK_PARITY, budget_wad=(WAD // 2, WAD // 2), tolerance_wad=10**15)
    assert _error(harness, [0, 0], S2, rp).values == (0,)


# ----------------------------------------------------------------------------- risk parity


def test_risk_parity_two_assets_closed_form(harness: PortfolioHarness) -> None:
    """Two assets, equal budgets: w1 / w2 = sigma2 / sigma1 for any correlation (here 2 : 1). (2/3, 1/3)
    floored to wad passes a 1e-15 tolerance; (0.7, 0.3) does not, with asset 0's share in the error."""
    w = [2 * WAD // 3, WAD // 3]
    rp = _rules(Mode.RISK_PARITY, budget_wad=(WAD // 2, WAD // 2), tolerance_wad=1000)
    assert isinstance(_both(harness, w, S2, rp), int)
    err = _error(harness, [7 * WAD // 10, 3 * WAD // 10], S2, rp)
    assert err.values[0] == 0 and isinstance(err.values[1], int) and err.values[1] > WAD // 2


def test_risk_parity_tolerance_boundary(harness: PortfolioHarness) -> None:
    """The decision |w_i (Sw)_i - b_i v| <= tol v is exact: at a tolerance one wei below the realised
    deviation the target fails, at the deviation it passes."""
    w = [6 * WAD // 10, 4 * WAD // 10]
    g, v = mirror.risk_terms(w, S2)
    deviation = max(abs(w[i] * g[i] * WAD - WAD // 2 * v) for i in range(2))
    tol = -(-deviation // v)  # ceil: the least tolerance that passes
    assert isinstance(
        _both(harness, w, S2, _rules(Mode.RISK_PARITY, budget_wad=(WAD // 2,) * 2, tolerance_wad=tol)), int
    )
    err = _error(harness, w, S2, _rules(Mode.RISK_PARITY, budget_wad=(WAD // 2,) * 2, tolerance_wad=tol - 1))
    assert isinstance(err, E.PmRiskContributionOff)


def test_risk_parity_budgets_must_be_valid(harness: PortfolioHarness) -> None:
    w = [WAD // 2, WAD // 2]
    assert _error(harness, w, S2, _rules(Mode.RISK_PARITY, budget_wad=(WAD, 0))).values == (1, 0, 0)
    assert _error(harness, w, S2, _rules(Mode.RISK_PARITY, budget_wad=(WAD // 2, WAD // 3))).values == (
        2,
        0,
        WAD // 2 + WAD // 3,
    )
    err = _error(harness, w, S2, _rules(Mode.RISK_PARITY, budget_wad=(WAD,)))
    assert isinstance(err, E.PmLengthMismatch)


# ----------------------------------------------------------------------------- minimum variance


def test_min_variance_two_assets_closed_form(harness: PortfolioHarness) -> None:
    """w1 = (s2^2 - c) / (s1^2 + s2^2 - 2c) = (0.16 - 0.02) / (0.04 + 0.16 - 0.04) = 7/8: passes at 1e-15;
    scaled by one half it still passes (the condition is scale-free); 0.8 / 0.2 fails for asset 0."""
    mv = _rules(Mode.MIN_VARIANCE, tolerance_wad=1000)
    w = [7 * WAD // 8, WAD // 8]
    assert isinstance(_both(harness, w, S2, mv), int)
    assert isinstance(_both(harness, [7 * WAD // 16, WAD // 16], S2, mv), int)
    err = _error(harness, [8 * WAD // 10, 2 * WAD // 10], S2, mv)
    assert isinstance(err, E.PmKktGradientOff)


def test_min_variance_unheld_asset_below_lambda(harness: PortfolioHarness) -> None:
    """Holding only the riskier asset: the unheld low-vol asset's gradient (0.02) is below lambda (0.16)."""
    err = _error(harness, [0, WAD], S2, _rules(Mode.MIN_VARIANCE, tolerance_wad=10**16))
    assert err.values == (0, 2 * 10**16, 16 * 10**16, 10**16)
    assert isinstance(err, E.PmKktGradientBelow)


def test_min_variance_corner_solution(harness: PortfolioHarness) -> None:
    """Correlation 0.9, vols 20% / 40%: c = 0.072 > s1^2 = 0.04, so the minimum is all in asset 0, and the
    unheld asset's gradient 0.072 is above lambda 0.04: KKT holds with asset 1 at zero."""
    cov = [4 * 10**16, 72 * 10**15, 72 * 10**15, 16 * 10**16]
    assert isinstance(_both(harness, [WAD, 0], cov, _rules(Mode.MIN_VARIANCE, tolerance_wad=0)), int)


# ----------------------------------------------------------------------------- differential


@pytest.fixture(scope="module")
def verify_inputs() -> list[VerifyInput]:
    return sampling.random_verify_inputs(3000, seed=2026)


def test_mirror_agrees_on_random_targets(harness: PortfolioHarness, verify_inputs: list[VerifyInput]) -> None:
    """3,000 random targets (every mode, n = 1..8, aimed at the tolerance boundaries): same volatility or
    same revert bytes, and every error kind occurs."""
    got: list[int | bytes] = []
    for i in range(0, len(verify_inputs), 250):
        got += harness.verify(verify_inputs[i : i + 250])
    kinds: Counter[str] = Counter()
    for (w, cov, rules), outcome in zip(verify_inputs, got, strict=True):
        assert outcome == _outcome(w, cov, rules), (w, cov, rules)
        kinds[type(outcome).__name__ if isinstance(outcome, int) else mirror_error_name(outcome)] += 1
    assert kinds["int"] > 300
    for name in ("PmKktGradientOff", "PmKktGradientBelow", "PmRiskContributionOff", "PmVolOutOfBand"):
        assert kinds[name] > 10, kinds


def mirror_error_name(data: bytes) -> str:
    for cls in E.ALL_ERRORS:
        if data[:4] == cls.selector():
            return cls.__name__
    raise AssertionError(f"unknown revert {data.hex()}")


def test_mirror_agrees_on_random_psd_checks(harness: PortfolioHarness) -> None:
    """3,000 random correlation matrices (n = 1..8, tolerance 1..100 bp): the same pass or the same
    ``CovNotPsd`` bytes (pivot index and pivot figure)."""
    inputs = sampling.random_psd_inputs(3000, seed=7)
    got: list[bytes] = []
    for i in range(0, len(inputs), 500):
        got += harness.check_psd(inputs[i : i + 500])
    passed = 0
    for (words, n, tol), outcome in zip(inputs, got, strict=True):
        try:
            mirror.check_psd(words, n, tol)
            want = b""
            passed += 1
        except E.CovNotPsd as exc:
            want = exc.revert_data()
        assert outcome == want, (words, n, tol)
    assert 300 < passed < 2700
