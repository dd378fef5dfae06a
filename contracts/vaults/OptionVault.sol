// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AutomationCompatibleInterface} from "../../interfaces/AutomationCompatibleInterface.sol";
import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {IOptionToken} from "../../interfaces/IOptionToken.sol";
import {IOptionVault} from "../../interfaces/IOptionVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {ISwapRouterMinimal} from "../../interfaces/IUniswapV3.sol";
import {IVolatilityOracle} from "../../interfaces/IVolatilityOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SwapExecution} from "./SwapExecution.sol";

/// @title OptionVault
/// @notice ERC-4626 vault that writes cash-settled European options and delta-hedges them on Uniswap V3.
/// Formulas and units are on `IOptionVault`.
/// @dev Roles: DEFAULT_ADMIN_ROLE (risk parameters, fee recipient), GUARDIAN_ROLE (pause), LISTER_ROLE
/// (series). Paused: deposit, mint, withdraw, redeem, buy, sell and performUpkeep stop; settle and
/// claim go on, so holders are paid what is owed.
/// Warning: every valuation reads the oracles, so a stale or deviating feed, or a stale posted volatility
/// for any expiry with open interest, stops deposits, withdrawals and trades (fail closed).
contract OptionVault is IOptionVault, AutomationCompatibleInterface, ERC4626, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant YEAR_SEC = 365 days;
    /// @notice Series expire at most this long after listing.
    uint256 internal constant MAX_EXPIRY_SEC = 365 days;
    /// @notice Hard cap on `RiskParams.maxLiveSeries`.
    uint256 internal constant HARD_MAX_LIVE_SERIES = 64;
    /// @dev ceil(1e18 / sqrt(2 pi)): phi(0), the largest value of the normal density.
    uint256 internal constant INV_SQRT_2PI_WAD_UP = 398942280401432678;
    /// @dev Shares have 6 more decimals than the quote token: a donation must be 1e6 times the
    /// victim's deposit to round it to nothing (virtual shares, OpenZeppelin's mitigation).
    uint8 internal constant DECIMALS_OFFSET = 6;

    IERC20 public immutable underlying;
    IPriceOracle public immutable priceOracle;
    IVolatilityOracle public immutable volOracle;
    ISwapRouterMinimal public immutable swapRouter;
    uint24 public immutable poolFee;
    IOptionToken public immutable optionToken;
    IOptionPricer public immutable pricer;
    /// @dev 10^(18 - quote decimals): quote wad -> quote units.
    uint256 internal immutable _quoteScale;
    /// @dev 10^(18 - underlying decimals): underlying units -> underlying wad.
    uint256 internal immutable _underlyingScale;

    RiskParams internal _risk;
    ExposureLimits internal _limits;
    HedgeParams internal _hedgeParams;
    /// @notice Receives trading fees.
    address public feeRecipient;
    /// @inheritdoc IOptionVault
    uint256 public payoutsOwed;
    /// @notice When the last hedge swap happened.
    uint256 public lastHedgeTime;
    /// @dev Number of series ever listed (ids are 1.._seriesCount).
    uint256 internal _seriesCount;
    /// @inheritdoc IOptionVault
    mapping(uint256 expiry => uint256) public settlementPriceWad;

    mapping(uint256 seriesId => Series) internal _series;
    mapping(bytes32 key => uint256) internal _seriesByKey;
    uint256[] internal _live;

    /// @dev The book in wad before conversion to quote units (see `IOptionVault`).
    struct Book {
        uint256 spotWad;
        uint256 quoteBalance;
        uint256 hedgeBalance;
        uint256 markWad;
        uint256 callOpenWad;
        uint256 putOpenWad;
        uint256 vegaWad;
        int256 bookDeltaWad;
    }

    /// @dev Per-expiry values shared by the series of one expiry while loading the book.
    struct ExpiryCache {
        uint256 expiry;
        uint256 timeSec;
        uint256 volWad;
        uint256 vegaUnitWad;
    }

    /// @notice Constructor arguments (a struct keeps the constructor below the stack limit).
    struct Config {
        IERC20Metadata quote;
        IERC20 underlying;
        IPriceOracle priceOracle;
        IVolatilityOracle volOracle;
        ISwapRouterMinimal swapRouter;
        uint24 poolFee;
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
        swapRouter = config.swapRouter;
        poolFee = config.poolFee;
        optionToken = config.optionToken;
        pricer = config.pricer;
        _quoteScale = 10 ** (18 - quoteDecimals);
        _underlyingScale = 10 ** (18 - underlyingDecimals);
        feeRecipient = config.feeRecipient;
        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        _setParameters(risk, limits, hedge);
        IERC20(address(config.quote)).forceApprove(address(config.swapRouter), type(uint256).max);
        config.underlying.forceApprove(address(config.swapRouter), type(uint256).max);
        lastHedgeTime = block.timestamp;
    }

    // ================================================================= trading

    /// @inheritdoc IOptionVault
    function buy(uint256 seriesId, uint256 amountWad, uint256 maxPremium, address receiver)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 premium)
    {
        if (receiver == address(0)) revert ZeroAddress();
        Series memory s = _tradable(seriesId, amountWad);
        uint256 spot = priceOracle.spotWad();
        uint256 fee;
        (premium, fee) = _buyCost(s, spot, amountWad);
        if (premium + fee > maxPremium) revert PremiumAboveMax(premium + fee, maxPremium);
        uint256 openWad = s.openInterestWad + amountWad;
        if (openWad > _limits.maxOpenInterestWad) {
            revert OpenInterestCap(seriesId, openWad, _limits.maxOpenInterestWad);
        }
        // openWad <= maxOpenInterestWad, a uint112
        _series[seriesId].openInterestWad = uint112(openWad);
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), premium);
        if (fee != 0) IERC20(asset()).safeTransferFrom(msg.sender, feeRecipient, fee);
        _checkNewRisk(_loadBook(spot, true));
        optionToken.mint(receiver, seriesId, amountWad);
        emit Bought(seriesId, msg.sender, receiver, amountWad, premium, fee);
    }

    /// @inheritdoc IOptionVault
    function sell(uint256 seriesId, uint256 amountWad, uint256 minProceeds, address receiver)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 proceeds)
    {
        if (receiver == address(0)) revert ZeroAddress();
        Series memory s = _tradable(seriesId, amountWad);
        uint256 fee;
        (proceeds, fee) = _sellProceeds(s, priceOracle.spotWad(), amountWad);
        if (proceeds < minProceeds) revert ProceedsBelowMin(proceeds, minProceeds);
        uint256 available = _freeQuote(IERC20(asset()).balanceOf(address(this)));
        if (proceeds + fee > available) revert InsufficientLiquidity(proceeds + fee, available);
        optionToken.burn(msg.sender, seriesId, amountWad);
        // the burn succeeded, so amountWad <= the seller's balance <= open interest
        unchecked {
            _series[seriesId].openInterestWad = uint112(s.openInterestWad - amountWad);
        }
        IERC20(asset()).safeTransfer(receiver, proceeds);
        if (fee != 0) IERC20(asset()).safeTransfer(feeRecipient, fee);
        emit Sold(seriesId, msg.sender, receiver, amountWad, proceeds, fee);
    }

    /// @inheritdoc IOptionVault
    function settle(uint256 expiry, uint80 roundId) external nonReentrant {
        _settle(expiry, roundId);
    }

    /// @inheritdoc IOptionVault
    function claim(uint256 seriesId, address receiver) external nonReentrant returns (uint256 payout) {
        if (receiver == address(0)) revert ZeroAddress();
        Series memory s = _seriesOrRevert(seriesId);
        uint256 priceWad = settlementPriceWad[s.expiry];
        if (priceWad == 0) revert NotSettled(seriesId);
        uint256 amountWad = IERC1155(address(optionToken)).balanceOf(msg.sender, seriesId);
        if (amountWad == 0) revert NothingToClaim(seriesId, msg.sender);
        payout = amountWad.mulDivDown(_intrinsicWad(s, priceWad), WAD * _quoteScale);
        optionToken.burn(msg.sender, seriesId, amountWad);
        // settlement added ceil(open x payout) for the series; the claims' floors never sum above it
        payoutsOwed -= payout;
        if (payout != 0) IERC20(asset()).safeTransfer(receiver, payout);
        emit Claimed(seriesId, msg.sender, receiver, amountWad, payout);
    }

    // ================================================================= upkeep

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev performData is abi.encode(expiry, roundId) when an expiry is due for settlement, else empty.
    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        (uint256 expiry, uint80 roundId) = _dueSettlement();
        if (expiry != 0) return (true, abi.encode(expiry, roundId));
        Book memory b = _loadBook(priceOracle.spotWad(), true);
        (, uint256 gapWad) = _hedgeTarget(b);
        return (_hedgeNeeded(gapWad), "");
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev With a settlement hint: settles that expiry (the hint is verified) and does nothing else, so
    /// settlement never depends on the pool; the next upkeep hedges. Without: hedges when the gap to the
    /// target leaves the band, or the interval has passed with a non-dust gap, else reverts
    /// `UpkeepNotNeeded`. Everything is recomputed on-chain.
    function performUpkeep(bytes calldata performData) external nonReentrant whenNotPaused {
        if (performData.length != 0) {
            (uint256 expiry, uint80 roundId) = abi.decode(performData, (uint256, uint80));
            _settle(expiry, roundId);
            return;
        }
        Book memory b = _loadBook(priceOracle.spotWad(), true);
        (uint256 targetWad, uint256 gapWad) = _hedgeTarget(b);
        if (!_hedgeNeeded(gapWad)) revert UpkeepNotNeeded(gapWad, _hedgeParams.deltaBandWad);
        _rebalance(b, targetWad);
    }

    // ================================================================= ERC-4626

    /// @inheritdoc ERC4626
    function totalAssets() public view override returns (uint256) {
        return _nav(_loadBook(priceOracle.spotWad(), false));
    }

    /// @inheritdoc ERC4626
    function maxDeposit(address) public view override returns (uint256) {
        return paused() ? 0 : type(uint256).max;
    }

    /// @inheritdoc ERC4626
    function maxMint(address) public view override returns (uint256) {
        return paused() ? 0 : type(uint256).max;
    }

    /// @inheritdoc ERC4626
    /// @dev The least of the owner's assets, the free quote (balance - payouts owed) and what keeps HF at
    /// the floor: A - floor x (L + M).
    function maxWithdraw(address owner) public view override returns (uint256) {
        if (paused()) return 0;
        Book memory b = _loadBook(priceOracle.spotWad(), false);
        uint256 nav = _nav(b);
        return Math.min(_toAssets(balanceOf(owner), nav, Math.Rounding.Floor), _withdrawRoom(b));
    }

    /// @inheritdoc ERC4626
    function maxRedeem(address owner) public view override returns (uint256) {
        if (paused()) return 0;
        Book memory b = _loadBook(priceOracle.spotWad(), false);
        uint256 nav = _nav(b);
        uint256 shares = balanceOf(owner);
        uint256 room = _withdrawRoom(b);
        if (_toAssets(shares, nav, Math.Rounding.Floor) <= room) return shares;
        return _toShares(room, nav, Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    function deposit(uint256 assets, address receiver) public override nonReentrant whenNotPaused returns (uint256) {
        if (assets == 0) revert ZeroAmount();
        return super.deposit(assets, receiver);
    }

    /// @inheritdoc ERC4626
    function mint(uint256 shares, address receiver) public override nonReentrant whenNotPaused returns (uint256) {
        if (shares == 0) revert ZeroAmount();
        return super.mint(shares, receiver);
    }

    /// @inheritdoc ERC4626
    /// @dev Reverts `HealthFactorTooLow` with the HF the withdrawal would leave, `InsufficientLiquidity`
    /// when the free quote is short, `ERC4626ExceededMaxWithdraw` beyond the owner's assets.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        whenNotPaused
        returns (uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        Book memory b = _loadBook(priceOracle.spotWad(), false);
        uint256 nav = _nav(b);
        uint256 ownerAssets = _toAssets(balanceOf(owner), nav, Math.Rounding.Floor);
        if (assets > ownerAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, ownerAssets);
        shares = _toShares(assets, nav, Math.Rounding.Ceil);
        _checkWithdrawal(b, assets);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Reverts like `withdraw`; `ERC4626ExceededMaxRedeem` beyond the owner's shares.
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        whenNotPaused
        returns (uint256 assets)
    {
        if (shares == 0) revert ZeroAmount();
        uint256 ownerShares = balanceOf(owner);
        if (shares > ownerShares) revert ERC4626ExceededMaxRedeem(owner, shares, ownerShares);
        Book memory b = _loadBook(priceOracle.spotWad(), false);
        assets = _toAssets(shares, _nav(b), Math.Rounding.Floor);
        _checkWithdrawal(b, assets);
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
    /// @dev Expiry in (now + cutoff, now + MAX_EXPIRY_SEC]; strike in [spot / 10, 10 x spot] and below
    /// 2^96 wad.
    /// Warning: valuations revert if spot later moves beyond strike x 100 or strike / 100 (the library's
    /// moneyness domain); the listing band leaves a factor 10 of room.
    function listSeries(uint256 expiry, uint256 strikeWad, bool isCall)
        external
        onlyRole(LISTER_ROLE)
        returns (uint256 seriesId)
    {
        uint256 minExpiry = block.timestamp + _risk.tradingCutoffSec + 1;
        uint256 maxExpiry = block.timestamp + MAX_EXPIRY_SEC;
        if (expiry < minExpiry || expiry > maxExpiry) revert BadExpiry(expiry, minExpiry, maxExpiry);
        // strike within [spot / 10, 10 x spot] keeps every later valuation inside the library's
        // moneyness domain [0.01, 100] for spot moves up to a factor 10
        uint256 spotWad = priceOracle.spotWad();
        if (strikeWad * 10 < spotWad || strikeWad > spotWad * 10 || strikeWad > type(uint96).max) {
            revert BadStrike(strikeWad);
        }
        bytes32 key = keccak256(abi.encode(expiry, strikeWad, isCall));
        if (_seriesByKey[key] != 0) revert SeriesAlreadyListed(_seriesByKey[key]);
        if (_live.length >= _risk.maxLiveSeries) revert LiveSeriesCap(_risk.maxLiveSeries);
        seriesId = ++_seriesCount;
        // expiry <= now + 1 year < 2^40, strikeWad < 2^96 (checked above)
        _series[seriesId] = Series(uint40(expiry), isCall, uint96(strikeWad), 0);
        _seriesByKey[key] = seriesId;
        _live.push(seriesId);
        emit SeriesListed(seriesId, expiry, strikeWad, isCall);
    }

    /// @inheritdoc IOptionVault
    /// @dev Hard bounds: hfFloor [1, 3]; shocks [1%, 90%]; volShock [0.01, 2]; spread [0, 20%];
    /// fee [0, 10%]; cutoff [0, 7 days]; maxLiveSeries [1, 64]; rate [-10%, 50%]; maxOpenInterest
    /// [1, 1e30]; maxNetDelta [0, 1e30]; maxVega [0, 1e36]; band [1e12, 1e30]; dust [0, band];
    /// interval [60 s, 7 days]; slippage [1, 500] bps; NAV loss [1, 1000] bps.
    function setParameters(RiskParams calldata risk, ExposureLimits calldata limits, HedgeParams calldata hedge)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setParameters(risk, limits, hedge);
    }

    /// @inheritdoc IOptionVault
    function setFeeRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (recipient == address(0)) revert ZeroAddress();
        feeRecipient = recipient;
        emit FeeRecipientSet(recipient);
    }

    /// @inheritdoc IOptionVault
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IOptionVault
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    // ================================================================= views

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
        return _buyCost(s, priceOracle.spotWad(), amountWad);
    }

    /// @inheritdoc IOptionVault
    function quoteSell(uint256 seriesId, uint256 amountWad) external view returns (uint256 proceeds, uint256 fee) {
        Series memory s = _tradable(seriesId, amountWad);
        return _sellProceeds(s, priceOracle.spotWad(), amountWad);
    }

    /// @inheritdoc IOptionVault
    function book() external view returns (BookView memory v) {
        Book memory b = _loadBook(priceOracle.spotWad(), true);
        v.spotWad = b.spotWad;
        v.quoteBalance = b.quoteBalance;
        v.hedgeBalance = b.hedgeBalance;
        v.assetsValue = _assetsValue(b);
        v.markValue = b.markWad.mulDivUp(1, _quoteScale);
        v.payoutsOwed = payoutsOwed;
        v.stressMargin = _stressMargin(b);
        v.healthFactorWad = _healthFactor(b);
        v.bookDeltaWad = b.bookDeltaWad;
        v.vegaWad = b.vegaWad;
    }

    // ================================================================= internal: book

    /// @dev One pass over the live series: mark value, open interest by type, vega bound and (when
    /// `withDelta`) the book delta, at `spotWad` and the posted volatilities.
    function _loadBook(uint256 spotWad, bool withDelta) internal view returns (Book memory b) {
        b.spotWad = spotWad;
        b.quoteBalance = IERC20(asset()).balanceOf(address(this));
        b.hedgeBalance = underlying.balanceOf(address(this));
        int256 rateWad = _risk.rateWad;
        uint256 n = _live.length;
        ExpiryCache memory c;
        for (uint256 i = 0; i < n; ++i) {
            Series memory s = _series[_live[i]];
            if (s.openInterestWad == 0) continue;
            if (s.expiry != c.expiry) _loadExpiry(c, s.expiry, spotWad);
            _addSeries(b, s, c, rateWad, withDelta);
        }
    }

    /// @dev What every series of one expiry shares: time left, posted volatility (fresh, or the call
    /// reverts) and the vega bound per option. Consecutive live series of one expiry read it once.
    function _loadExpiry(ExpiryCache memory c, uint256 expiry, uint256 spotWad) internal view {
        c.expiry = expiry;
        if (expiry > block.timestamp) {
            c.timeSec = expiry - block.timestamp;
            c.volWad = volOracle.volWad(expiry);
            c.vegaUnitWad = _vegaBoundWad(spotWad, c.timeSec);
        } else {
            // at expiry the library ignores volatility (intrinsic value); any in-domain value does
            (c.timeSec, c.volWad, c.vegaUnitWad) = (0, WAD, 0);
        }
    }

    /// @dev Adds one series with open interest to the book.
    function _addSeries(Book memory b, Series memory s, ExpiryCache memory c, int256 rateWad, bool withDelta)
        internal
        view
    {
        uint256 openWad = s.openInterestWad;
        uint256 priceWad;
        if (withDelta) {
            int256 deltaWad;
            (priceWad, deltaWad) = pricer.priceAndDelta(b.spotWad, s.strikeWad, c.timeSec, c.volWad, rateWad, s.isCall);
            // the vault is short: its delta is minus the options'; open interest < 2^112, |delta| <= 1e18
            b.bookDeltaWad -= int256(openWad) * deltaWad / int256(WAD);
        } else {
            priceWad = pricer.price(b.spotWad, s.strikeWad, c.timeSec, c.volWad, rateWad, s.isCall);
        }
        // open interest < 2^112, price and vega bound < 2^101 (library domain): no 256-bit overflow
        b.markWad += (openWad * priceWad + WAD - 1) / WAD;
        b.vegaWad += (openWad * c.vegaUnitWad + WAD - 1) / WAD;
        if (s.isCall) b.callOpenWad += openWad;
        else b.putOpenWad += openWad;
    }

    /// @dev Upper bound of Black-Scholes vega per option (quote wad per 1.00 of volatility):
    /// S sqrt(T) phi(d1) <= S sqrt(T) / sqrt(2 pi), rounded up.
    function _vegaBoundWad(uint256 spotWad, uint256 timeSec) internal pure returns (uint256) {
        uint256 sqrtYearsWad = FixedPointMath.sqrt(timeSec * WAD * WAD / YEAR_SEC) + 1;
        return spotWad.mulDivUp(sqrtYearsWad, WAD).mulDivUp(INV_SQRT_2PI_WAD_UP, WAD);
    }

    /// @dev A = quote balance + hedge x spot, rounded down, in quote units.
    function _assetsValue(Book memory b) internal view returns (uint256) {
        return b.quoteBalance + (b.hedgeBalance * _underlyingScale).mulDivDown(b.spotWad, WAD * _quoteScale);
    }

    /// @dev L = mark + payouts owed, rounded up, in quote units.
    function _liabilities(Book memory b) internal view returns (uint256) {
        return b.markWad.mulDivUp(1, _quoteScale) + payoutsOwed;
    }

    /// @dev M = max(up, down) + volStress, rounded up, in quote units (formulas on `IOptionVault`).
    function _stressMargin(Book memory b) internal view returns (uint256) {
        RiskParams memory r = _risk;
        uint256 hedgeWad = b.hedgeBalance * _underlyingScale;
        uint256 upExposureWad = b.callOpenWad > hedgeWad ? b.callOpenWad - hedgeWad : 0;
        uint256 upLossWad = upExposureWad.mulDivUp(b.spotWad * r.spotShockUpBps, WAD * BPS);
        uint256 downLossWad = (b.putOpenWad + hedgeWad).mulDivUp(b.spotWad * r.spotShockDownBps, WAD * BPS);
        uint256 volLossWad = b.vegaWad.mulDivUp(uint256(r.volShockWad) * (BPS + r.spotShockUpBps), WAD * BPS);
        return (Math.max(upLossWad, downLossWad) + volLossWad).mulDivUp(1, _quoteScale);
    }

    function _nav(Book memory b) internal view returns (uint256) {
        uint256 assets = _assetsValue(b);
        uint256 liabilities = _liabilities(b);
        return assets > liabilities ? assets - liabilities : 0;
    }

    function _healthFactor(Book memory b) internal view returns (uint256) {
        return _healthFactorAfter(b, _assetsValue(b));
    }

    /// @dev HF = assetsValue / (L + M) for a given assets value (the stress margin depends on the hedge
    /// and the book only, not on the quote balance).
    function _healthFactorAfter(Book memory b, uint256 assetsValue) internal view returns (uint256) {
        uint256 denominator = _liabilities(b) + _stressMargin(b);
        if (denominator == 0) return type(uint256).max;
        return assetsValue.mulDivDown(WAD, denominator);
    }

    /// @dev Quote balance minus payouts owed (0 if short).
    function _freeQuote(uint256 quoteBalance) internal view returns (uint256) {
        uint256 owed = payoutsOwed;
        return quoteBalance > owed ? quoteBalance - owed : 0;
    }

    /// @dev The most that may leave now: min(free quote, A - floor x (L + M)).
    function _withdrawRoom(Book memory b) internal view returns (uint256) {
        uint256 assetsValue = _assetsValue(b);
        uint256 needed = (_liabilities(b) + _stressMargin(b)).mulDivUp(_risk.hfFloorWad, WAD);
        uint256 hfRoom = assetsValue > needed ? assetsValue - needed : 0;
        return Math.min(hfRoom, _freeQuote(b.quoteBalance));
    }

    function _checkWithdrawal(Book memory b, uint256 assets) internal view {
        uint256 available = _freeQuote(b.quoteBalance);
        if (assets > available) revert InsufficientLiquidity(assets, available);
        uint256 hfAfter = _healthFactorAfter(b, _assetsValue(b) - assets);
        if (hfAfter < _risk.hfFloorWad) revert HealthFactorTooLow(hfAfter, _risk.hfFloorWad);
    }

    /// @dev New risk (a sale of options) must leave HF at or above the floor and the exposure within limits.
    function _checkNewRisk(Book memory b) internal view {
        uint256 hf = _healthFactor(b);
        if (hf < _risk.hfFloorWad) revert HealthFactorTooLow(hf, _risk.hfFloorWad);
        ExposureLimits memory limits = _limits;
        // with a hedge H >= 0, |H + bookDelta| >= max(bookDelta, 0): a positive book delta that only a
        // short could hedge always counts against the limit
        int256 netDeltaWad = b.bookDeltaWad + int256(b.hedgeBalance * _underlyingScale);
        uint256 absNet = netDeltaWad < 0 ? uint256(-netDeltaWad) : uint256(netDeltaWad);
        if (absNet > limits.maxNetDeltaWad) revert NetDeltaLimit(netDeltaWad, limits.maxNetDeltaWad);
        if (b.vegaWad > limits.maxVegaWad) revert VegaLimit(b.vegaWad, limits.maxVegaWad);
    }

    // ================================================================= internal: trading

    function _seriesOrRevert(uint256 seriesId) internal view returns (Series memory s) {
        s = _series[seriesId];
        if (s.expiry == 0) revert UnknownSeries(seriesId);
    }

    /// @dev The series, if it can be traded now in a non-zero amount.
    function _tradable(uint256 seriesId, uint256 amountWad) internal view returns (Series memory s) {
        if (amountWad == 0) revert ZeroAmount();
        s = _seriesOrRevert(seriesId);
        if (block.timestamp >= s.expiry || settlementPriceWad[s.expiry] != 0) {
            revert SeriesExpired(seriesId, s.expiry);
        }
        uint256 cutoff = _risk.tradingCutoffSec;
        if (block.timestamp + cutoff >= s.expiry) revert TradingCutoff(seriesId, s.expiry, cutoff);
    }

    /// @dev Black-Scholes price of one option of `s` (quote wad), with the fresh posted volatility.
    function _optionPriceWad(Series memory s, uint256 spotWad) internal view returns (uint256) {
        uint256 volWad = volOracle.volWad(s.expiry);
        return pricer.price(spotWad, s.strikeWad, s.expiry - block.timestamp, volWad, _risk.rateWad, s.isCall);
    }

    /// @dev premium = ceil(amount x price x (1 + spread)); fee = ceil(premium x feeBps), quote units.
    function _buyCost(Series memory s, uint256 spotWad, uint256 amountWad)
        internal
        view
        returns (uint256 premium, uint256 fee)
    {
        uint256 priceWad = _optionPriceWad(s, spotWad);
        premium = amountWad.mulDivUp(priceWad * (BPS + _risk.spreadBps), WAD * BPS * _quoteScale);
        fee = premium.mulDivUp(_risk.feeBps, BPS);
    }

    /// @dev gross = floor(amount x price x (1 - spread)); fee = ceil(gross x feeBps); proceeds = gross - fee.
    function _sellProceeds(Series memory s, uint256 spotWad, uint256 amountWad)
        internal
        view
        returns (uint256 proceeds, uint256 fee)
    {
        uint256 priceWad = _optionPriceWad(s, spotWad);
        uint256 gross = amountWad.mulDivDown(priceWad * (BPS - _risk.spreadBps), WAD * BPS * _quoteScale);
        fee = gross.mulDivUp(_risk.feeBps, BPS);
        proceeds = gross - fee;
    }

    /// @dev Payoff of one option of `s` at `priceWad` (quote wad).
    function _intrinsicWad(Series memory s, uint256 priceWad) internal pure returns (uint256) {
        if (s.isCall) return priceWad > s.strikeWad ? priceWad - s.strikeWad : 0;
        return s.strikeWad > priceWad ? s.strikeWad - priceWad : 0;
    }

    function _settle(uint256 expiry, uint80 roundId) internal {
        if (block.timestamp < expiry) revert NotExpired(expiry, block.timestamp);
        if (settlementPriceWad[expiry] != 0) revert AlreadySettled(expiry);
        uint256 priceWad = priceOracle.settlementPriceWad(roundId, expiry);
        settlementPriceWad[expiry] = priceWad;
        uint256 owedAdded;
        bool found;
        // walk backwards so that swap-and-pop only moves already visited ids
        for (uint256 i = _live.length; i > 0; --i) {
            uint256 id = _live[i - 1];
            Series memory s = _series[id];
            if (s.expiry != expiry) continue;
            found = true;
            owedAdded += uint256(s.openInterestWad).mulDivUp(_intrinsicWad(s, priceWad), WAD * _quoteScale);
            _live[i - 1] = _live[_live.length - 1];
            _live.pop();
        }
        if (!found) revert NothingToSettle(expiry);
        payoutsOwed += owedAdded;
        emit ExpirySettled(expiry, roundId, priceWad, owedAdded);
    }

    // ================================================================= internal: hedging

    /// @dev The earliest live expiry that has passed and the feed round to settle it with (0, 0 if none).
    function _dueSettlement() internal view returns (uint256 expiry, uint80 roundId) {
        uint256 n = _live.length;
        for (uint256 i = 0; i < n; ++i) {
            uint256 e = _series[_live[i]].expiry;
            if (e <= block.timestamp && (expiry == 0 || e < expiry)) expiry = e;
        }
        if (expiry == 0) return (0, 0);
        roundId = priceOracle.firstRoundAtOrAfter(expiry);
        if (roundId == 0) return (0, 0);
    }

    /// @dev Target hedge max(-bookDelta, 0) and the gap |target - hedge|, in underlying wad.
    function _hedgeTarget(Book memory b) internal view returns (uint256 targetWad, uint256 gapWad) {
        targetWad = b.bookDeltaWad < 0 ? uint256(-b.bookDeltaWad) : 0;
        uint256 hedgeWad = b.hedgeBalance * _underlyingScale;
        gapWad = targetWad > hedgeWad ? targetWad - hedgeWad : hedgeWad - targetWad;
    }

    function _hedgeNeeded(uint256 gapWad) internal view returns (bool) {
        HedgeParams memory h = _hedgeParams;
        if (gapWad > h.deltaBandWad) return true;
        return block.timestamp >= lastHedgeTime + h.hedgeIntervalSec && gapWad > h.dustDeltaWad;
    }

    /// @dev Swap toward the target on the pool, bounded by the oracle price and the slippage, then check
    /// the gap, the NAV change and the health factor on the same marks (only the balances moved). A buy
    /// is cut to what the free quote affords at the bound; only then may the gap stay outside the band.
    function _rebalance(Book memory b, uint256 targetWad) internal {
        priceOracle.checkPoolPrice(b.spotWad);
        uint256 navBefore = _nav(b);
        uint256 hfBefore = _healthFactor(b);
        uint256 hedgeWad = b.hedgeBalance * _underlyingScale;
        bool buying = targetWad > hedgeWad;
        uint256 slippageBps = _hedgeParams.maxSlippageBps;
        uint256 available = _freeQuote(b.quoteBalance);
        uint256 underlyingAmount;
        bool cashLimited;
        if (buying) {
            underlyingAmount = (targetWad - hedgeWad).mulDivUp(1, _underlyingScale);
            // the most underlying whose bounded cost fits in the free quote
            uint256 affordable =
                available.mulDivDown(WAD * BPS * _quoteScale, b.spotWad * (BPS + slippageBps)) / _underlyingScale;
            if (affordable < underlyingAmount) (underlyingAmount, cashLimited) = (affordable, true);
        } else {
            underlyingAmount = (hedgeWad - targetWad) / _underlyingScale;
        }
        // reverts `SwapAmountZero` when nothing is affordable: the upkeep fails instead of looping
        uint256 quoteAmount = SwapExecution.execute(
            SwapExecution.Swap({
                router: swapRouter,
                quote: asset(),
                underlying: address(underlying),
                poolFee: poolFee,
                buyUnderlying: buying,
                underlyingAmount: underlyingAmount,
                spotWad: b.spotWad,
                maxSlippageBps: slippageBps,
                quoteScale: _quoteScale,
                underlyingScale: _underlyingScale,
                availableQuote: available
            })
        );
        b.quoteBalance = IERC20(asset()).balanceOf(address(this));
        b.hedgeBalance = underlying.balanceOf(address(this));
        _checkAfterHedge(b, navBefore, hfBefore, cashLimited);
        lastHedgeTime = block.timestamp;
        emit Hedged(
            buying, underlyingAmount, quoteAmount, b.bookDeltaWad + int256(b.hedgeBalance * _underlyingScale)
        );
    }

    /// @dev Post-trade checks: gap inside the band (unless the buy was cut to the free cash), NAV loss
    /// within its bound, HF at least min(floor, HF before) (a hedge of a vault already below the floor
    /// may not make it worse).
    function _checkAfterHedge(Book memory b, uint256 navBefore, uint256 hfBefore, bool cashLimited)
        internal
        view
    {
        HedgeParams memory h = _hedgeParams;
        (, uint256 gapAfter) = _hedgeTarget(b);
        if (gapAfter > h.deltaBandWad && !cashLimited) revert HedgeOutsideBand(gapAfter, h.deltaBandWad);
        uint256 navAfter = _nav(b);
        if (navAfter + navBefore.mulDivDown(h.maxNavLossBps, BPS) < navBefore) {
            revert HedgeNavLoss(navBefore, navAfter, h.maxNavLossBps);
        }
        uint256 hfAfter = _healthFactor(b);
        uint256 hfRequired = Math.min(_risk.hfFloorWad, hfBefore);
        if (hfAfter < hfRequired) revert HealthFactorTooLow(hfAfter, hfRequired);
    }

    // ================================================================= internal: parameters

    function _setParameters(RiskParams memory p, ExposureLimits memory l, HedgeParams memory h) internal {
        _checkBound("hfFloorWad", int256(uint256(p.hfFloorWad)), 1e18, 3e18);
        _checkBound("spotShockUpBps", int256(uint256(p.spotShockUpBps)), 100, 9000);
        _checkBound("spotShockDownBps", int256(uint256(p.spotShockDownBps)), 100, 9000);
        _checkBound("volShockWad", int256(uint256(p.volShockWad)), 0.01e18, 2e18);
        _checkBound("spreadBps", int256(uint256(p.spreadBps)), 0, 2000);
        _checkBound("feeBps", int256(uint256(p.feeBps)), 0, 1000);
        _checkBound("tradingCutoffSec", int256(uint256(p.tradingCutoffSec)), 0, 7 days);
        _checkBound("maxLiveSeries", int256(uint256(p.maxLiveSeries)), 1, int256(HARD_MAX_LIVE_SERIES));
        _checkBound("rateWad", p.rateWad, -0.1e18, 0.5e18);
        _checkBound("maxOpenInterestWad", int256(uint256(l.maxOpenInterestWad)), 1, 1e30);
        _checkBound("maxNetDeltaWad", int256(uint256(l.maxNetDeltaWad)), 0, 1e30);
        _checkBound("maxVegaWad", int256(uint256(l.maxVegaWad)), 0, 1e36);
        _checkBound("deltaBandWad", int256(uint256(h.deltaBandWad)), 1e12, 1e30);
        _checkBound("dustDeltaWad", int256(uint256(h.dustDeltaWad)), 0, int256(uint256(h.deltaBandWad)));
        _checkBound("hedgeIntervalSec", int256(uint256(h.hedgeIntervalSec)), 60, 7 days);
        _checkBound("maxSlippageBps", int256(uint256(h.maxSlippageBps)), 1, 500);
        _checkBound("maxNavLossBps", int256(uint256(h.maxNavLossBps)), 1, 1000);
        _risk = p;
        _limits = l;
        _hedgeParams = h;
        emit ParametersSet(p, l, h);
    }

    function _checkBound(bytes32 name, int256 value, int256 min, int256 max) private pure {
        if (value < min || value > max) revert ParamOutOfBounds(name, value, min, max);
    }

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
