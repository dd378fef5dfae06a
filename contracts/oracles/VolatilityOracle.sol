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
        uint256 previous = _posts[expiry].volWad;
        if (previous != 0) {
            uint256 step = newVolWad > previous ? newVolWad - previous : previous - newVolWad;
            if (step > p.maxStepWad) revert VolStepTooLarge(previous, newVolWad, p.maxStepWad);
        }
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
        return VolParams(_minVolWad, _maxVolWad, _maxStepWad, _maxAgeSec);
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
        (_minVolWad, _maxVolWad, _maxStepWad, _maxAgeSec) = (p.minVolWad, p.maxVolWad, p.maxStepWad, p.maxAgeSec);
        unchecked {
            ++_epoch;
        }
        emit VolParamsSet(p);
    }

    function _checkBound(bytes32 name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert VolParamOutOfBounds(name, value, min, max);
    }
}
