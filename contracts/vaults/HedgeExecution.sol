// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IHedger} from "../../interfaces/IHedger.sol";
import {IOptionToken} from "../../interfaces/IOptionToken.sol";
import {IOptionVault} from "../../interfaces/IOptionVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {BookMarking} from "./BookMarking.sol";
import {BookMath} from "./BookMath.sol";

/// @title HedgeExecution
/// @notice The option vault's cash movements through its hedging module: a hedge order (`IHedger`) and the
/// checks around it, and a claim (which may have the hedger raise the quote it pays). An external library
/// (DELEGATECALL: the vault's balances, storage and events), so that the vault stays below the code size
/// limit.
library HedgeExecution {
    using FixedPointMath for uint256;
    using SafeERC20 for IERC20;

    uint256 internal constant WAD = 1e18;

    uint256 internal constant BPS = 10_000;

    /// @notice One hedge order.
    struct Hedge {
        IPriceOracle priceOracle;
        IHedger hedger;
        IERC20 quote;
        /// @dev The target hedge (signed, underlying wad; `BookMath.hedgeTarget`).
        int256 targetWad;
        uint256 deltaBandWad;
        uint256 maxSlippageBps;
        uint256 maxNavLossBps;
        uint256 shockUpBps;
    }

    /// @notice What a claim needs of the vault.
    struct Claim {
        IOptionToken optionToken;
        IERC20 quote;
        IHedger hedger;
        IPriceOracle priceOracle;
        uint256 quoteScale;
        uint256 maxSlippageBps;
        uint256 shockUpBps;
    }

    /// @notice `IOptionVault.claim`: burns the caller's options of a settled series and pays floor(amount x
    /// intrinsic at the settlement price) to `receiver`. When the vault's quote balance is short of the
    /// payout (the hedge still holds the quote, for example a long hedge after an in-the-money call
    /// expiry), the hedger raises the rest first: collateral the position does not need, then one slice of
    /// the underlying held, within the slippage bound (the position it leaves recorded: `BookMarking.recordHedge`).
    /// Subtracts the payout from the payouts owed (`st`).
    function claim(
        BookMarking.Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        mapping(uint256 => uint256) storage settlementPriceWad,
        Claim memory k,
        uint256 seriesId,
        address receiver
    ) external returns (uint256 payout) {
        if (receiver == address(0)) revert IOptionVault.ZeroAddress();
        IOptionVault.Series memory s = series[seriesId];
        if (s.expiry == 0) revert IOptionVault.UnknownSeries(seriesId);
        uint256 priceWad = settlementPriceWad[s.expiry];
        if (priceWad == 0) revert IOptionVault.NotSettled(seriesId);
        uint256 amountWad = IERC1155(address(k.optionToken)).balanceOf(msg.sender, seriesId);
        if (amountWad == 0) revert IOptionVault.NothingToClaim(seriesId, msg.sender);
        payout = amountWad.mulDivDown(BookMarking.intrinsicWad(s, priceWad), WAD * k.quoteScale);
        k.optionToken.burn(msg.sender, seriesId, amountWad);
        if (payout != 0) {
            uint256 balance = k.quote.balanceOf(address(this));
            if (balance < payout) _raise(st, k, payout - balance, balance);
            k.quote.safeTransfer(receiver, payout);
            // settlement added ceil(open x payout) for the series; the claims' floors never sum above it
            // (checked: at most the payouts owed, so the difference fits the field again)
            st.payoutsOwed = uint128(st.payoutsOwed - payout);
        }
        emit IOptionVault.Claimed(seriesId, msg.sender, receiver, amountWad, payout);
    }

    /// @dev The hedger raises `amount` quote (event `Hedged`; the net delta is not known here: 0).
    function _raise(BookMarking.Stored storage st, Claim memory k, uint256 amount, uint256 balance) private {
        uint256 spotWad = k.priceOracle.swapSpotWad();
        IHedger.Position memory before = k.hedger.position(spotWad, k.shockUpBps);
        k.hedger.raiseQuote(amount, spotWad, k.maxSlippageBps, k.shockUpBps);
        IHedger.Position memory p = k.hedger.position(spotWad, k.shockUpBps);
        BookMarking.recordHedge(st, p);
        emit IOptionVault.Hedged(
            p.hedgeWad - before.hedgeWad,
            int256(k.quote.balanceOf(address(this))) - int256(balance),
            int256(p.collateral) - int256(before.collateral),
            0
        );
    }

    /// @notice Send one order toward `h.targetWad` and check on the same marks (only the balances moved):
    /// the target not overshot by more than the band (a slice may stop short: larger gaps close over several
    /// upkeeps; a de-risking order, which reduces the short whatever the target, is exempt), the NAV loss within its bound, HF at least
    /// min(floor, HF before). The hedger may spend the free quote less the claims' reserve (`c`).
    /// Reverts `PoolPriceDeviation` first when the pool is off the oracle; the hedger's errors;
    /// `HedgeOutsideBand` (overshoot), `HedgeNavLoss`, `HealthFactorTooLow`. The position the order left is
    /// recorded (`BookMarking.recordHedge`).
    function hedge(BookMarking.Stored storage st, Hedge memory h, BookMath.Book memory b, BookMath.Ctx memory c)
        external
    {
        h.priceOracle.checkPoolPrice(b.spotWad);
        uint256 navBefore = BookMath.navLow(b, c);
        uint256 hfBefore = BookMath.healthFactor(b, c);
        int256 hedgeBefore = b.hedgeWad;
        (uint256 quoteBefore, uint256 collateralBefore) = (b.quoteBalance, b.collateral);
        // a de-risking order reduces the short whatever the target (`IHedger.Position.deRisking`)
        bool deRisking = b.deRisking;
        IHedger.Position memory p = h.hedger.hedge(
            IHedger.Order(h.targetWad, b.spotWad, h.maxSlippageBps, BookMath.freeQuote(b, c), h.shockUpBps)
        );
        b.quoteBalance = h.quote.balanceOf(address(this));
        (b.hedgeWad, b.collateral, b.deRisking) = (p.hedgeWad, p.collateral, p.deRisking);
        BookMarking.recordHedge(st, p);
        _checkAfter(h, b, c, deRisking ? int256(0) : hedgeBefore - h.targetWad, navBefore, hfBefore);
        emit IOptionVault.Hedged(
            b.hedgeWad - hedgeBefore,
            int256(b.quoteBalance) - int256(quoteBefore),
            int256(b.collateral) - int256(collateralBefore),
            b.bookDeltaWad + b.hedgeWad
        );
    }

    function _checkAfter(
        Hedge memory h,
        BookMath.Book memory b,
        BookMath.Ctx memory c,
        int256 gapBefore,
        uint256 navBefore,
        uint256 hfBefore
    ) private pure {
        int256 gap = b.hedgeWad - h.targetWad;
        // an overshoot (the gap changed sign) must land inside the band; a de-risking order (gapBefore 0
        // here) may move away from the target: it repays debt whatever the target
        if (gapBefore != 0 && (gap > 0) != (gapBefore > 0) && gap != 0 && _abs(gap) > h.deltaBandWad) {
            revert IOptionVault.HedgeOutsideBand(_abs(gap), h.deltaBandWad);
        }
        uint256 navAfter = BookMath.navLow(b, c);
        if (navAfter + navBefore.mulDivDown(h.maxNavLossBps, BPS) < navBefore) {
            revert IOptionVault.HedgeNavLoss(navBefore, navAfter, h.maxNavLossBps);
        }
        uint256 hfAfter = BookMath.healthFactor(b, c);
        uint256 hfRequired = Math.min(c.hfFloorWad, hfBefore);
        if (hfAfter < hfRequired) revert IOptionVault.HealthFactorTooLow(hfAfter, hfRequired);
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x < 0 ? uint256(-x) : uint256(x);
    }
}
