// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AutomationCompatibleInterface} from "../../interfaces/AutomationCompatibleInterface.sol";
import {IHedger} from "../../interfaces/IHedger.sol";
import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {IOptionToken} from "../../interfaces/IOptionToken.sol";
import {IOptionVault} from "../../interfaces/IOptionVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {IVolatilityOracle} from "../../interfaces/IVolatilityOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {BookMarking} from "./BookMarking.sol";
import {BookMath} from "./BookMath.sol";
import {HedgeExecution} from "./HedgeExecution.sol";

/// @title OptionVault
/// @notice ERC-4626 vault that writes cash-settled European options and delta-hedges them through its
/// hedging module (`IHedger`: long underlying, or short through a lending market), in slices on Uniswap V3.
/// Formulas and units are on `IOptionVault`; the cached book on `BookMarking` and docs/option-vault.md.
/// @dev Roles: DEFAULT_ADMIN_ROLE (risk parameters, fee recipient; a timelock in a `hedgevault deploy`
/// deployment), GUARDIAN_ROLE (pause), LISTER_ROLE (series). Paused: deposit, mint, buy, sell and
/// performUpkeep stop, withdraw and redeem stop until `maxPauseSec` and then go on at the conservative
/// valuation (exit mode); settle, claim, collectFees, remark and reportOracleOutage go on.
/// Warning: every re-mark reads the oracles, so a stale or deviating feed, or a stale posted volatility
/// for any expiry with open interest, stops deposits, withdrawals and trades (fail closed) until an outage
/// reported `outageExitDelaySec` ago opens withdrawals at the conservative valuation. Threat model:
/// docs/option-vault.md.
contract OptionVault is IOptionVault, AutomationCompatibleInterface, ERC4626, AccessControl {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;
    using BookMath for BookMath.Book;

    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant YEAR_SEC = 365 days;
    /// @notice Hard cap on `RiskParams.maxLiveSeries`.
    uint256 internal constant HARD_MAX_LIVE_SERIES = 64;
    /// @dev Shares have 6 more decimals than the quote token: a donation must be 1e6 times the
    /// victim's deposit to round it to nothing (virtual shares, OpenZeppelin's mitigation).
    uint8 internal constant DECIMALS_OFFSET = 6;
    uint8 internal constant UNLOCKED = 1;
    uint8 internal constant LOCKED = 2;

    IERC20 public immutable underlying;
    IPriceOracle public immutable priceOracle;
    IVolatilityOracle public immutable volOracle;
    /// @notice The hedging module (bound to this vault; holds the hedge position).
    IHedger public immutable hedger;
    IOptionToken public immutable optionToken;
    IOptionPricer public immutable pricer;
    /// @dev 10^(18 - quote decimals): quote wad -> quote units.
    uint256 internal immutable _quoteScale;
    /// @dev 10^(18 - underlying decimals): underlying units -> underlying wad.
    uint256 internal immutable _underlyingScale;

    /// @dev The cached book (`BookMarking.Stored`: the head slot also holds the lock and the pause flag, the
    /// sixth the fees owed, the eighth the payouts owed and the record of the hedge).
    BookMarking.Stored internal _book;
    /// @dev `RiskParams` with the vega limit in its second slot's free bits, and the other two limits: the
    /// three slots a trade reads.
    BookMarking.StoredRisk internal _risk;
    BookMarking.StoredLimits internal _limits;
    /// @dev `HedgeParams` and the time of the last hedge.
    BookMarking.StoredHedge internal _hedgeParams;
    /// @notice Receives trading fees.
    address public feeRecipient;
    /// @dev Number of series ever listed (ids are 1.._seriesCount).
    uint256 internal _seriesCount;
    /// @inheritdoc IOptionVault
    mapping(uint256 expiry => uint256) public settlementPriceWad;

    mapping(uint256 seriesId => Series) internal _series;
    mapping(bytes32 key => uint256) internal _seriesByKey;
    uint256[] internal _live;

    /// @notice Constructor arguments (a struct keeps the constructor below the stack limit).
    struct Config {
        IERC20Metadata quote;
        IERC20 underlying;
        IPriceOracle priceOracle;
        IVolatilityOracle volOracle;
        IHedger hedger;
        IOptionToken optionToken;
        IOptionPricer pricer;
        address admin;
        address feeRecipient;
    }

    constructor(
        Config memory config,
        string memory name_,
        string memory symbol_,
        RiskParams memory risk,
        ExposureLimits memory limits,
        HedgeParams memory hedge
    ) ERC4626(config.quote) ERC20(name_, symbol_) {
        if (config.admin == address(0) || config.feeRecipient == address(0)) revert ZeroAddress();
        uint8 quoteDecimals = config.quote.decimals();
        uint8 underlyingDecimals = IERC20Metadata(address(config.underlying)).decimals();
        if (quoteDecimals > 18 || underlyingDecimals > 18) revert BadConfiguration("decimals");
        underlying = config.underlying;
        priceOracle = config.priceOracle;
        volOracle = config.volOracle;
        hedger = config.hedger;
        optionToken = config.optionToken;
        pricer = config.pricer;
        _quoteScale = 10 ** (18 - quoteDecimals);
        _underlyingScale = 10 ** (18 - underlyingDecimals);
        feeRecipient = config.feeRecipient;
        _book.lock = UNLOCKED;
        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        BookMarking.storeParameters(_book, _risk, _limits, _hedgeParams, risk, limits, hedge, true);
        // the hedger pulls the quote of its orders (only inside them: `IHedger`)
        IERC20(address(config.quote)).forceApprove(address(config.hedger), type(uint256).max);
        _hedgeParams.lastHedgeTime = uint40(block.timestamp);
        // a new hedger holds nothing (what it is given before the first order counts from that order on)
        (_book.hedgeLongKnown, _book.inUse) = (true, true);
    }

    // ================================================================= guards

    /// @dev Reentrancy lock (in the head slot); `whenNotPaused` too when `checkPause`.
    function _enter(bool checkPause) internal {
        BookMarking.Stored storage h = _book;
        if (h.lock == LOCKED) revert ReentrancyGuardReentrantCall();
        if (checkPause && h.paused) revert EnforcedPause();
        h.lock = LOCKED;
    }

    function _exit() internal {
        _book.lock = UNLOCKED;
    }

    modifier nonReentrant() {
        _enter(false);
        _;
        _exit();
    }

    modifier lockedWhenNotPaused() {
        _enter(true);
        _;
        _exit();
    }

    // ================================================================= trading

    /// @inheritdoc IOptionVault
    /// @dev The fee stays in the vault, owed to the fee recipient (`collectFees`): one token transfer.
    function buy(uint256 seriesId, uint256 amountWad, uint256 maxPremium, address receiver)
        external
        lockedWhenNotPaused
        returns (uint256 premium)
    {
        if (receiver == address(0)) revert ZeroAddress();
        uint256 fee;
        // the series' checks, the open interest cap, the trade, the premium and its bound, the payment and the new
        // risk's checks
        BookMarking.BuyOrder memory o = _buyOrder(seriesId, amountWad, maxPremium);
        (premium, fee) = BookMarking.buy(_book, _risk, _limits, _series, _live, o);
        optionToken.mint(receiver, seriesId, amountWad);
        emit Bought(seriesId, msg.sender, receiver, amountWad, premium, fee);
    }

    /// @dev What `BookMarking.buy` needs besides the stored state.
    function _buyOrder(uint256 seriesId, uint256 amountWad, uint256 maxPremium)
        internal
        view
        returns (BookMarking.BuyOrder memory)
    {
        return BookMarking.BuyOrder(
            seriesId,
            amountWad,
            maxPremium,
            IERC20(asset()),
            hedger,
            _quoteScale,
            _underlyingScale,
            0,
            pricer,
            volOracle,
            priceOracle
        );
    }

    /// @inheritdoc IOptionVault
    /// @dev The fee stays in the vault, owed to the fee recipient (`collectFees`).
    function sell(uint256 seriesId, uint256 amountWad, uint256 minProceeds, address receiver)
        external
        lockedWhenNotPaused
        returns (uint256 proceeds)
    {
        if (receiver == address(0)) revert ZeroAddress();
        uint256 fee;
        (proceeds, fee) = _sellBack(seriesId, amountWad, minProceeds);
        IERC20(asset()).safeTransfer(receiver, proceeds);
        emit Sold(seriesId, msg.sender, receiver, amountWad, proceeds, fee);
    }

    /// @dev The checks and book changes of a sale back: burn, price, bound, free quote, open interest, fee.
    function _sellBack(uint256 seriesId, uint256 amountWad, uint256 minProceeds)
        internal
        returns (uint256 proceeds, uint256 fee)
    {
        Series memory s = _tradable(seriesId, amountWad);
        // reverts beyond the seller's balance (no receiver hook on a burn)
        optionToken.burn(msg.sender, seriesId, amountWad);
        // the burn succeeded, so amountWad <= the seller's balance <= open interest
        uint256 openWad;
        unchecked {
            openWad = s.openInterestWad - amountWad;
        }
        (uint256 priceWad,,) = BookMarking.trade(_book, _series, _live, _env(), s, openWad, IHedger(address(0)));
        (proceeds, fee) = _sellProceeds(priceWad, amountWad);
        if (proceeds < minProceeds) revert ProceedsBelowMin(proceeds, minProceeds);
        // the proceeds leave and the fee becomes owed: both must come out of the free quote
        uint256 balance = IERC20(asset()).balanceOf(address(this));
        uint256 owed = uint256(_book.payoutsOwed) + _book.feesOwed;
        uint256 available = balance > owed ? balance - owed : 0;
        if (proceeds + fee > available) revert InsufficientLiquidity(proceeds + fee, available);
        _series[seriesId].openInterestWad = uint112(openWad);
        _accrueFee(fee);
    }

    /// @inheritdoc IOptionVault
    /// @dev Anyone may call it; the fees go to `feeRecipient`. One unit stays owed (a later collection pays
    /// it) so that the slot is never cleared: setting it again would cost the next trade 17,100 gas.
    /// Works while paused, like `settle` and `claim`.
    function collectFees() external nonReentrant returns (uint256 amount) {
        uint256 owed = _book.feesOwed;
        if (owed < 2) revert NoFeesToCollect(owed);
        amount = owed - 1;
        _book.feesOwed = 1;
        address recipient = feeRecipient;
        IERC20(asset()).safeTransfer(recipient, amount);
        emit FeesCollected(recipient, amount);
    }

    /// @inheritdoc IOptionVault
    function remark() external nonReentrant {
        _book.validUntil = 0;
        _actionBook();
    }

    /// @inheritdoc IOptionVault
    function reportOracleOutage() external nonReentrant {
        if (_book.outage) revert OutageAlreadyReported(_book.outageSince);
        // a full re-mark must fail (the view below sees the invalidated cache); the next action re-marks,
        // and a successful one ends the outage
        _book.validUntil = 0;
        (bool ok,) = address(this).staticcall(abi.encodeCall(this.book, ()));
        if (ok) revert OracleHealthy();
        (_book.outage, _book.outageSince) = (true, uint40(block.timestamp));
        emit OracleOutageReported(block.timestamp);
    }

    /// @inheritdoc IOptionVault
    function settle(uint256 expiry, uint80 roundId) external nonReentrant {
        _settle(expiry, roundId);
    }

    /// @inheritdoc IOptionVault
    /// @dev A claim short of quote (the hedge still holds it) has the hedger raise it in one slice
    /// (`HedgeExecution.claim`).
    function claim(uint256 seriesId, address receiver) external nonReentrant returns (uint256 payout) {
        payout = HedgeExecution.claim(
            _book,
            _series,
            settlementPriceWad,
            HedgeExecution.Claim(
                optionToken,
                IERC20(asset()),
                hedger,
                priceOracle,
                _quoteScale,
                _hedgeParams.maxSlippageBps,
                _risk.spotShockUpBps
            ),
            seriesId,
            receiver
        );
    }

    // ================================================================= upkeep

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev performData is abi.encode(expiry, roundId) when an expiry is due for settlement, else empty: a
    /// re-mark of the cached book when it is stale and has open interest, else a hedge when one is needed.
    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        (uint256 expiry, uint80 roundId) = BookMarking.dueSettlement(_series, _live, priceOracle);
        if (expiry != 0) return (true, abi.encode(expiry, roundId));
        (BookMath.Book memory b, bool fresh, bool reusable,,) = BookMarking.viewBook(
            _book, _series, _live, _hedgeEnv(), IERC20(asset()).balanceOf(address(this)), hedger
        );
        (bool hedgeNow, bool remarkOnly,,) = _upkeep(b, fresh, reusable);
        return (hedgeNow || remarkOnly, "");
    }

    /// @dev What an upkeep without settlement does with book `b` (`fresh`: not re-marked; `reusable`: marks
    /// with open interest that may stand in for a re-mark): a hedge when the gap leaves the band, or the
    /// interval has passed with a non-dust gap, or the hedger is de-risking; else a re-mark of a stale book
    /// with reusable marks alone.
    function _upkeep(BookMath.Book memory b, bool fresh, bool reusable)
        internal
        view
        returns (bool hedgeNow, bool remarkOnly, int256 targetWad, uint256 gapWad)
    {
        (targetWad, gapWad) = b.hedgeTarget();
        BookMarking.StoredHedge storage hp = _hedgeParams;
        hedgeNow = gapWad > hp.deltaBandWad || b.deRisking
            || (block.timestamp >= uint256(hp.lastHedgeTime) + hp.hedgeIntervalSec && gapWad > hp.dustDeltaWad);
        // a stale book with open interest whose re-mark can be reused is worth an upkeep of its own
        remarkOnly = !hedgeNow && !fresh && reusable;
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev With a settlement hint: settles that expiry (the hint is verified) and does nothing else, so
    /// settlement never depends on the pool. Without: re-marks the book when the cache is stale, then
    /// hedges in the same transaction when the gap to the target leaves the band, or the interval has
    /// passed with a non-dust gap; a re-mark alone is a valid upkeep; otherwise reverts
    /// `UpkeepNotNeeded`. Everything is recomputed on-chain.
    function performUpkeep(bytes calldata performData) external lockedWhenNotPaused {
        if (performData.length != 0) {
            (uint256 expiry, uint80 roundId) = abi.decode(performData, (uint256, uint80));
            _settle(expiry, roundId);
            return;
        }
        (BookMath.Book memory b, bool fresh, bool reusable,,) = BookMarking.actionBook(
            _book, _series, _live, _hedgeEnv(), IERC20(asset()).balanceOf(address(this)), hedger
        );
        (bool hedgeNow, bool remarkOnly, int256 targetWad, uint256 gapWad) = _upkeep(b, fresh, reusable);
        if (remarkOnly) return;
        if (!hedgeNow) revert UpkeepNotNeeded(gapWad, _hedgeParams.deltaBandWad);
        _rebalance(b, _reservingCtx(b.spotWad), targetWad);
    }

    // ================================================================= ERC-4626

    /// @inheritdoc ERC4626
    /// @dev NAV with the mark's upper bound (the lower NAV); never reverts: with the oracles down, the
    /// conservative NAV from the stored marks (`Valuation.nav`).
    function totalAssets() public view override returns (uint256) {
        return _safeValuation().nav;
    }

    /// @inheritdoc ERC4626
    /// @dev 0 while deposits are closed (paused, oracles down, exit mode, insolvent); never reverts.
    function maxDeposit(address) public view override returns (uint256) {
        return _safeValuation().depositsOpen ? type(uint256).max : 0;
    }

    /// @inheritdoc ERC4626
    function maxMint(address) public view override returns (uint256) {
        return _safeValuation().depositsOpen ? type(uint256).max : 0;
    }

    /// @inheritdoc ERC4626
    /// @dev The least of the owner's assets at the withdrawals' NAV and `Valuation.withdrawRoom`; never
    /// reverts (0 when withdrawals are closed).
    function maxWithdraw(address owner) public view override returns (uint256) {
        Valuation memory v = _safeValuation();
        return Math.min(_toAssets(balanceOf(owner), v.navForWithdrawals, Math.Rounding.Floor), v.withdrawRoom);
    }

    /// @inheritdoc ERC4626
    /// @dev 0 when the shares that may leave are worth 0 assets (`redeem` reverts `ZeroAssets`); never reverts.
    function maxRedeem(address owner) public view override returns (uint256) {
        Valuation memory v = _safeValuation();
        uint256 shares = balanceOf(owner);
        if (_toAssets(shares, v.navForWithdrawals, Math.Rounding.Floor) > v.withdrawRoom) {
            shares = _toShares(v.withdrawRoom, v.navForWithdrawals, Math.Rounding.Floor);
        }
        return _toAssets(shares, v.navForWithdrawals, Math.Rounding.Floor) == 0 ? 0 : shares;
    }

    /// @inheritdoc ERC4626
    /// @dev Deposits and mints price shares with the mark's lower bound plus the swing, against the user.
    /// Reverts `DepositsClosed` while deposits are (paused, exit mode, insolvent; `Valuation.depositsOpen`).
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return _toShares(assets, _previewDepositNav(), Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    function previewMint(uint256 shares) public view override returns (uint256) {
        return _toAssets(shares, _previewDepositNav(), Math.Rounding.Ceil);
    }

    function _previewDepositNav() internal view returns (uint256) {
        Valuation memory v = valuation();
        if (!v.depositsOpen) revert DepositsClosed();
        return v.navForDeposits;
    }

    /// @inheritdoc ERC4626
    /// @dev Withdrawals and redemptions: the mark's upper bound minus the swing (conservative in exit mode).
    function previewWithdraw(uint256 assets) public view override returns (uint256) {
        return _toShares(assets, valuation().navForWithdrawals, Math.Rounding.Ceil);
    }

    /// @inheritdoc ERC4626
    function previewRedeem(uint256 shares) public view override returns (uint256) {
        return _toAssets(shares, valuation().navForWithdrawals, Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    /// @dev Reverts `VaultInsolvent` when A <= L (the deposit would pay the deficit).
    function deposit(uint256 assets, address receiver) public override lockedWhenNotPaused returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        shares = _toShares(assets, _depositNav(), Math.Rounding.Floor);
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc ERC4626
    function mint(uint256 shares, address receiver) public override lockedWhenNotPaused returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        assets = _toAssets(shares, _depositNav(), Math.Rounding.Ceil);
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Reverts `HealthFactorTooLow` with the HF the withdrawal would leave, `InsufficientLiquidity`
    /// when the free quote is short, `ERC4626ExceededMaxWithdraw` beyond the owner's assets, `EnforcedPause`
    /// while paused (before `maxPauseSec`).
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        (BookMath.Book memory b, BookMath.Ctx memory c, uint256 nav, bool conservative) = _exitValuation();
        uint256 ownerAssets = _toAssets(balanceOf(owner), nav, Math.Rounding.Floor);
        if (assets > ownerAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, ownerAssets);
        shares = _toShares(assets, nav, Math.Rounding.Ceil);
        _checkWithdrawal(b, c, assets, conservative);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Reverts like `withdraw`; `ERC4626ExceededMaxRedeem` beyond the owner's shares; `ZeroAssets` when
    /// the shares are worth 0 assets (nothing is burned for nothing).
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        if (shares == 0) revert ZeroAmount();
        uint256 ownerShares = balanceOf(owner);
        if (shares > ownerShares) revert ERC4626ExceededMaxRedeem(owner, shares, ownerShares);
        (BookMath.Book memory b, BookMath.Ctx memory c, uint256 nav, bool conservative) = _exitValuation();
        assets = _toAssets(shares, nav, Math.Rounding.Floor);
        if (assets == 0) revert ZeroAssets(shares);
        _checkWithdrawal(b, c, assets, conservative);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc ERC4626
    function _convertToShares(uint256 assets, Math.Rounding rounding) internal view override returns (uint256) {
        return _toShares(assets, totalAssets(), rounding);
    }

    /// @inheritdoc ERC4626
    function _convertToAssets(uint256 shares, Math.Rounding rounding) internal view override returns (uint256) {
        return _toAssets(shares, totalAssets(), rounding);
    }

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    // ================================================================= governance

    /// @inheritdoc IOptionVault
    /// @dev Expiry in (now + cutoff, now + MAX_EXPIRY_SEC]; strike in [spot / 10, 10 x spot], at least
    /// 1e12 and below 2^96 wad. Valuations never revert on the spot later leaving the library's moneyness
    /// domain (the pricer continues the price from the domain edge, see `IOptionPricer.markAndDelta`);
    /// trades of such a series revert with the library's error.
    function listSeries(uint256 expiry, uint256 strikeWad, bool isCall)
        external
        onlyRole(LISTER_ROLE)
        returns (uint256 seriesId)
    {
        seriesId = BookMarking.listSeries(
            _series, _seriesByKey, _live, _seriesCount + 1, expiry, strikeWad, isCall, priceOracle.spotWad(), _risk
        );
        _seriesCount = seriesId;
    }

    /// @inheritdoc IOptionVault
    /// @dev Hard bounds: hfFloor [1, 3]; shocks [1%, 90%]; volShock [0.01, 2]; spread [0, 20%];
    /// fee [0, 10%]; cutoff [0, 7 days]; maxLiveSeries [1, 64]; rate [-10%, 50%]; cache spot band
    /// [0.1%, 10%]; cache max age [60 s, 1 day]; maxOpenInterest [1, 1e30]; maxNetDelta [0, 1e30]; maxVega
    /// [0, 1e36]; band [1e12, 1e30]; dust [0, band]; interval [60 s, 7 days]; slippage [1, 500] bps;
    /// NAV loss [1, 1000] bps. A change of the rate or of the cache's maximum age invalidates the cached book.
    function setParameters(RiskParams calldata risk, ExposureLimits calldata limits, HedgeParams calldata hedge)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        BookMarking.storeParameters(_book, _risk, _limits, _hedgeParams, risk, limits, hedge, false);
    }

    /// @inheritdoc IOptionVault
    function setFeeRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (recipient == address(0)) revert ZeroAddress();
        feeRecipient = recipient;
        emit FeeRecipientSet(recipient);
    }

    /// @inheritdoc IOptionVault
    function pause() external onlyRole(GUARDIAN_ROLE) {
        if (_book.paused) revert EnforcedPause();
        _book.paused = true;
        _book.pausedAt = uint40(block.timestamp);
        emit Paused(msg.sender);
    }

    /// @inheritdoc IOptionVault
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        if (!_book.paused) revert ExpectedPause();
        _book.paused = false;
        emit Unpaused(msg.sender);
    }

    // ================================================================= views

    /// @notice When the last hedge swap happened.
    function lastHedgeTime() external view returns (uint256) {
        return _hedgeParams.lastHedgeTime;
    }

    /// @inheritdoc IOptionVault
    function payoutsOwed() external view returns (uint256) {
        return _book.payoutsOwed;
    }

    /// @inheritdoc IOptionVault
    function feesOwed() external view returns (uint256) {
        return _book.feesOwed;
    }

    /// @inheritdoc IOptionVault
    function paused() external view returns (bool) {
        return _book.paused;
    }

    /// @inheritdoc IOptionVault
    function series(uint256 seriesId) external view returns (Series memory) {
        return _seriesOrRevert(seriesId);
    }

    /// @inheritdoc IOptionVault
    function liveSeries() external view returns (uint256[] memory) {
        return _live;
    }

    /// @inheritdoc IOptionVault
    function quoteBuy(uint256 seriesId, uint256 amountWad) external view returns (uint256 premium, uint256 fee) {
        Series memory s = _tradable(seriesId, amountWad);
        (uint256 priceWad, uint256 stressWad) = BookMarking.quoteTrade(_book, _series, _live, _env(), s, true);
        return BookMarking.buyCost(_risk, _quoteScale, priceWad, stressWad, amountWad);
    }

    /// @inheritdoc IOptionVault
    function quoteSell(uint256 seriesId, uint256 amountWad) external view returns (uint256 proceeds, uint256 fee) {
        Series memory s = _tradable(seriesId, amountWad);
        (uint256 priceWad,) = BookMarking.quoteTrade(_book, _series, _live, _env(), s, false);
        return _sellProceeds(priceWad, amountWad);
    }

    /// @inheritdoc IOptionVault
    function book() external view returns (BookView memory v) {
        (BookMath.Book memory b, bool fresh,, uint256 markedAt, uint256 validUntil) =
            BookMarking.viewBook(_book, _series, _live, _env(), IERC20(asset()).balanceOf(address(this)), hedger);
        v.spotWad = b.spotWad;
        v.quoteBalance = b.quoteBalance;
        v.hedgeWad = b.hedgeWad;
        v.collateral = b.collateral;
        BookMath.Ctx memory c = _ctx();
        v.assetsValue = b.assetsValue(c);
        v.markValue = b.markUpWad.divUp(_quoteScale);
        v.payoutsOwed = _book.payoutsOwed;
        v.stressMargin = b.stressMargin(c);
        v.healthFactorWad = b.healthFactor(c);
        v.bookDeltaWad = b.bookDeltaWad;
        v.vegaWad = b.vegaWad;
        v.markLowerValue = b.markDownWad / _quoteScale;
        v.markedAtSec = markedAt;
        v.cacheValidUntilSec = validUntil;
        v.cacheFresh = fresh;
        v.swing = b.swing(c, _risk.feedDeviationBps, _volStepWad());
        v.claimReserve = _claimReserve(b.spotWad);
    }

    /// @inheritdoc IOptionVault
    function valuation() public view returns (Valuation memory) {
        bool conservative = _exitMode();
        BookMath.Book memory b = conservative ? _storedBook() : _viewBook();
        return _valuationOf(b, _reservingCtx(b.spotWad), conservative);
    }

    /// @inheritdoc IOptionVault
    function exitMode() external view returns (bool) {
        return _exitMode();
    }

    // ================================================================= internal: cached book

    function _env() internal view returns (BookMarking.Env memory) {
        return BookMarking.Env(
            pricer,
            volOracle,
            priceOracle,
            _risk.rateWad,
            _risk.cacheMaxAgeSec,
            _risk.cacheSpotBandBps,
            _risk.spotShockUpBps,
            _risk.spotShockDownBps,
            _risk.volShockWad,
            _risk.feedDeviationBps,
            0
        );
    }

    /// @dev `_env` for hedges: the marks are also stale once the book's delta may have drifted half the band.
    function _hedgeEnv() internal view returns (BookMarking.Env memory env) {
        env = _env();
        // (non-zero: band >= 1e12) the book also values the hedge with the hedger's own position, from which its
        // order trades (`BookMarking.hedgePosition`: a donation counts from here on)
        env.maxDeltaDriftWad = _hedgeParams.deltaBandWad / 2;
    }

    /// @dev The book of a state-changing action, re-marked (and stored) if needed (`BookMarking.actionBook`).
    function _actionBook() internal returns (BookMath.Book memory b) {
        (b,,,,) = BookMarking.actionBook(_book, _series, _live, _env(), IERC20(asset()).balanceOf(address(this)), hedger);
    }

    /// @dev What a state-changing action would see now, without storing a re-mark (`BookMarking.viewBook`).
    function _viewBook() internal view returns (BookMath.Book memory b) {
        (b,,,,) = BookMarking.viewBook(_book, _series, _live, _env(), IERC20(asset()).balanceOf(address(this)), hedger);
    }

    /// @dev `_ctx` with the claims' reserve at `spotWad` (withdrawals, hedges).
    function _reservingCtx(uint256 spotWad) internal view returns (BookMath.Ctx memory c) {
        c = _ctx();
        c.reservedQuote = _claimReserve(spotWad);
    }

    /// @dev `BookMarking.claimReserve`, whose first check is made here on the head slot every action has read:
    /// while no open interest expires within the window (the stored bound, never later than the truth), 0 without
    /// the library call.
    function _claimReserve(uint256 spotWad) internal view returns (uint256) {
        BookMarking.Stored storage h = _book;
        // block times and whole hours below 2^40 + 2^16 x 3600: no overflow
        unchecked {
            if (
                uint256(h.markedAt) + uint256(h.nearestExpiryHours) * 1 hours
                    > block.timestamp + BookMarking.CLAIM_RESERVE_WINDOW_SEC
            ) return 0;
        }
        return BookMarking.claimReserve(_book, _series, _live, spotWad, _quoteScale);
    }

    function _abs(int256 x) internal pure returns (uint256) {
        return x < 0 ? uint256(-x) : uint256(x);
    }

    function _pos(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }

    // ================================================================= internal: health

    function _ctx() internal view returns (BookMath.Ctx memory) {
        return BookMath.Ctx(
            _quoteScale,
            _underlyingScale,
            _book.payoutsOwed,
            _book.feesOwed,
            _risk.hfFloorWad,
            _risk.spotShockUpBps,
            _risk.spotShockDownBps,
            0
        );
    }

    function _accrueFee(uint256 fee) internal {
        if (fee != 0) _book.feesOwed = SafeCast.toUint128(_book.feesOwed + fee);
    }

    /// @dev Free quote, then (unless conservative, where leavers take their share of A - L - M) the
    /// withdrawals' health factor (`BookMath.withdrawHealthFactorAfter`).
    function _checkWithdrawal(BookMath.Book memory b, BookMath.Ctx memory c, uint256 assets, bool conservative)
        internal
        pure
    {
        uint256 available = b.freeQuote(c);
        if (assets > available) revert InsufficientLiquidity(assets, available);
        if (conservative) return;
        uint256 hfAfter = b.withdrawHealthFactorAfter(c, assets);
        if (hfAfter < c.hfFloorWad) revert HealthFactorTooLow(hfAfter, c.hfFloorWad);
    }

    // ================================================================= internal: ERC-4626 valuation

    /// @dev `Valuation` of book `b` (conservative: exit mode, from the stored marks).
    function _valuationOf(BookMath.Book memory b, BookMath.Ctx memory c, bool conservative)
        internal
        view
        returns (Valuation memory v)
    {
        v.conservative = conservative;
        v.navForWithdrawals = _withdrawNav(b, c, conservative);
        if (conservative) {
            v.nav = v.navForWithdrawals;
            v.withdrawRoom = b.freeQuote(c);
            return v;
        }
        v.nav = b.navLow(c);
        v.navForDeposits = b.navHigh(c) + b.swing(c, _risk.feedDeviationBps, _volStepWad());
        bool paused_ = _book.paused;
        if (!paused_) v.withdrawRoom = b.withdrawRoom(c);
        uint256 l = b.liabilities(c);
        v.depositsOpen = !paused_ && (l == 0 || b.assetsValue(c) > l);
    }

    /// @dev `valuation()` without reverting: with the oracles down (outside exit mode), the conservative NAV
    /// (totalAssets) with deposits and withdrawals closed (every other field 0).
    function _safeValuation() internal view returns (Valuation memory v) {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeCall(this.valuation, ()));
        if (ok) return abi.decode(ret, (Valuation));
        v.nav = _storedBook().navConservative(_ctx());
    }

    /// @dev The NAV deposits and mints price shares at, after re-marking if needed; reverts
    /// `VaultInsolvent` when A <= L.
    function _depositNav() internal returns (uint256) {
        BookMath.Book memory b = _actionBook();
        BookMath.Ctx memory c = _ctx();
        uint256 a = b.assetsValue(c);
        uint256 l = b.liabilities(c);
        if (l != 0 && a <= l) revert VaultInsolvent(a, l);
        return b.navHigh(c) + b.swing(c, _risk.feedDeviationBps, _volStepWad());
    }

    /// @dev What a withdrawal or redemption sees: in exit mode the stored marks (no oracle), else a fresh
    /// book (re-marked if needed); reverts `EnforcedPause` while paused outside exit mode.
    function _exitValuation()
        internal
        returns (BookMath.Book memory b, BookMath.Ctx memory c, uint256 nav, bool conservative)
    {
        conservative = _exitMode();
        if (!conservative && _book.paused) revert EnforcedPause();
        b = conservative ? _storedBook() : _actionBook();
        c = _reservingCtx(b.spotWad);
        nav = _withdrawNav(b, c, conservative);
    }

    /// @dev `Valuation.navForWithdrawals`: the conservative NAV, or the mark's upper bound NAV minus the swing.
    function _withdrawNav(BookMath.Book memory b, BookMath.Ctx memory c, bool conservative)
        internal
        view
        returns (uint256)
    {
        if (conservative) return b.navConservative(c);
        uint256 nav = b.navLow(c);
        uint256 swingValue = b.swing(c, _risk.feedDeviationBps, _volStepWad());
        return nav > swingValue ? nav - swingValue : 0;
    }

    /// @dev Paused for `maxPauseSec`, or an oracle outage reported `outageExitDelaySec` ago.
    function _exitMode() internal view returns (bool) {
        BookMarking.Stored storage h = _book;
        // the flags share the head slot every action reads; slot 6 only when one is set
        if (h.paused && block.timestamp >= uint256(h.pausedAt) + h.maxPauseSec) return true;
        return h.outage && block.timestamp >= uint256(h.outageSince) + h.outageExitDelaySec;
    }

    function _storedBook() internal view returns (BookMath.Book memory) {
        BookMarking.Stored storage st = _book;
        return BookMarking.storedBook(
            st, IERC20(asset()).balanceOf(address(this)), hedger.position(st.spotWad, _risk.spotShockUpBps)
        );
    }

    /// @dev The largest step of one volatility post (the swing's volatility term).
    function _volStepWad() internal view returns (uint256) {
        return volOracle.maxStepWad();
    }

    // ================================================================= internal: trading

    function _seriesOrRevert(uint256 seriesId) internal view returns (Series memory s) {
        s = _series[seriesId];
        if (s.expiry == 0) revert UnknownSeries(seriesId);
    }

    /// @dev The series, if it can be traded now in a non-zero amount (an expiry is settled only once it
    /// has passed, so a series before its expiry is not settled).
    function _tradable(uint256 seriesId, uint256 amountWad) internal view returns (Series memory s) {
        if (amountWad == 0) revert ZeroAmount();
        s = _seriesOrRevert(seriesId);
        if (block.timestamp >= s.expiry) revert SeriesExpired(seriesId, s.expiry);
        uint256 cutoff = _risk.tradingCutoffSec;
        if (block.timestamp + cutoff >= s.expiry) revert TradingCutoff(seriesId, s.expiry, cutoff);
    }

    /// @dev gross = floor(amount x price x (1 - spread)); fee = ceil(gross x feeBps); proceeds = gross - fee.
    function _sellProceeds(uint256 priceWad, uint256 amountWad)
        internal
        view
        returns (uint256 proceeds, uint256 fee)
    {
        // bounds as in `BookMarking.buyCost`
        uint256 gross = amountWad * (priceWad * (BPS - _risk.spreadBps)) / (WAD * BPS * _quoteScale);
        fee = (gross * _risk.feeBps).divUp(BPS);
        proceeds = gross - fee;
    }

    /// @dev Settles an expiry (`BookMarking.settle`) and invalidates the cached book (its series leave it).
    function _settle(uint256 expiry, uint80 roundId) internal {
        if (block.timestamp < expiry) revert NotExpired(expiry, block.timestamp);
        if (settlementPriceWad[expiry] != 0) revert AlreadySettled(expiry);
        _book.payoutsOwed = SafeCast.toUint128(
            _book.payoutsOwed
                + BookMarking.settle(_series, _live, settlementPriceWad, priceOracle, expiry, roundId, _quoteScale)
        );
        _book.validUntil = 0;
    }

    // ================================================================= internal: hedging

    /// @dev One hedge order and its post-trade checks (`HedgeExecution.hedge`).
    function _rebalance(BookMath.Book memory b, BookMath.Ctx memory c, int256 targetWad) internal {
        BookMarking.StoredHedge storage hp = _hedgeParams;
        HedgeExecution.hedge(
            _book,
            HedgeExecution.Hedge(
                priceOracle,
                hedger,
                IERC20(asset()),
                targetWad,
                hp.deltaBandWad,
                hp.maxSlippageBps,
                hp.maxNavLossBps,
                _risk.spotShockUpBps
            ),
            b,
            c
        );
        hp.lastHedgeTime = uint40(block.timestamp);
    }

    // ================================================================= internal: parameters

    /// @dev shares = assets x (supply + 10^offset) / (nav + 1), OpenZeppelin's virtual-share formula
    /// on a NAV computed once.
    function _toShares(uint256 assets, uint256 nav, Math.Rounding rounding) internal view returns (uint256) {
        return Math.mulDiv(assets, totalSupply() + 10 ** DECIMALS_OFFSET, nav + 1, rounding);
    }

    /// @dev assets = shares x (nav + 1) / (supply + 10^offset).
    function _toAssets(uint256 shares, uint256 nav, Math.Rounding rounding) internal view returns (uint256) {
        return Math.mulDiv(shares, nav + 1, totalSupply() + 10 ** DECIMALS_OFFSET, rounding);
    }
}
