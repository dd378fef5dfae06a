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

    /// @notice `logMoneynessWad` without its range check, for a caller that has put both prices in [1e12, 1e30]
    /// and their ratio in [0.01, 100] itself (the vault clamps the spot so); outside that, a wrong number.
    function logMoneynessInRangeWad(uint256 strikeWad, uint256 forwardWad) internal pure returns (int256 kWad) {
        int256 xQ96 = FixedPointMath.lnRatioQ96(strikeWad, forwardWad);
        assembly ("memory-safe") {
            // as in `logMoneynessWad`
            kWad := sar(96, mul(xQ96, WAD))
        }
    }

    /// @notice Total variance w(k) in 1e36 units, rounded down (by less than 3e-36; see `ISviMath`).
    /// @dev For a slice that passed `checkParams` and |k| <= 5 (assembly; the bounds beside each line).
    function varianceDown(ISviMath.SviSlice memory s, int256 kWad) internal pure returns (int256 w36) {
        assembly ("memory-safe") {
            w36 := mload(s)
            let b := mload(add(s, 0x20))
            if b {
                // r = floor(sqrt(d^2 + sigma^2)), d = k - m, without a bit search: z0 = h + l^2 / (2 h), h =
                // max(|d|, sigma), l = min, is at or above the root and within 6.1% of it (the worst case l = h:
                // 1.5 / sqrt 2); each Babylonian step takes the relative error e to at most e^2 / 2: 6.1% -> 1.9e-3
                // -> 1.8e-6 -> 1.6e-12 -> 1.3e-24 after four, less than one unit for a root below 2^65 (so z is
                // floor or floor + 1; an integer step never goes below the floor), and the last line corrects it.
                // |d| <= 2^64 and 0 < sigma <= 2^64: q < 2^129, l^2 / (2 h) <= h / 2. Monotonically non-decreasing
                // in |d| and sigma (exact).
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
                // r >= |d| and |rho| < 1: rho d + r 1e18 >= 0, < 2^75; times b <= 1e19: < 2^109; `div` on the
                // non-negative value is the floor
                w36 := add(w36, div(mul(b, add(mul(mload(add(s, 0x40)), d), mul(r, WAD))), WAD))
            }
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
        uint256 root = FixedPointMath.sqrt(uint256(E36 - s.rhoWad * s.rhoWad));
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
        (uint256 failure, int256 k, int256 x, int256 y) =
            _scan(s, grid, hasNearer ? nearer : _none(), hasFarther ? farther : _none());
        if (failure == 0) return;
        if (failure == 1) revert ISviMath.SviVarianceNotPositive(k, x);
        // |g36| < 2^171 and wHi >= 1: the figure's product and divisor fit
        if (failure == 2) revert ISviMath.SviButterflyArbitrage(k, (x * WAD) / (16 * y * y));
        revert ISviMath.SviCalendarArbitrage(k, x, y);
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

    /// @dev The volatility at k: `volWad` after its input checks.
    function _volAt(ISviMath.SviSlice memory s, int256 kWad, uint256 timeSec) private pure returns (uint256) {
        int256 w36 = varianceDown(s, kWad);
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
        return FixedPointMath.sqrt(v);
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

    /// @dev Everything the arbitrage checks need at k, in one assembly block (inputs: slices that passed
    /// `checkParams`, |k| <= 5), and the first check that fails: 0 none; 1 w <= 0 (x = wLo36); 2 butterfly
    /// (x = g36, y = wHi); 3 calendar against the nearer slice (x = its wHi36, y = wLo36); 4 against the farther
    /// (x = wHi36, y = its wLo36). The quantities:
    /// - r = sqrt((k - m)^2 + sigma^2) enclosed by rLo = floor(r) and rHi = rLo, or rLo + 1 when r is not an
    ///   integer (the root of `varianceDown`);
    /// - [wLo36, wHi36]: w rounded down and up, 1e36 units (rho d + r 1e18 >= 0 at both ends since r >= |d| and
    ///   |rho| < 1, b >= 0: the floor and the ceiling of non-negative quotients; b (.) < 1e19 * 2.2e37 < 2^188);
    /// - if b != 0 and wLo36 > 0: g36, a lower bound of G = 16 w^2 g = 4 (2w - k w')^2 - 4 w'^2 w - w'^2 w^2
    ///   + 8 w'' w^2 in 1e36 units, from w in [wLo, wHi] (wad, outward), w' = b (rho + d / r) in [dLo, dHi]
    ///   (d / r rounded outward, the larger |d / r| at the smaller r) and w'' = b sigma^2 / r^3 >= eLo =
    ///   floor(b floor(sigma^2 1e18 / rHi^2) / rHi), each term bounded on its side; and wHi (w rounded up, wad).
    ///   For b = 0, w' = w'' = 0 and G = 16 w^2 > 0: no butterfly.
    /// - a neighbour's w: its [wLo36, wHi36] as above (the nearer's upper end, the farther's lower end).
    /// Bounds: |d| <= 1e19, sigma in [1e9, 5e18]: d^2 + sigma^2 < 2^134; w < 1.5e20 wad; |w'| <= 4e18 + 1;
    /// w'' <= b / sigma < 1e28; |k w'| < 2^66; (2w - k w')^2 < 2^138; w'' w^2 < 2^170: no product nears 2^255.
    function _scan(
        ISviMath.SviSlice memory s,
        ISviMath.SviGrid memory grid,
        ISviMath.SviSlice memory nearer,
        ISviMath.SviSlice memory farther
    ) private pure returns (uint256 failure, int256 k, int256 x, int256 y) {
        assembly ("memory-safe") {
            // the root of `varianceDown` (its bounds and error there), with rHi
            function hypot(d, sig) -> rLo, rHi {
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
            // [wLo36, wHi36] of slice `p` at k
            function wAt(p, kk) -> wLo36, wHi36 {
                wLo36 := mload(p)
                wHi36 := wLo36
                let b := mload(add(p, 0x20))
                if b {
                    let d := sub(kk, mload(add(p, 0x60)))
                    let rLo, rHi := hypot(d, mload(add(p, 0x80)))
                    let rd := mul(mload(add(p, 0x40)), d)
                    wLo36 := add(wLo36, div(mul(b, add(rd, mul(rLo, WAD))), WAD))
                    wHi36 := add(wHi36, div(add(mul(b, add(rd, mul(rHi, WAD))), 999999999999999999), WAD))
                }
            }
            // w of slice `p` at k without the root: `up` 1, r = |d| + sigma and rounded up; 0, r = max(|d|, sigma)
            // rounded down (rho d + r 1e18 >= 0 as r >= |d|; r <= 1.5e19: the products as in `wAt`)
            function wCheap(p, kk, up) -> w36 {
                w36 := mload(p)
                let b := mload(add(p, 0x20))
                if b {
                    let d := sub(kk, mload(add(p, 0x60)))
                    let sig := mload(add(p, 0x80))
                    let h := d
                    if slt(d, 0) { h := sub(0, d) }
                    let r := sig
                    switch up
                    case 0 { if gt(h, sig) { r := h } }
                    default { r := add(h, sig) }
                    w36 := add(w36, div(add(mul(b, add(mul(mload(add(p, 0x40)), d), mul(r, WAD))), mul(up, 999999999999999999)), WAD))
                }
            }
            // the lower bound g36 of G from w in [wLo36, wHi36] (wLo36 > 0), w' in [dLo, dHi] and w'' >= eLo;
            // and wHi, w rounded up to wad
            function gLower(kk, wLo36, wHi36, dLo, dHi, eLo) -> g36, wHi {
                // w in wad: wLo36 > 0, so `div` is the floor; the ceiling of wHi36 >= wLo36 > 0 likewise
                let wLo := div(wLo36, WAD)
                wHi := div(add(wHi36, 999999999999999999), WAD)
                // (2w - k w')^2 >= the square of the end of [xLo, xHi] nearer 0, or 0 when it holds 0, with
                // k w' enclosed (the ends swap for k < 0): floor of the lower, ceiling of the upper product
                let xSq := 0
                {
                    let pLo := mul(kk, dLo)
                    let pHi := mul(kk, dHi)
                    if slt(kk, 0) {
                        pLo := mul(kk, dHi)
                        pHi := mul(kk, dLo)
                    }
                    let xLo := sub(shl(1, wLo), add(sdiv(pHi, WAD), sgt(smod(pHi, WAD), 0)))
                    let xHi := sub(shl(1, wHi), sub(sdiv(pLo, WAD), slt(smod(pLo, WAD), 0)))
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
            // w' = b (rho + d / r) enclosed in [dLo, dHi] (d / r in wad: the larger |d / r| at the smaller r) and
            // the lower bound eLo of w''; floor and ceiling of signed quotients: sdiv truncates, the remainder's
            // sign corrects it
            function slopes(p, d, rLo, rHi) -> dLo, dHi, eLo {
                let b := mload(add(p, 0x20))
                let rho := mload(add(p, 0x40))
                let rNear := rLo
                let rFar := rHi
                if iszero(slt(d, 0)) {
                    rNear := rHi
                    rFar := rLo
                }
                let dw := mul(d, WAD)
                let y1 := mul(b, add(rho, sub(sdiv(dw, rNear), slt(smod(dw, rNear), 0))))
                dLo := sub(sdiv(y1, WAD), slt(smod(y1, WAD), 0))
                y1 := mul(b, add(rho, add(sdiv(dw, rFar), sgt(smod(dw, rFar), 0))))
                dHi := add(sdiv(y1, WAD), sgt(smod(y1, WAD), 0))
                let sig := mload(add(p, 0x80))
                eLo := div(mul(b, div(mul(mul(sig, sig), WAD), mul(rHi, rHi))), rHi)
            }
            // the slice's own w and, for b != 0 and w > 0, its G (g36 1 and wHi 1 otherwise)
            function own(p, kk) -> wLo36, wHi36, g36, wHi {
                wLo36 := mload(p)
                wHi36 := wLo36
                g36 := 1
                wHi := 1
                if mload(add(p, 0x20)) {
                    // k in the scratch word: the stack holds the rest
                    mstore(0, kk)
                    let d := sub(kk, mload(add(p, 0x60)))
                    let rLo, rHi := hypot(d, mload(add(p, 0x80)))
                    {
                        let b := mload(add(p, 0x20))
                        let rd := mul(mload(add(p, 0x40)), d)
                        wLo36 := add(wLo36, div(mul(b, add(rd, mul(rLo, WAD))), WAD))
                        wHi36 := add(wHi36, div(add(mul(b, add(rd, mul(rHi, WAD))), 999999999999999999), WAD))
                    }
                    if sgt(wLo36, 0) {
                        let dLo, dHi, eLo := slopes(p, d, rLo, rHi)
                        g36, wHi := gLower(mload(0), wLo36, wHi36, dLo, dHi, eLo)
                    }
                }
            }
            function checks(p, kk, pn, pf) -> code, fx, fy {
                let wLo36, wHi36, g36, wHi := own(p, kk)
                if iszero(sgt(wLo36, 0)) {
                    code := 1
                    fx := wLo36
                    leave
                }
                if slt(g36, 0) {
                    code := 2
                    fx := g36
                    fy := wHi
                    leave
                }
                // a neighbour's exact w only where a bound without the root does not settle the check:
                // max(|d|, sigma) <= rLo <= rHi <= |d| + sigma (integers around sqrt(d^2 + sigma^2)) and w is
                // non-decreasing in r (b >= 0), so the nearer's w at |d| + sigma rounded up is at or above its wHi36
                // and the farther's at max(|d|, sigma) rounded down at or below its wLo36: the same outcome
                if pn {
                    if sgt(wCheap(pn, kk, 1), wLo36) {
                        let nLo, nHi := wAt(pn, kk)
                        if sgt(nHi, wLo36) {
                            code := 3
                            fx := nHi
                            fy := wLo36
                            leave
                        }
                    }
                }
                if pf {
                    if sgt(wHi36, wCheap(pf, kk, 0)) {
                        let fLo, fHi := wAt(pf, kk)
                        if sgt(wHi36, fLo) {
                            code := 4
                            fx := wHi36
                            fy := fLo
                        }
                    }
                }
            }
            // the grid's points kLo + floor(span i / (n - 1)), i = 0 .. n - 1 (span in (0, 1e19] and i < 64: span i
            // < 2^70 and non-negative, so `div` is the floor; k within [kLo, kHi]); a neighbour at pointer 0: none
            let last := sub(mload(add(grid, 0x40)), 1)
            for { let i := 0 } iszero(gt(i, last)) { i := add(i, 1) } {
                k := add(mload(grid), div(mul(sub(mload(add(grid, 0x20)), mload(grid)), i), last))
                failure, x, y := checks(s, k, nearer, farther)
                if failure { break }
            }
        }
    }

    /// @dev The missing neighbour of `_scan` (memory pointer 0).
    function _none() private pure returns (ISviMath.SviSlice memory s) {
        assembly ("memory-safe") {
            s := 0
        }
    }

    /// @dev ceil(x / y) for y > 0.
    function _ceilDiv(int256 x, int256 y) private pure returns (int256 q) {
        q = x / y;
        if (x % y > 0) ++q;
    }
}
