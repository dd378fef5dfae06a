"""Read a deployment back from the chain and compare it with its manifest: code, wiring, parameters, roles.

``check_deployment`` returns one line per difference (empty: everything matches). It reads every
parameter from the chain: the oracles' ``params()``, and the vault's risk, limit and hedge parameters from
its latest ``ParametersSet`` event (the vault has no getter for them; it emits the event from its
constructor and from every ``setParameters``). Admin roles are read from ``RoleGranted`` events (plain
``AccessControl`` cannot list its members): every account granted ``DEFAULT_ADMIN_ROLE`` that still holds it
must be the expected admin (the timelock when the manifest records one), so an EOA left holding it is reported.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.aave import bind_market, market_problems
from hedgevault.deployment.manifest import (
    AAVE_CORE_KEYS,
    EMPTY_CODE_HASH,
    GOVERNANCE_ARTIFACTS,
    VAULT_STACK_ARTIFACTS,
    GovernanceSection,
    InfrastructureSection,
    Manifest,
    VaultStackSection,
    bind,
    code_hash,
    stack_artifact,
)
from hedgevault.deployment.steps import DEFAULT_ADMIN_ROLE
from hedgevault.deployment.vault_stack import (
    BOOK_LIBRARY,
    HEDGE_LIBRARY,
    ROLE_GRANTS,
    admin_contracts,
    latest_parameters,
)
from hedgevault.params import (
    ExposureLimits,
    HedgeParams,
    HedgerParams,
    OracleParams,
    RiskParams,
    VolParams,
)
from hedgevault.toolchain.compiler import Artifact
from hedgevault.uniswap import npm_artifact


def check_deployment(w3: Web3, manifest: Manifest, artifacts: dict[str, Artifact]) -> list[str]:
    """Every way the chain differs from ``manifest`` (chain identity aside: check that first)."""
    differences: list[str] = []
    sections = (
        ("infrastructure", manifest.infrastructure),
        ("vault_stack", manifest.vault_stack),
        ("governance", manifest.governance),
        ("portfolio", manifest.portfolio),
    )
    for section_name, section in sections:
        if section is None:
            continue
        for key, record in section.contracts.items():
            found = code_hash(w3, record.address)
            if found == EMPTY_CODE_HASH:
                differences.append(f"{section_name}.{key}: no code at {record.address}")
            elif found != record.code_hash:
                differences.append(f"{section_name}.{key}: code hash {found}, the manifest records {record.code_hash}")
    if differences:
        return differences  # reading views from missing or foreign code would only add noise
    if manifest.infrastructure is not None:
        differences += _check_infrastructure(w3, manifest.infrastructure, artifacts)
        if manifest.governance is not None:
            differences += _check_governance(w3, manifest.governance, artifacts)
        if manifest.vault_stack is not None:
            differences += _check_vault_stack(w3, manifest, manifest.infrastructure, manifest.vault_stack, artifacts)
        if manifest.portfolio is not None:
            from hedgevault.deployment.portfolio import portfolio_differences

            differences += portfolio_differences(w3, manifest, artifacts, _check_admin_holders)
    return differences


def admin_role_holders(contract: Contract, from_block: int | None) -> list[str]:
    """Every account that holds ``DEFAULT_ADMIN_ROLE`` of ``contract`` now, from its ``RoleGranted`` events
    since ``from_block`` (its deployment block), in the order they were first granted."""
    logs = contract.events.RoleGranted().get_logs(
        from_block=from_block or 0, argument_filters={"role": DEFAULT_ADMIN_ROLE}
    )
    granted = list(dict.fromkeys(str(log["args"]["account"]) for log in logs))
    return [account for account in granted if contract.functions.hasRole(DEFAULT_ADMIN_ROLE, account).call()]


def _kind(w3: Web3, address: str) -> str:
    return "a contract" if w3.eth.get_code(Web3.to_checksum_address(address)) else "an EOA"


def _check_admin_holders(
    w3: Web3, diffs: list[str], key: str, contract: Contract, from_block: int | None, expected: str, manifest: Manifest
) -> None:
    """``expected`` holds ``DEFAULT_ADMIN_ROLE`` of ``contract`` and nobody else does."""
    who = "the timelock" if manifest.governance is not None else "the admin"
    if not contract.functions.hasRole(DEFAULT_ADMIN_ROLE, expected).call():
        diffs.append(f"{key}: {who} {expected} lacks DEFAULT_ADMIN_ROLE")
    for holder in admin_role_holders(contract, from_block):
        if holder == expected:
            continue
        if holder == manifest.deployer:
            diffs.append(f"{key}: the deployer {holder} still holds DEFAULT_ADMIN_ROLE (handover unfinished)")
        else:
            diffs.append(
                f"{key}: {holder} ({_kind(w3, holder)}) holds DEFAULT_ADMIN_ROLE besides {who} {expected}: "
                "its changes would take effect at once; revoke it through the timelock"
            )


def _check_governance(w3: Web3, section: GovernanceSection, artifacts: dict[str, Artifact]) -> list[str]:
    record = section.contracts.get("timelock")
    if record is None:
        return ["governance.timelock: not deployed yet (run `hedgevault deploy` again to finish)"]
    diffs: list[str] = []
    timelock = bind(w3, record.address, artifacts[GOVERNANCE_ARTIFACTS["timelock"]].abi)
    fns = timelock.functions
    params = section.parameters
    _expect(diffs, "timelock.getMinDelay", params["timelock_delay_sec"], fns.getMinDelay().call())
    for holders_key, role_names in (
        ("proposers", ("PROPOSER_ROLE", "CANCELLER_ROLE")),
        ("executors", ("EXECUTOR_ROLE",)),
    ):
        for role_name in role_names:
            role = getattr(fns, role_name)().call()
            for holder in params[holders_key]:
                if not fns.hasRole(role, holder).call():
                    diffs.append(f"timelock: {holder} lacks {role_name} (governance.{holders_key})")
    for holder in admin_role_holders(timelock, record.block):
        if holder != timelock.address:
            diffs.append(
                f"timelock: {holder} ({_kind(w3, holder)}) holds the timelock's own DEFAULT_ADMIN_ROLE: it could "
                "change proposers and executors without delay; the timelock must be its only admin"
            )
    return diffs


def _expect(differences: list[str], what: str, expected: Any, found: Any) -> None:
    if expected != found:
        differences.append(f"{what}: expected {expected!r}, the chain has {found!r}")


def _check_infrastructure(w3: Web3, section: InfrastructureSection, artifacts: dict[str, Artifact]) -> list[str]:
    contracts, params = section.contracts, section.parameters
    diffs: list[str] = []
    token_abi = artifacts["MockERC20"].abi
    for key in ("quote", "underlying"):
        token = bind(w3, contracts[key].address, token_abi)
        _expect(diffs, f"infrastructure.{key}.decimals", params[f"{key}_decimals"], token.functions.decimals().call())
    feed = bind(w3, contracts["feed"].address, artifacts["AggregatorV3Interface"].abi)
    _expect(diffs, "infrastructure.feed.decimals", params["feed_decimals"], feed.functions.decimals().call())
    pool = bind(w3, contracts["pool"].address, npm_artifact("UniswapV3Pool").abi)
    _expect(diffs, "infrastructure.pool.fee", params["pool_fee"], pool.functions.fee().call())
    _expect(
        diffs,
        "infrastructure.pool tokens",
        sorted([contracts["quote"].address, contracts["underlying"].address]),
        sorted([pool.functions.token0().call(), pool.functions.token1().call()]),
    )
    if section.origin == "deployed":
        factory = contracts["uniswap_factory"].address
        _expect(diffs, "infrastructure.pool.factory", factory, pool.functions.factory().call())
        for key in ("swap_router", "position_manager"):
            bound = bind(w3, contracts[key].address, npm_artifact("SwapRouter").abi)
            _expect(diffs, f"infrastructure.{key}.factory", factory, bound.functions.factory().call())
    if "aave_addresses_provider" in contracts:
        diffs += _check_aave(w3, section)
    return diffs


def _check_aave(w3: Web3, section: InfrastructureSection) -> list[str]:
    """The provider still points at the recorded pool, configurator, ACL manager, oracle and data provider; the
    quote and underlying are reserves, the underlying borrowable."""
    contracts = section.contracts
    diffs: list[str] = []
    if any(key not in contracts for key in AAVE_CORE_KEYS):
        return [f"infrastructure.{key}: not recorded yet" for key in AAVE_CORE_KEYS if key not in contracts]
    market = bind_market(w3, {key: contracts[key].address for key in AAVE_CORE_KEYS})
    fns = market.addresses_provider.functions
    for key, getter in (
        ("aave_pool", fns.getPool),
        ("aave_pool_configurator", fns.getPoolConfigurator),
        ("aave_acl_manager", fns.getACLManager),
        ("aave_oracle", fns.getPriceOracle),
        ("aave_data_provider", fns.getPoolDataProvider),
    ):
        _expect(diffs, f"infrastructure.aave_addresses_provider -> {key}", contracts[key].address, getter().call())
    if not diffs:
        diffs += market_problems(market, contracts["underlying"].address, contracts["quote"].address)
    return diffs


def _check_vault_stack(
    w3: Web3,
    manifest: Manifest,
    infra_section: InfrastructureSection,
    stack: VaultStackSection,
    artifacts: dict[str, Artifact],
) -> list[str]:
    infra = infra_section.contracts
    missing = [key for key in VAULT_STACK_ARTIFACTS if key not in stack.contracts]
    if missing:
        return [f"vault_stack.{key}: not deployed yet (run `hedgevault deploy` again to finish)" for key in missing]
    c = {
        key: bind(w3, record.address, artifacts[stack_artifact(key, record)].abi)
        for key, record in stack.contracts.items()
    }
    params, roles = stack.parameters, stack.roles
    diffs: list[str] = []
    address = {key: record.address for key, record in stack.contracts.items()}

    po = c["price_oracle"].functions
    _expect(diffs, "price_oracle.feed", infra["feed"].address, po.feed().call())
    sequencer = infra["sequencer_feed"].address if "sequencer_feed" in infra else "0x" + "00" * 20
    _expect(diffs, "price_oracle.sequencerFeed", sequencer, po.sequencerFeed().call())
    _expect(diffs, "price_oracle.pool", infra["pool"].address, po.pool().call())
    _expect(diffs, "price_oracle.params", OracleParams(**params["oracle"]).as_tuple(), tuple(po.params().call()))
    _expect(
        diffs,
        "vol_oracle.params",
        VolParams(**params["vol"]).as_tuple(),
        tuple(c["vol_oracle"].functions.params().call()),
    )
    _expect(diffs, "option_token.vault", address["vault"], c["option_token"].functions.vault().call())
    _expect(diffs, "hedger.vault", address["vault"], c["hedger"].functions.vault().call())
    _expect(diffs, "hedger.uniswapPool", infra["pool"].address, c["hedger"].functions.uniswapPool().call())

    v = c["vault"].functions
    wiring = {
        "asset": infra["quote"].address,
        "underlying": infra["underlying"].address,
        "priceOracle": address["price_oracle"],
        "volOracle": address["vol_oracle"],
        "hedger": address["hedger"],
        "optionToken": address["option_token"],
        "pricer": address["pricer"],
        "feeRecipient": params["fee_recipient"],
        "name": params["vault_name"],
        "symbol": params["vault_symbol"],
    }
    for getter, expected in wiring.items():
        _expect(diffs, f"vault.{getter}", expected, getattr(v, getter)().call())
    for key, library in (("hedge_library", HEDGE_LIBRARY), ("book_library", BOOK_LIBRARY)):
        if not _linked_library(w3, stack.contracts["vault"].address, address[key]):
            diffs.append(f"vault: its code does not call the recorded {library} at {address[key]}")
    diffs += _check_vault_parameters(c["vault"], stack.contracts["vault"].block, params)

    for holders_key, contract_key, role_name in ROLE_GRANTS:
        fns = c[contract_key].functions
        role = getattr(fns, role_name)().call()
        for holder in roles[holders_key]:
            if not fns.hasRole(role, holder).call():
                diffs.append(f"{contract_key}: {holder} lacks {role_name} (roles.{holders_key})")
    expected_admin = manifest.admin_holder or roles["admin"]
    for key in admin_contracts(HedgerParams(**params["hedger"])):
        _check_admin_holders(w3, diffs, key, c[key], stack.contracts[key].block, expected_admin, manifest)
    return diffs


def _linked_library(w3: Web3, vault: str, library: str) -> bool:
    """True when the vault's runtime code contains the library's address (solc links by embedding it)."""
    code = bytes(w3.eth.get_code(Web3.to_checksum_address(vault)))
    return bytes.fromhex(library[2:]) in code


def vault_parameters_on_chain(vault: Contract, from_block: int | None) -> tuple[tuple[int, ...], ...] | None:
    """(risk, limits, hedge) as tuples from the vault's latest ``ParametersSet`` event (None when no event)."""
    found = latest_parameters(vault, from_block or 0)
    return None if found is None else tuple(tuple(found[name].values()) for name in ("risk", "limits", "hedge"))


def _check_vault_parameters(vault: Contract, from_block: int | None, params: dict[str, Any]) -> list[str]:
    found = vault_parameters_on_chain(vault, from_block)
    if found is None:
        return ["vault: no ParametersSet event, cannot read its risk, limit and hedge parameters"]
    diffs: list[str] = []
    for name, cls, value in zip(
        ("risk", "limits", "hedge"), (RiskParams, ExposureLimits, HedgeParams), found, strict=True
    ):
        expected = cls(**params[name])
        for field, want, got in zip(dataclasses.fields(expected), expected.as_tuple(), value, strict=True):
            _expect(diffs, f"vault.{name}.{field.name}", want, got)
    return diffs
