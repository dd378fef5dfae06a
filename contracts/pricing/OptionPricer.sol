// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

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
        return _continued(callWad, putWad, spotWad, edge, isCall);
    }

    /// @inheritdoc IOptionPricer
    /// @dev The three evaluations at the marks' time share the strike's domain edges (`_edges`) and
    /// `BlackScholes.terms` (sqrt(tau), r tau, K e^{-r tau}): computed once, the same integers each
    /// `markAndDelta` would compute, so the results and errors are those of the four calls in this order.
    function tradePrices(TradeQuote calldata q) external pure returns (TradePrices memory p) {
        uint256 strikeWad = q.strikeWad;
        bool isCall = q.isCall;
        p.priceWad = price(q.spotWad, strikeWad, q.timeSec, q.volWad, q.rateWad, isCall);
        (uint256 loWad, uint256 hiWad) = _edges(strikeWad);
        BlackScholes.Terms memory t = BlackScholes.terms(strikeWad, q.markTimeSec, q.rateWad);
        (p.markWad, p.deltaWad, p.insideMargin) = _markAndDelta(t, q.markSpotWad, q.volWad, isCall, loWad, hiWad);
        uint256 stressVolWad = q.stressVolWad;
        (p.stressUpWad,,) = _markAndDelta(t, q.upSpotWad, stressVolWad, isCall, loWad, hiWad);
        (p.stressDownWad,,) = _markAndDelta(t, q.downSpotWad, stressVolWad, isCall, loWad, hiWad);
    }

    /// @dev The library's domain for this strike: spot within [lo, hi] = [max(ceil(K / 100), 1e12),
    /// min(100 K, 1e30)] (checked arithmetic: a strike beyond 2^256 / 100 reverts with the overflow panic).
    function _edges(uint256 strikeWad) internal pure returns (uint256 loWad, uint256 hiWad) {
        loWad = (strikeWad + MONEYNESS - 1) / MONEYNESS;
        if (loWad < MIN_PRICE_WAD) loWad = MIN_PRICE_WAD;
        hiWad = strikeWad * MONEYNESS;
        if (hiWad > MAX_PRICE_WAD) hiWad = MAX_PRICE_WAD;
    }

    /// @dev The spot clamped to the library's domain for this strike.
    function _edge(uint256 spotWad, uint256 strikeWad) internal pure returns (uint256) {
        (uint256 loWad, uint256 hiWad) = _edges(strikeWad);
        return spotWad < loWad ? loWad : (spotWad > hiWad ? hiWad : spotWad);
    }

    /// @dev `markAndDelta` at `t`'s strike, time and rate, with the strike's `_edges`.
    function _markAndDelta(
        BlackScholes.Terms memory t,
        uint256 spotWad,
        uint256 volWad,
        bool isCall,
        uint256 loWad,
        uint256 hiWad
    ) internal pure returns (uint256 priceWad, int256 deltaWad, bool insideMargin) {
        uint256 strikeWad = t.strikeWad;
        // strike and spot below 1e30 (listing bounds): the products cannot overflow
        insideMargin = spotWad * 50 >= strikeWad && strikeWad * 50 >= spotWad;
        // the spot clamped to the library's domain for this strike
        uint256 edge = spotWad < loWad ? loWad : (spotWad > hiWad ? hiWad : spotWad);
        if (edge == spotWad) {
            (uint256 cWad, uint256 pWad, uint256 callDeltaWad) = BlackScholes.priceAndDeltaAt(t, spotWad, volWad);
            // callDeltaWad <= 1e18; the put's delta is the call's - 1 (`BlackScholes.delta`)
            return isCall
                ? (cWad, int256(callDeltaWad), insideMargin)
                : (pWad, int256(callDeltaWad) - int256(WAD), insideMargin);
        }
        (uint256 callWad, uint256 putWad) = BlackScholes.priceAt(t, edge, volWad);
        return _continued(callWad, putWad, spotWad, edge, isCall);
    }

    /// @dev `markAndDelta` outside the domain: the price continued from the domain edge (the interface's upper
    /// bounds), the delta its limit.
    function _continued(uint256 callWad, uint256 putWad, uint256 spotWad, uint256 edge, bool isCall)
        internal
        pure
        returns (uint256 priceWad, int256 deltaWad, bool insideMargin)
    {
        if (spotWad > edge) {
            return isCall ? (callWad + (spotWad - edge), int256(WAD), false) : (putWad, int256(0), false);
        }
        return isCall ? (callWad, int256(0), false) : (putWad + (edge - spotWad), -int256(WAD), false);
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
