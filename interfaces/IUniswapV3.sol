// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IUniswapV3PoolMinimal
/// @notice The few Uniswap V3 pool functions hedgevault calls. Declared here because the Uniswap V3
/// npm packages' Solidity sources pin compilers below 0.8; the selectors are those of the canonical
/// pool (deployed from the published v3-core npm artifact).
interface IUniswapV3PoolMinimal {
    /// @notice The pool's first token (the lower address).
    function token0() external view returns (address);

    /// @notice The pool's second token (the higher address).
    function token1() external view returns (address);

    /// @notice The pool's fee in hundredths of a bip (3000 = 0.3%).
    function fee() external view returns (uint24);

    /// @notice The liquidity in range at the current price.
    function liquidity() external view returns (uint128);

    /// @notice The current price and oracle state.
    /// @return sqrtPriceX96 sqrt(token1 per token0, raw units) in Q64.96.
    /// @return tick The current tick.
    /// @return observationIndex Index of the last written observation.
    /// @return observationCardinality Number of observations stored.
    /// @return observationCardinalityNext Number of observations the pool will grow to.
    /// @return feeProtocol Protocol fee setting.
    /// @return unlocked Whether the pool is unlocked (not in a swap).
    function slot0()
        external
        view
        returns (
            uint160 sqrtPriceX96,
            int24 tick,
            uint16 observationIndex,
            uint16 observationCardinality,
            uint16 observationCardinalityNext,
            uint8 feeProtocol,
            bool unlocked
        );

    /// @notice Cumulative tick and seconds-per-liquidity at each `secondsAgos` before now.
    /// @dev Warning: reverts ("OLD") when a time lies before the oldest stored observation; grow the
    /// history with `increaseObservationCardinalityNext`.
    function observe(uint32[] calldata secondsAgos)
        external
        view
        returns (int56[] memory tickCumulatives, uint160[] memory secondsPerLiquidityCumulativeX128s);

    /// @notice Grow the pool's observation history to at least `observationCardinalityNext` slots.
    function increaseObservationCardinalityNext(uint16 observationCardinalityNext) external;

    /// @notice Swap token0 for token1 (`zeroForOne`) or back; `amountSpecified` > 0 is an exact input, < 0 an
    /// exact output; the swap stops where the price reaches `sqrtPriceLimitX96`. The pool calls
    /// `uniswapV3SwapCallback` on the caller to be paid.
    /// @return amount0 Token0 paid to the pool (> 0) or received (< 0); amount1 likewise.
    function swap(
        address recipient,
        bool zeroForOne,
        int256 amountSpecified,
        uint160 sqrtPriceLimitX96,
        bytes calldata data
    ) external returns (int256 amount0, int256 amount1);
}

/// @title ISwapRouterMinimal
/// @notice The two single-pool swaps of Uniswap V3's periphery `SwapRouter` that hedgevault calls.
interface ISwapRouterMinimal {
    /// @notice Parameters of `exactInputSingle`.
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice Parameters of `exactOutputSingle`.
    struct ExactOutputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 deadline;
        uint256 amountOut;
        uint256 amountInMaximum;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice Swaps exactly `amountIn` of `tokenIn`; reverts ("Too little received") below `amountOutMinimum`.
    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);

    /// @notice Receives exactly `amountOut` of `tokenOut`; reverts ("STF"/"Too much requested") above
    /// `amountInMaximum`.
    function exactOutputSingle(ExactOutputSingleParams calldata params) external payable returns (uint256 amountIn);
}
