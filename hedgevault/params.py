"""The suite's parameters as plain frozen dataclasses, one module with no chain access, so that the suite,
the deployment, the bounds checks, the keeper and the simulator all import them without importing each other.

* ``RiskParams``, ``ExposureLimits``, ``HedgeParams``: the option vault's (``IOptionVault``), ``HedgerParams``
  its hedging module's, ``OracleParams`` / ``VolParams`` the oracles'; ``SuiteConfig`` all of a suite.
* ``AaveParams`` (``ReserveParams``, ``RateStrategy``): the Aave v3 market a local infrastructure gets.

Units: ``..._wad`` is 1e18 fixed point, ``..._ray`` 1e27, ``..._bps`` 1/10,000, ``..._sec`` seconds; token
amounts are in the token's own units unless the name says whole tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

WAD = 10**18
RAY = 10**27


def _ray_percent(percent: str) -> int:
    """``"4.5"`` (percent) -> ray, exactly."""
    return int(Decimal(percent) * RAY / 100)


@dataclass(frozen=True)
class RateStrategy:
    """``DefaultReserveInterestRateStrategy``'s constructor arguments after the provider, in ray (1e27 = 100% a
    year for rates, 100% for ratios)."""

    name: str
    optimal_usage_ratio_ray: int
    base_variable_borrow_rate_ray: int
    variable_rate_slope1_ray: int
    variable_rate_slope2_ray: int
    stable_rate_slope1_ray: int
    stable_rate_slope2_ray: int
    base_stable_rate_offset_ray: int
    stable_rate_excess_offset_ray: int
    optimal_stable_to_total_debt_ratio_ray: int

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(v for k, v in asdict(self).items() if k != "name")


#: Aave's ``rateStrategyVolatileOne`` (``@aave/deploy-v3`` 1.56.2, markets/aave/rateStrategies): WETH and other
#: volatile assets. Optimal usage 45%, base 0, variable slopes 7% and 300%; stable slopes 7% and 300%, base
#: stable offset 2%, excess offset 5%, optimal stable/total debt 20%.
VOLATILE_ONE = RateStrategy(
    name="rateStrategyVolatileOne",
    optimal_usage_ratio_ray=_ray_percent("45"),
    base_variable_borrow_rate_ray=0,
    variable_rate_slope1_ray=_ray_percent("7"),
    variable_rate_slope2_ray=_ray_percent("300"),
    stable_rate_slope1_ray=_ray_percent("7"),
    stable_rate_slope2_ray=_ray_percent("300"),
    base_stable_rate_offset_ray=_ray_percent("2"),
    stable_rate_excess_offset_ray=_ray_percent("5"),
    optimal_stable_to_total_debt_ratio_ray=_ray_percent("20"),
)
#: Aave's ``rateStrategyStableOne`` (same source): USDC. Optimal usage 90%, base 0, variable slopes 4% and 60%;
#: stable slopes 0.5% and 60%, base stable offset 1%, excess offset 8%, optimal stable/total debt 20%.
STABLE_ONE = RateStrategy(
    name="rateStrategyStableOne",
    optimal_usage_ratio_ray=_ray_percent("90"),
    base_variable_borrow_rate_ray=0,
    variable_rate_slope1_ray=_ray_percent("4"),
    variable_rate_slope2_ray=_ray_percent("60"),
    stable_rate_slope1_ray=_ray_percent("0.5"),
    stable_rate_slope2_ray=_ray_percent("60"),
    base_stable_rate_offset_ray=_ray_percent("1"),
    stable_rate_excess_offset_ray=_ray_percent("8"),
    optimal_stable_to_total_debt_ratio_ray=_ray_percent("20"),
)


@dataclass(frozen=True)
class ReserveParams:
    """One reserve's risk parameters (bps) and rate strategy. Stable-rate borrowing stays off."""

    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    reserve_factor_bps: int
    strategy: RateStrategy


#: Aave's ``strategyWETH``: LTV 80%, liquidation threshold 82.5%, bonus 5%, reserve factor 10%, VolatileOne.
UNDERLYING_RESERVE = ReserveParams(8000, 8250, 10500, 1000, VOLATILE_ONE)
#: Aave's ``strategyUSDC``: LTV 80%, liquidation threshold 85%, bonus 5%, reserve factor 10%, StableOne.
QUOTE_RESERVE = ReserveParams(8000, 8500, 10500, 1000, STABLE_ONE)


@dataclass(frozen=True)
class AaveParams:
    """The Aave market a local infrastructure gets. Defaults: market id ``"hedgevault"``; the underlying as Aave's
    WETH and the quote as Aave's USDC (``UNDERLYING_RESERVE``, ``QUOTE_RESERVE``); a lender (the deployer)
    supplies ``lender_underlying`` = 5,000 whole underlying tokens, which vaults can borrow; every reserve is
    seeded with ``seed_whole_tokens`` = 1 whole token supplied on behalf of ``BURN_ADDRESS`` (see the module
    docstring); flash-loan premium 9 bps (0.09%, Aave v3.0's launch value), none of it to the protocol."""

    market_id: str = "hedgevault"
    underlying: ReserveParams = UNDERLYING_RESERVE
    quote: ReserveParams = QUOTE_RESERVE
    lender_underlying: int = 5_000
    seed_whole_tokens: int = 1
    flash_loan_premium_total_bps: int = 9
    flash_loan_premium_to_protocol_bps: int = 0

    def reserve(self, role: str) -> ReserveParams:
        """The parameters of the ``"underlying"`` or ``"quote"`` reserve."""
        return {"underlying": self.underlying, "quote": self.quote}[role]

    def to_json(self) -> dict[str, Any]:
        """As recorded in the manifest's infrastructure parameters."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AaveParams:
        def reserve(raw: dict[str, Any]) -> ReserveParams:
            return ReserveParams(**{**raw, "strategy": RateStrategy(**raw["strategy"])})

        return cls(**{**data, "underlying": reserve(data["underlying"]), "quote": reserve(data["quote"])})


@dataclass(frozen=True)
class RiskParams:
    """``IOptionVault.RiskParams``: HF floor 1.2, 20% spot shocks, +10 vol points, 1% spread, 0.3% fee,
    no trading in the last hour, 32 live series, zero rate; the cached book is re-marked when the feed
    moves more than 1% (100 bps) from its marked spot or after 1 hour (3600 s). Economic safety: trades
    priced 0.5% (the feed's deviation threshold) against the trader and deposits/withdrawals pay the
    swing of such a round; a buy pays at least 1% of floor x the stress it adds; withdrawals go on at the
    conservative valuation 1 day after a reported oracle outage or 3 days into a pause."""

    hf_floor_wad: int = 12 * WAD // 10
    spot_shock_up_bps: int = 2000
    spot_shock_down_bps: int = 2000
    vol_shock_wad: int = WAD // 10
    spread_bps: int = 100
    fee_bps: int = 30
    trading_cutoff_sec: int = 3600
    max_live_series: int = 32
    rate_wad: int = 0
    cache_spot_band_bps: int = 100
    cache_max_age_sec: int = 3600
    feed_deviation_bps: int = 50
    min_premium_bps: int = 100
    outage_exit_delay_sec: int = 86_400
    max_pause_sec: int = 3 * 86_400

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.hf_floor_wad,
            self.spot_shock_up_bps,
            self.spot_shock_down_bps,
            self.vol_shock_wad,
            self.spread_bps,
            self.fee_bps,
            self.trading_cutoff_sec,
            self.max_live_series,
            self.rate_wad,
            self.cache_spot_band_bps,
            self.cache_max_age_sec,
            self.feed_deviation_bps,
            self.min_premium_bps,
            self.outage_exit_delay_sec,
            self.max_pause_sec,
        )


@dataclass(frozen=True)
class ExposureLimits:
    """``IOptionVault.ExposureLimits``: 10,000 options per series, |net delta| 5,000, vega 100,000 quote per
    1.00 of volatility. The vega limit bounds what a compromised volatility updater can take in an hour:
    vega x (maxStep + rate x 1 h) = 100,000 x 0.10 = 10,000 quote, 1% of a 1,000,000 vault; size it to NAV
    (docs/option-vault.md, threat model)."""

    max_open_interest_wad: int = 10_000 * WAD
    max_net_delta_wad: int = 5_000 * WAD
    max_vega_wad: int = 100_000 * WAD

    def as_tuple(self) -> tuple[int, ...]:
        return (self.max_open_interest_wad, self.max_net_delta_wad, self.max_vega_wad)


@dataclass(frozen=True)
class HedgeParams:
    """``IOptionVault.HedgeParams``: band 0.5 underlying, dust 0.01, hourly, 1% slippage (the 0.3% pool
    fee plus impact), at most 2% of NAV lost per hedge."""

    delta_band_wad: int = WAD // 2
    dust_delta_wad: int = WAD // 100
    hedge_interval_sec: int = 3600
    max_slippage_bps: int = 100
    max_nav_loss_bps: int = 200

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.delta_band_wad,
            self.dust_delta_wad,
            self.hedge_interval_sec,
            self.max_slippage_bps,
            self.max_nav_loss_bps,
        )


#: The hedging modules ``HedgerParams.kind`` names, and their artifacts.
HEDGER_ARTIFACTS = {"aave": "AaveHedger", "spot": "SpotHedger"}


@dataclass(frozen=True)
class HedgerParams:
    """The vault's hedging module (``IHedger``). ``kind="aave"`` (the default): ``AaveHedger``, long or short
    (underlying borrowed on the Aave v3 market against quote collateral); ``"spot"``: ``SpotHedger``, long
    only. ``AaveHedger.Params``: Aave's health factor of the position under the vault's spot-up shock stays
    >= 1 + ``hf_buffer_wad`` (0.10), a borrow supplies 25% more collateral than it needs (so that most
    borrows supply none), the Aave oracle must agree with the vault's spot within 1% before a borrow."""

    kind: str = "aave"
    hf_buffer_wad: int = WAD // 10
    collateral_headroom_bps: int = 2500
    max_oracle_deviation_bps: int = 100

    def __post_init__(self) -> None:
        if self.kind not in HEDGER_ARTIFACTS:
            raise ValueError(f"hedger.kind must be one of {sorted(HEDGER_ARTIFACTS)}, not {self.kind!r}")

    @property
    def artifact(self) -> str:
        return HEDGER_ARTIFACTS[self.kind]

    def aave_tuple(self) -> tuple[int, int, int]:
        """``AaveHedger.Params``."""
        return (self.hf_buffer_wad, self.collateral_headroom_bps, self.max_oracle_deviation_bps)


@dataclass(frozen=True)
class OracleParams:
    """``IPriceOracle.OracleParams``: 1 h heartbeat, 1 h sequencer grace, 10 min TWAP, feed within 5%
    of the TWAP and 2% of the pool price for swaps."""

    heartbeat_sec: int = 3600
    sequencer_grace_sec: int = 3600
    twap_window_sec: int = 600
    max_twap_deviation_bps: int = 500
    max_pool_deviation_bps: int = 200

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.heartbeat_sec,
            self.sequencer_grace_sec,
            self.twap_window_sec,
            self.max_twap_deviation_bps,
            self.max_pool_deviation_bps,
        )


@dataclass(frozen=True)
class VolParams:
    """``IVolatilityOracle.VolParams``: vol in [5%, 300%], 1 day staleness; a post moves an expiry's vol by
    at most min(5 points, 5 points per hour since its previous post) and comes at least 300 s after it, so
    one expiry's vol moves at most 10 points in any hour (``maxStep + rate x 1 h``)."""

    min_vol_wad: int = WAD // 20
    max_vol_wad: int = 3 * WAD
    max_step_wad: int = WAD // 20
    max_age_sec: int = 86_400
    max_rate_per_hour_wad: int = WAD // 20
    min_interval_sec: int = 300

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.min_vol_wad,
            self.max_vol_wad,
            self.max_step_wad,
            self.max_age_sec,
            self.max_rate_per_hour_wad,
            self.min_interval_sec,
        )

    def hard_bounds(self) -> dict[str, tuple[int, int]]:
        """Each field's [min, max] as ``VolatilityOracle._setParams`` enforces it (some depend on another
        field: maxVol >= minVol, minInterval <= maxAge)."""
        return {
            "min_vol_wad": (WAD // 100, 5 * WAD),
            "max_vol_wad": (self.min_vol_wad, 5 * WAD),
            "max_step_wad": (WAD // 1000, WAD),
            "max_age_sec": (60, 7 * 86_400),
            "max_rate_per_hour_wad": (WAD // 1000, WAD),
            "min_interval_sec": (60, min(86_400, self.max_age_sec)),
        }

    def out_of_bounds(self) -> list[str]:
        """What the oracle would refuse (``VolParamOutOfBounds``), one message per field; empty when valid."""
        return [
            f"{name} {getattr(self, name)} is outside [{lo}, {hi}]"
            for name, (lo, hi) in self.hard_bounds().items()
            if not lo <= getattr(self, name) <= hi
        ]


@dataclass(frozen=True)
class SuiteConfig:
    """What to deploy. The pool gets ``pool_underlying`` of the underlying and the matching quote at
    ``spot_wad``; the feed has 8 decimals. ``aave``: the Aave v3 market deployed beside the pool
    (``hedgevault.aave.AaveParams``: the underlying as Aave's WETH reserve, the quote as its USDC reserve, a
    lender's 5,000 whole underlying to borrow, 1 whole token of each reserve seeded to the burn address)."""

    quote_decimals: int = 6
    underlying_decimals: int = 18
    spot_wad: int = 3000 * WAD
    pool_fee: int = 3000
    pool_underlying: int = 20_000
    feed_decimals: int = 8
    with_sequencer_feed: bool = False
    risk: RiskParams = field(default_factory=RiskParams)
    limits: ExposureLimits = field(default_factory=ExposureLimits)
    hedge: HedgeParams = field(default_factory=HedgeParams)
    hedger: HedgerParams = field(default_factory=HedgerParams)
    oracle: OracleParams = field(default_factory=OracleParams)
    vol: VolParams = field(default_factory=VolParams)
    aave: AaveParams = field(default_factory=AaveParams)


#: The parameter sections of a ``SuiteConfig``, by field name: how a deploy config and a manifest record them.
PARAM_SECTIONS: dict[str, type[Any]] = {
    "risk": RiskParams,
    "limits": ExposureLimits,
    "hedge": HedgeParams,
    "hedger": HedgerParams,
    "oracle": OracleParams,
    "vol": VolParams,
}
