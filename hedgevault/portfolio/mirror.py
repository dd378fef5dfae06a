"""Pure-integer mirror of the portfolio contracts, operation for operation.

* ``contracts/oracles/CovarianceMath.sol``: packing of a post and the PSD check (modified Cholesky);
* ``contracts/oracles/CovarianceOracle.sol``: the checks of ``post`` (:func:`check_post`) and the
  covariance it serves (:func:`covariance_wad`);
* ``contracts/portfolio/PortfolioMath.sol``: the verification of target weights (:func:`verify`).

Each function returns the same integers as its Solidity counterpart or raises the exception named like the
custom error, with the same arguments (``hedgevault.portfolio.errors``). Solidity ``/`` on int256 truncates
toward zero: :func:`_sdiv`, never ``//``, wherever an operand can be negative. Units: ``*_bp`` basis points
(1e-4), ``*_wad`` 1e18 fixed point, ``*36`` / ``*54`` integers in 1e36 / 1e54 units; matrices are n x n
row-major lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from math import isqrt

from hedgevault.portfolio.errors import (
    CovCorrOutOfBounds,
    CovCorrStepExceeded,
    CovNotPsd,
    CovPackingInvalid,
    CovPostTooSoon,
    CovVolOutOfBounds,
    CovVolStepExceeded,
    PmBudgetInvalid,
    PmKktGradientBelow,
    PmKktGradientOff,
    PmLengthMismatch,
    PmNoRisk,
    PmRiskContributionOff,
    PmVolOutOfBand,
    PmWeightNegative,
    PmWeightOutOfBounds,
    PmWeightSumAboveOne,
)

WAD = 10**18
MAX_ASSETS = 8
BP_TO_E36 = 10**32  # 1 bp in 1e36 units
ONE_E36 = 10**36
HOUR_SEC = 3600
_FIELD_MASK = 0xFFFF

#: Packed post: (vols word, (correlation word 0, correlation word 1)).
CorrWords = tuple[int, int]


def _sdiv(a: int, b: int) -> int:
    """EVM ``sdiv``: truncate toward zero (Python's ``//`` floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# ----------------------------------------------------------------------------- packing


def pair_count(n: int) -> int:
    """Number of correlation fields of n assets (CovarianceMath.pairCount)."""
    return n * (n - 1) // 2


def pair_index(i: int, j: int, n: int) -> int:
    """Field index of the pair (i, j), i < j: row-major over the upper triangle."""
    if not 0 <= i < j < n:
        raise ValueError(f"pair ({i}, {j}) is not i < j < n = {n}")
    return i * n - i * (i + 1) // 2 + (j - i - 1)


def pack_vols(vols_bp: Sequence[int]) -> int:
    """The volatilities (bp, each in [0, 65535]) as one word: asset i in bits [16 i, 16 i + 16)."""
    word = 0
    for i, v in enumerate(vols_bp):
        if not 0 <= v <= _FIELD_MASK:
            raise ValueError(f"volatility {i} = {v} bp does not fit an unsigned 16-bit field")
        word |= v << (16 * i)
    return word


def pack_corrs(corrs_bp: Sequence[int]) -> CorrWords:
    """The correlations (bp, in pair order, each in [-32768, 32767]) as two words of signed 16-bit fields."""
    if len(corrs_bp) > 32:
        raise ValueError(f"{len(corrs_bp)} correlations do not fit two words (at most 32)")
    words = [0, 0]
    for k, c in enumerate(corrs_bp):
        if not -0x8000 <= c <= 0x7FFF:
            raise ValueError(f"correlation {k} = {c} bp does not fit a signed 16-bit field")
        words[k >> 4] |= (c & _FIELD_MASK) << (16 * (k & 15))
    return words[0], words[1]


def vol_bp(vols_word: int, i: int) -> int:
    """Volatility of asset i (CovarianceMath.volBp)."""
    return (vols_word >> (i << 4)) & _FIELD_MASK


def corr_bp(corr_words: CorrWords, k: int) -> int:
    """Correlation field k, sign-extended (CovarianceMath.corrBp)."""
    raw = (corr_words[k >> 4] >> ((k & 15) << 4)) & _FIELD_MASK
    return raw - 0x10000 if raw >= 0x8000 else raw


def unpack(vols_word: int, corr_words: CorrWords, n: int) -> tuple[list[int], list[int]]:
    """(vols bp, correlations bp in pair order) of a packed post of n assets."""
    return [vol_bp(vols_word, i) for i in range(n)], [corr_bp(corr_words, k) for k in range(pair_count(n))]


def check_packing(vols_word: int, corr_words: CorrWords, n: int) -> None:
    """No field beyond n vols / n (n - 1) / 2 correlations (CovarianceMath.checkPacking)."""
    if vols_word >> (n << 4) != 0:
        raise CovPackingInvalid(0, vols_word)
    m = pair_count(n)
    if m < 16 and corr_words[0] >> (m << 4) != 0:
        raise CovPackingInvalid(1, corr_words[0])
    high_bits = (m - 16) << 4 if m > 16 else 0
    if corr_words[1] >> high_bits != 0:
        raise CovPackingInvalid(2, corr_words[1])


# ----------------------------------------------------------------------------- PSD check


def check_psd(corr_words: CorrWords, n: int, tol_bp: int) -> None:
    """Raise :class:`CovNotPsd` unless the correlation matrix is PSD within ``tol_bp`` (CovarianceMath.checkPsd).

    Modified Cholesky in integers: L in wad, products in 1e36; pivot p_j = 1e36 - sum L_jk^2 (exact),
    p_j < -tau fails, L_jj = floor(sqrt(max(p_j, tau))), L_ij = (R_ij 1e36 - sum L_ik L_jk) / L_jj truncated
    toward zero; tau = tol_bp x 1e32.
    """
    tau = tol_bp * BP_TO_E36
    rows: list[list[int]] = []
    k = 0
    for j in range(n):
        row_j = [0] * (j + 1)
        rows.append(row_j)
    for j in range(n):
        row_j = rows[j]
        pivot = ONE_E36 - sum(x * x for x in row_j[:j])
        if pivot < -tau:
            raise CovNotPsd(j, _sdiv(pivot, WAD), tau // WAD)
        ljj = isqrt(tau if pivot < tau else pivot)
        row_j[j] = ljj
        for i in range(j + 1, n):
            row_i = rows[i]
            # int256 r = corrBp(corrsBp, k) * BP_TO_E36 - _dot(l, rowI, rowJ, j); l[rowI + j] = r / ljj
            r = corr_bp(corr_words, k) * BP_TO_E36 - sum(row_i[q] * row_j[q] for q in range(j))
            row_i[j] = _sdiv(r, ljj)
            k += 1


def is_psd(corr_words: CorrWords, n: int, tol_bp: int) -> bool:
    """Whether :func:`check_psd` passes."""
    try:
        check_psd(corr_words, n, tol_bp)
    except CovNotPsd:
        return False
    return True


# ----------------------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class CovParams:
    """``ICovarianceOracle.CovParams`` (field order as the Solidity struct)."""

    min_vol_bp: int
    max_vol_bp: int
    min_corr_bp: int
    max_corr_bp: int
    max_vol_step_bp: int
    max_vol_rate_per_hour_bp: int
    max_corr_step_bp: int
    max_corr_rate_per_hour_bp: int
    psd_tol_bp: int
    min_interval_sec: int
    max_age_sec: int

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.min_vol_bp,
            self.max_vol_bp,
            self.min_corr_bp,
            self.max_corr_bp,
            self.max_vol_step_bp,
            self.max_vol_rate_per_hour_bp,
            self.max_corr_step_bp,
            self.max_corr_rate_per_hour_bp,
            self.psd_tol_bp,
            self.min_interval_sec,
            self.max_age_sec,
        )


#: Defaults for deployments and tests: vols 1%..500%, correlations -0.99..0.99, steps of 10 vol points /
#: 0.2 correlation per post growing at the same per hour, 5 bp PSD tolerance, posts 5 min apart, 1 day fresh.
DEFAULT_COV_PARAMS = CovParams(
    min_vol_bp=100,
    max_vol_bp=50_000,
    min_corr_bp=-9_900,
    max_corr_bp=9_900,
    max_vol_step_bp=1_000,
    max_vol_rate_per_hour_bp=1_000,
    max_corr_step_bp=2_000,
    max_corr_rate_per_hour_bp=2_000,
    psd_tol_bp=5,
    min_interval_sec=300,
    max_age_sec=86_400,
)


@dataclass(frozen=True)
class LastPost:
    """The oracle's latest post (``packed()``)."""

    vols_word: int
    corr_words: CorrWords
    updated_at: int


def allowed_steps_bp(p: CovParams, elapsed_sec: int) -> tuple[int, int]:
    """(vol step, correlation step) a post ``elapsed_sec`` after the previous one may make (rounded down)."""
    vol_step = p.max_vol_rate_per_hour_bp * elapsed_sec // HOUR_SEC
    corr_step = p.max_corr_rate_per_hour_bp * elapsed_sec // HOUR_SEC
    return min(vol_step, p.max_vol_step_bp), min(corr_step, p.max_corr_step_bp)


def check_post(
    p: CovParams, n: int, vols_word: int, corr_words: CorrWords, last: LastPost | None, now_sec: int
) -> None:
    """The checks of ``CovarianceOracle.post`` in the contract's order; ``last`` is None before the first post."""
    check_packing(vols_word, corr_words, n)
    vols, corrs = unpack(vols_word, corr_words, n)
    for i, v in enumerate(vols):
        if v < p.min_vol_bp or v > p.max_vol_bp:
            raise CovVolOutOfBounds(i, v, p.min_vol_bp, p.max_vol_bp)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    for (i, j), c in zip(pairs, corrs, strict=True):
        if c < p.min_corr_bp or c > p.max_corr_bp:
            raise CovCorrOutOfBounds(i, j, c, p.min_corr_bp, p.max_corr_bp)
    if last is not None and last.updated_at != 0:
        elapsed = now_sec - last.updated_at
        if elapsed < p.min_interval_sec:
            raise CovPostTooSoon(last.updated_at, p.min_interval_sec, now_sec)
        vol_step, corr_step = allowed_steps_bp(p, elapsed)
        previous_vols, previous_corrs = unpack(last.vols_word, last.corr_words, n)
        for i, (v, prev) in enumerate(zip(vols, previous_vols, strict=True)):
            if abs(v - prev) > vol_step:
                raise CovVolStepExceeded(i, prev, v, vol_step)
        for (i, j), c, prev in zip(pairs, corrs, previous_corrs, strict=True):
            if abs(c - prev) > corr_step:
                raise CovCorrStepExceeded(i, j, prev, c, corr_step)
    check_psd(corr_words, n, p.psd_tol_bp)


def covariance_wad(vols_word: int, corr_words: CorrWords, n: int) -> list[int]:
    """S_ij = volBp_i volBp_j corrBp_ij x 1e6 (exact), n x n row-major (CovarianceOracle.covarianceWad)."""
    vols, corrs = unpack(vols_word, corr_words, n)
    cov = [0] * (n * n)
    k = 0
    for i in range(n):
        cov[i * n + i] = vols[i] * vols[i] * 10**10
        for j in range(i + 1, n):
            s = vols[i] * vols[j] * corrs[k] * 10**6
            cov[i * n + j] = cov[j * n + i] = s
            k += 1
    return cov


# ----------------------------------------------------------------------------- PortfolioMath


class Mode(IntEnum):
    """``IPortfolioMath.Mode``."""

    TARGET_VOL = 0
    RISK_PARITY = 1
    MIN_VARIANCE = 2


@dataclass(frozen=True)
class TargetRules:
    """``IPortfolioMath.TargetRules``: the rules a target is verified against (wad)."""

    mode: Mode
    min_weight_wad: tuple[int, ...]
    max_weight_wad: tuple[int, ...]
    min_vol_wad: int = 0
    max_vol_wad: int = 0
    budget_wad: tuple[int, ...] = ()
    tolerance_wad: int = 0

    def as_tuple(self) -> tuple[object, ...]:
        """The ABI tuple of the struct."""
        return (
            int(self.mode),
            list(self.min_weight_wad),
            list(self.max_weight_wad),
            self.min_vol_wad,
            self.max_vol_wad,
            list(self.budget_wad),
            self.tolerance_wad,
        )


def _name32(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def _check_length(name: str, length: int, expected: int) -> None:
    if length != expected:
        raise PmLengthMismatch(_name32(name), length, expected)


def check_weights(weights_wad: Sequence[int], min_wad: Sequence[int], max_wad: Sequence[int]) -> int:
    """Long-only, per-asset bounds, sum <= 1; returns the sum (PortfolioMath.checkWeights)."""
    n = len(weights_wad)
    _check_length("minWeightWad", len(min_wad), n)
    _check_length("maxWeightWad", len(max_wad), n)
    total = 0
    for i, w in enumerate(weights_wad):
        if w < 0:
            raise PmWeightNegative(i, w)
        if w < min_wad[i] or w > max_wad[i]:
            raise PmWeightOutOfBounds(i, w, min_wad[i], max_wad[i])
        total += w
    if total > WAD:
        raise PmWeightSumAboveOne(total)
    return total


def risk_terms(weights_wad: Sequence[int], cov_wad: Sequence[int]) -> tuple[list[int], int]:
    """(g = S w in 1e36 units, v = w'Sw in 1e54 units), exact (PortfolioMath.riskTerms)."""
    n = len(weights_wad)
    gradient36 = [sum(cov_wad[i * n + j] * weights_wad[j] for j in range(n)) for i in range(n)]
    variance54 = sum(w * g for w, g in zip(weights_wad, gradient36, strict=True))
    return gradient36, variance54


def vol_from_variance(variance54: int) -> int:
    """floor(sqrt(v / 1e18)) in wad; 0 when v <= 0 (PortfolioMath.volFromVariance)."""
    return 0 if variance54 <= 0 else isqrt(variance54 // WAD)


def check_vol_band(variance54: int, min_vol_wad: int, max_vol_wad: int) -> None:
    """minVol^2 1e18 <= v <= maxVol^2 1e18 (PortfolioMath.checkVolBand)."""
    if variance54 < min_vol_wad * min_vol_wad * WAD or variance54 > max_vol_wad * max_vol_wad * WAD:
        raise PmVolOutOfBand(vol_from_variance(variance54), min_vol_wad, max_vol_wad)


def check_risk_parity(
    weights_wad: Sequence[int],
    gradient36: Sequence[int],
    variance54: int,
    budget_wad: Sequence[int],
    tolerance_wad: int,
) -> None:
    """|w_i g_i 1e18 - b_i v| <= tol v for each i (PortfolioMath.checkRiskParity)."""
    n = len(weights_wad)
    _check_length("budgetWad", len(budget_wad), n)
    total = 0
    for i, b in enumerate(budget_wad):
        if b == 0:
            raise PmBudgetInvalid(i, 0, 0)
        total += b
    if total != WAD:
        raise PmBudgetInvalid(n, 0, total)
    if variance54 <= 0:
        raise PmNoRisk(_sdiv(variance54, 10**36))
    allowed = tolerance_wad * variance54
    for i in range(n):
        contribution72 = weights_wad[i] * gradient36[i] * WAD
        off = contribution72 - budget_wad[i] * variance54
        if off > allowed or -off > allowed:
            raise PmRiskContributionOff(i, _sdiv(contribution72, variance54), budget_wad[i], tolerance_wad)


def check_min_variance(
    weights_wad: Sequence[int], gradient36: Sequence[int], variance54: int, sum_wad: int, tolerance_wad: int
) -> None:
    """Long-only KKT within tolerance (PortfolioMath.checkMinVariance)."""
    if variance54 <= 0:
        raise PmNoRisk(_sdiv(variance54, 10**36))
    allowed = tolerance_wad * variance54
    for i, w in enumerate(weights_wad):
        off = (gradient36[i] * sum_wad - variance54) * WAD
        held = w > 0
        if (off > allowed or -off > allowed) if held else -off > allowed:
            gradient_wad = _sdiv(gradient36[i], WAD)
            lambda_wad = _sdiv(_sdiv(variance54, sum_wad), WAD)
            if held:
                raise PmKktGradientOff(i, gradient_wad, lambda_wad, tolerance_wad)
            raise PmKktGradientBelow(i, gradient_wad, lambda_wad, tolerance_wad)


def verify(weights_wad: Sequence[int], cov_wad: Sequence[int], rules: TargetRules) -> int:
    """The whole verification (PortfolioMath.verify); returns the ex-ante volatility in wad (floor)."""
    n = len(weights_wad)
    _check_length("covWad", len(cov_wad), n * n)
    sum_wad = check_weights(weights_wad, rules.min_weight_wad, rules.max_weight_wad)
    gradient36, variance54 = risk_terms(weights_wad, cov_wad)
    if rules.mode == Mode.TARGET_VOL:
        check_vol_band(variance54, rules.min_vol_wad, rules.max_vol_wad)
    elif rules.mode == Mode.RISK_PARITY:
        check_risk_parity(weights_wad, gradient36, variance54, rules.budget_wad, rules.tolerance_wad)
    else:
        check_min_variance(weights_wad, gradient36, variance54, sum_wad, rules.tolerance_wad)
    return vol_from_variance(variance54)
