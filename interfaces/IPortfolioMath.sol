// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPortfolioMath
/// @notice The on-chain verification of a keeper's target weights (`contracts/portfolio/PortfolioMath.sol`):
/// types, errors and the rules, with their units. Every check is an exact integer comparison (no rounding
/// decides a pass or a fail); only the figures reported in an error are rounded (toward zero).
///
/// Units: weights w_i are the fraction of NAV held in asset i, wad (1e18 = 100%), signed so that a short
/// is refused with its figure; the covariance S is n x n row-major, annualised, wad (as
/// `ICovarianceOracle.covarianceWad`). Internally the gradient g = S w is kept in 1e36 units and the
/// variance v = w'Sw in 1e54 units, both exact.
///
/// Rules, all modes: 0 <= w_i (`PmWeightNegative`), minWeightWad_i <= w_i <= maxWeightWad_i
/// (`PmWeightOutOfBounds`), sum w_i <= 1 (`PmWeightSumAboveOne`; the rest is held in the quote token).
/// * TargetVol: minVolWad^2 <= w'Sw <= maxVolWad^2 (`PmVolOutOfBand`): the ex-ante volatility in the band.
/// * RiskParity: budgets b_i > 0 with sum exactly 1 (`PmBudgetInvalid`); w'Sw > 0 (`PmNoRisk`); for every
///   i, |w_i (Sw)_i - b_i w'Sw| <= tol w'Sw (`PmRiskContributionOff`): each asset's share of the variance
///   within `toleranceWad` (absolute) of its budget. Scale-free: w and c w pass alike.
/// * MinVariance (long-only KKT of min w'Sw over the simplex, scale-free): with s = sum w_i and
///   lambda = w'Sw / s (the w-weighted mean of the gradient, the multiplier at an exact solution) and
///   w'Sw > 0 (`PmNoRisk`): |(Sw)_i - lambda| <= tol lambda where w_i > 0 (`PmKktGradientOff`), and
///   (Sw)_i >= (1 - tol) lambda where w_i = 0 (`PmKktGradientBelow`): no unheld asset would lower the
///   variance. The per-asset bounds are checked as in every mode but are not part of this condition: a
///   target whose bounds bind fails it (post such a target in TargetVol mode).
/// Domain: |S_ij| <= 2^66 (the oracle's are below 43e18 < 2^66) and toleranceWad <= 1e18; beyond, a product may
/// overflow and revert with a Panic rather than a wrong answer (checked arithmetic).
interface IPortfolioMath {
    /// @notice Which condition a target satisfies besides the weight rules.
    enum Mode {
        TargetVol,
        RiskParity,
        MinVariance
    }

    /// @notice The rules a target is verified against. Arrays have n entries (budgets: n in RiskParity mode,
    /// any length otherwise).
    struct TargetRules {
        Mode mode;
        uint256[] minWeightWad;
        uint256[] maxWeightWad;
        uint256 minVolWad; // TargetVol band, annualised volatility wad
        uint256 maxVolWad;
        uint256[] budgetWad; // RiskParity: each > 0, sum 1e18
        uint256 toleranceWad; // RiskParity (absolute share) and MinVariance (relative to lambda)
    }

    /// @notice An input array `name` has `length` entries where `expected` are needed.
    error PmLengthMismatch(bytes32 name, uint256 length, uint256 expected);
    /// @notice Weight `asset` is negative (a short): targets are long-only.
    error PmWeightNegative(uint256 asset, int256 weightWad);
    /// @notice Weight `asset` is outside its [minWad, maxWad].
    error PmWeightOutOfBounds(uint256 asset, uint256 weightWad, uint256 minWad, uint256 maxWad);
    /// @notice The weights add up to more than 1 (1e18).
    error PmWeightSumAboveOne(uint256 sumWad);
    /// @notice The ex-ante volatility sqrt(w'Sw) (floor, wad; 0 for a negative variance) is outside the band.
    error PmVolOutOfBand(uint256 volWad, uint256 minVolWad, uint256 maxVolWad);
    /// @notice Budget `asset` is zero, or (asset = n) the budgets sum to `sumWad` instead of 1e18.
    error PmBudgetInvalid(uint256 asset, uint256 budgetWad, uint256 sumWad);
    /// @notice The target carries no risk (w'Sw = `varianceWad`, truncated, <= 0): risk parity and minimum
    /// variance conditions are undefined. Post it in TargetVol mode.
    error PmNoRisk(int256 varianceWad);
    /// @notice Asset `asset`'s share of the variance w_i (Sw)_i / w'Sw (`shareWad`, truncated) is more than
    /// `toleranceWad` from its budget.
    error PmRiskContributionOff(uint256 asset, int256 shareWad, uint256 budgetWad, uint256 toleranceWad);
    /// @notice Held asset `asset`'s gradient (Sw)_i (`gradientWad`) differs from lambda by more than tol x lambda.
    error PmKktGradientOff(uint256 asset, int256 gradientWad, int256 lambdaWad, uint256 toleranceWad);
    /// @notice Unheld asset `asset`'s gradient is below (1 - tol) x lambda: holding it would lower the variance.
    error PmKktGradientBelow(uint256 asset, int256 gradientWad, int256 lambdaWad, uint256 toleranceWad);
}
