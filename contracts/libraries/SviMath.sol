// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISviMath} from "../../interfaces/ISviMath.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @title SviMath
/// @notice Raw SVI slices: total variance and implied volatility at a strike, and the checks of a posted slice
/// (parameters, butterfly and calendar arbitrage on a grid, the per-strike rate limit). Units, rounding and the
/// rules are documented on `ISviMath`.
/// @dev Mirrored operation for operation by `hedgevault/surface/mirror.py`. The parameter checks are checked
/// Solidity; the evaluation and the per-point arbitrage arithmetic are assembly (gas), with the bound of every product
/// beside it: inside the domain of `checkParams` and |k| <= 5 no intermediate comes near 2^255 (the largest, the
/// terms of 16 w^2 g, stay below 2^171). A slice that never passed `checkParams` may therefore give a wrong number
/// rather than a revert: the oracle must check every post. Signed divisions that decide a check round outward:
/// `sdiv` truncates toward zero and the sign of `smod` corrects it (floor = sdiv - (smod < 0), ceiling = sdiv +
/// (smod > 0)); `div` is used only on non-negative operands, where it is the floor.
library SviMath {
    int256 internal constant WAD = 1e18;
    int256 internal constant E36 = 1e36;
    uint256 internal constant YEAR_SEC = 365 days;
    uint256 internal constant MAX_TIME_SEC = 10 * YEAR_SEC;
    uint256 internal constant MIN_PRICE_WAD = 1e12;
    uint256 internal constant MAX_PRICE_WAD = 1e30;
    uint256 internal constant MAX_MONEYNESS = 100;

    /// @dev The domain of a slice (see `ISviMath`): |a| <= 100 (1e36 units), b <= 10, |m| <= 5,
    /// sigma in [1e-9, 5]; the grid's |k| <= 5 and at most 64 points.
    int256 internal constant MAX_ABS_A36 = 100e36;
    int256 internal constant MAX_B_WAD = 10e18;
    int256 internal constant MAX_ABS_M_WAD = 5e18;
    int256 internal constant MIN_SIGMA_WAD = 1e9;
    int256 internal constant MAX_SIGMA_WAD = 5e18;
    int256 internal constant MAX_ABS_K_WAD = 5e18;
    uint256 internal constant MAX_GRID_POINTS = 64;
    /// @dev Lee's bound b (1 + |rho|) <= 2, as b (1e18 + |rho|) <= 2e36.
    int256 internal constant LEE_BOUND_36 = 2e36;
    uint256 internal constant MAX_FLAT_VOL_WAD = 10e18;

    // ------------------------------------------------------------------------------------ evaluation

    /// @notice k = ln(strike / forward) in wad, rounded down (from `FixedPointMath.lnRatioQ96`).
    /// @dev Reverts `SviMoneynessOutOfRange` unless both are in [1e12, 1e30] and the ratio in [0.01, 100].
    /// Note: an approximation: lnRatioQ96's error (2e-21 |k| + 2^-93) plus the floor to wad (< 1e-18).
    function logMoneynessWad(uint256 strikeWad, uint256 forwardWad) internal pure returns (int256 kWad) {
        _checkMoneyness(strikeWad, forwardWad);
        int256 xQ96 = FixedPointMath.lnRatioQ96(strikeWad, forwardWad);
        assembly ("memory-safe") {
            // |ln| <= ln 100 < 2^2.3: the Q96 value is below 2^99 and the product below 2^159; sar floors
            kWad := sar(96, mul(xQ96, WAD))
        }
    }

    /// @notice Total variance w(k) in 1e36 units, rounded down (by less than 3e-36; see `ISviMath`).
    /// @dev For a slice that passed `checkParams` and |k| <= 5 (assembly; the bounds beside each line).
    function varianceDown(ISviMath.SviSlice memory s, int256 kWad) internal pure returns (int256 w36) {
        int256 b = s.bWad;
        if (b == 0) return s.a36;
        int256 d = kWad - s.mWad;
        (uint256 r,) = hypotFloor(d, s.sigmaWad);
        assembly ("memory-safe") {
            // r = floor(sqrt(d^2 + sigma^2)) >= |d| and |rho| < 1: rho d + r 1e18 >= 0, < 2^75; times b <= 1e19:
            // < 2^109; `div` on the non-negative value is the floor
            w36 := add(mload(s), div(mul(b, add(mul(mload(add(s, 0x40)), d), mul(r, WAD))), WAD))
        }
    }

    /// @notice The implied volatility of `strikeWad` at `forwardWad` with `timeSec` to expiry, in wad:
    /// floor(sqrt(floor(w36 x year / timeSec))) with w36 = `varianceDown` at k = `logMoneynessWad`. A flat
    /// slice (b = 0) skips the logarithm (its w does not depend on k).
    /// @dev Reverts `SviTimeOutOfRange` (timeSec outside [1, 10 years]), `SviMoneynessOutOfRange`, and
    /// `SviVarianceNotPositive` where w <= 0. For a slice that passed `checkParams`. Monotone in w; the error
    /// is that of k (above) times |w'(k)|, plus the floors.
    function volWad(ISviMath.SviSlice memory s, uint256 strikeWad, uint256 forwardWad, uint256 timeSec)
        internal
        pure
        returns (uint256)
    {
        _checkTime(timeSec);
        _checkMoneyness(strikeWad, forwardWad);
        if (s.bWad == 0) {
            int256 a36 = s.a36;
            if (a36 <= 0) revert ISviMath.SviVarianceNotPositive(logMoneynessWad(strikeWad, forwardWad), a36);
            return _volOfVariance(a36, timeSec);
        }
        int256 xQ96 = FixedPointMath.lnRatioQ96(strikeWad, forwardWad);
        int256 kWad;
        assembly ("memory-safe") {
            // as in `logMoneynessWad`
            kWad := sar(96, mul(xQ96, WAD))
        }
        return _volAt(s, kWad, timeSec);
    }

    /// @notice `volWad` from k = ln(strike / forward) itself (wad, |k| <= 5): for a caller that has the
    /// logarithm already (the pricer's ln(S / K) + r T is -k). Reverts `SviTimeOutOfRange`,
    /// `SviVarianceNotPositive`.
    function volAtLogMoneyness(ISviMath.SviSlice memory s, int256 kWad, uint256 timeSec)
        internal
        pure
        returns (uint256)
    {
        _checkTime(timeSec);
        return _volAt(s, kWad, timeSec);
    }

    /// @notice The flat slice of `volWad` over `timeSec`: a36 = ceil(vol^2 timeSec / year), b = rho = m = 0,
    /// sigma = 1. Its `volWad` at every strike is `volWad` exactly (see `ISviMath`).
    function flatSlice(uint256 volWad_, uint256 timeSec) internal pure returns (ISviMath.SviSlice memory s) {
        if (volWad_ == 0 || volWad_ > MAX_FLAT_VOL_WAD) revert ISviMath.SviFlatVolOutOfRange(volWad_);
        _checkTime(timeSec);
        // vol^2 <= 1e38 and timeSec < 2^29: the product < 2^156
        s.a36 = int256(FixedPointMath.divUp(volWad_ * volWad_ * timeSec, YEAR_SEC));
        s.sigmaWad = WAD;
    }

    // ------------------------------------------------------------------------------------ checks

    /// @notice Reverts unless the parameters are valid (see `ISviMath`), in this order: `SviBNegative`,
    /// `SviRhoOutOfRange`, `SviSigmaNotPositive`, `SviParamOutOfDomain` (a36, bWad, mWad, sigmaWad),
    /// `SviLeeBoundExceeded`, `SviMinVarianceNegative`.
    function checkParams(ISviMath.SviSlice memory s) internal pure {
        if (s.bWad < 0) revert ISviMath.SviBNegative(s.bWad);
        if (s.rhoWad <= -WAD || s.rhoWad >= WAD) revert ISviMath.SviRhoOutOfRange(s.rhoWad);
        if (s.sigmaWad <= 0) revert ISviMath.SviSigmaNotPositive(s.sigmaWad);
        if (s.a36 < -MAX_ABS_A36 || s.a36 > MAX_ABS_A36) {
            revert ISviMath.SviParamOutOfDomain("a36", s.a36, -MAX_ABS_A36, MAX_ABS_A36);
        }
        if (s.bWad > MAX_B_WAD) revert ISviMath.SviParamOutOfDomain("bWad", s.bWad, 0, MAX_B_WAD);
        if (s.mWad < -MAX_ABS_M_WAD || s.mWad > MAX_ABS_M_WAD) {
            revert ISviMath.SviParamOutOfDomain("mWad", s.mWad, -MAX_ABS_M_WAD, MAX_ABS_M_WAD);
        }
        if (s.sigmaWad < MIN_SIGMA_WAD || s.sigmaWad > MAX_SIGMA_WAD) {
            revert ISviMath.SviParamOutOfDomain("sigmaWad", s.sigmaWad, MIN_SIGMA_WAD, MAX_SIGMA_WAD);
        }
        int256 absRho = s.rhoWad < 0 ? -s.rhoWad : s.rhoWad;
        // b <= 1e19 and 1 + |rho| < 2e18: the product < 2^75 (1e36 units), compared exactly
        int256 slope36 = s.bWad * (WAD + absRho);
        if (slope36 > LEE_BOUND_36) revert ISviMath.SviLeeBoundExceeded(s.bWad, s.rhoWad, _ceilDiv(slope36, WAD));
        // sqrt(1 - rho^2) rounded down (wad) and the product rounded down: the minimum is not overstated;
        // b sigma sqrt(.) <= 1e19 * 5e18 * 1e18 < 2^186
        uint256 root = sqrtFloor(uint256(E36 - s.rhoWad * s.rhoWad));
        int256 minVar36 = s.a36 + (s.bWad * s.sigmaWad * int256(root)) / WAD;
        if (minVar36 < 0) revert ISviMath.SviMinVarianceNegative(minVar36);
    }

    /// @notice Reverts unless the slice is free of butterfly arbitrage and (against the neighbours given) of
    /// calendar arbitrage at every point of the grid (see `ISviMath`): `SviGridInvalid`, then point by point
    /// from kLo: `SviVarianceNotPositive`, `SviButterflyArbitrage`, `SviCalendarArbitrage` (nearer, then
    /// farther). The slice and its neighbours must have passed `checkParams`.
    function checkArbitrage(
        ISviMath.SviSlice memory s,
        ISviMath.SviGrid memory grid,
        ISviMath.SviSlice memory nearer,
        bool hasNearer,
        ISviMath.SviSlice memory farther,
        bool hasFarther
    ) internal pure {
        if (
            grid.points < 2 || grid.points > MAX_GRID_POINTS || grid.kLoWad >= grid.kHiWad
                || grid.kLoWad < -MAX_ABS_K_WAD || grid.kHiWad > MAX_ABS_K_WAD
        ) revert ISviMath.SviGridInvalid(grid.kLoWad, grid.kHiWad, grid.points);
        unchecked {
            // span in (0, 1e19] and i < 64: span * i < 2^70, k within [kLo, kHi]
            int256 lo = grid.kLoWad;
            int256 span = grid.kHiWad - lo;
            uint256 n = grid.points;
            int256 last = int256(n - 1);
            for (uint256 i; i < n; ++i) {
                // span * i >= 0: `/` is the floor
                _checkAt(s, lo + (span * int256(i)) / last, nearer, hasNearer, farther, hasFarther);
            }
        }
    }

    /// @notice Reverts `SviVolStepExceeded` unless, at every listed strike, the volatility under `s` with
    /// `timeSec` to expiry is within `maxStepWad` of the volatility under `previous` with `previousTimeSec`,
    /// both at `forwardWad` (one logarithm per strike). Reverts like `volWad` where a volatility is undefined.
    function checkRateLimit(
        ISviMath.SviSlice memory previous,
        uint256 previousTimeSec,
        ISviMath.SviSlice memory s,
        uint256 timeSec,
        uint256[] memory strikesWad,
        uint256 forwardWad,
        uint256 maxStepWad
    ) internal pure {
        _checkTime(previousTimeSec);
        _checkTime(timeSec);
        for (uint256 i; i < strikesWad.length; ++i) {
            int256 k = logMoneynessWad(strikesWad[i], forwardWad);
            uint256 before = _volAt(previous, k, previousTimeSec);
            uint256 next = _volAt(s, k, timeSec);
            if ((next > before ? next - before : before - next) > maxStepWad) {
                revert ISviMath.SviVolStepExceeded(i, before, next, maxStepWad);
            }
        }
    }

    // ------------------------------------------------------------------------------------ internals

    /// @dev The volatility at k: `volWad` after its input checks. w as in `varianceDown` (inline: one call less).
    function _volAt(ISviMath.SviSlice memory s, int256 kWad, uint256 timeSec) private pure returns (uint256) {
        int256 w36;
        assembly ("memory-safe") {
            w36 := mload(s)
            let b := mload(add(s, 0x20))
            if b {
                // `hypotFloor` inline (its bounds and error there): |d| <= 1e19, 1e9 <= sigma <= 5e18
                let d := sub(kWad, mload(add(s, 0x60)))
                let sigma := mload(add(s, 0x80))
                let h := d
                if slt(d, 0) { h := sub(0, d) }
                let l := sigma
                if lt(h, l) {
                    l := h
                    h := sigma
                }
                let q := add(mul(d, d), mul(sigma, sigma))
                let r := add(h, div(mul(l, l), shl(1, h)))
                r := shr(1, add(r, div(q, r)))
                r := shr(1, add(r, div(q, r)))
                r := shr(1, add(r, div(q, r)))
                r := shr(1, add(r, div(q, r)))
                r := sub(r, lt(div(q, r), r))
                // as in `varianceDown`: rho d + r 1e18 >= 0, < 2^75; times b <= 1e19: < 2^109
                w36 := add(w36, div(mul(b, add(mul(mload(add(s, 0x40)), d), mul(r, WAD))), WAD))
            }
        }
        if (w36 <= 0) revert ISviMath.SviVarianceNotPositive(kWad, w36);
        return _volOfVariance(w36, timeSec);
    }

    /// @dev Reverts `SviTimeOutOfRange` unless 1 <= timeSec <= 10 years.
    function _checkTime(uint256 timeSec) private pure {
        if (timeSec == 0 || timeSec > MAX_TIME_SEC) revert ISviMath.SviTimeOutOfRange(timeSec);
    }

    /// @dev floor(sqrt(floor(w36 x year / timeSec))), for 0 < w36 < 2^128 and timeSec >= 1.
    function _volOfVariance(int256 w36, uint256 timeSec) private pure returns (uint256) {
        uint256 v;
        assembly ("memory-safe") {
            // w36 < 2^128 and year < 2^25: the product < 2^153
            v := div(mul(w36, YEAR_SEC), timeSec)
        }
        return sqrtFloor(v);
    }

    /// @dev Reverts `SviMoneynessOutOfRange` unless strike and forward are in [1e12, 1e30] and their ratio in
    /// [0.01, 100].
    function _checkMoneyness(uint256 strikeWad, uint256 forwardWad) private pure {
        bool bad;
        assembly ("memory-safe") {
            // x - lo > hi - lo (wrapping) iff x is outside [lo, hi]; the products may wrap only when a price is
            // already out of range, which sets `bad` on its own
            bad := or(
                or(
                    gt(sub(strikeWad, MIN_PRICE_WAD), 999999999999999999000000000000 /* MAX - MIN */),
                    gt(sub(forwardWad, MIN_PRICE_WAD), 999999999999999999000000000000)
                ),
                or(lt(mul(strikeWad, MAX_MONEYNESS), forwardWad), lt(mul(forwardWad, MAX_MONEYNESS), strikeWad))
            )
        }
        if (bad) revert ISviMath.SviMoneynessOutOfRange(strikeWad, forwardWad);
    }

    /// @notice r = floor(sqrt(d^2 + sigma^2)) and q = d^2 + sigma^2, exact, for |d| <= 2^64 and 0 < sigma <= 2^64.
    /// @dev Without a bit search: z0 = h + l^2 / (2 h), h = max(|d|, sigma), l = min, is at or above the root
    /// and within 6.1% of it (the worst case l = h: 1.5 / sqrt 2); each Babylonian step takes the relative
    /// error e to at most e^2 / 2: 6.1% -> 1.9e-3 -> 1.8e-6 -> 1.6e-12 -> 1.3e-24 after four, less than one
    /// unit for a root below 2^65 (so z is floor or floor + 1; an integer step never goes below the floor),
    /// and the last line corrects it. Monotonically non-decreasing in |d| and sigma (exact).
    function hypotFloor(int256 d, int256 sigma) internal pure returns (uint256 r, uint256 q) {
        assembly ("memory-safe") {
            let h := d
            if slt(d, 0) { h := sub(0, d) }
            let l := sigma
            if lt(h, l) {
                l := h
                h := sigma
            }
            // h >= sigma > 0; h, l <= 2^64: q < 2^129, l^2 / (2 h) <= h / 2
            q := add(mul(d, d), mul(sigma, sigma))
            r := add(h, div(mul(l, l), shl(1, h)))
            r := shr(1, add(r, div(q, r)))
            r := shr(1, add(r, div(q, r)))
            r := shr(1, add(r, div(q, r)))
            r := shr(1, add(r, div(q, r)))
            r := sub(r, lt(div(q, r), r))
        }
    }

    /// @notice floor(sqrt(x)), exact for x < 2^192 (this library's arguments are below 2^160).
    /// @dev From z0 = 2^floor(msb / 2) x (1.25 for an even msb, 1.75 for an odd one), within 25% of the root
    /// (which lies in [1, sqrt 2) resp. [sqrt 2, 2) times 2^floor(msb / 2)), each Babylonian step takes the
    /// relative error e to at most e^2 / (2 (1 - e)): 25% -> 2.5e-2 -> 3.1e-4 -> 4.7e-8 -> 1.1e-15 -> 6e-31
    /// after five, less than one unit for a root below 2^96, so z is floor or floor + 1 (an integer step never
    /// goes below the floor) and the last line corrects it. Monotonically non-decreasing (exact).
    function sqrtFloor(uint256 x) internal pure returns (uint256 z) {
        assembly ("memory-safe") {
            if x {
                let r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
                r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
                r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
                r := or(r, shl(4, lt(0xffff, shr(r, x))))
                r := or(r, shl(3, lt(0xff, shr(r, x))))
                r := or(r, shl(2, lt(0xf, shr(r, x))))
                r := or(r, shl(1, lt(0x3, shr(r, x))))
                r := or(r, lt(0x1, shr(r, x)))
                // 5 / 4 or 7 / 4 times 2^floor(r / 2), as (5 + 2 (r & 1)) << (floor(r / 2)) >> 2: < 2^99
                z := shr(2, shl(shr(1, r), add(5, shl(1, and(r, 1)))))
                if iszero(z) { z := 1 }
                // each step divides by z >= 1 and adds two values below 2^100
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := shr(1, add(z, div(x, z)))
                z := sub(z, lt(div(x, z), z))
            }
        }
    }

    /// @dev The checks at one grid point k: butterfly, then calendar against each neighbour given.
    function _checkAt(
        ISviMath.SviSlice memory s,
        int256 k,
        ISviMath.SviSlice memory nearer,
        bool hasNearer,
        ISviMath.SviSlice memory farther,
        bool hasFarther
    ) private pure {
        (int256 wLo36, int256 wHi36, int256 g36, int256 wHi) = _point(s, k, true);
        if (wLo36 <= 0) revert ISviMath.SviVarianceNotPositive(k, wLo36);
        // |g36| < 2^171 and wHi >= 1: the figure's product and divisor fit
        if (g36 < 0) revert ISviMath.SviButterflyArbitrage(k, (g36 * WAD) / (16 * wHi * wHi));
        if (hasNearer) {
            (, int256 nearHi36,,) = _point(nearer, k, false);
            if (nearHi36 > wLo36) revert ISviMath.SviCalendarArbitrage(k, nearHi36, wLo36);
        }
        if (hasFarther) {
            (int256 farLo36,,,) = _point(farther, k, false);
            if (wHi36 > farLo36) revert ISviMath.SviCalendarArbitrage(k, wHi36, farLo36);
        }
    }

    /// @dev Everything the arbitrage checks need at k, in one pass (inputs: a slice that passed `checkParams`,
    /// |k| <= 5):
    /// - r = sqrt((k - m)^2 + sigma^2) enclosed by rLo = floor(r) and rHi = rLo, or rLo + 1 when r is not an
    ///   integer (`hypotFloor` inline);
    /// - [wLo36, wHi36]: w rounded down and up, 1e36 units (rho d + r 1e18 >= 0 at both ends since r >= |d| and
    ///   |rho| < 1, b >= 0: the floor and the ceiling of non-negative quotients; b (.) < 1e19 * 2.2e37 < 2^188);
    /// - if `withG` and wLo36 > 0: g36, a lower bound of G = 16 w^2 g = 4 (2w - k w')^2 - 4 w'^2 w - w'^2 w^2
    ///   + 8 w'' w^2 in 1e36 units, from w in [wLo, wHi] (wad, outward), w' = b (rho + d / r) in [dLo, dHi]
    ///   (d / r rounded outward, the larger |d / r| at the smaller r) and w'' = b sigma^2 / r^3 >= eLo =
    ///   floor(b floor(sigma^2 1e18 / rHi^2) / rHi), each term bounded on its side; and wHi (w rounded up, wad).
    ///   For b = 0, w' = w'' = 0 and G = 16 w^2 > 0: g36 = 1.
    /// Bounds: |d| <= 1e19, sigma in [1e9, 5e18]: d^2 + sigma^2 < 2^134; w < 1.5e20 wad; |w'| <= 4e18 + 1;
    /// w'' <= b / sigma < 1e28; |k w'| < 2^66; (2w - k w')^2 < 2^138; w'' w^2 < 2^170: no product nears 2^255.
    function _point(ISviMath.SviSlice memory s, int256 k, bool withG)
        private
        pure
        returns (int256 wLo36, int256 wHi36, int256 g36, int256 wHi)
    {
        int256 d;
        int256 rLo;
        int256 rHi;
        assembly ("memory-safe") {
            let a := mload(s)
            let b := mload(add(s, 0x20))
            wLo36 := a
            wHi36 := a
            g36 := 1
            wHi := 1
            if b {
                d := sub(k, mload(add(s, 0x60)))
                let sig := mload(add(s, 0x80))
                {
                    // `hypotFloor` inline
                    let h := d
                    if slt(d, 0) { h := sub(0, d) }
                    let l := sig
                    if lt(h, l) {
                        l := h
                        h := sig
                    }
                    let q := add(mul(d, d), mul(sig, sig))
                    rLo := add(h, div(mul(l, l), shl(1, h)))
                    rLo := shr(1, add(rLo, div(q, rLo)))
                    rLo := shr(1, add(rLo, div(q, rLo)))
                    rLo := shr(1, add(rLo, div(q, rLo)))
                    rLo := shr(1, add(rLo, div(q, rLo)))
                    rLo := sub(rLo, lt(div(q, rLo), rLo))
                    rHi := add(rLo, iszero(eq(mul(rLo, rLo), q)))
                }
                let rd := mul(mload(add(s, 0x40)), d)
                wLo36 := add(a, div(mul(b, add(rd, mul(rLo, WAD))), WAD))
                wHi36 := add(a, div(add(mul(b, add(rd, mul(rHi, WAD))), 999999999999999999), WAD))
            }
        }
        if (withG && s.bWad != 0 && wLo36 > 0) {
            (int256 dLo, int256 dHi, int256 eLo) = _slopes(s, d, rLo, rHi);
            (g36, wHi) = _gLower(k, wLo36, wHi36, dLo, dHi, eLo);
        }
    }

    /// @dev w' = b (rho + d / r) enclosed in [dLo, dHi] and the lower bound eLo of w'' (see `_point`).
    function _slopes(ISviMath.SviSlice memory s, int256 d, int256 rLo, int256 rHi)
        private
        pure
        returns (int256 dLo, int256 dHi, int256 eLo)
    {
        assembly ("memory-safe") {
            let b := mload(add(s, 0x20))
            let rho := mload(add(s, 0x40))
            let sig := mload(add(s, 0x80))
            // d / r in wad: the larger |d / r| at the smaller r
            let rNear := rLo
            let rFar := rHi
            if iszero(slt(d, 0)) {
                rNear := rHi
                rFar := rLo
            }
            // floor and ceiling of signed quotients: sdiv truncates, the remainder's sign corrects it
            let dw := mul(d, WAD)
            let x := mul(b, add(rho, sub(sdiv(dw, rNear), slt(smod(dw, rNear), 0))))
            dLo := sub(sdiv(x, WAD), slt(smod(x, WAD), 0))
            x := mul(b, add(rho, add(sdiv(dw, rFar), sgt(smod(dw, rFar), 0))))
            dHi := add(sdiv(x, WAD), sgt(smod(x, WAD), 0))
            eLo := div(mul(b, div(mul(mul(sig, sig), WAD), mul(rHi, rHi))), rHi)
        }
    }

    /// @dev The lower bound g36 of G (see `_point`) from w in [wLo36, wHi36] (1e36 units, wLo36 > 0), w' in
    /// [dLo, dHi] and w'' >= eLo; and wHi, w rounded up to wad.
    function _gLower(int256 k, int256 wLo36, int256 wHi36, int256 dLo, int256 dHi, int256 eLo)
        private
        pure
        returns (int256 g36, int256 wHi)
    {
        assembly ("memory-safe") {
            // w in wad: wLo36 > 0, so `div` is the floor; the ceiling of wHi36 >= wLo36 > 0 likewise
            let wLo := div(wLo36, WAD)
            wHi := div(add(wHi36, 999999999999999999), WAD)
            // (2w - k w')^2 >= the square of the end of [xLo, xHi] nearer 0, or 0 when it holds 0 (xLo <= xHi),
            // with k w' enclosed (the ends swap for k < 0)
            let xSq := 0
            {
                // k w' enclosed (the ends swap for k < 0): floor of the lower, ceiling of the upper product
                let pLo := mul(k, dLo)
                let pHi := mul(k, dHi)
                if slt(k, 0) {
                    pLo := mul(k, dHi)
                    pHi := mul(k, dLo)
                }
                let kdLo := sub(sdiv(pLo, WAD), slt(smod(pLo, WAD), 0))
                let kdHi := add(sdiv(pHi, WAD), sgt(smod(pHi, WAD), 0))
                let xLo := sub(shl(1, wLo), kdHi)
                let xHi := sub(shl(1, wHi), kdLo)
                if sgt(xLo, 0) { xSq := mul(xLo, xLo) }
                if slt(xHi, 0) { xSq := mul(xHi, xHi) }
            }
            // |w'| <= max(|dLo|, |dHi|); |w'| w rounded up and w'' w rounded down, wad
            let dMax := dLo
            if slt(dLo, 0) { dMax := sub(0, dLo) }
            if sgt(dHi, dMax) { dMax := dHi }
            if sgt(sub(0, dHi), dMax) { dMax := sub(0, dHi) }
            let dw := div(add(mul(dMax, wHi), 999999999999999999), WAD)
            let ew := div(mul(eLo, wLo), WAD)
            g36 := sub(sub(add(shl(2, xSq), shl(3, mul(ew, wLo))), shl(2, mul(dMax, dw))), mul(dw, dw))
        }
    }

    /// @dev ceil(x / y) for y > 0.
    function _ceilDiv(int256 x, int256 y) private pure returns (int256 q) {
        q = x / y;
        if (x % y > 0) ++q;
    }
}
