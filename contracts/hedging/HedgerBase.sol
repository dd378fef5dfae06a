// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IHedger} from "../../interfaces/IHedger.sol";
import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @notice What a hedger asks of its vault at `bind`.
interface IHedgedVault {
    function hedger() external view returns (IHedger);
}

/// @title HedgerBase
/// @notice What every hedger shares: the one-time binding to its vault, the vault-only guard, and sliced
/// swaps on the Uniswap V3 pool itself (its callback pays the pool: quote pulled from the vault,
/// underlying from this contract's balance).
///
/// A slice's price limit: buying underlying, the pool's marginal price P (quote per underlying) with the fee
/// on top, P / (1 - fee), stays at or below spot x (1 + slippage); selling, P x (1 - fee) stays at or above
/// spot x (1 - slippage). So no unit of a slice trades outside the bound, and the slice is as large as the
/// pool allows within it: a gap larger than that closes over several orders. The average price is checked
/// again after the swap (`SliceOutsideBound`).
abstract contract HedgerBase is IHedger {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant PIPS = 1_000_000;
    /// @dev TickMath's bounds on the pool's sqrt price (exclusive).
    uint160 internal constant MIN_SQRT_RATIO = 4295128739;
    uint160 internal constant MAX_SQRT_RATIO = 1461446703485210103287623309178091648022;

    IERC20 public immutable quote;
    IERC20 public immutable underlying;
    IUniswapV3PoolMinimal public immutable uniswapPool;
    /// @dev The pool's fee in pips (3000 = 0.3%).
    uint256 internal immutable _poolFee;
    bool internal immutable _underlyingIsToken0;
    /// @dev 10^(18 - decimals) of the quote and the underlying.
    uint256 internal immutable _quoteScale;
    uint256 internal immutable _underlyingScale;
    address internal immutable _deployer;

    /// @inheritdoc IHedger
    address public vault;
    /// @dev For a hedger that borrows: its lending position may be non-zero (else its balances there are not
    /// read at all). Beside `vault`, in the slot every order reads for its `onlyVault` check.
    bool internal _shortOpen;

    /// @param pool_ The Uniswap V3 pool of `underlying_` and `quote_`.
    constructor(IERC20Metadata quote_, IERC20Metadata underlying_, IUniswapV3PoolMinimal pool_) {
        quote = quote_;
        underlying = underlying_;
        uniswapPool = pool_;
        address token0 = pool_.token0();
        address token1 = pool_.token1();
        bool underlyingFirst = token0 == address(underlying_);
        if (!(underlyingFirst ? token1 == address(quote_) : token0 == address(quote_) && token1 == address(underlying_)))
        {
            revert BadBinding(address(pool_));
        }
        _underlyingIsToken0 = underlyingFirst;
        _poolFee = pool_.fee();
        _quoteScale = 10 ** (18 - quote_.decimals());
        _underlyingScale = 10 ** (18 - underlying_.decimals());
        _deployer = msg.sender;
    }

    /// @notice Bind this hedger to `vault_` (once, by the deployer; the vault must name this hedger).
    function bind(address vault_) external {
        if (msg.sender != _deployer || vault != address(0) || address(IHedgedVault(vault_).hedger()) != address(this)) {
            revert BadBinding(vault_);
        }
        vault = vault_;
    }

    modifier onlyVault() {
        if (msg.sender != vault) revert NotVault(msg.sender);
        _;
    }

    /// @notice Pays the pool during this contract's own swaps: quote from the vault (its allowance),
    /// underlying from this contract.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != address(uniswapPool)) revert NotPool(msg.sender);
        bool payToken0 = amount0Delta > 0;
        uint256 amount = uint256(payToken0 ? amount0Delta : amount1Delta);
        if (payToken0 == _underlyingIsToken0) {
            underlying.safeTransfer(msg.sender, amount);
        } else {
            quote.safeTransferFrom(vault, msg.sender, amount);
        }
    }

    /// @notice Buy up to `amount` underlying (units) with the vault's quote, to this contract, in one slice;
    /// at most `maxQuoteIn` is spent (the amount is cut to what it affords at the bound).
    /// @return bought Underlying received.
    /// @return paid Quote paid.
    function _buy(uint256 amount, uint256 spotWad, uint256 slippageBps, uint256 maxQuoteIn)
        internal
        returns (uint256 bought, uint256 paid)
    {
        uint256 boundWad = spotWad * (BPS + slippageBps) / BPS;
        // the most underlying whose cost at the bound fits in maxQuoteIn
        uint256 affordable = maxQuoteIn.mulDivDown(WAD * _quoteScale, boundWad) / _underlyingScale;
        if (affordable < amount) amount = affordable;
        if (amount == 0) return (0, 0);
        uint256 limitWad = spotWad * (BPS + slippageBps) * (PIPS - _poolFee) / (BPS * PIPS);
        (uint256 underlyingAmount, uint256 quoteAmount) =
            _swap(true, -int256(amount), _sqrtLimit(limitWad, true), address(this));
        (bought, paid) = (underlyingAmount, quoteAmount);
        uint256 bound = (bought * _underlyingScale).mulDivUp(boundWad, WAD * _quoteScale);
        if (paid > bound) revert SliceOutsideBound(bought, paid, bound);
    }

    /// @notice Sell up to `amount` underlying (units, from this contract) for quote to `recipient`, in one
    /// slice (`exactQuoteOut`: the amount is the quote wanted instead, an exact output).
    /// @return sold Underlying paid.
    /// @return received Quote received.
    function _sell(uint256 amount, bool exactQuoteOut, uint256 spotWad, uint256 slippageBps, address recipient)
        internal
        returns (uint256 sold, uint256 received)
    {
        if (amount == 0) return (0, 0);
        uint256 boundWad = spotWad * (BPS - slippageBps) / BPS;
        (sold, received) =
            _swap(false, exactQuoteOut ? -int256(amount) : int256(amount), _saleLimit(spotWad, slippageBps), recipient);
        uint256 bound = (sold * _underlyingScale).mulDivDown(boundWad, WAD * _quoteScale);
        if (received < bound) revert SliceOutsideBound(sold, received, bound);
    }

    /// @dev One pool swap (`buyUnderlying`: quote in, else underlying in) of `amountSpecified` of the token
    /// it names (exact input > 0 of the input token, exact output < 0 of the output token: a buy names the
    /// underlying, a sale the underlying in or the quote out), stopped at the sqrt price `limit`.
    function _swap(bool buyUnderlying, int256 amountSpecified, uint160 limit, address recipient)
        private
        returns (uint256 underlyingAmount, uint256 quoteAmount)
    {
        bool zeroForOne = buyUnderlying != _underlyingIsToken0;
        (uint160 sqrtNow,,,,,,) = uniswapPool.slot0();
        if (zeroForOne ? limit >= sqrtNow : limit <= sqrtNow) revert PoolBeyondLimit(sqrtNow, limit);
        (int256 amount0, int256 amount1) = uniswapPool.swap(recipient, zeroForOne, amountSpecified, limit, "");
        (int256 u, int256 q) = _underlyingIsToken0 ? (amount0, amount1) : (amount1, amount0);
        underlyingAmount = u < 0 ? uint256(-u) : uint256(u);
        quoteAmount = q < 0 ? uint256(-q) : uint256(q);
    }

    /// @notice How much underlying (units, gross of the fee) a sale can put into the pool before its price
    /// reaches the slice's limit, if the liquidity in range now holds over the whole move: exact for
    /// full-range liquidity, an under-estimate when more liquidity lies beyond the current range (the next
    /// slice sells it), an over-estimate when less (the slice stops at the limit with the rest unsold).
    /// Rounded down (the sale sells all of it). Reverts `PoolBeyondLimit` when the pool is at or past the limit.
    function _saleCapacity(uint256 spotWad, uint256 slippageBps) internal view returns (uint256) {
        uint160 limit = _saleLimit(spotWad, slippageBps);
        (uint160 sqrtNow,,,,,,) = uniswapPool.slot0();
        uint256 liquidity = uniswapPool.liquidity();
        uint256 net;
        if (_underlyingIsToken0) {
            // the price falls: token0 in = L 2^96 (sqrtNow - limit) / (sqrtNow limit)
            if (limit >= sqrtNow) revert PoolBeyondLimit(sqrtNow, limit);
            net = Math.mulDiv(liquidity << 96, sqrtNow - limit, sqrtNow) / limit;
        } else {
            // the price rises: token1 in = L (limit - sqrtNow) / 2^96
            if (limit <= sqrtNow) revert PoolBeyondLimit(sqrtNow, limit);
            net = Math.mulDiv(liquidity, limit - sqrtNow, 1 << 96);
        }
        return net * PIPS / (PIPS - _poolFee);
    }

    /// @dev A sale's sqrt price limit: P x (1 - fee) >= spot x (1 - slippage).
    function _saleLimit(uint256 spotWad, uint256 slippageBps) internal view returns (uint160) {
        return _sqrtLimit((spotWad * (BPS - slippageBps) * PIPS).divUp(BPS * (PIPS - _poolFee)), false);
    }

    /// @dev The pool's sqrt price (token1 per token0, raw, Q64.96) at `priceWad` quote per underlying,
    /// rounded so that the limit is never looser than the price: down for a buy's upper limit on P, up for
    /// a sale's lower limit (inverted when the underlying is token1), within TickMath's bounds.
    function _sqrtLimit(uint256 priceWad, bool upperOnP) private view returns (uint160) {
        // raw token1 per token0 = P uScale / (qScale 1e18) when the underlying is token0, its inverse
        // otherwise; x 2^192 and the square root give Q64.96
        uint256 num = priceWad * _underlyingScale;
        uint256 den = _quoteScale * WAD;
        bool rawIsP = _underlyingIsToken0;
        // the raw price moves with P when rawIsP, against it otherwise: round toward the tight side
        bool roundUp = upperOnP != rawIsP;
        uint256 ratioX192 = rawIsP
            ? Math.mulDiv(num, 1 << 192, den, roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor)
            : Math.mulDiv(den, 1 << 192, num, roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor);
        uint256 root = Math.sqrt(ratioX192, roundUp ? Math.Rounding.Ceil : Math.Rounding.Floor);
        if (root <= MIN_SQRT_RATIO) return MIN_SQRT_RATIO + 1;
        if (root >= MAX_SQRT_RATIO) return MAX_SQRT_RATIO - 1;
        return uint160(root);
    }

    /// @notice Sell held underlying for up to `amount` quote to the vault in one slice: an exact output of
    /// `amount` when the holding surely covers it at the bound, else the whole holding.
    function _raiseFromLong(uint256 amount, uint256 spotWad, uint256 slippageBps)
        internal
        returns (uint256 sold, uint256 raised)
    {
        uint256 held = underlying.balanceOf(address(this));
        uint256 worst = (held * _underlyingScale).mulDivDown(spotWad * (BPS - slippageBps), WAD * BPS * _quoteScale);
        (sold, raised) = amount <= worst
            ? _sell(amount, true, spotWad, slippageBps, vault)
            : _sell(held, false, spotWad, slippageBps, vault);
        if (sold != 0) emit Slice(false, sold, raised);
    }

    /// @dev Underlying held, in wad.
    function _longWad() internal view returns (uint256) {
        return underlying.balanceOf(address(this)) * _underlyingScale;
    }

    /// @dev Underlying wad to units, rounded up.
    function _ceilUnits(uint256 wad) internal view returns (uint256) {
        return (wad + _underlyingScale - 1) / _underlyingScale;
    }
}
