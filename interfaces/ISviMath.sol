// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ISviMath
/// @notice Types, errors and rules of `contracts/libraries/SviMath.sol`: one raw SVI slice per expiry
/// (Gatheral), its total variance and implied volatility at a strike, and the checks a slice must pass
/// before it takes effect.
///
/// The slice. Total implied variance at log-moneyness k = ln(K / F) (F the forward of the expiry):
///     w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),
/// and the implied volatility of strike K with T = timeSec / 365 days to expiry is sqrt(w(k) / T).
///
/// Units. `a36` is total variance in 1e36 units (1e36 = 1.0, so a 80% vol over a year is 0.64e36); `bWad`,
/// `rhoWad`, `mWad`, `sigmaWad` and every k are in wad (1e18 = 1.0). w is computed in 1e36 units too, and the
/// volatility is floor(sqrt(floor(w36 x 365 days / timeSec))) in wad. The extra 18 digits of a make the flat
/// slice exact: `flatSlice(v, T)` sets a36 = ceil(v^2 T / year) and b = 0, and every strike's volatility is
/// then v itself, to the wei (the floor of the root drops the < year / T excess, which is below 2v + 1).
///
/// Rounding. The library evaluates w(k) with r = sqrt((k - m)^2 + sigma^2) enclosed by the integers
/// rL = floor(r) and rU = rL or rL + 1 (rL when the square is exact); every derived quantity (w, w', w'', and
/// Gatheral's g) is carried as an interval [lower, upper] with each division rounded outward (floor for the
/// lower end, ceiling for the upper), so the interval contains the exact real value of that slice at that k.
/// `varianceDown` returns the lower end (w rounded down by less than 3 x 1e-36).
/// Each check decides on the side of the interval against the slice: it passes only if the whole interval
/// satisfies the condition, so a slice that passes satisfies it in exact arithmetic at every grid point.
/// The cost is a refusal of a slice whose exact figure is within about 1e-17 of the boundary.
///
/// The checks (each reverts with the named error, carrying the figure):
/// * parameters (`checkParams`): b >= 0 (`SviBNegative`), |rho| < 1 (`SviRhoOutOfRange`), sigma > 0
///   (`SviSigmaNotPositive`), the domain that keeps the arithmetic exact (`SviParamOutOfDomain`:
///   |a| <= 100, b <= 10, |m| <= 5, sigma in [1e-9, 5]), Roger Lee's moment bound on the wings in total-variance
///   form b (1 + |rho|) <= 2 (`SviLeeBoundExceeded`, exact integer comparison), and a non-negative minimum
///   a + b sigma sqrt(1 - rho^2) >= 0 (`SviMinVarianceNegative`, computed rounded down);
/// * butterfly (`checkArbitrage`, at each of `points` equally spaced k in [kLoWad, kHiWad]): w(k) > 0
///   (`SviVarianceNotPositive`) and Gatheral's density condition
///     g(k) = (1 - k w' / (2 w))^2 - (w'^2 / 4) (1 / w + 1 / 4) + w'' / 2 >= 0 (`SviButterflyArbitrage`),
///   decided on 16 w^2 g (the same sign, no division) rounded down;
/// * calendar (`checkArbitrage`, same grid): total variance non-decreasing in expiry at fixed k against the
///   nearer and the farther listed expiries (`SviCalendarArbitrage`): the nearer slice's w rounded up <=
///   this slice's w rounded down, and this slice's w rounded up <= the farther slice's w rounded down;
/// * rate limit (`checkRateLimit`): the volatility of each listed strike under the new slice (time to expiry
///   now) within `maxStepWad` of its volatility under the previous slice (time to expiry at that post), both
///   at the same forward (`SviVolStepExceeded`).
/// @dev Warning: the arbitrage checks hold at the grid's points only; between two points a slice can still
/// violate g >= 0 or the calendar order (SVI's g changes sign at most a few times, so a fine grid over the
/// listed strikes' range leaves little room; docs/volatility-surface.md gives the figures).
interface ISviMath {
    /// @notice One raw SVI slice (see the units above).
    struct SviSlice {
        int256 a36; // total variance level, 1e36 units
        int256 bWad; // wing slope, wad (>= 0)
        int256 rhoWad; // skew, wad (|rho| < 1)
        int256 mWad; // shift in log-moneyness, wad
        int256 sigmaWad; // ATM curvature, wad (> 0)
    }

    /// @notice The grid of the arbitrage checks: `points` (2..64) equally spaced log-moneyness values from
    /// `kLoWad` to `kHiWad` (both included; k_i = kLo + (kHi - kLo) i / (points - 1), truncated toward zero).
    struct SviGrid {
        int256 kLoWad;
        int256 kHiWad;
        uint256 points;
    }

    /// @notice b < 0: the smile would be concave in its wings.
    error SviBNegative(int256 bWad);
    /// @notice |rho| >= 1.
    error SviRhoOutOfRange(int256 rhoWad);
    /// @notice sigma <= 0.
    error SviSigmaNotPositive(int256 sigmaWad);
    /// @notice A parameter outside the domain that keeps the library's arithmetic exact (`name` is the field,
    /// e.g. "a36").
    error SviParamOutOfDomain(bytes32 name, int256 value, int256 min, int256 max);
    /// @notice b (1 + |rho|) > 2: a wing steeper than Roger Lee's moment bound allows; `slopeWad` is the
    /// steeper wing's slope b (1 + |rho|), rounded up.
    error SviLeeBoundExceeded(int256 bWad, int256 rhoWad, int256 slopeWad);
    /// @notice The slice's minimum total variance a + b sigma sqrt(1 - rho^2) (`minVariance36`, rounded down,
    /// 1e36 units) is negative.
    error SviMinVarianceNegative(int256 minVariance36);
    /// @notice The grid is not 2..64 points over kLo < kHi within |k| <= 5.
    error SviGridInvalid(int256 kLoWad, int256 kHiWad, uint256 points);
    /// @notice The total variance at `kWad` (`variance36`, rounded down, 1e36 units) is not positive: no
    /// volatility (evaluation) or no density (butterfly check) there.
    error SviVarianceNotPositive(int256 kWad, int256 variance36);
    /// @notice Gatheral's g at `kWad` is negative: `gWad` is its lower bound 16 w^2 g (rounded down, 1e36
    /// units) divided by 16 w^2 (w rounded up to wad), truncated. Call prices would not be convex in strike there
    /// (a butterfly pays for free).
    error SviButterflyArbitrage(int256 kWad, int256 gWad);
    /// @notice At `kWad` the nearer expiry's total variance (`nearerVariance36`, rounded up) exceeds the
    /// farther one's (`fartherVariance36`, rounded down): a calendar spread pays for free.
    error SviCalendarArbitrage(int256 kWad, int256 nearerVariance36, int256 fartherVariance36);
    /// @notice The volatility of listed strike `strikeIndex` moves from `previousVolWad` to `newVolWad`, more
    /// than `maxStepWad`.
    error SviVolStepExceeded(uint256 strikeIndex, uint256 previousVolWad, uint256 newVolWad, uint256 maxStepWad);
    /// @notice A strike or forward outside [1e-6, 1e12] (wad 1e12..1e30), or a ratio outside [0.01, 100].
    error SviMoneynessOutOfRange(uint256 strikeWad, uint256 forwardWad);
    /// @notice A time to expiry outside [1 s, 10 years].
    error SviTimeOutOfRange(uint256 timeSec);
    /// @notice A volatility outside (0, 10] for `flatSlice`.
    error SviFlatVolOutOfRange(uint256 volWad);
}
