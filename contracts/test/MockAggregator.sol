// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "../../interfaces/AggregatorV3Interface.sol";

/// @title MockAggregator
/// @notice A settable Chainlink-style feed for local chains only: every `setAnswer` opens a new round
/// (ids 1, 2, ...); `setRound` writes any field of any round, to build stale, incomplete or negative
/// rounds. `getRoundData` reverts for a round never written, like real aggregators.
contract MockAggregator is AggregatorV3Interface {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
        uint80 answeredInRound;
    }

    /// @notice `getRoundData` for a round that does not exist.
    error NoDataPresent(uint80 roundId);

    uint8 public immutable decimals;
    uint80 public latestRound;
    mapping(uint80 roundId => Round) public rounds;

    constructor(uint8 decimals_, int256 initialAnswer) {
        decimals = decimals_;
        setAnswer(initialAnswer);
    }

    /// @notice A new complete round with `answer`, started and updated now.
    function setAnswer(int256 answer) public {
        latestRound += 1;
        rounds[latestRound] = Round(answer, block.timestamp, block.timestamp, latestRound);
    }

    /// @notice Write round `roundId` as given; it becomes the latest when above the current latest.
    function setRound(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
        external
    {
        rounds[roundId] = Round(answer, startedAt, updatedAt, answeredInRound);
        if (roundId > latestRound) latestRound = roundId;
    }

    function description() external pure returns (string memory) {
        return "hedgevault mock feed";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = rounds[roundId];
        if (r.updatedAt == 0 && r.startedAt == 0 && r.answer == 0) revert NoDataPresent(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(latestRound);
    }
}
