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


# ----------------------------------------------------------------------------- PortfolioVault (issue 11 E)


@dataclass(frozen=True)
class RebalanceParams:
    """``IPortfolioVault.RebalanceParams`` (field order as the Solidity struct)."""

    max_slippage_bps: int = 100
    max_nav_loss_bps: int = 25
    cost_bps: int = 40
    band_scale_bp: int = 3_500
    min_band_wad: int = 5 * 10**15
    max_band_wad: int = 10**17
    budget_bps: int = 100
    budget_period_sec: int = 30 * 86_400
    feed_deviation_bps: int = 50
    min_target_interval_sec: int = 3_600
    rc_tolerance_wad: int = 5 * 10**16
    rc_dust_wad: int = 10**15
    derisk_margin_bps: int = 2_500

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.max_slippage_bps,
            self.max_nav_loss_bps,
            self.cost_bps,
            self.band_scale_bp,
            self.min_band_wad,
            self.max_band_wad,
            self.budget_bps,
            self.budget_period_sec,
            self.feed_deviation_bps,
            self.min_target_interval_sec,
            self.rc_tolerance_wad,
            self.rc_dust_wad,
            self.derisk_margin_bps,
        )


#: Defaults for deployments and tests: 1% slippage bound per slice, 25 bp NAV loss per slice, 40 bp one-way
#: cost in the band rule with kappa 0.35 (the simulator's and the deployment's too), bands in [0.5%, 10%], a
#: budget of 1% of NAV per 30 days, 50 bp swing, targets at most hourly, risk-parity catch-up beyond 5% off the
#: budgets down to 0.1% of NAV, de-risking sales past the bands above 1.25 x the rules' maximum volatility.
DEFAULT_REBALANCE_PARAMS = RebalanceParams()

BPS = 10_000
BP_TO_WAD = 10**14


def cbrt(x: int) -> int:
    """floor(cbrt(x)) by integer Newton from above (RebalanceMath.cbrt), for 0 <= x < 2^256."""
    if x == 0:
        return 0
    z = 1 << (x.bit_length() - 1) // 3 + 1
    while True:
        # uint256 y = (2 * z + x / (z * z)) / 3;
        y = (2 * z + x // (z * z)) // 3
        if y >= z:
            return z
        z = y


def band_wad(variance_wad: int, cost_bps: int, band_scale_bp: int, min_band_wad: int, max_band_wad: int) -> int:
    """clamp(floor(kappa x cbrt(costBps x 1e14 x S_ii x 1e18) / 1e4), min, max) (RebalanceMath.bandWad)."""
    band = band_scale_bp * cbrt(cost_bps * BP_TO_WAD * variance_wad * WAD) // BPS
    return min(max(band, min_band_wad), max_band_wad)


def band_for(p: RebalanceParams, variance_wad: int) -> int:
    """The no-trade band of an asset whose covariance diagonal is ``variance_wad`` under ``p``."""
    return band_wad(variance_wad, p.cost_bps, p.band_scale_bp, p.min_band_wad, p.max_band_wad)


def value_quote(balance: int, price_wad: int, asset_decimals: int, quote_decimals: int) -> int:
    """floor(balance x price x 10^(18 - dec) / (1e18 x 10^(18 - quote dec))) (PortfolioEngine._value)."""
    asset_scale: int = 10 ** (18 - asset_decimals)
    quote_scale: int = 10 ** (18 - quote_decimals)
    return balance * (price_wad * asset_scale) // (WAD * quote_scale)


def weights_wad(values: Sequence[int], nav: int) -> list[int]:
    """floor(value_i x 1e18 / nav), all 0 when nav = 0 (RebalanceMath.weightsWad)."""
    return [0 if nav == 0 else v * WAD // nav for v in values]


def quad_form(x: Sequence[int], cov_wad: Sequence[int]) -> tuple[list[int], int]:
    """(g = S x in 1e36 units, x'Sx in 1e54 units), exact (RebalanceMath.quadForm)."""
    return risk_terms(x, cov_wad)


def vol_wad(variance54: int) -> int:
    """floor(sqrt(v / 1e18)), 0 for v <= 0 (RebalanceMath.volWad)."""
    return vol_from_variance(variance54)


def tracking_error_wad(weights: Sequence[int], targets: Sequence[int], cov_wad: Sequence[int]) -> int:
    """floor(sqrt((w - t)'S(w - t))) in wad, the vault's tracking error."""
    d = [w - t for w, t in zip(weights, targets, strict=True)]
    return vol_wad(quad_form(d, cov_wad)[1])


def band_distance54(variance54: int, min_vol_wad: int, max_vol_wad: int) -> int:
    """How far v lies outside [minVol^2, maxVol^2] x 1e18 (RebalanceMath.bandDistance54)."""
    low, high = min_vol_wad * min_vol_wad * WAD, max_vol_wad * max_vol_wad * WAD
    return low - variance54 if variance54 < low else variance54 - high if variance54 > high else 0


def step_wad(drift_wad: int, gradient36: int, variance_wad: int) -> int:
    """min(|d_i|, |g_i| / S_ii) (RebalanceMath.stepWad)."""
    return min(abs(drift_wad), abs(gradient36) // variance_wad)


def swing_quote(risky_value: int, feed_deviation_bps: int) -> int:
    """ceil(risky value x feedDeviationBps / 1e4): deposits at NAV + swing, withdrawals at NAV - swing."""
    return -(-risky_value * feed_deviation_bps // BPS)


def budget_now(level_quote: int, updated_at: int, now_sec: int, nav: int, p: RebalanceParams) -> tuple[int, int, int]:
    """(available, capacity, level) of the leaky bucket (PortfolioEngine._budget)."""
    capacity = nav * p.budget_bps // BPS
    drained = capacity * (now_sec - updated_at) // p.budget_period_sec
    level = level_quote - drained if level_quote > drained else 0
    return (capacity - level if capacity > level else 0), capacity, level


@dataclass(frozen=True)
class Slice:
    """The slice ``plan_slice`` picks: asset index, sale or buy, asset units, quote value."""

    asset: int
    sale: bool
    units: int
    value_quote: int


#: The defaults of ``RebalanceParams.rcToleranceWad`` / ``rcDustWad`` (risk-parity mode's held-weights rule;
#: they were PortfolioEngine's constants RC_TOLERANCE_WAD / RC_DUST_WAD).
RC_TOLERANCE_WAD = 5 * 10**16
RC_DUST_WAD = 10**15


def risk_contributions_off(
    w: Sequence[int], gradient36: Sequence[int], variance54: int, budgets_wad: Sequence[int], tol_wad: int
) -> bool:
    """RebalanceMath.riskContributionsOff: some |w_i g_i x 1e18 - b_i v| > floor(tol x b_i x v / 1e18)
    (|RC_i / b_i - 1| > tol), g = S w and v = w'Sw from ``quad_form(w, S)``; True when v <= 0 and some
    budget is positive."""
    for wi, gi, b in zip(w, gradient36, budgets_wad, strict=True):
        if variance54 <= 0:
            if b > 0:
                return True
            continue
        if abs(wi * gi * WAD - b * variance54) > tol_wad * b * variance54 // WAD:
            return True
    return False


def derisk_mask(
    drifts: Sequence[int],
    gradient36: Sequence[int],
    weight_gradient36: Sequence[int],
    variance54: int,
    cov_wad: Sequence[int],
    max_vol_wad: int,
    margin_bps: int,
    dust_wad: int,
) -> int:
    """RebalanceMath.deriskMask: while v = w'Sw > floor(maxVol x (1e4 + margin) / 1e4)^2 x 1e18 (the held weights'
    ex-ante volatility above the target band by more than the margin, relative), bit i for every asset held above its
    target (d_i > 0) whose sale lowers the variance and the tracking error to first order ((Sw)_i > 0, (Sd)_i > 0)
    and whose step exceeds the dust; 0 otherwise. g = S d and gw = S w (1e36 units), v from ``quad_form(w, S)``."""
    trigger = max_vol_wad * (BPS + margin_bps) // BPS
    if variance54 <= trigger * trigger * WAD:
        return 0
    n = len(drifts)
    mask = 0
    for i in range(n):
        d, g, gw = drifts[i], gradient36[i], weight_gradient36[i]
        if d > 0 and g > 0 and gw > 0 and step_wad(d, g, cov_wad[i * n + i]) > dust_wad:
            mask |= 1 << i
    return mask


def choose_asset(
    drifts: Sequence[int],
    gradient36: Sequence[int],
    cov_wad: Sequence[int],
    p: RebalanceParams,
    rc_off: bool = False,
    derisk: int = 0,
) -> int | None:
    """The asset an upkeep trades (PortfolioEngine._choose with ``_thresholds``): more than its threshold from
    its target with d_i g_i > 0, sales first, then the largest |d_i| / threshold_i; the threshold is the
    asset's band, or when ``rc_off`` (risk-parity mode with a risk contribution of the held weights off its
    budget by more than ``p.rc_tolerance_wad``) ``p.rc_dust_wad`` for an asset whose step exceeds it and no
    trade (2^256 - 1) for the others; otherwise ``p.rc_dust_wad`` for the de-risking assets (bit i of
    ``derisk``, :func:`derisk_mask`); None when there is none."""
    n = len(drifts)
    best: int | None = None
    best_gap, best_band, best_sale = 0, 1, False
    for i, (d, g) in enumerate(zip(drifts, gradient36, strict=True)):
        if d == 0 or g == 0 or (d > 0) != (g > 0):
            continue
        gap = abs(d)
        if rc_off:
            dust = p.rc_dust_wad
            band = dust if step_wad(d, g, cov_wad[i * n + i]) > dust else 2**256 - 1
        elif (derisk >> i) & 1:
            band = p.rc_dust_wad
        else:
            band = band_for(p, cov_wad[i * n + i])
        if gap <= band:
            continue
        sale = d > 0
        if best is None or (sale and not best_sale) or (sale == best_sale and gap * best_band > best_gap * band):
            best, best_gap, best_band, best_sale = i, gap, band, sale
    return best


def plan_slice(
    values: Sequence[int],
    quote_balance: int,
    prices_wad: Sequence[int],
    asset_decimals: Sequence[int],
    quote_decimals: int,
    targets_wad: Sequence[int],
    cov_wad: Sequence[int],
    p: RebalanceParams,
    budget_available: int,
    risk_budgets_wad: Sequence[int] | None = None,
    max_vol_wad: int | None = None,
) -> Slice | None:
    """The slice ``performUpkeep`` trades (PortfolioEngine.plan), None where it reverts ``NoRebalanceNeeded``
    (the budget check, ``SlippageBudgetSpent``, is :func:`budget_needed`'s). ``risk_budgets_wad``: the
    rules' budgets in risk-parity mode; ``max_vol_wad``: the rules' upper volatility in target-vol mode
    (the de-risking exemption); None in the other modes."""
    nav = quote_balance + sum(values)
    w = weights_wad(values, nav)
    d = [wi - ti for wi, ti in zip(w, targets_wad, strict=True)]
    g, _ = quad_form(d, cov_wad)
    rc_off = False
    derisk = 0
    if risk_budgets_wad is not None:
        gw, v = quad_form(w, cov_wad)
        rc_off = risk_contributions_off(w, gw, v, risk_budgets_wad, p.rc_tolerance_wad)
    elif max_vol_wad is not None:
        gw, v = quad_form(w, cov_wad)
        derisk = derisk_mask(d, g, gw, v, cov_wad, max_vol_wad, p.derisk_margin_bps, p.rc_dust_wad)
    i = choose_asset(d, g, cov_wad, p, rc_off, derisk)
    if i is None or nav == 0:
        return None
    n = len(values)
    sale = d[i] > 0
    slip = p.max_slippage_bps
    # back to half the band short of the target; all the way in risk-parity catch-up and for a de-risking sale
    # (PortfolioEngine.plan)
    keep = 0 if rc_off or (derisk >> i) & 1 else band_for(p, cov_wad[i * n + i]) // 2
    value = min(step_wad(d[i], g[i], cov_wad[i * n + i]), abs(d[i]) - keep) * nav // WAD
    loss_room = nav * p.max_nav_loss_bps // BPS
    value = min(value, (loss_room - 2) * BPS // slip if loss_room > 2 else 0)
    value = min(value, (budget_available - 2) * BPS // slip if budget_available > 2 else 0)
    if not sale:
        value = min(value * (BPS - slip) // BPS, quote_balance * BPS // (BPS + slip))
    quote_scale: int = 10 ** (18 - quote_decimals)
    asset_scale: int = 10 ** (18 - asset_decimals[i])
    units = value * (WAD * quote_scale) // (prices_wad[i] * asset_scale)
    return None if units == 0 else Slice(i, sale, units, value)


def budget_needed(nav: int, p: RebalanceParams) -> int:
    """The least budget an upkeep needs: ceil(NAV x minBandWad / 2 / 1e18 x maxSlippageBps / 1e4)."""
    return -(-(nav * p.min_band_wad // (2 * WAD)) * p.max_slippage_bps // BPS)
