// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBlackScholes
/// @notice Errors, result type and entry points of hedgevault's fixed-point Black-Scholes library
/// (`contracts/libraries/BlackScholes.sol`), as exposed by the harness and used by the vaults.
///
/// Units (names carry them): `...Wad` is 1e18 fixed point; `timeSec` is whole seconds and a year is
/// 365 days (31,536,000 s). Volatility and rate are annual (0.2e18 = 20%); the rate is signed.
/// Outputs: prices in units of the spot token (wad); deltas in [0, 1] / [-1, 0]; gamma per 1.00 of
/// spot; vega per 1.00 of volatility (divide by 100 for per 1% vol); theta per year (divide by 365 for
/// per calendar day); rho per 1.00 of rate (divide by 100 for per 1%).
///
/// Domain (enforced; outside it the call reverts with the offending value):
///   spot, strike in [1e-6, 1e12] and strike / spot in [0.01, 100]; volatility in [0.001, 10];
///   time in [0, 10 years] (0 = expired); rate in [-1, 1].
///
/// Expired (time 0) conventions: call = max(S - K, 0), put = max(K - S, 0); call delta = 1 if S > K,
/// 1/2 if S == K, 0 if S < K; put delta = call delta - 1; gamma, vega, theta and rho are 0.
interface IBlackScholes {
    /// @notice The whole set for one input.
    struct Greeks {
        uint256 callWad;
        uint256 putWad;
        uint256 callDeltaWad;
        int256 putDeltaWad;
        uint256 gammaWad;
        uint256 vegaWad;
        int256 callThetaWad;
        int256 putThetaWad;
        uint256 callRhoWad;
        int256 putRhoWad;
    }

    /// @notice Spot outside [1e-6, 1e12] (1e12..1e30 in wad).
    error SpotOutOfRange(uint256 spotWad);
    /// @notice Strike outside [1e-6, 1e12] (1e12..1e30 in wad).
    error StrikeOutOfRange(uint256 strikeWad);
    /// @notice strike / spot outside [0.01, 100].
    error MoneynessOutOfRange(uint256 spotWad, uint256 strikeWad);
    /// @notice Volatility outside [0.001, 10].
    error VolatilityOutOfRange(uint256 volWad);
    /// @notice Time beyond 10 years (or 0 for implied volatility).
    error TimeOutOfRange(uint256 timeSec);
    /// @notice Rate outside [-1, 1].
    error RateOutOfRange(int256 rateWad);
    /// @notice Implied volatility: the price is not strictly between the no-arbitrage bounds
    /// (lower = max(0, S - K e^{-rT}) for calls, max(0, K e^{-rT} - S) for puts; upper = S for calls,
    /// K e^{-rT} for puts), so no volatility fits it.
    error PriceOutOfBounds(uint256 priceWad, uint256 lowerWad, uint256 upperWad);
    /// @notice Implied volatility: the volatility that fits lies beyond `boundVolWad` (0.001 or 10).
    error VolatilityNotInDomain(uint256 priceWad, uint256 boundVolWad);
    /// @notice Implied volatility: the time value is too small for the volatility to be known within
    /// 1e-12 (price error bound x 1e12 x 2 exceeds vega). Never a wrong answer instead.
    error ImpliedVolIllConditioned(uint256 priceWad, uint256 vegaWad);
    /// @notice Implied volatility: no convergence within the iteration limit.
    error ImpliedVolNotConverged(uint256 priceWad, uint256 lastVolWad);

    /// @notice Call and put price, both deltas, gamma, vega, both thetas and both rhos in one call.
    function greeks(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        external
        pure
        returns (Greeks memory);

    /// @notice Call and put price only (cheaper).
    function price(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        external
        pure
        returns (uint256 callWad, uint256 putWad);

    /// @notice Call and put delta only (cheaper).
    function delta(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        external
        pure
        returns (uint256 callDeltaWad, int256 putDeltaWad);

    /// @notice The volatility at which the option's price is `priceWad`, within 1e-12 of the exact
    /// value, or a revert (PriceOutOfBounds, VolatilityNotInDomain, ImpliedVolIllConditioned,
    /// ImpliedVolNotConverged). `timeSec` must be at least 1.
    function impliedVol(
        uint256 priceWad,
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        int256 rateWad,
        bool isCall
    ) external pure returns (uint256 volWad);
}
