// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IVolatilityOracle
/// @notice Implied volatilities posted per expiry by an updater role. Every post is bounded (min/max
/// and a maximum step from the previous post); reads fail closed when nothing was posted or the post
/// is older than the staleness limit.
/// Units: `volWad` is annual volatility in wad (0.8e18 = 80%); `expiry` is a unix time in seconds.
interface IVolatilityOracle {
    /// @notice Bounds of the oracle, set by the admin within hard bounds.
    struct VolParams {
        uint64 minVolWad;
        uint64 maxVolWad;
        uint64 maxStepWad;
        uint32 maxAgeSec;
    }

    /// @notice Nothing was ever posted for `expiry`.
    error VolNotPosted(uint256 expiry);
    /// @notice The post for `expiry` is older than `maxAgeSec`.
    error VolStale(uint256 expiry, uint256 updatedAt, uint256 maxAgeSec);
    /// @notice A post outside [minVolWad, maxVolWad].
    error VolOutOfBounds(uint256 volWad, uint256 minVolWad, uint256 maxVolWad);
    /// @notice A post that moves more than `maxStepWad` from the previous one.
    error VolStepTooLarge(uint256 previousVolWad, uint256 volWad, uint256 maxStepWad);
    /// @notice A post for an expiry in the past.
    error VolExpiryPassed(uint256 expiry);
    /// @notice A parameter outside its hard bound.
    error VolParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @notice A volatility was posted.
    event VolPosted(uint256 indexed expiry, uint256 volWad, address indexed updater);
    /// @notice The bounds changed.
    event VolParamsSet(VolParams params);

    /// @notice Post `volWad` for `expiry` (updater role).
    function postVol(uint256 expiry, uint256 volWad) external;

    /// @notice Set the bounds (admin role). Hard bounds: min/max within [0.01, 5], maxStep in
    /// [0.001, 1], maxAge in [60 s, 7 days].
    function setParams(VolParams calldata params) external;

    /// @notice The fresh volatility of `expiry`; reverts `VolNotPosted` / `VolStale`.
    function volWad(uint256 expiry) external view returns (uint256);

    /// @notice The fresh volatility of `expiry` and the time until which it stays fresh (post time + max
    /// age, unix seconds); reverts like `volWad`.
    function volWadUntil(uint256 expiry) external view returns (uint256 volWad, uint256 freshUntilSec);

    /// @notice A counter that changes with every post and every change of the bounds (modulo 2^32): a reader
    /// that cached values computed from the posted volatilities knows they may have changed when it differs.
    function epoch() external view returns (uint64);

    /// @notice The last post of `expiry` without freshness check (0, 0 if none).
    function lastPost(uint256 expiry) external view returns (uint256 volWad, uint256 updatedAt);

    /// @notice The current bounds.
    function params() external view returns (VolParams memory);
}
