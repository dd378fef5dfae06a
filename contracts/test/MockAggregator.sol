// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AggregatorProxyInterface} from "../../interfaces/AggregatorProxyInterface.sol";
import {AggregatorV3Interface} from "../../interfaces/AggregatorV3Interface.sol";

/// @title MockPhaseAggregator
/// @notice One phase's aggregator behind a `MockAggregator` proxy: it holds that phase's rounds, numbered
/// from 1 in plain aggregator round ids, and only its proxy writes them. `getRoundData` reverts for a round
/// never written; `latestRoundData` of a phase with no round yet answers zeros (as Chainlink's OCR
/// aggregators do).
contract MockPhaseAggregator is AggregatorV3Interface {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
        uint64 answeredInRound;
    }

    /// @notice `getRoundData` for a round that does not exist.
    error NoDataPresent(uint80 roundId);
    /// @notice A write from another address than the proxy that created this aggregator.
    error OnlyProxy(address caller);
    /// @notice Round 0 does not exist: aggregator rounds start at 1.
    error RoundZero();

    address public immutable proxy;
    uint8 public immutable decimals;
    /// @notice The highest round written (0 while the phase has none).
    uint64 public latestRound;
    mapping(uint64 roundId => Round) internal _rounds;

    constructor(uint8 decimals_) {
        proxy = msg.sender;
        decimals = decimals_;
    }

    /// @notice Write round `roundId` as given (proxy only); it becomes the latest when above the latest.
    function write(uint64 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint64 answeredInRound)
        external
    {
        if (msg.sender != proxy) revert OnlyProxy(msg.sender);
        if (roundId == 0) revert RoundZero();
        _rounds[roundId] =
            Round(answer, SafeCast.toUint64(startedAt), SafeCast.toUint64(updatedAt), answeredInRound);
        if (roundId > latestRound) latestRound = roundId;
    }

    /// @notice Round `roundId` as stored, zeros when never written (no revert).
    function rawRound(uint64 roundId) external view returns (Round memory) {
        return _rounds[roundId];
    }

    function description() external pure returns (string memory) {
        return "hedgevault mock phase aggregator";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId > type(uint64).max) revert NoDataPresent(roundId);
        Round memory r = _rounds[uint64(roundId)];
        if (r.updatedAt == 0 && r.startedAt == 0 && r.answer == 0) revert NoDataPresent(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, r.answeredInRound);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        if (latestRound == 0) return (0, 0, 0, 0, 0);
        return getRoundData(latestRound);
    }
}

/// @title MockAggregator
/// @notice A settable Chainlink-style feed for local chains only, shaped like Chainlink's proxy: one
/// `MockPhaseAggregator` per phase, round ids `(phaseId << 64) | aggregatorRoundId`, `getRoundData` routed
/// to the round's phase (reverting for a round that does not exist), `phaseId` and `phaseAggregators`.
/// Every `setAnswer` opens a new round in the current phase; `setRound` writes any field of any round of
/// the current or an earlier phase, to build stale, incomplete or negative rounds; `startPhase` switches
/// to a new aggregator whose rounds count from 1 again, as a Chainlink aggregator upgrade does.
/// @dev The mock's first phase is 0, so that its round ids are the plain 1, 2, ... that the tools and
/// tests have always used; Chainlink's proxies start at phase 1 (with no phase-0 aggregator).
contract MockAggregator is AggregatorProxyInterface {
    /// @notice `getRoundData` for a round that does not exist.
    error NoDataPresent(uint80 roundId);
    /// @notice `setRound` for a phase that has not started.
    error PhaseNotStarted(uint16 phase, uint16 currentPhase);

    /// @notice A new phase (aggregator) became current.
    event PhaseStarted(uint16 indexed phase, address aggregator);

    uint256 internal constant PHASE_OFFSET = 64;

    uint8 public immutable decimals;
    /// @inheritdoc AggregatorProxyInterface
    uint16 public phaseId;
    mapping(uint16 phase => MockPhaseAggregator) internal _aggregators;

    constructor(uint8 decimals_, int256 initialAnswer) {
        decimals = decimals_;
        _aggregators[0] = new MockPhaseAggregator(decimals_);
        emit PhaseStarted(0, address(_aggregators[0]));
        setAnswer(initialAnswer);
    }

    /// @notice Switch to a new aggregator (phase `phaseId + 1`) with no round yet; returns the new phase.
    function startPhase() external returns (uint16 phase) {
        phase = phaseId + 1;
        phaseId = phase;
        _aggregators[phase] = new MockPhaseAggregator(decimals);
        emit PhaseStarted(phase, address(_aggregators[phase]));
    }

    /// @notice A new complete round with `answer` in the current phase, started and updated now.
    function setAnswer(int256 answer) public {
        MockPhaseAggregator aggregator = _aggregators[phaseId];
        uint64 roundId = aggregator.latestRound() + 1;
        aggregator.write(roundId, answer, block.timestamp, block.timestamp, roundId);
    }

    /// @notice `count` complete rounds with `answer` appended to the current phase, the k-th (from 0)
    /// started and updated at `firstUpdatedAt + k * stepSec`: many rounds in one transaction for tests and
    /// benchmarks (the caller keeps them after the phase's latest, as a real feed's are).
    function appendRounds(int256 answer, uint256 count, uint256 firstUpdatedAt, uint256 stepSec) external {
        MockPhaseAggregator aggregator = _aggregators[phaseId];
        uint64 roundId = aggregator.latestRound();
        for (uint256 k = 0; k < count; ++k) {
            ++roundId;
            uint256 t = firstUpdatedAt + k * stepSec;
            aggregator.write(roundId, answer, t, t, roundId);
        }
    }

    /// @notice Write round `roundId` (a proxy round id) as given; it becomes its phase's latest when above
    /// it. `answeredInRound` is read as a proxy round id of the same phase (its low 64 bits are stored).
    function setRound(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
        external
    {
        (uint16 phase, uint64 aggregatorRoundId) = _parse(roundId);
        if (phase > phaseId) revert PhaseNotStarted(phase, phaseId);
        _aggregators[phase].write(aggregatorRoundId, answer, startedAt, updatedAt, uint64(answeredInRound));
    }

    /// @notice The latest round id of the current phase (its phase in the high bits).
    function latestRound() external view returns (uint80) {
        return _proxyRoundId(phaseId, _aggregators[phaseId].latestRound());
    }

    /// @notice Round `roundId` as stored, zeros when never written (no revert).
    function rounds(uint80 roundId)
        external
        view
        returns (int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        (uint16 phase, uint64 aggregatorRoundId) = _parse(roundId);
        if (phase > phaseId) return (0, 0, 0, 0);
        MockPhaseAggregator.Round memory r = _aggregators[phase].rawRound(aggregatorRoundId);
        return (r.answer, r.startedAt, r.updatedAt, _proxyRoundId(phase, r.answeredInRound));
    }

    /// @inheritdoc AggregatorProxyInterface
    function phaseAggregators(uint16 phase) external view returns (AggregatorV3Interface) {
        return _aggregators[phase];
    }

    function description() external pure returns (string memory) {
        return "hedgevault mock feed";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        (uint16 phase, uint64 aggregatorRoundId) = _parse(roundId);
        if (phase > phaseId) revert NoDataPresent(roundId);
        try _aggregators[phase].getRoundData(aggregatorRoundId) returns (
            uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound
        ) {
            return (roundId, answer, startedAt, updatedAt, _proxyRoundId(phase, uint64(answeredInRound)));
        } catch {
            revert NoDataPresent(roundId);
        }
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint16 phase = phaseId;
        (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound) =
            _aggregators[phase].latestRoundData();
        return (
            _proxyRoundId(phase, uint64(roundId)),
            answer,
            startedAt,
            updatedAt,
            _proxyRoundId(phase, uint64(answeredInRound))
        );
    }

    /// @notice The latest round's answer (Chainlink's legacy `AggregatorInterface`, which Aave's `AaveOracle`
    /// reads); 0 while the current phase has no round yet.
    function latestAnswer() external view returns (int256) {
        MockPhaseAggregator aggregator = _aggregators[phaseId];
        return aggregator.rawRound(aggregator.latestRound()).answer;
    }

    /// @notice The latest round's `updatedAt` (legacy `AggregatorInterface`); 0 while the current phase has no
    /// round yet.
    function latestTimestamp() external view returns (uint256) {
        MockPhaseAggregator aggregator = _aggregators[phaseId];
        return aggregator.rawRound(aggregator.latestRound()).updatedAt;
    }

    function _parse(uint80 roundId) internal pure returns (uint16 phase, uint64 aggregatorRoundId) {
        return (uint16(roundId >> PHASE_OFFSET), uint64(roundId));
    }

    function _proxyRoundId(uint16 phase, uint64 aggregatorRoundId) internal pure returns (uint80) {
        return uint80((uint256(phase) << PHASE_OFFSET) | aggregatorRoundId);
    }
}
