// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title BookMath
/// @notice The option vault's valuation and health formulas (see `IOptionVault`), shared by the vault and
/// the hedge library: assets, liabilities, stress margin, NAV bounds and health factor of a `Book`.
/// Units: `...Wad` in wad; values returned in quote token units; assets rounded down, liabilities and
/// the stress margin rounded up (against the user).
library BookMath {
    using FixedPointMath for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;

    /// @notice A valuation at one spot and now (wad before conversion to quote units).
    struct Book {
        uint256 spotWad;
        /// @dev The vault's quote balance (token units).
        uint256 quoteBalance;
        /// @dev The hedge (`IHedger.Position`): signed underlying wad (held minus owed), the collateral it
        /// keeps in quote units, whether it can go short and whether its lending position is de-risking.
        int256 hedgeWad;
        uint256 collateral;
        bool canShort;
        bool deRisking;
        /// @dev Upper and lower bounds of the mark of the open options.
        uint256 markUpWad;
        uint256 markDownWad;
        int256 bookDeltaWad;
        uint256 vegaWad;
        /// @dev The stress scenarios' reference (`BookMarking`): the marked spot S0, the mark there, and
        /// the book's value in the up and down scenarios (exact at a re-mark, upper bounds after trades).
        uint256 markSpotWad;
        uint256 markWad;
        uint256 stressUpWad;
        uint256 stressDownWad;
        /// @dev sum o_i / (sigma_i sqrt(2 pi tau_i)): Gamma of the book at spot S is at most gammaCoef / S.
        uint256 gammaCoefWad;
    }

    /// @notice The vault's values the formulas need.
    struct Ctx {
        uint256 quoteScale;
        uint256 underlyingScale;
        /// @dev Quote units the vault holds for others: payouts to option holders (a liability) and trading
        /// fees to the fee recipient (not the vault's assets).
        uint256 payoutsOwed;
        uint256 feesOwed;
        uint256 hfFloorWad;
        uint256 spotShockUpBps;
        uint256 spotShockDownBps;
        /// @dev Quote kept for the claims of in-the-money series near expiry (`BookMarking.claimReserve`):
        /// out of the free quote where it is set (withdrawals, hedges), 0 elsewhere.
        uint256 reservedQuote;
    }

    /// @notice A = quote balance - fees owed + collateral + hedge x spot, rounded down (a short hedge's
    /// value rounded up before it is subtracted; 0 if negative), in quote units. The fees are the fee
    /// recipient's money in the vault's custody.
    function assetsValue(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 ownQuote = b.quoteBalance > c.feesOwed ? b.quoteBalance - c.feesOwed : 0;
        uint256 cash = ownQuote + b.collateral;
        if (b.hedgeWad >= 0) return cash + uint256(b.hedgeWad).mulDivDown(b.spotWad, WAD * c.quoteScale);
        uint256 owed = uint256(-b.hedgeWad).mulDivUp(b.spotWad, WAD * c.quoteScale);
        return cash > owed ? cash - owed : 0;
    }

    /// @notice L = mark (upper bound) + payouts owed, rounded up, in quote units.
    function liabilities(Book memory b, Ctx memory c) internal pure returns (uint256) {
        return b.markUpWad.divUp(c.quoteScale) + c.payoutsOwed;
    }

    /// @notice M = max(lossUp, lossDown, 0), rounded up, in quote units: the worst loss of book and hedge
    /// when the marked spot S0 moves to Su = floor(S0 (1 + up)) or Sd = floor(S0 (1 - down)) with every
    /// volatility + volShock:
    ///   lossUp   = stressUp   - mark - H x (Su - S0)
    ///   lossDown = stressDown - mark + H x (S0 - Sd)
    /// with the book's scenario values and mark at S0 from `BookMarking` and the signed hedge H (a long
    /// hedge gains up and loses down, a short the reverse); hedge gains round down, losses up.
    function stressMargin(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 s0 = b.markSpotWad;
        int256 pnlUp = _hedgePnl(b.hedgeWad, s0 * (BPS + c.spotShockUpBps) / BPS - s0);
        int256 pnlDown = _hedgePnl(-b.hedgeWad, s0 - s0 * (BPS - c.spotShockDownBps) / BPS);
        int256 lossUp = int256(b.stressUpWad) - int256(b.markWad) - pnlUp;
        int256 lossDown = int256(b.stressDownWad) - int256(b.markWad) - pnlDown;
        int256 worst = lossUp > lossDown ? lossUp : lossDown;
        return worst > 0 ? uint256(worst).divUp(c.quoteScale) : 0;
    }

    /// @dev hedgeWad x moveWad / 1e18 (wad): a gain rounded down, a loss rounded up.
    function _hedgePnl(int256 hedgeWad, uint256 moveWad) private pure returns (int256) {
        if (hedgeWad >= 0) return int256(uint256(hedgeWad) * moveWad / WAD);
        return -int256((uint256(-hedgeWad) * moveWad).divUp(WAD));
    }

    /// @notice NAV with the mark's upper bound (withdrawals, redemptions, totalAssets).
    function navLow(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 a = assetsValue(b, c);
        uint256 l = liabilities(b, c);
        return a > l ? a - l : 0;
    }

    /// @notice NAV with the mark's lower bound (deposits, mints).
    function navHigh(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 a = assetsValue(b, c);
        uint256 l = b.markDownWad / c.quoteScale + c.payoutsOwed;
        return a > l ? a - l : 0;
    }

    /// @notice HF = A / (L + M), type(uint256).max when L + M = 0.
    function healthFactor(Book memory b, Ctx memory c) internal pure returns (uint256) {
        return healthFactorAfter(b, c, assetsValue(b, c));
    }

    /// @notice HF for a given assets value (the stress margin depends on the hedge and the book only).
    function healthFactorAfter(Book memory b, Ctx memory c, uint256 assets) internal pure returns (uint256) {
        uint256 denominator = liabilities(b, c) + stressMargin(b, c);
        if (denominator == 0) return type(uint256).max;
        return assets.mulDivDown(WAD, denominator);
    }

    /// @notice The conservative NAV A - L - M (0 if negative): what the book is worth if the spot jumps by
    /// a stress shock against it (exit mode, `IOptionVault.exitMode`).
    function navConservative(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 a = assetsValue(b, c);
        uint256 lm = liabilities(b, c) + stressMargin(b, c);
        return a > lm ? a - lm : 0;
    }

    /// @notice The most NAV can move in one feed round of `deviationBps` and one volatility post of
    /// `volStepWad`, rounded up, in quote units (the swing deposits and withdrawals pay):
    ///   |bookDelta + H| S d + gammaCoef S d^2 / 2 + vega x volStep
    /// (the book's value is convex in S with Gamma <= gammaCoef / S, and linear in each volatility within
    /// vega's upper bound).
    function swing(Book memory b, Ctx memory c, uint256 deviationBps, uint256 volStepWad)
        internal
        pure
        returns (uint256)
    {
        int256 net = b.bookDeltaWad + b.hedgeWad;
        uint256 absNet = net < 0 ? uint256(-net) : uint256(net);
        // |net| < 2^129 (the book's delta is stored in 128 bits, a hedge balance beyond 2^128 wad is not a
        // token), spot < 2^104 (stored in 104 bits), d <= 500 < 2^9: < 2^242. gammaCoef < 2^128 (stored),
        // so gammaCoef S / 1e18 < 2^173, times d^2 < 2^18. vega < 2^173 (vegaRoot < 2^128 times the spot,
        // over 1e18), the step <= 1e18 < 2^60. Every product fits; each term rounds up.
        uint256 deltaWad = (absNet * b.spotWad * deviationBps).divUp(WAD * BPS);
        uint256 gammaWad = ((b.gammaCoefWad * b.spotWad).divUp(WAD) * (deviationBps * deviationBps)).divUp(2 * BPS * BPS);
        uint256 vegaWad = (b.vegaWad * volStepWad).divUp(WAD);
        return (deltaWad + gammaWad + vegaWad).divUp(c.quoteScale);
    }

    /// @notice The most that may leave now: min(free quote, (A - P) - floor x (mark + M)). Payouts owed P
    /// are reserved in quote: they stay out of both sides of the health factor used for withdrawals.
    function withdrawRoom(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 a = assetsValue(b, c);
        a = a > c.payoutsOwed ? a - c.payoutsOwed : 0;
        uint256 needed = (b.markUpWad.divUp(c.quoteScale) + stressMargin(b, c)).mulDivUp(c.hfFloorWad, WAD);
        uint256 room = a > needed ? a - needed : 0;
        uint256 free = freeQuote(b, c);
        return room < free ? room : free;
    }

    /// @notice The withdrawals' health factor after `out` quote units leave: (A - P - out) / (mark + M),
    /// type(uint256).max when mark + M = 0 (see `withdrawRoom`).
    function withdrawHealthFactorAfter(Book memory b, Ctx memory c, uint256 out) internal pure returns (uint256) {
        uint256 denominator = b.markUpWad.divUp(c.quoteScale) + stressMargin(b, c);
        if (denominator == 0) return type(uint256).max;
        uint256 a = assetsValue(b, c);
        uint256 left = a > c.payoutsOwed + out ? a - c.payoutsOwed - out : 0;
        return left.mulDivDown(WAD, denominator);
    }

    /// @notice Quote balance minus payouts and fees owed and the claims' reserve (0 if short): what may leave
    /// the vault or buy a hedge.
    function freeQuote(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 owed = c.payoutsOwed + c.feesOwed + c.reservedQuote;
        return b.quoteBalance > owed ? b.quoteBalance - owed : 0;
    }

    /// @notice The target hedge -bookDelta (at least 0 when the hedger cannot short) and the gap
    /// |target - hedge|, in underlying wad.
    function hedgeTarget(Book memory b) internal pure returns (int256 targetWad, uint256 gapWad) {
        targetWad = -b.bookDeltaWad;
        if (targetWad < 0 && !b.canShort) targetWad = 0;
        int256 gap = targetWad - b.hedgeWad;
        gapWad = gap < 0 ? uint256(-gap) : uint256(gap);
    }
}
