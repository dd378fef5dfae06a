// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IVolatilityOracle
/// @notice Implied volatilities posted per expiry by an updater role. Every post is bounded: within
/// [minVolWad, maxVolWad], at least `minIntervalSec` after the previous post of the same expiry, and by
/// a step that grows with the time since that post at `maxRatePerHourWad` up to `maxStepWad`. Reads fail
/// closed when nothing was posted or the post is older than the staleness limit.
/// Units: `volWad` is annual volatility in wad (0.8e18 = 80%); `expiry` is a unix time in seconds.
///
/// Rate bound: a post at time t after the previous post of the same expiry at time t0 may move the
/// volatility by at most allowedStepWad = min(maxStepWad, floor(maxRatePerHourWad x (t - t0) / 3600)), and
/// only when t - t0 >= minIntervalSec. Hence, with the parameters unchanged, over any window of W seconds the
/// volatility of one expiry changes by at most maxStepWad + maxRatePerHourWad x W / 3600 (the first post in
/// the window takes at most maxStepWad, the others at most the rate times the time between them). At the
/// defaults (maxStepWad 0.05e18, maxRatePerHourWad 0.05e18, minIntervalSec 300) that is 10 vol points in
/// any hour, so a compromised updater key cannot walk 80% -> 5% -> 300% in one block.
/// The first post of an expiry must be within maxStepWad of the oracle's latest post of any expiry
/// (`referenceVolWad`). @dev Warning: the oracle's very first post is bounded only by [minVolWad,
/// maxVolWad]; nothing trades against an expiry before its first post (reads revert `VolNotPosted`).
/// Warning: `setParams` (admin) takes effect at once; the bound above holds between parameter changes.
interface IVolatilityOracle {
    /// @notice Bounds of the oracle, set by the admin within hard bounds. Fields share storage slots:
    /// the first four with the epoch (one cold read for a reader that checks the epoch), the last two
    /// together.
    struct VolParams {
        uint64 minVolWad;
        uint64 maxVolWad;
        uint64 maxStepWad; // largest change of one post, vol wad (0.05e18 = 5 vol points)
        uint32 maxAgeSec;
        uint64 maxRatePerHourWad; // vol wad the allowed step grows by per hour since the previous post
        uint32 minIntervalSec; // least time between two posts of one expiry
    }

    /// @notice Nothing was ever posted for `expiry`.
    error VolNotPosted(uint256 expiry);
    /// @notice The post for `expiry` is older than `maxAgeSec`.
    error VolStale(uint256 expiry, uint256 updatedAt, uint256 maxAgeSec);
    /// @notice A post outside [minVolWad, maxVolWad].
    error VolOutOfBounds(uint256 volWad, uint256 minVolWad, uint256 maxVolWad);
    /// @notice A post of `expiry` less than `minIntervalSec` after its previous post at `lastUpdatedAt`.
    error VolPostTooSoon(uint256 expiry, uint256 lastUpdatedAt, uint256 minIntervalSec);
    /// @notice A post that moves more than `allowedStepWad` (= min(maxStepWad, maxRatePerHourWad x
    /// seconds since the previous post / 3600), rounded down) from the previous one.
    error VolRateExceeded(uint256 previousVolWad, uint256 newVolWad, uint256 allowedStepWad);
    /// @notice The first post of an expiry more than `maxStepWad` from the oracle's latest post of any expiry
    /// (`referenceVolWad`): a new expiry starts next to the curve and then moves at the rate.
    error VolFirstPostTooFar(uint256 expiry, uint256 volWad, uint256 referenceVolWad, uint256 maxStepWad);
    /// @notice A post for an expiry in the past.
    error VolExpiryPassed(uint256 expiry);
    /// @notice A parameter outside its hard bound.
    error VolParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @notice A volatility was posted.
    event VolPosted(uint256 indexed expiry, uint256 volWad, address indexed updater);
    /// @notice The bounds changed.
    event VolParamsSet(VolParams params);

    /// @notice Post `volWad` for `expiry` (updater role). Reverts `VolExpiryPassed`, `VolOutOfBounds`,
    /// for an expiry posted before `VolPostTooSoon` or `VolRateExceeded` (see the rate bound above), and for
    /// the first post of an expiry `VolFirstPostTooFar` beyond `maxStepWad` of `referenceVolWad()` (the
    /// oracle's latest post of any expiry; unbounded for the oracle's very first post), so a compromised
    /// updater cannot open a newly listed expiry at the bottom of the bounds.
    function postVol(uint256 expiry, uint256 volWad) external;

    /// @notice Set the bounds (admin role). Hard bounds: min/max within [0.01, 5] (max >= min), maxStep in
    /// [0.001, 1], maxAge in [60 s, 7 days], maxRatePerHour in [0.001, 1], minInterval in [60 s, 1 day] and
    /// at most maxAge (so an expiry can be re-posted before its post goes stale).
    function setParams(VolParams calldata params) external;

    /// @notice The largest |change| a post of `expiry` may make now, in vol wad: 0 when no post is possible
    /// now (the expiry has passed, or less than `minIntervalSec` since its previous post); maxVolWad -
    /// minVolWad when it was never posted (the first post is bounded by `referenceVolWad()` instead); else
    /// min(maxStepWad, floor(maxRatePerHourWad x (now - lastUpdatedAt) / 3600)).
    function maxStepNowWad(uint256 expiry) external view returns (uint256);

    /// @notice The oracle's latest post of any expiry (0 before the first): a first post of an expiry must be
    /// within `maxStepWad` of it.
    function referenceVolWad() external view returns (uint256);

    /// @notice The fresh volatility of `expiry`; reverts `VolNotPosted` / `VolStale`.
    function volWad(uint256 expiry) external view returns (uint256);

    /// @notice The fresh volatility of `expiry` and the time until which it stays fresh (post time + max
    /// age, unix seconds); reverts like `volWad`.
    function volWadUntil(uint256 expiry) external view returns (uint256 volWad, uint256 freshUntilSec);

    /// @notice A counter that changes with every post and every change of the bounds (modulo 2^32): a reader
    /// that cached values computed from the posted volatilities knows they may have changed when it differs.
    function epoch() external view returns (uint64);

    /// @notice The largest step of any one post (`VolParams.maxStepWad`): what one post can move an
    /// expiry's vol by at most. One storage read (the slot `epoch` reads), for the vault's swing.
    function maxStepWad() external view returns (uint256);

    /// @notice The last post of `expiry` without freshness check (0, 0 if none).
    function lastPost(uint256 expiry) external view returns (uint256 volWad, uint256 updatedAt);

    /// @notice The current bounds.
    function params() external view returns (VolParams memory);
}
