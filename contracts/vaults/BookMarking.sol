// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionPricer} from "../../interfaces/IOptionPricer.sol";
import {IOptionVault} from "../../interfaces/IOptionVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {IVolatilityOracle} from "../../interfaces/IVolatilityOracle.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {BookMath} from "./BookMath.sol";

/// @title BookMarking
/// @notice The option vault's cached book: aggregates of the open series marked at one point (spot S0,
/// time t0, the posted volatilities of one oracle epoch), from which valuations at a nearby spot S and a
/// later time t get rigorous upper and lower bounds of the full re-mark without pricing every series.
/// An external library (DELEGATECALL): the vault keeps its code size, one deployed copy serves every vault.
///
/// Per series i with open interest o_i, expiry E_i, strike K_i, posted volatility sigma_i and
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
/// aggregates always equal a full re-mark at (S0, t0) to the wei; except the two stress aggregates, exact
/// at a re-mark and moved by a trade by bounds that keep them at or above a full re-mark (gas: a trade
/// prices no scenario; see `_addStressBound`).
library BookMarking {
    using FixedPointMath for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant YEAR_SEC = 365 days;
    uint256 internal constant BPS = 10_000;
    /// @dev The vault's hard cap on live series (per-series rounding allowance).
    uint256 internal constant MAX_SERIES = 64;
    /// @dev ceil(1e18 / sqrt(2 pi)): phi(0), the largest value of the normal density.
    uint256 internal constant INV_SQRT_2PI_WAD_UP = 398942280401432678;

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
    }

    /// @dev Per-expiry values shared by the series of one expiry.
    struct Expiry {
        uint256 expiry;
        uint256 timeSec;
        uint256 volWad;
        /// @dev floor and ceil of sqrt(tau) in wad.
        uint256 rootDownWad;
        uint256 rootUpWad;
    }

    /// @notice Fresh marks and the spot for a state-changing action: the feed price (checked, without the
    /// TWAP) when the stored marks hold (`fresh`); otherwise the fully checked spot (TWAP cross-check
    /// included) and a full re-mark, stored (event `BookMarked`).
    function freshMarks(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env
    ) external returns (Marks memory m, uint256 spotWad, bool fresh) {
        (m, spotWad, fresh) = _current(st, series, live, env);
        if (!fresh) _storeRemark(st, m);
    }

    /// @notice What `freshMarks` would return now, without storing; `fresh` is false when it would re-mark.
    function viewMarks(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env
    ) external view returns (Marks memory m, uint256 spotWad, bool fresh) {
        return _current(st, series, live, env);
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
        uint256 head = m.spotWad | (uint256(uint40(m.markedAt)) << 104) | (uint256(uint40(m.validUntil)) << 144)
            | (uint256(uint32(m.volEpoch)) << 184);
        uint256 w1 = m.markWad | (uint256(uint128(int128(delta))) << 128);
        uint256 w2 = m.gammaCoefWad | (m.thetaCoefWad << 128);
        uint256 w3 = m.strikeOpenWad | (m.vegaRootWad << 128);
        uint256 w4 = m.openWad | (m.stressUpWad << 128);
        uint256 w5 = m.stressDownWad;
        assembly ("memory-safe") {
            // `Stored`: the head (spot, markedAt, validUntil, epoch, then the lock and pause flag in bits
            // 216-231, kept), then two 128-bit fields per slot, low field first (the fees owed, kept)
            let base := st.slot
            sstore(base, or(and(sload(base), shl(216, 0xffff)), head))
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
        return uint32(env.volOracle.epoch()) != uint32(m.volEpoch);
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
    }

    function _storeRemark(Stored storage st, Marks memory m) private {
        _store(st, m);
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
        Expiry memory e;
        uint256 n = live.length;
        for (uint256 i = 0; i < n; ++i) {
            IOptionVault.Series memory s = series[live[i]];
            if (s.openInterestWad == 0) continue;
            if (s.expiry != e.expiry) _loadExpiry(e, m, env.volOracle, s.expiry);
            _markSeries(m, e, env, s);
        }
    }

    /// @notice A trade of series `s` (its stored open interest) to `newOpenWad`, in one call: fresh marks
    /// as `freshMarks` gives them, the posted volatility of the series' expiry, and the Black-Scholes
    /// price of one option at the action's spot and now (`priceWad`, reverts outside the library's
    /// domain). The series is then priced at the marks' spot and time and its terms moved, so the
    /// aggregates stay those of a full re-mark at that point, and the marks are stored (event `BookMarked`
    /// first when they were re-marked). Returns the valuation at the action's spot (`value`) with zero
    /// balances: the vault fills them in after its token transfers.
    function trade(
        Stored storage st,
        mapping(uint256 => IOptionVault.Series) storage series,
        uint256[] storage live,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 newOpenWad
    ) external returns (uint256 priceWad, BookMath.Book memory) {
        (Marks memory m, uint256 spotWad, bool fresh) = _current(st, series, live, env);
        if (!fresh) emit IOptionVault.BookMarked(m.spotWad, m.markWad, m.optionDeltaWad, m.validUntil);
        Expiry memory e;
        {
            // fresh marks are of the current volatility epoch, so this is the post the marks use
            (uint256 volWad, uint256 volFreshUntil) = env.volOracle.volWadUntil(s.expiry);
            _setExpiry(e, m, s.expiry, volWad, volFreshUntil);
        }
        priceWad = _moveSeries(m, e, env, s, newOpenWad, spotWad);
        _store(st, m);
        return (priceWad, _value(m, spotWad, env.rateWad, 0, 0));
    }

    /// @dev A re-mark's terms of series `s`: at (S0, t0) and in both stress scenarios.
    function _markSeries(Marks memory m, Expiry memory e, Env memory env, IOptionVault.Series memory s) private view {
        (uint256 priceWad, int256 deltaWad, bool insideMargin) =
            env.pricer.markAndDelta(m.spotWad, s.strikeWad, e.timeSec, e.volWad, env.rateWad, s.isCall);
        if (!insideMargin) m.validUntil = m.markedAt;
        _addTerms(m, e, s, 0, s.openInterestWad, priceWad, deltaWad);
        _addStressExact(m, e, env, s);
    }

    /// @dev Moves the series' terms from its stored open interest to `newOpenWad` (`_addTerms`,
    /// `_addStressBound`); one pricer call gives them and the trade's price at `spotWad` and now.
    function _moveSeries(
        Marks memory m,
        Expiry memory e,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 newOpenWad,
        uint256 spotWad
    ) private view returns (uint256 priceWad) {
        uint256 markPriceWad;
        int256 deltaWad;
        {
            bool insideMargin;
            // the vault trades a series only before its expiry
            (priceWad, markPriceWad, deltaWad, insideMargin) = env.pricer.tradePrices(
                IOptionPricer.TradeQuote(
                    spotWad, s.expiry - block.timestamp, m.spotWad, e.timeSec, s.strikeWad, e.volWad, env.rateWad, s.isCall
                )
            );
            if (!insideMargin) m.validUntil = m.markedAt;
        }
        uint256 oldOpenWad = s.openInterestWad;
        _addTerms(m, e, s, oldOpenWad, newOpenWad, markPriceWad, deltaWad);
        _addStressBound(m, e, env, s, oldOpenWad, newOpenWad, markPriceWad, deltaWad);
    }

    function _loadExpiry(Expiry memory e, Marks memory m, IVolatilityOracle volOracle, uint256 expiry) private view {
        if (expiry > m.markedAt) {
            (uint256 volWad, uint256 freshUntil) = volOracle.volWadUntil(expiry);
            _setExpiry(e, m, expiry, volWad, freshUntil);
        } else {
            // at expiry the library ignores volatility (intrinsic value); any in-domain value does
            e.expiry = expiry;
            (e.timeSec, e.volWad, e.rootDownWad, e.rootUpWad) = (0, WAD, 0, 0);
            m.validUntil = m.markedAt;
        }
    }

    /// @dev Expiry values; the marks stay valid no longer than the expiry and the volatility's freshness.
    function _setExpiry(Expiry memory e, Marks memory m, uint256 expiry, uint256 volWad, uint256 freshUntil)
        private
        pure
    {
        e.expiry = expiry;
        e.timeSec = expiry > m.markedAt ? expiry - m.markedAt : 0;
        e.volWad = volWad;
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
        // vol in [1e15, 1e19] and root >= 1 (tau >= 1 s): every intermediate < 2^200
        uint256 gammaUnit = ((INV_SQRT_2PI_WAD_UP * WAD + e.volWad - 1) / e.volWad * WAD + e.rootDownWad - 1) / e.rootDownWad;
        uint256 thetaUnit = (INV_SQRT_2PI_WAD_UP * e.volWad + e.rootDownWad - 1) / e.rootDownWad;
        uint256 vegaUnit = (INV_SQRT_2PI_WAD_UP * e.rootUpWad + WAD - 1) / WAD;
        m.gammaCoefWad = m.gammaCoefWad + _up(newOpenWad, gammaUnit) - _up(oldOpenWad, gammaUnit);
        m.thetaCoefWad = m.thetaCoefWad + _up(newOpenWad, thetaUnit) - _up(oldOpenWad, thetaUnit);
        m.vegaRootWad = m.vegaRootWad + _up(newOpenWad, vegaUnit) - _up(oldOpenWad, vegaUnit);
    }

    /// @dev The scenario spots: floor(S0 x (1 + up)) and floor(S0 x (1 - down)).
    function _stressSpots(Marks memory m, Env memory env) private pure returns (uint256 upWad, uint256 downWad) {
        upWad = m.spotWad * (BPS + env.shockUpBps) / BPS;
        downWad = m.spotWad * (BPS - env.shockDownBps) / BPS;
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

    /// @dev A trade: no scenario pricing (gas). A sale of d more options adds ceil(d x an upper bound) of
    /// the scenario price; a buy-back of d subtracts floor(d x a lower bound), so each aggregate stays at or
    /// above the exact sum of ceil(open x scenario price) until the next re-mark. From the price p and
    /// delta D at the marks' spot S0 (same call as the mark), for a scenario spot Sk:
    ///   upper = p + (call: max(Sk - S0, 0); put: max(S0 - Sk, 0)) + volShock x Sk x sqrt(tau) phi(0) + err
    ///   lower = max(p + D (Sk - S0) - err, 0)
    /// (|delta| <= 1 and each price is monotone in S; vega <= S sqrt(tau) phi(0) and vega >= 0; convexity
    /// in S gives the tangent); err = (2 max(Sk, K) + |Sk - S0|) / 1e16 + 8 wei covers the library's error
    /// in the evaluations compared, ten times over.
    function _addStressBound(
        Marks memory m,
        Expiry memory e,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 oldOpenWad,
        uint256 newOpenWad,
        uint256 priceWad,
        int256 deltaWad
    ) private pure {
        (uint256 upWad, uint256 downWad) = _stressSpots(m, env);
        if (newOpenWad > oldOpenWad) {
            uint256 d = newOpenWad - oldOpenWad;
            m.stressUpWad += _up(d, _scenarioUpper(m, e, env, s, priceWad, upWad));
            m.stressDownWad += _up(d, _scenarioUpper(m, e, env, s, priceWad, downWad));
        } else {
            uint256 d = oldOpenWad - newOpenWad;
            m.stressUpWad = _sub0(m.stressUpWad, d * _scenarioLower(m, s, priceWad, deltaWad, upWad) / WAD);
            m.stressDownWad = _sub0(m.stressDownWad, d * _scenarioLower(m, s, priceWad, deltaWad, downWad) / WAD);
        }
    }

    function _scenarioUpper(
        Marks memory m,
        Expiry memory e,
        Env memory env,
        IOptionVault.Series memory s,
        uint256 priceWad,
        uint256 spotWad
    ) private pure returns (uint256 upper) {
        // trades only (`_addStressBound`), whose marks' spot is below 2^104 (`_store` refuses a larger one in
        // the same transaction): scenario spots < 2^105, strike < 2^96, price < 2^106 (the pricer continues
        // at most S - E past the domain edge), vol shock <= 2e18, root <= 1e18: every term < 2^230
        unchecked {
            upper = priceWad + _err(m, s, spotWad);
            if (s.isCall && spotWad > m.spotWad) upper += spotWad - m.spotWad;
            if (!s.isCall && spotWad < m.spotWad) upper += m.spotWad - spotWad;
            upper += (env.volShockWad * spotWad * e.rootUpWad) / (WAD * WAD) * INV_SQRT_2PI_WAD_UP / WAD + 1;
        }
    }

    function _scenarioLower(
        Marks memory m,
        IOptionVault.Series memory s,
        uint256 priceWad,
        int256 deltaWad,
        uint256 spotWad
    ) private pure returns (uint256) {
        // bounds as in `_scenarioUpper`; |delta| <= 1e18
        unchecked {
            int256 lower = int256(priceWad) + deltaWad * (int256(spotWad) - int256(m.spotWad)) / int256(WAD)
                - int256(_err(m, s, spotWad)) - 1;
            return lower > 0 ? uint256(lower) : 0;
        }
    }

    /// @dev The library's error allowance per option for a scenario spot, rounded up (see `_addStressBound`).
    function _err(Marks memory m, IOptionVault.Series memory s, uint256 spotWad) private pure returns (uint256) {
        uint256 maxSK = spotWad > s.strikeWad ? spotWad : s.strikeWad;
        // the differences are taken in the order that keeps them non-negative; bounds as in `_scenarioUpper`
        unchecked {
            uint256 absDs = spotWad > m.spotWad ? spotWad - m.spotWad : m.spotWad - spotWad;
            return (2 * maxSK + absDs) / 1e16 + 8;
        }
    }

    function _sub0(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }

    /// @dev ceil(a x b / 1e18); open interest < 2^128 and the per-option values < 2^128: no overflow.
    function _up(uint256 a, uint256 b) private pure returns (uint256) {
        return (a * b + WAD - 1) / WAD;
    }

    /// @notice The valuation at `spotWad` and now from marks `m` made at (S0, t0), with dS = spot - S0 and
    /// dt = now - t0 (proof of the bounds in docs/option-vault.md):
    ///   markUp   = mark + optionDelta dS + gammaCoef dS^2 / (2 min(S, S0)) + rate + slop
    ///   markDown = max(mark + optionDelta dS - thetaCoef S dt / year - rate - slop, 0)
    /// where rate = 1.2 |r| strikeOpen dt / year and slop covers the library's error in the two
    /// evaluations compared (2 x (2 wei + 1e-17 max(S, K)) per option, the delta's 1e-18 per option
    /// times |dS|) and the per-series roundings (2 wei per series).
    /// Book delta = -optionDelta (at S0); vega bound = vegaRoot x S.
    function value(Marks memory m, uint256 spotWad, int256 rateWad, uint256 quoteBalance, uint256 hedgeBalance)
        external
        view
        returns (BookMath.Book memory)
    {
        return _value(m, spotWad, rateWad, quoteBalance, hedgeBalance);
    }

    function _value(Marks memory m, uint256 spotWad, int256 rateWad, uint256 quoteBalance, uint256 hedgeBalance)
        private
        view
        returns (BookMath.Book memory b)
    {
        b.spotWad = spotWad;
        b.quoteBalance = quoteBalance;
        b.hedgeBalance = hedgeBalance;
        b.bookDeltaWad = -m.optionDeltaWad;
        // vegaRoot < 2^128 and spot < 2^104 (stored fields): the products here fit
        b.vegaWad = (m.vegaRootWad * spotWad).divUp(WAD);
        b.markSpotWad = m.spotWad;
        // no open interest: no options, mark exactly zero in every scenario
        if (m.openWad == 0) return b;
        b.markWad = m.markWad;
        b.stressUpWad = m.stressUpWad;
        b.stressDownWad = m.stressDownWad;
        uint256 dt = block.timestamp - m.markedAt;
        uint256 absRate = rateWad < 0 ? uint256(-rateWad) : uint256(rateWad);
        // |r| <= 0.5e18 and dt <= the cache's maximum age (1 day), else the marks are re-marked: < 2^80
        uint256 common = (m.strikeOpenWad * (absRate * dt * 12)).divUp(10 * WAD * YEAR_SEC) + _slop(m, spotWad);
        // open interest < 2^128 and |dS| < 2^104: the product fits
        int256 centre = int256(m.markWad) + m.optionDeltaWad * (int256(spotWad) - int256(m.spotWad)) / int256(WAD);
        b.markUpWad = _pos(centre + int256(_gammaTerm(m, spotWad) + common) + 1);
        b.markDownWad = _pos(centre - int256((m.thetaCoefWad * (spotWad * dt)).divUp(WAD * YEAR_SEC) + common) - 1);
    }

    /// @notice Reverts `ParamOutOfBounds` naming the first parameter outside its hard bound (listed on
    /// `OptionVault.setParameters`).
    function checkParameters(
        IOptionVault.RiskParams memory p,
        IOptionVault.ExposureLimits memory l,
        IOptionVault.HedgeParams memory h
    ) external pure {
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
        uint256 sMax = spotWad > m.spotWad ? spotWad : m.spotWad;
        uint256 absDs = spotWad > m.spotWad ? spotWad - m.spotWad : m.spotWad - spotWad;
        return (m.openWad * (2 * sMax + absDs + 4e17) + 2 * m.strikeOpenWad * WAD) / 1e35 + 2 * MAX_SERIES + 1;
    }

    function _pos(int256 x) private pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }
}
