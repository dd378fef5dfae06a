// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @title BoundedSwap
/// @notice One swap of an asset against a quote token on a Uniswap V3 pool, bounded by an oracle price: the
/// swap's sqrtPriceLimit keeps the pool's marginal price, net of its fee, within `slippageBps` of the oracle
/// price (buying: P / (1 - fee) <= spot x (1 + slippage); selling: P x (1 - fee) >= spot x (1 - slippage)),
/// so no unit trades outside the bound and the swap stops at the limit (a partial fill) when the pool cannot
/// give more; the average price is checked again after the swap (`SliceOutsideBound`), and a pool already at
/// or past its limit is refused before the swap (`PoolBeyondLimit`).
/// The caller is the swap's payer: it implements `uniswapV3SwapCallback` and must check there that the
/// caller is its own pool (this library passes `data` through).
/// @dev Prices are quote per asset in wad; `assetScale` / `quoteScale` are 10^(18 - decimals). The same rule
/// as `contracts/hedging/HedgerBase.sol` (`_buy`, `_sell`, `_saleCapacity`, `_sqrtLimit`), with the pool's
/// facts in a struct so that one contract can trade several pools.
library BoundedSwap {
    using FixedPointMath for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant PIPS = 1_000_000;
    /// @dev TickMath's bounds on the pool's sqrt price (exclusive).
    uint160 internal constant MIN_SQRT_RATIO = 4295128739;
    uint160 internal constant MAX_SQRT_RATIO = 1461446703485210103287623309178091648022;

    /// @notice One pool's facts.
    struct Pool {
        IUniswapV3PoolMinimal pool;
        bool assetIsToken0;
        uint256 feePips;
        uint256 assetScale;
        uint256 quoteScale;
    }

    /// @notice The pool's price (`sqrtPriceX96`) is already at or beyond the swap's limit (`limitX96`).
    error PoolBeyondLimit(uint160 sqrtPriceX96, uint160 limitX96);
    /// @notice The average price is outside the bound: `amountIn` paid for `amountOut`, the bound on the quote
    /// side `boundQuote` (a buy paid more quote, a sale received less).
    error SliceOutsideBound(uint256 amountIn, uint256 amountOut, uint256 boundQuote);

    /// @notice Buy up to `assetUnits` (an exact output, partial at the limit) with quote paid in the callback.
    /// @return bought Asset units received. @return paid Quote units paid.
    function buy(Pool memory p, uint256 assetUnits, uint256 spotWad, uint256 slippageBps, bytes memory data)
        internal
        returns (uint256 bought, uint256 paid)
    {
        uint256 boundWad = spotWad * (BPS + slippageBps) / BPS;
        (bought, paid) = _swap(p, true, -int256(assetUnits), buyLimit(p, spotWad, slippageBps), data);
        uint256 bound = (bought * p.assetScale).mulDivUp(boundWad, WAD * p.quoteScale);
        if (paid > bound) revert SliceOutsideBound(paid, bought, bound);
    }

    /// @notice Sell `amount` asset units (exact input) or for `amount` quote units (`exactQuoteOut`), partial
    /// at the limit; the asset is paid in the callback.
    /// @return sold Asset units paid. @return received Quote units received.
    function sell(
        Pool memory p,
        uint256 amount,
        bool exactQuoteOut,
        uint256 spotWad,
        uint256 slippageBps,
        bytes memory data
    ) internal returns (uint256 sold, uint256 received) {
        uint256 boundWad = spotWad * (BPS - slippageBps) / BPS;
        (sold, received) =
            _swap(p, false, exactQuoteOut ? -int256(amount) : int256(amount), saleLimit(p, spotWad, slippageBps), data);
        uint256 bound = (sold * p.assetScale).mulDivDown(boundWad, WAD * p.quoteScale);
        if (received < bound) revert SliceOutsideBound(sold, received, bound);
    }

    /// @notice How much a swap can trade before the pool's price reaches the slice's limit, if the liquidity in
    /// range now holds over the whole move: a sale's asset units in (gross of the fee), a buy's asset units out.
    /// Exact for full-range liquidity (rounded down), an under-estimate when more liquidity lies beyond the
    /// current range, an over-estimate when less (the swap then stops at the limit, a partial fill). 0 when the
    /// pool is at or past the limit; also returns the pool's sqrt price and the limit.
    function capacity(Pool memory p, bool buyAsset, uint256 spotWad, uint256 slippageBps)
        internal
        view
        returns (uint256 units, uint160 sqrtNow, uint160 limit)
    {
        limit = buyAsset ? buyLimit(p, spotWad, slippageBps) : saleLimit(p, spotWad, slippageBps);
        (sqrtNow,,,,,,) = p.pool.slot0();
        uint256 liquidity = p.pool.liquidity();
        // the raw price (token1 per token0) rises when token1 is paid in: a buy of token0 or a sale of token1
        bool rises = buyAsset == p.assetIsToken0;
        if (rises ? limit <= sqrtNow : limit >= sqrtNow) return (0, sqrtNow, limit);
        (uint160 lo, uint160 hi) = rises ? (sqrtNow, limit) : (limit, sqrtNow);
        // token0 moved = L 2^96 (hi - lo) / (hi lo); token1 moved = L (hi - lo) / 2^96
        units = p.assetIsToken0
            ? Math.mulDiv(liquidity << 96, hi - lo, hi) / lo
            : Math.mulDiv(liquidity, hi - lo, 1 << 96);
        // a sale pays the fee on top of what moves the price
        if (!buyAsset) units = units * PIPS / (PIPS - p.feePips);
    }

    /// @notice A buy's sqrt price limit: P / (1 - fee) <= spot x (1 + slippage).
    function buyLimit(Pool memory p, uint256 spotWad, uint256 slippageBps) internal pure returns (uint160) {
        return _sqrtLimit(p, spotWad * (BPS + slippageBps) * (PIPS - p.feePips) / (BPS * PIPS), true);
    }

    /// @notice A sale's sqrt price limit: P x (1 - fee) >= spot x (1 - slippage).
    function saleLimit(Pool memory p, uint256 spotWad, uint256 slippageBps) internal pure returns (uint160) {
        return _sqrtLimit(p, (spotWad * (BPS - slippageBps) * PIPS).divUp(BPS * (PIPS - p.feePips)), false);
    }

    /// @dev One pool swap (`buyAsset`: quote in) of `amountSpecified` (> 0 exact input of the input token, < 0
    /// exact output of the output token), stopped at the sqrt price `limit`.
    function _swap(Pool memory p, bool buyAsset, int256 amountSpecified, uint160 limit, bytes memory data)
        private
        returns (uint256 assetAmount, uint256 quoteAmount)
    {
        bool zeroForOne = buyAsset != p.assetIsToken0;
        (uint160 sqrtNow,,,,,,) = p.pool.slot0();
        if (zeroForOne ? limit >= sqrtNow : limit <= sqrtNow) revert PoolBeyondLimit(sqrtNow, limit);
        (int256 amount0, int256 amount1) = p.pool.swap(address(this), zeroForOne, amountSpecified, limit, data);
        (int256 a, int256 q) = p.assetIsToken0 ? (amount0, amount1) : (amount1, amount0);
        assetAmount = a < 0 ? uint256(-a) : uint256(a);
        quoteAmount = q < 0 ? uint256(-q) : uint256(q);
    }

    /// @dev The pool's sqrt price (token1 per token0, raw, Q64.96) at `priceWad` quote per asset, rounded so that
    /// the limit is never looser than the price: down for a buy's upper limit on P, up for a sale's lower
    /// limit (inverted when the asset is token1), within TickMath's bounds.
    function _sqrtLimit(Pool memory p, uint256 priceWad, bool upperOnP) private pure returns (uint160) {
        uint256 num = priceWad * p.assetScale;
        uint256 den = p.quoteScale * WAD;
        bool rawIsP = p.assetIsToken0;
        Math.Rounding r = upperOnP != rawIsP ? Math.Rounding.Ceil : Math.Rounding.Floor;
        uint256 ratioX192 = rawIsP ? Math.mulDiv(num, 1 << 192, den, r) : Math.mulDiv(den, 1 << 192, num, r);
        uint256 root = Math.sqrt(ratioX192, r);
        if (root <= MIN_SQRT_RATIO) return MIN_SQRT_RATIO + 1;
        if (root >= MAX_SQRT_RATIO) return MAX_SQRT_RATIO - 1;
        return uint160(root);
    }
}
