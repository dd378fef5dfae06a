// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {
    IAaveOracleMinimal,
    IAavePoolMinimal,
    IPoolAddressesProviderMinimal,
    IScaledBalanceTokenMinimal
} from "../../interfaces/IAaveV3.sol";
import {IHedger} from "../../interfaces/IHedger.sol";
import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {HedgerBase} from "./HedgerBase.sol";

/// @title AaveHedger
/// @notice A two-sided hedge: long = underlying held; short = underlying borrowed (variable rate) on an Aave
/// v3 market against quote supplied as collateral, and sold on the Uniswap V3 pool. An order moves the hedge
/// toward its target through zero in one slice: a sale first sells what is held, then borrows and sells the
/// rest; a purchase first repays the debt, then holds. Held underlying and debt never coexist after an order
/// (what a cut slice left unsold repays the debt).
///
/// Collateral: the position must keep Aave's own health factor, at the vault's spot moved up by the vault's
/// shock, at or above 1 + `hfBufferWad`, and pass Aave's own borrow check (debt value <= collateral x LTV):
///   hfShock = collateral x LT / (debt x spot x (1 + shockUp))            (LT, LTV: the quote reserve's)
/// so that the market the vault borrows from cannot liquidate it before the vault's own stress margin has
/// tripped. A borrow that would leave less than half of `collateralHeadroomBps` above that requirement supplies
/// up to the whole headroom (so that most borrows supply nothing, and none ends at the threshold), pulled
/// from the vault's free quote; a borrow the collateral cannot carry is cut. A repayment
/// returns collateral beyond twice the headroom to the vault. When hfShock falls below 1 + buffer (the spot
/// rose, Aave lowered the threshold, interest accrued) the position is de-risking: the vault stops selling
/// puts, and the next order reduces the short (buys underlying back with the free quote and repays debt)
/// until hfShock is restored.
///
/// Before any borrow the Aave oracle (which reads its feeds' `latestAnswer` without a staleness check) must
/// agree with the vault's fail-closed spot within `maxOracleDeviationBps`; the vault's spot is the one used
/// in hfShock, and the buffer covers that deviation.
contract AaveHedger is HedgerBase, AccessControl {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    uint256 internal constant VARIABLE_RATE = 2;
    uint256 internal constant FROZEN_BIT = 57;
    uint256 internal constant BORROWING_BIT = 58;
    uint256 internal constant PAUSED_BIT = 60;
    uint256 internal constant BORROW_CAP_BIT = 80;
    uint256 internal constant RAY = 1e27;

    /// @notice The hedger's parameters (admin; bounds on `setParams`).
    struct Params {
        /// @dev Aave's health factor of the position under the vault's spot-up shock stays >= 1 + this.
        uint64 hfBufferWad;
        /// @dev A borrow supplies collateral for its requirement plus this much more.
        uint16 collateralHeadroomBps;
        /// @dev The Aave oracle's spot must be within this of the vault's spot before a borrow.
        uint16 maxOracleDeviationBps;
    }

    IAavePoolMinimal public immutable aavePool;
    IAaveOracleMinimal public immutable aaveOracle;
    /// @notice The aToken of the quote reserve (the collateral) and of the underlying reserve (its liquidity).
    IERC20 public immutable collateralToken;
    IERC20 public immutable underlyingAToken;
    /// @notice The variable debt token of the underlying reserve.
    IERC20 public immutable debtToken;

    Params internal _params;

    /// @notice Parameter outside its hard bound.
    error HedgerParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice The reserve cannot take this operation now (Aave governance froze or paused it, or borrowing
    /// is disabled).
    error AaveReserveUnavailable(address asset, bool frozen, bool paused, bool borrowingEnabled);
    /// @notice The underlying's borrow cap (whole tokens) leaves no room.
    error AaveBorrowCapReached(uint256 capTokens, uint256 totalDebt);
    /// @notice The market has no underlying left to lend.
    error AaveLiquidityShort(uint256 available, uint256 wanted);
    /// @notice The Aave oracle's spot is off the vault's spot by more than the bound: no borrow.
    error AaveOracleDeviation(uint256 aaveSpotWad, uint256 vaultSpotWad, uint256 maxDeviationBps);
    /// @notice After a borrow, Aave's health factor under the shock would be below 1 + buffer.
    error AaveHealthTooLow(uint256 healthFactorShockWad, uint256 minWad);
    /// @notice The vault's free quote cannot collateralise any borrow.
    error CollateralShort(uint256 neededQuote, uint256 availableQuote);

    event ParamsSet(Params params);
    event CollateralSupplied(uint256 amount);
    event CollateralWithdrawn(uint256 amount);
    event Borrowed(uint256 amount, uint256 debtAfter);
    event Repaid(uint256 amount, uint256 debtAfter);
    /// @notice The position was de-risking (hfShock below 1 + buffer) and the order restored what it could.
    event DeRisked(uint256 healthFactorShockBeforeWad, uint256 healthFactorShockAfterWad);

    /// @param provider The Aave v3 market's PoolAddressesProvider (pool and oracle are read from it).
    /// @param admin Sets the parameters (the timelock in a `hedgevault deploy` deployment).
    constructor(
        IERC20Metadata quote_,
        IERC20Metadata underlying_,
        IUniswapV3PoolMinimal pool_,
        IPoolAddressesProviderMinimal provider,
        address admin,
        Params memory params_
    ) HedgerBase(quote_, underlying_, pool_) {
        IAavePoolMinimal market = IAavePoolMinimal(provider.getPool());
        aavePool = market;
        aaveOracle = IAaveOracleMinimal(provider.getPriceOracle());
        IAavePoolMinimal.ReserveData memory q = market.getReserveData(address(quote_));
        IAavePoolMinimal.ReserveData memory u = market.getReserveData(address(underlying_));
        if (q.aTokenAddress == address(0) || u.variableDebtTokenAddress == address(0)) {
            revert BadBinding(address(market));
        }
        collateralToken = IERC20(q.aTokenAddress);
        underlyingAToken = IERC20(u.aTokenAddress);
        debtToken = IERC20(u.variableDebtTokenAddress);
        IERC20(address(quote_)).forceApprove(address(market), type(uint256).max);
        IERC20(address(underlying_)).forceApprove(address(market), type(uint256).max);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(params_);
    }

    // ================================================================= IHedger

    /// @inheritdoc IHedger
    function canShort() external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IHedger
    function position(uint256 spotWad, uint256 shockUpBps) external view returns (Position memory p) {
        (uint256 held, uint256 debt, uint256 collateral) = _balances();
        (p,) = _positionOf(held, debt, collateral, spotWad, shockUpBps, debt == 0 ? 0 : _quoteConfig());
    }

    /// @inheritdoc IHedger
    /// @dev The position's balances are read once before the order and once after it; the quote reserve's
    /// configuration at most once per order (only governance changes it, never within an order), and only
    /// with debt or for a borrow (a long hedge's order makes no call to Aave).
    function hedge(Order calldata o) external onlyVault returns (Position memory p) {
        (uint256 held, uint256 debt, uint256 collateral) = _balances();
        uint256 quoteConfig = debt == 0 ? 0 : _quoteConfig();
        int256 hedgeBefore = int256(held * _underlyingScale) - int256(debt * _underlyingScale);
        uint256 minHf = WAD + _params.hfBufferWad;
        uint256 hfBefore =
            debt == 0 ? type(uint256).max : _hfShock(collateral, debt, o.spotWad, o.shockUpBps, quoteConfig);
        uint256 hfAfter;
        if (hfBefore < minHf) {
            _deRisk(o, debt, collateral, quoteConfig);
            (p, hfAfter) = _position(o.spotWad, o.shockUpBps, quoteConfig);
            emit DeRisked(hfBefore, hfAfter);
        } else if (o.targetWad > hedgeBefore) {
            _increase(o, uint256(o.targetWad - hedgeBefore), debt, quoteConfig);
            (p,) = _position(o.spotWad, o.shockUpBps, quoteConfig);
        } else {
            uint256 gapWad = uint256(hedgeBefore - o.targetWad);
            // a borrow (more to sell than is held) needs the configuration
            if (debt == 0 && gapWad / _underlyingScale > held) quoteConfig = _quoteConfig();
            bool borrowed = _decrease(o, gapWad, held, debt, collateral, quoteConfig);
            (p, hfAfter) = _position(o.spotWad, o.shockUpBps, quoteConfig);
            // after a borrow: hfShock >= 1 + buffer
            if (borrowed && hfAfter < minHf) revert AaveHealthTooLow(hfAfter, minHf);
        }
        if (p.hedgeWad == hedgeBefore && p.collateral == collateral) revert NothingToHedge(hedgeBefore, o.targetWad);
    }

    /// @dev The position now (one read of the balances) and its hfShock (type(uint256).max without debt).
    function _position(uint256 spotWad, uint256 shockUpBps, uint256 quoteConfig)
        private
        view
        returns (Position memory, uint256)
    {
        (uint256 held, uint256 debt, uint256 collateral) = _balances();
        return _positionOf(held, debt, collateral, spotWad, shockUpBps, quoteConfig);
    }

    /// @dev The position of these balances and its hfShock (type(uint256).max without debt).
    function _positionOf(
        uint256 held,
        uint256 debt,
        uint256 collateral,
        uint256 spotWad,
        uint256 shockUpBps,
        uint256 quoteConfig
    ) private view returns (Position memory p, uint256 hf) {
        p.hedgeWad = int256(held * _underlyingScale) - int256(debt * _underlyingScale);
        p.collateral = collateral;
        p.canShort = true;
        hf = type(uint256).max;
        if (debt != 0) {
            hf = _hfShock(collateral, debt, spotWad, shockUpBps, quoteConfig);
            p.deRisking = hf < WAD + _params.hfBufferWad;
        }
    }

    /// @inheritdoc IHedger
    /// @dev Collateral the debt does not need first (all of it without debt), then underlying held.
    function raiseQuote(uint256 amount, uint256 spotWad, uint256 maxSlippageBps, uint256 shockUpBps)
        external
        onlyVault
        returns (uint256 raised)
    {
        (, uint256 debt, uint256 collateral) = _balances();
        uint256 needed = debt == 0 ? 0 : _collateralFor(debt, spotWad, shockUpBps, _quoteConfig());
        if (collateral > needed) {
            raised = Math.min(collateral - needed, amount);
            _withdrawCollateral(raised, debt == 0 && raised == collateral);
        }
        if (raised < amount) {
            (, uint256 fromLong) = _raiseFromLong(amount - raised, spotWad, maxSlippageBps);
            raised += fromLong;
        }
    }

    /// @inheritdoc IHedger
    function details(uint256 shockUpBps) external view returns (Details memory d) {
        (uint256 held, uint256 debt, uint256 collateral) = _balances();
        (d.longWad, d.debtWad, d.collateral) = (held * _underlyingScale, debt * _underlyingScale, collateral);
        (,,,,, uint256 hf) = aavePool.getUserAccountData(address(this));
        d.healthFactorWad = hf;
        d.healthFactorShockWad = hf == type(uint256).max ? hf : hf * BPS / (BPS + shockUpBps);
        d.borrowRateRay = aavePool.getReserveData(address(underlying)).currentVariableBorrowRate;
        d.supplyRateRay = aavePool.getReserveData(address(quote)).currentLiquidityRate;
    }

    // ================================================================= admin

    /// @notice The parameters now.
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @notice Bounds: buffer [0.02, 1], headroom [0, 20,000] bps, oracle deviation [10, 1,000] bps.
    function setParams(Params calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(p);
    }

    function _setParams(Params memory p) internal {
        _bound("hfBufferWad", p.hfBufferWad, 0.02e18, 1e18);
        _bound("collateralHeadroomBps", p.collateralHeadroomBps, 0, 20_000);
        _bound("maxOracleDeviationBps", p.maxOracleDeviationBps, 10, 1000);
        _params = p;
        emit ParamsSet(p);
    }

    function _bound(bytes32 name, uint256 v, uint256 lo, uint256 hi) private pure {
        if (v < lo || v > hi) revert HedgerParamOutOfBounds(name, v, lo, hi);
    }

    // ================================================================= orders

    /// @dev Toward a higher hedge by `gapWad`: buy one slice, repay debt with it, return spare collateral.
    function _increase(Order calldata o, uint256 gapWad, uint256 debt, uint256 quoteConfig) private {
        (uint256 bought, uint256 paid) = _buy(_ceilUnits(gapWad), o.spotWad, o.maxSlippageBps, o.availableQuote);
        if (bought != 0) emit Slice(true, bought, paid);
        if (debt != 0) _repayFromHeld(o, quoteConfig);
    }

    /// @dev Toward a lower hedge by `gapWad`: sell what is held, then borrow what the slice can sell of the rest
    /// within its price limit (`_saleCapacity`), and sell (one slice). Returns whether it borrowed (the caller
    /// then checks hfShock >= 1 + buffer, `AaveHealthTooLow`).
    function _decrease(
        Order calldata o,
        uint256 gapWad,
        uint256 held,
        uint256 debt,
        uint256 collateral,
        uint256 quoteConfig
    ) private returns (bool) {
        uint256 gap = gapWad / _underlyingScale;
        uint256 fromHeld = Math.min(gap, held);
        uint256 borrow;
        if (gap > fromHeld) {
            _checkAaveOracle(o.spotWad);
            // borrow no more than the slice can sell within its price limit (the rest waits for the next);
            // a room under 1% of what is left is a pool at its limit (no dust slices): wait for arbitrage
            uint256 capacity = _saleCapacity(o.spotWad, o.maxSlippageBps);
            uint256 rest = gap - fromHeld;
            uint256 room = capacity > fromHeld ? capacity - fromHeld : 0;
            if (room * 100 < rest) {
                if (fromHeld == 0) _revertBeyondLimit(o);
            } else {
                borrow = _borrowRoom(o, Math.min(rest, room), debt, collateral, fromHeld == 0, quoteConfig);
            }
        }
        if (borrow != 0) {
            aavePool.borrow(address(underlying), borrow, VARIABLE_RATE, 0, address(this));
            emit Borrowed(borrow, debt + borrow);
        }
        (uint256 sold, uint256 received) = _sell(fromHeld + borrow, false, o.spotWad, o.maxSlippageBps, vault);
        if (sold != 0) emit Slice(false, sold, received);
        // what the slice could not sell repays the debt (held and debt never coexist)
        if (debt + borrow != 0 && sold < fromHeld + borrow) _repayFromHeld(o, quoteConfig);
        return borrow != 0;
    }

    /// @dev `PoolBeyondLimit` with the pool's price and the slice's limit (the slice would be dust).
    function _revertBeyondLimit(Order calldata o) private view {
        (uint160 sqrtNow,,,,,,) = uniswapPool.slot0();
        revert PoolBeyondLimit(sqrtNow, _saleLimit(o.spotWad, o.maxSlippageBps));
    }

    /// @dev hfShock below 1 + buffer: reduce the short. Buy back (one slice, with the free quote) and repay
    /// what the collateral cannot carry at 1 + buffer. Repaying a unit of debt frees more collateral
    /// requirement, (1 + buffer)(1 + shockUp) / LT > 1 of it, than a unit of quote supplied would add, so the
    /// free quote goes to the buy-back; the next orders re-short only as far as the collateral (then topped
    /// up to the headroom) carries.
    function _deRisk(Order calldata o, uint256 debt, uint256 collateral, uint256 quoteConfig) private {
        uint256 carried = _debtFor(collateral, o.spotWad, o.shockUpBps, quoteConfig);
        uint256 repay = debt > carried ? debt - carried : 0;
        uint256 held = underlying.balanceOf(address(this));
        if (repay > held) {
            (uint256 bought, uint256 paid) = _buy(repay - held, o.spotWad, o.maxSlippageBps, o.availableQuote);
            if (bought != 0) emit Slice(true, bought, paid);
        }
        _repayFromHeld(o, quoteConfig);
    }

    /// @dev How much of `wanted` may be borrowed now (the Aave oracle checked already): the reserves' state,
    /// the market's liquidity and cap, and the collateral (supplied from the vault's free quote as needed, a cut borrow
    /// otherwise). With `mustBorrow` (nothing else to sell), a reason for zero reverts.
    function _borrowRoom(
        Order calldata o,
        uint256 wanted,
        uint256 debt,
        uint256 collateral,
        bool mustBorrow,
        uint256 quoteConfig
    ) private returns (uint256 amount) {
        (bool open, uint256 config) = _reservesOpen(mustBorrow, quoteConfig);
        if (!open) return 0;
        amount = _marketRoom(wanted, config, mustBorrow);
        if (amount != 0) amount = _collateralise(o, amount, debt, collateral, mustBorrow, quoteConfig);
    }

    /// @dev Both reserves active for a borrow against supplied quote (neither frozen nor paused, borrowing
    /// of the underlying enabled); the underlying's configuration word.
    function _reservesOpen(bool mustBorrow, uint256 quoteConfig) private view returns (bool, uint256 config) {
        config = aavePool.getConfiguration(address(underlying));
        bool underlyingOpen = !_bit(config, FROZEN_BIT) && !_bit(config, PAUSED_BIT) && _bit(config, BORROWING_BIT);
        bool quoteOpen = !_bit(quoteConfig, FROZEN_BIT) && !_bit(quoteConfig, PAUSED_BIT);
        if (underlyingOpen && quoteOpen) return (true, config);
        if (mustBorrow) {
            uint256 word = underlyingOpen ? quoteConfig : config;
            revert AaveReserveUnavailable(
                underlyingOpen ? address(quote) : address(underlying),
                _bit(word, FROZEN_BIT),
                _bit(word, PAUSED_BIT),
                _bit(config, BORROWING_BIT)
            );
        }
        return (false, config);
    }

    /// @dev `wanted` cut to the market's liquidity and the underlying's borrow cap.
    function _marketRoom(uint256 wanted, uint256 config, bool mustBorrow) private view returns (uint256 amount) {
        amount = wanted;
        uint256 liquidity = underlying.balanceOf(address(underlyingAToken));
        if (liquidity < amount) {
            if (liquidity == 0 && mustBorrow) revert AaveLiquidityShort(liquidity, wanted);
            amount = liquidity;
        }
        uint256 cap = (config >> BORROW_CAP_BIT) & ((1 << 36) - 1);
        if (cap == 0) return amount;
        uint256 capUnits = cap * 10 ** IERC20Metadata(address(underlying)).decimals();
        uint256 total = debtToken.totalSupply();
        uint256 room = capUnits > total ? capUnits - total : 0;
        if (room < amount) {
            if (room == 0 && mustBorrow) revert AaveBorrowCapReached(cap, total);
            amount = room;
        }
    }

    /// @dev Supply what a borrow of `amount` needs (plus the headroom) from the free quote; cut the borrow to
    /// what the collateral carries when the free quote falls short.
    function _collateralise(
        Order calldata o,
        uint256 amount,
        uint256 debt,
        uint256 collateral,
        bool mustBorrow,
        uint256 quoteConfig
    ) private returns (uint256) {
        uint256 needed = _collateralFor(debt + amount, o.spotWad, o.shockUpBps, quoteConfig);
        // top up below half the headroom (so that a position never ends a borrow at the threshold, where
        // any rise of the spot would tip it into de-risking), to the whole headroom
        uint256 headroom = _params.collateralHeadroomBps;
        if (collateral >= needed.mulDivUp(BPS + headroom / 2, BPS)) return amount;
        uint256 supplied = Math.min(needed.mulDivUp(BPS + headroom, BPS) - collateral, o.availableQuote);
        if (supplied != 0) _supply(supplied);
        collateral += supplied;
        if (collateral >= needed) return amount;
        uint256 carried = _debtFor(collateral, o.spotWad, o.shockUpBps, quoteConfig);
        amount = carried > debt ? carried - debt : 0;
        if (amount == 0 && mustBorrow) revert CollateralShort(needed, o.availableQuote);
        return amount;
    }

    /// @dev Repay the debt with what is held; return spare collateral (all of it once the debt is gone).
    function _repayFromHeld(Order calldata o, uint256 quoteConfig) private {
        (uint256 held, uint256 debt, uint256 collateral) = _balances();
        uint256 amount = Math.min(held, debt);
        if (amount != 0) {
            // type(uint256).max repays the debt with the interest of this block exactly
            aavePool.repay(address(underlying), amount == debt ? type(uint256).max : amount, VARIABLE_RATE, address(this));
            debt = _debt();
            emit Repaid(amount, debt);
        }
        if (debt == 0) {
            if (collateral != 0) _withdrawCollateral(collateral, true);
            return;
        }
        uint256 needed = _collateralFor(debt, o.spotWad, o.shockUpBps, quoteConfig);
        uint256 keep = needed.mulDivUp(BPS + _params.collateralHeadroomBps, BPS);
        // hysteresis: only beyond twice the headroom
        if (collateral > needed.mulDivUp(BPS + 2 * uint256(_params.collateralHeadroomBps), BPS)) {
            _withdrawCollateral(collateral - keep, false);
        }
    }

    // ================================================================= Aave

    function _supply(uint256 amount) private {
        quote.safeTransferFrom(vault, address(this), amount);
        aavePool.supply(address(quote), amount, address(this), 0);
        _shortOpen = true;
        emit CollateralSupplied(amount);
    }

    /// @dev `all`: the whole balance with its interest of this block (Aave's type(uint256).max).
    function _withdrawCollateral(uint256 amount, bool all) private {
        aavePool.withdraw(address(quote), all ? type(uint256).max : amount, vault);
        if (all && IScaledBalanceTokenMinimal(address(debtToken)).scaledBalanceOf(address(this)) == 0) {
            _shortOpen = false;
        }
        emit CollateralWithdrawn(amount);
    }

    /// @dev Underlying held, debt and collateral (units), each with the interest of this block: the Aave
    /// tokens' own `balanceOf` (scaled balance `rayMul` the reserve's normalised index, v3.0.x), computed here
    /// from the scaled balances and the pool's indices (the tokens' `balanceOf` would each call the pool).
    function _balances() private view returns (uint256 held, uint256 debt, uint256 collateral) {
        held = underlying.balanceOf(address(this));
        if (!_shortOpen) return (held, 0, 0);
        debt = _debt();
        uint256 scaled = IScaledBalanceTokenMinimal(address(collateralToken)).scaledBalanceOf(address(this));
        if (scaled != 0) collateral = _rayMul(scaled, aavePool.getReserveNormalizedIncome(address(quote)));
    }

    /// @dev The variable debt with the interest of this block (`VariableDebtToken.balanceOf`).
    function _debt() private view returns (uint256) {
        uint256 scaled = IScaledBalanceTokenMinimal(address(debtToken)).scaledBalanceOf(address(this));
        if (scaled == 0) return 0;
        return _rayMul(scaled, aavePool.getReserveNormalizedVariableDebt(address(underlying)));
    }

    /// @dev Aave's `WadRayMath.rayMul`: a x b / 1e27, rounded half up (reverts on overflow, as Aave's does).
    function _rayMul(uint256 a, uint256 b) private pure returns (uint256) {
        return (a * b + RAY / 2) / RAY;
    }

    /// @dev The quote reserve's configuration, read once per call: Aave governance may change it between calls.
    function _quoteConfig() private view returns (uint256) {
        return aavePool.getConfiguration(address(quote));
    }

    /// @dev The quote reserve's liquidation threshold and LTV (bps) in its configuration.
    function _collateralTerms(uint256 quoteConfig) private pure returns (uint256 threshold, uint256 ltv) {
        return ((quoteConfig >> 16) & 0xFFFF, quoteConfig & 0xFFFF);
    }

    /// @dev collateral x LT / (debt x spot x (1 + up)), wad, rounded down; type(uint256).max without debt value.
    function _hfShock(uint256 collateral, uint256 debt, uint256 spotWad, uint256 shockUpBps, uint256 quoteConfig)
        private
        view
        returns (uint256)
    {
        (uint256 threshold,) = _collateralTerms(quoteConfig);
        uint256 debtValueWad = (debt * _underlyingScale).mulDivUp(spotWad * (BPS + shockUpBps), WAD * BPS);
        // no debt value (no debt, or a zero spot asked of the view): nothing to liquidate
        if (debtValueWad == 0) return type(uint256).max;
        return Math.mulDiv(collateral * _quoteScale * threshold, WAD, debtValueWad * BPS);
    }

    /// @dev What one unit of collateral value may carry in debt value at the spot (wad, down): the lesser of
    /// LT / ((1 + buffer)(1 + shockUp)) (hfShock >= 1 + buffer) and the LTV (Aave's own borrow check).
    function _carryWad(uint256 shockUpBps, uint256 quoteConfig) private view returns (uint256) {
        (uint256 threshold, uint256 ltv) = _collateralTerms(quoteConfig);
        uint256 byHealth = (threshold * WAD).mulDivDown(WAD, (WAD + _params.hfBufferWad) * (BPS + shockUpBps));
        uint256 byLtv = ltv * WAD / BPS;
        return byHealth < byLtv ? byHealth : byLtv;
    }

    /// @dev The collateral (quote units, up) that carries `debt` at the spot (`_carryWad`).
    function _collateralFor(uint256 debt, uint256 spotWad, uint256 shockUpBps, uint256 quoteConfig)
        private
        view
        returns (uint256)
    {
        uint256 carry = _carryWad(shockUpBps, quoteConfig);
        if (carry == 0) return type(uint256).max;
        uint256 debtValueWad = (debt * _underlyingScale).mulDivUp(spotWad, WAD);
        return debtValueWad.mulDivUp(WAD, carry).divUp(_quoteScale);
    }

    /// @dev The most debt (underlying units, down) `collateral` carries at the spot (`_carryWad`).
    function _debtFor(uint256 collateral, uint256 spotWad, uint256 shockUpBps, uint256 quoteConfig)
        private
        view
        returns (uint256)
    {
        uint256 carriedValueWad = (collateral * _quoteScale).mulDivDown(_carryWad(shockUpBps, quoteConfig), WAD);
        return carriedValueWad.mulDivDown(WAD, spotWad) / _underlyingScale;
    }

    /// @dev The Aave oracle's underlying price over its quote price, against the vault's spot.
    function _checkAaveOracle(uint256 spotWad) private view {
        uint256 aaveSpotWad =
            aaveOracle.getAssetPrice(address(underlying)).mulDivDown(WAD, aaveOracle.getAssetPrice(address(quote)));
        uint256 diff = aaveSpotWad > spotWad ? aaveSpotWad - spotWad : spotWad - aaveSpotWad;
        uint256 maxBps = _params.maxOracleDeviationBps;
        if (diff * BPS > spotWad * maxBps) revert AaveOracleDeviation(aaveSpotWad, spotWad, maxBps);
    }

    function _bit(uint256 word, uint256 bit) private pure returns (bool) {
        return (word >> bit) & 1 == 1;
    }
}
