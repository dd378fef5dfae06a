"""The option-vault suite: the deployed contracts (``Suite``) and ``deploy_suite``, which deploys it on a
local chain from an unlocked account (mock tokens and feeds, a real Uniswap V3 pool with liquidity, the
oracles, the pricer, the swap library, the option token and the vault) with the same steps as
``hedgevault deploy`` (``hedgevault.deployment``).

Every parameter the suite sets is in ``SuiteConfig`` (``hedgevault.params``, defaults documented there; its
names are re-exported here for the callers that import them from this module), so callers know the risk
parameters without reading them back. Units: ``..._wad`` is 1e18 fixed point, ``..._bps`` 1/10,000,
``..._sec`` seconds; token amounts are in the token's own units.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.aave import AaveMarket
from hedgevault.chain.sending import send
from hedgevault.params import WAD, SuiteConfig
from hedgevault.uniswap import Q96, Uniswap, price_wad_from_sqrt, raw_price, sqrt_price_x96, swap_exact_input

#: Where the names that used to live in this module are now; ``from hedgevault.suite import RiskParams`` still
#: works (``__getattr__``), new code imports them from their homes.
_MOVED: dict[str, tuple[str, ...]] = {
    "hedgevault.params": (
        *("WAD", "HEDGER_ARTIFACTS", "AaveParams", "ExposureLimits", "HedgeParams"),
        *("HedgerParams", "OracleParams", "RiskParams", "VolParams"),
    ),
    "hedgevault.deployment.vault_stack": ("BOOK_LIBRARY", "HEDGE_LIBRARY", "latest_parameters"),
    "hedgevault.toolchain.deploy": ("link",),
}


def __getattr__(name: str) -> Any:
    for home, names in _MOVED.items():
        if name in names:
            return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module 'hedgevault.suite' has no attribute {name!r}")


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
    # imported here, not at the top: the CLI imports this module and need not load the deployment
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
