// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BookMath} from "../vaults/BookMath.sol";

/// @title BookMathHarness
/// @notice Test-only: `BookMath`'s formulas on any book, so that tests can check their roundings case by case
/// (signed hedges, each scenario) without building the vault state that produces the book.
contract BookMathHarness {
    function stressMargin(BookMath.Book memory b, BookMath.Ctx memory c) external pure returns (uint256) {
        return BookMath.stressMargin(b, c);
    }

    function assetsValue(BookMath.Book memory b, BookMath.Ctx memory c) external pure returns (uint256) {
        return BookMath.assetsValue(b, c);
    }

    function hedgeTarget(BookMath.Book memory b) external pure returns (int256 targetWad, uint256 gapWad) {
        return BookMath.hedgeTarget(b);
    }
}
