// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionPricer
/// @notice Stateless Black-Scholes pricing of one European option for the vaults, from hedgevault's
/// fixed-point library. A separate contract so that the vaults stay below the 24 KiB code size limit.
/// Units and domain as on `IBlackScholes` (spot and strike wad, time in seconds, vol wad, signed rate
/// wad); the library's domain errors propagate.
interface IOptionPricer {
    /// @notice The evaluations of a trade (`tradePrices`): the trade's own point, the cached book's point
    /// and the book's two stress scenarios (at the book's time, volatility `stressVolWad`), for one option
    /// (strike, volatility, rate, type).
    struct TradeQuote {
        uint256 spotWad;
        uint256 timeSec;
        uint256 markSpotWad;
        uint256 markTimeSec;
        uint256 strikeWad;
        uint256 volWad;
        int256 rateWad;
        bool isCall;
        uint256 upSpotWad;
        uint256 downSpotWad;
        uint256 stressVolWad;
    }

    /// @notice What `tradePrices` returns, wad per option.
    struct TradePrices {
        /// @dev `price` at the trade's point.
        uint256 priceWad;
        /// @dev `markAndDelta` at the book's point.
        uint256 markWad;
        int256 deltaWad;
        bool insideMargin;
        /// @dev `markAndDelta`'s price in the up and down scenarios (the same evaluations a re-mark makes).
        uint256 stressUpWad;
        uint256 stressDownWad;
    }

    /// @notice Price of one call (`isCall`) or put, wad of quote.
    function price(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad, bool isCall)
        external
        pure
        returns (uint256 priceWad);

    /// @notice Price and delta (call in [0, 1], put in [-1, 0]) of one option, wad.
    function priceAndDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        uint256 volWad,
        int256 rateWad,
        bool isCall
    ) external pure returns (uint256 priceWad, int256 deltaWad);

    /// @notice Price and delta of one option for valuations, which must never revert on a spot that left
    /// the library's domain: the spot is clamped to the domain edge E (spot within [strike / 100,
    /// strike x 100] and [1e-6, 1e12] in wad) and the value continued from E by an upper bound of the
    /// true price: beyond the upper edge a call is worth at most C(E) + (spot - E) (its delta is at most
    /// 1) and a put at most P(E) (it falls with the spot); below the lower edge a call at most C(E) and a
    /// put at most P(E) + (E - spot). Deltas there are the limits (call 1 or 0, put 0 or -1). The
    /// continuation is convex, as the price is.
    /// @return priceWad Price (upper bound outside the domain), wad.
    /// @return deltaWad Delta, wad.
    /// @return insideMargin True when spot / strike is within [1/50, 50], a factor 2 inside the domain
    /// edge, so that any spot move up to 50% keeps the option inside the domain.
    function markAndDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        uint256 volWad,
        int256 rateWad,
        bool isCall
    ) external pure returns (uint256 priceWad, int256 deltaWad, bool insideMargin);

    /// @notice `price` at (spotWad, timeSec), `markAndDelta` at (markSpotWad, markTimeSec) and at the two
    /// scenario spots with `stressVolWad` (same time), in one call.
    function tradePrices(TradeQuote calldata q) external pure returns (TradePrices memory p);
}
