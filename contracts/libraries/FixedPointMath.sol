// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title FixedPointMath
/// @notice Integer and fixed-point helpers: exact square root, most significant bit, natural log of a
/// ratio and exp in Q96 (2^96 = 1.0), and mulDiv with its rounding direction in the name.
/// @dev Mirrored operation for operation by `hedgevault/greeks/mirror.py`. Every `unchecked` and
/// assembly block states why it cannot overflow; `>>` on int256 is an arithmetic shift (floor), `/` on int256
/// truncates toward zero.
library FixedPointMath {
    uint256 internal constant Q96 = 1 << 96;
    int256 internal constant LN2_Q96 = 54916777467707473351141471128; // round(ln 2 * 2^96)
    int256 internal constant INV_LN2_Q96 = 114302077158074026402637675937; // round(2^96 / ln 2)
    uint256 internal constant SQRT2_Q96 = 112045541949572279837463876454; // floor(sqrt 2 * 2^96)
    /// @dev Below this argument exp returns 0 (e^-67 = 8e-30 < 2^-96).
    int256 internal constant EXP_MIN_Q96 = -(67 << 96);

    /// @notice floor(sqrt(x)), exact for every uint256.
    /// @dev Monotonically non-decreasing (exact). Start from 2^(floor(msb / 2) + 1) > sqrt(x): within a
    /// factor 2 of the root, so seven Babylonian steps (each at least doubling the correct bits) reach
    /// floor or floor + 1, and the last line corrects the latter.
    function sqrt(uint256 x) internal pure returns (uint256 z) {
        uint256 r = msb(x);
        assembly ("memory-safe") {
            // the steps only divide by z >= 1 and add two words below 2^129: no overflow
            if x {
                z := shl(add(shr(1, r), 1), 1)
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := sub(z, lt(div(x, z), z))
            }
        }
    }

    /// @notice Index of the most significant set bit of x (x > 0; returns 0 for 0).
    function msb(uint256 x) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            // comparisons, shifts and ors only: nothing can overflow
            r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
            r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
            r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
            r := or(r, shl(4, lt(0xffff, shr(r, x))))
            r := or(r, shl(3, lt(0xff, shr(r, x))))
            r := or(r, shl(2, lt(0xf, shr(r, x))))
            r := or(r, shl(1, lt(0x3, shr(r, x))))
            r := or(r, lt(0x1, shr(r, x)))
        }
    }

    /// @notice ln(num / den) in Q96.
    /// @dev Requires 0 < num, den < 2^101 and num / den within [2^-7, 2^7] (the caller's domain:
    /// prices in [1e12, 1e30] wei with a ratio in [0.01, 100]).
    /// Note: This function is an approximation. num / den = 2^k m with m in [1/sqrt2, sqrt2), and
    /// ln m = 2 atanh(z) with z = (num' - den') / (num' + den') formed from the integers themselves, so
    /// the error is relative to ln m: |error| <= 2e-21 |ln m| + 2^-93 (series truncated after z^25,
    /// |z| <= 0.1716). Monotonically non-decreasing in num up to that error.
    /// The same integers as the reference (num' = num << max(0, -k), den' = den << max(0, k)): here
    /// both are scaled by the same power of two, 2^(7 - k) or 2^7, which leaves the quotient z unchanged.
    function lnRatioQ96(uint256 num, uint256 den) internal pure returns (int256 r) {
        assembly ("memory-safe") {
            // num < 2^101: num << 96 < 2^197; q in [2^89, 2^104) by the ratio bound, so
            // y = q sqrt2 in [2^89, 2^104) (y < 2^202 in the product) and v = y >> 89 in [1, 2^15):
            // k = msb(y) - 96 = msb(v) - 7 in [-7, 7]
            let v := shr(185, mul(div(shl(96, num), den), 112045541949572279837463876454))
            let m := shl(3, lt(0xff, v))
            m := or(m, shl(2, lt(0xf, shr(m, v))))
            m := or(m, shl(1, lt(0x3, shr(m, v))))
            m := or(m, lt(0x1, shr(m, v)))
            // a = num << (7 - k) < 2^115 and b = den << 7 < 2^108: (a - b) << 96 < 2^212;
            // |z| <= 0.1716 * 2^96
            let a := shl(sub(14, m), num)
            let b := shl(7, den)
            let z := sdiv(shl(96, sub(a, b)), add(a, b))
            // Horner over floor(2^96 / (2n + 1)), n = 12..0, in w = z^2 (< 0.0295 * 2^96), as one
            // nested expression (constant first: the innermost term is evaluated first)
            let w := sar(96, mul(z, z))
            let p := add(79228162514264337593543950336, sar(96, mul(w, add(26409387504754779197847983445, sar(96, mul(w, add(15845632502852867518708790067, sar(96, mul(w, add(11318308930609191084791992905, sar(96, mul(w, add(8803129168251593065949327815, sar(96, mul(w, add(7202560228569485235776722757, sar(96, mul(w, add(6094474039558795199503380795, sar(96, mul(w, add(5281877500950955839569596689, sar(96, mul(w, add(4660480147897902211384938255, sar(96, mul(w, add(4169903290224438820712839491, sar(96, mul(w, add(3772769643536397028263997635, sar(96, mul(w, add(3444702718011492938849736971, sar(96, mul(w, 3169126500570573503741758013))))))))))))))))))))))))))))))))))))
            // |k| <= 7: k * LN2_Q96 < 2^99
            r := add(shl(1, sar(96, mul(z, p))), mul(sub(m, 7), 54916777467707473351141471128))
        }
    }

    /// @notice e^x in Q96 for a Q96 argument x <= 11 * 2^96; 0 for x < -67 * 2^96.
    /// @dev Note: This function is an approximation. x = k ln2 + y with |y| <= ln2 / 2 and
    /// e^y = P(y) / P(-y), the Pade [6/6] approximant: relative error <= 2e-19 (+ 2^-95 absolute).
    /// Monotonically non-decreasing up to that error.
    function expQ96(int256 x) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            if iszero(slt(x, 0xffffffffffffffffffffffffffffffffffffffbd000000000000000000000000)) { // x >= EXP_MIN_Q96
                // |x| <= 67 * 2^96 < 2^103 and INV_LN2_Q96 < 2^97: the product is < 2^200; k in [-97, 16]
                let k := sar(192, add(mul(x, 114302077158074026402637675937), 0x800000000000000000000000000000000000000000000000 /* 2^191 */))
                let y := sub(x, mul(k, 54916777467707473351141471128))
                // |y| <= 0.347 * 2^96; all terms stay below 2^121 before the final division
                let y2 := sar(96, mul(y, y))
                let e := add(
                    52708911957489778514232919279534080, /* 665280 * 2^96 */
                    sar(96, mul(y2, add(
                        5989649086078383922071922645401600, /* 75600 * 2^96 */
                        sar(96, mul(y2, add(y2, 66551656511982043578576918282240 /* 840 * 2^96 */)))
                    )))
                )
                let yo := sar(96, mul(y, add(
                    26354455978744889257116459639767040, /* 332640 * 2^96 */
                    sar(96, mul(y2, add(mul(42, y2), 798619878143784522942923019386880 /* 10080 * 2^96 */)))
                )))
                // e^y < 2^97, so << (k + 97) < 2^210 is exact and >> 97 is r << k (k >= 0) or r >> -k
                r := shr(97, shl(add(k, 97), div(shl(96, add(e, yo)), sub(e, yo))))
            }
        }
    }

    /// @notice x / d rounded up, without overflow (OpenZeppelin's `ceilDiv`).
    function divUp(uint256 x, uint256 d) internal pure returns (uint256) {
        return Math.ceilDiv(x, d);
    }

    /// @notice x * y / d rounded down, with a full 512-bit intermediate (reverts if the result overflows).
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d);
    }

    /// @notice x * y / d rounded up, with a full 512-bit intermediate (reverts if the result overflows).
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }
}
