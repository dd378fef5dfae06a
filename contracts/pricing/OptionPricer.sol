// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";

/// @title OptionPricer
/// @notice `IOptionPricer` over `BlackScholes`: one deployed copy of the library's code for every vault.
contract OptionPricer is IOptionPricer {
    uint256 internal constant WAD = 1e18;
    /// @dev The library's domain: spot / strike within [1/100, 100], prices within [1e12, 1e30] wad.
    uint256 internal constant MONEYNESS = 100;
    uint256 internal constant MIN_PRICE_WAD = 1e12;
    uint256 internal constant MAX_PRICE_WAD = 1e30;

    /// @inheritdoc IOptionPricer
    function price(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad, bool isCall)
        public
        pure
        returns (uint256)
    {
        (uint256 callWad, uint256 putWad) = BlackScholes.price(spotWad, strikeWad, timeSec, volWad, rateWad);
        return isCall ? callWad : putWad;
    }

    /// @inheritdoc IOptionPricer
    function priceAndDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        uint256 volWad,
        int256 rateWad,
        bool isCall
    ) external pure returns (uint256 priceWad, int256 deltaWad) {
        return _priceAndDelta(spotWad, strikeWad, timeSec, volWad, rateWad, isCall);
    }

    /// @inheritdoc IOptionPricer
    function markAndDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        uint256 volWad,
        int256 rateWad,
        bool isCall
    ) public pure returns (uint256 priceWad, int256 deltaWad, bool insideMargin) {
        // strike and spot below 1e30 (listing bounds): the products cannot overflow
        insideMargin = spotWad * 50 >= strikeWad && strikeWad * 50 >= spotWad;
        uint256 edge = _edge(spotWad, strikeWad);
        if (edge == spotWad) {
            (priceWad, deltaWad) = _priceAndDelta(spotWad, strikeWad, timeSec, volWad, rateWad, isCall);
            return (priceWad, deltaWad, insideMargin);
        }
        (uint256 callWad, uint256 putWad) = BlackScholes.price(edge, strikeWad, timeSec, volWad, rateWad);
        if (spotWad > edge) {
            return isCall ? (callWad + (spotWad - edge), int256(WAD), false) : (putWad, int256(0), false);
        }
        return isCall ? (callWad, int256(0), false) : (putWad + (edge - spotWad), -int256(WAD), false);
    }

    /// @inheritdoc IOptionPricer
    function tradePrices(TradeQuote calldata q) external pure returns (TradePrices memory p) {
        p.priceWad = price(q.spotWad, q.strikeWad, q.timeSec, q.volWad, q.rateWad, q.isCall);
        (p.markWad, p.deltaWad, p.insideMargin) =
            markAndDelta(q.markSpotWad, q.strikeWad, q.markTimeSec, q.volWad, q.rateWad, q.isCall);
        (p.stressUpWad,,) = markAndDelta(q.upSpotWad, q.strikeWad, q.markTimeSec, q.stressVolWad, q.rateWad, q.isCall);
        (p.stressDownWad,,) =
            markAndDelta(q.downSpotWad, q.strikeWad, q.markTimeSec, q.stressVolWad, q.rateWad, q.isCall);
    }

    /// @dev The spot clamped to the library's domain for this strike.
    function _edge(uint256 spotWad, uint256 strikeWad) internal pure returns (uint256) {
        uint256 lo = Math.max((strikeWad + MONEYNESS - 1) / MONEYNESS, MIN_PRICE_WAD);
        uint256 hi = Math.min(strikeWad * MONEYNESS, MAX_PRICE_WAD);
        return spotWad < lo ? lo : (spotWad > hi ? hi : spotWad);
    }

    function _priceAndDelta(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        uint256 volWad,
        int256 rateWad,
        bool isCall
    ) internal pure returns (uint256, int256) {
        (uint256 callWad, uint256 putWad, uint256 callDeltaWad) =
            BlackScholes.priceAndDelta(spotWad, strikeWad, timeSec, volWad, rateWad);
        // callDeltaWad <= 1e18; the put's delta is the call's - 1 (`BlackScholes.delta`)
        return isCall ? (callWad, int256(callDeltaWad)) : (putWad, int256(callDeltaWad) - int256(WAD));
    }
}
