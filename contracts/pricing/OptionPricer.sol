// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";

/// @title OptionPricer
/// @notice `IOptionPricer` over `BlackScholes`: one deployed copy of the library's code for every vault.
contract OptionPricer is IOptionPricer {
    /// @inheritdoc IOptionPricer
    function price(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad, bool isCall)
        external
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
        (uint256 callWad, uint256 putWad) = BlackScholes.price(spotWad, strikeWad, timeSec, volWad, rateWad);
        (uint256 callDeltaWad, int256 putDeltaWad) = BlackScholes.delta(spotWad, strikeWad, timeSec, volWad, rateWad);
        // callDeltaWad <= 1e18
        return isCall ? (callWad, int256(callDeltaWad)) : (putWad, putDeltaWad);
    }
}
