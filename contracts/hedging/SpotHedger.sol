// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {IHedger} from "../../interfaces/IHedger.sol";
import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {HedgerBase} from "./HedgerBase.sol";

/// @title SpotHedger
/// @notice A long-only hedge: underlying held, bought and sold in slices on the Uniswap V3 pool. A negative
/// target is treated as zero (a book that is net long the underlying stays unhedged: use `AaveHedger`).
contract SpotHedger is HedgerBase {
    constructor(IERC20Metadata quote_, IERC20Metadata underlying_, IUniswapV3PoolMinimal pool_)
        HedgerBase(quote_, underlying_, pool_)
    {}

    /// @inheritdoc IHedger
    function position(uint256, uint256) public view returns (Position memory p) {
        p.hedgeWad = int256(_longWad());
    }

    /// @inheritdoc IHedger
    function hedge(Order calldata o) external onlyVault returns (Position memory p) {
        uint256 heldWad = _longWad();
        uint256 targetWad = o.targetWad > 0 ? uint256(o.targetWad) : 0;
        uint256 traded;
        uint256 quoteAmount;
        bool bought = targetWad > heldWad;
        if (bought) {
            (traded, quoteAmount) =
                _buy(_ceilUnits(targetWad - heldWad), o.spotWad, o.maxSlippageBps, o.availableQuote);
        } else {
            (traded, quoteAmount) = _sell((heldWad - targetWad) / _underlyingScale, false, o.spotWad, o.maxSlippageBps, vault);
        }
        if (traded == 0) revert NothingToHedge(int256(heldWad), o.targetWad);
        p = position(0, 0);
        emit Slice(bought, traded, quoteAmount);
    }

    /// @inheritdoc IHedger
    function raiseQuote(uint256 amount, uint256 spotWad, uint256 maxSlippageBps, uint256)
        external
        onlyVault
        returns (uint256 raised)
    {
        (, raised) = _raiseFromLong(amount, spotWad, maxSlippageBps);
    }

    /// @inheritdoc IHedger
    function canShort() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IHedger
    function details(uint256) external view returns (Details memory d) {
        d.longWad = _longWad();
        d.healthFactorWad = type(uint256).max;
        d.healthFactorShockWad = type(uint256).max;
    }
}
