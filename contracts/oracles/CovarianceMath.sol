// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICovarianceOracle} from "../../interfaces/ICovarianceOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title CovarianceMath
/// @notice The packed fields of `ICovarianceOracle` (see its packing) and the PSD check of a correlation
/// matrix by a modified Cholesky factorisation in integer fixed point.
/// @dev Mirrored operation for operation by `hedgevault/portfolio/mirror.py`. Solidity `/` on int256
/// truncates toward zero (the mirror's `_sdiv`).
library CovarianceMath {
    uint256 internal constant MAX_ASSETS = 8;
    /// @dev 1 bp in 1e36 units (1e-4 x 1e36): correlations and the tolerance enter the factorisation so.
    int256 internal constant BP_TO_E36 = 1e32;
    int256 internal constant ONE_E36 = 1e36;
    int256 internal constant WAD = 1e18;
    uint256 internal constant FIELD_MASK = 0xffff;

    /// @notice The number of correlation fields of n assets, n (n - 1) / 2.
    function pairCount(uint256 n) internal pure returns (uint256) {
        return n * (n - 1) / 2;
    }

    /// @notice Volatility of asset i, bp (field i of `volsBp`).
    function volBp(uint256 volsBp, uint256 i) internal pure returns (uint256) {
        return (volsBp >> (i << 4)) & FIELD_MASK;
    }

    /// @notice Correlation field k (signed 16 bits, bp) of the packed correlation words.
    function corrBp(uint256[2] memory corrsBp, uint256 k) internal pure returns (int256) {
        return int256(int16(uint16((corrsBp[k >> 4] >> ((k & 15) << 4)) & FIELD_MASK)));
    }

    /// @notice The covariance matrix of a post in wad, n x n row-major: S_ii = volBp_i^2 x 1e10,
    /// S_ij = volBp_i x volBp_j x corrBp_ij x 1e6 (exact; `ICovarianceOracle.covarianceWad`).
    function covarianceWad(uint256 volsBp, uint256[2] memory corrsBp, uint256 n)
        internal
        pure
        returns (int256[] memory cov)
    {
        cov = new int256[](n * n);
        uint256 k;
        unchecked {
            // vols < 2^16, |corr| <= 2^15: |S_ij| < 2^16 x 2^16 x 2^15 x 2^20 = 2^67, S_ii = vol^2 x 1e10 < 2^66;
            // indices below n^2 <= 64 (n <= 8 for every caller: the oracle's and the vault's asset count)
            for (uint256 i; i < n; ++i) {
                int256 vi = int256(volBp(volsBp, i));
                cov[i * n + i] = vi * vi * 1e10;
                for (uint256 j = i + 1; j < n; ++j) {
                    int256 s = vi * int256(volBp(volsBp, j)) * corrBp(corrsBp, k) * 1e6;
                    cov[i * n + j] = s;
                    cov[j * n + i] = s;
                    ++k;
                }
            }
        }
    }

    /// @notice Reverts `CovPackingInvalid` when a field beyond n volatilities or n (n - 1) / 2 correlations is
    /// set (word 0: the volatilities; 1, 2: the correlation words).
    function checkPacking(uint256 volsBp, uint256[2] memory corrsBp, uint256 n) internal pure {
        // n <= 8: the volatilities use the low 16 n <= 128 bits
        if (volsBp >> (n << 4) != 0) revert ICovarianceOracle.CovPackingInvalid(0, volsBp);
        uint256 m = pairCount(n); // <= 28
        if (m < 16 && corrsBp[0] >> (m << 4) != 0) revert ICovarianceOracle.CovPackingInvalid(1, corrsBp[0]);
        uint256 highBits = m > 16 ? (m - 16) << 4 : 0;
        if (corrsBp[1] >> highBits != 0) revert ICovarianceOracle.CovPackingInvalid(2, corrsBp[1]);
    }

    /// @notice Reverts `CovNotPsd` unless the correlation matrix of the n assets is positive semi-definite
    /// within the tolerance `tolBp` (the rule, its guarantee and its rounding are in `ICovarianceOracle`).
    /// @dev About n^3 / 6 multiply-adds. L is lower triangular, packed by rows in a fixed array (row i starts
    /// at i (i + 1) / 2), entries in wad with |L_ij| <= sqrt(1 + 2 tau) < 1.02e18; products and sums in 1e36.
    function checkPsd(uint256[2] memory corrsBp, uint256 n, uint256 tolBp) internal pure {
        int256[36] memory l;
        // tolBp <= 100 (a parameter's hard bound) and 1e32: tau <= 1e34
        int256 tau = int256(tolBp) * BP_TO_E36;
        // k: index of the pair (j, i), running over the upper triangle in the packing order
        uint256 k;
        for (uint256 j; j < n; ++j) {
            uint256 rowJ = j * (j + 1) / 2;
            int256 pivot = ONE_E36 - _dot(l, rowJ, rowJ, j);
            if (pivot < -tau) revert ICovarianceOracle.CovNotPsd(j, pivot / WAD, uint256(tau / WAD));
            // floor(sqrt(max(p, tau))) in wad: >= sqrt(1e32) = 1e16 > 0, and p <= 1e36 so <= 1e18
            int256 ljj = int256(FixedPointMath.sqrt(uint256(pivot < tau ? tau : pivot)));
            l[rowJ + j] = ljj;
            for (uint256 i = j + 1; i < n; ++i) {
                uint256 rowI = i * (i + 1) / 2;
                l[rowI + j] = (corrBp(corrsBp, k) * BP_TO_E36 - _dot(l, rowI, rowJ, j)) / ljj;
                ++k;
            }
        }
    }

    /// @dev sum_{k < len} l[a + k] l[b + k] (1e36 units): len < 8 terms, each below 1.05e36, so no overflow.
    function _dot(int256[36] memory l, uint256 a, uint256 b, uint256 len) private pure returns (int256 s) {
        unchecked {
            for (uint256 k; k < len; ++k) {
                s += l[a + k] * l[b + k];
            }
        }
    }
}
