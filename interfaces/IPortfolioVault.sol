// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AutomationCompatibleInterface} from "./AutomationCompatibleInterface.sol";
import {IPortfolioMath} from "./IPortfolioMath.sol";

/// @title IPortfolioVault
/// @notice An ERC-4626 vault over a quote token that holds N risky assets (1 <= N <= 8, fixed at construction)
/// at target weights posted by a keeper and verified on-chain (`PortfolioMath.verify` against the
/// `CovarianceOracle`'s current matrix under `rules()`), rebalanced by permissionless upkeeps through each
/// asset's Uniswap V3 pool against the quote token, one oracle-bounded slice at a time, inside no-trade bands,
/// under a leaky-bucket slippage budget. The vault implements IERC4626 (OpenZeppelin 5) besides this interface.
///
/// Units (names carry them): `...Wad` is 1e18 fixed point; weights are fractions of NAV in wad; prices are
/// quote per asset in wad (the project's `IPriceOracle.spotWad`); `...Quote` and every ERC-4626 amount are in
/// quote token units (its own decimals); asset balances in the asset's own units; `...Bps` 1/10,000,
/// `...Bp` (bandScaleBp) 1/10,000 of 1.0; times unix seconds.
///
/// Valuation (quote units):
///   value_i = floor(balance_i x price_i / (1e18 x 10^(18 - quote decimals)) x 10^(18 - asset decimals))
///   NAV     = quote balance + sum_i value_i                 (fail closed: any oracle error reverts)
///   w_i     = floor(value_i x 1e18 / NAV)                    (0 when NAV = 0)
///   swing   = ceil(sum_i value_i x feedDeviationBps / 1e4)   (what one feed round can move NAV)
///   deposits and mints price shares at NAV + swing; withdrawals and redemptions at NAV - swing.
/// Risk (S: the oracle's covariance in wad; d = w - t signed):
///   exAnteVol = floor(sqrt(w'Sw)), trackingError = floor(sqrt(d'Sd)) (wad, PortfolioMath units).
/// No-trade band of asset i (sigma_i: the oracle's annualised volatility, wad; c = costBps / 1e4):
///   band_i = clamp(floor(bandScaleBp x cbrt(c x sigma_i^2) / 1e4), minBandWad, maxBandWad),
///   cbrt(c sigma^2) computed exactly as floor(cbrt(costBps x 1e14 x sigmaWad^2)) (an integer cube root of a
///   1e54-unit figure gives wad). The optimal no-trade band under proportional costs grows like
///   (cost x sigma^2)^(1/3) (Rogers 2001; Leland 2000): bandScaleBp is the constant (risk aversion and
///   horizon folded in), clamped for safety.
/// Rebalancing (`performUpkeep`, anyone): among assets with |w_i - t_i| > band_i whose move toward the
/// target lowers the tracking error to first order (d_i (Sd)_i > 0), sells first (w_i > t_i), then buys,
/// the largest |d_i| / band_i first; ONE slice of that asset, of quote value at most the least of
///   the gap to target |d_i| x NAV and the tracking-error minimiser |(Sd)_i| / S_ii x NAV (no overshoot),
///   NAV x maxNavLossBps / maxSlippageBps (the slice's worst cost within the NAV-loss bound),
///   budgetAvailable x 1e4 / maxSlippageBps (the worst cost within the slippage budget),
///   for a buy (1 - maxSlippage) x the above (NAV falls by the buy's cost: the weight lands short of, not
///   beyond, its target) and the quote balance / (1 + maxSlippage);
///   and what the pool can trade before its price reaches the limit (`PoolBeyondLimit` when nothing);
/// An upkeep values the assets at `IPriceOracle.feedSpotWad` (the feed's checks without the TWAP cross-check,
/// to save ~18k gas per asset) and cross-checks the traded asset's answer with `checkTwap` before it trades (with
/// `feedSpotWad` in the same transaction, exactly `spotWad`); deposits,
/// withdrawals and the views use `spotWad` for every asset. The slice trades
/// at a Uniswap V3 sqrtPriceLimit at which the marginal price net of the pool fee is within maxSlippageBps of
/// the oracle price (the pool stops there: a partial slice), the average price checked again after the swap.
/// Post-trade checks, each its own error: the touched weight moved strictly toward its target, the tracking
/// error (d'Sd, exact) strictly lower, NAV loss <= maxNavLossBps of NAV, in TargetVol mode the ex-ante
/// variance no farther from [minVol^2, maxVol^2] than before; cost = max(NAV before - NAV after, 0) is
/// charged to the slippage budget.
/// Slippage budget (a leaky bucket, Enzyme's cumulative-slippage policy): capacity = NAV x budgetBps / 1e4;
/// the level (cost charged) drains linearly, capacity x elapsed / budgetPeriodSec; available = capacity -
/// level. Rebalancing stops (`checkUpkeep` false, `performUpkeep` reverts `SlippageBudgetSpent`) while the
/// available budget is below the worst cost of a minimum slice (NAV x minBandWad / 2 at maxSlippageBps).
/// Withdrawals: quote from the buffer; beyond it every asset is sold pro rata to its value in one bounded
/// swap each (the sqrtPriceLimit above); the withdrawer bears the swing and the realised cost of those sales
/// (NAV before - NAV after the sales), so the remaining holders' NAV falls by exactly what the withdrawer's
/// shares were worth at NAV - swing. `redeemInKind` exits without any oracle or swap: a pro-rata share of
/// every balance.
interface IPortfolioVault is AutomationCompatibleInterface {
    /// @notice One risky asset, fixed at construction; the order equals the covariance oracle's `assets()`.
    /// `priceOracle` is the project's `IPriceOracle` (fail-closed, asset/quote); `pool` the Uniswap V3
    /// asset/quote pool the vault trades on.
    /// @dev Warning: tokens must be standard ERC-20s (a transfer moves exactly its amount: no transfer fee, no
    /// rebasing), as Uniswap V3 pools assume: a slice takes its balances after the swap from the pool's amounts.
    /// NAV reads every balance with `balanceOf`, so a donation is counted (it raises the share price of the
    /// holders; the donor gives it away).
    struct Holding {
        address token;
        address priceOracle;
        address pool;
    }

    /// @notice Rebalancing and pricing parameters (admin; hard bounds in `setRebalanceParams`).
    struct RebalanceParams {
        uint16 maxSlippageBps; // a slice's price limit vs the oracle price (default 100)
        uint16 maxNavLossBps; // a slice's NAV loss bound, bps of NAV (default 25)
        uint16 costBps; // estimated one-way trading cost used by the band rule (default 40)
        uint32 bandScaleBp; // the band rule's constant kappa, bp of 1.0 (default 3500 = 0.35)
        uint64 minBandWad; // floor of every no-trade band (default 0.005e18)
        uint64 maxBandWad; // ceiling (default 0.10e18)
        uint16 budgetBps; // slippage budget capacity, bps of NAV (default 100)
        uint32 budgetPeriodSec; // the bucket drains fully over this period (default 30 days)
        uint16 feedDeviationBps; // swing for deposits/withdrawals against oracle latency (default 50)
        uint32 minTargetIntervalSec; // least time between two target posts (default 1 hour)
        uint64 rcToleranceWad; // risk-parity catch-up: a held risk contribution this far off its budget (default 0.05e18)
        uint64 rcDustWad; // the least step a catch-up trades (risk parity; de-risking in TargetVol), weight (default 0.001e18)
        uint16 deriskMarginBps; // TargetVol: de-risking sales skip the bands while the held vol is above maxVol x (1 + this) (default 2500)
    }

    /// @notice One asset in `state()`: balance (asset units), oracle price (wad), value (quote units),
    /// weight, target and band (wad).
    struct AssetState {
        uint256 balance;
        uint256 priceWad;
        uint256 valueQuote;
        uint256 weightWad;
        uint256 targetWad;
        uint256 bandWad;
    }

    /// @notice The whole portfolio now (`state()`).
    struct PortfolioState {
        uint256 navQuote;
        uint256 quoteBalance;
        AssetState[] assets;
        uint256 exAnteVolWad; // sqrt(w'Sw) of the current weights
        uint256 targetVolWad; // of the targets, at setTargets
        uint256 trackingErrorWad; // sqrt((w-t)'S(w-t)) of the current weights
        uint256 budgetAvailableQuote;
        uint256 budgetCapacityQuote;
        uint256 targetsSetAt;
        uint64 covEpoch;
    }

    // ---------------------------------------------------------------- errors

    /// @notice A zero amount (deposit, mint, withdraw, redeem).
    error ZeroAmount();
    /// @notice A zero address where one is needed (admin, receiver, a holding's fields).
    error ZeroAddress();
    /// @notice Constructor: `what` is wrong (e.g. "assetCount", "decimals", "quote").
    error BadConfiguration(bytes32 what);
    /// @notice Constructor: holding `index` does not match the covariance oracle's asset `oracleAsset`, repeats a
    /// token, or its pool does not hold exactly the token and the quote.
    error HoldingInvalid(uint256 index, address token, address oracleAsset, address pool);
    /// @notice No target was ever posted.
    error TargetsNotSet();
    /// @notice A target post less than `minTargetIntervalSec` after the previous one (at `lastSetAt`).
    error TargetsTooSoon(uint256 lastSetAt, uint256 minIntervalSec, uint256 nowSec);
    /// @notice A parameter outside its hard bound.
    error ParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice No asset is outside its band with a trade that would lower the tracking error.
    error NoRebalanceNeeded();
    /// @notice The slippage budget left (`availableQuote`) is below the worst cost of the least slice
    /// (`neededQuote`).
    error SlippageBudgetSpent(uint256 availableQuote, uint256 neededQuote);
    /// @notice A slice would raise (or keep) the tracking error: d'Sd before/after as volatilities (wad, floor).
    error TradeIncreasesTrackingError(uint256 beforeWad, uint256 afterWad);
    /// @notice The traded asset's weight did not move strictly toward its target.
    error WeightNotTowardTarget(uint256 asset, uint256 beforeWad, uint256 afterWad, uint256 targetWad);
    /// @notice A slice lost more than `maxNavLossBps` of NAV.
    error NavLossTooLarge(uint256 navBefore, uint256 navAfter, uint256 maxNavLossBps);
    /// @notice TargetVol mode: the slice moved the ex-ante volatility farther from [minVolWad, maxVolWad].
    error VolMovedAwayFromBand(uint256 volBeforeWad, uint256 volAfterWad, uint256 minVolWad, uint256 maxVolWad);
    /// @notice The pool's price (`sqrtPriceX96`) is already at or beyond the slice's limit (`limitX96`).
    error PoolBeyondLimit(uint160 sqrtPriceX96, uint160 limitX96);
    /// @notice A swap's average price is outside the oracle bound: `amountIn` paid for `amountOut`, bound on
    /// the quote side `boundQuote`.
    error SliceOutsideBound(uint256 amountIn, uint256 amountOut, uint256 boundQuote);
    /// @notice A withdrawal's sale of asset `asset` filled `filled` of `wanted` within the price bound (the pool
    /// is too thin or too far from the oracle): withdraw less, or redeem in kind.
    error SaleIncomplete(uint256 asset, uint256 wanted, uint256 filled);
    /// @notice `uniswapV3SwapCallback` from anything but the pool of the vault's swap in progress.
    error NotOwnPool(address caller);
    /// @notice Deposits are closed (paused, or an oracle fails).
    error DepositsClosed();
    /// @notice The shares are worth zero assets.
    error ZeroAssets(uint256 shares);
    /// @notice Reentrant call (the name and selector of OpenZeppelin's ReentrancyGuard error).
    error ReentrancyGuardReentrantCall();
    /// @notice Paused (deposits, mints, upkeeps; withdrawals until `maxPauseSec`).
    error EnforcedPause();
    /// @notice `unpause` while not paused.
    error ExpectedPause();

    // ---------------------------------------------------------------- events

    event TargetsSet(int256[] weightsWad, uint256 exAnteVolWad, uint64 covEpoch, address indexed by);
    event Rebalanced(
        uint256 indexed asset,
        int256 assetDelta,
        int256 quoteDelta,
        uint256 costQuote,
        uint256 trackingErrorBeforeWad,
        uint256 trackingErrorAfterWad
    );
    event RulesSet(IPortfolioMath.TargetRules rules);
    event RebalanceParamsSet(RebalanceParams params);
    /// @notice A withdrawal sold assets worth `soldValueQuote` at the oracle for `raisedQuote`; the owner bore
    /// `costQuote`.
    event WithdrawalSales(address indexed owner, uint256 soldValueQuote, uint256 raisedQuote, uint256 costQuote);
    event RedeemedInKind(address indexed owner, address indexed receiver, uint256 shares, uint256[] amounts, uint256 quoteAmount);
    event Paused(address account);
    event Unpaused(address account);

    // ---------------------------------------------------------------- functions

    /// @notice The risky assets, in the covariance oracle's order.
    function holdings() external view returns (Holding[] memory);

    /// @notice The `ICovarianceOracle` the targets and bands are computed from.
    function covarianceOracle() external view returns (address);

    /// @notice Post target weights (TARGET_SETTER_ROLE): verified by `PortfolioMath.verify` against the
    /// covariance oracle's current matrix under `rules()` (reverts with the PortfolioMath error, or the
    /// oracle's `CovNotPosted` / `CovStale`), at least `minTargetIntervalSec` after the previous post
    /// (`TargetsTooSoon`).
    function setTargets(int256[] calldata weightsWad) external;

    /// @notice The current targets, their ex-ante volatility at posting and when they were posted (empty
    /// before the first post).
    function targets() external view returns (int256[] memory weightsWad, uint256 exAnteVolWad, uint256 setAt);

    /// @notice The rules targets are verified against.
    function rules() external view returns (IPortfolioMath.TargetRules memory);

    /// @notice Set the rules (admin). Arrays of length N (budgets N in RiskParity mode); each weight bound <= 1e18,
    /// min <= max; volatility band <= 5e18 with min <= max; tolerance <= 1e18 (`ParamOutOfBounds`). Targets
    /// already posted stay (they are verified again only at the next post).
    function setRules(IPortfolioMath.TargetRules calldata r) external;

    /// @notice The rebalancing parameters.
    function rebalanceParams() external view returns (RebalanceParams memory);

    /// @notice Set the rebalancing parameters (admin). Hard bounds: maxSlippageBps [1, 500]; maxNavLossBps
    /// [1, 500]; costBps [1, 1000]; bandScaleBp [1, 100000]; minBandWad [1e14, maxBandWad]; maxBandWad
    /// [minBandWad, 0.5e18]; budgetBps [1, 2000]; budgetPeriodSec [1 h, 365 days]; feedDeviationBps [0, 500];
    /// minTargetIntervalSec [60 s, 7 days]; rcToleranceWad [1e15, 0.5e18]; rcDustWad [1e14, 0.05e18];
    /// deriskMarginBps [0, 10000]
    /// (`ParamOutOfBounds` with the field's name, the value and the bounds).
    function setRebalanceParams(RebalanceParams calldata p) external;

    /// @notice The portfolio now. Reverts with the oracles' errors when they fail (fail closed).
    function state() external view returns (PortfolioState memory);

    // checkUpkeep(bytes) (a view in the vault) and performUpkeep(bytes) come from AutomationCompatibleInterface:
    // checkUpkeep: whether `performUpkeep` has a slice to trade now; performData is abi.encode(asset index)
    // for information only (`performUpkeep` recomputes everything). False (never reverts) when paused,
    // targets not set, an oracle fails, the budget is spent or nothing is out of band.
    // performUpkeep: trade one slice of one asset toward its target (anyone; rules above). Reverts
    // `EnforcedPause`, `TargetsNotSet`, `NoRebalanceNeeded`, `SlippageBudgetSpent`, `PoolBeyondLimit`,
    // `SliceOutsideBound`, `WeightNotTowardTarget`, `TradeIncreasesTrackingError`, `NavLossTooLarge`,
    // `VolMovedAwayFromBand`, or an oracle error.

    /// @notice The slice `performUpkeep` would trade now: the asset, whether it is a sale, its size (asset
    /// units: a sale's exact input, a buy's exact output) and its quote value at the oracle price. Reverts as
    /// `performUpkeep` would before trading (`EnforcedPause`, `TargetsNotSet`, `NoRebalanceNeeded`,
    /// `SlippageBudgetSpent`, oracle errors).
    function previewRebalance() external view returns (uint256 asset, bool sale, uint256 assetUnits, uint256 valueQuote);

    /// @notice NAV and swing (quote units) now; reverts with an oracle's error.
    function navQuote() external view returns (uint256 nav, uint256 swingQuote);

    /// @notice The most `withdraw` pays `owner` now (its shares at NAV - swing less the worst cost of the sales
    /// beyond the quote buffer, within what the pools can sell at the bound) and the most shares `redeem` takes;
    /// (0, 0) while paused before exit mode. Reverts with an oracle's error (`maxWithdraw` / `maxRedeem` return
    /// 0 then). The pools' room is exact for full-range liquidity and an estimate otherwise.
    function exitLimits(address owner) external view returns (uint256 maxAssets, uint256 maxShares);

    /// @notice Redeem `shares` for a pro-rata share (rounded down) of the quote balance and of every asset
    /// balance, without any oracle or swap; works while paused. Reverts `ZeroAmount`, `ZeroAddress`, ERC-4626
    /// allowance/balance errors, `ZeroAssets` when everything rounds to zero.
    function redeemInKind(uint256 shares, address receiver, address owner)
        external
        returns (uint256[] memory amounts, uint256 quoteAmount);

    /// @notice Stop deposits, mints and upkeeps at once, withdrawals and redemptions for at most
    /// `maxPauseSec` (GUARDIAN_ROLE); reverts `EnforcedPause` when paused.
    function pause() external;

    /// @notice Resume (GUARDIAN_ROLE); reverts `ExpectedPause` when not paused.
    function unpause() external;

    function paused() external view returns (bool);

    /// @notice Paused for at least `maxPauseSec`: withdrawals and redemptions go on.
    function exitMode() external view returns (bool);

    /// @notice How long a pause can stop withdrawals (constant, 3 days).
    function maxPauseSec() external view returns (uint256);
}
