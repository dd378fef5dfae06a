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

    /// @notice Reverts with the error of the first input outside the domain.
    function checkInputs(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        internal
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
    /// @dev Newton's method on v = sigma sqrt(T) from the inflection point sqrt(2 |ln(S / K e^{-rT})|),
    /// from which it converges monotonically (Manaster and Koehler, 1982), kept inside a bracket
    /// that starts as the domain. It returns only when (|residual| + price error bound) x 2e12 <= vega,
    /// which bounds the volatility error by 1e-12; otherwise it reverts.
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
                target = priceWad + spotWad - kd;
            }
            if (priceWad <= lower || priceWad >= upper) {
                revert IBlackScholes.PriceOutOfBounds(priceWad, lower, upper);
            }
        }
        // target < S < 2^100, so target << 128 < 2^228
        s.targetX = int256(target << 128);
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
        uint256 errWei;
    }

    function _solveIv(_IvState memory s) private pure returns (uint256) {
        uint256 vMin = (MIN_VOL_WAD * s.sqrtTau) / WAD;
        uint256 vMax = (MAX_VOL_WAD * s.sqrtTau) / WAD;
        uint256 v;
        unchecked {
            // |x| < 2^100: << 97 < 2^197
            v = FixedPointMath.sqrt((s.x >= 0 ? uint256(s.x) : uint256(-s.x)) << 97);
        }
        if (v < vMin) v = vMin;
        else if (v > vMax) v = vMax;
        uint256 lo = vMin;
        uint256 hi = vMax;
        for (uint256 it; it < IV_MAX_ITERATIONS; ++it) {
            int256 resid;
            uint256 sPhi;
            uint256 vNewton;
            unchecked {
                // v <= vMax < 2^102 and d1 < 2^123; every product below is bounded as in `price`.
                int256 d1 = _d1Q96(s.x, v);
                resid = (int256((s.spotWad * NormalDist.cdfQ96(d1)) << 32)
                        - int256(s.kdx * NormalDist.cdfQ96(d1 - int256(v)))) - s.targetX;
                sPhi = (s.spotWad * NormalDist.pdfQ96(d1)) >> 64;
                // |resid >> 96| < 2^133, so the shift back cannot overflow
                vNewton = sPhi == 0 ? v : uint256(int256(v) - ((resid >> 96) << 96) / int256(sPhi));
            }
            uint256 absResidWei = uint256(resid >= 0 ? resid : -resid) >> 128;
            int256 stepVol = ((int256(v) - int256(vNewton)) * int256(WAD)) / int256(s.sqrtTau);
            if (absResidWei <= s.errWei || (stepVol >= -IV_STEP_TOL_WAD && stepVol <= IV_STEP_TOL_WAD)) {
                uint256 vega = (sPhi * s.sqrtTau) >> 128;
                if ((absResidWei + s.errWei) * 1e12 * IV_MARGIN > vega) {
                    revert IBlackScholes.ImpliedVolIllConditioned(s.priceWad, vega);
                }
                if (vNewton < vMin || vNewton > vMax) vNewton = v;
                uint256 vol = (vNewton * WAD) / s.sqrtTau;
                // the edges' own rounding can put vol one unit outside the domain it was searched in
                return vol < MIN_VOL_WAD ? MIN_VOL_WAD : (vol > MAX_VOL_WAD ? MAX_VOL_WAD : vol);
            }
            if (resid > 0) {
                if (v == vMin) revert IBlackScholes.VolatilityNotInDomain(s.priceWad, MIN_VOL_WAD);
                hi = v;
            } else {
                if (v == vMax) revert IBlackScholes.VolatilityNotInDomain(s.priceWad, MAX_VOL_WAD);
                lo = v;
            }
            if (vNewton <= lo) {
                // outside the bracket: probe the domain's edge once, else bisect
                v = lo == vMin ? vMin : (lo + hi) >> 1;
            } else if (vNewton >= hi) {
                v = hi == vMax ? vMax : (lo + hi) >> 1;
            } else {
                v = vNewton;
            }
        }
        revert IBlackScholes.ImpliedVolNotConverged(s.priceWad, (v * WAD) / s.sqrtTau);
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
