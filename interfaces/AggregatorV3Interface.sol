// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title AggregatorV3Interface
/// @notice The read side of a Chainlink price feed (and of an L2 sequencer-uptime feed), declared here
/// because the Chainlink contracts npm package does not install on our machines. Same selectors as
/// Chainlink's own declaration.
interface AggregatorV3Interface {
    /// @notice Number of decimals of `answer`.
    function decimals() external view returns (uint8);

    /// @notice Human-readable description, e.g. "ETH / USD".
    function description() external view returns (string memory);

    /// @notice Version of the aggregator.
    function version() external view returns (uint256);

    /// @notice Data of round `roundId`. Real feeds revert for a round that does not exist.
    /// @return roundId The round id asked for.
    /// @return answer The price (or, for a sequencer feed, 0 = up and 1 = down).
    /// @return startedAt When the round started (for a sequencer feed: when its status last changed).
    /// @return updatedAt When the answer was written; 0 means an incomplete round.
    /// @return answeredInRound The round in which the answer was computed.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Data of the latest round; fields as in `getRoundData`.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
