// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionVault
/// @notice An ERC-4626 vault over a quote token that sells cash-settled European calls and puts on one
/// underlying at Black-Scholes prices plus a spread, delta-hedges both ways through its hedging module
/// (`IHedger`: underlying held, or borrowed on a lending market and sold; moved in slices on a Uniswap V3
/// pool by permissionless upkeeps), settles expiries from the price feed and pays the holders of its
/// ERC-1155 option tokens.
///
/// Units (names carry them): `...Wad` is 1e18 fixed point; option amounts and open interest are in
/// underlying wad (1e18 = options on one unit of the underlying, whatever its decimals); strikes and
/// spot are quote per underlying in wad; premiums, proceeds, payouts and every ERC-4626 amount are in
/// quote token units (its own decimals); `...Bps` is 1/10,000; times are unix seconds.
///
/// Book (all in quote units, assets rounded down and liabilities rounded up):
///   assets A      = quote balance - fees owed + collateral + H x spot, with the signed hedge H (underlying
///                   held minus borrowed with interest) and the hedger's collateral (quote supplied with
///                   interest); trading fees stay in the vault, the fee recipient's, until `collectFees`
///   liabilities L = mark value of open options (Black-Scholes at the oracle spot and posted vol) + payouts owed
///                   The mark comes from a cached book (`BookMarking`): between full re-marks it is bounded
///                   from above (withdrawals, redemptions, totalAssets, HF) and from below (deposits,
///                   mints), so every bound rounds against the user; see docs/option-vault.md.
///   NAV           = max(A - L, 0) = totalAssets()
///   stress M      = the worst loss of book and hedge H when the cached book's spot S0 moves to S0 (1 + u)
///                   or S0 (1 - d) with every volatility + volShock: max(stressK - mark -/+ H (SK - S0), 0),
///                   the series re-priced in both scenarios at each re-mark and by each trade of it, so the
///                   scenarios are always exact at (S0, t0) (`BookMath.stressMargin`, docs/option-vault.md).
///   HF            = A / (L + M) (type(uint256).max when L + M = 0). Withdrawals use (A - P) / (mark + M):
///                   payouts owed P are reserved in quote.
///   swing         = what one feed round of `feedDeviationBps` and one volatility post can move NAV: deposits
///                   price shares at NAV + swing, withdrawals at NAV - swing (`book().swing`).
/// Economic safety (threat model in docs/option-vault.md): trades priced across the feed's deviation, a
/// minimum premium tied to the stress a buy adds, the swing, exit mode after a reported outage or a long pause.
interface IOptionVault {
    /// @notice One option series. Packed in one storage slot.
    struct Series {
        uint40 expiry;
        bool isCall;
        uint96 strikeWad;
        uint112 openInterestWad;
    }

    /// @notice Risk and trading parameters (admin; each within a hard bound, see `setRiskParams`).
    struct RiskParams {
        uint64 hfFloorWad;
        uint16 spotShockUpBps;
        uint16 spotShockDownBps;
        uint64 volShockWad;
        uint16 spreadBps;
        uint16 feeBps;
        uint32 tradingCutoffSec;
        uint8 maxLiveSeries;
        int64 rateWad;
        /// @dev The cached book is re-marked when the feed moves more than this from its marked spot.
        uint16 cacheSpotBandBps;
        /// @dev ... or when it is this old.
        uint32 cacheMaxAgeSec;
        /// @dev The feed's deviation threshold: trades are priced at the spot moved this far against the
        /// trader, and deposits and withdrawals pay the NAV jump a feed round of this size can cause (the
        /// swing, `swing`), so no round trip across a feed round profits.
        uint16 feedDeviationBps;
        /// @dev A buy pays at least this fraction of floor x the option's worst stress-scenario value (per
        /// option max(stressUp, stressDown), the most it adds to L + M): locking depositors' withdrawable
        /// funds costs the locker at least this fraction of what is locked.
        uint16 minPremiumBps;
        /// @dev After the oracle has been reported down this long (`reportOracleOutage`), withdrawals go
        /// on at the conservative valuation (`conservativeAssets`).
        uint32 outageExitDelaySec;
        /// @dev After a pause this long, withdrawals go on at the conservative valuation.
        uint32 maxPauseSec;
    }

    /// @notice Exposure limits (admin). Open interest per series; |net delta| (hedge + book delta, in
    /// underlying wad: a positive book delta that only a short could hedge stays in it); vega of the
    /// book (quote wad per 1.00 of volatility, the upper bound S sqrt(T) phi(0) per option).
    struct ExposureLimits {
        uint112 maxOpenInterestWad;
        uint112 maxNetDeltaWad;
        uint128 maxVegaWad;
    }

    /// @notice Hedging parameters (admin). The hedge target is -book delta at the current spot (at least 0
    /// with a hedger that cannot short); an upkeep moves the hedge toward it by one slice of at most
    /// `maxSlippageBps` from the oracle spot per unit (`IHedger`).
    struct HedgeParams {
        uint112 deltaBandWad;
        uint112 dustDeltaWad;
        uint32 hedgeIntervalSec;
        uint16 maxSlippageBps;
        uint16 maxNavLossBps;
    }

    /// @notice A snapshot of the book (see the contract-level notice for the formulas). Net delta is
    /// `bookDeltaWad + hedgeWad` (in underlying wad).
    struct BookView {
        uint256 spotWad;
        uint256 quoteBalance;
        /// @dev The hedge: signed underlying wad (held minus borrowed, `IHedger.Position`) and the quote it
        /// keeps as collateral with the lending market (quote units, part of A).
        int256 hedgeWad;
        uint256 collateral;
        /// @dev A: net of the trading fees owed (`feesOwed`), which `quoteBalance` includes.
        uint256 assetsValue;
        uint256 markValue;
        uint256 payoutsOwed;
        uint256 stressMargin;
        uint256 healthFactorWad;
        int256 bookDeltaWad;
        uint256 vegaWad;
        /// @dev The lower bound of the mark (quote units) that deposits and mints use; `markValue` is the
        /// upper bound that withdrawals, redemptions and the health factor use.
        uint256 markLowerValue;
        /// @dev When the cached book was marked and until when it may stand in for a re-mark (the values
        /// above are those of a re-mark now when `cacheFresh` is false).
        uint256 markedAtSec;
        uint256 cacheValidUntilSec;
        bool cacheFresh;
        /// @dev What a feed round of `feedDeviationBps` and a maximal volatility post could move NAV by
        /// (quote units, up): |net delta| S d + gammaCoef S d^2 / 2 + vega x the oracle's maxStep. Deposits
        /// are priced at the higher NAV plus it, withdrawals at the lower NAV minus it (docs/option-vault.md).
        uint256 swing;
        /// @dev Quote kept for the claims of in-the-money series within a day of expiry (quote units): out
        /// of what withdrawals and hedge purchases may spend (`BookMarking.claimReserve`).
        uint256 claimReserve;
    }

    /// @notice What deposits and withdrawals see now (`valuation`), quote units.
    struct Valuation {
        /// @dev NAV: with the mark's upper bound (totalAssets), or the conservative NAV in exit mode.
        uint256 nav;
        /// @dev Deposits and mints price shares at this NAV: the mark's lower bound plus the swing.
        uint256 navForDeposits;
        /// @dev Withdrawals and redemptions: the mark's upper bound minus the swing, or the conservative NAV
        /// in exit mode.
        uint256 navForWithdrawals;
        /// @dev The most that may leave now: min(free quote, (A - P) - floor x (mark + M)); the free quote
        /// in exit mode; 0 while paused (before `maxPauseSec`) or while the oracles are down (before the
        /// outage delay).
        uint256 withdrawRoom;
        /// @dev False while paused, in exit mode, with the oracles down, or when A <= L (insolvent).
        bool depositsOpen;
        /// @dev True in exit mode (`exitMode`).
        bool conservative;
    }

    // ---------------------------------------------------------------- errors
    /// @notice An amount of zero.
    error ZeroAmount();
    /// @notice A zero address where one is needed.
    error ZeroAddress();
    /// @notice No series with this id.
    error UnknownSeries(uint256 seriesId);
    /// @notice The series has expired or was settled.
    error SeriesExpired(uint256 seriesId, uint256 expiry);
    /// @notice Trading closes `cutoffSec` before expiry.
    error TradingCutoff(uint256 seriesId, uint256 expiry, uint256 cutoffSec);
    /// @notice Buyer's bound: the premium plus fee would exceed `maxPremium`.
    error PremiumAboveMax(uint256 premiumWithFee, uint256 maxPremium);
    /// @notice Seller's bound: the proceeds after fee would be below `minProceeds`.
    error ProceedsBelowMin(uint256 proceeds, uint256 minProceeds);
    /// @notice The operation would leave the health factor below the floor.
    error HealthFactorTooLow(uint256 healthFactorWad, uint256 floorWad);
    /// @notice The series' open interest would exceed its cap.
    error OpenInterestCap(uint256 seriesId, uint256 openInterestWad, uint256 maxWad);
    /// @notice |net delta| would exceed its limit.
    error NetDeltaLimit(int256 netDeltaWad, uint256 maxWad);
    /// @notice Book vega would exceed its limit.
    error VegaLimit(uint256 vegaWad, uint256 maxWad);
    /// @notice Not enough free quote (balance minus payouts owed) for the transfer.
    error InsufficientLiquidity(uint256 needed, uint256 available);
    /// @notice Listing: the number of live series is at its cap.
    error LiveSeriesCap(uint256 maxLiveSeries);
    /// @notice Listing: expiry too close (before now + cutoff) or too far (beyond `MAX_EXPIRY_SEC`).
    error BadExpiry(uint256 expiry, uint256 minExpiry, uint256 maxExpiry);
    /// @notice Listing: strike outside [spot / 10, 10 x spot] (or not below 2^96 wad).
    error BadStrike(uint256 strikeWad);
    /// @notice Listing: a series with the same expiry, strike and type exists.
    error SeriesAlreadyListed(uint256 seriesId);
    /// @notice Settlement before expiry.
    error NotExpired(uint256 expiry, uint256 nowSec);
    /// @notice The expiry was already settled.
    error AlreadySettled(uint256 expiry);
    /// @notice No live series has this expiry.
    error NothingToSettle(uint256 expiry);
    /// @notice Claim before the series' expiry was settled.
    error NotSettled(uint256 seriesId);
    /// @notice Claim with no balance (includes a second claim).
    error NothingToClaim(uint256 seriesId, address holder);
    /// @notice `collectFees` with less than two units owed (one always stays owed, see `collectFees`).
    error NoFeesToCollect(uint256 feesOwed);
    /// @notice `performUpkeep` with nothing to do (no due settlement hinted, delta inside its band).
    error UpkeepNotNeeded(uint256 hedgeGapWad, uint256 deltaBandWad);
    /// @notice After a hedge the gap to the target is still outside the band.
    error HedgeOutsideBand(uint256 hedgeGapWad, uint256 deltaBandWad);
    /// @notice A hedge lost more NAV than the bound.
    error HedgeNavLoss(uint256 navBefore, uint256 navAfter, uint256 maxNavLossBps);
    /// @notice A parameter outside its hard bound (signed to carry the rate).
    error ParamOutOfBounds(bytes32 name, int256 value, int256 min, int256 max);
    /// @notice A cached aggregate does not fit its storage field (a book far beyond any realistic size).
    error BookTooLarge(uint256 value);
    /// @notice Reentrant call (the name and selector of OpenZeppelin's ReentrancyGuard error).
    error ReentrancyGuardReentrantCall();
    /// @notice The vault is paused (OpenZeppelin Pausable's name and selector).
    error EnforcedPause();
    /// @notice `unpause` while not paused.
    error ExpectedPause();
    /// @notice Constructor: the option token is not bound to this vault or tokens are inconsistent.
    error BadConfiguration(bytes32 what);
    /// @notice A deposit into a vault whose assets do not cover its liabilities (it would pay the deficit).
    error VaultInsolvent(uint256 assetsValue, uint256 liabilities);
    /// @notice previewDeposit / previewMint while deposits are closed: paused, in exit mode or insolvent (A <=
    /// L); `valuation()` says which.
    error DepositsClosed();
    /// @notice A redemption of `shares` that would pay 0 assets (the shares would be burned for nothing).
    error ZeroAssets(uint256 shares);
    /// @notice `reportOracleOutage` while the oracles answer (the valuation succeeds).
    error OracleHealthy();
    /// @notice `reportOracleOutage` when an outage was already reported at `sinceSec`.
    error OutageAlreadyReported(uint256 sinceSec);
    /// @notice A parameter change larger than the per-change step (`setParameters`).
    error ParamStepTooLarge(bytes32 name, int256 oldValue, int256 newValue, int256 maxStep);
    /// @notice `setParameters` again before `nextAllowedSec` (one change per `PARAMS_INTERVAL_SEC`).
    error ParametersChangedTooRecently(uint256 changedAtSec, uint256 nextAllowedSec);
    /// @notice The hedger's lending position is below its health buffer under the shock: no new short puts
    /// until an upkeep has de-risked it (`IHedger.Position.deRisking`).
    error HedgerDeRisking(uint256 seriesId);

    // ---------------------------------------------------------------- events
    event SeriesListed(uint256 indexed seriesId, uint256 expiry, uint256 strikeWad, bool isCall);
    event Bought(
        uint256 indexed seriesId, address indexed buyer, address indexed receiver, uint256 amountWad,
        uint256 premium, uint256 fee
    );
    event Sold(
        uint256 indexed seriesId, address indexed seller, address indexed receiver, uint256 amountWad,
        uint256 proceeds, uint256 fee
    );
    event ExpirySettled(uint256 indexed expiry, uint80 roundId, uint256 priceWad, uint256 payoutsOwedAdded);
    event Claimed(uint256 indexed seriesId, address indexed holder, address indexed receiver, uint256 amountWad, uint256 payout);
    /// @notice The hedge moved (an upkeep's order, or a claim's quote raised from the hedge): the change of
    /// the signed hedge (underlying wad), of the vault's quote balance and of the hedger's collateral (quote
    /// units), and the net delta after. At the oracle spot S the order cost -(quote + collateral + hedge x S)
    /// changes: the slippage and fees.
    event Hedged(int256 hedgeChangeWad, int256 quoteChange, int256 collateralChange, int256 netDeltaAfterWad);
    event ParametersSet(RiskParams risk, ExposureLimits limits, HedgeParams hedge);
    event FeeRecipientSet(address feeRecipient);
    event FeesCollected(address indexed feeRecipient, uint256 amount);
    /// @notice The book was fully re-marked at `spotWad` (the cached marks hold until `validUntil`).
    event BookMarked(uint256 spotWad, uint256 markWad, int256 optionDeltaWad, uint256 validUntil);
    /// @notice The oracles were found down at `sinceSec` (`reportOracleOutage`); a successful re-mark ends it.
    event OracleOutageReported(uint256 sinceSec);
    event Paused(address account);
    event Unpaused(address account);

    // ---------------------------------------------------------------- trading
    /// @notice Buy `amountWad` options of `seriesId` for `receiver`, paying at most `maxPremium`
    /// (premium + fee, quote units). Premium = amount x max(P x (1 + spread), floor x minPremium x W),
    /// rounded up, where P is the Black-Scholes price at the feed spot moved up (a call) or down (a put) by
    /// `feedDeviationBps` and W the option's worst stress-scenario value; fee = premium x feeBps, rounded
    /// up, owed to the fee recipient (`collectFees`). One transfer of premium + fee from the caller.
    /// @dev Reverts: ZeroAmount, UnknownSeries, SeriesExpired, TradingCutoff, PremiumAboveMax,
    /// OpenInterestCap, HealthFactorTooLow, NetDeltaLimit, VegaLimit, any oracle error, paused.
    /// Warning: mints ERC-1155 tokens, so a contract receiver gets `onERC1155Received` (reentry is refused).
    /// @return premium The premium paid to the vault (the fee is on top).
    function buy(uint256 seriesId, uint256 amountWad, uint256 maxPremium, address receiver)
        external
        returns (uint256 premium);

    /// @notice Sell back `amountWad` options of `seriesId` (burned from the caller) for proceeds =
    /// amount x P x (1 - spread) - fee, rounded down, paid to `receiver`; at least `minProceeds`; P is the
    /// Black-Scholes price at the feed spot moved down (a call) or up (a put) by `feedDeviationBps`.
    /// The fee stays in the vault, owed to the fee recipient. Selling back reduces risk, so it has no
    /// health-factor check.
    /// @dev Reverts: ZeroAmount, UnknownSeries, SeriesExpired, TradingCutoff, ProceedsBelowMin,
    /// InsufficientLiquidity, ERC1155InsufficientBalance, oracle errors, paused.
    function sell(uint256 seriesId, uint256 amountWad, uint256 minProceeds, address receiver)
        external
        returns (uint256 proceeds);

    /// @notice Settle every live series expiring at `expiry` with the price of `roundId`, which must be
    /// the feed's first round updated at or after `expiry`. Anyone may call.
    /// @dev Reverts: NotExpired, AlreadySettled, NothingToSettle, InvalidSettlementRound and feed errors.
    function settle(uint256 expiry, uint80 roundId) external;

    /// @notice Burn the caller's whole balance of a settled series and pay its intrinsic value to `receiver`.
    /// @dev Reverts: UnknownSeries, NotSettled, NothingToClaim. Works while paused.
    function claim(uint256 seriesId, address receiver) external returns (uint256 payout);

    /// @notice Re-mark the cached book now (prices every series with open interest; ends a reported oracle
    /// outage). Anyone may call, paying its gas; works while paused.
    /// @dev Reverts with the oracles' errors when they are down.
    function remark() external;

    /// @notice Record that the oracles are down now (the valuation reverts), starting the outage clock:
    /// `outageExitDelaySec` later, withdrawals go on at the conservative valuation even if the oracles are
    /// still down. Anyone may call; works while paused.
    /// @dev Reverts: OracleHealthy, OutageAlreadyReported.
    function reportOracleOutage() external;

    /// @notice True when withdrawals are priced at the conservative valuation: the vault has been paused
    /// for `maxPauseSec`, or an oracle outage was reported `outageExitDelaySec` ago. The conservative NAV
    /// is A - L - M from the stored marks at their spot, without reading an oracle: each series at the
    /// worst of its mark and its two stress scenarios, the hedge with it (HF's stress margin).
    function exitMode() external view returns (bool);

    /// @notice Send the trading fees owed, but one unit, to the fee recipient. Anyone may call.
    /// @dev Reverts: NoFeesToCollect. Works while paused.
    /// @return amount Quote units sent.
    function collectFees() external returns (uint256 amount);

    // ---------------------------------------------------------------- governance
    function listSeries(uint256 expiry, uint256 strikeWad, bool isCall) external returns (uint256 seriesId);
    /// @notice Set every risk, exposure and hedge parameter at once (admin), each within its hard bound
    /// (listed on the implementation); reverts `ParamOutOfBounds` naming the first one outside.
    function setParameters(RiskParams calldata risk, ExposureLimits calldata limits, HedgeParams calldata hedge)
        external;
    function setFeeRecipient(address feeRecipient) external;
    function pause() external;
    function unpause() external;

    // ---------------------------------------------------------------- views
    /// @notice The series `seriesId` (reverts UnknownSeries).
    function series(uint256 seriesId) external view returns (Series memory);
    /// @notice Ids of the series not yet settled.
    function liveSeries() external view returns (uint256[] memory);
    /// @notice Settlement price of `expiry` (0 when not settled).
    function settlementPriceWad(uint256 expiry) external view returns (uint256);
    /// @notice Premium and fee of a buy now (reverts like `buy` on its pricing checks).
    function quoteBuy(uint256 seriesId, uint256 amountWad) external view returns (uint256 premium, uint256 fee);
    /// @notice Proceeds (after fee) and fee of a sale now.
    function quoteSell(uint256 seriesId, uint256 amountWad) external view returns (uint256 proceeds, uint256 fee);
    /// @notice The whole book now, with deltas (see the contract-level notice).
    function book() external view returns (BookView memory);
    /// @notice What deposits and withdrawals would see now (see `Valuation`).
    /// @dev Reverts with the oracles' errors when they are down, except in exit mode. The ERC-4626 views
    /// (totalAssets, max*, convertTo*) never revert: they read this and fall back to the conservative
    /// figures with deposits and withdrawals closed.
    function valuation() external view returns (Valuation memory);

    /// @notice True while paused.
    function paused() external view returns (bool);
    /// @notice Quote owed to holders of settled, unclaimed options.
    function payoutsOwed() external view returns (uint256);
    /// @notice Trading fees owed to the fee recipient, not yet collected.
    function feesOwed() external view returns (uint256);
}
