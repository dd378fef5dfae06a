// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IVolatilityOracle} from "../../interfaces/IVolatilityOracle.sol";

/// @title VolatilityOracle
/// @notice Posted implied volatilities per expiry; see `IVolatilityOracle`.
contract VolatilityOracle is IVolatilityOracle, AccessControl {
    bytes32 public constant VOL_UPDATER_ROLE = keccak256("VOL_UPDATER_ROLE");

    uint256 internal constant HARD_MIN_VOL_WAD = 0.01e18;
    uint256 internal constant HARD_MAX_VOL_WAD = 5e18;
    uint256 internal constant HARD_MIN_STEP_WAD = 0.001e18;
    uint256 internal constant HARD_MAX_STEP_WAD = 1e18;
    uint256 internal constant HARD_MIN_AGE_SEC = 60;
    uint256 internal constant HARD_MAX_AGE_SEC = 7 days;
    uint256 internal constant HARD_MIN_RATE_PER_HOUR_WAD = 0.001e18;
    uint256 internal constant HARD_MAX_RATE_PER_HOUR_WAD = 1e18;
    uint256 internal constant HARD_MIN_INTERVAL_SEC = 60;
    uint256 internal constant HARD_MAX_INTERVAL_SEC = 1 days;

    struct Post {
        uint128 volWad;
        uint128 updatedAt;
    }

    /// @dev The bounds and the epoch share one slot: a reader checks the epoch and reads a volatility with
    /// one cold read of it. The epoch wraps modulo 2^32 (readers compare it for equality).
    uint64 internal _minVolWad;
    uint64 internal _maxVolWad;
    uint64 internal _maxStepWad;
    uint32 internal _maxAgeSec;
    uint32 internal _epoch;
    /// @dev The rate limit: its own slot, read by posts only.
    uint64 internal _maxRatePerHourWad;
    uint32 internal _minIntervalSec;
    /// @dev The latest post of any expiry (the first post of a new expiry's reference), in the same slot.
    uint64 internal _referenceVolWad;
    mapping(uint256 expiry => Post) internal _posts;

    constructor(address admin, VolParams memory initialParams) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(initialParams);
    }

    /// @inheritdoc IVolatilityOracle
    function postVol(uint256 expiry, uint256 newVolWad) external onlyRole(VOL_UPDATER_ROLE) {
        if (expiry <= block.timestamp) revert VolExpiryPassed(expiry);
        VolParams memory p = params();
        if (newVolWad < p.minVolWad || newVolWad > p.maxVolWad) {
            revert VolOutOfBounds(newVolWad, p.minVolWad, p.maxVolWad);
        }
        Post memory last = _posts[expiry];
        if (last.updatedAt != 0) {
            uint256 elapsedSec = block.timestamp - last.updatedAt;
            if (elapsedSec < p.minIntervalSec) revert VolPostTooSoon(expiry, last.updatedAt, p.minIntervalSec);
            uint256 allowedStepWad = _allowedStepWadDown(p, elapsedSec);
            uint256 previous = last.volWad;
            uint256 step = newVolWad > previous ? newVolWad - previous : previous - newVolWad;
            if (step > allowedStepWad) revert VolRateExceeded(previous, newVolWad, allowedStepWad);
        } else {
            uint256 reference_ = _referenceVolWad;
            uint256 distance = newVolWad > reference_ ? newVolWad - reference_ : reference_ - newVolWad;
            if (reference_ != 0 && distance > p.maxStepWad) {
                revert VolFirstPostTooFar(expiry, newVolWad, reference_, p.maxStepWad);
            }
        }
        // newVolWad <= maxVolWad <= 5e18 < 2^64
        _referenceVolWad = uint64(newVolWad);
        // newVolWad <= 5e18 and block.timestamp < 2^128: both fit
        _posts[expiry] = Post(uint128(newVolWad), uint128(block.timestamp));
        unchecked {
            ++_epoch;
        }
        emit VolPosted(expiry, newVolWad, msg.sender);
    }

    /// @inheritdoc IVolatilityOracle
    function setParams(VolParams calldata newParams) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(newParams);
    }

    /// @inheritdoc IVolatilityOracle
    function params() public view returns (VolParams memory) {
        return VolParams(_minVolWad, _maxVolWad, _maxStepWad, _maxAgeSec, _maxRatePerHourWad, _minIntervalSec);
    }

    /// @inheritdoc IVolatilityOracle
    function maxStepNowWad(uint256 expiry) external view returns (uint256) {
        if (expiry <= block.timestamp) return 0;
        VolParams memory p = params();
        uint256 updatedAt = _posts[expiry].updatedAt;
        if (updatedAt == 0) return p.maxVolWad - p.minVolWad;
        uint256 elapsedSec = block.timestamp - updatedAt;
        if (elapsedSec < p.minIntervalSec) return 0;
        return _allowedStepWadDown(p, elapsedSec);
    }

    /// @inheritdoc IVolatilityOracle
    function referenceVolWad() external view returns (uint256) {
        return _referenceVolWad;
    }

    /// @dev min(maxStepWad, maxRatePerHourWad x elapsedSec / 3600), rounded down (against the updater).
    function _allowedStepWadDown(VolParams memory p, uint256 elapsedSec) private pure returns (uint256) {
        uint256 rateStepWad;
        unchecked {
            // maxRatePerHourWad < 2^64 and elapsedSec <= block.timestamp < 2^128 (stored in 128 bits): below 2^192
            rateStepWad = uint256(p.maxRatePerHourWad) * elapsedSec / 1 hours;
        }
        return rateStepWad < p.maxStepWad ? rateStepWad : p.maxStepWad;
    }

    /// @inheritdoc IVolatilityOracle
    function maxStepWad() external view returns (uint256) {
        return _maxStepWad;
    }

    /// @inheritdoc IVolatilityOracle
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IVolatilityOracle
    function volWad(uint256 expiry) external view returns (uint256 vol) {
        (vol,) = _fresh(expiry);
    }

    /// @inheritdoc IVolatilityOracle
    function volWadUntil(uint256 expiry) external view returns (uint256, uint256) {
        return _fresh(expiry);
    }

    function _fresh(uint256 expiry) internal view returns (uint256, uint256) {
        Post memory post = _posts[expiry];
        if (post.updatedAt == 0) revert VolNotPosted(expiry);
        uint256 maxAge = _maxAgeSec;
        if (block.timestamp - post.updatedAt > maxAge) revert VolStale(expiry, post.updatedAt, maxAge);
        return (post.volWad, post.updatedAt + maxAge);
    }

    /// @inheritdoc IVolatilityOracle
    function lastPost(uint256 expiry) external view returns (uint256, uint256) {
        Post memory post = _posts[expiry];
        return (post.volWad, post.updatedAt);
    }

    function _setParams(VolParams memory p) internal {
        _checkBound("minVolWad", p.minVolWad, HARD_MIN_VOL_WAD, HARD_MAX_VOL_WAD);
        _checkBound("maxVolWad", p.maxVolWad, p.minVolWad, HARD_MAX_VOL_WAD);
        _checkBound("maxStepWad", p.maxStepWad, HARD_MIN_STEP_WAD, HARD_MAX_STEP_WAD);
        _checkBound("maxAgeSec", p.maxAgeSec, HARD_MIN_AGE_SEC, HARD_MAX_AGE_SEC);
        _checkBound("maxRatePerHourWad", p.maxRatePerHourWad, HARD_MIN_RATE_PER_HOUR_WAD, HARD_MAX_RATE_PER_HOUR_WAD);
        // at most maxAge: an expiry can be re-posted before its post goes stale
        uint256 maxIntervalSec = p.maxAgeSec < HARD_MAX_INTERVAL_SEC ? p.maxAgeSec : HARD_MAX_INTERVAL_SEC;
        _checkBound("minIntervalSec", p.minIntervalSec, HARD_MIN_INTERVAL_SEC, maxIntervalSec);
        (_minVolWad, _maxVolWad, _maxStepWad, _maxAgeSec) = (p.minVolWad, p.maxVolWad, p.maxStepWad, p.maxAgeSec);
        (_maxRatePerHourWad, _minIntervalSec) = (p.maxRatePerHourWad, p.minIntervalSec);
        unchecked {
            ++_epoch;
        }
        emit VolParamsSet(p);
    }

    function _checkBound(bytes32 name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert VolParamOutOfBounds(name, value, min, max);
    }
}
