"""The governance step of a deployment: ``HedgevaultTimelock`` (OpenZeppelin's ``TimelockController`` with a
hard 1 h floor under its delay), deployed before the vault stack so that the stack's admin role can be handed
to it once the other roles are granted.

The timelock is its own admin (constructor ``admin`` = the zero address): changing its proposers, executors
or delay is itself a timelocked operation.
"""

from __future__ import annotations

from web3.contract import Contract

from hedgevault.deployment.config import DeployConfig, check_timelock_delay
from hedgevault.deployment.infrastructure import ZERO_ADDRESS
from hedgevault.deployment.manifest import GOVERNANCE_ARTIFACTS, GovernanceSection
from hedgevault.deployment.steps import DeployContext


def deploy_timelock(ctx: DeployContext, config: DeployConfig) -> Contract | None:
    """Deploy (or reuse what the manifest records of) the timelock ``config.governance`` asks for; None when
    it asks for none. The delay is checked against the 1 h floor before anything is sent."""
    operator = config.roles.resolve(ctx.sender.address)["admin"]
    params = config.governance.resolve(operator)
    if params is None:
        return None
    check_timelock_delay(int(params["timelock_delay_sec"]), "governance.timelock_delay_sec")
    if ctx.manifest.governance is None:
        ctx.manifest.governance = GovernanceSection(parameters=params)
    recorded = ctx.manifest.governance.parameters
    return ctx.ensure_contract(
        ctx.manifest.governance.contracts,
        "timelock",
        ctx.artifacts[GOVERNANCE_ARTIFACTS["timelock"]],
        int(recorded["timelock_delay_sec"]),
        list(recorded["proposers"]),
        list(recorded["executors"]),
        ZERO_ADDRESS,
    )
