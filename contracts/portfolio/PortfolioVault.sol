// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ICovarianceOracle} from "../../interfaces/ICovarianceOracle.sol";
import {IPortfolioMath} from "../../interfaces/IPortfolioMath.sol";
import {IPortfolioVault} from "../../interfaces/IPortfolioVault.sol";
import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {PortfolioEngine} from "./PortfolioEngine.sol";

/// @title PortfolioVault
/// @notice ERC-4626 vault over a quote token holding N risky assets at verified target weights, rebalanced by
/// permissionless upkeeps in oracle-bounded slices. Rules, formulas and units: `IPortfolioVault`;
/// design and threat model: docs/portfolio-vault.md.
/// @dev Roles: DEFAULT_ADMIN_ROLE (rules and parameters; a timelock in a deployment), TARGET_SETTER_ROLE
/// (the keeper: targets, each verified on-chain), GUARDIAN_ROLE (pause). Paused: deposits, mints and upkeeps
/// stop; withdrawals and redemptions stop for at most `MAX_PAUSE_SEC`; `redeemInKind` always works.
/// ERC-4626 views never revert: with an oracle down, `totalAssets` is the quote balance (a lower bound of
/// NAV) and the max* views are 0; the previews revert with the oracle's error (as the actions would).
contract PortfolioVault is IPortfolioVault, ERC4626, AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant TARGET_SETTER_ROLE = keccak256("TARGET_SETTER_ROLE");

    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_ASSETS = 8;
    /// @notice Withdrawals and redemptions go on this long into a pause.
    uint256 public constant MAX_PAUSE_SEC = 3 days;
    /// @dev Shares have 6 more decimals than the quote (OpenZeppelin's virtual-share inflation defence).
    uint8 internal constant DECIMALS_OFFSET = 6;
    uint8 internal constant UNLOCKED = 1;
    uint8 internal constant LOCKED = 2;

    uint256 internal immutable _n;
    ICovarianceOracle internal immutable _cov;
    uint256 internal immutable _quoteScale;
    /// @dev Holding i, fixed at construction, as immutables (no storage read on any action; zero beyond n):
    /// `_cfg{i}` = token | scale << 160 | isToken0 << 224 | feePips << 232 (`_packHolding`), `_oracle{i}`,
    /// `_pool{i}`.
    uint256 internal immutable _cfg0;
    uint256 internal immutable _cfg1;
    uint256 internal immutable _cfg2;
    uint256 internal immutable _cfg3;
    uint256 internal immutable _cfg4;
    uint256 internal immutable _cfg5;
    uint256 internal immutable _cfg6;
    uint256 internal immutable _cfg7;
    address internal immutable _oracle0;
    address internal immutable _oracle1;
    address internal immutable _oracle2;
    address internal immutable _oracle3;
    address internal immutable _oracle4;
    address internal immutable _oracle5;
    address internal immutable _oracle6;
    address internal immutable _oracle7;
    address internal immutable _pool0;
    address internal immutable _pool1;
    address internal immutable _pool2;
    address internal immutable _pool3;
    address internal immutable _pool4;
    address internal immutable _pool5;
    address internal immutable _pool6;
    address internal immutable _pool7;

    /// @dev Everything the engine reads and writes (`PortfolioEngine.Layout`).
    PortfolioEngine.Layout internal _s;

    constructor(
        IERC20 quote,
        string memory name_,
        string memory symbol_,
        address admin,
        Holding[] memory holdings_,
        address covarianceOracle_,
        IPortfolioMath.TargetRules memory rules_,
        RebalanceParams memory params_
    ) ERC4626(quote) ERC20(name_, symbol_) {
        if (admin == address(0) || covarianceOracle_ == address(0)) revert ZeroAddress();
        uint8 quoteDecimals = IERC20Metadata(address(quote)).decimals();
        if (quoteDecimals > 18) revert BadConfiguration("decimals");
        PortfolioEngine.AssetConfig[] memory h =
            _checkedHoldings(holdings_, ICovarianceOracle(covarianceOracle_), address(quote));
        _n = h.length;
        (_cfg0, _oracle0, _pool0) = _packHolding(h, 0);
        (_cfg1, _oracle1, _pool1) = _packHolding(h, 1);
        (_cfg2, _oracle2, _pool2) = _packHolding(h, 2);
        (_cfg3, _oracle3, _pool3) = _packHolding(h, 3);
        (_cfg4, _oracle4, _pool4) = _packHolding(h, 4);
        (_cfg5, _oracle5, _pool5) = _packHolding(h, 5);
        (_cfg6, _oracle6, _pool6) = _packHolding(h, 6);
        (_cfg7, _oracle7, _pool7) = _packHolding(h, 7);
        _cov = ICovarianceOracle(covarianceOracle_);
        _quoteScale = 10 ** (18 - quoteDecimals);
        _s.head.lock = UNLOCKED;
        _s.head.budgetUpdatedAt = uint40(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRules(rules_, h.length);
        _setParams(params_);
    }

    function _checkedHoldings(Holding[] memory holdings_, ICovarianceOracle cov, address quote)
        private
        view
        returns (PortfolioEngine.AssetConfig[] memory h)
    {
        uint256 n = holdings_.length;
        if (n == 0 || n > MAX_ASSETS) revert BadConfiguration("assetCount");
        address[] memory oracleAssets = cov.assets();
        if (oracleAssets.length != n) revert BadConfiguration("assetCount");
        h = new PortfolioEngine.AssetConfig[](n);
        for (uint256 i; i < n; ++i) {
            // a token equals the oracle's asset i, and the oracle's list has no repeats
            h[i] = _checkedHolding(i, holdings_[i], oracleAssets[i], quote);
        }
    }

    function _checkedHolding(uint256 i, Holding memory h, address oracleAsset, address quote)
        private
        view
        returns (PortfolioEngine.AssetConfig memory a)
    {
        if (
            h.token != oracleAsset || h.token == address(0) || h.token == quote || h.priceOracle == address(0)
                || h.pool == address(0)
        ) {
            revert HoldingInvalid(i, h.token, oracleAsset, h.pool);
        }
        IUniswapV3PoolMinimal pool = IUniswapV3PoolMinimal(h.pool);
        address token0 = pool.token0();
        address token1 = pool.token1();
        bool first = token0 == h.token;
        if (!(first ? token1 == quote : token0 == quote && token1 == h.token)) {
            revert HoldingInvalid(i, h.token, oracleAsset, h.pool);
        }
        uint8 decimals = IERC20Metadata(h.token).decimals();
        if (decimals > 18) revert HoldingInvalid(i, h.token, oracleAsset, h.pool);
        a = PortfolioEngine.AssetConfig(
            h.token, uint64(10 ** (18 - decimals)), first, h.priceOracle, h.pool, pool.fee()
        );
    }

    /// @dev Holding i's immutables (zeros beyond the list; `PortfolioEngine.packHolding`).
    function _packHolding(PortfolioEngine.AssetConfig[] memory h, uint256 i)
        private
        pure
        returns (uint256 cfg, address oracle, address pool)
    {
        if (i >= h.length) return (0, address(0), address(0));
        uint256 o;
        uint256 p;
        (cfg, o, p) = PortfolioEngine.packHolding(h[i]);
        (oracle, pool) = (address(uint160(o)), address(uint160(p)));
    }

    /// @dev Holding i's three words from the immutables (i < 8).
    function _holdingWords(uint256 i) internal view returns (uint256 cfg, address oracle, address pool) {
        return i < 4
            ? (i < 2 ? (i == 0 ? (_cfg0, _oracle0, _pool0) : (_cfg1, _oracle1, _pool1))
                : (i == 2 ? (_cfg2, _oracle2, _pool2) : (_cfg3, _oracle3, _pool3)))
            : (i < 6 ? (i == 4 ? (_cfg4, _oracle4, _pool4) : (_cfg5, _oracle5, _pool5))
                : (i == 6 ? (_cfg6, _oracle6, _pool6) : (_cfg7, _oracle7, _pool7)));
    }

    /// @dev Holding i (< n).
    function _holding(uint256 i) internal view returns (PortfolioEngine.AssetConfig memory) {
        (uint256 cfg, address oracle, address pool) = _holdingWords(i);
        return PortfolioEngine.unpackHolding(cfg, uint160(oracle), uint160(pool));
    }

    function _env() internal view returns (PortfolioEngine.Env memory) {
        uint256 n = _n;
        uint256[] memory words = new uint256[](3 * n);
        for (uint256 i; i < n; ++i) {
            (uint256 cfg, address oracle, address pool) = _holdingWords(i);
            (words[3 * i], words[3 * i + 1], words[3 * i + 2]) = (cfg, uint160(oracle), uint160(pool));
        }
        return PortfolioEngine.Env(IERC20(asset()), _cov, _quoteScale, n, words);
    }

    // ================================================================= guards

    function _enter(bool checkPause) internal {
        PortfolioEngine.Head storage h = _s.head;
        if (h.lock == LOCKED) revert ReentrancyGuardReentrantCall();
        if (checkPause && h.paused) revert EnforcedPause();
        h.lock = LOCKED;
    }

    function _exit() internal {
        _s.head.lock = UNLOCKED;
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

    /// @dev Withdrawals: paused and not yet in exit mode reverts.
    function _checkExitOpen() internal view {
        if (_s.head.paused && !_exitMode()) revert EnforcedPause();
    }

    // ================================================================= targets and rules

    /// @inheritdoc IPortfolioVault
    function setTargets(int256[] calldata weightsWad) external onlyRole(TARGET_SETTER_ROLE) {
        uint256 setAt = _s.head.targetsSetAt;
        uint256 minInterval = _s.params.minTargetIntervalSec;
        if (setAt != 0 && block.timestamp < setAt + minInterval) {
            revert TargetsTooSoon(setAt, minInterval, block.timestamp);
        }
        PortfolioEngine.setTargets(_s, _env(), weightsWad);
    }

    /// @inheritdoc IPortfolioVault
    function targets() external view returns (int256[] memory weightsWad, uint256 exAnteVolWad, uint256 setAt) {
        setAt = _s.head.targetsSetAt;
        if (setAt == 0) return (weightsWad, 0, 0);
        uint256 n = _n;
        weightsWad = new int256[](n);
        for (uint256 i; i < n; ++i) {
            weightsWad[i] = int256(uint256(_s.targets[i]));
        }
        exAnteVolWad = _s.targetVolWad;
    }

    /// @inheritdoc IPortfolioVault
    function rules() external view returns (IPortfolioMath.TargetRules memory) {
        return PortfolioEngine.rules(_s);
    }

    /// @inheritdoc IPortfolioVault
    function setRules(IPortfolioMath.TargetRules calldata r) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRules(r, _n);
    }

    /// @inheritdoc IPortfolioVault
    function rebalanceParams() external view returns (RebalanceParams memory) {
        return _s.params;
    }

    /// @inheritdoc IPortfolioVault
    function setRebalanceParams(RebalanceParams calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(p);
    }

    function _setRules(IPortfolioMath.TargetRules memory r, uint256 n) internal {
        _checkLength("minWeightWad", r.minWeightWad.length, n);
        _checkLength("maxWeightWad", r.maxWeightWad.length, n);
        if (r.mode == IPortfolioMath.Mode.RiskParity) _checkLength("budgetWad", r.budgetWad.length, n);
        for (uint256 i; i < n; ++i) {
            _bound("maxWeightWad", r.maxWeightWad[i], 0, WAD);
            _bound("minWeightWad", r.minWeightWad[i], 0, r.maxWeightWad[i]);
        }
        for (uint256 i; i < r.budgetWad.length; ++i) {
            _bound("budgetWad", r.budgetWad[i], 0, WAD);
        }
        _bound("maxVolWad", r.maxVolWad, 0, 5 * WAD);
        _bound("minVolWad", r.minVolWad, 0, r.maxVolWad);
        _bound("toleranceWad", r.toleranceWad, 0, WAD);
        PortfolioEngine.StoredRules storage st = _s.rules;
        // every figure bounded by 5e18 < 2^64 above
        (st.mode, st.minVolWad, st.maxVolWad, st.toleranceWad) =
            (r.mode, uint64(r.minVolWad), uint64(r.maxVolWad), uint64(r.toleranceWad));
        st.minWeightWad = _narrow(r.minWeightWad);
        st.maxWeightWad = _narrow(r.maxWeightWad);
        st.budgetWad = _narrow(r.budgetWad);
        emit RulesSet(r);
    }

    function _setParams(RebalanceParams memory p) internal {
        _bound("maxSlippageBps", p.maxSlippageBps, 1, 500);
        _bound("maxNavLossBps", p.maxNavLossBps, 1, 500);
        _bound("costBps", p.costBps, 1, 1000);
        _bound("bandScaleBp", p.bandScaleBp, 1, 100_000);
        _bound("maxBandWad", p.maxBandWad, 1e14, WAD / 2);
        _bound("minBandWad", p.minBandWad, 1e14, p.maxBandWad);
        _bound("budgetBps", p.budgetBps, 1, 2000);
        _bound("budgetPeriodSec", p.budgetPeriodSec, 1 hours, 365 days);
        _bound("feedDeviationBps", p.feedDeviationBps, 0, 500);
        _bound("minTargetIntervalSec", p.minTargetIntervalSec, 60, 7 days);
        _bound("rcToleranceWad", p.rcToleranceWad, 1e15, WAD / 2);
        _bound("rcDustWad", p.rcDustWad, 1e14, WAD / 20);
        _bound("deriskMarginBps", p.deriskMarginBps, 0, 10_000);
        _s.params = p;
        emit RebalanceParamsSet(p);
    }

    function _bound(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ParamOutOfBounds(name, value, min, max);
    }

    function _checkLength(bytes32 name, uint256 length, uint256 n) internal pure {
        if (length != n) revert ParamOutOfBounds(name, length, n, n);
    }

    function _narrow(uint256[] memory a) internal pure returns (uint64[] memory b) {
        b = new uint64[](a.length);
        for (uint256 i; i < a.length; ++i) {
            // bounded by 5e18 in _setRules
            b[i] = uint64(a[i]);
        }
    }

    // ================================================================= rebalancing

    /// @notice Whether `performUpkeep` has a slice now (`previewRebalance` succeeds); performData is
    /// abi.encode(asset index), for information. Never reverts.
    function checkUpkeep(bytes calldata) external view returns (bool upkeepNeeded, bytes memory performData) {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeCall(this.previewRebalance, ()));
        if (!ok) return (false, "");
        (uint256 index,,,) = abi.decode(ret, (uint256, bool, uint256, uint256));
        return (true, abi.encode(index));
    }

    /// @inheritdoc IPortfolioVault
    function previewRebalance()
        external
        view
        returns (uint256 index, bool sale, uint256 assetUnits, uint256 valueQuote)
    {
        if (_s.head.paused) revert EnforcedPause();
        (PortfolioEngine.Plan memory pl,) = PortfolioEngine.plan(_s, _env());
        return (pl.asset, pl.sale, pl.units, pl.valueQuote);
    }

    /// @notice Trade one slice of one asset toward its target (anyone); performData is ignored.
    function performUpkeep(bytes calldata) external lockedWhenNotPaused {
        PortfolioEngine.rebalance(_s, _env());
    }

    /// @notice Pays the pool of the vault's swap in progress: `data` is the asset index; only that asset's
    /// pool, and only while the vault holds its lock (inside its own action).
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        uint256 i = abi.decode(data, (uint256));
        if (_s.head.lock != LOCKED || i >= _n) revert NotOwnPool(msg.sender);
        PortfolioEngine.AssetConfig memory a = _holding(i);
        if (msg.sender != a.pool) revert NotOwnPool(msg.sender);
        bool payToken0 = amount0Delta > 0;
        uint256 amount = uint256(payToken0 ? amount0Delta : amount1Delta);
        IERC20 token = payToken0 == a.isToken0 ? IERC20(a.token) : IERC20(asset());
        token.safeTransfer(msg.sender, amount);
    }

    // ================================================================= valuation

    /// @inheritdoc IPortfolioVault
    function navQuote() external view returns (uint256 nav, uint256 swingQuote) {
        PortfolioEngine.Valuation memory v = _valuation();
        return (v.nav, _swing(v));
    }

    /// @inheritdoc IPortfolioVault
    function state() external view returns (PortfolioState memory) {
        return PortfolioEngine.state(_s, _env());
    }

    function _valuation() internal view returns (PortfolioEngine.Valuation memory) {
        return PortfolioEngine.valuation(_s, _env());
    }

    /// @dev ceil(risky value x feedDeviationBps / 1e4).
    function _swing(PortfolioEngine.Valuation memory v) internal view returns (uint256) {
        return Math.mulDiv(v.risky, _s.params.feedDeviationBps, 10_000, Math.Rounding.Ceil);
    }

    // ================================================================= ERC-4626

    /// @inheritdoc ERC4626
    /// @dev NAV; never reverts: with an oracle down, the quote balance (a lower bound of NAV).
    function totalAssets() public view override returns (uint256) {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeCall(this.navQuote, ()));
        if (ok) {
            (uint256 nav,) = abi.decode(ret, (uint256, uint256));
            return nav;
        }
        return IERC20(asset()).balanceOf(address(this));
    }

    /// @inheritdoc ERC4626
    /// @dev 0 while paused or while an oracle fails; never reverts.
    function maxDeposit(address) public view override returns (uint256) {
        return _depositsOpen() ? type(uint256).max : 0;
    }

    /// @inheritdoc ERC4626
    function maxMint(address) public view override returns (uint256) {
        return _depositsOpen() ? type(uint256).max : 0;
    }

    /// @inheritdoc ERC4626
    /// @dev `exitLimits`; 0 when it reverts (an oracle fails) or while paused before exit mode.
    function maxWithdraw(address owner) public view override returns (uint256 assets) {
        (assets,) = _safeExitLimits(owner);
    }

    /// @inheritdoc ERC4626
    function maxRedeem(address owner) public view override returns (uint256 shares) {
        (, shares) = _safeExitLimits(owner);
    }

    /// @inheritdoc ERC4626
    /// @dev At NAV + swing; reverts `DepositsClosed` while paused, an oracle's error when it fails.
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return _toShares(assets, _depositNav(), Math.Rounding.Floor);
    }

    /// @inheritdoc ERC4626
    function previewMint(uint256 shares) public view override returns (uint256) {
        return _toAssets(shares, _depositNav(), Math.Rounding.Ceil);
    }

    /// @inheritdoc ERC4626
    /// @dev At NAV - swing, with the worst cost the sales beyond the quote buffer may realise (at least the
    /// shares `withdraw` burns).
    function previewWithdraw(uint256 assets) public view override returns (uint256) {
        PortfolioEngine.Valuation memory v = _valuation();
        uint256 shortfall = assets > v.quoteBalance ? assets - v.quoteBalance : 0;
        return _toShares(assets + PortfolioEngine.worstWithdrawCost(_s, _n, shortfall), _withdrawNav(v), Math.Rounding.Ceil);
    }

    /// @inheritdoc ERC4626
    /// @dev At NAV - swing, less the worst cost of the sales beyond the quote buffer (at most what `redeem` pays).
    function previewRedeem(uint256 shares) public view override returns (uint256) {
        PortfolioEngine.Valuation memory v = _valuation();
        uint256 gross = _toAssets(shares, _withdrawNav(v), Math.Rounding.Floor);
        uint256 shortfall = gross > v.quoteBalance ? gross - v.quoteBalance : 0;
        uint256 worst = PortfolioEngine.worstRedeemCost(_s, _env(), v, shortfall);
        return gross > worst ? gross - worst : 0;
    }

    /// @inheritdoc ERC4626
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
    /// @dev Beyond the quote buffer, sells every asset pro rata for exactly the shortfall (one bounded swap
    /// each; `SaleIncomplete` when a pool cannot fill it within the bound) and burns the shares of
    /// assets + the realised cost at NAV - swing.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        if (assets == 0) revert ZeroAmount();
        _checkExitOpen();
        PortfolioEngine.Valuation memory v = _valuation();
        uint256 navW = _withdrawNav(v);
        uint256 ownerAssets = _toAssets(balanceOf(owner), navW, Math.Rounding.Floor);
        if (assets > ownerAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, ownerAssets);
        uint256 cost;
        if (assets > v.quoteBalance) cost = PortfolioEngine.sellProRata(_s, _env(), v, owner, assets - v.quoteBalance, true);
        if (assets + cost > ownerAssets) revert ERC4626ExceededMaxWithdraw(owner, assets + cost, ownerAssets);
        shares = _toShares(assets + cost, navW, Math.Rounding.Ceil);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Pays the shares' value at NAV - swing less the realised cost of the sales beyond the quote buffer
    /// (every asset sold pro rata, one bounded swap each).
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        if (shares == 0) revert ZeroAmount();
        _checkExitOpen();
        uint256 ownerShares = balanceOf(owner);
        if (shares > ownerShares) revert ERC4626ExceededMaxRedeem(owner, shares, ownerShares);
        PortfolioEngine.Valuation memory v = _valuation();
        uint256 gross = _toAssets(shares, _withdrawNav(v), Math.Rounding.Floor);
        uint256 cost;
        if (gross > v.quoteBalance) cost = PortfolioEngine.sellProRata(_s, _env(), v, owner, gross - v.quoteBalance, false);
        if (gross <= cost) revert ZeroAssets(shares);
        assets = gross - cost;
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc IPortfolioVault
    function redeemInKind(uint256 shares, address receiver, address owner)
        external
        nonReentrant
        returns (uint256[] memory amounts, uint256 quoteAmount)
    {
        if (shares == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        if (_msgSender() != owner) _spendAllowance(owner, _msgSender(), shares);
        uint256 denominator = totalSupply() + 10 ** DECIMALS_OFFSET;
        uint256 n = _n;
        amounts = new uint256[](n);
        bool any;
        for (uint256 i; i < n; ++i) {
            IERC20 token = IERC20(_holding(i).token);
            amounts[i] = Math.mulDiv(token.balanceOf(address(this)), shares, denominator);
            any = any || amounts[i] != 0;
        }
        quoteAmount = Math.mulDiv(IERC20(asset()).balanceOf(address(this)), shares, denominator);
        if (!any && quoteAmount == 0) revert ZeroAssets(shares);
        _burn(owner, shares);
        for (uint256 i; i < n; ++i) {
            if (amounts[i] != 0) IERC20(_holding(i).token).safeTransfer(receiver, amounts[i]);
        }
        if (quoteAmount != 0) IERC20(asset()).safeTransfer(receiver, quoteAmount);
        emit RedeemedInKind(owner, receiver, shares, amounts, quoteAmount);
    }

    /// @inheritdoc IPortfolioVault
    /// @dev assets: the most `withdraw` pays (owner's value at NAV - swing less the worst sale cost, within what
    /// the pools can sell at the bound); shares: the most `redeem` takes. Reverts with an oracle's error.
    function exitLimits(address owner) public view returns (uint256 maxAssets, uint256 maxShares) {
        if (_s.head.paused && !_exitMode()) return (0, 0);
        return PortfolioEngine.exitLimits(_s, _env(), balanceOf(owner), totalSupply() + 10 ** DECIMALS_OFFSET);
    }

    function _safeExitLimits(address owner) internal view returns (uint256, uint256) {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeCall(this.exitLimits, (owner)));
        if (!ok) return (0, 0);
        return abi.decode(ret, (uint256, uint256));
    }

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    function _toShares(uint256 assets, uint256 nav, Math.Rounding r) internal view returns (uint256) {
        return Math.mulDiv(assets, totalSupply() + 10 ** DECIMALS_OFFSET, nav + 1, r);
    }

    function _toAssets(uint256 shares, uint256 nav, Math.Rounding r) internal view returns (uint256) {
        return Math.mulDiv(shares, nav + 1, totalSupply() + 10 ** DECIMALS_OFFSET, r);
    }

    function _depositsOpen() internal view returns (bool) {
        if (_s.head.paused) return false;
        (bool ok,) = address(this).staticcall(abi.encodeCall(this.navQuote, ()));
        return ok;
    }

    /// @dev NAV + swing; reverts `DepositsClosed` while paused.
    function _depositNav() internal view returns (uint256) {
        if (_s.head.paused) revert DepositsClosed();
        PortfolioEngine.Valuation memory v = _valuation();
        return v.nav + _swing(v);
    }

    function _withdrawNav(PortfolioEngine.Valuation memory v) internal view returns (uint256) {
        uint256 s = _swing(v);
        return v.nav > s ? v.nav - s : 0;
    }

    // ================================================================= pause

    /// @inheritdoc IPortfolioVault
    function pause() external onlyRole(GUARDIAN_ROLE) {
        if (_s.head.paused) revert EnforcedPause();
        (_s.head.paused, _s.head.pausedAt) = (true, uint40(block.timestamp));
        emit Paused(msg.sender);
    }

    /// @inheritdoc IPortfolioVault
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        if (!_s.head.paused) revert ExpectedPause();
        _s.head.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IPortfolioVault
    function paused() external view returns (bool) {
        return _s.head.paused;
    }

    /// @inheritdoc IPortfolioVault
    function exitMode() external view returns (bool) {
        return _exitMode();
    }

    function _exitMode() internal view returns (bool) {
        return _s.head.paused && block.timestamp >= uint256(_s.head.pausedAt) + MAX_PAUSE_SEC;
    }

    /// @inheritdoc IPortfolioVault
    function maxPauseSec() external pure returns (uint256) {
        return MAX_PAUSE_SEC;
    }

    // ================================================================= views

    /// @inheritdoc IPortfolioVault
    function holdings() external view returns (Holding[] memory h) {
        uint256 n = _n;
        h = new Holding[](n);
        for (uint256 i; i < n; ++i) {
            PortfolioEngine.AssetConfig memory a = _holding(i);
            h[i] = Holding(a.token, a.oracle, a.pool);
        }
    }

    /// @inheritdoc IPortfolioVault
    function covarianceOracle() external view returns (address) {
        return address(_cov);
    }
}
