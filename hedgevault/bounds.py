"""The hard bounds the contracts enforce on their parameters, mirrored so that a deployment (or a queued change)
with a value the contract would refuse stops before anything is sent: `BookMarking.checkParameters`
(`ParamOutOfBounds`), `PriceOracle._setParams` (`OracleParamOutOfBounds`), `AaveHedger._setParams`
(`HedgerParamOutOfBounds`) and `VolatilityOracle` (`VolParams.hard_bounds`). A test checks every bound against
the contracts at its edge and one past it (tests/deployment/test_bounds.py)."""

from __future__ import annotations

from dataclasses import dataclass

from hedgevault.params import ExposureLimits, HedgeParams, HedgerParams, RiskParams, SuiteConfig

WAD = 10**18
DAY = 86_400
#: `BookMarking.MAX_SERIES`.
MAX_SERIES = 64


@dataclass(frozen=True)
class Bound:
    """Field ``field`` of section ``section`` (the config's key) must lie in [lo, hi]; ``name`` is the
    contract's parameter name, as its error reports it."""

    section: str
    field: str
    name: str
    lo: int
    hi: int


def vault_bounds(risk: RiskParams, limits: ExposureLimits, hedge: HedgeParams) -> list[Bound]:
    """`BookMarking.checkParameters`, in its order (the contract reports the first failure)."""
    return [
        Bound("risk", "hf_floor_wad", "hfFloorWad", WAD, 3 * WAD),
        Bound("risk", "spot_shock_up_bps", "spotShockUpBps", 100, 9000),
        Bound("risk", "spot_shock_down_bps", "spotShockDownBps", 100, 9000),
        Bound("risk", "vol_shock_wad", "volShockWad", WAD // 100, 2 * WAD),
        Bound("risk", "spread_bps", "spreadBps", 0, 2000),
        Bound("risk", "fee_bps", "feeBps", 0, 1000),
        Bound("risk", "trading_cutoff_sec", "tradingCutoffSec", 0, 7 * DAY),
        Bound("risk", "max_live_series", "maxLiveSeries", 1, MAX_SERIES),
        Bound("risk", "rate_wad", "rateWad", -WAD // 10, WAD // 2),
        Bound("risk", "cache_spot_band_bps", "cacheSpotBandBps", 10, 1000),
        Bound("risk", "cache_max_age_sec", "cacheMaxAgeSec", 60, DAY),
        Bound("limits", "max_open_interest_wad", "maxOpenInterestWad", 1, 10**30),
        Bound("limits", "max_net_delta_wad", "maxNetDeltaWad", 0, 10**30),
        Bound("limits", "max_vega_wad", "maxVegaWad", 0, 10**36),
        Bound("hedge", "delta_band_wad", "deltaBandWad", 10**12, 10**30),
        Bound("hedge", "dust_delta_wad", "dustDeltaWad", 0, hedge.delta_band_wad),
        Bound("hedge", "hedge_interval_sec", "hedgeIntervalSec", 60, 7 * DAY),
        Bound("hedge", "max_slippage_bps", "maxSlippageBps", 1, 500),
        Bound("hedge", "max_nav_loss_bps", "maxNavLossBps", 1, 1000),
        Bound("risk", "feed_deviation_bps", "feedDeviationBps", 10, 500),
        Bound("risk", "min_premium_bps", "minPremiumBps", 100, 10_000),
        Bound("risk", "outage_exit_delay_sec", "outageExitDelaySec", 3600, 7 * DAY),
        Bound("risk", "max_pause_sec", "maxPauseSec", DAY, 30 * DAY),
    ]


def oracle_bounds() -> list[Bound]:
    """`PriceOracle._setParams`."""
    return [
        Bound("oracle", "heartbeat_sec", "heartbeatSec", 60, 2 * DAY),
        Bound("oracle", "sequencer_grace_sec", "sequencerGraceSec", 0, DAY),
        Bound("oracle", "twap_window_sec", "twapWindowSec", 60, DAY),
        Bound("oracle", "max_twap_deviation_bps", "maxTwapDeviationBps", 10, 2000),
        Bound("oracle", "max_pool_deviation_bps", "maxPoolDeviationBps", 10, 2000),
    ]


def hedger_bounds() -> list[Bound]:
    """`AaveHedger._setParams` (the spot hedger has no parameters)."""
    return [
        Bound("hedger", "hf_buffer_wad", "hfBufferWad", WAD // 50, WAD),
        Bound("hedger", "collateral_headroom_bps", "collateralHeadroomBps", 0, 20_000),
        Bound("hedger", "max_oracle_deviation_bps", "maxOracleDeviationBps", 10, 1000),
    ]


def out_of_bounds(config: SuiteConfig) -> list[str]:
    """Every value of ``config`` a contract would refuse, as ``section.field value is outside [lo, hi]``
    (empty when all are valid)."""
    sections: dict[str, object] = {
        "risk": config.risk,
        "limits": config.limits,
        "hedge": config.hedge,
        "oracle": config.oracle,
        "hedger": config.hedger,
    }
    bounds = vault_bounds(config.risk, config.limits, config.hedge) + oracle_bounds()
    if isinstance(config.hedger, HedgerParams) and config.hedger.kind == "aave":
        bounds += hedger_bounds()
    messages = []
    for b in bounds:
        value = getattr(sections[b.section], b.field)
        if not b.lo <= value <= b.hi:
            messages.append(f"{b.section}.{b.field} {value} is outside [{b.lo}, {b.hi}]")
    messages += [f"vol.{m}" for m in config.vol.out_of_bounds()]
    return messages
