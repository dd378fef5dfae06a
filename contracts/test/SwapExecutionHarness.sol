// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {SwapExecution} from "../vaults/SwapExecution.sol";

/// @title SwapExecutionHarness
/// @notice Test-only caller of the linked `SwapExecution` library (DELEGATECALL, like the vault), so that
/// tests can drive `SwapExecution.execute` with bounds the vault never passes (local chains only).
contract SwapExecutionHarness {
    /// @param quote The quote token (approved to the router without limit).
    /// @param underlying The underlying token (approved to the router without limit).
    /// @param router The Uniswap V3 SwapRouter.
    constructor(IERC20 quote, IERC20 underlying, address router) {
        quote.approve(router, type(uint256).max);
        underlying.approve(router, type(uint256).max);
    }

    /// @notice `SwapExecution.execute(s)` with this contract's balances; returns the quote paid or received.
    function execute(SwapExecution.Swap memory s) external returns (uint256) {
        return SwapExecution.execute(s);
    }
}
