// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ICovarianceOracle} from "../../interfaces/ICovarianceOracle.sol";
import {IPortfolioMath} from "../../interfaces/IPortfolioMath.sol";
import {IPortfolioVault} from "../../interfaces/IPortfolioVault.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {BoundedSwap} from "../libraries/BoundedSwap.sol";
import {CovarianceMath} from "../oracles/CovarianceMath.sol";
import {PortfolioMath} from "./PortfolioMath.sol";
import {RebalanceMath} from "./RebalanceMath.sol";

/// @title PortfolioEngine
/// @notice The portfolio vault's valuation, target verification, rebalancing slice and withdrawal sales, as
/// an external library linked into `PortfolioVault` (delegatecalls: the vault's storage, balances and swaps),
/// which keeps the vault below the 24,576-byte limit. Rules and units: `IPortfolioVault`.
library PortfolioEngine {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_ASSETS = 8;
    /// @dev A withdrawal's sale room uses this share of the pool's capacity estimate (bps).
    uint256 internal constant CAPACITY_HAIRCUT_BPS = 9_990;
    /// @notice One holding (the vault keeps them as immutables and passes them in `Env`).
    struct AssetConfig {
        address token;
        uint64 scale; // 10^(18 - decimals)
        bool isToken0; // the token is the pool's token0
        address oracle;
        address pool;
        uint24 feePips;
    }

    /// @notice The rules, packed: weights, budgets, vol band and tolerance all fit 64 bits (hard bounds).
    struct StoredRules {
        IPortfolioMath.Mode mode;
        uint64 minVolWad;
        uint64 maxVolWad;
        uint64 toleranceWad;
        uint64[] minWeightWad;
        uint64[] maxWeightWad;
        uint64[] budgetWad;
    }

    /// @notice What every action reads first (one slot).
    struct Head {
        uint8 lock;
        bool paused;
        uint40 pausedAt;
        uint40 targetsSetAt;
        uint40 budgetUpdatedAt;
        uint112 budgetLevelQuote;
    }

    /// @notice The vault's whole storage.
    struct Layout {
        Head head;
        uint64[MAX_ASSETS] targets;
        uint128 targetVolWad;
        uint64 targetsCovEpoch;
        IPortfolioVault.RebalanceParams params;
        StoredRules rules;
    }

    /// @notice The vault's immutables: the quote, the covariance oracle, 10^(18 - quote decimals), the number of
    /// holdings and the holdings, three words each (`packHolding`; plain words: the cheapest to pass).
    struct Env {
        IERC20 quote;
        ICovarianceOracle cov;
        uint256 quoteScale;
        uint256 n;
        uint256[] holdings;
    }

    /// @notice Balances, prices and values of one moment (quote units for values).
    struct Valuation {
        uint256[] prices;
        uint256[] balances;
        uint256[] values;
        uint256 quoteBalance;
        uint256 risky;
        uint256 nav;
    }

    /// @notice A rebalancing slice and the figures its checks compare against.
    struct Plan {
        uint256 asset;
        bool sale;
        uint256 units;
        uint256 valueQuote;
        uint256 budgetAvailable;
        int256 trackingVar54;
        int256 variance54;
        uint256 keepWad;
        uint256 deriskMask;
        int256[] weights;
        int256[] targets;
        int256[] cov;
    }

    // ================================================================= holdings

    /// @notice A holding as three words: token | scale << 160 | isToken0 << 224 | feePips << 232 (scale
    /// <= 1e18 < 2^64, feePips < 2^24), the price oracle, the pool.
    function packHolding(AssetConfig memory a) internal pure returns (uint256 cfg, uint256 oracle, uint256 pool) {
        cfg = uint256(uint160(a.token)) | uint256(a.scale) << 160 | (a.isToken0 ? uint256(1) << 224 : 0)
            | uint256(a.feePips) << 232;
        (oracle, pool) = (uint256(uint160(a.oracle)), uint256(uint160(a.pool)));
    }

    /// @notice The holding of `packHolding`'s three words.
    function unpackHolding(uint256 cfg, uint256 oracle, uint256 pool) internal pure returns (AssetConfig memory) {
        return AssetConfig(
            address(uint160(cfg)),
            uint64(cfg >> 160),
            (cfg >> 224) & 1 == 1,
            address(uint160(oracle)),
            address(uint160(pool)),
            uint24(cfg >> 232)
        );
    }

    /// @dev Holding i of the vault.
    function _asset(Env memory e, uint256 i) private pure returns (AssetConfig memory) {
        uint256 k = 3 * i;
        return unpackHolding(e.holdings[k], e.holdings[k + 1], e.holdings[k + 2]);
    }

    /// @dev Holding i's 10^(18 - decimals).
    function _scale(Env memory e, uint256 i) private pure returns (uint256) {
        return uint64(e.holdings[3 * i] >> 160);
    }

    // ================================================================= targets

    /// @notice `setTargets` after its role and interval checks: verify, store, emit.
    function setTargets(Layout storage s, Env memory e, int256[] memory w) external {
        uint256 volWad = PortfolioMath.verify(w, _covariance(e), rules(s));
        // verify: 0 <= w_i <= 1e18 < 2^64, n entries
        uint64[MAX_ASSETS] memory packed;
        for (uint256 i; i < w.length; ++i) {
            packed[i] = uint64(uint256(w[i]));
        }
        s.targets = packed;
        uint64 epoch = e.cov.epoch();
        // vol <= 5e18 (the band) or the root of a variance below 2^192: fits 128 bits
        (s.targetVolWad, s.targetsCovEpoch) = (uint128(volWad), epoch);
        s.head.targetsSetAt = uint40(block.timestamp);
        emit IPortfolioVault.TargetsSet(w, volWad, epoch, msg.sender);
    }

    /// @dev The covariance oracle's current matrix (wad, n x n): its packed post unpacked here, the same integers
    /// as `covarianceWad` (reverts `CovNotPosted` / `CovStale`).
    function _covariance(Env memory e) private view returns (int256[] memory) {
        (uint256 volsBp, uint256[2] memory corrsBp) = e.cov.freshPacked();
        return CovarianceMath.covarianceWad(volsBp, corrsBp, e.n);
    }

    /// @notice The rules as `IPortfolioMath.TargetRules`.
    function rules(Layout storage s) public view returns (IPortfolioMath.TargetRules memory r) {
        StoredRules storage st = s.rules;
        r.mode = st.mode;
        r.minWeightWad = _widen(st.minWeightWad);
        r.maxWeightWad = _widen(st.maxWeightWad);
        r.minVolWad = st.minVolWad;
        r.maxVolWad = st.maxVolWad;
        r.budgetWad = _widen(st.budgetWad);
        r.toleranceWad = st.toleranceWad;
    }

    function _widen(uint64[] storage a) private view returns (uint256[] memory b) {
        uint256 len = a.length;
        b = new uint256[](len);
        for (uint256 i; i < len; ++i) {
            b[i] = a[i];
        }
    }

    function _targetsWad(Layout storage s, uint256 n) private view returns (int256[] memory t) {
        t = new int256[](n);
        // element by element: the second slot only for n > 4
        for (uint256 i; i < n; ++i) {
            t[i] = int256(uint256(s.targets[i]));
        }
    }

    // ================================================================= valuation

    /// @notice Balances and oracle prices now (reverts with an oracle's error).
    function valuation(Layout storage s, Env memory e) public view returns (Valuation memory v) {
        return _valuation(s, e, false);
    }

    /// @dev `valuation`; `feedOnly`: prices from `feedSpotWad` (the feed's checks without the TWAP cross-check;
    /// the upkeep cross-checks the traded asset's price with `spotWad` before it trades).
    function _valuation(Layout storage s, Env memory e, bool feedOnly) private view returns (Valuation memory v) {
        uint256 n = e.n;
        v.prices = new uint256[](n);
        v.balances = new uint256[](n);
        v.values = new uint256[](n);
        v.quoteBalance = e.quote.balanceOf(address(this));
        uint256[] memory h = e.holdings;
        for (uint256 i; i < n; ++i) {
            // the words of `packHolding`, read in place (no struct)
            uint256 cfg = h[3 * i];
            IPriceOracle oracle = IPriceOracle(address(uint160(h[3 * i + 1])));
            uint256 price = feedOnly ? oracle.feedSpotWad() : oracle.spotWad();
            uint256 balance = IERC20(address(uint160(cfg))).balanceOf(address(this));
            uint256 value = _value(balance, price, uint64(cfg >> 160), e.quoteScale);
            (v.prices[i], v.balances[i], v.values[i]) = (price, balance, value);
            v.risky += value;
        }
        v.nav = v.quoteBalance + v.risky;
    }

    /// @dev floor(balance x price x scale / (1e18 x quoteScale)): quote units.
    function _value(uint256 balance, uint256 priceWad, uint256 scale, uint256 quoteScale)
        private
        pure
        returns (uint256)
    {
        return Math.mulDiv(balance, priceWad * scale, WAD * quoteScale);
    }

    /// @notice The portfolio now (`IPortfolioVault.state`).
    function state(Layout storage s, Env memory e) external view returns (IPortfolioVault.PortfolioState memory st) {
        Valuation memory v = valuation(s, e);
        IPortfolioVault.RebalanceParams storage p = s.params;
        int256[] memory cov = _covariance(e);
        int256[] memory w = RebalanceMath.weightsWad(v.values, v.nav);
        bool set = s.head.targetsSetAt != 0;
        uint256 n = e.n;
        int256[] memory t = set ? _targetsWad(s, n) : new int256[](n);
        st.navQuote = v.nav;
        st.quoteBalance = v.quoteBalance;
        st.assets = new IPortfolioVault.AssetState[](n);
        int256[] memory d = new int256[](n);
        for (uint256 i; i < n; ++i) {
            d[i] = w[i] - t[i];
            st.assets[i] = IPortfolioVault.AssetState(
                v.balances[i],
                v.prices[i],
                v.values[i],
                uint256(w[i]),
                uint256(t[i]),
                RebalanceMath.bandWad(uint256(cov[i * n + i]), p.costBps, p.bandScaleBp, p.minBandWad, p.maxBandWad)
            );
        }
        (, int256 var54) = RebalanceMath.quadForm(w, cov);
        st.exAnteVolWad = RebalanceMath.volWad(var54);
        st.targetVolWad = s.targetVolWad;
        if (set) {
            (, int256 te54) = RebalanceMath.quadForm(d, cov);
            st.trackingErrorWad = RebalanceMath.volWad(te54);
        }
        (st.budgetAvailableQuote, st.budgetCapacityQuote,) = _budget(s, v.nav, p);
        st.targetsSetAt = s.head.targetsSetAt;
        st.covEpoch = e.cov.epoch();
    }

    // ================================================================= rebalancing

    /// @notice The slice an upkeep trades now (rules on `IPortfolioVault`), with the valuation it was planned on.
    function plan(Layout storage s, Env memory e) public view returns (Plan memory pl, Valuation memory v) {
        if (s.head.targetsSetAt == 0) revert IPortfolioVault.TargetsNotSet();
        IPortfolioVault.RebalanceParams storage p = s.params;
        v = _valuation(s, e, true);
        pl.cov = _covariance(e);
        uint256 n = e.n;
        pl.targets = _targetsWad(s, n);
        pl.weights = RebalanceMath.weightsWad(v.values, v.nav);
        int256[] memory d = new int256[](n);
        for (uint256 k; k < n; ++k) {
            d[k] = pl.weights[k] - pl.targets[k];
        }
        int256[] memory g;
        (g, pl.trackingVar54) = RebalanceMath.quadForm(d, pl.cov);
        uint256[] memory th = _thresholds(s, pl, d, g);
        (bool found, uint256 i) = _choose(d, g, th);
        if (!found || v.nav == 0) revert IPortfolioVault.NoRebalanceNeeded();
        pl.asset = i;
        pl.sale = d[i] > 0;
        // back to half the band short of the target (a band's threshold), all the way in risk-parity catch-up
        // and for a de-risking sale
        if (pl.keepWad != 0) pl.keepWad = (pl.deriskMask >> i) & 1 == 1 ? 0 : th[i] / 2;
        pl.budgetAvailable = _checkedBudget(s, v.nav, p);
        pl.valueQuote = _sliceValue(pl, v, d[i], g[i], pl.cov[i * n + i], p);
        _fitToPool(s, e, pl, v, p.maxSlippageBps);
    }

    /// @dev The slice in asset units at the traded asset's cross-checked price, cut to what its pool can trade
    /// within the bound (`PoolBeyondLimit` when nothing; `NoRebalanceNeeded` when it rounds to zero units).
    function _fitToPool(Layout storage s, Env memory e, Plan memory pl, Valuation memory v, uint256 slip)
        private
        view
    {
        uint256 i = pl.asset;
        AssetConfig memory a = _asset(e, i);
        // the traded asset's price cross-checked with the TWAP too: `feedSpotWad` then `checkTwap` on its answer in
        // one transaction is exactly `spotWad` (the same feed answer and errors), without reading the feed twice
        uint256 price = v.prices[i];
        IPriceOracle(a.oracle).checkTwap(price);
        pl.units = Math.mulDiv(pl.valueQuote, WAD * e.quoteScale, price * a.scale);
        (uint256 room, uint160 sqrtNow, uint160 limit) = BoundedSwap.capacity(_poolOf(a, e), !pl.sale, price, slip);
        if (room == 0) revert IPortfolioVault.PoolBeyondLimit(sqrtNow, limit);
        if (pl.units > room) {
            pl.units = room;
            pl.valueQuote = _value(room, price, a.scale, e.quoteScale);
        }
        if (pl.units == 0) revert IPortfolioVault.NoRebalanceNeeded();
    }

    /// @notice One upkeep: plan, trade the slice, check it, charge its cost, emit `Rebalanced`.
    function rebalance(Layout storage s, Env memory e) external {
        (Plan memory pl, Valuation memory v) = plan(s, e);
        uint256 slip = s.params.maxSlippageBps;
        uint256 i = pl.asset;
        AssetConfig memory a = _asset(e, i);
        int256 assetDelta;
        int256 quoteDelta;
        if (pl.sale) {
            (uint256 sold, uint256 received) =
                BoundedSwap.sell(_poolOf(a, e), pl.units, false, v.prices[i], slip, abi.encode(i));
            (assetDelta, quoteDelta) = (-int256(sold), int256(received));
        } else {
            (uint256 bought, uint256 paid) = BoundedSwap.buy(_poolOf(a, e), pl.units, v.prices[i], slip, abi.encode(i));
            (assetDelta, quoteDelta) = (int256(bought), -int256(paid));
        }
        uint256 navBefore = v.nav;
        // only the traded asset and the quote moved, by the pool's own amounts: the pool sent what it reports and
        // the callback paid exactly what it asked (standard ERC-20 holdings, `IPortfolioVault`), so the balances
        // after are the ones before plus the deltas, without reading them again (a sale sells at most the balance,
        // a buy pays at most the quote balance: both stay >= 0)
        v.balances[i] = uint256(int256(v.balances[i]) + assetDelta);
        v.values[i] = _value(v.balances[i], v.prices[i], a.scale, e.quoteScale);
        v.quoteBalance = uint256(int256(v.quoteBalance) + quoteDelta);
        v.nav = v.quoteBalance;
        for (uint256 k; k < v.values.length; ++k) {
            v.nav += v.values[k];
        }
        (uint256 cost, uint256 teAfterWad) = _checkSlice(s, pl, v, navBefore);
        emit IPortfolioVault.Rebalanced(
            i, assetDelta, quoteDelta, cost, RebalanceMath.volWad(pl.trackingVar54), teAfterWad
        );
    }

    /// @dev The post-trade checks of a slice (rules on `IPortfolioVault`) and its charge to the budget.
    function _checkSlice(Layout storage s, Plan memory pl, Valuation memory v, uint256 navBefore)
        private
        returns (uint256 cost, uint256 teAfterWad)
    {
        uint256 i = pl.asset;
        int256[] memory w = RebalanceMath.weightsWad(v.values, v.nav);
        int256 before = pl.weights[i] - pl.targets[i];
        int256 afterD = w[i] - pl.targets[i];
        if ((afterD < 0 ? -afterD : afterD) >= (before < 0 ? -before : before)) {
            revert IPortfolioVault.WeightNotTowardTarget(
                i, uint256(pl.weights[i]), uint256(w[i]), uint256(pl.targets[i])
            );
        }
        int256[] memory d = new int256[](w.length);
        for (uint256 k; k < w.length; ++k) {
            d[k] = w[k] - pl.targets[k];
        }
        (, int256 te54) = RebalanceMath.quadForm(d, pl.cov);
        if (te54 >= pl.trackingVar54) {
            revert IPortfolioVault.TradeIncreasesTrackingError(
                RebalanceMath.volWad(pl.trackingVar54), RebalanceMath.volWad(te54)
            );
        }
        IPortfolioVault.RebalanceParams storage p = s.params;
        if ((navBefore - Math.min(navBefore, v.nav)) * BPS > navBefore * p.maxNavLossBps) {
            revert IPortfolioVault.NavLossTooLarge(navBefore, v.nav, p.maxNavLossBps);
        }
        _checkVolBand(s, w, pl);
        teAfterWad = RebalanceMath.volWad(te54);
        cost = _charge(s, navBefore, v.nav, pl.budgetAvailable, p);
    }

    /// @dev Charge the slice's cost max(NAV before - NAV after, 0) to the leaky bucket (it must fit what is
    /// available: `SlippageBudgetSpent`).
    function _charge(
        Layout storage s,
        uint256 navBefore,
        uint256 navAfter,
        uint256 available,
        IPortfolioVault.RebalanceParams storage p
    ) private returns (uint256 cost) {
        cost = navBefore > navAfter ? navBefore - navAfter : 0;
        if (cost == 0) return 0;
        if (cost > available) revert IPortfolioVault.SlippageBudgetSpent(available, cost);
        (,, uint256 level) = _budget(s, navBefore, p);
        // level + cost <= capacity <= NAV x 2000 / 1e4: fits 112 bits for any NAV below 2^111
        (s.head.budgetLevelQuote, s.head.budgetUpdatedAt) = (uint112(level + cost), uint40(block.timestamp));
    }

    /// @dev TargetVol mode: the ex-ante variance no farther from the band than before the slice.
    function _checkVolBand(Layout storage s, int256[] memory w, Plan memory pl) private view {
        StoredRules storage r = s.rules;
        if (r.mode != IPortfolioMath.Mode.TargetVol) return;
        (, int256 var54) = RebalanceMath.quadForm(w, pl.cov);
        (uint256 lo, uint256 hi) = (r.minVolWad, r.maxVolWad);
        if (RebalanceMath.bandDistance54(var54, lo, hi) > RebalanceMath.bandDistance54(pl.variance54, lo, hi)) {
            revert IPortfolioVault.VolMovedAwayFromBand(
                RebalanceMath.volWad(pl.variance54), RebalanceMath.volWad(var54), lo, hi
            );
        }
    }

    /// @dev The asset to trade: more than its threshold from its target (`_thresholds`) with d_i g_i > 0;
    /// sales before buys; the largest |d_i| / threshold_i.
    function _choose(int256[] memory d, int256[] memory g, uint256[] memory threshold)
        private
        pure
        returns (bool found, uint256 best)
    {
        uint256 bestGap;
        uint256 bestBand = 1;
        bool bestSale;
        for (uint256 i; i < d.length; ++i) {
            int256 di = d[i];
            if (di == 0 || g[i] == 0 || (di > 0) != (g[i] > 0)) continue;
            uint256 gap = di < 0 ? uint256(-di) : uint256(di);
            uint256 band = threshold[i];
            if (gap <= band) continue;
            bool sale = di > 0;
            // sales first; then the largest gap / band (cross-multiplied: both below 2^61)
            if (!found || (sale && !bestSale) || (sale == bestSale && gap * bestBand > bestGap * band)) {
                (found, best, bestGap, bestBand, bestSale) = (true, i, gap, band, sale);
            }
        }
    }

    /// @dev How far each weight may drift before an upkeep trades it: its no-trade band; in risk-parity mode
    /// while some risk contribution of the held weights is off its budget by more than `p.rcToleranceWad`,
    /// `p.rcDustWad` for every asset whose step (`RebalanceMath.stepWad`: the gap, or the step to the tracking
    /// error's minimum along it) exceeds `p.rcDustWad`, and no trade for the others (the upkeeps then trade
    /// every asset off its target, not only those beyond their bands, until the contributions are back within
    /// the tolerance; a dust step would stop them: its slice rounds to nothing).
    /// In TargetVol mode while the held weights' ex-ante volatility is above the rules' band by more than
    /// `p.deriskMarginBps` (relative: maxVol x (1 + margin)), an asset whose sale
    /// de-risks (`RebalanceMath.deriskMask`: held above its target, its sale lowering the variance and the
    /// tracking error, its step above `p.rcDustWad`) is exempt from its band: its threshold is `p.rcDustWad` and
    /// it is sold all the way to its target (`pl.deriskMask`); the other assets keep their bands.
    /// Sets `pl.variance54` (w'Sw; TargetVol and RiskParity modes, the only readers), `pl.deriskMask` and
    /// `pl.keepWad` to 1 when the thresholds are the bands or the de-risking dust (0 otherwise).
    function _thresholds(Layout storage s, Plan memory pl, int256[] memory d, int256[] memory g)
        private
        view
        returns (uint256[] memory t)
    {
        uint256 n = pl.weights.length;
        t = new uint256[](n);
        IPortfolioMath.Mode mode = s.rules.mode;
        IPortfolioVault.RebalanceParams storage p = s.params;
        bool rcOff;
        if (mode != IPortfolioMath.Mode.MinVariance) {
            int256[] memory gw;
            (gw, pl.variance54) = RebalanceMath.quadForm(pl.weights, pl.cov);
            rcOff = mode == IPortfolioMath.Mode.RiskParity
                && RebalanceMath.riskContributionsOff(
                    pl.weights, gw, pl.variance54, _widen(s.rules.budgetWad), p.rcToleranceWad
                );
            if (mode == IPortfolioMath.Mode.TargetVol) {
                pl.deriskMask = RebalanceMath.deriskMask(
                    d, g, gw, pl.variance54, pl.cov, s.rules.maxVolWad, p.deriskMarginBps, p.rcDustWad
                );
            }
        }
        pl.keepWad = rcOff ? 0 : 1;
        if (rcOff) {
            uint256 dust = p.rcDustWad;
            for (uint256 i; i < n; ++i) {
                t[i] = RebalanceMath.stepWad(d[i], g[i], pl.cov[i * n + i]) > dust ? dust : type(uint256).max;
            }
            return t;
        }
        // one slot: read once
        (uint256 costBps, uint256 scaleBp, uint256 minBand, uint256 maxBand) =
            (p.costBps, p.bandScaleBp, p.minBandWad, p.maxBandWad);
        uint256 mask = pl.deriskMask;
        for (uint256 i; i < n; ++i) {
            if ((mask >> i) & 1 == 1) {
                // de-risking: exempt from its band (`RebalanceMath.deriskMask`)
                t[i] = p.rcDustWad;
                continue;
            }
            // `_choose` passes over an asset whose gap is within the least band (band >= minBand): its band (a cube
            // root) is not needed, and no threshold trades it
            int256 di = d[i];
            // |d_i| <= 1e18: no overflow
            unchecked {
                if ((di < 0 ? uint256(-di) : uint256(di)) <= minBand) {
                    t[i] = type(uint256).max;
                    continue;
                }
            }
            t[i] = RebalanceMath.bandWad(uint256(pl.cov[i * n + i]), costBps, scaleBp, minBand, maxBand);
        }
    }

    /// @dev The slice's quote value: the least of the step (to `pl.keepWad` short of the target, or to the
    /// tracking error's minimum along the asset), the NAV-loss and budget caps at the worst price, and (a buy)
    /// what the quote balance pays at the worst price.
    function _sliceValue(
        Plan memory pl,
        Valuation memory v,
        int256 di,
        int256 gi,
        int256 sii,
        IPortfolioVault.RebalanceParams storage p
    ) private view returns (uint256 value) {
        uint256 slip = p.maxSlippageBps;
        uint256 step = RebalanceMath.stepWad(di, gi, sii);
        // the chosen asset's gap exceeds its threshold, twice the keep: gap - keep > 0
        uint256 toKeep = (di < 0 ? uint256(-di) : uint256(di)) - pl.keepWad;
        value = Math.mulDiv(Math.min(step, toKeep), v.nav, WAD);
        // a slice costs at most value x slip / 1e4 + 2 (rounding): keep that within the loss bound and budget
        uint256 lossRoom = v.nav * p.maxNavLossBps / BPS;
        value = Math.min(value, lossRoom > 2 ? (lossRoom - 2) * BPS / slip : 0);
        value = Math.min(value, pl.budgetAvailable > 2 ? (pl.budgetAvailable - 2) * BPS / slip : 0);
        // a buy lands at most its value at the oracle while NAV falls by its cost: aim short by the worst cost
        if (!pl.sale) value = Math.min(value * (BPS - slip) / BPS, v.quoteBalance * BPS / (BPS + slip));
    }

    /// @dev The budget available, after reverting `SlippageBudgetSpent` when it is below the worst cost of the
    /// least slice (NAV x minBandWad / 2 at maxSlippageBps).
    function _checkedBudget(Layout storage s, uint256 nav, IPortfolioVault.RebalanceParams storage p)
        private
        view
        returns (uint256 available)
    {
        (available,,) = _budget(s, nav, p);
        uint256 needed = Math.mulDiv(nav * p.minBandWad / (2 * WAD), p.maxSlippageBps, BPS, Math.Rounding.Ceil);
        if (available < needed || available <= 2) revert IPortfolioVault.SlippageBudgetSpent(available, needed);
    }

    /// @dev The leaky bucket now: (available, capacity, level) in quote units.
    function _budget(Layout storage s, uint256 nav, IPortfolioVault.RebalanceParams storage p)
        private
        view
        returns (uint256 available, uint256 capacity, uint256 level)
    {
        Head memory h = s.head;
        capacity = nav * p.budgetBps / BPS;
        uint256 drained = Math.mulDiv(capacity, block.timestamp - h.budgetUpdatedAt, p.budgetPeriodSec);
        level = h.budgetLevelQuote > drained ? h.budgetLevelQuote - drained : 0;
        available = capacity > level ? capacity - level : 0;
    }

    function _poolOf(AssetConfig memory a, Env memory e) private pure returns (BoundedSwap.Pool memory) {
        return BoundedSwap.Pool(IUniswapV3PoolMinimal(a.pool), a.isToken0, a.feePips, a.scale, e.quoteScale);
    }

    // ================================================================= withdrawals

    /// @notice Sell every asset pro rata to its value for `shortfall` (<= the risky value) quote units
    /// (exactQuoteOut: exact outputs summing to the shortfall; else exact inputs worth at least each share at
    /// the oracle); returns the realised cost max(NAV before - NAV after, 0).
    function sellProRata(
        Layout storage s,
        Env memory e,
        Valuation memory v,
        address owner,
        uint256 shortfall,
        bool exactQuoteOut
    ) external returns (uint256 cost) {
        uint256[] memory shares = _proRata(v, shortfall);
        uint256 raised;
        for (uint256 i; i < shares.length; ++i) {
            if (shares[i] == 0) continue;
            (uint256 sold, uint256 received) = _sellShare(s, e, v, i, shares[i], exactQuoteOut);
            raised += received;
            v.balances[i] -= sold;
        }
        uint256 n = shares.length;
        uint256 riskyAfter;
        for (uint256 i; i < n; ++i) {
            riskyAfter += _value(v.balances[i], v.prices[i], _scale(e, i), e.quoteScale);
        }
        uint256 navAfter = e.quote.balanceOf(address(this)) + riskyAfter;
        cost = v.nav > navAfter ? v.nav - navAfter : 0;
        emit IPortfolioVault.WithdrawalSales(owner, v.risky - riskyAfter, raised, cost);
    }

    /// @dev The shortfall split pro rata to the values (floor; the last held asset takes the remainder, so the
    /// shares sum to the shortfall).
    function _proRata(Valuation memory v, uint256 shortfall) private pure returns (uint256[] memory shares) {
        uint256 n = v.values.length;
        shares = new uint256[](n);
        uint256 last;
        for (uint256 i; i < n; ++i) {
            if (v.values[i] != 0) last = i;
        }
        uint256 allocated;
        for (uint256 i; i < last; ++i) {
            // shortfall <= risky value: each share <= its value, and allocated <= shortfall
            shares[i] = Math.mulDiv(shortfall, v.values[i], v.risky);
            allocated += shares[i];
        }
        shares[last] = shortfall - allocated;
    }

    /// @dev One pro-rata sale: exactly `share` quote out, or the asset units worth at least `share` at the
    /// oracle (rounded up, at most the balance) in; `SaleIncomplete` when the pool fills less within the bound.
    function _sellShare(
        Layout storage s,
        Env memory e,
        Valuation memory v,
        uint256 i,
        uint256 share,
        bool exactQuoteOut
    ) private returns (uint256 sold, uint256 received) {
        uint256 slip = s.params.maxSlippageBps;
        AssetConfig memory a = _asset(e, i);
        uint256 wanted = exactQuoteOut
            ? share
            : Math.min(
                Math.mulDiv(share, WAD * e.quoteScale, v.prices[i] * a.scale, Math.Rounding.Ceil), v.balances[i]
            );
        (sold, received) = BoundedSwap.sell(_poolOf(a, e), wanted, exactQuoteOut, v.prices[i], slip, abi.encode(i));
        uint256 filled = exactQuoteOut ? received : sold;
        if (filled < wanted) revert IPortfolioVault.SaleIncomplete(i, wanted, filled);
    }

    /// @notice The most a redemption's exact-input sales for `shortfall` can cost: each asset's sale is worth at
    /// most its share plus one unit's value and loses at most the slippage of it, plus 3 units of rounding per
    /// asset.
    function worstRedeemCost(Layout storage s, Env memory e, Valuation memory v, uint256 shortfall)
        public
        view
        returns (uint256)
    {
        if (shortfall == 0) return 0;
        uint256 n = v.prices.length;
        uint256 units;
        for (uint256 i; i < n; ++i) {
            units += Math.mulDiv(v.prices[i], _scale(e, i), WAD * e.quoteScale, Math.Rounding.Ceil);
        }
        return Math.mulDiv(shortfall + units, s.params.maxSlippageBps, BPS, Math.Rounding.Ceil) + 3 * n + 1;
    }

    /// @notice The most a withdrawal's exact-output sales raising `shortfall` can cost: R / (1 - slippage) - R
    /// plus rounding per asset.
    function worstWithdrawCost(Layout storage s, uint256 n, uint256 shortfall) public view returns (uint256) {
        if (shortfall == 0) return 0;
        uint256 slip = s.params.maxSlippageBps;
        return Math.mulDiv(shortfall * slip + 2 * n * BPS, 1, BPS - slip, Math.Rounding.Ceil) + n + 1;
    }

    /// @notice (maxWithdraw, maxRedeem) of an owner of `shares` at NAV - swing `navW`, with `toAssets` /
    /// `toShares` given by the vault's supply: see `IPortfolioVault.exitLimits`.
    function exitLimits(Layout storage s, Env memory e, uint256 shares, uint256 supplyPlusVirtual)
        external
        view
        returns (uint256 maxAssets, uint256 maxShares)
    {
        Valuation memory v = valuation(s, e);
        uint256 swing = Math.mulDiv(v.risky, s.params.feedDeviationBps, BPS, Math.Rounding.Ceil);
        uint256 navW1 = (v.nav > swing ? v.nav - swing : 0) + 1;
        uint256 gross = Math.mulDiv(shares, navW1, supplyPlusVirtual);
        uint256 room = v.quoteBalance + _saleRoom(s, e, v);
        maxAssets = gross;
        if (gross > v.quoteBalance) {
            uint256 worst = worstWithdrawCost(s, e.n, gross - v.quoteBalance);
            maxAssets = gross > worst ? gross - worst : 0;
        }
        maxAssets = Math.min(maxAssets, room);
        maxShares = gross <= room ? shares : Math.mulDiv(room, supplyPlusVirtual, navW1);
        // a redemption worth nothing after its worst cost reverts ZeroAssets
        uint256 g = Math.mulDiv(maxShares, navW1, supplyPlusVirtual);
        uint256 worstR = g > v.quoteBalance ? worstRedeemCost(s, e, v, g - v.quoteBalance) : 0;
        if (g <= worstR) maxShares = 0;
    }

    /// @dev The largest shortfall the pro-rata sales can raise within the bound: for each held asset, its pool's
    /// capacity (with a haircut) at the worst price, less one unit and rounding, scaled by risky / value_i.
    function _saleRoom(Layout storage s, Env memory e, Valuation memory v) private view returns (uint256 room) {
        room = v.risky;
        uint256 n = v.values.length;
        uint256 slip = s.params.maxSlippageBps;
        for (uint256 i; i < n; ++i) {
            if (v.values[i] == 0) continue;
            AssetConfig memory a = _asset(e, i);
            (uint256 capUnits,,) = BoundedSwap.capacity(_poolOf(a, e), false, v.prices[i], slip);
            capUnits = capUnits * CAPACITY_HAIRCUT_BPS / BPS;
            uint256 capQuote = _value(capUnits, v.prices[i], a.scale, e.quoteScale) * (BPS - slip) / BPS;
            uint256 margin = Math.mulDiv(v.prices[i], a.scale, WAD * e.quoteScale, Math.Rounding.Ceil) + n + 2;
            uint256 assetRoom = capQuote > margin ? Math.mulDiv(capQuote - margin, v.risky, v.values[i]) : 0;
            room = Math.min(room, assetRoom);
        }
    }
}
