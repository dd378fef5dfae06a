// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBlackScholes} from "../../interfaces/IBlackScholes.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {NormalDist} from "./NormalDist.sol";
import {NormalCdfTable} from "./NormalCdfTable.sol";

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
                    gt(sub(spotWad, MIN_PRICE_WAD), 999999999999999999000000000000 /* MAX_PRICE_WAD - MIN_PRICE_WAD */),
                    gt(sub(strikeWad, MIN_PRICE_WAD), 999999999999999999000000000000)
                ),
                or(
                    or(lt(mul(strikeWad, MAX_MONEYNESS), spotWad), lt(mul(spotWad, MAX_MONEYNESS), strikeWad)),
                    or(
                        or(gt(sub(volWad, MIN_VOL_WAD), 9999000000000000000 /* MAX_VOL_WAD - MIN_VOL_WAD */), gt(timeSec, 315360000 /* MAX_TIME_SEC */)),
                        gt(add(rateWad, MAX_ABS_RATE_WAD), 2000000000000000000 /* 2 MAX_ABS_RATE_WAD */)
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
    /// @dev Domain: `checkInputs`. Error: see the contract's header.
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
        (,, uint256 kdx, uint256 vst, int256 d1) = _core(spotWad, strikeWad, timeSec, volWad, rateWad, true);
        uint256 n1 = NormalCdfTable.cdfQ96(d1);
        uint256 n2;
        unchecked {
            // vst < 2^102, |d1| < 2^123
            n2 = NormalCdfTable.cdfQ96(d1 - int256(vst));
        }
        (callWad, putWad) = _prices(spotWad, kdx, n1, n2);
    }

    /// @notice `price` and the call delta of `delta` from one evaluation: the same values to the wei, for
    /// less gas than the two calls (one logarithm, square root, exponential and N(d1)).
    /// @dev Domain: `checkInputs`.
    function priceAndDelta(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
        pure
        returns (uint256 callWad, uint256 putWad, uint256 callDeltaWad)
    {
        checkInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
        if (timeSec == 0) return _intrinsic(spotWad, strikeWad);
        // `price`'s evaluation (kept inline there: the helper call would cost `price` 80 gas)
        (,, uint256 kdx, uint256 vst, int256 d1) = _core(spotWad, strikeWad, timeSec, volWad, rateWad, true);
        uint256 n1 = NormalCdfTable.cdfQ96(d1);
        uint256 n2;
        unchecked {
            n2 = NormalCdfTable.cdfQ96(d1 - int256(vst));
        }
        (callWad, putWad) = _prices(spotWad, kdx, n1, n2);
        assembly ("memory-safe") {
            // n1 <= 2^96: n1 * 1e18 < 2^156 (as in `delta`)
            callDeltaWad := shr(96, mul(n1, WAD))
        }
    }

    /// @notice What every evaluation at one strike, time and rate shares (`terms`): sqrt(T / year) and r T
    /// (Q96) and K e^{-rT} (wad * 2^32), as `_core` computes them.
    struct Terms {
        uint256 strikeWad;
        uint256 timeSec;
        int256 rateWad;
        uint256 sqrtTau;
        int256 rTau;
        uint256 kdx;
    }

    /// @notice The shared part of several evaluations at strike K, time T and rate r (`priceAt`,
    /// `priceAndDeltaAt`): computed once, the same integers `_core` computes for each. Never reverts, for
    /// any input (assembly and unchecked arithmetic; T = 0 computes nothing): the evaluations check their
    /// inputs before they use it.
    function terms(uint256 strikeWad, uint256 timeSec, int256 rateWad) internal pure returns (Terms memory t) {
        (t.strikeWad, t.timeSec, t.rateWad) = (strikeWad, timeSec, rateWad);
        if (timeSec != 0) {
            int256 rTau;
            (t.sqrtTau, rTau) = _tau(timeSec, rateWad);
            t.rTau = rTau;
            unchecked {
                // as in `_core`: K < 2^100 and e^{-rT} <= e^10 < 2^111 (Q96), the product < 2^211 (inside the
                // domain; outside it, where the value is never used, the product wraps without reverting)
                t.kdx = (strikeWad * FixedPointMath.expQ96(-rTau)) >> 64;
            }
        }
    }

    /// @notice `price(spotWad, t.strikeWad, t.timeSec, volWad, t.rateWad)` from `terms`: the same values to
    /// the wei and the same errors, for less gas when several spots or volatilities share K, T and r.
    /// @dev Domain: `checkInputs`.
    function priceAt(Terms memory t, uint256 spotWad, uint256 volWad)
        internal
        pure
        returns (uint256 callWad, uint256 putWad)
    {
        uint256 strikeWad = t.strikeWad;
        uint256 timeSec = t.timeSec;
        checkInputs(spotWad, strikeWad, timeSec, volWad, t.rateWad);
        if (timeSec == 0) {
            (callWad, putWad,) = _intrinsic(spotWad, strikeWad);
            return (callWad, putWad);
        }
        (uint256 n1, uint256 n2) = _cdfsAt(t, spotWad, volWad);
        (callWad, putWad) = _prices(spotWad, t.kdx, n1, n2);
    }

    /// @notice `priceAndDelta(spotWad, t.strikeWad, t.timeSec, volWad, t.rateWad)` from `terms`: the same
    /// values to the wei and the same errors.
    /// @dev Domain: `checkInputs`.
    function priceAndDeltaAt(Terms memory t, uint256 spotWad, uint256 volWad)
        internal
        pure
        returns (uint256 callWad, uint256 putWad, uint256 callDeltaWad)
    {
        uint256 strikeWad = t.strikeWad;
        uint256 timeSec = t.timeSec;
        checkInputs(spotWad, strikeWad, timeSec, volWad, t.rateWad);
        if (timeSec == 0) return _intrinsic(spotWad, strikeWad);
        (uint256 n1, uint256 n2) = _cdfsAt(t, spotWad, volWad);
        (callWad, putWad) = _prices(spotWad, t.kdx, n1, n2);
        assembly ("memory-safe") {
            // n1 <= 2^96: n1 * 1e18 < 2^156 (as in `delta`)
            callDeltaWad := shr(96, mul(n1, WAD))
        }
    }

    /// @notice Call delta in [0, 1] and put delta = call delta - 1, in wad.
    /// @dev Domain: `checkInputs`. Error 1e-18 + 1e-21 (N's error and the wad rounding).
    function delta(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
        pure
        returns (uint256 callDeltaWad, int256 putDeltaWad)
    {
        checkInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
        if (timeSec == 0) {
            (,, callDeltaWad) = _intrinsic(spotWad, strikeWad);
        } else {
            (,,,, int256 d1) = _core(spotWad, strikeWad, timeSec, volWad, rateWad, false);
            uint256 n1 = NormalCdfTable.cdfQ96(d1);
            assembly ("memory-safe") {
                // n1 <= 2^96: n1 * 1e18 < 2^156
                callDeltaWad := shr(96, mul(n1, WAD))
            }
        }
        unchecked {
            putDeltaWad = int256(callDeltaWad) - int256(WAD);
        }
    }

    /// @notice The whole set in one call; see `IBlackScholes.Greeks` for units.
    /// @dev Domain: `checkInputs`. Prices and deltas as in `price` and `delta`; the other Greeks
    /// from the same N(d1), N(d2), phi(d1) (phi's relative error 2e-19).
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
        (uint256 sqrtTau, uint256 kdx, uint256 vst, uint256 n1, uint256 n2, uint256 phi) =
            _greeksInputs(spotWad, strikeWad, timeSec, volWad, rateWad);
        (g.callWad, g.putWad) = _prices(spotWad, kdx, n1, n2);
        assembly ("memory-safe") {
            // g is the struct Solidity allocated for the return value: ten words from g.
            {
                // n1 <= 2^96: n1 * 1e18 < 2^156
                let callDelta := shr(96, mul(n1, WAD))
                mstore(add(g, 0x40), callDelta)
                mstore(add(g, 0x60), sub(callDelta, WAD))
            }
            // phi < 2^95 so phi * 1e36 < 2^215, and spot * vst < 2^202 is > 0 (vst >= 2^73)
            mstore(add(g, 0x80), div(mul(phi, 1000000000000000000000000000000000000), mul(spotWad, vst)))
            let decay
            {
                // S phi in wad * 2^32, < 2^131; sqrtTau < 2^98
                let sPhi := shr(64, mul(spotWad, phi))
                mstore(add(g, 0xa0), shr(128, mul(sPhi, sqrtTau)))
                // S phi sigma / (2 sqrt tau): (sPhi * vol / WAD) < 2^135, << 63 < 2^198 (a positive int256)
                decay := div(shl(63, div(mul(sPhi, volWad), WAD)), sqrtTau)
            }
            // K e^{-rT} N(d2) and N(-d2) in wad, < 2^115: kdx < 2^147 and n2 <= 2^96, products < 2^243;
            // |rate| <= 1e18 < 2^60 so the signed products fit; timeSec < 2^29
            {
                let kdN2 := shr(128, mul(kdx, n2))
                mstore(add(g, 0xc0), sub(sub(0, decay), sdiv(mul(rateWad, kdN2), WAD)))
                mstore(add(g, 0x100), div(mul(kdN2, timeSec), YEAR_SEC))
            }
            {
                let kdNm2 := shr(128, mul(kdx, sub(Q96, n2)))
                mstore(add(g, 0xe0), add(sub(0, decay), sdiv(mul(rateWad, kdNm2), WAD)))
                mstore(add(g, 0x120), sub(0, div(mul(kdNm2, timeSec), YEAR_SEC)))
            }
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
        int256 x;
        uint256 kdx;
        {
            (s.sqrtTau, x, kdx,,) = _core(spotWad, strikeWad, timeSec, 0, rateWad, true);
        }
        uint256 kd = kdx >> 32;
        // target < S < 2^100, so target << 128 < 2^228
        int256 targetX = int256(_ivTarget(priceWad, spotWad, kd, isCall) << 128);
        unchecked {
            // the out-of-the-money price (the put when x > 0), > 0 since price > lower bound;
            // S << 128 < 2^228 and kdx << 96 < 2^243
            s.qTargetX = x > 0 ? targetX - (int256(spotWad << 128) - int256(kdx << 96)) : targetX;
            s.errWei = IV_PRICE_ERR_WEI + (spotWad > kd ? spotWad : kd) / IV_PRICE_ERR_REL_DIV;
        }
        s.spotWad = spotWad;
        s.x = x;
        s.kdx = kdx;
        s.targetX = targetX;
        return _solveIv(s);
    }

    // ------------------------------------------------------------------------------------ internals

    /// @dev The call price of the same volatility (by parity for a put); reverts unless the price is
    /// strictly between its no-arbitrage bounds (so the target is positive).
    function _ivTarget(uint256 priceWad, uint256 spotWad, uint256 kd, bool isCall)
        private
        pure
        returns (uint256 target)
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
        // price > kd - S, so it is positive
        if (!isCall) target = priceWad + spotWad - kd;
    }

    /// @dev The solver's state, in memory (read and written by offset in `_solveIv`'s assembly: field n
    /// at s + 32 n, so keep the order), which keeps the loop's stack shallow.
    struct _IvState {
        uint256 priceWad;
        uint256 sqrtTau;
        int256 qTargetX;
        uint256 errWei;
        uint256 vMin;
        uint256 vMax;
        int256 stepTolQ96;
        // q* aligned to bit 126 and its msb, for `_ivHalley`'s logarithm (constant over the loop)
        uint256 qAligned;
        uint256 qMsb;
        uint256 spotWad;
        int256 x;
        uint256 kdx;
        int256 targetX;
        // the bracket, and the accepted point's residual, S phi(d1) and Newton point
        uint256 lo;
        uint256 hi;
        int256 resid;
        uint256 sPhi;
        uint256 vNewton;
    }

    /// @dev The solver's loop (see `impliedVol`): N(d1), N(d2) and phi(d1) by the library calls, the rest
    /// of each step in `_ivStep`. Reverts VolatilityNotInDomain, ImpliedVolIllConditioned or, after
    /// IV_MAX_ITERATIONS evaluations, ImpliedVolNotConverged.
    function _solveIv(_IvState memory s) private pure returns (uint256) {
        assembly ("memory-safe") {
            // sqrtTau < 2^98: the products < 2^162
            let sqrtTau := mload(add(s, 0x20))
            let lo := div(mul(MIN_VOL_WAD, sqrtTau), WAD)
            let hi := div(mul(MAX_VOL_WAD, sqrtTau), WAD)
            mstore(add(s, 0x80), lo)
            mstore(add(s, 0xa0), hi)
            mstore(add(s, 0x1a0), lo)
            mstore(add(s, 0x1c0), hi)
            // a Newton step of at most 1e-15 in volatility, in v = sigma sqrt(T) units
            mstore(add(s, 0xc0), div(mul(IV_STEP_TOL_WAD, sqrtTau), WAD))
            // q* > 0 and < 2^243 (see `impliedVol`): its msb and q* aligned to bit 126 (exact when
            // shifted left; the low bits are dropped when shifted right), as `_lnRatioRough` does
            let q := mload(add(s, 0x40))
            let kb := shl(7, lt(0xffffffffffffffffffffffffffffffff, q))
            kb := or(kb, shl(6, lt(0xffffffffffffffff, shr(kb, q))))
            kb := or(kb, shl(5, lt(0xffffffff, shr(kb, q))))
            kb := or(kb, shl(4, lt(0xffff, shr(kb, q))))
            kb := or(kb, shl(3, lt(0xff, shr(kb, q))))
            kb := or(kb, shl(2, lt(0xf, shr(kb, q))))
            kb := or(kb, shl(1, lt(0x3, shr(kb, q))))
            kb := or(kb, lt(0x1, shr(kb, q)))
            mstore(add(s, 0xe0), shr(129, shl(sub(255, kb), q)))
            mstore(add(s, 0x100), kb)
        }
        uint256 v = _ivStart(s.spotWad, s.kdx, s.qTargetX, s.vMin, s.vMax);
        for (uint256 it; it < IV_MAX_ITERATIONS; ++it) {
            int256 d1;
            int256 resid;
            uint256 sPhi;
            {
                assembly ("memory-safe") {
                    // |x| < 2^100 so x << 96 < 2^196; v in [vMin, vMax], > 0 and < 2^102; d1 < 2^123
                    d1 := add(sdiv(shl(96, mload(add(s, 0x140))), v), shr(1, v))
                }
                uint256 n1 = NormalCdfTable.cdfQ96(d1);
                uint256 n2;
                unchecked {
                    n2 = NormalCdfTable.cdfQ96(d1 - int256(v));
                }
                uint256 phi = NormalDist.pdfQ96(d1);
                assembly ("memory-safe") {
                    let spotWad := mload(add(s, 0x120))
                    // S * N1 < 2^196 (<< 32 < 2^228); kdx * N2 < 2^147 * 2^96; |targetX| < 2^228;
                    // S * phi < 2^195
                    resid := sub(sub(shl(32, mul(spotWad, n1)), mul(mload(add(s, 0x160)), n2)), mload(add(s, 0x180)))
                    sPhi := shr(64, mul(spotWad, phi))
                }
            }
            uint256 status;
            assembly ("memory-safe") {
                // every product's bound is stated beside it in the functions below
                v, status := _ivStep(s, v, d1, resid, sPhi)

                // One step from the evaluation at v: status 1 if the acceptance rule holds (its
                // values stored in s), 2 or 3 if the bracket proves no volatility of the domain fits
                // (below vMin, above vMax), else 0 with the next point.
                function _ivStep(st, vv, dd1, res, sphi) -> next, status_ {
                    {
                        // Newton's next point; |res >> 96| < 2^133 so the shift back cannot overflow,
                        // and the step (|step| < 2^229) is recovered through the two's complement
                        let vN := vv
                        if sphi { vN := sub(vv, sdiv(shl(96, sar(96, res)), sphi)) }
                        let absRes := res
                        if slt(res, 0) { absRes := sub(0, res) }
                        let step := sub(vv, vN)
                        let tol := mload(add(st, 0xc0))
                        if or(
                            iszero(gt(shr(128, absRes), mload(add(st, 0x60)))),
                            and(iszero(slt(step, sub(0, tol))), iszero(sgt(step, tol)))
                        ) {
                            mstore(add(st, 0x1e0), res)
                            mstore(add(st, 0x200), sphi)
                            mstore(add(st, 0x220), vN)
                            next := vv
                            status_ := 1
                            leave
                        }
                    }
                    switch sgt(res, 0)
                    case 0 {
                        if eq(vv, mload(add(st, 0xa0))) {
                            status_ := 3
                            leave
                        }
                        mstore(add(st, 0x1a0), vv)
                    }
                    default {
                        if eq(vv, mload(add(st, 0x80))) {
                            status_ := 2
                            leave
                        }
                        mstore(add(st, 0x1c0), vv)
                    }
                    let vNext := _ivHalley(st, vv, dd1, res, sphi)
                    let lo := mload(add(st, 0x1a0))
                    let hi := mload(add(st, 0x1c0))
                    next := vNext
                    // outside the bracket: probe the domain's edge once, else bisect (lo, hi < 2^102)
                    if iszero(gt(vNext, lo)) {
                        next := shr(1, add(lo, hi))
                        if eq(lo, mload(add(st, 0x80))) { next := lo }
                        leave
                    }
                    if iszero(lt(vNext, hi)) {
                        next := shr(1, add(lo, hi))
                        if eq(hi, mload(add(st, 0xa0))) { next := hi }
                    }
                }

                // Halley's step on g(v) = ln(q(v) / q*) from v, kept within [v / 4, 4 v]: g' = vega / q,
                // g'' / g' = d1 d2 / v - g'. q = resid + q* and q* in wad * 2^128 (q <= 0 when the
                // price underflows); without a usable slope the point moves by the factor 4 towards
                // the target.
                function _ivHalley(st, vv, dd1, res, sphi) -> vNext {
                    // v < 2^102, so 4 v < 2^104; |res|, |q*| < 2^243: the sum fits
                    vNext := shl(2, vv)
                    if sgt(res, 0) { vNext := shr(2, vv) }
                    let q := add(res, mload(add(st, 0x40)))
                    if and(sgt(q, 0), gt(sphi, 0)) {
                        let r := div(q, sphi) // q / vega in Q96
                        if lt(r, IV_MAX_RATIO) {
                            // |ln| < 2^104 and r < 2^150: the product fits
                            let n := sar(96, mul(_lnRatioRough(q, mload(add(st, 0xe0)), mload(add(st, 0x100))), r))
                            let nx := sub(vv, n) // |n| < 2^158
                            if and(iszero(slt(n, sub(0, vv))), iszero(sgt(n, vv))) {
                                // |d1 d2| < 2^246 and |n| <= v < 2^102: n * (d1 d2 >> 96) < 2^252;
                                // n << 96 < 2^198
                                let corr := sub(sdiv(mul(n, sar(96, mul(dd1, sub(dd1, vv)))), vv), sdiv(shl(96, n), r))
                                let den := sub(Q96, sar(1, corr))
                                if and(iszero(slt(den, 0x800000000000000000000000 /* Q96 / 2 */)), iszero(sgt(den, 0x2000000000000000000000000 /* 2 Q96 */))) {
                                    nx := sub(vv, sdiv(shl(96, n), den))
                                }
                            }
                            vNext := nx
                            if sgt(nx, shl(2, vv)) { vNext := shl(2, vv) }
                            if slt(nx, shr(2, vv)) { vNext := shr(2, vv) }
                        }
                    }
                }

                // ln(q / q*) in Q96 for any q > 0, from qb = q* aligned to bit 126 and kb = msb(q*).
                // Note: an approximation: both are aligned to bit 126, the ratio of the aligned values
                // reduced to m in [1/sqrt2, sqrt2) with a power of two k, and ln m = 2 atanh(z) summed
                // up to z^9 (|z| <= 0.1716): |error| <= 3e-8 |ln m| + 2^-94, vanishing as m -> 1,
                // where the solver needs it exact. Monotonically non-decreasing in q up to that error.
                function _lnRatioRough(q, qb, kb) -> lr {
                    // msb(q): kb when q >> kb == 1 (q in q*'s binade, the usual case near the answer),
                    // else by binary search
                    let ka := kb
                    if iszero(eq(shr(kb, q), 1)) {
                        ka := shl(7, lt(0xffffffffffffffffffffffffffffffff, q))
                        ka := or(ka, shl(6, lt(0xffffffffffffffff, shr(ka, q))))
                        ka := or(ka, shl(5, lt(0xffffffff, shr(ka, q))))
                        ka := or(ka, shl(4, lt(0xffff, shr(ka, q))))
                        ka := or(ka, shl(3, lt(0xff, shr(ka, q))))
                        ka := or(ka, shl(2, lt(0xf, shr(ka, q))))
                        ka := or(ka, shl(1, lt(0x3, shr(ka, q))))
                        ka := or(ka, lt(0x1, shr(ka, q)))
                    }
                    // q aligned to bit 126: exact when shifted left, low bits dropped when shifted right
                    let a := shr(129, shl(sub(255, ka), q))
                    let k := sub(ka, kb)
                    // a, qb < 2^127 and SQRT2_Q96 < 2^97: the products fit; after the doubling < 2^128
                    switch gt(a, shr(96, mul(qb, 112045541949572279837463876454)))
                    case 1 {
                        qb := shl(1, qb)
                        k := add(k, 1)
                    }
                    default {
                        if gt(qb, shr(96, mul(a, 112045541949572279837463876454))) {
                            a := shl(1, a)
                            k := sub(k, 1)
                        }
                    }
                    let z := sdiv(shl(96, sub(a, qb)), add(a, qb))
                    // Horner over floor(2^96 / (2n + 1)), n = 4..0, in w = z^2
                    let w := sar(96, mul(z, z))
                    let p := add(79228162514264337593543950336, sar(96, mul(w, add(26409387504754779197847983445, sar(96, mul(w, add(15845632502852867518708790067, sar(96, mul(w, add(11318308930609191084791992905, sar(96, mul(w, 8803129168251593065949327815))))))))))))
                    // |k| < 256: k * LN2_Q96 < 2^104
                    lr := add(shl(1, sar(96, mul(z, p))), mul(k, 54916777467707473351141471128))
                }
            }
            if (status != 0) {
                if (status == 1) return _ivAccept(s, v);
                revert IBlackScholes.VolatilityNotInDomain(s.priceWad, status == 2 ? MIN_VOL_WAD : MAX_VOL_WAD);
            }
        }
        revert IBlackScholes.ImpliedVolNotConverged(s.priceWad, (v * WAD) / s.sqrtTau);
    }

    /// @dev The accepted point (values stored by `_ivStep`): reverts if the residual does not pin the
    /// volatility to 1e-12; else Newton's point (or v, if that leaves the domain) as a volatility.
    function _ivAccept(_IvState memory s, uint256 v) private pure returns (uint256) {
        int256 resid = s.resid;
        uint256 absResidWei = uint256(resid >= 0 ? resid : -resid) >> 128;
        uint256 vega = (s.sPhi * s.sqrtTau) >> 128;
        if ((absResidWei + s.errWei) * 1e12 * IV_MARGIN > vega) {
            revert IBlackScholes.ImpliedVolIllConditioned(s.priceWad, vega);
        }
        uint256 vNewton = s.vNewton;
        if (vNewton < s.vMin || vNewton > s.vMax) vNewton = v;
        uint256 vol = (vNewton * WAD) / s.sqrtTau;
        // the edges' own rounding can put vol one unit outside the domain it was searched in
        return vol < MIN_VOL_WAD ? MIN_VOL_WAD : (vol > MAX_VOL_WAD ? MAX_VOL_WAD : vol);
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

    /// @dev The shared part of every entry point, for 0 < T <= 10 years and the other inputs in the
    /// domain (after `checkInputs`), Q96 unless noted:
    /// - sqrtTau = sqrt(T / year) = floor(sqrt(floor(T 2^192 / year))) exactly (T << 192 < 2^221): from
    ///   2^(msb(T) / 2) 2^(1/4) 2^96 / sqrt(year), within 19% of the root, five Babylonian steps leave a
    ///   relative error below 2^-110 (each squares it and halves it), so floor or floor + 1, which the
    ///   last line corrects. Exact, so monotonically non-decreasing in T.
    /// - x = ln(S / K) + r T, with `FixedPointMath.lnRatioQ96` (S / K within [0.01, 100]);
    ///   |r T| <= 1e18 * 2^28.3 < 2^89, so (r T) << 96 < 2^185.
    /// - kdx = K e^{-rT} in wad * 2^32 (< 2^147), if `withKdx` (else 0): e^{-rT} from
    ///   `FixedPointMath.expQ96` (|r T| <= 10, inside its domain);
    ///   K < 2^100 and e^{-rT} <= e^10 < 2^111, so the product < 2^211.
    /// - vst = sigma sqrt T and d1 = x / (sigma sqrt T) + sigma sqrt T / 2, if volWad > 0 (else 0):
    ///   vst in [2^73, 2^102), |x| < 2^100 so x << 96 < 2^196, |d1| < 2^123.
    /// Errors: those of ln (2e-21 |ln| + 2^-93) and exp (2e-19 relative); monotone as they are.
    function _core(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad, bool withKdx)
        private
        pure
        returns (uint256 sqrtTau, int256 x, uint256 kdx, uint256 vst, int256 d1)
    {
        x = FixedPointMath.lnRatioQ96(spotWad, strikeWad);
        int256 rTau;
        assembly ("memory-safe") {
            {
                // 0 < timeSec < 2^29: msb in five steps
                let m := shl(4, lt(0xffff, timeSec))
                m := or(m, shl(3, lt(0xff, shr(m, timeSec))))
                m := or(m, shl(2, lt(0xf, shr(m, timeSec))))
                m := or(m, shl(1, lt(0x3, shr(m, timeSec))))
                m := or(m, lt(0x1, shr(m, timeSec)))
                let u := div(shl(192, timeSec), YEAR_SEC)
                // 2^(1/4) 2^96 / sqrt(year), times sqrt 2 when msb(T) is odd; < 2^85 << 14
                let z := shl(shr(1, m), add(16777752332143064642486272, mul(and(m, 1), 6949572562110484605566976)))
                // each step divides by z > 0 and adds two words below 2^99
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                sqrtTau := sub(z, lt(div(u, z), z))
            }
            // |rate| <= 1e18, T < 2^29: the product < 2^89
            rTau := sdiv(shl(96, mul(rateWad, timeSec)), 31536000000000000000000000)
            x := add(x, rTau)
        }
        if (withKdx) {
            unchecked {
                // K < 2^100 and e^{-rT} <= e^10 < 2^111 (Q96): the product < 2^211
                kdx = (strikeWad * FixedPointMath.expQ96(-rTau)) >> 64;
            }
        }
        assembly ("memory-safe") {
            if volWad {
                // vol <= 1e19 < 2^64 and sqrtTau < 2^98: vst < 2^102, and >= 1e15 * 2^83 / 1e18 > 0
                vst := div(mul(volWad, sqrtTau), WAD)
                d1 := add(sdiv(shl(96, x), vst), shr(1, vst))
            }
        }
    }

    /// @dev `terms`' sqrt(T / year) and r T (Q96): `_core`'s assembly, the same operations (kept inline in
    /// `_core`: a shared function costs each single evaluation 64 gas), bounds as written there for 0 < T < 2^29
    /// and |r| <= 1e18. Assembly only: never reverts, for any input (outside that domain the values are
    /// meaningless and never used).
    function _tau(uint256 timeSec, int256 rateWad) private pure returns (uint256 sqrtTau, int256 rTau) {
        assembly ("memory-safe") {
            {
                // 0 < timeSec < 2^29: msb in five steps
                let m := shl(4, lt(0xffff, timeSec))
                m := or(m, shl(3, lt(0xff, shr(m, timeSec))))
                m := or(m, shl(2, lt(0xf, shr(m, timeSec))))
                m := or(m, shl(1, lt(0x3, shr(m, timeSec))))
                m := or(m, lt(0x1, shr(m, timeSec)))
                let u := div(shl(192, timeSec), YEAR_SEC)
                // 2^(1/4) 2^96 / sqrt(year), times sqrt 2 when msb(T) is odd; < 2^85 << 14
                let z := shl(shr(1, m), add(16777752332143064642486272, mul(and(m, 1), 6949572562110484605566976)))
                // each step divides by z > 0 and adds two words below 2^99
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                z := shr(1, add(z, div(u, z)))
                sqrtTau := sub(z, lt(div(u, z), z))
            }
            // |rate| <= 1e18, T < 2^29: the product < 2^89
            rTau := sdiv(shl(96, mul(rateWad, timeSec)), 31536000000000000000000000)
        }
    }

    /// @dev N(d1) and N(d2) (Q96) at spot S with `terms` t, for 0 < T and the inputs in the domain: `_core`'s
    /// x, sigma sqrt T and d1 (the same operations, bounds as there) from t's r T and sqrt(T / year).
    function _cdfsAt(Terms memory t, uint256 spotWad, uint256 volWad) private pure returns (uint256 n1, uint256 n2) {
        int256 x = FixedPointMath.lnRatioQ96(spotWad, t.strikeWad);
        int256 rTau = t.rTau;
        uint256 sqrtTau = t.sqrtTau;
        uint256 vst;
        int256 d1;
        assembly ("memory-safe") {
            // |x| < 2^100 and |r T| < 2^89; vol > 0 (the domain): vst in [2^73, 2^102), |d1| < 2^123
            x := add(x, rTau)
            vst := div(mul(volWad, sqrtTau), WAD)
            d1 := add(sdiv(shl(96, x), vst), shr(1, vst))
        }
        n1 = NormalCdfTable.cdfQ96(d1);
        unchecked {
            // vst < 2^102, |d1| < 2^123
            n2 = NormalCdfTable.cdfQ96(d1 - int256(vst));
        }
    }

    /// @dev What `greeks` needs (Q96 unless noted): sqrt(T / year), K e^{-rT} (wad * 2^32),
    /// sigma sqrt T, N(d1), N(d2), phi(d1).
    function _greeksInputs(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        private
        pure
        returns (uint256 sqrtTau, uint256 kdx, uint256 vst, uint256 n1, uint256 n2, uint256 phi)
    {
        int256 d1;
        (sqrtTau,, kdx, vst, d1) = _core(spotWad, strikeWad, timeSec, volWad, rateWad, true);
        n1 = NormalCdfTable.cdfQ96(d1);
        unchecked {
            // vst < 2^102, |d1| < 2^123
            n2 = NormalCdfTable.cdfQ96(d1 - int256(vst));
        }
        phi = NormalDist.pdfQ96(d1);
    }

    /// @dev Prices from N(d1), N(d2) (Q96) and K e^{-rT} (wad * 2^32), as documented on `price`.
    function _prices(uint256 spotWad, uint256 kdx, uint256 n1, uint256 n2)
        private
        pure
        returns (uint256 callWad, uint256 putWad)
    {
        assembly ("memory-safe") {
            // S * N1 < 2^196 (<< 32 < 2^228); kdx * N2 < 2^147 * 2^96: both fit int256.
            let c := sar(128, sub(shl(32, mul(spotWad, n1)), mul(kdx, n2)))
            let kd := shr(32, kdx)
            let lower := sub(spotWad, kd)
            if slt(c, lower) { c := lower }
            if slt(c, 0) { c := 0 }
            callWad := c
            // c >= S - kd, so the put is never negative
            putWad := add(sub(c, spotWad), kd)
        }
    }

    /// @dev At expiry (T = 0): the intrinsic values and the step delta (1/2 at the money).
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
