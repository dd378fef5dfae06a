"""One deployment run: read or start the manifest, check that it is this chain's, get the infrastructure
(deploy it on a dev chain, or take it from the config or another manifest), deploy the vault stack, read
everything back from the chain and compare, save the manifest.

A rerun reuses every recorded contract after checking its code and sends nothing when all is in place;
a config that differs from what the manifest records, or a chain that differs from it, is an error that
says what differs (nothing is redeployed behind the user's back).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

from hedgevault.deployment.checks import check_deployment
from hedgevault.deployment.config import DeployConfig
from hedgevault.deployment.errors import DeploymentError, DeploymentMismatch
from hedgevault.deployment.infrastructure import (
    configured_infrastructure,
    deploy_local_infrastructure,
    load_infrastructure,
    local_parameters,
)
from hedgevault.deployment.manifest import (
    ChainIdentity,
    InfrastructureSection,
    Manifest,
    load_manifest,
    save_manifest,
)
from hedgevault.deployment.portfolio import PortfolioStack, deploy_portfolio_stack, portfolio_roles
from hedgevault.deployment.senders import Sender
from hedgevault.deployment.steps import DeployContext
from hedgevault.deployment.vault_stack import VaultStack, deploy_vault_stack, vault_stack_parameters
from hedgevault.toolchain.compiler import compile_project

CONFIG_ADVICE = (
    "Nothing was sent. A deployed suite keeps its parameters: change them on-chain through the timelock "
    "(`hedgevault governance queue-parameters`, then `governance execute` after the delay) and the manifest by "
    "hand, put the recorded values back in the config, "
    "or deploy a new suite with --fresh (replaces the manifest) or --manifest PATH (another file)."
)


@dataclass
class DeployResult:
    """What a run did."""

    manifest: Manifest
    manifest_path: Path
    deployed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    transactions: int = 0
    stack: VaultStack | None = None
    portfolio: PortfolioStack | None = None


def run_deploy(
    w3: Web3,
    sender: Sender,
    config: DeployConfig,
    *,
    manifest_path: Path,
    fresh: bool = False,
    infrastructure_manifest: Path | None = None,
    deploy_infrastructure: bool | None = None,
    vault_stack: bool = True,
    portfolio: bool | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> DeployResult:
    """Deploy (or reuse and verify) the suite on ``w3`` and write the manifest to ``manifest_path``.

    The infrastructure comes from, in this order: the manifest itself (a rerun), ``infrastructure_manifest``
    (e.g. the manifest of the chain a fork was made from), ``config.infrastructure`` (a testnet's
    addresses), or is deployed: by default only on a dev chain (chain id 31337 or 1337);
    ``deploy_infrastructure=True`` deploys mocks on any chain, ``False`` never. ``vault_stack=False`` skips
    the option vault stack; ``portfolio`` deploys the portfolio stack (``config.portfolio``) on the same
    infrastructure and timelock (None: when ``config.portfolio.enabled``). With neither, the run stops after
    the infrastructure (what a testnet stand-in needs).
    """
    with_portfolio = config.portfolio.enabled if portfolio is None else portfolio
    identity = ChainIdentity.read(w3)
    artifacts = compile_project()
    manifest: Manifest | None = None
    if manifest_path.exists() and not fresh:
        manifest = load_manifest(manifest_path)
        manifest.check_chain(identity, f"manifest {manifest_path}")
        _check_config_against_manifest(manifest, config, sender.address, manifest_path, with_portfolio)
        log(f"manifest {manifest_path}: reusing what it records after checking it on the chain")
    elif manifest_path.exists():
        log(f"manifest {manifest_path}: --fresh, replacing it")
    if manifest is None:
        manifest = Manifest(chain=identity, deployer=sender.address)
    if manifest.deployer != sender.address and _has_unfinished_work(manifest, vault_stack, with_portfolio):
        raise DeploymentError(
            f"manifest {manifest_path} was deployed by {manifest.deployer}, not {sender.address}: finish it with "
            "that key (the option token can only be bound by its deployer), or deploy anew with --fresh"
        )

    ctx = DeployContext(
        w3=w3,
        sender=sender,
        artifacts=artifacts,
        manifest=manifest,
        save=lambda m: save_manifest(m, manifest_path),
        log=log,
    )
    before = sender.transactions
    if manifest.infrastructure is not None and manifest.infrastructure.origin == "deployed":
        # reuses every recorded contract after checking its code; finishes an interrupted run
        infra = deploy_local_infrastructure(ctx, config.suite, warp_clock=identity.is_dev)
    elif manifest.infrastructure is not None:
        infra = load_infrastructure(w3, manifest.infrastructure, artifacts)
        ctx.reused += list(manifest.infrastructure.contracts)
    elif infrastructure_manifest is not None:
        base = load_manifest(infrastructure_manifest)
        base.check_chain(identity, f"infrastructure manifest {infrastructure_manifest}")
        if base.infrastructure is None:
            raise DeploymentError(f"infrastructure manifest {infrastructure_manifest} records no infrastructure")
        manifest.infrastructure = InfrastructureSection(
            origin="external",
            source=str(infrastructure_manifest),
            parameters=dict(base.infrastructure.parameters),
            contracts=dict(base.infrastructure.contracts),
        )
        infra = load_infrastructure(w3, manifest.infrastructure, artifacts)
        ctx.reused += list(manifest.infrastructure.contracts)
        log(f"infrastructure from {infrastructure_manifest}")
        ctx.persist()
    elif config.infrastructure is not None:
        section = configured_infrastructure(ctx, config.infrastructure, "config")
        infra = load_infrastructure(w3, section, artifacts)
    elif deploy_infrastructure or (deploy_infrastructure is None and identity.is_dev):
        infra = deploy_local_infrastructure(ctx, config.suite, warp_clock=identity.is_dev)
    else:
        raise DeploymentError(
            f"chain id {identity.chain_id} is not a dev chain and no infrastructure is given: put the addresses "
            "of the tokens, feed, Uniswap V3 and pool in the config's infrastructure section (see "
            "deployments/example.yaml), or give --infrastructure MANIFEST; --deploy-infrastructure deploys "
            "mock tokens and feeds there instead"
        )

    stack = deploy_vault_stack(ctx, infra, config) if vault_stack else None
    portfolio_stack = deploy_portfolio_stack(ctx, infra, config, warp_clock=identity.is_dev) if with_portfolio else None
    ctx.persist()
    differences = check_deployment(w3, manifest, artifacts)
    if differences:
        raise DeploymentMismatch(
            f"after deploying, the chain does not match the manifest {manifest_path}",
            differences,
            "Inspect the listed contracts; rerun with --fresh if the deployment was interfered with.",
        )
    return DeployResult(
        manifest=manifest,
        manifest_path=manifest_path,
        deployed=ctx.deployed,
        reused=ctx.reused,
        transactions=sender.transactions - before,
        stack=stack,
        portfolio=portfolio_stack,
    )


def _has_unfinished_work(manifest: Manifest, vault_stack: bool, portfolio: bool) -> bool:
    if manifest.infrastructure is None:
        return True
    if portfolio and (manifest.portfolio is None or "vault" not in manifest.portfolio.contracts):
        return True
    return vault_stack and (manifest.vault_stack is None or len(manifest.vault_stack.contracts) < 6)


def _check_config_against_manifest(
    manifest: Manifest, config: DeployConfig, deployer: str, path: Path, portfolio: bool = False
) -> None:
    """Refuse a config whose parameters differ from the ones the manifest's deployment was made with."""
    differences: list[str] = []
    infra = manifest.infrastructure
    if infra is not None and infra.origin == "deployed" and config.infrastructure is None:
        _diff_dicts(differences, "local", infra.parameters, local_parameters(config.suite))
    if infra is not None and infra.origin == "external" and config.infrastructure is not None:
        for key, address in dataclasses.asdict(config.infrastructure).items():
            recorded = infra.contracts.get(key)
            if address is not None and (recorded is None or recorded.address != address):
                differences.append(
                    f"infrastructure.{key}: the config gives {address}, the manifest records "
                    f"{None if recorded is None else recorded.address}"
                )
    if infra is not None and infra.origin == "deployed" and config.infrastructure is not None:
        differences.append(
            "infrastructure: the config gives addresses, the manifest's infrastructure was deployed here"
        )
    stack = manifest.vault_stack
    roles = config.roles.resolve(manifest.deployer)
    if stack is not None:
        _diff_dicts(differences, "", stack.parameters, vault_stack_parameters(config, roles))
        _diff_dicts(differences, "roles", stack.roles, roles)
    if manifest.portfolio is not None and portfolio:
        _diff_dicts(differences, "portfolio", manifest.portfolio.parameters, config.portfolio.to_json())
        _diff_dicts(
            differences, "portfolio.roles", manifest.portfolio.roles, portfolio_roles(config, manifest.deployer)
        )
    wanted = config.governance.resolve(roles["admin"])
    recorded_gov = None if manifest.governance is None else manifest.governance.parameters
    if recorded_gov is not None and wanted is not None:
        _diff_dicts(differences, "governance", recorded_gov, wanted)
    elif stack is not None and recorded_gov != wanted:
        differences.append(
            "governance: the manifest's suite has no timelock (roles.admin holds the admin role), the config "
            "asks for one; deploy a suite behind a timelock with --fresh or --manifest PATH"
            if recorded_gov is None
            else "governance: the manifest's suite is behind a timelock, the config asks for none"
        )
    if differences:
        raise DeploymentMismatch(
            f"the config differs from what manifest {path} was deployed with (manifest value first)",
            differences,
            CONFIG_ADVICE,
        )


def _diff_dicts(out: list[str], prefix: str, recorded: dict[str, Any], wanted: dict[str, Any]) -> None:
    for key in sorted(set(recorded) | set(wanted)):
        name = f"{prefix}.{key}" if prefix else key
        old, new = recorded.get(key), wanted.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            _diff_dicts(out, name, old, new)
        elif old != new:
            out.append(f"{_section_name(name)}: manifest {old!r}, config {new!r}")


def _section_name(name: str) -> str:
    """Manifest keys -> config keys (``vault_name`` is ``vault.name`` in the config file)."""
    return {"vault_name": "vault.name", "vault_symbol": "vault.symbol", "fee_recipient": "vault.fee_recipient"}.get(
        name, name
    )
