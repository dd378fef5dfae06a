// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title AggregatorProxyInterface
/// @notice The phase side of a Chainlink price-feed proxy (EACAggregatorProxy), declared here for the same
/// reason as `AggregatorV3Interface`; same selectors as Chainlink's own.
/// A proxy points at one aggregator per phase. When Chainlink replaces the aggregator, the proxy starts a new
/// phase and the new aggregator numbers its rounds from 1 again. The proxy's round ids carry the phase:
/// `proxyRoundId = (phaseId << 64) | aggregatorRoundId`, and the proxy's `getRoundData(proxyRoundId)` asks
/// phase `phaseId`'s aggregator for `aggregatorRoundId` (its `roundId` and `answeredInRound` come back
/// tagged with the phase). Phase aggregators answer in plain aggregator round ids.
interface AggregatorProxyInterface is AggregatorV3Interface {
    /// @notice The current phase (Chainlink's proxies start at 1; phase 0 has no aggregator there).
    function phaseId() external view returns (uint16);

    /// @notice The aggregator of phase `phase`; the zero address for a phase that has none.
    function phaseAggregators(uint16 phase) external view returns (AggregatorV3Interface);
}
