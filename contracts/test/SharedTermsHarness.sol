// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";

/// @title SharedTermsHarness
/// @notice Test-only: `BlackScholes.terms` shared by groups of evaluations (`priceAt`, `priceAndDeltaAt`), and a
/// pricer's `tradePrices` beside its four single calls, in batches that keep each revert's data, so that Python
/// can compare them with the unchanged functions and the integer mirror.
contract SharedTermsHarness {
    /// @dev One evaluation: (spot, strike, time, vol, rate); a group's strike, time and rate are its first's.
    struct Input {
        uint256 spotWad;
        uint256 strikeWad;
        uint256 timeSec;
        uint256 volWad;
        int256 rateWad;
    }

    /// @dev `priceAt` and `priceAndDeltaAt` of each input with the terms of its group: inputs
    /// [g * groupSize, (g + 1) * groupSize) share the terms made from the group's first input (strike, time, rate).
    /// Each result: (call, put) of `priceAt` and (call, put, call delta) of `priceAndDeltaAt`, or the revert data
    /// of each.
    function batchShared(Input[] calldata inputs, uint256 groupSize)
        external
        view
        returns (
            bytes[] memory priceReverts,
            uint256[2][] memory prices,
            bytes[] memory pdReverts,
            uint256[3][] memory pds
        )
    {
        priceReverts = new bytes[](inputs.length);
        prices = new uint256[2][](inputs.length);
        pdReverts = new bytes[](inputs.length);
        pds = new uint256[3][](inputs.length);
        BlackScholes.Terms memory t;
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata p = inputs[i];
            if (i % groupSize == 0) t = BlackScholes.terms(p.strikeWad, p.timeSec, p.rateWad);
            try this.priceAt(t, p.spotWad, p.volWad) returns (uint256 c, uint256 q) {
                prices[i] = [c, q];
            } catch (bytes memory reason) {
                priceReverts[i] = reason;
            }
            try this.priceAndDeltaAt(t, p.spotWad, p.volWad) returns (uint256 c, uint256 q, uint256 d) {
                pds[i] = [c, q, d];
            } catch (bytes memory reason) {
                pdReverts[i] = reason;
            }
        }
    }

    function priceAt(BlackScholes.Terms memory t, uint256 spotWad, uint256 volWad)
        external
        pure
        returns (uint256, uint256)
    {
        return BlackScholes.priceAt(t, spotWad, volWad);
    }

    function priceAndDeltaAt(BlackScholes.Terms memory t, uint256 spotWad, uint256 volWad)
        external
        pure
        returns (uint256, uint256, uint256)
    {
        return BlackScholes.priceAndDeltaAt(t, spotWad, volWad);
    }

    /// @dev `pricer.tradePrices(q)` for each quote, or its revert data.
    function batchTradePrices(IOptionPricer pricer, IOptionPricer.TradeQuote[] calldata quotes)
        external
        view
        returns (bytes[] memory reverts, IOptionPricer.TradePrices[] memory results)
    {
        reverts = new bytes[](quotes.length);
        results = new IOptionPricer.TradePrices[](quotes.length);
        for (uint256 i; i < quotes.length; ++i) {
            try pricer.tradePrices(quotes[i]) returns (IOptionPricer.TradePrices memory p) {
                results[i] = p;
            } catch (bytes memory reason) {
                reverts[i] = reason;
            }
        }
    }

    /// @dev For each quote, the four single calls `tradePrices` stands for, in its order (`price` at the trade's
    /// point, `markAndDelta` at the marks' point, then up and down with the stress volatility): their results, or
    /// the revert data of the first that reverts.
    function batchFourCalls(IOptionPricer pricer, IOptionPricer.TradeQuote[] calldata quotes)
        external
        view
        returns (bytes[] memory reverts, IOptionPricer.TradePrices[] memory results)
    {
        reverts = new bytes[](quotes.length);
        results = new IOptionPricer.TradePrices[](quotes.length);
        for (uint256 i; i < quotes.length; ++i) {
            try this.fourCalls(pricer, quotes[i]) returns (IOptionPricer.TradePrices memory p) {
                results[i] = p;
            } catch (bytes memory reason) {
                reverts[i] = reason;
            }
        }
    }

    function fourCalls(IOptionPricer pricer, IOptionPricer.TradeQuote calldata q)
        external
        pure
        returns (IOptionPricer.TradePrices memory p)
    {
        p.priceWad = pricer.price(q.spotWad, q.strikeWad, q.timeSec, q.volWad, q.rateWad, q.isCall);
        (p.markWad, p.deltaWad, p.insideMargin) =
            pricer.markAndDelta(q.markSpotWad, q.strikeWad, q.markTimeSec, q.volWad, q.rateWad, q.isCall);
        (p.stressUpWad,,) =
            pricer.markAndDelta(q.upSpotWad, q.strikeWad, q.markTimeSec, q.stressVolWad, q.rateWad, q.isCall);
        (p.stressDownWad,,) =
            pricer.markAndDelta(q.downSpotWad, q.strikeWad, q.markTimeSec, q.stressVolWad, q.rateWad, q.isCall);
    }
}
