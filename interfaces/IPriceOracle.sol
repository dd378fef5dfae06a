// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title IPriceOracle
/// @notice The spot price of one underlying in one quote token, from a Chainlink AggregatorV3 feed,
/// failing closed: a positive answer, a complete round, freshness by heartbeat, an L2 sequencer that has
/// been up for a grace period (when a sequencer feed is configured) and a feed price within a bound of
/// the Uniswap V3 pool's TWAP. Every failure reverts with a custom error; nothing returns a doubtful
/// price.
/// Units: prices are quote per underlying in wad (3000e18 = 3000 quote per underlying), whatever the
/// feed's and the tokens' decimals.
interface IPriceOracle {
    /// @notice Freshness, grace and deviation settings, set by the admin within hard bounds.
    struct OracleParams {
        uint32 heartbeatSec;
        uint32 sequencerGraceSec;
        uint32 twapWindowSec;
        uint16 maxTwapDeviationBps;
        uint16 maxPoolDeviationBps;
    }

    /// @notice The feed answered zero or a negative price.
    error FeedAnswerNotPositive(uint80 roundId, int256 answer);
    /// @notice The round is incomplete (updatedAt 0) or its answer comes from an older round.
    error FeedRoundIncomplete(uint80 roundId, uint256 updatedAt, uint80 answeredInRound);
    /// @notice The answer is older than the heartbeat (or dated in the future).
    error FeedStale(uint256 updatedAt, uint256 nowSec, uint256 heartbeatSec);
    /// @notice The L2 sequencer reports down.
    error SequencerDown(int256 status);
    /// @notice The sequencer came back up less than the grace period ago.
    error SequencerGracePeriod(uint256 upSinceSec, uint256 graceSec);
    /// @notice The pool cannot give a TWAP over the window (history too short).
    error TwapUnavailable(uint32 windowSec);
    /// @notice The feed and the pool's TWAP differ by more than the bound.
    error TwapDeviation(uint256 feedWad, uint256 twapWad, uint256 maxDeviationBps);
    /// @notice The feed and the pool's current price differ by more than the bound.
    error PoolPriceDeviation(uint256 feedWad, uint256 poolWad, uint256 maxDeviationBps);
    /// @notice A settlement hint that is not the first complete round at or after `notBefore`: it was
    /// updated before `notBefore`, or the round before it in its phase was updated at or after it.
    error InvalidSettlementRound(uint80 roundId, uint256 updatedAt, uint256 notBefore);
    /// @notice A settlement hint that opens its phase, but an earlier phase's latest round `earlierRoundId`
    /// was already updated at or after `notBefore` (at `earlierUpdatedAt`): that phase holds the settlement round.
    error SettlementRoundNotFirst(uint80 roundId, uint80 earlierRoundId, uint256 earlierUpdatedAt, uint256 notBefore);
    /// @notice The round before the settlement hint (`previousRoundId`; for an earlier phase, that phase's
    /// round 0 when its aggregator cannot be read) cannot be read, so the hint cannot be shown to be the first.
    error SettlementRoundUnverifiable(uint80 roundId, uint80 previousRoundId);
    /// @notice A parameter outside its hard bound.
    error OracleParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice Constructor: the pool does not hold exactly the underlying and quote tokens.
    error PoolTokenMismatch(address pool, address underlying, address quote);

    /// @notice The settings changed.
    event OracleParamsSet(OracleParams params);

    /// @notice The checked feed price (all checks, including the TWAP cross-check).
    function spotWad() external view returns (uint256);

    /// @notice The feed's price in wad with the feed and sequencer checks of `spotWad` but without the TWAP
    /// cross-check (reverts with the same errors). For readers that cross-checked a recent price with
    /// `spotWad` and only need to know that the feed stays close to it.
    function feedSpotWad() external view returns (uint256);

    /// @notice Reverts `TwapDeviation` when `priceWad` is more than `maxTwapDeviationBps` away from the pool's TWAP
    /// over `twapWindowSec` (`TwapUnavailable` when the pool cannot answer): `spotWad`'s cross-check alone, for a
    /// reader that already holds `feedSpotWad()` from the same transaction (the pair is then exactly `spotWad`).
    function checkTwap(uint256 priceWad) external view;

    /// @notice `spotWad()` after also checking that the pool's current price (slot0) is within
    /// `maxPoolDeviationBps` of it: the price to bound a swap on that pool by.
    function swapSpotWad() external view returns (uint256);

    /// @notice Reverts `PoolPriceDeviation` when the pool's current price (slot0) is more than
    /// `maxPoolDeviationBps` away from `priceWad` (a price obtained from `spotWad()`).
    function checkPoolPrice(uint256 priceWad) external view;

    /// @notice The settlement round for `notBefore`: the first feed round, across the proxy's phases,
    /// updated at or after `notBefore`, found by timestamp (a binary search within a phase; earlier phases
    /// are visited only while a phase's first round is itself at or after `notBefore`). Returns 0 when no
    /// round is at or after `notBefore` yet, when a feed read fails, or when the round found is one that
    /// `settlementPriceWad(roundId, notBefore)` rejects (answer <= 0, incomplete): it never returns a
    /// hint that settlement would refuse, and never reverts (feed reverts are caught).
    /// Gas: O(log2(rounds in the phase) + phases visited) feed reads, about 6.5k gas per probe: 147k
    /// (21k intrinsic included) with 10,000 rounds after `notBefore` and 1,000 before (bench/RESULTS.md).
    /// For keepers (`checkUpkeep`).
    function firstRoundAtOrAfter(uint256 notBefore) external view returns (uint80 roundId);

    /// @notice The Chainlink price feed.
    function feed() external view returns (AggregatorV3Interface);

    /// @notice The pool's current price (slot0), quote per underlying in wad. No checks.
    function poolSpotWad() external view returns (uint256);

    /// @notice The pool's TWAP over `twapWindowSec`, quote per underlying in wad; reverts `TwapUnavailable`.
    function twapWad() external view returns (uint256);

    /// @notice The price of round `roundId`, after verifying that it is the one settlement round for
    /// `notBefore`: a positive answer, complete, updated at or after `notBefore`, and the round before it
    /// updated before `notBefore`. The round before is `roundId - 1` in the same phase; for the first round
    /// of a phase it is the latest round of the nearest earlier phase that has rounds (phases with no
    /// aggregator or no round are skipped); the first round of the first phase has none.
    /// Reverts `FeedAnswerNotPositive`, `FeedRoundIncomplete`, `InvalidSettlementRound`,
    /// `SettlementRoundNotFirst` or `SettlementRoundUnverifiable`.
    /// @dev Warning: exactly one round passes only because Chainlink's `updatedAt` never decreases from one
    /// round to the next, within a phase and from a phase to the next. The phase aggregators must be
    /// readable by this contract (not restricted to the proxy): when one cannot be read, a hint that opens a
    /// phase is refused (`SettlementRoundUnverifiable`) rather than accepted unchecked.
    function settlementPriceWad(uint80 roundId, uint256 notBefore) external view returns (uint256);

    /// @notice Set the settings (admin role). Hard bounds: heartbeat [60 s, 2 days], grace [0, 1 day],
    /// TWAP window [60 s, 1 day], deviations [10, 2000] bps.
    function setParams(OracleParams calldata params) external;
}
