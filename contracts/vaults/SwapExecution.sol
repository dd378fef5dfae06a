// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISwapRouterMinimal} from "../../interfaces/IUniswapV3.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

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

    /// @notice Execute `s`: a buy pays at most amount x spot x (1 + slippage) (rounded up), a sale
    /// receives at least amount x spot x (1 - slippage) (rounded down); the router reverts otherwise.
    /// @return quoteAmount Quote paid (buy) or received (sale).
    function execute(Swap memory s) external returns (uint256 quoteAmount) {
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
