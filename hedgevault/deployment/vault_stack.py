"""The vault stack on top of an infrastructure: the timelock (when the config asks for one, as
``hedgevault deploy`` always does), PriceOracle, VolatilityOracle, OptionPricer, the HedgeExecution and
BookMarking libraries, OptionToken, the hedging module (``AaveHedger`` on the infrastructure's Aave market, or
``SpotHedger``) and OptionVault, then the option token's and the hedger's bindings, the role grants and the
handover of the admin role (to the timelock, or to ``roles.admin`` without one).

Everything that depends on the vault's constructor or its linked libraries is in this module (``deploy_vault_stack``
and ``vault_stack_parameters``), so a change there is made in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from hedgevault.deployment.config import DeployConfig
from hedgevault.deployment.errors import DeploymentMismatch
from hedgevault.deployment.infrastructure import ZERO_ADDRESS, Infrastructure
from hedgevault.deployment.manifest import VaultStackSection
from hedgevault.deployment.steps import (
    MISMATCH_ADVICE,
    DeployContext,
    grant_roles,
    hand_over_admin,
)
from hedgevault.deployment.timelock import deploy_timelock
from hedgevault.params import (
    ExposureLimits,
    HedgeParams,
    HedgerParams,
    OracleParams,
    RiskParams,
    VolParams,
)
from hedgevault.toolchain.deploy import link

#: Fully qualified name of the hedge library the vault links (its orders to the hedger, claims).
HEDGE_LIBRARY = "contracts/vaults/HedgeExecution.sol:HedgeExecution"
#: Fully qualified name of the cached-book library the vault links.
BOOK_LIBRARY = "contracts/vaults/BookMarking.sol:BookMarking"

#: Role holders per contract: manifest ``roles`` key -> (contract key, role getter). These act at once by
#: design (a pause, a listing, a volatility post) and stay with their holders; DEFAULT_ADMIN_ROLE of the
#: access-controlled contracts (``ADMIN_CONTRACTS``) is held by the timelock, or by ``roles.admin`` without one.
ROLE_GRANTS = (
    ("vol_updaters", "vol_oracle", "VOL_UPDATER_ROLE"),
    ("guardians", "vault", "GUARDIAN_ROLE"),
    ("listers", "vault", "LISTER_ROLE"),
)
ADMIN_CONTRACTS = ("price_oracle", "vol_oracle", "vault")
#: ``AaveHedger`` has an admin (its parameters) too; ``SpotHedger`` has none.
HEDGER_ADMIN_KINDS = ("aave",)


def admin_contracts(hedger: HedgerParams) -> tuple[str, ...]:
    """The vault stack's keys whose DEFAULT_ADMIN_ROLE the timelock (or ``roles.admin``) holds."""
    return ADMIN_CONTRACTS + (("hedger",) if hedger.kind in HEDGER_ADMIN_KINDS else ())


@dataclass(frozen=True)
class VaultStack:
    """The vault stack as web3 contracts."""

    price_oracle: Contract
    vol_oracle: Contract
    pricer: Contract
    hedge_library: Contract
    book_library: Contract
    option_token: Contract
    vault: Contract
    hedger: Contract
    timelock: Contract | None = None


def vault_stack_parameters(config: DeployConfig, roles: dict[str, Any]) -> dict[str, Any]:
    """The parameters the vault stack is deployed with, as recorded in the manifest (the fee recipient
    defaults to ``roles.admin``, the operator, never to the timelock)."""
    suite = config.suite
    return {
        "vault_name": config.vault_name,
        "vault_symbol": config.vault_symbol,
        "fee_recipient": config.fee_recipient or roles["admin"],
        "risk": dataclasses.asdict(suite.risk),
        "limits": dataclasses.asdict(suite.limits),
        "hedge": dataclasses.asdict(suite.hedge),
        "hedger": dataclasses.asdict(suite.hedger),
        "oracle": dataclasses.asdict(suite.oracle),
        "vol": dataclasses.asdict(suite.vol),
    }


def deploy_vault_stack(ctx: DeployContext, infra: Infrastructure, config: DeployConfig) -> VaultStack:
    """Deploy (or reuse what the manifest records of) the timelock (when ``config.governance`` asks for one)
    and the vault stack on ``infra``, bind the option token, grant the roles of ``config.roles`` and hand the
    admin role over to the timelock (or, without one, to ``roles.admin`` when it is not the deployer); the
    deployer renounces it.

    The deployer is the initial admin of every contract (to grant the other roles); parameters come from
    ``config.suite``. Each role or binding step is sent only when the chain shows it is not done yet.
    """
    timelock = deploy_timelock(ctx, config)
    artifacts, deployer = ctx.artifacts, ctx.sender.address
    roles = config.roles.resolve(deployer)
    params = vault_stack_parameters(config, roles)
    if ctx.manifest.vault_stack is None:
        ctx.manifest.vault_stack = VaultStackSection(parameters=params, roles=roles)
    section = ctx.manifest.vault_stack
    records = section.contracts
    oracle = OracleParams(**params["oracle"])
    vol = VolParams(**params["vol"])

    price_oracle = ctx.ensure_contract(
        records,
        "price_oracle",
        artifacts["PriceOracle"],
        deployer,
        infra.feed.address,
        infra.sequencer_feed.address if infra.sequencer_feed is not None else ZERO_ADDRESS,
        infra.pool.address,
        infra.underlying.address,
        infra.quote.address,
        oracle.as_tuple(),
    )
    vol_oracle = ctx.ensure_contract(records, "vol_oracle", artifacts["VolatilityOracle"], deployer, vol.as_tuple())
    pricer = ctx.ensure_contract(records, "pricer", artifacts["OptionPricer"])
    hedge_library = ctx.ensure_contract(records, "hedge_library", artifacts["HedgeExecution"])
    book_library = ctx.ensure_contract(records, "book_library", artifacts["BookMarking"])
    option_token = ctx.ensure_contract(records, "option_token", artifacts["OptionToken"], "")
    hedger_params = HedgerParams(**params["hedger"])
    hedger = _ensure_hedger(ctx, records, infra, hedger_params, deployer)
    vault_config = (
        infra.quote.address,
        infra.underlying.address,
        price_oracle.address,
        vol_oracle.address,
        hedger.address,
        option_token.address,
        pricer.address,
        deployer,
        params["fee_recipient"],
    )
    vault = ctx.ensure_contract(
        records,
        "vault",
        link(artifacts["OptionVault"], {HEDGE_LIBRARY: hedge_library.address, BOOK_LIBRARY: book_library.address}),
        vault_config,
        params["vault_name"],
        params["vault_symbol"],
        RiskParams(**params["risk"]).as_tuple(),
        ExposureLimits(**params["limits"]).as_tuple(),
        HedgeParams(**params["hedge"]).as_tuple(),
    )

    _bind_once(ctx, "option_token", option_token, option_token.functions.bindVault, vault.address)
    _bind_once(ctx, "hedger", hedger, hedger.functions.bind, vault.address)
    contracts = {"price_oracle": price_oracle, "vol_oracle": vol_oracle, "vault": vault, "hedger": hedger}

    grant_roles(ctx, contracts, ROLE_GRANTS, section.roles, deployer)
    admin = str(timelock.address) if timelock is not None else section.roles["admin"]
    handed = {key: contracts[key] for key in admin_contracts(hedger_params)}
    hand_over_admin(ctx, handed, admin, deployer, timelock=timelock is not None)
    return VaultStack(
        price_oracle=price_oracle,
        vol_oracle=vol_oracle,
        pricer=pricer,
        hedge_library=hedge_library,
        book_library=book_library,
        option_token=option_token,
        vault=vault,
        hedger=hedger,
        timelock=timelock,
    )


def _bind_once(ctx: DeployContext, key: str, contract: Contract, bind: Any, vault: str) -> None:
    """Bind ``contract`` (the option token or the hedger: one vault each, once) to ``vault`` unless it is
    already; a binding to another vault is a ``DeploymentMismatch``."""
    bound = contract.functions.vault().call()
    if bound == ZERO_ADDRESS:
        ctx.transact(f"bind the {key.replace('_', ' ')} to the vault", bind(vault))
    elif bound != vault:
        raise DeploymentMismatch(
            f"the {key.replace('_', ' ')} belongs to another vault",
            [f"{key} {contract.address} is bound to {bound}, the manifest's vault is {vault}"],
            MISMATCH_ADVICE,
        )


def _ensure_hedger(
    ctx: DeployContext, records: dict[str, Any], infra: Infrastructure, params: HedgerParams, deployer: str
) -> Contract:
    """The vault's hedging module: ``AaveHedger`` on the infrastructure's Aave market (its admin the deployer
    until the handover), or ``SpotHedger``. It is bound to the vault once the vault exists."""
    artifact = ctx.artifacts[params.artifact]
    recorded = records.get("hedger")
    if recorded is not None and recorded.artifact != params.artifact:
        raise DeploymentMismatch(
            "the manifest's hedger is of another kind",
            [f"hedger {recorded.address} is a {recorded.artifact}, the config asks for hedger.kind={params.kind}"],
            MISMATCH_ADVICE,
        )
    common = (infra.quote.address, infra.underlying.address, infra.pool.address)
    if params.kind == "spot":
        return ctx.ensure_contract(records, "hedger", artifact, *common)
    aave = infra.aave
    if aave is None:
        raise DeploymentMismatch(
            "hedger.kind=aave needs an Aave v3 market",
            ["the infrastructure records no Aave market"],
            "give infrastructure.aave_addresses_provider (an existing market), deploy the infrastructure with "
            "`hedgevault deploy` on a dev chain, or set hedger.kind=spot for a long-only hedge",
        )
    return ctx.ensure_contract(
        records,
        "hedger",
        artifact,
        *common,
        aave.addresses_provider.address,
        deployer,
        params.aave_tuple(),
    )


def latest_parameters(vault: Contract, from_block: int = 0) -> dict[str, dict[str, int]] | None:
    """The vault's risk, limits and hedge parameters by field name, from its latest ``ParametersSet`` event
    (the vault keeps them internal to stay under the code-size limit); None before any event."""
    logs = vault.events.ParametersSet().get_logs(from_block=from_block)
    if not logs:
        return None
    args = logs[-1]["args"]
    return {key: {name: int(value) for name, value in dict(args[key]).items()} for key in ("risk", "limits", "hedge")}
