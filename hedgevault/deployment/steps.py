"""The idempotent step every deployment is made of: reuse a recorded contract after checking its code,
or deploy it and record it (saving the manifest at once, so an interrupted run resumes where it stopped)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from hedgevault.chain.rpc import Rpc
from hedgevault.deployment.errors import DeploymentError, DeploymentMismatch
from hedgevault.deployment.manifest import EMPTY_CODE_HASH, ContractRecord, Manifest, bind, code_hash
from hedgevault.deployment.senders import Sender
from hedgevault.errors import TransactionError
from hedgevault.reverts import describe
from hedgevault.toolchain.compiler import Artifact

#: OpenZeppelin AccessControl's DEFAULT_ADMIN_ROLE.
DEFAULT_ADMIN_ROLE = b"\x00" * 32

#: What to do when recorded code is not on the chain.
MISMATCH_ADVICE = (
    "The manifest does not describe this chain any more (a reset node, a tampered or copied manifest). "
    "Nothing was sent. Deploy anew with --fresh (replaces the manifest) or --manifest PATH (another file), "
    "or point --rpc-url at the chain the manifest was written for."
)


@dataclass
class DeployContext:
    """One deployment run: the chain, who sends, the compiled artifacts and the manifest being written.

    ``save`` (when given) is called after every recorded change; ``log`` receives one line per step.
    """

    w3: Web3
    sender: Sender
    artifacts: dict[str, Artifact]
    manifest: Manifest
    save: Callable[[Manifest], None] | None = None
    log: Callable[[str], None] = lambda _line: None
    deployed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    @classmethod
    def local(cls, w3: Web3, deployer: str) -> DeployContext:
        """A run without a manifest file from ``deployer``, an account the node holds unlocked (local chains:
        ``hedgevault.suite.deploy_suite``, ``hedgevault.aave.deploy_aave_market``), the project compiled."""
        from hedgevault.deployment.manifest import ChainIdentity
        from hedgevault.deployment.senders import UnlockedSender
        from hedgevault.toolchain.compiler import compile_project

        manifest = Manifest(chain=ChainIdentity.read(w3), deployer=deployer)
        return cls(w3=w3, sender=UnlockedSender(w3, deployer), artifacts=compile_project(), manifest=manifest)

    def persist(self) -> None:
        if self.save is not None:
            self.save(self.manifest)

    def ensure_contract(self, records: dict[str, ContractRecord], key: str, artifact: Artifact, *args: Any) -> Contract:
        """The contract recorded under ``key`` (its code checked against the record) or a new deployment."""
        record = records.get(key)
        if record is not None:
            verify_record(self.w3, key, record)
            self.reused.append(key)
            self.log(f"reused   {key:<17} {record.address}")
            return bind(self.w3, record.address, artifact.abi)
        contract, receipt = self.transact_deploy(key, artifact, *args)
        records[key] = ContractRecord(
            address=str(contract.address),
            artifact=artifact.name,
            code_hash=code_hash(self.w3, contract.address),
            init_code_hash=_hex(Web3.keccak(hexstr=artifact.bytecode)),
            tx_hash=_hex(receipt["transactionHash"]),
            block=int(receipt["blockNumber"]),
        )
        self.deployed.append(key)
        self.log(f"deployed {key:<17} {contract.address}")
        self.persist()
        return contract

    def transact_deploy(self, what: str, artifact: Artifact, *args: Any) -> tuple[Contract, TxReceipt]:
        try:
            return self.sender.deploy(artifact, *args)
        except ContractLogicError as exc:
            raise DeploymentError(f"deploying {what} ({artifact.name}) would revert: {describe(exc)}") from None
        except TransactionError as exc:
            raise DeploymentError(f"deploying {what} ({artifact.name}): {exc}") from None

    def transact(self, what: str, fn: Any) -> TxReceipt:
        """Send ``fn``; a revert becomes a ``DeploymentError`` naming the step and the custom error."""
        try:
            receipt = self.sender.send(fn)
        except ContractLogicError as exc:
            raise DeploymentError(f"{what} would revert: {describe(exc)}") from None
        except TransactionError as exc:
            raise DeploymentError(f"{what}: {exc}") from None
        self.log(f"sent     {what}")
        return receipt


def verify_record(w3: Web3, key: str, record: ContractRecord) -> None:
    """Raise ``DeploymentMismatch`` unless ``record``'s code is at its address."""
    verify_records(w3, {key: record})


def verify_records(w3: Web3, records: Mapping[str, ContractRecord], what: str = "the manifest") -> None:
    """Raise ``DeploymentMismatch`` naming every record (key: address, artifact) whose code is not at its
    address, unless all are; the codes are read in one batched round trip (``eth_getCode`` each)."""
    if not records:
        return
    keys = list(records)
    codes = Rpc(w3).checked(
        [("eth_getCode", [Web3.to_checksum_address(records[key].address), "latest"]) for key in keys]
    )
    differences = []
    for key, code in zip(keys, codes, strict=True):
        record = records[key]
        found = _hex(Web3.keccak(hexstr=str(code or "0x")))
        if found == record.code_hash:
            continue
        if found == EMPTY_CODE_HASH:
            differences.append(f"{key}: no code at {record.address} (the manifest records {record.artifact})")
        else:
            differences.append(
                f"{key}: code hash at {record.address} is {found}, the manifest records {record.code_hash}"
            )
    if differences:
        raise DeploymentMismatch(f"the chain does not match {what}", differences, MISMATCH_ADVICE)


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return text if text.startswith("0x") else "0x" + text


def grant_roles(
    ctx: DeployContext,
    contracts: Mapping[str, Contract],
    grants: Iterable[tuple[str, str, str]],
    holders: Mapping[str, Sequence[str]],
    deployer: str,
) -> None:
    """Grant each (manifest ``roles`` key, contract key, role getter) of ``grants`` to its holders where they lack
    it (contracts this build did not deploy are passed over). Once the deployer handed its admin role over,
    only the admin (the timelock) may grant: the grant is skipped and logged, and the final check reports the
    missing role."""
    for holders_key, contract_key, role_name in grants:
        contract = contracts.get(contract_key)
        if contract is None:
            continue
        role = getattr(contract.functions, role_name)().call()
        for holder in holders[holders_key]:
            if contract.functions.hasRole(role, holder).call():
                continue
            if not contract.functions.hasRole(DEFAULT_ADMIN_ROLE, deployer).call():
                ctx.log(f"skipped  grant {role_name} on {contract_key} to {holder}: the deployer is no longer admin")
            else:
                ctx.transact(
                    f"grant {role_name} on {contract_key} to {holder}", contract.functions.grantRole(role, holder)
                )


def hand_over_admin(
    ctx: DeployContext, contracts: Mapping[str, Contract], admin: str, deployer: str, *, timelock: bool
) -> None:
    """Give DEFAULT_ADMIN_ROLE of each of ``contracts`` to ``admin`` (the timelock when ``timelock``) and renounce
    the deployer's; nothing when the deployer is the admin. Each step only when still needed (a rerun sends
    nothing)."""
    if admin == deployer:
        return
    who = f"the timelock {admin}" if timelock else admin
    for key, contract in contracts.items():
        fns = contract.functions
        if not fns.hasRole(DEFAULT_ADMIN_ROLE, admin).call():
            ctx.transact(f"grant the admin role on {key} to {who}", fns.grantRole(DEFAULT_ADMIN_ROLE, admin))
        if fns.hasRole(DEFAULT_ADMIN_ROLE, deployer).call():
            ctx.transact(f"renounce the deployer's admin role on {key}", fns.renounceRole(DEFAULT_ADMIN_ROLE, deployer))
