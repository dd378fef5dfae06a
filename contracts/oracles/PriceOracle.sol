// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {AggregatorProxyInterface} from "../../interfaces/AggregatorProxyInterface.sol";
import {AggregatorV3Interface} from "../../interfaces/AggregatorV3Interface.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {IUniswapV3PoolMinimal} from "../../interfaces/IUniswapV3.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title PriceOracle
/// @notice Fail-closed spot price of an underlying in a quote token: Chainlink feed checks, optional L2
/// sequencer feed with grace period, and a cross-check against a Uniswap V3 pool's TWAP. See `IPriceOracle`.
contract PriceOracle is IPriceOracle, AccessControl {
    using FixedPointMath for uint256;

    /// @dev round(ln(1.0001) * 2^96): a tick is a factor 1.0001 of price.
    int256 internal constant LN_TICK_BASE_Q96 = 7922420137021269396801471;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    /// @dev Chainlink proxy round ids: (phaseId << PHASE_OFFSET) | aggregator round id.
    uint256 internal constant PHASE_OFFSET = 64;

    /// @inheritdoc IPriceOracle
    AggregatorV3Interface public immutable feed;
    /// @notice The L2 sequencer-uptime feed, or zero when the chain has none.
    AggregatorV3Interface public immutable sequencerFeed;
    IUniswapV3PoolMinimal public immutable pool;
    /// @notice True when the underlying is the pool's token0.
    bool public immutable underlyingIsToken0;
    /// @dev 10^(18 - feed decimals): feed answer -> wad.
    uint256 internal immutable _feedScale;
    /// @dev True when the feed is a proxy with phases (answers `phaseId()`); otherwise the feed is its own
    /// one and only phase 0, its round ids plain aggregator round ids.
    bool internal immutable _feedHasPhases;
    /// @dev 10^underlyingDecimals * 1e18 / 10^quoteDecimals: raw pool price (quote raw per underlying
    /// raw) -> wad price.
    uint256 internal immutable _poolScaleWad;

    /// @notice Current settings.
    OracleParams public params;

    constructor(
        address admin,
        AggregatorV3Interface feed_,
        AggregatorV3Interface sequencerFeed_,
        IUniswapV3PoolMinimal pool_,
        IERC20Metadata underlying,
        IERC20Metadata quote,
        OracleParams memory initialParams
    ) {
        feed = feed_;
        sequencerFeed = sequencerFeed_;
        pool = pool_;
        address token0 = pool_.token0();
        address token1 = pool_.token1();
        bool isToken0 = token0 == address(underlying) && token1 == address(quote);
        if (!isToken0 && !(token1 == address(underlying) && token0 == address(quote))) {
            revert PoolTokenMismatch(address(pool_), address(underlying), address(quote));
        }
        underlyingIsToken0 = isToken0;
        _feedScale = 10 ** (18 - feed_.decimals());
        (bool answered, bytes memory phaseData) =
            address(feed_).staticcall(abi.encodeCall(AggregatorProxyInterface.phaseId, ()));
        _feedHasPhases = answered && phaseData.length == 32;
        _poolScaleWad = 10 ** (18 + uint256(underlying.decimals()) - uint256(quote.decimals()));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParams(initialParams);
    }

    /// @inheritdoc IPriceOracle
    function setParams(OracleParams calldata newParams) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParams(newParams);
    }

    /// @inheritdoc IPriceOracle
    function spotWad() public view returns (uint256 priceWad) {
        OracleParams memory p = params;
        priceWad = _checkedFeed(p);
        _checkTwap(priceWad, p);
    }

    /// @inheritdoc IPriceOracle
    function checkTwap(uint256 priceWad) external view {
        _checkTwap(priceWad, params);
    }

    /// @dev Reverts `TwapDeviation` when `priceWad` is more than `maxTwapDeviationBps` from the pool's TWAP
    /// (`TwapUnavailable` when the pool cannot answer).
    function _checkTwap(uint256 priceWad, OracleParams memory p) internal view {
        uint256 twap = _twapWad(p.twapWindowSec);
        if (_deviationBps(priceWad, twap) > p.maxTwapDeviationBps) {
            revert TwapDeviation(priceWad, twap, p.maxTwapDeviationBps);
        }
    }

    /// @inheritdoc IPriceOracle
    function feedSpotWad() external view returns (uint256) {
        return _checkedFeed(params);
    }

    /// @inheritdoc IPriceOracle
    function swapSpotWad() external view returns (uint256 priceWad) {
        priceWad = spotWad();
        checkPoolPrice(priceWad);
    }

    /// @inheritdoc IPriceOracle
    function checkPoolPrice(uint256 priceWad) public view {
        uint256 poolPrice = poolSpotWad();
        uint256 maxBps = params.maxPoolDeviationBps;
        if (_deviationBps(priceWad, poolPrice) > maxBps) revert PoolPriceDeviation(priceWad, poolPrice, maxBps);
    }

    /// @inheritdoc IPriceOracle
    function firstRoundAtOrAfter(uint256 notBefore) external view returns (uint80 roundId) {
        (bool ok, uint16 phase) = _currentPhase();
        if (!ok) return 0;
        // phases from the current one back: stop at the phase that holds the crossing of notBefore, or
        // at a phase that ended before notBefore (the candidate is then the first round of a later phase)
        for (uint256 p = uint256(phase) + 1; p > 0;) {
            --p;
            (bool read, AggregatorV3Interface aggregator, uint64 latest, uint256 latestUpdatedAt) = _phaseLatest(p);
            if (!read) return 0;
            if (latest == 0) continue; // a phase without rounds
            if (latestUpdatedAt < notBefore) break;
            uint256 firstUpdatedAt;
            (read, firstUpdatedAt) = _updatedAt(aggregator, 1);
            if (!read) return 0;
            if (firstUpdatedAt >= notBefore) {
                // the whole phase is at or after notBefore: its first round, unless an earlier phase has one
                roundId = _proxyRoundId(p, 1);
                continue;
            }
            // updatedAt(low) < notBefore <= updatedAt(high); rounds are monotone in time within a phase
            uint64 low = 1;
            uint64 high = latest;
            while (high - low > 1) {
                // low < mid < high: no overflow, and the gap halves on every step
                uint64 mid = low + (high - low) / 2;
                uint256 midUpdatedAt;
                (read, midUpdatedAt) = _updatedAt(aggregator, mid);
                if (!read) return 0;
                if (midUpdatedAt >= notBefore) high = mid;
                else low = mid;
            }
            roundId = _proxyRoundId(p, high);
            break;
        }
        if (roundId == 0) return 0;
        // the hint is one that settlement accepts, or none: checked by the very code that settles
        try this.settlementPriceWad(roundId, notBefore) returns (uint256) {
            return roundId;
        } catch {
            return 0;
        }
    }

    /// @inheritdoc IPriceOracle
    function poolSpotWad() public view returns (uint256) {
        (uint160 sqrtPriceX96,,,,,,) = pool.slot0();
        uint256 sqrtP = sqrtPriceX96;
        if (underlyingIsToken0) {
            // token1 per token0 = sqrtP^2 / 2^192; sqrtP < 2^160 so sqrtP^2 / 2^64 < 2^256
            return sqrtP.mulDivDown(sqrtP, 1 << 64).mulDivDown(_poolScaleWad, 1 << 128);
        }
        // quote is token0: price = 2^192 / sqrtP^2
        return _poolScaleWad.mulDivDown(1 << 96, sqrtP).mulDivDown(1 << 96, sqrtP);
    }

    /// @inheritdoc IPriceOracle
    function twapWad() external view returns (uint256) {
        return _twapWad(params.twapWindowSec);
    }

    /// @inheritdoc IPriceOracle
    function settlementPriceWad(uint80 roundId, uint256 notBefore) external view returns (uint256) {
        (, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = feed.getRoundData(roundId);
        if (answer <= 0) revert FeedAnswerNotPositive(roundId, answer);
        if (updatedAt == 0 || answeredInRound < roundId) {
            revert FeedRoundIncomplete(roundId, updatedAt, answeredInRound);
        }
        if (updatedAt < notBefore) revert InvalidSettlementRound(roundId, updatedAt, notBefore);
        _checkRoundBefore(roundId, updatedAt, notBefore);
        return uint256(answer) * _feedScale;
    }

    /// @dev Reverts unless the round before `roundId` (updated at `updatedAt` >= `notBefore`) was updated
    /// before `notBefore`: `roundId - 1` within the phase; for a phase's first round, the latest round of
    /// the nearest earlier phase that has rounds (none before the first phase).
    function _checkRoundBefore(uint80 roundId, uint256 updatedAt, uint256 notBefore) internal view {
        if (uint64(roundId) > 1) {
            try feed.getRoundData(roundId - 1) returns (uint80, int256, uint256, uint256 previousUpdatedAt, uint80) {
                if (previousUpdatedAt >= notBefore) revert InvalidSettlementRound(roundId, updatedAt, notBefore);
                return;
            } catch {
                revert SettlementRoundUnverifiable(roundId, roundId - 1);
            }
        }
        for (uint256 p = roundId >> PHASE_OFFSET; p > 0;) {
            --p;
            (bool read,, uint64 latest, uint256 latestUpdatedAt) = _phaseLatest(p);
            if (!read) revert SettlementRoundUnverifiable(roundId, _proxyRoundId(p, 0));
            if (latest == 0) continue; // a phase without rounds
            if (latestUpdatedAt >= notBefore) {
                revert SettlementRoundNotFirst(roundId, _proxyRoundId(p, latest), latestUpdatedAt, notBefore);
            }
            return;
        }
    }

    /// @dev The feed's current phase (0 for a feed without phases); `ok` false when it cannot be read.
    function _currentPhase() internal view returns (bool ok, uint16 phase) {
        if (!_feedHasPhases) return (true, 0);
        try AggregatorProxyInterface(address(feed)).phaseId() returns (uint16 current) {
            return (true, current);
        } catch {
            return (false, 0);
        }
    }

    /// @dev Phase `phase`'s aggregator and its latest round (plain aggregator round id, 0 when the phase has
    /// no aggregator or no round yet); `read` false when the proxy or the aggregator cannot be read.
    function _phaseLatest(uint256 phase)
        internal
        view
        returns (bool read, AggregatorV3Interface aggregator, uint64 latest, uint256 latestUpdatedAt)
    {
        if (!_feedHasPhases) {
            aggregator = feed;
        } else {
            try AggregatorProxyInterface(address(feed)).phaseAggregators(uint16(phase)) returns (
                AggregatorV3Interface a
            ) {
                aggregator = a;
            } catch {
                return (false, aggregator, 0, 0);
            }
            if (address(aggregator) == address(0)) return (true, aggregator, 0, 0);
            // a call to an address without code would fail to decode outside the try
            if (address(aggregator).code.length == 0) return (false, aggregator, 0, 0);
        }
        try aggregator.latestRoundData() returns (uint80 r, int256, uint256, uint256 u, uint80) {
            if (r > type(uint64).max) return (false, aggregator, 0, 0);
            return (true, aggregator, uint64(r), u);
        } catch {
            return (false, aggregator, 0, 0);
        }
    }

    /// @dev `updatedAt` of `aggregator`'s round `aggregatorRoundId`; `read` false when the read reverts.
    function _updatedAt(AggregatorV3Interface aggregator, uint64 aggregatorRoundId)
        internal
        view
        returns (bool read, uint256 updatedAt)
    {
        try aggregator.getRoundData(aggregatorRoundId) returns (uint80, int256, uint256, uint256 u, uint80) {
            return (true, u);
        } catch {
            return (false, 0);
        }
    }

    function _proxyRoundId(uint256 phase, uint64 aggregatorRoundId) internal pure returns (uint80) {
        return uint80((phase << PHASE_OFFSET) | aggregatorRoundId);
    }

    function _checkedFeed(OracleParams memory p) internal view returns (uint256) {
        if (address(sequencerFeed) != address(0)) {
            (, int256 status, uint256 startedAt,,) = sequencerFeed.latestRoundData();
            if (status != 0) revert SequencerDown(status);
            if (block.timestamp - startedAt <= p.sequencerGraceSec) {
                revert SequencerGracePeriod(startedAt, p.sequencerGraceSec);
            }
        }
        (uint80 roundId, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = feed.latestRoundData();
        if (answer <= 0) revert FeedAnswerNotPositive(roundId, answer);
        if (updatedAt == 0 || answeredInRound < roundId) {
            revert FeedRoundIncomplete(roundId, updatedAt, answeredInRound);
        }
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > p.heartbeatSec) {
            revert FeedStale(updatedAt, block.timestamp, p.heartbeatSec);
        }
        return uint256(answer) * _feedScale;
    }

    function _twapWad(uint32 windowSec) internal view returns (uint256) {
        uint32[] memory secondsAgos = new uint32[](2);
        secondsAgos[0] = windowSec;
        int56[] memory cumulatives;
        try pool.observe(secondsAgos) returns (int56[] memory tickCumulatives, uint160[] memory) {
            cumulatives = tickCumulatives;
        } catch {
            revert TwapUnavailable(windowSec);
        }
        int256 delta = int256(cumulatives[1]) - int256(cumulatives[0]);
        int256 window = int256(uint256(windowSec));
        int256 meanTick = delta / window;
        // round toward negative infinity, so a negative mean is not biased up
        if (delta < 0 && delta % window != 0) meanTick -= 1;
        return _tickToSpotWad(meanTick);
    }

    /// @dev Quote per underlying in wad at `tick` (token1 per token0 raw = 1.0001^tick). e^{-|tick| ln 1.0001}
    /// stays inside `expQ96`'s domain for every tick; the price is that factor or its inverse.
    /// Note: This function is an approximation: relative error below 1e-18 (expQ96's 2e-19 plus roundings),
    /// far inside any deviation bound it is compared with.
    function _tickToSpotWad(int256 tick) internal view returns (uint256) {
        int256 absTick = tick < 0 ? -tick : tick;
        uint256 factorQ96 = FixedPointMath.expQ96(-absTick * LN_TICK_BASE_Q96);
        if (factorQ96 == 0) revert TwapUnavailable(params.twapWindowSec);
        // factor = 1.0001^-|tick|; the quote-per-underlying price is 1 / factor when the tick and the
        // token order point the same way
        bool inverse = (tick >= 0) == underlyingIsToken0;
        return inverse
            ? _poolScaleWad.mulDivDown(FixedPointMath.Q96, factorQ96)
            : factorQ96.mulDivDown(_poolScaleWad, FixedPointMath.Q96);
    }

    function _deviationBps(uint256 base, uint256 other) internal pure returns (uint256) {
        uint256 diff = base > other ? base - other : other - base;
        return diff.mulDivUp(BPS, base);
    }

    function _setParams(OracleParams memory p) internal {
        _checkBound("heartbeatSec", p.heartbeatSec, 60, 2 days);
        _checkBound("sequencerGraceSec", p.sequencerGraceSec, 0, 1 days);
        _checkBound("twapWindowSec", p.twapWindowSec, 60, 1 days);
        _checkBound("maxTwapDeviationBps", p.maxTwapDeviationBps, 10, 2000);
        _checkBound("maxPoolDeviationBps", p.maxPoolDeviationBps, 10, 2000);
        params = p;
        emit OracleParamsSet(p);
    }

    function _checkBound(bytes32 name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert OracleParamOutOfBounds(name, value, min, max);
    }
}
