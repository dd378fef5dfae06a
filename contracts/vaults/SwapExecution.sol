// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IOptionVault} from "../../interfaces/IOptionVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {ISwapRouterMinimal} from "../../interfaces/IUniswapV3.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {BookMath} from "./BookMath.sol";

/// @title SwapExecution
/// @notice Hedge swaps between a quote token and an underlying on one Uniswap V3 pool through
/// SwapRouter, bounded by an oracle price and a maximum slippage. An external library (called with
/// DELEGATECALL, so the caller's balances and approvals are used): one deployed copy serves every vault
/// and keeps the vaults below the code size limit.
/// Units: amounts in token units; `spotWad` is quote per underlying in wad; scales are 10^(18 - decimals).
library SwapExecution {
    using FixedPointMath for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;

    /// @notice A swap of zero underlying (for example a buy cut to a free quote balance of zero).
    error SwapAmountZero();
    /// @notice The bounded swap needs more quote than the caller may spend.
    error SwapInputAboveAvailable(uint256 maxQuoteIn, uint256 availableQuote);

    /// @notice One hedge swap.
    struct Swap {
        ISwapRouterMinimal router;
        address quote;
        address underlying;
        uint24 poolFee;
        /// @dev True: receive exactly `underlyingAmount` for at most the bound; false: sell exactly it.
        bool buyUnderlying;
        uint256 underlyingAmount;
        uint256 spotWad;
        uint256 maxSlippageBps;
        uint256 quoteScale;
        uint256 underlyingScale;
        /// @dev The most quote the caller may spend on a buy.
        uint256 availableQuote;
    }

    /// @notice The option vault's hedge (see `hedge`).
    struct Hedge {
        IPriceOracle priceOracle;
        /// @dev The swap; `buyUnderlying`, `underlyingAmount` and `availableQuote` are set by `hedge`.
        Swap swap;
        /// @dev The target hedge, underlying wad.
        uint256 targetWad;
        uint256 deltaBandWad;
        uint256 maxNavLossBps;
    }

    /// @notice Swap toward `h.targetWad` on the pool, bounded by the oracle price and the slippage, then
    /// check on the same marks (only the balances moved): the gap to the target inside the band (unless a
    /// buy was cut to what the free quote affords at the bound), the NAV loss within its bound, HF at
    /// least min(floor, HF before). Reverts `PoolPriceDeviation` first when the pool is off the oracle,
    /// `SwapAmountZero` when nothing is affordable (the upkeep fails instead of looping),
    /// `HedgeOutsideBand`, `HedgeNavLoss`, `HealthFactorTooLow`.
    /// @return b The book after the swap (balances updated).
    /// @return quoteAmount Quote paid or received.
    function hedge(Hedge memory h, BookMath.Book memory b, BookMath.Ctx memory c)
        external
        returns (BookMath.Book memory, uint256 quoteAmount)
    {
        h.priceOracle.checkPoolPrice(b.spotWad);
        uint256 navBefore = BookMath.navLow(b, c);
        uint256 hfBefore = BookMath.healthFactor(b, c);
        uint256 hedgeWad = b.hedgeBalance * c.underlyingScale;
        Swap memory s = h.swap;
        s.buyUnderlying = h.targetWad > hedgeWad;
        s.availableQuote = BookMath.freeQuote(b, c);
        bool cashLimited;
        if (s.buyUnderlying) {
            s.underlyingAmount = (h.targetWad - hedgeWad).divUp(c.underlyingScale);
            // the most underlying whose bounded cost fits in the free quote
            uint256 affordable = s.availableQuote.mulDivDown(WAD * BPS * c.quoteScale, b.spotWad * (BPS + s.maxSlippageBps))
                / c.underlyingScale;
            if (affordable < s.underlyingAmount) (s.underlyingAmount, cashLimited) = (affordable, true);
        } else {
            s.underlyingAmount = (hedgeWad - h.targetWad) / c.underlyingScale;
        }
        quoteAmount = _execute(s);
        b.quoteBalance = IERC20(s.quote).balanceOf(address(this));
        b.hedgeBalance = IERC20(s.underlying).balanceOf(address(this));
        _checkAfter(h, b, c, navBefore, hfBefore, cashLimited);
        emit IOptionVault.Hedged(
            s.buyUnderlying, s.underlyingAmount, quoteAmount, b.bookDeltaWad + int256(b.hedgeBalance * c.underlyingScale)
        );
        return (b, quoteAmount);
    }

    function _checkAfter(
        Hedge memory h,
        BookMath.Book memory b,
        BookMath.Ctx memory c,
        uint256 navBefore,
        uint256 hfBefore,
        bool cashLimited
    ) private pure {
        (, uint256 gapAfter) = BookMath.hedgeTarget(b, c);
        if (gapAfter > h.deltaBandWad && !cashLimited) revert IOptionVault.HedgeOutsideBand(gapAfter, h.deltaBandWad);
        uint256 navAfter = BookMath.navLow(b, c);
        if (navAfter + navBefore.mulDivDown(h.maxNavLossBps, BPS) < navBefore) {
            revert IOptionVault.HedgeNavLoss(navBefore, navAfter, h.maxNavLossBps);
        }
        uint256 hfAfter = BookMath.healthFactor(b, c);
        uint256 hfRequired = Math.min(c.hfFloorWad, hfBefore);
        if (hfAfter < hfRequired) revert IOptionVault.HealthFactorTooLow(hfAfter, hfRequired);
    }

    /// @notice Execute `s`: a buy pays at most amount x spot x (1 + slippage) (rounded up), a sale
    /// receives at least amount x spot x (1 - slippage) (rounded down); the router reverts otherwise.
    /// @return quoteAmount Quote paid (buy) or received (sale).
    function execute(Swap memory s) external returns (uint256 quoteAmount) {
        return _execute(s);
    }

    function _execute(Swap memory s) private returns (uint256 quoteAmount) {
        if (s.underlyingAmount == 0) revert SwapAmountZero();
        uint256 amountWad = s.underlyingAmount * s.underlyingScale;
        if (s.buyUnderlying) {
            uint256 maxIn = amountWad.mulDivUp(s.spotWad * (BPS + s.maxSlippageBps), WAD * BPS * s.quoteScale);
            if (maxIn > s.availableQuote) revert SwapInputAboveAvailable(maxIn, s.availableQuote);
            return s.router.exactOutputSingle(
                ISwapRouterMinimal.ExactOutputSingleParams({
                    tokenIn: s.quote,
                    tokenOut: s.underlying,
                    fee: s.poolFee,
                    recipient: address(this),
                    deadline: block.timestamp,
                    amountOut: s.underlyingAmount,
                    amountInMaximum: maxIn,
                    sqrtPriceLimitX96: 0
                })
            );
        }
        uint256 minOut = amountWad.mulDivDown(s.spotWad * (BPS - s.maxSlippageBps), WAD * BPS * s.quoteScale);
        return s.router.exactInputSingle(
            ISwapRouterMinimal.ExactInputSingleParams({
                tokenIn: s.underlying,
                tokenOut: s.quote,
                fee: s.poolFee,
                recipient: address(this),
                deadline: block.timestamp,
                amountIn: s.underlyingAmount,
                amountOutMinimum: minOut,
                sqrtPriceLimitX96: 0
            })
        );
    }
}
