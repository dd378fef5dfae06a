// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPortfolioMath} from "../../interfaces/IPortfolioMath.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title PortfolioMath
/// @notice Verification of target weights against a covariance matrix: the rules and units are in
/// `IPortfolioMath`. Every decision is an exact integer comparison.
/// @dev Mirrored operation for operation by `hedgevault/portfolio/mirror.py`. Arithmetic is checked: inside
/// the documented domain nothing overflows (bounds beside each product); outside it a Panic, never a wrong
/// answer. Solidity `/` on int256 truncates toward zero (the mirror's `_sdiv`).
library PortfolioMath {
    uint256 internal constant WAD = 1e18;
    int256 internal constant IWAD = 1e18;

    /// @notice Verify `weightsWad` against `covWad` (n x n) under `rules`; returns the ex-ante volatility
    /// sqrt(w'Sw) in wad (floor; 0 if the variance is negative). Reverts with the first failed rule.
    function verify(int256[] memory weightsWad, int256[] memory covWad, IPortfolioMath.TargetRules memory rules)
        internal
        pure
        returns (uint256 volWad)
    {
        uint256 n = weightsWad.length;
        _checkLength("covWad", covWad.length, n * n);
        uint256 sumWad = checkWeights(weightsWad, rules.minWeightWad, rules.maxWeightWad);
        (int256[] memory gradient36, int256 variance54) = riskTerms(weightsWad, covWad);
        if (rules.mode == IPortfolioMath.Mode.TargetVol) {
            checkVolBand(variance54, rules.minVolWad, rules.maxVolWad);
        } else if (rules.mode == IPortfolioMath.Mode.RiskParity) {
            checkRiskParity(weightsWad, gradient36, variance54, rules.budgetWad, rules.toleranceWad);
        } else {
            checkMinVariance(weightsWad, gradient36, variance54, sumWad, rules.toleranceWad);
        }
        return volFromVariance(variance54);
    }

    /// @notice Long-only, per-asset bounds and sum <= 1; returns the sum of the weights (wad).
    function checkWeights(int256[] memory weightsWad, uint256[] memory minWad, uint256[] memory maxWad)
        internal
        pure
        returns (uint256 sumWad)
    {
        uint256 n = weightsWad.length;
        _checkLength("minWeightWad", minWad.length, n);
        _checkLength("maxWeightWad", maxWad.length, n);
        for (uint256 i; i < n; ++i) {
            int256 w = weightsWad[i];
            if (w < 0) revert IPortfolioMath.PmWeightNegative(i, w);
            uint256 u = uint256(w);
            if (u < minWad[i] || u > maxWad[i]) revert IPortfolioMath.PmWeightOutOfBounds(i, u, minWad[i], maxWad[i]);
            sumWad += u;
        }
        if (sumWad > WAD) revert IPortfolioMath.PmWeightSumAboveOne(sumWad);
    }

    /// @notice The gradient g = S w (1e36 units) and the variance v = w'Sw (1e54 units), exact.
    /// @dev With |S_ij| <= 2^66 and 0 <= w_j <= 1e18 < 2^60: |g_i| <= 8 x 2^126 = 2^129 and |v| <= 2^192.
    function riskTerms(int256[] memory weightsWad, int256[] memory covWad)
        internal
        pure
        returns (int256[] memory gradient36, int256 variance54)
    {
        uint256 n = weightsWad.length;
        gradient36 = new int256[](n);
        for (uint256 i; i < n; ++i) {
            int256 g;
            uint256 row = i * n;
            for (uint256 j; j < n; ++j) {
                g += covWad[row + j] * weightsWad[j];
            }
            gradient36[i] = g;
            variance54 += weightsWad[i] * g;
        }
    }

    /// @notice floor(sqrt(v / 1e18)) in wad for a variance in 1e54 units; 0 when v <= 0.
    function volFromVariance(int256 variance54) internal pure returns (uint256) {
        return variance54 <= 0 ? 0 : FixedPointMath.sqrt(uint256(variance54) / WAD);
    }

    /// @notice minVolWad^2 x 1e18 <= v <= maxVolWad^2 x 1e18 (exact), else `PmVolOutOfBand`.
    function checkVolBand(int256 variance54, uint256 minVolWad, uint256 maxVolWad) internal pure {
        // vol bounds of a few wad: squares below 2^140, x 1e18 below 2^200
        int256 low = int256(minVolWad * minVolWad * WAD);
        int256 high = int256(maxVolWad * maxVolWad * WAD);
        if (variance54 < low || variance54 > high) {
            revert IPortfolioMath.PmVolOutOfBand(volFromVariance(variance54), minVolWad, maxVolWad);
        }
    }

    /// @notice Budgets valid (each > 0, sum 1e18), v > 0, and |w_i g_i 1e18 - b_i v| <= tol v for every i.
    function checkRiskParity(
        int256[] memory weightsWad,
        int256[] memory gradient36,
        int256 variance54,
        uint256[] memory budgetWad,
        uint256 toleranceWad
    ) internal pure {
        uint256 n = weightsWad.length;
        _checkLength("budgetWad", budgetWad.length, n);
        uint256 sumWad;
        for (uint256 i; i < n; ++i) {
            if (budgetWad[i] == 0) revert IPortfolioMath.PmBudgetInvalid(i, 0, 0);
            sumWad += budgetWad[i];
        }
        if (sumWad != WAD) revert IPortfolioMath.PmBudgetInvalid(n, 0, sumWad);
        if (variance54 <= 0) revert IPortfolioMath.PmNoRisk(variance54 / 1e36);
        // tol < 2^60 and |v| <= 2^192: below 2^252
        int256 allowed = int256(toleranceWad) * variance54;
        for (uint256 i; i < n; ++i) {
            // |w_i g_i| <= 2^60 x 2^129, x 1e18 < 2^249; b_i v < 2^252
            int256 contribution72 = weightsWad[i] * gradient36[i] * IWAD;
            int256 off = contribution72 - int256(budgetWad[i]) * variance54;
            if (off > allowed || -off > allowed) {
                revert IPortfolioMath.PmRiskContributionOff(
                    i, contribution72 / variance54, budgetWad[i], toleranceWad
                );
            }
        }
    }

    /// @notice v > 0; with s = sum w and lambda = v / s: |g_i s - v| 1e18 <= tol v where w_i > 0, and
    /// (g_i s - v) 1e18 >= -tol v where w_i = 0.
    function checkMinVariance(
        int256[] memory weightsWad,
        int256[] memory gradient36,
        int256 variance54,
        uint256 sumWad,
        uint256 toleranceWad
    ) internal pure {
        if (variance54 <= 0) revert IPortfolioMath.PmNoRisk(variance54 / 1e36);
        uint256 n = weightsWad.length;
        // v > 0 implies s > 0 (v = sum w_i g_i); s <= 1e18
        int256 s = int256(sumWad);
        int256 allowed = int256(toleranceWad) * variance54;
        for (uint256 i; i < n; ++i) {
            // |g_i| s <= 2^129 x 2^60, x 1e18 < 2^249
            int256 off = (gradient36[i] * s - variance54) * IWAD;
            bool held = weightsWad[i] > 0;
            if (held ? (off > allowed || -off > allowed) : -off > allowed) {
                int256 gradientWad = gradient36[i] / IWAD;
                int256 lambdaWad = variance54 / s / IWAD;
                if (held) revert IPortfolioMath.PmKktGradientOff(i, gradientWad, lambdaWad, toleranceWad);
                revert IPortfolioMath.PmKktGradientBelow(i, gradientWad, lambdaWad, toleranceWad);
            }
        }
    }

    function _checkLength(bytes32 name, uint256 length, uint256 expected) private pure {
        if (length != expected) revert IPortfolioMath.PmLengthMismatch(name, length, expected);
    }
}
