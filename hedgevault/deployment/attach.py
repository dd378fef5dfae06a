"""A deployed suite from its manifest, for the CLI, the keeper and the simulator: ``attach_suite``."""

from __future__ import annotations

from web3 import Web3

from hedgevault.deployment.errors import DeploymentError
from hedgevault.deployment.infrastructure import infrastructure_records, load_infrastructure
from hedgevault.deployment.manifest import (
    GOVERNANCE_ARTIFACTS,
    VAULT_STACK_ARTIFACTS,
    VAULT_STACK_KEYS,
    ChainIdentity,
    Manifest,
    bind,
    stack_artifact,
)
from hedgevault.deployment.steps import verify_records
from hedgevault.params import PARAM_SECTIONS, AaveParams, SuiteConfig
from hedgevault.suite import Suite
from hedgevault.toolchain.compiler import compile_project


def suite_config_of(manifest: Manifest) -> SuiteConfig:
    """The ``SuiteConfig`` a manifest's deployment was made with (``spot_wad`` and ``pool_underlying``: the
    initial pool price and liquidity when we deployed the infrastructure, else the defaults; ``aave`` likewise)."""
    if manifest.infrastructure is None or manifest.vault_stack is None:
        raise DeploymentError("the manifest records no complete suite: run `hedgevault deploy` to finish it")
    infra, params = manifest.infrastructure.parameters, manifest.vault_stack.parameters
    defaults = SuiteConfig()
    return SuiteConfig(
        quote_decimals=int(infra["quote_decimals"]),
        underlying_decimals=int(infra["underlying_decimals"]),
        spot_wad=int(infra.get("spot_wad", defaults.spot_wad)),
        pool_fee=int(infra["pool_fee"]),
        pool_underlying=int(infra.get("pool_underlying", defaults.pool_underlying)),
        feed_decimals=int(infra["feed_decimals"]),
        with_sequencer_feed=bool(infra["with_sequencer_feed"]),
        **{name: cls(**params[name]) for name, cls in PARAM_SECTIONS.items()},
        aave=AaveParams.from_json(infra["aave"]) if "aave" in infra else defaults.aave,
    )


def attach_suite(w3: Web3, manifest: Manifest) -> Suite:
    """Web3 contracts of the suite ``manifest`` records, on ``w3``.

    Raises ``WrongChainError`` when the node is another chain (chain id or genesis hash differ), and
    ``DeploymentMismatch`` when a recorded contract's code is not there (a reset node). ``Suite.admin`` is
    the recorded ``roles.admin`` (the operator; with a timelock, ``Suite.timelock`` holds the admin role) and
    ``Suite.feed`` has the mock feed's ABI when the infrastructure was deployed by us (settable), the
    Chainlink interface otherwise.
    """
    manifest.check_chain(ChainIdentity.read(w3), "the manifest")
    config = suite_config_of(manifest)
    infra_section, stack = manifest.infrastructure, manifest.vault_stack
    if infra_section is None or stack is None:  # suite_config_of refused these already
        raise DeploymentError("the manifest records no complete suite")
    missing = [key for key in VAULT_STACK_KEYS if key not in stack.contracts]
    if missing:
        raise DeploymentError(
            f"the manifest's vault stack lacks {', '.join(missing)}: run `hedgevault deploy` to finish it"
        )
    timelock_record = None
    if manifest.governance is not None:
        timelock_record = manifest.governance.contracts.get("timelock")
        if timelock_record is None:
            raise DeploymentError("the manifest's timelock is not deployed yet: run `hedgevault deploy` to finish it")
    # every recorded contract's code, in one round trip; a mismatch names them all
    records = infrastructure_records(infra_section)
    records.update({f"vault_stack.{key}": record for key, record in stack.contracts.items()})
    if timelock_record is not None:
        records["governance.timelock"] = timelock_record
    verify_records(w3, records)
    artifacts = compile_project()
    infra = load_infrastructure(w3, infra_section, artifacts, verify=False)
    contracts = {
        key: bind(w3, stack.contracts[key].address, artifacts[stack_artifact(key, stack.contracts[key])].abi)
        for key in VAULT_STACK_ARTIFACTS
    }
    timelock = None
    if timelock_record is not None:
        timelock = bind(w3, timelock_record.address, artifacts[GOVERNANCE_ARTIFACTS["timelock"]].abi)
    return Suite(
        w3=w3,
        config=config,
        admin=str(stack.roles["admin"]),
        fee_recipient=str(stack.parameters["fee_recipient"]),
        quote=infra.quote,
        underlying=infra.underlying,
        feed=infra.feed,
        sequencer_feed=infra.sequencer_feed,
        uniswap=infra.uniswap,
        pool=infra.pool,
        price_oracle=contracts["price_oracle"],
        vol_oracle=contracts["vol_oracle"],
        pricer=contracts["pricer"],
        hedge_library=contracts["hedge_library"],
        book_library=contracts["book_library"],
        option_token=contracts["option_token"],
        vault=contracts["vault"],
        hedger=contracts["hedger"],
        timelock=timelock,
        aave=infra.aave,
    )
