"""The option-vault suite: its parameters (``SuiteConfig``), the deployed contracts (``Suite``) and
``deploy_suite``, which deploys it on a local chain from an unlocked account (mock tokens and feeds, a real
Uniswap V3 pool with liquidity, the oracles, the pricer, the swap library, the option token and the vault)
with the same steps as ``hedgevault deploy`` (``hedgevault.deployment``).

Every parameter the suite sets is in ``SuiteConfig`` (defaults documented there), so callers know the
risk parameters without reading them back. Units: ``..._wad`` is 1e18 fixed point, ``..._bps`` 1/10,000,
``..._sec`` seconds; token amounts are in the token's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.aave import AaveMarket, AaveParams
from hedgevault.errors import ToolchainError
from hedgevault.toolchain.compiler import Artifact
from hedgevault.txs import send
from hedgevault.uniswap import Uniswap, price_wad_from_sqrt, raw_price, sqrt_price_x96, swap_exact_input

WAD = 10**18
Q96 = 2**96
#: Fully qualified name of the hedge library the vault links (its orders to the hedger, claims).
HEDGE_LIBRARY = "contracts/vaults/HedgeExecution.sol:HedgeExecution"
#: Fully qualified name of the cached-book library the vault links.
BOOK_LIBRARY = "contracts/vaults/BookMarking.sol:BookMarking"


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


@dataclass
class Suite:
    """The deployed suite."""

    w3: Web3
    config: SuiteConfig
    admin: str
    fee_recipient: str
    quote: Contract
    underlying: Contract
    feed: Contract
    sequencer_feed: Contract | None
    uniswap: Uniswap
    pool: Contract
    price_oracle: Contract
    vol_oracle: Contract
    pricer: Contract
    hedge_library: Contract
    book_library: Contract
    option_token: Contract
    vault: Contract
    #: The vault's hedging module (``AaveHedger`` or ``SpotHedger``; ``config.hedger.kind``).
    hedger: Contract
    #: The timelock holding DEFAULT_ADMIN_ROLE of the vault and the oracles (None: ``admin`` holds it).
    timelock: Contract | None = None
    #: The Aave v3 market (None only for an infrastructure given by addresses without
    #: ``infrastructure.aave_addresses_provider``).
    aave: AaveMarket | None = None

    @property
    def underlying_is_token0(self) -> bool:
        return bool(self.pool.functions.token0().call() == self.underlying.address)

    def quote_units(self, whole: int | Fraction) -> int:
        """``whole`` quote tokens in quote units."""
        return int(whole * 10**self.config.quote_decimals)

    def underlying_units(self, whole: int | Fraction) -> int:
        return int(whole * 10**self.config.underlying_decimals)

    def feed_answer(self, price_wad: int) -> int:
        return int(price_wad * 10**self.config.feed_decimals // WAD)

    def set_feed_price(self, price_wad: int) -> None:
        """A new feed round at ``price_wad``."""
        send(self.w3, self.feed.functions.setAnswer(self.feed_answer(price_wad)), self.admin)

    def book_view(self, values: Sequence[Any] | None = None) -> dict[str, int]:
        """``IOptionVault.book()`` (called now unless its decoded ``values`` are given) keyed by the ABI's
        field names (``spotWad``, ``healthFactorWad`` ...; fields the contract appends are kept), plus
        ``netDeltaWad`` = book delta + hedge (signed), in underlying wad."""
        if values is None:
            values = self.vault.functions.book().call()
        outputs = self.vault.get_function_by_name("book").abi["outputs"]
        names = [str(c["name"]) for c in outputs[0]["components"]]
        view = {name: int(v) for name, v in zip(names, values, strict=True)}
        view["netDeltaWad"] = view["bookDeltaWad"] + view["hedgeWad"]
        return view

    def pool_price_wad(self) -> Fraction:
        sqrt_x96 = int(self.pool.functions.slot0().call()[0])
        return price_wad_from_sqrt(
            sqrt_x96, self.config.underlying_decimals, self.config.quote_decimals, self.underlying_is_token0
        )

    def move_pool_price(self, price_wad: int, trader: str) -> None:
        """Swap on the pool (minting what the trader needs) until its price is ``price_wad`` to within
        a few ppm (full-range liquidity is constant, so one swap of the computed size gets there)."""
        liquidity = int(self.pool.functions.liquidity().call())
        sqrt_now = int(self.pool.functions.slot0().call()[0])
        target = sqrt_price_x96(
            raw_price(price_wad, self.config.underlying_decimals, self.config.quote_decimals, self.underlying_is_token0)
        )
        if target == sqrt_now:
            return
        fee_keep = Fraction(10**6 - self.config.pool_fee, 10**6)
        token0 = self.pool.functions.token0().call()
        zero_for_one = target < sqrt_now
        if zero_for_one:
            # amount0 = L * Q96 * (sqrtA - sqrtB) / (sqrtA * sqrtB)
            needed = Fraction(liquidity * Q96 * (sqrt_now - target), sqrt_now * target)
        else:
            # amount1 = L * (sqrtB - sqrtA) / Q96
            needed = Fraction(liquidity * (target - sqrt_now), Q96)
        amount_in = int(needed / fee_keep) + 1
        underlying_in = (token0 == self.underlying.address) == zero_for_one
        token_in, token_out = (self.underlying, self.quote) if underlying_in else (self.quote, self.underlying)
        send(self.w3, token_in.functions.mint(trader, amount_in), trader)
        swap_exact_input(self.w3, self.uniswap, token_in, token_out, self.config.pool_fee, amount_in, trader)


def latest_parameters(vault: Contract, from_block: int = 0) -> dict[str, dict[str, int]] | None:
    """The vault's risk, limits and hedge parameters by field name, from its latest ``ParametersSet`` event
    (the vault keeps them internal to stay under the code-size limit); None before any event."""
    logs = vault.events.ParametersSet().get_logs(from_block=from_block)
    if not logs:
        return None
    args = logs[-1]["args"]
    return {key: {name: int(value) for name, value in dict(args[key]).items()} for key in ("risk", "limits", "hedge")}


def link(artifact: Artifact, libraries: dict[str, str]) -> Artifact:
    """Replace solc's ``__$<34 hex>$__`` placeholders for ``{"path:Name": address}``."""
    bytecode = artifact.bytecode
    for name, address in libraries.items():
        placeholder = "__$" + Web3.keccak(text=name).hex().removeprefix("0x")[:34] + "$__"
        bytecode = bytecode.replace(placeholder, address[2:].lower())
    if "__$" in bytecode:
        raise ToolchainError(f"{artifact.name} still has unlinked libraries after linking {sorted(libraries)}")
    return Artifact(artifact.name, artifact.source, artifact.abi, bytecode, artifact.deployed_bytecode)


def deploy_suite(
    w3: Web3, config: SuiteConfig | None = None, admin: str | None = None, timelock_delay_sec: int | None = None
) -> Suite:
    """Deploy everything on a local chain (Anvil) from the unlocked account ``admin`` (default: the first
    account), which gets every role; the fee recipient is the tenth account.

    ``timelock_delay_sec=None`` (the default, which the vault tests rely on) deploys no timelock: ``admin``
    holds DEFAULT_ADMIN_ROLE and changes parameters at once. With a delay (at least 3,600 s) the suite is
    deployed as ``hedgevault deploy`` deploys it: a ``HedgevaultTimelock`` (proposer and executor ``admin``)
    gets the admin role of the vault and the oracles and ``admin`` renounces it (``Suite.timelock``).

    The same steps as ``hedgevault deploy`` (``hedgevault.deployment``), without a manifest file: the
    infrastructure (mock tokens and feed, Uniswap V3, the pool with liquidity) then the vault stack. The
    chain's clock is moved forward by the TWAP window (and the feed refreshed) so that the pool can answer
    ``observe`` over the window as soon as this returns.
    """
    from hedgevault.deployment.config import DeployConfig, GovernanceConfig
    from hedgevault.deployment.infrastructure import deploy_local_infrastructure
    from hedgevault.deployment.steps import DeployContext
    from hedgevault.deployment.vault_stack import deploy_vault_stack

    config = config or SuiteConfig()
    admin = admin or str(w3.eth.accounts[0])
    fee_recipient = str(list(w3.eth.accounts)[9])
    ctx = DeployContext.local(w3, admin)
    infra = deploy_local_infrastructure(ctx, config)
    governance = GovernanceConfig(timelock_delay_sec=timelock_delay_sec)
    stack = deploy_vault_stack(
        ctx, infra, DeployConfig(suite=config, fee_recipient=fee_recipient, governance=governance)
    )
    return Suite(
        w3=w3,
        config=config,
        admin=admin,
        fee_recipient=fee_recipient,
        quote=infra.quote,
        underlying=infra.underlying,
        feed=infra.feed,
        sequencer_feed=infra.sequencer_feed,
        uniswap=infra.uniswap,
        pool=infra.pool,
        price_oracle=stack.price_oracle,
        vol_oracle=stack.vol_oracle,
        pricer=stack.pricer,
        hedge_library=stack.hedge_library,
        book_library=stack.book_library,
        option_token=stack.option_token,
        vault=stack.vault,
        hedger=stack.hedger,
        timelock=stack.timelock,
        aave=infra.aave,
    )
