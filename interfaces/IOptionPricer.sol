// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionPricer
/// @notice Stateless Black-Scholes pricing of one European option for the vaults, from hedgevault's
/// fixed-point library. A separate contract so that the vaults stay below the 24 KiB code size limit.
/// Units and domain as on `IBlackScholes` (spot and strike wad, time in seconds, vol wad, signed rate
/// wad); the library's domain errors propagate.
interface IOptionPricer {
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
}
