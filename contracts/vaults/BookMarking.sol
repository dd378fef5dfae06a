// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IHedger} from "../../interfaces/IHedger.sol";
import {ISviMath} from "../../interfaces/ISviMath.sol";
import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {IOptionVault} from "../../interfaces/IOptionVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {IVolatilityOracle} from "../../interfaces/IVolatilityOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SviMath} from "../libraries/SviMath.sol";
import {BookMath} from "./BookMath.sol";

/// @title BookMarking
/// @notice The option vault's cached book: aggregates of the open series marked at one point (spot S0,
/// time t0, the posted volatilities of one oracle epoch), from which valuations at a nearby spot S and a
/// later time t get rigorous upper and lower bounds of the full re-mark without pricing every series.
/// An external library (DELEGATECALL): the vault keeps its code size, one deployed copy serves every vault.
///
/// Per series i with open interest o_i, expiry E_i, strike K_i, volatility sigma_i (the series' own, from its
/// expiry's posted slice at the marks' spot: `_setSeriesVol`; a flat slice's is the posted volatility) and
/// tau_i = (E_i - t0) / 1 year, the aggregates (wad, each term rounded up except the delta, truncated):
///   mark        sum o_i C_i(S0, t0)                      (pricer: Black-Scholes, clamped to its domain)
///   optionDelta sum o_i Delta_i(S0, t0)                  (the options' delta; the vault's is minus it)
///   gammaCoef   sum o_i / (sigma_i sqrt(2 pi tau_i))     (Gamma_i(S) <= gammaCoef_i / S)
///   thetaCoef   sum o_i sigma_i / sqrt(2 pi tau_i)       (decay per year <= S thetaCoef_i / 2)
///   strikeOpen  sum o_i K_i                              (rate terms)
///   vegaRoot    sum o_i sqrt(tau_i) / sqrt(2 pi)         (vega_i <= S vegaRoot_i)
///   open        sum o_i                                  (open interest)
///   stressUp    sum o_i C_i(S0 (1 + up), sigma_i + volShock, t0)     (the stress scenarios of
///   stressDown  sum o_i C_i(S0 (1 - down), sigma_i + volShock, t0)    `BookMath.stressMargin`)
/// A trade of one series changes its terms by term(o_new) - term(o_old) with the same roundings, so the
/// aggregates always equal a full re-mark at (S0, t0) to the wei, the two stress aggregates included (a
/// trade prices its series in both scenarios: a round trip leaves no phantom stress, invariant
/// VM_STRESS_EXACT).
library BookMarking {
    using FixedPointMath for uint256;
    using SafeERC20 for IERC20;
    using BookMath for BookMath.Book;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant YEAR_SEC = 365 days;
    uint256 internal constant BPS = 10_000;
    /// @dev The vault's hard cap on live series (per-series rounding allowance).
    uint256 internal constant MAX_SERIES = 64;
    /// @dev Series expire at most this long after listing.
    uint256 internal constant MAX_EXPIRY_SEC = 365 days;
    /// @dev ceil(1e18 / sqrt(2 pi)): phi(0), the largest value of the normal density.
    uint256 internal constant INV_SQRT_2PI_WAD_UP = 398942280401432678;
    /// @notice `setParameters` changes the parameters at most once per hour (queued changes cannot be
    /// executed back to back to move a value by more than its step).
    uint256 internal constant PARAMS_INTERVAL_SEC = 1 hours;
    /// @notice Series this close to expiry (or past it, unsettled) have their intrinsic value kept in quote
    /// for the claims (`claimReserve`).
    uint256 internal constant CLAIM_RESERVE_WINDOW_SEC = 1 days;

    /// @notice The cached aggregates and where they were marked (see the library's notice).
    struct Marks {
        uint256 spotWad;
        uint256 markedAt;
        /// @dev The marks may stand in for a re-mark until this time (exclusive); markedAt when they may not
        /// (a series outside the pricer's margin or at expiry: every valuation then re-marks).
        uint256 validUntil;
        uint256 volEpoch;
        uint256 markWad;
        int256 optionDeltaWad;
        uint256 gammaCoefWad;
        uint256 thetaCoefWad;
        uint256 strikeOpenWad;
        uint256 vegaRootWad;
        uint256 openWad;
        /// @dev The book in the two stress scenarios (see the library's notice): exact at a re-mark, upper
        /// bounds after trades.
        uint256 stressUpWad;
        uint256 stressDownWad;
        /// @dev No series with open interest expires before this time (unix seconds; stored as whole hours after
        /// `markedAt`, rounded down, so never later than the truth): the claims' reserve skips its loop over the
        /// live series while this is beyond its window. A re-mark sets it, a trade that opens interest lowers it.
        uint256 nearestExpiry;
        /// @dev Not a mark: slot 7 of the vault's `Stored` (the payouts owed and the record of the hedge,
        /// `recordHedge`), read with the marks (`_current`) for the valuation's `hedgePosition`.
        uint256 hedgeRecord;
    }

    /// @notice The marks in the vault's storage (six slots), with two of the vault's own fields that every
    /// action reads where the marks are read anyway: the reentrancy lock and the pause flag in the head
    /// slot, the trading fees owed (quote units) in the last slot's high half. `_store` keeps all three.
    struct Stored {
        uint104 spotWad;
        uint40 markedAt;
        uint40 validUntil;
        uint32 volEpoch;
        uint8 lock;
        bool paused;
        /// @dev An oracle outage is reported (`outageSince` in slot 6 says since when): a flag in the head
        /// slot, so that actions without an outage read no other slot.
        bool outage;
        /// @dev `Marks.nearestExpiry` as whole hours after `markedAt` (0xFFFF: none within 7 years).
        uint16 nearestExpiryHours;
        uint128 markWad;
        int128 optionDeltaWad;
        uint128 gammaCoefWad;
        uint128 thetaCoefWad;
        uint128 strikeOpenWad;
        uint128 vegaRootWad;
        uint128 openWad;
        uint128 stressUpWad;
        uint128 stressDownWad;
        uint128 feesOwed;
        /// @dev Slot 6, which `_store` never writes: when an oracle outage was reported (0: none; a re-mark
        /// clears it), when the vault was paused, when the parameters last changed, and the two exit
        /// delays of `RiskParams` (read on the exit paths only).
        uint40 outageSince;
        uint40 pausedAt;
        uint40 paramsChangedAt;
        uint32 outageExitDelaySec;
        uint32 maxPauseSec;
        /// @dev Slot 7, which every valuation reads (the payouts owed enter the liabilities): the payouts owed
        /// to holders of settled series (quote units), and the vault's record of its hedge (`hedgePosition`):
        /// `hedgeLongKnown` when the last order of the vault left the hedge long with no lending position, then
        /// `hedgeLongWad` is that hedge (underlying wad). No copy of `IHedger.canShort`: it enters only the hedge
        /// target, which only the upkeep computes, from the hedger's own position (`hedgePosition`). `inUse` is
        /// always set (constructor, `recordHedge`): the slot is never cleared, so that its later writes (a record,
        /// a settlement's payouts) rewrite a non-zero slot (2,900 gas) instead of creating one (20,000).
        uint128 payoutsOwed;
        uint112 hedgeLongWad;
        bool hedgeLongKnown;
        bool inUse;
    }

    /// @notice The vault's risk parameters in storage: `IOptionVault.RiskParams` with the vega limit of
    /// `ExposureLimits` and the new fields packed into the two slots a trade reads.
    struct StoredRisk {
        uint64 hfFloorWad;
        uint16 spotShockUpBps;
        uint16 spotShockDownBps;
        uint64 volShockWad;
        uint16 spreadBps;
        uint16 feeBps;
        uint32 tradingCutoffSec;
        uint8 maxLiveSeries;
        uint16 minPremiumBps;
        int64 rateWad;
        uint16 cacheSpotBandBps;
        uint32 cacheMaxAgeSec;
        uint128 maxVegaWad;
        uint16 feedDeviationBps;
    }

    /// @notice `IOptionVault.HedgeParams` in storage, with the time of the last hedge in its second slot's free
    /// bits: an upkeep reads that slot for the slippage bound anyway, and writes the time there.
    struct StoredHedge {
        uint112 deltaBandWad;
        uint112 dustDeltaWad;
        uint32 hedgeIntervalSec;
        uint16 maxSlippageBps;
        uint16 maxNavLossBps;
        /// @dev Block timestamp (below 2^40).
        uint40 lastHedgeTime;
    }

    /// @notice `ExposureLimits` but the vega limit (one slot).
    struct StoredLimits {
        uint112 maxOpenInterestWad;
        uint112 maxNetDeltaWad;
    }

    /// @notice What marking needs besides the series.
    struct Env {
        IOptionPricer pricer;
        IVolatilityOracle volOracle;
        IPriceOracle priceOracle;
        int256 rateWad;
        uint256 maxAgeSec;
        uint256 spotBandBps;
        /// @dev The stress scenarios: spot x (1 + up) and spot x (1 - down), each with vol + volShock.
        uint256 shockUpBps;
        uint256 shockDownBps;
        uint256 volShockWad;
        /// @dev Trades are priced at the spot moved this far against the trader (`tradeSpot`).
        uint256 deviationBps;
        /// @dev A hedge's marks are also stale when the book's delta may have drifted more than this since
        /// the mark (gammaCoef |S - S0| / min(S, S0), `isStale`): the hedge targets the delta at the current
        /// spot. 0 for every other action. Non-zero (the upkeep's book) also values the hedge with the hedger's
        /// own `position` even when the vault's record knows it (`hedgePosition`): the order that follows trades
        /// from the hedger's real position.
        uint256 maxDeltaDriftWad;
    }

    /// @dev Per-expiry values shared by the series of one expiry, and the volatility of the series being
    /// priced (`_setSeriesVol`).
    struct Expiry {
        uint256 expiry;
        uint256 timeSec;
        /// @dev The series' volatility (the expiry's at-the-money one until `_setSeriesVol`).
        uint256 volWad;
        /// @dev The expiry's posted slice (`IVolatilityOracle.sliceUntil`): sigma(k) = sqrt(w(k) / postTimeSec),
        /// clamped to [minVolWad, maxVolWad]; b = 0: every strike at `atmVolWad`.
        uint256 atmVolWad;
        uint256 postTimeSec;
        uint256 minVolWad;
        uint256 maxVolWad;
        ISviMath.SviSlice slice;
        /// @dev floor and ceil of sqrt(tau) in wad.
        uint256 rootDownWad;
        uint256 rootUpWad;
        /// @dev An expiry that has passed: its settlement price once the feed has the round (0 before).
        uint256 settlementPriceWad;
    }

    /// @notice The book of a state-changing action: fresh marks and the spot (the feed price, checked without
    /// the TWAP, when the stored marks hold; otherwise the fully checked spot, TWAP cross-check included, and a
    /// full re-mark, stored: event `BookMarked`), valued (`_value`) at that spot with the vault's
    /// `quoteBalance` and `hedger`'s position there (`hedgePosition`).
    /// `fresh`: not re-marked; `reusable`: the marks have open interest and may stand in for a re-mark later
    /// (a re-mark alone is then worth an upkeep); when and until when the marks hold.
    function actionBook(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        uint256 quoteBalance,
        IHedger hedger
    ) external returns (BookMath.Book memory, bool, bool, uint256, uint256) {
        (Marks memory m, uint256 spotWad, bool fresh) = _current(st, series, live, env);
        if (!fresh) _storeRemark(st, m);
        return _bookOf(st, m, spotWad, fresh, env, quoteBalance, hedger);
    }

    /// @notice What `actionBook` would return now, without storing a re-mark.
    function viewBook(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        uint256 quoteBalance,
        IHedger hedger
    ) external view returns (BookMath.Book memory, bool, bool, uint256, uint256) {
        (Marks memory m, uint256 spotWad, bool fresh) = _current(st, series, live, env);
        return _bookOf(st, m, spotWad, fresh, env, quoteBalance, hedger);
    }

    function _bookOf(
        Stored storage st,
        Marks memory m,
        uint256 spotWad,
        bool fresh,
        Env memory env,
        uint256 quoteBalance,
        IHedger hedger
    ) private view returns (BookMath.Book memory b, bool, bool reusable, uint256, uint256) {
        b = _bookAt(m, spotWad, env, quoteBalance, hedger);
        reusable = m.validUntil > m.markedAt && m.openWad != 0;
        return (b, fresh, reusable, m.markedAt, m.validUntil);
    }

    /// @dev `_value` with `hedger`'s position at `spotWad` (`hedgePosition` of the marks' `hedgeRecord`; none when
    /// `hedger` is zero).
    function _bookAt(Marks memory m, uint256 spotWad, Env memory env, uint256 quoteBalance, IHedger hedger)
        private
        view
        returns (BookMath.Book memory)
    {
        IHedger.Position memory p;
        if (address(hedger) != address(0)) {
            p = hedgePosition(m.hedgeRecord, hedger, spotWad, env.shockUpBps, env.maxDeltaDriftWad != 0);
        }
        return _value(m, spotWad, env.rateWad, quoteBalance, p);
    }

    /// @notice The hedge position a valuation uses: while the vault's record knows the hedge (`recordHedge`:
    /// the last order left it long, with no lending position) and `readHedger` is false, the recorded long
    /// hedge, no call to the hedger (`canShort` false: a position from the record values the book, it never
    /// enters the hedge target, `BookMath.hedgeTarget`, which the upkeep computes from the hedger's position read
    /// with `readHedger`); otherwise `hedger.position` at `spotWad` and the spot-up shock.
    /// @dev Exact while the hedge is long: a long position changes only through the vault's orders
    /// (`IHedger`), each of which records it, except that underlying given to the hedger (a donation) is
    /// counted from the next order on, never before (docs/option-vault.md). A short position (debt and
    /// collateral with their interest, third-party repayments and supplies, liquidations) is always read.
    function hedgePosition(uint256 record, IHedger hedger, uint256 spotWad, uint256 shockUpBps, bool readHedger)
        internal
        view
        returns (IHedger.Position memory p)
    {
        // `record`: slot 7 (`Stored`: hedgeLongWad in bits 128-239, hedgeLongKnown bit 240, inUse bit 248)
        if (!readHedger && (record >> 240) & 1 == 1) {
            p.hedgeWad = int256((record >> 128) & type(uint112).max);
        } else {
            p = hedger.position(spotWad, shockUpBps);
        }
    }

    /// @notice Record the position `p` an order of the vault left (`hedgePosition`): known when it is long
    /// (or flat) with no collateral and fits the record's 112 bits; otherwise not known (every valuation then
    /// reads the hedger). Keeps the payouts owed.
    function recordHedge(Stored storage st, IHedger.Position memory p) internal {
        int256 h = p.hedgeWad;
        bool known = h >= 0 && p.collateral == 0 && uint256(h) <= type(uint112).max;
        // slot 7: payoutsOwed (bits 0-127, kept), hedgeLongWad (128-239), hedgeLongKnown (240), inUse (248, always
        // set); written only when it changes (an order that leaves a short position short rewrites nothing)
        uint256 fields = (known ? (uint256(h) << 128) | (1 << 240) : 0) | (1 << 248);
        assembly ("memory-safe") {
            let slot := add(st.slot, 7)
            let word := sload(slot)
            let next := or(and(word, 0xffffffffffffffffffffffffffffffff), fields)
            if iszero(eq(word, next)) { sstore(slot, next) }
        }
    }

    /// @dev Store marks `m`, keeping the lock and the pause flag. Reverts `BookTooLarge` with the largest
    /// value when a field does not fit (the spot 104 bits, the others 128).
    function _store(Stored storage st, Marks memory m) private {
        int256 delta = m.optionDeltaWad;
        uint256 unsignedOr = m.markWad | m.gammaCoefWad | m.thetaCoefWad | m.strikeOpenWad | m.vegaRootWad
            | m.openWad | m.stressUpWad | m.stressDownWad;
        if (
            unsignedOr >> 128 != 0 || m.spotWad >> 104 != 0 || delta < type(int128).min
                || delta > type(int128).max
        ) {
            revert IOptionVault.BookTooLarge(_largest(m));
        }
        // times are block timestamps (or one year after), below 2^40; the epoch is compared modulo 2^32
        uint256 hours_ = m.nearestExpiry <= m.markedAt ? 0 : (m.nearestExpiry - m.markedAt) / 1 hours;
        if (hours_ > 0xFFFF) hours_ = 0xFFFF;
        uint256 head = m.spotWad | (uint256(uint40(m.markedAt)) << 104) | (uint256(uint40(m.validUntil)) << 144)
            | (uint256(uint32(m.volEpoch)) << 184) | (hours_ << 240);
        uint256 w1 = m.markWad | (uint256(uint128(int128(delta))) << 128);
        uint256 w2 = m.gammaCoefWad | (m.thetaCoefWad << 128);
        uint256 w3 = m.strikeOpenWad | (m.vegaRootWad << 128);
        uint256 w4 = m.openWad | (m.stressUpWad << 128);
        uint256 w5 = m.stressDownWad;
        assembly ("memory-safe") {
            // `Stored`: the head (spot, markedAt, validUntil, epoch, then the lock, pause and outage flags in
            // bits 216-239, kept, then the nearest expiry's hours), then two 128-bit fields per slot, low field first (the fees owed, kept)
            let base := st.slot
            sstore(base, or(and(sload(base), shl(216, 0xffffff)), head))
            sstore(add(base, 1), w1)
            sstore(add(base, 2), w2)
            sstore(add(base, 3), w3)
            sstore(add(base, 4), w4)
            let last := add(base, 5)
            sstore(last, or(and(sload(last), shl(128, 0xffffffffffffffffffffffffffffffff)), w5))
        }
    }

    /// @dev The largest magnitude among the marks' fields (the error's context).
    function _largest(Marks memory m) private pure returns (uint256 x) {
        int256 delta = m.optionDeltaWad;
        x = uint256(delta < 0 ? -delta : delta);
        uint256[9] memory fields = [
            m.spotWad, m.markWad, m.gammaCoefWad, m.thetaCoefWad, m.strikeOpenWad, m.vegaRootWad, m.openWad,
            m.stressUpWad, m.stressDownWad
        ];
        for (uint256 i = 0; i < 9; ++i) {
            if (fields[i] > x) x = fields[i];
        }
    }

    /// @notice The stored marks are stale when past their validity (age, volatility freshness, an expiry,
    /// or not reusable at all), when the spot left the band around the marked spot, or when the volatility
    /// oracle's epoch changed.
    function isStale(Marks memory m, uint256 spotWad, Env memory env) public view returns (bool) {
        if (block.timestamp >= m.validUntil) return true;
        uint256 diff = spotWad > m.spotWad ? spotWad - m.spotWad : m.spotWad - spotWad;
        if (diff * BPS > m.spotWad * env.spotBandBps) return true;
        if (env.maxDeltaDriftWad != 0 && diff != 0) {
            uint256 sMin = spotWad < m.spotWad ? spotWad : m.spotWad;
            if (m.gammaCoefWad.mulDivUp(diff, sMin) > env.maxDeltaDriftWad) return true;
        }
        return uint32(env.volOracle.epoch()) != uint32(m.volEpoch);
    }

    /// @notice Quote to keep for claims (quote units, up): sum of open x intrinsic value at `spotWad` over
    /// the live series that expire within `CLAIM_RESERVE_WINDOW_SEC` or have expired unsettled. Withdrawals
    /// and hedge purchases may not spend it, so that the quote for an in-the-money expiry's claims is in
    /// the vault when it settles. The loop runs only when the stored marks' nearest expiry with open
    /// interest (`Marks.nearestExpiry`, never later than the truth) lies within the window.
    function claimReserve(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        uint256 spotWad,
        uint256 quoteScale
    ) external view returns (uint256) {
        return _claimReserve(st, series, live, spotWad, quoteScale);
    }

    function _claimReserve(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        uint256 spotWad,
        uint256 quoteScale
    ) private view returns (uint256) {
        uint256 horizon = block.timestamp + CLAIM_RESERVE_WINDOW_SEC;
        // no open interest expires within the window (the stored bound is never later than the truth)
        if (uint256(st.markedAt) + uint256(st.nearestExpiryHours) * 1 hours > horizon) return 0;
        uint256 reserveWad;
        uint256 n = live.length;
        for (uint256 i = 0; i < n; ++i) {
            IOptionVault.Series memory s = series[live[i]];
            if (s.expiry > horizon || s.openInterestWad == 0) continue;
            reserveWad += (uint256(s.openInterestWad) * intrinsicWad(s, spotWad)).divUp(WAD);
        }
        return reserveWad.divUp(quoteScale);
    }

    function _current(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env
    ) private view returns (Marks memory m, uint256 spotWad, bool fresh) {
        spotWad = env.priceOracle.feedSpotWad();
        m = _load(st);
        fresh = !isStale(m, spotWad, env);
        if (!fresh) {
            spotWad = env.priceOracle.spotWad();
            m = _remark(series, live, env, spotWad);
        }
        uint256 record;
        assembly ("memory-safe") {
            record := sload(add(st.slot, 7))
        }
        m.hedgeRecord = record;
    }

    function _load(Stored storage st) private view returns (Marks memory m) {
        m.spotWad = st.spotWad;
        m.markedAt = st.markedAt;
        m.validUntil = st.validUntil;
        m.volEpoch = st.volEpoch;
        m.markWad = st.markWad;
        m.optionDeltaWad = st.optionDeltaWad;
        m.gammaCoefWad = st.gammaCoefWad;
        m.thetaCoefWad = st.thetaCoefWad;
        m.strikeOpenWad = st.strikeOpenWad;
        m.vegaRootWad = st.vegaRootWad;
        m.openWad = st.openWad;
        m.stressUpWad = st.stressUpWad;
        m.stressDownWad = st.stressDownWad;
        m.nearestExpiry = m.markedAt + uint256(st.nearestExpiryHours) * 1 hours;
    }

    function _storeRemark(Stored storage st, Marks memory m) private {
        _store(st, m);
        // the oracles answered: a reported outage is over
        if (st.outage) (st.outage, st.outageSince) = (false, 0);
        emit IOptionVault.BookMarked(m.spotWad, m.markWad, m.optionDeltaWad, m.validUntil);
    }

    /// @notice A full re-mark at `spotWad` and now: prices every live series with open interest.
    /// Reverts with the volatility oracle's errors when a needed post is missing or stale (fail closed).
    function _remark(
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        uint256 spotWad
    ) private view returns (Marks memory m) {
        m.spotWad = spotWad;
        m.markedAt = block.timestamp;
        m.validUntil = block.timestamp + env.maxAgeSec;
        m.volEpoch = env.volOracle.epoch();
        m.nearestExpiry = type(uint256).max;
        Expiry memory e;
        uint256 n = live.length;
        for (uint256 i = 0; i < n; ++i) {
            IOptionVault.Series memory s = series[live[i]];
            if (s.openInterestWad == 0) continue;
            if (s.expiry < m.nearestExpiry) m.nearestExpiry = s.expiry;
            if (s.expiry != e.expiry) _loadExpiry(e, m, env, s.expiry);
            _markSeries(m, e, env, s);
        }
    }

    /// @notice A trade of series `s` (its stored open interest) to `newOpenWad`, in one call: fresh marks
    /// as `actionBook` gives them, the posted volatility of the series' expiry, and the Black-Scholes
    /// price of one option now at the trade's spot (`tradeSpot`: the action's spot moved by the feed
    /// deviation against the trader; reverts outside the library's domain). The series is then priced at
    /// the marks' spot and time and in both stress scenarios, and its terms moved, so that every aggregate,
    /// the stress scenarios included, stays that of a full re-mark at that point to the wei; the marks are
    /// stored (event `BookMarked` first when they were re-marked). Returns the valuation at the action's
    /// spot (`_value`) with `hedger`'s position (none when `hedger` is zero) and a zero quote balance (the
    /// vault fills it in after its token transfer), and the
    /// series' stress value per option: max(stressUp, stressDown), its worst scenario value (wad), which
    /// bounds what one option adds to the liabilities and the stress margin together.
    function trade(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 newOpenWad,
        IHedger hedger
    ) external returns (uint256 priceWad, uint256 stressPerOptionWad, BookMath.Book memory) {
        (Marks memory m, uint256 spotWad, bool fresh, Expiry memory e) = _tradeMarks(st, series, live, env, s);
        if (!fresh) emit IOptionVault.BookMarked(m.spotWad, m.markWad, m.optionDeltaWad, m.validUntil);
        (priceWad, stressPerOptionWad) = _moveSeries(m, e, env, s, newOpenWad, spotWad);
        _store(st, m);
        return (priceWad, stressPerOptionWad, _bookAt(m, spotWad, env, 0, hedger));
    }

    /// @notice What a buy needs besides the stored state (`buy`): the order and the vault's immutables.
    struct BuyOrder {
        uint256 seriesId;
        uint256 amountWad;
        uint256 maxPremium;
        IERC20 quote;
        IHedger hedger;
        uint256 quoteScale;
        uint256 underlyingScale;
        /// @dev The series' open interest after the buy (set by `buy`: 0 in).
        uint256 openWad;
        /// @dev The vault's pricer and oracles (`Env`, which `buy` builds with the stored risk parameters).
        IOptionPricer pricer;
        IVolatilityOracle volOracle;
        IPriceOracle priceOracle;
    }

    /// @notice `Env` of a trade (no delta drift): the order's pricer and oracles and the stored risk parameters
    /// (`OptionVault._env`).
    function _buyEnv(StoredRisk storage r, BuyOrder memory o) private view returns (Env memory) {
        return Env(
            o.pricer,
            o.volOracle,
            o.priceOracle,
            r.rateWad,
            r.cacheMaxAgeSec,
            r.cacheSpotBandBps,
            r.spotShockUpBps,
            r.spotShockDownBps,
            r.volShockWad,
            r.feedDeviationBps,
            0
        );
    }

    /// @notice A buy of `o.amountWad` options of series `o.seriesId` (`OptionVault.buy`, which checks the receiver
    /// before, and mints the options and emits `Bought` after), in the vault's order: the series and the amount
    /// (`_tradable`), the open interest cap, `trade` to the new open interest, the premium and fee (`buyCost`),
    /// the buyer's bound, the open interest and the fees owed written, the premium and fee pulled from
    /// `msg.sender`, then the book with the vault's quote balance after it: no short put while the hedger
    /// de-risks, and the new risk within the floor and limits (`_checkNewRisk`). The whole buy in the library:
    /// the book, the `Env` and the series never cross the ABI, and the vault keeps its code size.
    function buy(
        Stored storage st,
        StoredRisk storage r,
        StoredLimits storage sl,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        BuyOrder memory o
    ) external returns (uint256 premium, uint256 fee) {
        IOptionVault.Series memory s = _tradable(r, series, o);
        o.openWad = s.openInterestWad + o.amountWad;
        uint256 maxOpenWad = sl.maxOpenInterestWad;
        if (o.openWad > maxOpenWad) revert IOptionVault.OpenInterestCap(o.seriesId, o.openWad, maxOpenWad);
        (uint256 priceWad, uint256 stressWad, BookMath.Book memory b) = _buyTrade(st, r, series, live, s, o);
        (premium, fee) = _payBuy(st, r, series, o, priceWad, stressWad);
        b.quoteBalance = o.quote.balanceOf(address(this));
        // a hedger de-risking its lending position takes no more short puts (their hedge is a short)
        if (b.deRisking && !s.isCall) revert IOptionVault.HedgerDeRisking(o.seriesId);
        _checkNewRisk(st, r, sl, b, o);
    }

    /// @dev The series, if it can be traded now in a non-zero amount (`OptionVault._tradable`, the same checks in
    /// the same order: an expiry is settled only once it has passed, so a series before its expiry is not
    /// settled).
    function _tradable(
        StoredRisk storage r,
        mapping(uint256 => IOptionVault.Series) storage series,
        BuyOrder memory o
    ) private view returns (IOptionVault.Series memory s) {
        if (o.amountWad == 0) revert IOptionVault.ZeroAmount();
        s = series[o.seriesId];
        if (s.expiry == 0) revert IOptionVault.UnknownSeries(o.seriesId);
        if (block.timestamp >= s.expiry) revert IOptionVault.SeriesExpired(o.seriesId, s.expiry);
        uint256 cutoff = r.tradingCutoffSec;
        if (block.timestamp + cutoff >= s.expiry) revert IOptionVault.TradingCutoff(o.seriesId, s.expiry, cutoff);
    }

    /// @dev `trade` of `buy`, to `o.openWad` with `o.hedger` (`Env` from the order and the stored risk parameters).
    function _buyTrade(
        Stored storage st,
        StoredRisk storage r,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        IOptionVault.Series memory s,
        BuyOrder memory o
    ) private returns (uint256 priceWad, uint256 stressWad, BookMath.Book memory) {
        Env memory env = _buyEnv(r, o);
        (Marks memory m, uint256 spotWad, bool fresh, Expiry memory e) = _tradeMarks(st, series, live, env, s);
        if (!fresh) emit IOptionVault.BookMarked(m.spotWad, m.markWad, m.optionDeltaWad, m.validUntil);
        (priceWad, stressWad) = _moveSeries(m, e, env, s, o.openWad, spotWad);
        _store(st, m);
        return (priceWad, stressWad, _bookAt(m, spotWad, env, 0, o.hedger));
    }

    /// @dev `buy`'s premium and fee, the buyer's bound, the open interest and the fees owed written, the premium
    /// and fee pulled from `msg.sender`.
    function _payBuy(
        Stored storage st,
        StoredRisk storage r,
        mapping(uint256 => IOptionVault.Series) storage series,
        BuyOrder memory o,
        uint256 priceWad,
        uint256 stressWad
    ) private returns (uint256 premium, uint256 fee) {
        (premium, fee) = buyCost(r, o.quoteScale, priceWad, stressWad, o.amountWad);
        if (premium + fee > o.maxPremium) revert IOptionVault.PremiumAboveMax(premium + fee, o.maxPremium);
        // openWad <= maxOpenInterestWad, a uint112
        series[o.seriesId].openInterestWad = uint112(o.openWad);
        if (fee != 0) st.feesOwed = SafeCast.toUint128(st.feesOwed + fee);
        o.quote.safeTransferFrom(msg.sender, address(this), premium + fee);
    }

    /// @dev New risk (a sale of options) must leave HF at or above the floor and the exposure within limits.
    function _checkNewRisk(
        Stored storage st,
        StoredRisk storage r,
        StoredLimits storage sl,
        BookMath.Book memory b,
        BuyOrder memory o
    ) private view {
        BookMath.Ctx memory c = BookMath.Ctx(
            o.quoteScale, o.underlyingScale, st.payoutsOwed, st.feesOwed, r.hfFloorWad, r.spotShockUpBps,
            r.spotShockDownBps, 0
        );
        uint256 hf = b.healthFactor(c);
        if (hf < c.hfFloorWad) revert IOptionVault.HealthFactorTooLow(hf, c.hfFloorWad);
        // with a long-only hedger, a positive book delta always counts against the limit
        int256 netDeltaWad = b.bookDeltaWad + b.hedgeWad;
        uint256 absNet = netDeltaWad < 0 ? uint256(-netDeltaWad) : uint256(netDeltaWad);
        if (absNet > sl.maxNetDeltaWad) revert IOptionVault.NetDeltaLimit(netDeltaWad, sl.maxNetDeltaWad);
        if (b.vegaWad > r.maxVegaWad) revert IOptionVault.VegaLimit(b.vegaWad, r.maxVegaWad);
    }

    /// @notice premium = ceil(amount x max(price x (1 + spread), stress x floor x minPremium)); fee =
    /// ceil(premium x feeBps), quote units; `stressWad` is the series' worst scenario value per option
    /// (`trade`): one option takes at most floor x it from what depositors may withdraw, so
    /// locking withdrawals costs at least minPremium of what is locked. The library's prices are below 1e30 <
    /// 2^100, stress below 2^106, floor x minPremium below 2^76, amounts within the open interest cap (1e30): the
    /// products fit (a quote of a larger amount reverts). (`buy` and the vault's `quoteBuy`.)
    function buyCost(StoredRisk storage r, uint256 quoteScale, uint256 priceWad, uint256 stressWad, uint256 amountWad)
        internal
        view
        returns (uint256 premium, uint256 fee)
    {
        uint256 perOption = priceWad * (BPS + r.spreadBps);
        uint256 minimum = (stressWad * (uint256(r.hfFloorWad) * r.minPremiumBps)).divUp(WAD);
        if (minimum > perOption) perOption = minimum;
        premium = (amountWad * perOption).divUp(WAD * BPS * quoteScale);
        fee = (premium * r.feeBps).divUp(BPS);
    }

    /// @dev Fresh marks (`_current`) and the traded series' expiry values: fresh marks are of the current
    /// volatility epoch, so the post read here is the one the marks use.
    function _tradeMarks(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        IOptionVault.Series memory s
    ) private view returns (Marks memory m, uint256 spotWad, bool fresh, Expiry memory e) {
        (m, spotWad, fresh) = _current(st, series, live, env);
        _setExpiry(e, m, s.expiry, env.volOracle.sliceUntil(s.expiry));
        _setSeriesVol(e, m, env, s);
    }

    /// @notice The volatility of series `s` in marks `m`: its expiry's slice at k = ln(K / F0) with the
    /// forward F0 = S0 e^{r tau} of the marks (spot S0 clamped to [K / 100, 100 K] and [1e-6, 1e12], the
    /// pricer's domain, and k to |k| <= 5), sigma(k) = floor(sqrt(floor(w(k) x year / postTimeSec))) as
    /// `SviMath.volAtLogMoneyness` gives it, clamped to the oracle's [minVolWad, maxVolWad] (w <= 0: the
    /// minimum). Held for every evaluation of the series made from these marks (the trade, the mark, both
    /// stress scenarios: sticky strike between re-marks), so each is a Black-Scholes price at one volatility
    /// and the cached book's bounds hold as with one volatility per expiry. A flat slice: the posted
    /// volatility itself, no logarithm. Expired (tau = 0): left as it is.
    function _setSeriesVol(Expiry memory e, Marks memory m, Env memory env, IOptionVault.Series memory s)
        private
        pure
    {
        if (e.timeSec == 0) return;
        if (e.slice.bWad == 0) {
            e.volWad = e.atmVolWad;
            return;
        }
        uint256 strikeWad = s.strikeWad;
        uint256 spotWad = m.spotWad;
        int256 kWad;
        uint256 v;
        // unchecked: every bound is written beside its operation (the values are those of checked arithmetic)
        unchecked {
            // strike in [1e12, 2^96) (listing): no overflow, and the bounds below are ordered
            uint256 lo = (strikeWad + 99) / 100;
            if (lo < 1e12) lo = 1e12;
            uint256 hi = strikeWad * 100;
            if (hi > 1e30) hi = 1e30;
            spotWad = spotWad < lo ? lo : (spotWad > hi ? hi : spotWad);
            // the clamps above put both prices in [1e12, 1e30] and their ratio in [0.01, 100]: `logMoneynessWad`'s
            // range check cannot fail, |ln| < 5e18. |r| <= 0.5e18, tau < 2^40 s: |r tau| < 2^100, the difference too
            kWad = SviMath.logMoneynessInRangeWad(strikeWad, spotWad) - env.rateWad * int256(e.timeSec)
                / int256(YEAR_SEC);
            if (kWad > 5e18) kWad = 5e18;
            if (kWad < -5e18) kWad = -5e18;
            int256 w36 = SviMath.varianceDown(e.slice, kWad);
            // a checked slice: 0 < w36 < 2^128, year < 2^25 (the product < 2^153), postTimeSec >= 1 (the oracle's;
            // a zero divisor still reverts)
            if (w36 > 0) v = FixedPointMath.sqrt(uint256(w36) * YEAR_SEC / e.postTimeSec);
        }
        e.volWad = v < e.minVolWad ? e.minVolWad : (v > e.maxVolWad ? e.maxVolWad : v);
    }

    /// @notice The spot a trade is priced at: `spotWad` moved by `deviationBps` in the direction that
    /// raises what the trader pays (a buy: a call up, a put down) or lowers what the trader gets (a sale:
    /// a call down, a put up), rounded against the trader. Feed rounds lag the market by up to the feed's
    /// deviation threshold, so a round trip across one round cannot profit (docs/option-vault.md).
    function tradeSpot(uint256 spotWad, uint256 deviationBps, bool isCall, bool isBuy) internal pure returns (uint256) {
        // spot < 2^104 (oracle answers are int256 scaled to wad; the book stores them in 104 bits), bps <= 1e4
        if (isCall == isBuy) return (spotWad * (BPS + deviationBps)).divUp(BPS);
        return spotWad * (BPS - deviationBps) / BPS;
    }

    /// @dev A re-mark's terms of series `s`: at (S0, t0) and in both stress scenarios.
    function _markSeries(Marks memory m, Expiry memory e, Env memory env, IOptionVault.Series memory s) private view {
        uint256 settledWad = e.settlementPriceWad;
        if (settledWad != 0) {
            // expired with its settlement price known: the payout, in every scenario, with no delta
            uint256 payoutWad = intrinsicWad(s, settledWad);
            _addTerms(m, e, s, 0, s.openInterestWad, payoutWad, 0);
            m.stressUpWad += _up(s.openInterestWad, payoutWad);
            m.stressDownWad += _up(s.openInterestWad, payoutWad);
            return;
        }
        _setSeriesVol(e, m, env, s);
        (uint256 priceWad, int256 deltaWad, bool insideMargin) =
            env.pricer.markAndDelta(m.spotWad, s.strikeWad, e.timeSec, e.volWad, env.rateWad, s.isCall);
        if (!insideMargin) m.validUntil = m.markedAt;
        _addTerms(m, e, s, 0, s.openInterestWad, priceWad, deltaWad);
        _addStressExact(m, e, env, s);
    }

    /// @dev Moves the series' terms from its stored open interest to `newOpenWad` (`_addTerms` and the two
    /// stress terms, ceil(open x scenario price) as a re-mark adds them); one pricer call gives them and the
    /// trade's price at the trade's spot (`tradeSpot` of `spotWad`) and now.
    function _moveSeries(
        Marks memory m,
        Expiry memory e,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 newOpenWad,
        uint256 spotWad
    ) private view returns (uint256 priceWad, uint256 stressPerOptionWad) {
        IOptionPricer.TradePrices memory p = env.pricer.tradePrices(_tradeQuote(m, e, env, s, newOpenWad, spotWad));
        if (!p.insideMargin) m.validUntil = m.markedAt;
        uint256 oldOpenWad = s.openInterestWad;
        if (newOpenWad != 0 && s.expiry < m.nearestExpiry) m.nearestExpiry = s.expiry;
        _addTerms(m, e, s, oldOpenWad, newOpenWad, p.markWad, p.deltaWad);
        m.stressUpWad = m.stressUpWad + _up(newOpenWad, p.stressUpWad) - _up(oldOpenWad, p.stressUpWad);
        m.stressDownWad = m.stressDownWad + _up(newOpenWad, p.stressDownWad) - _up(oldOpenWad, p.stressDownWad);
        stressPerOptionWad = p.stressUpWad > p.stressDownWad ? p.stressUpWad : p.stressDownWad;
        priceWad = p.priceWad;
    }

    function _tradeQuote(
        Marks memory m,
        Expiry memory e,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 newOpenWad,
        uint256 spotWad
    ) private view returns (IOptionPricer.TradeQuote memory q) {
        (q.upSpotWad, q.downSpotWad) = _stressSpots(m, env);
        q.spotWad = tradeSpot(spotWad, env.deviationBps, s.isCall, newOpenWad > s.openInterestWad);
        // the vault trades (and quotes) a series only before its expiry (`OptionVault._tradable`): no underflow
        unchecked {
            q.timeSec = s.expiry - block.timestamp;
        }
        q.markSpotWad = m.spotWad;
        q.markTimeSec = e.timeSec;
        q.strikeWad = s.strikeWad;
        q.volWad = e.volWad;
        q.rateWad = env.rateWad;
        q.isCall = s.isCall;
        q.stressVolWad = e.volWad + env.volShockWad;
    }

    function _loadExpiry(Expiry memory e, Marks memory m, Env memory env, uint256 expiry) private view {
        if (expiry > m.markedAt) {
            _setExpiry(e, m, expiry, env.volOracle.sliceUntil(expiry));
        } else {
            // at expiry the library ignores volatility (intrinsic value); any in-domain value does
            e.expiry = expiry;
            (e.timeSec, e.volWad, e.rootDownWad, e.rootUpWad) = (0, WAD, 0, 0);
            m.validUntil = m.markedAt;
            // the settlement round is fixed on chain once the feed has it: value at it, not at the spot
            uint80 roundId = env.priceOracle.firstRoundAtOrAfter(expiry);
            e.settlementPriceWad = roundId == 0 ? 0 : env.priceOracle.settlementPriceWad(roundId, expiry);
        }
    }

    /// @dev Expiry values; the marks stay valid no longer than the expiry and the volatility's freshness.
    function _setExpiry(Expiry memory e, Marks memory m, uint256 expiry, IVolatilityOracle.SliceRead memory r)
        private
        pure
    {
        e.expiry = expiry;
        e.timeSec = expiry > m.markedAt ? expiry - m.markedAt : 0;
        (e.volWad, e.atmVolWad, e.postTimeSec) = (r.atmVolWad, r.atmVolWad, r.postTimeSec);
        (e.minVolWad, e.maxVolWad, e.slice) = (r.minVolWad, r.maxVolWad, r.slice);
        uint256 freshUntil = r.freshUntilSec;
        // timeSec < 2^40: tau in wad^2 < 2^140
        uint256 tauWad2 = e.timeSec * WAD * WAD / YEAR_SEC;
        e.rootDownWad = FixedPointMath.sqrt(tauWad2);
        e.rootUpWad = e.rootDownWad * e.rootDownWad == tauWad2 ? e.rootDownWad : e.rootDownWad + 1;
        uint256 until = expiry < freshUntil ? expiry : freshUntil;
        if (until < m.validUntil) m.validUntil = until;
        if (e.rootDownWad == 0) m.validUntil = m.markedAt;
    }

    /// @dev Adds term(newOpen) - term(oldOpen) of one series to every aggregate, from its price and delta at
    /// the marks' point (`IOptionPricer.markAndDelta`).
    function _addTerms(
        Marks memory m,
        Expiry memory e,
        IOptionVault.Series memory s,
        uint256 oldOpenWad,
        uint256 newOpenWad,
        uint256 priceWad,
        int256 deltaWad
    ) private pure {
        m.markWad = m.markWad + _up(newOpenWad, priceWad) - _up(oldOpenWad, priceWad);
        // open interest < 2^112 and |delta| <= 1e18: the products fit an int256
        m.optionDeltaWad += int256(newOpenWad) * deltaWad / int256(WAD) - int256(oldOpenWad) * deltaWad / int256(WAD);
        m.strikeOpenWad = m.strikeOpenWad + _up(newOpenWad, s.strikeWad) - _up(oldOpenWad, s.strikeWad);
        m.openWad = m.openWad + newOpenWad - oldOpenWad;
        if (e.rootDownWad == 0) return;
        // per option: 1 / (sigma sqrt(2 pi tau)), sigma / sqrt(2 pi tau), sqrt(tau) / sqrt(2 pi); all up
        // vol in [1e15, 1e19] and root >= 1 (tau >= 1 s): every intermediate < 2^200 (unchecked)
        uint256 gammaUnit;
        uint256 thetaUnit;
        uint256 vegaUnit;
        unchecked {
            gammaUnit = ((INV_SQRT_2PI_WAD_UP * WAD + e.volWad - 1) / e.volWad * WAD + e.rootDownWad - 1) / e.rootDownWad;
            thetaUnit = (INV_SQRT_2PI_WAD_UP * e.volWad + e.rootDownWad - 1) / e.rootDownWad;
            vegaUnit = (INV_SQRT_2PI_WAD_UP * e.rootUpWad + WAD - 1) / WAD;
        }
        m.gammaCoefWad = m.gammaCoefWad + _up(newOpenWad, gammaUnit) - _up(oldOpenWad, gammaUnit);
        m.thetaCoefWad = m.thetaCoefWad + _up(newOpenWad, thetaUnit) - _up(oldOpenWad, thetaUnit);
        m.vegaRootWad = m.vegaRootWad + _up(newOpenWad, vegaUnit) - _up(oldOpenWad, vegaUnit);
    }

    /// @dev The scenario spots: floor(S0 x (1 + up)) and floor(S0 x (1 - down)).
    function _stressSpots(Marks memory m, Env memory env) private pure returns (uint256 upWad, uint256 downWad) {
        // the marks' spot < 2^104 (stored), the shocks within [100, 9000] bps (`checkParameters`): unchecked
        unchecked {
            upWad = m.spotWad * (BPS + env.shockUpBps) / BPS;
            downWad = m.spotWad * (BPS - env.shockDownBps) / BPS;
        }
    }

    /// @dev A re-mark: the series' exact terms ceil(open x price) in both scenarios (the pricer at the
    /// scenario spot and the expiry's volatility + volShock, at the marks' time).
    function _addStressExact(Marks memory m, Expiry memory e, Env memory env, IOptionVault.Series memory s)
        private
        view
    {
        (uint256 upWad, uint256 downWad) = _stressSpots(m, env);
        uint256 vol = e.volWad + env.volShockWad;
        (uint256 pUp,,) = env.pricer.markAndDelta(upWad, s.strikeWad, e.timeSec, vol, env.rateWad, s.isCall);
        (uint256 pDown,,) = env.pricer.markAndDelta(downWad, s.strikeWad, e.timeSec, vol, env.rateWad, s.isCall);
        m.stressUpWad += _up(s.openInterestWad, pUp);
        m.stressDownWad += _up(s.openInterestWad, pDown);
    }

    /// @dev ceil(a x b / 1e18); open interest < 2^128 and the per-option values < 2^128: a x b + 1e18 < 2^256, so
    /// unchecked.
    function _up(uint256 a, uint256 b) private pure returns (uint256) {
        unchecked {
            return (a * b + WAD - 1) / WAD;
        }
    }

    /// @notice What `trade` would price now without storing anything: the trade's price per option and
    /// the series' stress per option (`quoteBuy`, `quoteSell`: the same figures as the trade in the same
    /// block).
    function quoteTrade(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        IOptionVault.Series memory s,
        bool isBuy
    ) external view returns (uint256 priceWad, uint256 stressPerOptionWad) {
        (Marks memory m, uint256 spotWad,, Expiry memory e) = _tradeMarks(st, series, live, env, s);
        uint256 newOpenWad = isBuy ? uint256(s.openInterestWad) + 1 : 0;
        return _moveSeries(m, e, env, s, newOpenWad, spotWad);
    }

    /// @notice The vault's quote balance and its hedger's position into book `b`.
    function _setBalances(BookMath.Book memory b, uint256 quoteBalance, IHedger.Position memory p) private pure {
        b.quoteBalance = quoteBalance;
        (b.hedgeWad, b.collateral, b.canShort, b.deRisking) = (p.hedgeWad, p.collateral, p.canShort, p.deRisking);
    }

    /// @notice The book at the stored marks' spot and time, read without any oracle: the conservative
    /// valuation of exit mode (`IOptionVault.exitMode`; `BookMath.navConservative`). The mark is the exact
    /// one of the marks, the stress scenarios as stored.
    function storedBook(Stored storage st, uint256 quoteBalance, IHedger.Position memory p)
        external
        view
        returns (BookMath.Book memory b)
    {
        Marks memory m = _load(st);
        b.spotWad = m.spotWad;
        b.markSpotWad = m.spotWad;
        _setBalances(b, quoteBalance, p);
        b.bookDeltaWad = -m.optionDeltaWad;
        b.gammaCoefWad = m.gammaCoefWad;
        b.vegaWad = (m.vegaRootWad * m.spotWad).divUp(WAD);
        (b.markUpWad, b.markDownWad, b.markWad) = (m.markWad, m.markWad, m.markWad);
        (b.stressUpWad, b.stressDownWad) = (m.stressUpWad, m.stressDownWad);
    }

    /// @notice Check and store the vault's parameters (`OptionVault.setParameters`): every hard bound
    /// (`checkParameters`); unless `initial` (the constructor), at most one change per
    /// `PARAMS_INTERVAL_SEC` (the first change after deployment may come at once) and each value-moving
    /// field within its step of the stored value (`checkSteps`). Invalidates the cached book
    /// (the rate, the shocks and the maximum age enter the marks). Emits `ParametersSet`.
    function storeParameters(
        Stored storage st,
        StoredRisk storage r,
        StoredLimits storage sl,
        StoredHedge storage sh,
        IOptionVault.RiskParams memory p,
        IOptionVault.ExposureLimits memory l,
        IOptionVault.HedgeParams memory h,
        bool initial
    ) external {
        checkParameters(p, l, h);
        if (!initial) {
            uint256 next = uint256(st.paramsChangedAt) + PARAMS_INTERVAL_SEC;
            if (block.timestamp < next) revert IOptionVault.ParametersChangedTooRecently(st.paramsChangedAt, next);
            checkSteps(r, sh, p, h);
            st.paramsChangedAt = uint40(block.timestamp);
        }
        st.outageExitDelaySec = p.outageExitDelaySec;
        st.maxPauseSec = p.maxPauseSec;
        st.validUntil = 0;
        r.hfFloorWad = p.hfFloorWad;
        r.spotShockUpBps = p.spotShockUpBps;
        r.spotShockDownBps = p.spotShockDownBps;
        r.volShockWad = p.volShockWad;
        r.spreadBps = p.spreadBps;
        r.feeBps = p.feeBps;
        r.tradingCutoffSec = p.tradingCutoffSec;
        r.maxLiveSeries = p.maxLiveSeries;
        r.minPremiumBps = p.minPremiumBps;
        r.rateWad = p.rateWad;
        r.cacheSpotBandBps = p.cacheSpotBandBps;
        r.cacheMaxAgeSec = p.cacheMaxAgeSec;
        r.maxVegaWad = l.maxVegaWad;
        r.feedDeviationBps = p.feedDeviationBps;
        (sl.maxOpenInterestWad, sl.maxNetDeltaWad) = (l.maxOpenInterestWad, l.maxNetDeltaWad);
        sh.deltaBandWad = h.deltaBandWad;
        sh.dustDeltaWad = h.dustDeltaWad;
        sh.hedgeIntervalSec = h.hedgeIntervalSec;
        sh.maxSlippageBps = h.maxSlippageBps;
        sh.maxNavLossBps = h.maxNavLossBps;
        emit IOptionVault.ParametersSet(p, l, h);
    }

    /// @notice Reverts `ParamStepTooLarge` naming the first value-moving parameter that changes by more
    /// than its step from the stored value: hfFloor 0.25, each shock 1,000 bps, volShock 0.10, spread
    /// 100 bps, fee 50 bps, rate 0.02, feed deviation 50 bps, minimum premium 100 bps, hedge slippage 50 bps.
    /// With the timelock's delay, depositors see every change coming and each is small.
    function checkSteps(
        StoredRisk storage r,
        StoredHedge storage sh,
        IOptionVault.RiskParams memory p,
        IOptionVault.HedgeParams memory h
    ) public view {
        _checkStep("hfFloorWad", int256(uint256(r.hfFloorWad)), int256(uint256(p.hfFloorWad)), 0.25e18);
        _checkStep("spotShockUpBps", int256(uint256(r.spotShockUpBps)), int256(uint256(p.spotShockUpBps)), 1000);
        _checkStep("spotShockDownBps", int256(uint256(r.spotShockDownBps)), int256(uint256(p.spotShockDownBps)), 1000);
        _checkStep("volShockWad", int256(uint256(r.volShockWad)), int256(uint256(p.volShockWad)), 0.1e18);
        _checkStep("spreadBps", int256(uint256(r.spreadBps)), int256(uint256(p.spreadBps)), 100);
        _checkStep("feeBps", int256(uint256(r.feeBps)), int256(uint256(p.feeBps)), 50);
        _checkStep("rateWad", r.rateWad, p.rateWad, 0.02e18);
        _checkStep("feedDeviationBps", int256(uint256(r.feedDeviationBps)), int256(uint256(p.feedDeviationBps)), 50);
        _checkStep("minPremiumBps", int256(uint256(r.minPremiumBps)), int256(uint256(p.minPremiumBps)), 100);
        _checkStep("maxSlippageBps", int256(uint256(sh.maxSlippageBps)), int256(uint256(h.maxSlippageBps)), 50);
    }

    function _checkStep(bytes32 name, int256 oldValue, int256 newValue, int256 maxStep) private pure {
        int256 diff = newValue > oldValue ? newValue - oldValue : oldValue - newValue;
        if (diff > maxStep) revert IOptionVault.ParamStepTooLarge(name, oldValue, newValue, maxStep);
    }

    /// @notice List series `seriesId` (`OptionVault.listSeries`): expiry in (now + cutoff, now +
    /// MAX_EXPIRY_SEC]; strike in [spot / 10, 10 x spot], at least 1e12 and below 2^96 wad; no series with
    /// the same terms; fewer live series than the cap. Emits `SeriesListed`.
    function listSeries(
        mapping(uint256 => IOptionVault.Series) storage series,
        mapping(bytes32 => uint256) storage byKey,
        uint256[] storage live,
        uint256 seriesId,
        uint256 expiry,
        uint256 strikeWad,
        bool isCall,
        uint256 spotWad,
        StoredRisk storage r
    ) external returns (uint256) {
        uint256 minExpiry = block.timestamp + r.tradingCutoffSec + 1;
        uint256 maxExpiry = block.timestamp + MAX_EXPIRY_SEC;
        if (expiry < minExpiry || expiry > maxExpiry) revert IOptionVault.BadExpiry(expiry, minExpiry, maxExpiry);
        if (
            strikeWad * 10 < spotWad || strikeWad > spotWad * 10 || strikeWad > type(uint96).max
                || strikeWad < 1e12
        ) {
            revert IOptionVault.BadStrike(strikeWad);
        }
        bytes32 key = keccak256(abi.encode(expiry, strikeWad, isCall));
        if (byKey[key] != 0) revert IOptionVault.SeriesAlreadyListed(byKey[key]);
        if (live.length >= r.maxLiveSeries) revert IOptionVault.LiveSeriesCap(r.maxLiveSeries);
        // expiry <= now + 1 year < 2^40, strikeWad < 2^96 (checked above)
        series[seriesId] = IOptionVault.Series(uint40(expiry), isCall, uint96(strikeWad), 0);
        byKey[key] = seriesId;
        live.push(seriesId);
        emit IOptionVault.SeriesListed(seriesId, expiry, strikeWad, isCall);
        return seriesId;
    }

    /// @notice Settle every live series of `expiry` at the price of `roundId` (the oracle checks that it is
    /// the feed's first round at or after the expiry): record the price, remove the series from the live
    /// list, and return the payouts owed to their holders, sum ceil(open x intrinsic) in quote units (the
    /// claims' floors never sum above it). Emits `ExpirySettled`. Reverts `NothingToSettle`.
    function settle(
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        mapping(uint256 => uint256) storage settlementPrices,
        IPriceOracle priceOracle,
        uint256 expiry,
        uint80 roundId,
        uint256 quoteScale
    ) external returns (uint256 owedAdded) {
        uint256 priceWad = priceOracle.settlementPriceWad(roundId, expiry);
        settlementPrices[expiry] = priceWad;
        bool found;
        // walk backwards so that swap-and-pop only moves already visited ids
        for (uint256 i = live.length; i > 0; --i) {
            uint256 id = live[i - 1];
            IOptionVault.Series memory s = series[id];
            if (s.expiry != expiry) continue;
            found = true;
            owedAdded += uint256(s.openInterestWad).mulDivUp(intrinsicWad(s, priceWad), WAD * quoteScale);
            live[i - 1] = live[live.length - 1];
            live.pop();
        }
        if (!found) revert IOptionVault.NothingToSettle(expiry);
        emit IOptionVault.ExpirySettled(expiry, roundId, priceWad, owedAdded);
    }

    /// @notice The earliest live expiry that has passed and has a feed round that settles it, and that round
    /// (0, 0 if none). An expiry whose round is missing or invalid does not hide a later one.
    function dueSettlement(
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        IPriceOracle priceOracle
    ) external view returns (uint256 expiry, uint80 roundId) {
        uint256 n = live.length;
        uint256 after_;
        while (true) {
            // the earliest passed expiry later than the ones already tried
            expiry = 0;
            for (uint256 i = 0; i < n; ++i) {
                uint256 e = series[live[i]].expiry;
                if (e > after_ && e <= block.timestamp && (expiry == 0 || e < expiry)) expiry = e;
            }
            if (expiry == 0) return (0, 0);
            roundId = priceOracle.firstRoundAtOrAfter(expiry);
            if (roundId != 0) return (expiry, roundId);
            after_ = expiry;
        }
    }

    /// @notice Payoff of one option of `s` at `priceWad` (quote wad).
    function intrinsicWad(IOptionVault.Series memory s, uint256 priceWad) internal pure returns (uint256) {
        if (s.isCall) return priceWad > s.strikeWad ? priceWad - s.strikeWad : 0;
        return s.strikeWad > priceWad ? s.strikeWad - priceWad : 0;
    }

    /// @notice The valuation at `spotWad` and now from marks `m` made at (S0, t0), with dS = spot - S0 and
    /// dt = now - t0 (proof of the bounds in docs/option-vault.md):
    ///   markUp   = mark + optionDelta dS + gammaCoef dS^2 / (2 min(S, S0)) + rate + slop
    ///   markDown = max(mark + optionDelta dS - thetaCoef S dt / year - rate - slop, 0)
    /// where rate = 1.2 |r| strikeOpen dt / year and slop covers the library's error in the two
    /// evaluations compared (2 x (2 wei + 1e-17 max(S, K)) per option, the delta's 1e-18 per option
    /// times |dS|) and the per-series roundings (2 wei per series).
    /// Book delta = -optionDelta (at S0); vega bound = vegaRoot x S.
    /// (`actionBook`, `viewBook`, `trade`.)
    function _value(Marks memory m, uint256 spotWad, int256 rateWad, uint256 quoteBalance, IHedger.Position memory p)
        private
        view
        returns (BookMath.Book memory b)
    {
        b.spotWad = spotWad;
        _setBalances(b, quoteBalance, p);
        b.bookDeltaWad = -m.optionDeltaWad;
        // vegaRoot < 2^128 and spot < 2^104 (stored fields): the products here fit
        b.vegaWad = (m.vegaRootWad * spotWad).divUp(WAD);
        b.markSpotWad = m.spotWad;
        b.gammaCoefWad = m.gammaCoefWad;
        // no open interest: no options, mark exactly zero in every scenario
        if (m.openWad == 0) return b;
        b.markWad = m.markWad;
        b.stressUpWad = m.stressUpWad;
        b.stressDownWad = m.stressDownWad;
        // unchecked: every bound is written beside its operation (the values are those of checked arithmetic)
        unchecked {
            // markedAt <= now (a block time)
            uint256 dt = block.timestamp - m.markedAt;
            uint256 absRate = rateWad < 0 ? uint256(-rateWad) : uint256(rateWad);
            // |r| <= 0.5e18 and dt <= the cache's maximum age (1 day), else the marks are re-marked: < 2^80;
            // strikeOpen < 2^128: the product < 2^208
            uint256 common = (m.strikeOpenWad * (absRate * dt * 12)).divUp(10 * WAD * YEAR_SEC) + _slop(m, spotWad);
            // the marks' fields < 2^128 (stored), |delta| < 2^127 and |dS| < 2^104: the product < 2^231
            int256 centre = int256(m.markWad) + m.optionDeltaWad * (int256(spotWad) - int256(m.spotWad)) / int256(WAD);
            // the gamma term < 2^128 x 2^104 / 1e12 x 2^104 / 1e18 < 2^237, common < 2^130; theta < 2^128, spot x dt
            // < 2^121: every sum and difference below stays within int256
            b.markUpWad = _pos(centre + int256(_gammaTerm(m, spotWad) + common) + 1);
            b.markDownWad =
                _pos(centre - int256((m.thetaCoefWad * (spotWad * dt)).divUp(WAD * YEAR_SEC) + common) - 1);
        }
    }

    /// @notice Reverts `ParamOutOfBounds` naming the first parameter outside its hard bound (listed on
    /// `OptionVault.setParameters`).
    function checkParameters(
        IOptionVault.RiskParams memory p,
        IOptionVault.ExposureLimits memory l,
        IOptionVault.HedgeParams memory h
    ) public pure {
        _checkBound("hfFloorWad", int256(uint256(p.hfFloorWad)), 1e18, 3e18);
        _checkBound("spotShockUpBps", int256(uint256(p.spotShockUpBps)), 100, 9000);
        _checkBound("spotShockDownBps", int256(uint256(p.spotShockDownBps)), 100, 9000);
        _checkBound("volShockWad", int256(uint256(p.volShockWad)), 0.01e18, 2e18);
        _checkBound("spreadBps", int256(uint256(p.spreadBps)), 0, 2000);
        _checkBound("feeBps", int256(uint256(p.feeBps)), 0, 1000);
        _checkBound("tradingCutoffSec", int256(uint256(p.tradingCutoffSec)), 0, 7 days);
        _checkBound("maxLiveSeries", int256(uint256(p.maxLiveSeries)), 1, int256(MAX_SERIES));
        _checkBound("rateWad", p.rateWad, -0.1e18, 0.5e18);
        _checkBound("cacheSpotBandBps", int256(uint256(p.cacheSpotBandBps)), 10, 1000);
        _checkBound("cacheMaxAgeSec", int256(uint256(p.cacheMaxAgeSec)), 60, 1 days);
        _checkBound("maxOpenInterestWad", int256(uint256(l.maxOpenInterestWad)), 1, 1e30);
        _checkBound("maxNetDeltaWad", int256(uint256(l.maxNetDeltaWad)), 0, 1e30);
        _checkBound("maxVegaWad", int256(uint256(l.maxVegaWad)), 0, 1e36);
        _checkBound("deltaBandWad", int256(uint256(h.deltaBandWad)), 1e12, 1e30);
        _checkBound("dustDeltaWad", int256(uint256(h.dustDeltaWad)), 0, int256(uint256(h.deltaBandWad)));
        _checkBound("hedgeIntervalSec", int256(uint256(h.hedgeIntervalSec)), 60, 7 days);
        _checkBound("maxSlippageBps", int256(uint256(h.maxSlippageBps)), 1, 500);
        _checkBound("maxNavLossBps", int256(uint256(h.maxNavLossBps)), 1, 1000);
        _checkBound("feedDeviationBps", int256(uint256(p.feedDeviationBps)), 10, 500);
        _checkBound("minPremiumBps", int256(uint256(p.minPremiumBps)), 100, 10_000);
        _checkBound("outageExitDelaySec", int256(uint256(p.outageExitDelaySec)), 1 hours, 7 days);
        _checkBound("maxPauseSec", int256(uint256(p.maxPauseSec)), 1 days, 30 days);
    }

    function _checkBound(bytes32 name, int256 v, int256 min, int256 max) private pure {
        if (v < min || v > max) revert IOptionVault.ParamOutOfBounds(name, v, min, max);
    }

    /// @dev gammaCoef dS^2 / (2 min(S, S0)), rounded up.
    function _gammaTerm(Marks memory m, uint256 spotWad) private pure returns (uint256) {
        (uint256 sMin, uint256 sMax) = spotWad < m.spotWad ? (spotWad, m.spotWad) : (m.spotWad, spotWad);
        uint256 absDs = sMax - sMin;
        return absDs == 0 ? 0 : m.gammaCoefWad.mulDivUp(absDs, sMin).mulDivUp(absDs, 2 * WAD);
    }

    /// @dev The library's error in two evaluations and the per-series roundings, rounded up.
    function _slop(Marks memory m, uint256 spotWad) private pure returns (uint256) {
        // open interest and strikeOpen < 2^128 (stored), spots < 2^104: every term < 2^234 (unchecked)
        unchecked {
            uint256 sMax = spotWad > m.spotWad ? spotWad : m.spotWad;
            uint256 absDs = spotWad > m.spotWad ? spotWad - m.spotWad : m.spotWad - spotWad;
            return (m.openWad * (2 * sMax + absDs + 4e17) + 2 * m.strikeOpenWad * WAD) / 1e35 + 2 * MAX_SERIES + 1;
        }
    }

    function _pos(int256 x) private pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }
}
