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
        /// @dev Token units.
        uint256 quoteBalance;
        uint256 hedgeBalance;
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
    }

    /// @notice A = quote balance - fees owed + hedge x spot, rounded down, in quote units (the fees are
    /// the fee recipient's money in the vault's custody).
    function assetsValue(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 ownQuote = b.quoteBalance > c.feesOwed ? b.quoteBalance - c.feesOwed : 0;
        return ownQuote + (b.hedgeBalance * c.underlyingScale).mulDivDown(b.spotWad, WAD * c.quoteScale);
    }

    /// @notice L = mark (upper bound) + payouts owed, rounded up, in quote units.
    function liabilities(Book memory b, Ctx memory c) internal pure returns (uint256) {
        return b.markUpWad.divUp(c.quoteScale) + c.payoutsOwed;
    }

    /// @notice M = max(lossUp, lossDown, 0), rounded up, in quote units: the worst loss of book and hedge
    /// when the marked spot S0 moves to S0 (1 + up) or S0 (1 - down) with every volatility + volShock:
    ///   lossUp   = stressUp   - mark - H x (floor(S0 (1 + up)) - S0)     (the hedge gains: rounded down)
    ///   lossDown = stressDown - mark + H x (S0 - floor(S0 (1 - down)))   (the hedge loses: rounded up)
    /// with the book's scenario values and mark at S0 from `BookMarking` and the current hedge H.
    function stressMargin(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 hedgeWad = b.hedgeBalance * c.underlyingScale;
        uint256 s0 = b.markSpotWad;
        uint256 gainUpWad = hedgeWad * (s0 * (BPS + c.spotShockUpBps) / BPS - s0) / WAD;
        uint256 lossDownWad = (hedgeWad * (s0 - s0 * (BPS - c.spotShockDownBps) / BPS)).divUp(WAD);
        int256 lossUp = int256(b.stressUpWad) - int256(b.markWad) - int256(gainUpWad);
        int256 lossDown = int256(b.stressDownWad) - int256(b.markWad) + int256(lossDownWad);
        int256 worst = lossUp > lossDown ? lossUp : lossDown;
        return worst > 0 ? uint256(worst).divUp(c.quoteScale) : 0;
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
        int256 net = b.bookDeltaWad + int256(b.hedgeBalance * c.underlyingScale);
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

    /// @notice Quote balance minus payouts and fees owed (0 if short): what may leave the vault.
    function freeQuote(Book memory b, Ctx memory c) internal pure returns (uint256) {
        uint256 owed = c.payoutsOwed + c.feesOwed;
        return b.quoteBalance > owed ? b.quoteBalance - owed : 0;
    }

    /// @notice Target hedge max(-bookDelta, 0) and the gap |target - hedge|, in underlying wad.
    function hedgeTarget(Book memory b, Ctx memory c) internal pure returns (uint256 targetWad, uint256 gapWad) {
        targetWad = b.bookDeltaWad < 0 ? uint256(-b.bookDeltaWad) : 0;
        uint256 hedgeWad = b.hedgeBalance * c.underlyingScale;
        gapWad = targetWad > hedgeWad ? targetWad - hedgeWad : hedgeWad - targetWad;
    }
}
