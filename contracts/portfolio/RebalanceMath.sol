// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title RebalanceMath
/// @notice The figures of `IPortfolioVault`'s rebalancing rule: integer cube root, no-trade bands, weights
/// from values, the quadratic form x'Sx, and the distance of a variance from a band. Pure integer math,
/// every result exact or floored as named.
/// @dev Mirrored operation for operation by `hedgevault/portfolio/mirror.py` (`cbrt`, `band_wad`,
/// `weights_wad`, `quad_form54`, `band_distance54`, `risk_contributions_off`,
/// `derisk_mask`). Solidity `/` on int256 truncates toward zero.
library RebalanceMath {
    /// @notice `quadForm` was given a matrix of `length` entries for `n` weights.
    error CovLengthMismatch(uint256 length, uint256 n);

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    /// @dev 1 bp in wad: costBps x 1e14 is the cost in wad.
    uint256 internal constant BP_TO_WAD = 1e14;

    /// @notice floor(cbrt(x)), exact for every uint256.
    /// @dev Integer Newton from above: z0 = 2^(floor(msb / 3) + 1) > cbrt(x); z' = floor((2z + floor(x / z^2)) / 3)
    /// equals floor((2z + x / z^2) / 3) >= floor(cbrt(x)) (AM-GM), and is < z while z > floor(cbrt(x))
    /// (x < z^3), so the iteration decreases strictly to floor(cbrt(x)) and stops there (z' >= z).
    /// Monotonically non-decreasing in x (exact). z <= 2^86: z^2 < 2^172 and 2z + x / z^2 < 2^256.
    function cbrt(uint256 x) internal pure returns (uint256 z) {
        if (x == 0) return 0;
        z = uint256(1) << (FixedPointMath.msb(x) / 3 + 1);
        unchecked {
            // z >= 1 throughout (floor(cbrt(x)) >= 1 for x >= 1); bounds above
            while (true) {
                uint256 y = (2 * z + x / (z * z)) / 3;
                if (y >= z) return z;
                z = y;
            }
        }
    }

    /// @notice The no-trade band of an asset of variance `varianceWad` = sigma^2 (the covariance's diagonal S_ii):
    /// clamp(floor(bandScaleBp x floor(cbrt(costBps x 1e14 x varianceWad x 1e18)) / 1e4), minBandWad, maxBandWad).
    /// @dev cbrt of (cost wad) x (sigma^2 wad) x 1e18, a 1e54-unit figure, is in wad. costBps < 2^16 and
    /// S_ii <= 25e18 (vols <= 500%, the covariance oracle's hard bound): the product is below
    /// 2^16 x 1e14 x 2.5e37 < 2^200.
    function bandWad(
        uint256 varianceWad,
        uint256 costBps,
        uint256 bandScaleBp,
        uint256 minBandWad,
        uint256 maxBandWad
    ) internal pure returns (uint256 band) {
        band = bandScaleBp * cbrt(costBps * BP_TO_WAD * varianceWad * WAD) / BPS;
        if (band < minBandWad) band = minBandWad;
        if (band > maxBandWad) band = maxBandWad;
    }

    /// @notice w_i = floor(value_i x 1e18 / nav) (all zero when nav = 0); values and nav in the same units,
    /// sum value_i <= nav.
    function weightsWad(uint256[] memory values, uint256 nav) internal pure returns (int256[] memory w) {
        uint256 n = values.length;
        w = new int256[](n);
        if (nav == 0) return w;
        for (uint256 i; i < n; ++i) {
            // value_i <= nav: the weight is at most 1e18
            w[i] = int256(Math.mulDiv(values[i], WAD, nav));
        }
    }

    /// @notice x'Sx in 1e54 units (exact) and the gradient g = S x in 1e36 units, for n <= 8, |x_i| <= 1e18 and the
    /// oracle's |S_ij| < 2^66 (as `PortfolioMath.riskTerms`, which allows signed x); unchecked inside that domain
    /// (every caller passes weights or weight differences and the oracle's matrix).
    function quadForm(int256[] memory x, int256[] memory covWad)
        internal
        pure
        returns (int256[] memory gradient36, int256 form54)
    {
        uint256 n = x.length;
        if (covWad.length != n * n) revert CovLengthMismatch(covWad.length, n);
        gradient36 = new int256[](n);
        // The same sums in assembly (no bounds checks: the lengths are checked above), wrapping as unchecked int256
        // arithmetic does: |S_ij x_j| < 2^66 x 2^60 and n <= 8 terms: |g| < 2^129; |x_i g| < 2^189, 8 terms < 2^192
        assembly ("memory-safe") {
            let xs := add(x, 0x20)
            let s := add(covWad, 0x20)
            let gs := add(gradient36, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let g := 0
                for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                    g := add(g, mul(mload(s), mload(add(xs, shl(5, j)))))
                    s := add(s, 0x20)
                }
                mstore(add(gs, shl(5, i)), g)
                form54 := add(form54, mul(mload(add(xs, shl(5, i))), g))
            }
        }
    }

    /// @notice Whether some risk contribution is off its budget by more than `tolWad` (relative):
    /// |w_i g_i x 1e18 - b_i v| > floor(tolWad x b_i x v / 1e18) for some i, with g = S w (1e36 units) and
    /// v = w'Sw (1e54 units) from `quadForm(w, S)`, i.e. |RC_i / b_i - 1| > tol where RC_i = w_i (Sw)_i / w'Sw.
    /// True when v <= 0 (no risk to share) and some budget is positive.
    /// @dev Weights 0 <= w_i <= 1e18 and the oracle's |S_ij| <= 25e18 (vols <= 500%): |g_i| <= 2e38 and
    /// |w_i g_i| x 1e18 <= 2e74, b_i v <= 1e18 x 2e56; checked arithmetic beyond (a Panic, never a wrong answer).
    function riskContributionsOff(
        int256[] memory w,
        int256[] memory g,
        int256 variance54,
        uint256[] memory budgetWad,
        uint256 tolWad
    ) internal pure returns (bool) {
        uint256 n = w.length;
        for (uint256 i; i < n; ++i) {
            uint256 b = budgetWad[i];
            if (variance54 <= 0) {
                if (b > 0) return true;
                continue;
            }
            int256 lhs = w[i] * g[i] * int256(WAD) - int256(b) * variance54;
            uint256 err = lhs < 0 ? uint256(-lhs) : uint256(lhs);
            if (err > Math.mulDiv(tolWad * b, uint256(variance54), WAD)) return true;
        }
        return false;
    }

    /// @notice The assets a de-risking upkeep may trade past their bands (bit i of the mask): while the held
    /// portfolio's ex-ante variance v = w'Sw (1e54 units) is above the target band by the margin,
    /// v > floor(maxVol x (1e4 + marginBps) / 1e4)^2 x 1e18, every
    /// asset held above its target (d_i > 0: a sale) whose sale lowers the variance and the tracking error to first
    /// order ((Sw)_i > 0, (Sd)_i > 0) and whose step (`stepWad`: the gap, or the step to the tracking error's minimum along it) exceeds
    /// `dustWad`; 0 when v is inside or below the band.
    /// @dev gw = S w (1e36 units) and v from `quadForm(w, S)`, g = S d from `quadForm(d, S)`; maxVolWad <= 5e18
    /// and marginBps <= 1e4 (the setters' bounds): the trigger <= 1e19, its square x 1e18 < 2^187; n <= 8 bits.
    function deriskMask(
        int256[] memory d,
        int256[] memory g,
        int256[] memory gw,
        int256 variance54,
        int256[] memory covWad,
        uint256 maxVolWad,
        uint256 marginBps,
        uint256 dustWad
    ) internal pure returns (uint256 mask) {
        uint256 trigger = maxVolWad * (BPS + marginBps) / BPS;
        if (variance54 <= int256(trigger * trigger * WAD)) return 0;
        uint256 n = d.length;
        for (uint256 i; i < n; ++i) {
            if (d[i] > 0 && g[i] > 0 && gw[i] > 0 && stepWad(d[i], g[i], covWad[i * n + i]) > dustWad) mask |= uint256(1) << i;
        }
    }

    /// @notice How far a variance v (1e54 units) lies outside [minVol^2, maxVol^2] (x 1e18), 0 inside.
    function bandDistance54(int256 variance54, uint256 minVolWad, uint256 maxVolWad) internal pure returns (uint256) {
        // vol bounds <= 5e18 (setRules): squares x 1e18 below 2^145
        int256 low = int256(minVolWad * minVolWad * WAD);
        int256 high = int256(maxVolWad * maxVolWad * WAD);
        if (variance54 < low) return uint256(low - variance54);
        if (variance54 > high) return uint256(variance54 - high);
        return 0;
    }

    /// @notice floor(sqrt(v / 1e18)) in wad for v in 1e54 units; 0 when v <= 0 (`PortfolioMath.volFromVariance`).
    function volWad(int256 variance54) internal pure returns (uint256) {
        return variance54 <= 0 ? 0 : FixedPointMath.sqrt(uint256(variance54) / WAD);
    }

    /// @notice The weight a slice of asset i may move: min(|d_i|, |g_i| / S_ii), wad, where d = w - t and
    /// g = S d (1e36 units): the gap to target and the step to the tracking error's minimum along asset i
    /// (d_i - g_i / S_ii), so a slice never overshoots either. S_ii > 0 (the oracle's vols are >= 1%).
    function stepWad(int256 driftWad, int256 gradient36, int256 varianceWad) internal pure returns (uint256 step) {
        uint256 gap = driftWad < 0 ? uint256(-driftWad) : uint256(driftWad);
        uint256 g = gradient36 < 0 ? uint256(-gradient36) : uint256(gradient36);
        uint256 toMinimum = g / uint256(varianceWad);
        step = gap < toMinimum ? gap : toMinimum;
    }
}
