// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICovarianceOracle
/// @notice Annualised volatilities and pairwise correlations of a fixed list of n assets (1 <= n <= 8, set at
/// construction), posted together by an updater role and checked before they take effect: every field
/// within its bounds, at least `minIntervalSec` after the previous post, each field moved by at most a step
/// that grows with the time since the previous post, and the correlation matrix positive semi-definite
/// within a tolerance (an on-chain Cholesky factorisation). Reads fail closed: nothing posted, or a post
/// older than `maxAgeSec`, reverts.
///
/// Units and packing. A volatility is in basis points of annual volatility (1 bp = 1e-4: 8000 = 80%), an
/// unsigned 16-bit field; asset i's volatility is bits [16 i, 16 i + 16) of `volsBp`. A correlation is in
/// basis points (10000 = 1.0), a signed 16-bit field (two's complement); the pair (i, j), i < j, has index
/// k = i n - i (i + 1) / 2 + (j - i - 1) (row-major over the upper triangle: (0,1), (0,2), ... (0,n-1),
/// (1,2), ...), and is bits [16 (k mod 16), 16 (k mod 16) + 16) of word floor(k / 16) of `corrsBp`. Fields
/// beyond n volatilities and n (n - 1) / 2 correlations must be zero (`CovPackingInvalid`), so a packing
/// off by one field is refused rather than read shifted.
/// Views return wad (1e18 = 1.0): vol_i wad = volBp_i x 1e14, correlation wad = corrBp x 1e14, and the
/// covariance S_ij = vol_i vol_j rho_ij in wad (annualised variance units) = volBp_i x volBp_j x corrBp_ij
/// x 1e6, which is exact (no rounding): the product of three bp figures is in units of 1e-12.
///
/// Rate bound (as `IVolatilityOracle`): a post at time t after the previous post at t0 may move each
/// volatility by at most min(maxVolStepBp, floor(maxVolRatePerHourBp x (t - t0) / 3600)) and each
/// correlation by at most min(maxCorrStepBp, floor(maxCorrRatePerHourBp x (t - t0) / 3600)), and only when
/// t - t0 >= minIntervalSec.
/// @dev Warning: the oracle's very first post is bounded only by the field bounds and the PSD check.
/// Warning: `setParams` (admin; a timelock in deployments) takes effect at once; the rate bound holds
/// between parameter changes.
///
/// PSD check. S = D R D with D = diag(vol) > 0, so S is PSD exactly when the correlation matrix R is; the
/// check factorises R (scale-free, unit diagonal) in integer fixed point: with L in wad and products in
/// 1e36, for each column j the pivot p_j = 1e36 - sum_{k<j} L_jk^2 (exact); p_j < -tau reverts
/// `CovNotPsd`, otherwise L_jj = floor(sqrt(max(p_j, tau))) and L_ij = (R_ij 1e36 - sum_{k<j} L_ik L_jk) / L_jj
/// truncated toward zero, where tau = psdTolBp x 1e32 (the tolerance in 1e36 units). A pivot raised to tau
/// adds at most 2 tau to that diagonal entry (a modified Cholesky), so:
/// * every PSD R passes (in exact arithmetic its pivots, also after earlier raises, are >= 0), including a
///   singular one (perfect correlation): a tiny negative pivot within the tolerance counts as PSD;
/// * a matrix that passes has lambda_min(R) > -2 tau (R + E is positive definite for a diagonal 0 <= E <= 2 tau);
/// * rounding: each L_ij is truncated by less than 1 wei and the pivots are exact from L; the row norms
///   stay <= 1 + 2 tau and 1/L_jj <= 1/sqrt(tau) (<= 100 at the least tolerance 1 bp), so the rounding error
///   of a pivot is below n x 1e-16 (in units of 1.0), far below tau >= 1e-4.
/// A keeper rounding a PSD matrix to basis points moves lambda_min by at most (n - 1) x 0.5e-4; the default
/// tolerance (5 bp) covers it for n <= 8.
interface ICovarianceOracle {
    /// @notice The bounds of the oracle, set by the admin within hard bounds. One storage slot.
    struct CovParams {
        uint16 minVolBp; // least volatility of any asset, bp (hard bounds [100, 50000])
        uint16 maxVolBp; // largest volatility, bp (>= minVolBp, <= 50000)
        int16 minCorrBp; // least correlation of any pair, bp (hard bounds [-10000, 10000])
        int16 maxCorrBp; // largest correlation, bp (>= minCorrBp, <= 10000)
        uint16 maxVolStepBp; // largest change of a volatility in one post, bp ([10, 10000])
        uint16 maxVolRatePerHourBp; // the allowed volatility step grows by this per hour since the last post
        uint16 maxCorrStepBp; // largest change of a correlation in one post, bp ([10, 20000])
        uint16 maxCorrRatePerHourBp; // the allowed correlation step grows by this per hour
        uint16 psdTolBp; // PSD tolerance tau in units of 1.0 x 1e-4 ([1, 100])
        uint32 minIntervalSec; // least time between two posts ([60 s, 1 day], <= maxAgeSec)
        uint32 maxAgeSec; // a post older than this is stale ([60 s, 7 days])
    }

    /// @notice The asset list at construction is empty or longer than `maxAssets`.
    error CovAssetCountOutOfRange(uint256 count, uint256 maxAssets);
    /// @notice Asset `index` of the list at construction is the zero address or repeats an earlier one.
    error CovAssetInvalid(uint256 index, address asset);
    /// @notice Nothing was ever posted.
    error CovNotPosted();
    /// @notice The latest post (at `updatedAt`) is older than `maxAgeSec` at `nowSec`.
    error CovStale(uint256 updatedAt, uint256 maxAgeSec, uint256 nowSec);
    /// @notice Word `wordIndex` of a post (0: the volatilities, 1 and 2: the correlation words) has a
    /// non-zero field beyond the n volatilities / n (n - 1) / 2 correlations.
    error CovPackingInvalid(uint256 wordIndex, uint256 word);
    /// @notice The volatility of asset `asset` is outside [minVolBp, maxVolBp].
    error CovVolOutOfBounds(uint256 asset, uint256 volBp, uint256 minVolBp, uint256 maxVolBp);
    /// @notice The correlation of the pair (i, j) is outside [minCorrBp, maxCorrBp].
    error CovCorrOutOfBounds(uint256 i, uint256 j, int256 corrBp, int256 minCorrBp, int256 maxCorrBp);
    /// @notice A post less than `minIntervalSec` after the previous one (at `lastUpdatedAt`).
    error CovPostTooSoon(uint256 lastUpdatedAt, uint256 minIntervalSec, uint256 nowSec);
    /// @notice The volatility of asset `asset` moves by more than `allowedStepBp` (see the rate bound).
    error CovVolStepExceeded(uint256 asset, uint256 previousVolBp, uint256 newVolBp, uint256 allowedStepBp);
    /// @notice The correlation of the pair (i, j) moves by more than `allowedStepBp` (see the rate bound).
    error CovCorrStepExceeded(uint256 i, uint256 j, int256 previousCorrBp, int256 newCorrBp, uint256 allowedStepBp);
    /// @notice The correlation matrix is not positive semi-definite within the tolerance: the pivot of
    /// column `pivotIndex` of its Cholesky factorisation is `pivotWad` (in units of 1.0 x 1e18, truncated),
    /// below -`toleranceWad`. Post a matrix with a larger least eigenvalue (shrink toward the identity).
    error CovNotPsd(uint256 pivotIndex, int256 pivotWad, uint256 toleranceWad);
    /// @notice A parameter outside its hard bound.
    error CovParamOutOfBounds(bytes32 name, int256 value, int256 min, int256 max);

    /// @notice A post took effect; `epoch` is the counter after it.
    event CovariancePosted(uint256 epoch, uint256 volsBp, uint256[2] corrsBp, address indexed updater);
    /// @notice The bounds changed.
    event CovParamsSet(CovParams params);

    /// @notice Post all volatilities and correlations at once (updater role), packed as described above.
    /// Checks, in order: packing (`CovPackingInvalid`), each volatility's bounds (`CovVolOutOfBounds`), each
    /// correlation's bounds (`CovCorrOutOfBounds`), unless it is the oracle's first post the interval
    /// (`CovPostTooSoon`) and each step (`CovVolStepExceeded`, `CovCorrStepExceeded`), then the PSD check
    /// (`CovNotPsd`). Increments the epoch.
    function post(uint256 volsBp, uint256[2] calldata corrsBp) external;

    /// @notice Set the bounds (admin role); reverts `CovParamOutOfBounds` outside the hard bounds listed in
    /// `CovParams`. Increments the epoch.
    function setParams(CovParams calldata params) external;

    /// @notice The covariance matrix in wad, n x n row-major (S_ij = volBp_i volBp_j corrBp_ij x 1e6, exact);
    /// reverts `CovNotPosted` / `CovStale`.
    function covarianceWad() external view returns (int256[] memory);

    /// @notice The latest post as posted (the packing above), checked fresh as `covarianceWad` is (reverts
    /// `CovNotPosted` / `CovStale`): for a reader that unpacks the matrix itself (three words returned instead
    /// of n^2; `CovarianceMath.covarianceWad` gives the same matrix).
    function freshPacked() external view returns (uint256 volsBp, uint256[2] memory corrsBp);

    /// @notice The volatilities in wad (volBp x 1e14); reverts like `covarianceWad`.
    function volsWad() external view returns (uint256[] memory);

    /// @notice The correlation matrix in wad, n x n row-major with 1e18 on the diagonal; reverts like
    /// `covarianceWad`.
    function correlationsWad() external view returns (int256[] memory);

    /// @notice The latest post as posted, without the freshness check (zeros before the first post).
    function packed() external view returns (uint256 volsBp, uint256[2] memory corrsBp, uint256 updatedAt);

    /// @notice Time of the latest post (0 before the first), unix seconds; never reverts.
    function lastUpdate() external view returns (uint256);

    /// @notice A counter that changes with every post and every change of the bounds (modulo 2^32).
    function epoch() external view returns (uint64);

    /// @notice The largest |change| of a volatility and of a correlation a post may make now, bp: (0, 0) less
    /// than `minIntervalSec` after the previous post; the whole bounds' widths before the first post.
    function allowedStepsNowBp() external view returns (uint256 volStepBp, uint256 corrStepBp);

    /// @notice The number of assets n.
    function assetCount() external view returns (uint256);

    /// @notice The assets, in the order of the packed fields.
    function assets() external view returns (address[] memory);

    /// @notice The current bounds.
    function params() external view returns (CovParams memory);
}
