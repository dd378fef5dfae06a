// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ICovarianceOracle} from "../../interfaces/ICovarianceOracle.sol";
import {CovarianceMath} from "./CovarianceMath.sol";

/// @title CovarianceOracle
/// @notice Posted volatilities and correlations of n assets; see `ICovarianceOracle`.
contract CovarianceOracle is ICovarianceOracle, AccessControl {
    bytes32 public constant COV_UPDATER_ROLE = keccak256("COV_UPDATER_ROLE");

    int256 internal constant HARD_MIN_VOL_BP = 100;
    int256 internal constant HARD_MAX_VOL_BP = 50_000;
    int256 internal constant HARD_MAX_CORR_BP = 10_000;
    int256 internal constant HARD_MIN_STEP_BP = 10;
    int256 internal constant HARD_MAX_VOL_STEP_BP = 10_000;
    int256 internal constant HARD_MAX_CORR_STEP_BP = 20_000;
    int256 internal constant HARD_MIN_PSD_TOL_BP = 1;
    int256 internal constant HARD_MAX_PSD_TOL_BP = 100;
    int256 internal constant HARD_MIN_AGE_SEC = 60;
    int256 internal constant HARD_MAX_AGE_SEC = 7 days;
    int256 internal constant HARD_MIN_INTERVAL_SEC = 60;
    int256 internal constant HARD_MAX_INTERVAL_SEC = 1 days;

    uint256 public immutable assetCount;

    /// @dev The parameters: one slot, read by every post and every read.
    CovParams internal _params;
    /// @dev The volatilities (n x 16 bits <= 128), the post time and the epoch share one slot, written by
    /// every post. The epoch wraps modulo 2^32 (readers compare it for equality).
    uint128 internal _volsBp;
    uint64 internal _updatedAt;
    uint32 internal _epoch;
    /// @dev The correlation words; the second is written only when n (n - 1) / 2 > 16 (n >= 7).
    uint256[2] internal _corrsBp;
    address[] internal _assets;

    constructor(address admin, address[] memory assetList, CovParams memory initialParams) {
        uint256 n = assetList.length;
        if (n == 0 || n > CovarianceMath.MAX_ASSETS) revert CovAssetCountOutOfRange(n, CovarianceMath.MAX_ASSETS);
        for (uint256 i; i < n; ++i) {
            address asset = assetList[i];
            if (asset == address(0)) revert CovAssetInvalid(i, asset);
            for (uint256 k; k < i; ++k) {
                if (assetList[k] == asset) revert CovAssetInvalid(i, asset);
            }
        }
        assetCount = n;
        _assets = assetList;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(initialParams);
    }

    /// @inheritdoc ICovarianceOracle
    function post(uint256 volsBp, uint256[2] calldata corrsBp) external onlyRole(COV_UPDATER_ROLE) {
        uint256 n = assetCount;
        uint256[2] memory corrs = corrsBp;
        CovarianceMath.checkPacking(volsBp, corrs, n);
        CovParams memory p = _params;
        for (uint256 i; i < n; ++i) {
            uint256 v = CovarianceMath.volBp(volsBp, i);
            if (v < p.minVolBp || v > p.maxVolBp) revert CovVolOutOfBounds(i, v, p.minVolBp, p.maxVolBp);
        }
        _checkCorrBounds(corrs, n, p);
        uint256 last = _updatedAt;
        if (last != 0) _checkSteps(volsBp, corrs, n, p, last);
        CovarianceMath.checkPsd(corrs, n, p.psdTolBp);
        uint32 newEpoch;
        unchecked {
            // wraps modulo 2^32 by design
            newEpoch = _epoch + 1;
        }
        // checkPacking: volsBp < 2^(16 n) <= 2^128; block.timestamp < 2^64
        (_volsBp, _updatedAt, _epoch) = (uint128(volsBp), uint64(block.timestamp), newEpoch);
        _corrsBp[0] = corrs[0];
        if (CovarianceMath.pairCount(n) > 16) _corrsBp[1] = corrs[1];
        emit CovariancePosted(newEpoch, volsBp, corrs, msg.sender);
    }

    function _checkCorrBounds(uint256[2] memory corrs, uint256 n, CovParams memory p) private pure {
        uint256 k;
        for (uint256 i; i < n; ++i) {
            for (uint256 j = i + 1; j < n; ++j) {
                int256 c = CovarianceMath.corrBp(corrs, k);
                if (c < p.minCorrBp || c > p.maxCorrBp) revert CovCorrOutOfBounds(i, j, c, p.minCorrBp, p.maxCorrBp);
                ++k;
            }
        }
    }

    function _checkSteps(uint256 volsBp, uint256[2] memory corrs, uint256 n, CovParams memory p, uint256 last)
        private
        view
    {
        uint256 elapsedSec = block.timestamp - last;
        if (elapsedSec < p.minIntervalSec) revert CovPostTooSoon(last, p.minIntervalSec, block.timestamp);
        (uint256 volStep, uint256 corrStep) = _allowedStepsBp(p, elapsedSec);
        uint256 previousVols = _volsBp;
        for (uint256 i; i < n; ++i) {
            uint256 v = CovarianceMath.volBp(volsBp, i);
            uint256 previous = CovarianceMath.volBp(previousVols, i);
            if ((v > previous ? v - previous : previous - v) > volStep) {
                revert CovVolStepExceeded(i, previous, v, volStep);
            }
        }
        uint256[2] memory previousCorrs = _corrsBp;
        uint256 k;
        for (uint256 i; i < n; ++i) {
            for (uint256 j = i + 1; j < n; ++j) {
                int256 c = CovarianceMath.corrBp(corrs, k);
                int256 previous = CovarianceMath.corrBp(previousCorrs, k);
                // both within [-32768, 32767]: the difference fits
                if (uint256(c > previous ? c - previous : previous - c) > corrStep) {
                    revert CovCorrStepExceeded(i, j, previous, c, corrStep);
                }
                ++k;
            }
        }
    }

    /// @dev min(maxStep, floor(ratePerHour x elapsedSec / 3600)) for volatilities and correlations, rounded
    /// down (against the updater).
    function _allowedStepsBp(CovParams memory p, uint256 elapsedSec) private pure returns (uint256, uint256) {
        uint256 volStep;
        uint256 corrStep;
        unchecked {
            // rates < 2^16 and elapsedSec <= block.timestamp < 2^64: products below 2^80
            volStep = uint256(p.maxVolRatePerHourBp) * elapsedSec / 1 hours;
            corrStep = uint256(p.maxCorrRatePerHourBp) * elapsedSec / 1 hours;
        }
        return (
            volStep < p.maxVolStepBp ? volStep : p.maxVolStepBp,
            corrStep < p.maxCorrStepBp ? corrStep : p.maxCorrStepBp
        );
    }

    /// @inheritdoc ICovarianceOracle
    function setParams(CovParams calldata newParams) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(newParams);
    }

    /// @inheritdoc ICovarianceOracle
    function covarianceWad() external view returns (int256[] memory) {
        (uint256 volsBp, uint256[2] memory corrs) = _fresh();
        return CovarianceMath.covarianceWad(volsBp, corrs, assetCount);
    }

    /// @inheritdoc ICovarianceOracle
    function freshPacked() external view returns (uint256 volsBp, uint256[2] memory corrsBp) {
        return _fresh();
    }

    /// @inheritdoc ICovarianceOracle
    function volsWad() external view returns (uint256[] memory vols) {
        (uint256 volsBp,) = _fresh();
        uint256 n = assetCount;
        vols = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            vols[i] = CovarianceMath.volBp(volsBp, i) * 1e14;
        }
    }

    /// @inheritdoc ICovarianceOracle
    function correlationsWad() external view returns (int256[] memory corr) {
        (, uint256[2] memory corrs) = _fresh();
        uint256 n = assetCount;
        corr = new int256[](n * n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            corr[i * n + i] = 1e18;
            for (uint256 j = i + 1; j < n; ++j) {
                int256 c = CovarianceMath.corrBp(corrs, k) * 1e14;
                corr[i * n + j] = c;
                corr[j * n + i] = c;
                ++k;
            }
        }
    }

    function _fresh() internal view returns (uint256 volsBp, uint256[2] memory corrs) {
        uint256 updatedAt = _updatedAt;
        if (updatedAt == 0) revert CovNotPosted();
        uint256 maxAge = _params.maxAgeSec;
        if (block.timestamp - updatedAt > maxAge) revert CovStale(updatedAt, maxAge, block.timestamp);
        // the second correlation word is written only when n (n - 1) / 2 > 16 (`post`): zero otherwise, unread
        return (_volsBp, [_corrsBp[0], CovarianceMath.pairCount(assetCount) > 16 ? _corrsBp[1] : 0]);
    }

    /// @inheritdoc ICovarianceOracle
    function packed() external view returns (uint256, uint256[2] memory, uint256) {
        return (_volsBp, _corrsBp, _updatedAt);
    }

    /// @inheritdoc ICovarianceOracle
    function lastUpdate() external view returns (uint256) {
        return _updatedAt;
    }

    /// @inheritdoc ICovarianceOracle
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc ICovarianceOracle
    function allowedStepsNowBp() external view returns (uint256, uint256) {
        CovParams memory p = _params;
        uint256 last = _updatedAt;
        if (last == 0) {
            return (uint256(p.maxVolBp - p.minVolBp), uint256(int256(p.maxCorrBp) - p.minCorrBp));
        }
        uint256 elapsedSec = block.timestamp - last;
        if (elapsedSec < p.minIntervalSec) return (0, 0);
        return _allowedStepsBp(p, elapsedSec);
    }

    /// @inheritdoc ICovarianceOracle
    function assets() external view returns (address[] memory) {
        return _assets;
    }

    /// @inheritdoc ICovarianceOracle
    function params() external view returns (CovParams memory) {
        return _params;
    }

    function _setParams(CovParams memory p) internal {
        _checkBound("minVolBp", int256(uint256(p.minVolBp)), HARD_MIN_VOL_BP, HARD_MAX_VOL_BP);
        _checkBound("maxVolBp", int256(uint256(p.maxVolBp)), int256(uint256(p.minVolBp)), HARD_MAX_VOL_BP);
        _checkBound("minCorrBp", p.minCorrBp, -HARD_MAX_CORR_BP, HARD_MAX_CORR_BP);
        _checkBound("maxCorrBp", p.maxCorrBp, p.minCorrBp, HARD_MAX_CORR_BP);
        _checkBound("maxVolStepBp", int256(uint256(p.maxVolStepBp)), HARD_MIN_STEP_BP, HARD_MAX_VOL_STEP_BP);
        _checkBound(
            "maxVolRatePerHourBp", int256(uint256(p.maxVolRatePerHourBp)), HARD_MIN_STEP_BP, HARD_MAX_VOL_STEP_BP
        );
        _checkBound("maxCorrStepBp", int256(uint256(p.maxCorrStepBp)), HARD_MIN_STEP_BP, HARD_MAX_CORR_STEP_BP);
        _checkBound(
            "maxCorrRatePerHourBp", int256(uint256(p.maxCorrRatePerHourBp)), HARD_MIN_STEP_BP, HARD_MAX_CORR_STEP_BP
        );
        _checkBound("psdTolBp", int256(uint256(p.psdTolBp)), HARD_MIN_PSD_TOL_BP, HARD_MAX_PSD_TOL_BP);
        _checkBound("maxAgeSec", int256(uint256(p.maxAgeSec)), HARD_MIN_AGE_SEC, HARD_MAX_AGE_SEC);
        // at most maxAge: the oracle can be re-posted before its post goes stale
        int256 maxIntervalSec = int256(uint256(p.maxAgeSec)) < HARD_MAX_INTERVAL_SEC
            ? int256(uint256(p.maxAgeSec))
            : HARD_MAX_INTERVAL_SEC;
        _checkBound("minIntervalSec", int256(uint256(p.minIntervalSec)), HARD_MIN_INTERVAL_SEC, maxIntervalSec);
        _params = p;
        unchecked {
            ++_epoch;
        }
        emit CovParamsSet(p);
    }

    function _checkBound(bytes32 name, int256 value, int256 min, int256 max) private pure {
        if (value < min || value > max) revert CovParamOutOfBounds(name, value, min, max);
    }
}
