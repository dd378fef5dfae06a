// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBlackScholes} from "../../interfaces/IBlackScholes.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {NormalDist} from "./NormalDist.sol";

/// @title BlackScholes
/// @notice European call and put prices, Greeks and implied volatility (no dividends), in fixed point.
/// Units, domain, expiry conventions and errors are documented on `IBlackScholes`.
/// @dev Accuracy against a 50-digit reference (bench/bench_greeks.py records the measured figures):
/// prices within 2 wei + 1e-17 x max(spot, strike x e^{-rT}); deltas within 1e-18 + 1e-21.
/// Mirrored operation for operation by `hedgevault/greeks/mirror.py` (identical integers).
/// Internals use Q96 binary fixed point: d1, d2, sigma sqrt(T), N(d) and the discount factor.
library BlackScholes {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant Q96 = 1 << 96;
    uint256 internal constant YEAR_SEC = 365 days;
    uint256 internal constant MIN_PRICE_WAD = 1e12;
    uint256 internal constant MAX_PRICE_WAD = 1e30;
    uint256 internal constant MAX_MONEYNESS = 100;
    uint256 internal constant MIN_VOL_WAD = 1e15;
    uint256 internal constant MAX_VOL_WAD = 1e19;
    uint256 internal constant MAX_TIME_SEC = 10 * YEAR_SEC;
    int256 internal constant MAX_ABS_RATE_WAD = 1e18;

    uint256 internal constant IV_MAX_ITERATIONS = 40;
    /// @dev A Newton step below 1e-15 of volatility counts as converged.
    int256 internal constant IV_STEP_TOL_WAD = 1000;
    /// @dev The price error bound used to accept an implied volatility: 4 wei + max(S, K e^{-rT}) / 1e17.
    uint256 internal constant IV_PRICE_ERR_WEI = 4;
    uint256 internal constant IV_PRICE_ERR_REL_DIV = 1e17;
    /// @dev Accept only if (|residual| + error bound) / vega <= 1e-12 / IV_MARGIN.
    uint256 internal constant IV_MARGIN = 2;
    /// @dev floor(2^24 / pi) and floor(sqrt(2 pi) * 2^96), for the solver's first point.
    uint256 internal constant INV_PI_Q24 = 5340353;
    uint256 internal constant SQRT_2PI_Q96 = 198595552305314927273837084508;
    /// @dev q / vega (Q96) beyond 2^54: the slope is unusable and the solver moves by a factor 4.
    uint256 internal constant IV_MAX_RATIO = 1 << 150;

    /// @notice Reverts with the error of the first input outside the domain.
    function checkInputs(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
        pure
    {
        bool bad;
        assembly ("memory-safe") {
            // One branch-free test of the whole domain: x - lo > hi - lo (wrapping) iff x is outside
            // [lo, hi]. The moneyness products may wrap only when a price is already out of range,
            // which sets `bad` on its own; the exact error is then found by `_revertInputs`.
            bad := or(
                or(
                    gt(sub(spotWad, MIN_PRICE_WAD), sub(MAX_PRICE_WAD, MIN_PRICE_WAD)),
                    gt(sub(strikeWad, MIN_PRICE_WAD), sub(MAX_PRICE_WAD, MIN_PRICE_WAD))
                ),
                or(
                    or(lt(mul(strikeWad, MAX_MONEYNESS), spotWad), lt(mul(spotWad, MAX_MONEYNESS), strikeWad)),
                    or(
                        or(gt(sub(volWad, MIN_VOL_WAD), sub(MAX_VOL_WAD, MIN_VOL_WAD)), gt(timeSec, 315360000 /* MAX_TIME_SEC */)),
                        gt(add(rateWad, MAX_ABS_RATE_WAD), mul(2, MAX_ABS_RATE_WAD))
                    )
                )
            )
        }
        if (bad) _revertInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
    }

    /// @dev The slow path of `checkInputs`: reverts with the error of the first offending input.
    function _revertInputs(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        private
        pure
    {
        if (spotWad < MIN_PRICE_WAD || spotWad > MAX_PRICE_WAD) revert IBlackScholes.SpotOutOfRange(spotWad);
        if (strikeWad < MIN_PRICE_WAD || strikeWad > MAX_PRICE_WAD) {
            revert IBlackScholes.StrikeOutOfRange(strikeWad);
        }
        // both <= 1e30, so the products cannot overflow
        if (strikeWad * MAX_MONEYNESS < spotWad || spotWad * MAX_MONEYNESS < strikeWad) {
            revert IBlackScholes.MoneynessOutOfRange(spotWad, strikeWad);
        }
        if (volWad < MIN_VOL_WAD || volWad > MAX_VOL_WAD) revert IBlackScholes.VolatilityOutOfRange(volWad);
        if (timeSec > MAX_TIME_SEC) revert IBlackScholes.TimeOutOfRange(timeSec);
        if (rateWad < -MAX_ABS_RATE_WAD || rateWad > MAX_ABS_RATE_WAD) revert IBlackScholes.RateOutOfRange(rateWad);
    }

    /// @notice Call and put price in wad. Put = call - S + K e^{-rT} exactly (parity holds to the wei);
    /// call is kept within [max(0, S - K e^{-rT}), S].
    function price(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
        pure
        returns (uint256 callWad, uint256 putWad)
    {
        checkInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
        if (timeSec == 0) {
            (callWad, putWad,) = _intrinsic(spotWad, strikeWad);
            return (callWad, putWad);
        }
        uint256 vst = (volWad * _sqrtTauQ96(timeSec)) / WAD;
        (int256 x, int256 rTau) = _driftQ96(spotWad, strikeWad, timeSec, rateWad);
        int256 d1 = _d1Q96(x, vst);
        uint256 kdx = _kdx(strikeWad, rTau);
        unchecked {
            // vst < 2^102, d1 < 2^123: no overflow
            return _prices(spotWad, kdx, NormalDist.cdfQ96(d1), NormalDist.cdfQ96(d1 - int256(vst)));
        }
    }

    /// @notice Call delta in [0, 1] and put delta = call delta - 1, in wad.
    function delta(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
        pure
        returns (uint256 callDeltaWad, int256 putDeltaWad)
    {
        checkInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
        if (timeSec == 0) {
            (,, callDeltaWad) = _intrinsic(spotWad, strikeWad);
        } else {
            uint256 vst = (volWad * _sqrtTauQ96(timeSec)) / WAD;
            (int256 x,) = _driftQ96(spotWad, strikeWad, timeSec, rateWad);
            callDeltaWad = (NormalDist.cdfQ96(_d1Q96(x, vst)) * WAD) >> 96;
        }
        unchecked {
            putDeltaWad = int256(callDeltaWad) - int256(WAD);
        }
    }

    /// @notice The whole set in one call; see `IBlackScholes.Greeks` for units.
    function greeks(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
        pure
        returns (IBlackScholes.Greeks memory g)
    {
        checkInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
        if (timeSec == 0) {
            (g.callWad, g.putWad, g.callDeltaWad) = _intrinsic(spotWad, strikeWad);
            unchecked {
                g.putDeltaWad = int256(g.callDeltaWad) - int256(WAD);
            }
            return g;
        }
        uint256 sqrtTau = _sqrtTauQ96(timeSec);
        uint256 vst = (volWad * sqrtTau) / WAD;
        uint256 kdx;
        uint256 n2;
        uint256 phi;
        unchecked {
            int256 d1;
            {
                (int256 x, int256 rTau) = _driftQ96(spotWad, strikeWad, timeSec, rateWad);
                d1 = _d1Q96(x, vst);
                kdx = _kdx(strikeWad, rTau);
            }
            uint256 n1 = NormalDist.cdfQ96(d1);
            n2 = NormalDist.cdfQ96(d1 - int256(vst));
            (g.callWad, g.putWad) = _prices(spotWad, kdx, n1, n2);
            g.callDeltaWad = (n1 * WAD) >> 96;
            g.putDeltaWad = int256(g.callDeltaWad) - int256(WAD);
            phi = NormalDist.pdfQ96(d1);
        }
        // phi < 2^95 and spot * vst < 2^202: checked arithmetic is free of overflow here too
        g.gammaWad = (phi * 1e36) / (spotWad * vst);
        unchecked {
            uint256 sPhi = (spotWad * phi) >> 64; // S phi in wad * 2^32, < 2^131
            g.vegaWad = (sPhi * sqrtTau) >> 128;
            // S phi sigma / (2 sqrt tau): (sPhi * vol / WAD) < 2^135, << 63 < 2^198
            int256 decay = int256(((sPhi * volWad / WAD) << 63) / sqrtTau);
            uint256 kdN2 = (kdx * n2) >> 128; // K e^{-rT} N(d2) in wad, < 2^115
            uint256 kdNm2 = (kdx * (Q96 - n2)) >> 128; // K e^{-rT} N(-d2)
            g.callThetaWad = -decay - (rateWad * int256(kdN2)) / int256(WAD);
            g.putThetaWad = -decay + (rateWad * int256(kdNm2)) / int256(WAD);
            g.callRhoWad = (kdN2 * timeSec) / YEAR_SEC;
            g.putRhoWad = -int256((kdNm2 * timeSec) / YEAR_SEC);
        }
    }

    /// @notice Implied volatility in wad; see `IBlackScholes.impliedVol`.
    /// @dev Solved for v = sigma sqrt(T) from Corrado and Miller's closed-form estimate (`_ivStart`).
    /// Every point is first tested by the acceptance rule, on the price itself: the residual is within
    /// the price error bound, or the Newton step on the price is below 1e-15 in volatility; that Newton
    /// point is then returned only if (|residual| + price error bound) x 2e12 <= vega, which bounds the
    /// volatility error by 1e-12; otherwise it reverts. A point not accepted narrows a bracket that
    /// starts as the domain, and the next point is Halley's step on g(v) = ln(q(v) / q*), q the
    /// out-of-the-money price (`_ivHalley`): on that log scale the convergence rate does not depend on
    /// the moneyness. Steps are kept within a factor 4 of v; a point outside the bracket is replaced by
    /// the midpoint (or the domain's edge, probed once). Typically 3 to 4 evaluations.
    function impliedVol(
        uint256 priceWad,
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        int256 rateWad,
        bool isCall
    ) internal pure returns (uint256) {
        checkInputs(spotWad, strikeWad, timeSec, MIN_VOL_WAD, rateWad);
        if (timeSec == 0) revert IBlackScholes.TimeOutOfRange(timeSec);
        _IvState memory s;
        s.priceWad = priceWad;
        s.spotWad = spotWad;
        s.sqrtTau = _sqrtTauQ96(timeSec);
        int256 rTau;
        (s.x, rTau) = _driftQ96(spotWad, strikeWad, timeSec, rateWad);
        s.kdx = _kdx(strikeWad, rTau);
        uint256 kd = s.kdx >> 32;
        uint256 target;
        {
            uint256 lower;
            uint256 upper;
            if (isCall) {
                lower = spotWad > kd ? spotWad - kd : 0;
                upper = spotWad;
                target = priceWad;
            } else {
                lower = kd > spotWad ? kd - spotWad : 0;
                upper = kd;
            }
            if (priceWad <= lower || priceWad >= upper) {
                revert IBlackScholes.PriceOutOfBounds(priceWad, lower, upper);
            }
            // the call price of the same volatility, by parity; price > kd - S, so it is positive
            if (!isCall) target = priceWad + spotWad - kd;
        }
        // target < S < 2^100, so target << 128 < 2^228
        s.targetX = int256(target << 128);
        unchecked {
            // the out-of-the-money price (the put when x > 0), > 0 since price > lower bound;
            // S << 128 < 2^228 and kdx << 96 < 2^243
            s.qTargetX = s.x > 0 ? s.targetX - (int256(spotWad << 128) - int256(s.kdx << 96)) : s.targetX;
        }
        s.errWei = IV_PRICE_ERR_WEI + (spotWad > kd ? spotWad : kd) / IV_PRICE_ERR_REL_DIV;
        return _solveIv(s);
    }

    // ------------------------------------------------------------------------------------ internals

    struct _IvState {
        uint256 priceWad;
        uint256 spotWad;
        uint256 sqrtTau;
        int256 x;
        uint256 kdx;
        int256 targetX;
        int256 qTargetX;
        uint256 errWei;
        uint256 vMin;
        uint256 vMax;
        int256 stepTolQ96;
    }

    function _solveIv(_IvState memory s) private pure returns (uint256) {
        s.vMin = (MIN_VOL_WAD * s.sqrtTau) / WAD;
        s.vMax = (MAX_VOL_WAD * s.sqrtTau) / WAD;
        // a Newton step of at most 1e-15 in volatility, in v = sigma sqrt(T) units
        s.stepTolQ96 = int256((uint256(IV_STEP_TOL_WAD) * s.sqrtTau) / WAD);
        uint256 v = _ivStart(s.spotWad, s.kdx, s.qTargetX, s.vMin, s.vMax);
        uint256 lo = s.vMin;
        uint256 hi = s.vMax;
        for (uint256 it; it < IV_MAX_ITERATIONS; ++it) {
            int256 resid;
            uint256 sPhi;
            int256 d1;
            {
                uint256 vNewton;
                unchecked {
                    // v <= vMax < 2^102 and d1 < 2^123; every product below is bounded as in `price`.
                    d1 = _d1Q96(s.x, v);
                    resid = (int256((s.spotWad * NormalDist.cdfQ96(d1)) << 32)
                            - int256(s.kdx * NormalDist.cdfQ96(d1 - int256(v)))) - s.targetX;
                    sPhi = (s.spotWad * NormalDist.pdfQ96(d1)) >> 64;
                    // |resid >> 96| < 2^133, so the shift back cannot overflow
                    vNewton = sPhi == 0 ? v : uint256(int256(v) - ((resid >> 96) << 96) / int256(sPhi));
                }
                uint256 absResidWei = uint256(resid >= 0 ? resid : -resid) >> 128;
                int256 step;
                unchecked {
                    // the Newton step itself (|step| < 2^229), recovered through the two's complement
                    step = int256(v) - int256(vNewton);
                }
                if (absResidWei <= s.errWei || (step >= -s.stepTolQ96 && step <= s.stepTolQ96)) {
                    uint256 vega = (sPhi * s.sqrtTau) >> 128;
                    if ((absResidWei + s.errWei) * 1e12 * IV_MARGIN > vega) {
                        revert IBlackScholes.ImpliedVolIllConditioned(s.priceWad, vega);
                    }
                    if (vNewton < s.vMin || vNewton > s.vMax) vNewton = v;
                    uint256 vol = (vNewton * WAD) / s.sqrtTau;
                    // the edges' own rounding can put vol one unit outside the domain it was searched in
                    return vol < MIN_VOL_WAD ? MIN_VOL_WAD : (vol > MAX_VOL_WAD ? MAX_VOL_WAD : vol);
                }
            }
            if (resid > 0) {
                if (v == s.vMin) revert IBlackScholes.VolatilityNotInDomain(s.priceWad, MIN_VOL_WAD);
                hi = v;
            } else {
                if (v == s.vMax) revert IBlackScholes.VolatilityNotInDomain(s.priceWad, MAX_VOL_WAD);
                lo = v;
            }
            uint256 vNext = _ivHalley(s, v, d1, resid, sPhi);
            if (vNext <= lo) {
                // outside the bracket: probe the domain's edge once, else bisect
                v = lo == s.vMin ? s.vMin : (lo + hi) >> 1;
            } else if (vNext >= hi) {
                v = hi == s.vMax ? s.vMax : (lo + hi) >> 1;
            } else {
                v = vNext;
            }
        }
        revert IBlackScholes.ImpliedVolNotConverged(s.priceWad, (v * WAD) / s.sqrtTau);
    }

    /// @dev The solver's first point, Q96: Corrado and Miller's closed form on the out-of-the-money
    /// side. With A = min(S, K e^{-rT}), B = max(S, K e^{-rT}), q the out-of-the-money price and
    /// h = q + (B - A) / 2: v0 = sqrt(2 pi) (h + sqrt(max(0, h^2 - (B - A)^2 / pi))) / (A + B), clamped
    /// to [vMin, vMax]. Only a starting point: its error affects the number of iterations, never the
    /// answer (the acceptance rule decides that).
    function _ivStart(uint256 spotWad, uint256 kdx, int256 qTargetX, uint256 vMin, uint256 vMax)
        private
        pure
        returns (uint256 v)
    {
        unchecked {
            uint256 kd = kdx >> 32;
            uint256 low = spotWad < kd ? spotWad : kd;
            uint256 diff = spotWad < kd ? kd - spotWad : spotWad - kd; // < 2^115
            // qTargetX > 0 and < 2^243; h < 2^116, so h^2 < 2^232 and (diff * INV_PI_Q24 >> 24) * diff < 2^229
            uint256 h = (uint256(qTargetX) >> 128) + (diff >> 1);
            uint256 sq = h * h;
            uint256 c = ((diff * INV_PI_Q24) >> 24) * diff;
            uint256 root = sq > c ? FixedPointMath.sqrt(sq - c) : 0;
            // (h + root) < 2^117 and SQRT_2PI_Q96 < 2^98; low + low + diff = A + B > 0
            v = ((h + root) * SQRT_2PI_Q96) / (low + low + diff);
        }
        if (v < vMin) v = vMin;
        else if (v > vMax) v = vMax;
    }

    /// @dev Halley's step on g(v) = ln(q(v) / q*) from v, kept within [v / 4, 4 v]: g' = vega / q,
    /// g'' / g' = d1 d2 / v - g'. q = resid + q* and q* in wad * 2^128 (q <= 0 when the price
    /// underflows); without a usable slope the point moves by the factor 4 towards the target.
    function _ivHalley(_IvState memory s, uint256 v, int256 d1, int256 resid, uint256 sPhi)
        private
        pure
        returns (uint256 vNext)
    {
        unchecked {
            // v < 2^102, so 4 v < 2^104; |resid|, |qTargetX| < 2^243: the sum fits
            vNext = resid > 0 ? v >> 2 : v << 2;
            int256 q = resid + s.qTargetX;
            int256 qTarget = s.qTargetX;
            if (q > 0 && sPhi > 0) {
                uint256 r = uint256(q) / sPhi; // q / vega in Q96
                if (r < IV_MAX_RATIO) {
                    // |ln| < 2^104 and r < 2^150: the product fits
                    int256 n = (_lnRatioRough(uint256(q), uint256(qTarget)) * int256(r)) >> 96;
                    int256 iv = int256(v);
                    int256 next = iv - n; // |n| < 2^158
                    if (n >= -iv && n <= iv) {
                        // |d1 d2| < 2^246 and |n| <= v < 2^102: n * (d1 d2 >> 96) < 2^252;
                        // n << 96 < 2^198
                        int256 d2 = d1 - iv;
                        int256 corr = (n * ((d1 * d2) >> 96)) / iv - (n << 96) / int256(r);
                        int256 den = int256(Q96) - (corr >> 1);
                        if (den >= int256(Q96 >> 1) && den <= int256(Q96 << 1)) next = iv - (n << 96) / den;
                    }
                    uint256 lo4 = v >> 2;
                    uint256 hi4 = v << 2;
                    return next < int256(lo4) ? lo4 : (next > int256(hi4) ? hi4 : uint256(next));
                }
            }
        }
    }

    /// @dev ln(num / den) in Q96 for any 0 < num, den (used only to steer the solver).
    /// Note: This function is an approximation. Both are aligned to bit 126, the ratio of the aligned
    /// values reduced to m in [1/sqrt2, sqrt2) with a power of two k, and ln m = 2 atanh(z) summed up
    /// to z^9 (|z| <= 0.1716): |error| <= 3e-8 |ln m| + 2^-94, vanishing as m -> 1, where the solver
    /// needs it exact. Monotonically non-decreasing in num up to that error.
    function _lnRatioRough(uint256 num, uint256 den) private pure returns (int256 r) {
        unchecked {
            uint256 ka = FixedPointMath.msb(num);
            uint256 kb = FixedPointMath.msb(den);
            uint256 a = ka <= 126 ? num << (126 - ka) : num >> (ka - 126);
            uint256 b = kb <= 126 ? den << (126 - kb) : den >> (kb - 126);
            int256 k = int256(ka) - int256(kb);
            // a, b < 2^127 and SQRT2_Q96 < 2^97: the products fit; after the doubling a, b < 2^128
            if (a > (b * FixedPointMath.SQRT2_Q96) >> 96) {
                b <<= 1;
                ++k;
            } else if (b > (a * FixedPointMath.SQRT2_Q96) >> 96) {
                a <<= 1;
                --k;
            }
            int256 z = ((int256(a) - int256(b)) << 96) / int256(a + b);
            assembly ("memory-safe") {
                // Horner over floor(2^96 / (2n + 1)), n = 4..0, in w = z^2
                let w := sar(96, mul(z, z))
                let p := add(
                    79228162514264337593543950336,
                    sar(96, mul(w, add(
                        26409387504754779197847983445,
                        sar(96, mul(w, add(
                            15845632502852867518708790067,
                            sar(96, mul(w, add(11318308930609191084791992905, sar(96, mul(w, 8803129168251593065949327815)))))
                        )))
                    )))
                )
                r := shl(1, sar(96, mul(z, p)))
            }
            // |k| < 256: k * LN2_Q96 < 2^104
            r += k * FixedPointMath.LN2_Q96;
        }
    }

    /// @dev sqrt(T / year) in Q96; T < 2^29 so T << 192 < 2^221.
    function _sqrtTauQ96(uint256 timeSec) private pure returns (uint256) {
        return FixedPointMath.sqrt((timeSec << 192) / YEAR_SEC);
    }

    /// @dev (ln(S / K) + r T, r T) in Q96. |r T| <= 1e18 * 2^28.3 < 2^89, so (r T) << 96 < 2^185.
    function _driftQ96(uint256 spotWad, uint256 strikeWad, uint256 timeSec, int256 rateWad)
        private
        pure
        returns (int256 x, int256 rTau)
    {
        unchecked {
            rTau = ((rateWad * int256(timeSec)) << 96) / int256(WAD * YEAR_SEC);
            x = FixedPointMath.lnRatioQ96(spotWad, strikeWad) + rTau;
        }
    }

    /// @dev d1 = x / (sigma sqrt T) + sigma sqrt T / 2 in Q96; |x| < 2^100 so x << 96 < 2^196.
    function _d1Q96(int256 x, uint256 vst) private pure returns (int256) {
        unchecked {
            return (x << 96) / int256(vst) + int256(vst >> 1);
        }
    }

    /// @dev K e^{-rT} in wad * 2^32: K < 2^100 and e^{-rT} <= e^10 < 2^111 (Q96), product < 2^211.
    function _kdx(uint256 strikeWad, int256 rTau) private pure returns (uint256) {
        unchecked {
            return (strikeWad * FixedPointMath.expQ96(-rTau)) >> 64;
        }
    }

    /// @dev Prices from N(d1), N(d2) (Q96) and K e^{-rT} (wad * 2^32).
    function _prices(uint256 spotWad, uint256 kdx, uint256 n1, uint256 n2)
        private
        pure
        returns (uint256 callWad, uint256 putWad)
    {
        unchecked {
            // S * N1 < 2^196 (<< 32 < 2^228); kdx * N2 < 2^147 * 2^96: both fit int256.
            int256 call = (int256((spotWad * n1) << 32) - int256(kdx * n2)) >> 128;
            uint256 kd = kdx >> 32;
            int256 lower = int256(spotWad) - int256(kd);
            if (call < lower) call = lower;
            if (call < 0) call = 0;
            callWad = uint256(call);
            // call >= S - kd, so the put is never negative
            putWad = uint256(call - int256(spotWad) + int256(kd));
        }
    }

    function _intrinsic(uint256 spotWad, uint256 strikeWad)
        private
        pure
        returns (uint256 callWad, uint256 putWad, uint256 callDeltaWad)
    {
        unchecked {
            callWad = spotWad > strikeWad ? spotWad - strikeWad : 0;
            putWad = strikeWad > spotWad ? strikeWad - spotWad : 0;
        }
        callDeltaWad = spotWad > strikeWad ? WAD : (spotWad == strikeWad ? WAD / 2 : 0);
    }
}
