"""`hedgevault governance queue-parameters | queue-fee-recipient | queue-grant-role | execute | cancel |
pending`: admin changes through the timelock of a deployed suite (``hedgevault.governance``), found through
its deployment manifest; signed with the same key options as the depositor's commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from hedgevault.ops.cli import OpsInputError, attached, connection_flags, signer_flags, signing_account

if TYPE_CHECKING:
    from hedgevault.deployment.manifest import Manifest
    from hedgevault.governance import Operation
    from hedgevault.suite import Suite

_EPILOG = """\
examples:
  hedgevault governance pending --rpc-url URL [--json]
  hedgevault governance queue-parameters --rpc-url URL --anvil-account 0 --set risk.spread_bps=150
  hedgevault governance queue-fee-recipient --rpc-url URL --keystore KEY --address 0x...
  hedgevault governance queue-grant-role --rpc-url URL --contract vault --role LISTER_ROLE --account 0x...
  hedgevault governance execute --rpc-url URL --anvil-account 0 --id 0x...

Every change to parameters, limits, the fee recipient or roles waits out the timelock's delay (24 h by
default, never below 1 h) in public view: depositors see it with `governance pending` and may withdraw
before it takes effect. See docs/deployment.md."""

#: --contract choices -> the suite's contract name.
_CONTRACTS = {"vault": "vault", "price-oracle": "price_oracle", "vol-oracle": "vol_oracle", "timelock": "timelock"}
#: The vault's setParameters sections; the config sections queue-parameters accepts.
_PARAMETER_SECTIONS = ("risk", "limits", "hedge")


def _from_block(manifest: Manifest) -> int:
    if manifest.governance is None or "timelock" not in manifest.governance.contracts:
        return 0
    return int(manifest.governance.contracts["timelock"].block or 0)


def _salt(args: argparse.Namespace) -> bytes | None:
    if args.salt is None:
        return None
    text = args.salt.removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise OpsInputError(f"--salt {args.salt!r}: expected 32 bytes as 64 hex digits")
    return bytes.fromhex(text)


def _delay(args: argparse.Namespace) -> int | None:
    from hedgevault.units import to_seconds

    return None if args.delay is None else to_seconds(args.delay, "--delay")


def _address(text: str, flag: str) -> str:
    from web3 import Web3

    if not Web3.is_address(text):
        raise OpsInputError(f"{flag} {text!r} is not an address (0x followed by 40 hex digits)")
    if text != text.lower() and not Web3.is_checksum_address(text):
        raise OpsInputError(f"{flag} {text} has a wrong checksum (mixed case); check for a typo")
    return str(Web3.to_checksum_address(text))


def _print_queued(operation: Operation, args: argparse.Namespace, changes: list[str] | None = None) -> None:
    from hedgevault.governance import utc

    print(f"queued    {operation.id}")
    print(f"call      {operation.call.describe() if operation.call else operation.target}")
    for line in changes or []:
        print(f"change    {line}")
    print(f"ready at  {utc(operation.ready_at)} (unix {operation.ready_at}), after a {operation.delay_sec} s delay")
    print(f"salt      0x{operation.salt.hex()}")
    print(f"then      hedgevault governance execute --id {operation.id} (an executor, once ready)")


def _queue(args: argparse.Namespace, contract_name: str, function: str, build: Any) -> int:
    """Attach, build the arguments (``build(suite, manifest)``), schedule, print."""
    from hedgevault.governance import require_timelock, schedule, suite_contracts

    with attached(args) as (suite, manifest):
        require_timelock(suite)
        target = suite_contracts(suite).get(contract_name)
        if target is None:
            raise OpsInputError(f"this deployment has no {contract_name} contract")
        call_args, shown = build(suite, manifest)
        operation = schedule(
            suite,
            signing_account(args, suite),
            target,
            function,
            call_args,
            salt=_salt(args),
            delay_sec=_delay(args),
        )
        _print_queued(operation, args, shown)
    return 0


def _queue_parameters(args: argparse.Namespace) -> int:
    def build(suite: Suite, manifest: Manifest) -> tuple[list[Any], list[str]]:
        current, wanted = _parameters_with_overrides(suite, manifest, args.overrides)
        return [params.as_tuple() for params in wanted], _changes(current, wanted)

    return _queue(args, "vault", "setParameters", build)


def _current_parameters(suite: Suite, manifest: Manifest) -> tuple[Any, Any, Any]:
    """The vault's (RiskParams, ExposureLimits, HedgeParams) now, from its latest ``ParametersSet`` event."""
    from hedgevault.deployment.vault_stack import latest_parameters
    from hedgevault.params import ExposureLimits, HedgeParams, RiskParams

    block = 0 if manifest.vault_stack is None else int(manifest.vault_stack.contracts["vault"].block or 0)
    found = latest_parameters(suite.vault, block)
    if found is None:
        raise OpsInputError(
            f"the vault {suite.vault.address} emitted no ParametersSet event: cannot read its parameters"
        )
    # the event's fields are in the structs' order, which is the dataclasses' field order (their as_tuple)
    return (
        RiskParams(*found["risk"].values()),
        ExposureLimits(*found["limits"].values()),
        HedgeParams(*found["hedge"].values()),
    )


def _parameters_with_overrides(
    suite: Suite, manifest: Manifest, overrides: list[str]
) -> tuple[tuple[Any, Any, Any], tuple[Any, Any, Any]]:
    """(the current parameters, the same with ``--set`` applied through deploy's own parser and validation)."""
    from hedgevault.deployment.config import apply_overrides, build_config

    if not overrides:
        raise OpsInputError("nothing to change: give one or more --set SECTION.KEY=VALUE (risk, limits, hedge)")
    current = _current_parameters(suite, manifest)
    raw = {name: dataclasses.asdict(value) for name, value in zip(_PARAMETER_SECTIONS, current, strict=True)}
    merged = apply_overrides(raw, overrides)
    others = sorted(set(merged) - set(_PARAMETER_SECTIONS))
    if others:
        raise OpsInputError(
            f"--set {others[0]}.*: queue-parameters changes the vault's {', '.join(_PARAMETER_SECTIONS)} sections "
            "(setParameters); other settings have their own commands or a new deployment"
        )
    config = build_config(merged, "--set")
    wanted = (config.suite.risk, config.suite.limits, config.suite.hedge)
    if wanted == current:
        raise OpsInputError("the --set values equal the vault's current parameters: nothing to queue")
    return current, wanted


def _changes(current: tuple[Any, Any, Any], wanted: tuple[Any, Any, Any]) -> list[str]:
    lines = []
    for section, old, new in zip(_PARAMETER_SECTIONS, current, wanted, strict=True):
        for field in dataclasses.fields(old):
            before, after = getattr(old, field.name), getattr(new, field.name)
            if before != after:
                lines.append(f"{section}.{field.name}: {before} -> {after}")
    return lines


def _queue_fee_recipient(args: argparse.Namespace) -> int:
    def build(suite: Suite, manifest: Manifest) -> tuple[list[Any], list[str]]:
        address = _address(args.address, "--address")
        before = suite.vault.functions.feeRecipient().call()
        return [address], [f"vault.feeRecipient: {before} -> {address}"]

    return _queue(args, "vault", "setFeeRecipient", build)


def _role_value(contract: Any, name: str) -> bytes:
    from hedgevault.governance import ZERO_BYTES32

    if name == "DEFAULT_ADMIN_ROLE":
        return ZERO_BYTES32
    getters = [
        item["name"] for item in contract.abi if item.get("type") == "function" and item["name"].endswith("_ROLE")
    ]
    if name not in getters:
        raise OpsInputError(f"--role {name}: this contract's roles are {', '.join(sorted(getters))}")
    return bytes(getattr(contract.functions, name)().call())


def _queue_role(args: argparse.Namespace, function: str) -> int:
    from hedgevault.governance import suite_contracts

    contract_name = _CONTRACTS[args.contract]

    def build(suite: Suite, manifest: Manifest) -> tuple[list[Any], list[str]]:
        contract = suite_contracts(suite)[contract_name]
        account = _address(args.account, "--account")
        role = _role_value(contract, args.role)
        holds = bool(contract.functions.hasRole(role, account).call())
        if holds == (function == "grantRole"):
            raise OpsInputError(
                f"{account} {'already holds' if holds else 'does not hold'} {args.role} on {contract_name}: nothing "
                "to queue"
            )
        return [role, account], []

    return _queue(args, contract_name, function, build)


def _execute(args: argparse.Namespace) -> int:
    from hedgevault.governance import execute

    return _settle_operation(args, execute, "executed ")


def _cancel(args: argparse.Namespace) -> int:
    from hedgevault.governance import cancel

    return _settle_operation(args, cancel, "cancelled")


def _settle_operation(args: argparse.Namespace, act: Any, done: str) -> int:
    """Execute or cancel the queued operation ``args.id`` (``act``) and print what was done."""
    with attached(args) as (suite, manifest):
        operation, tx_hash = act(suite, signing_account(args, suite), args.id, from_block=_from_block(manifest))
    print(f"{done} {operation.id}")
    print(f"call      {operation.call.describe() if operation.call else operation.target}")
    print(f"tx        {tx_hash}")
    return 0


def _pending(args: argparse.Namespace) -> int:
    from hedgevault.governance import pending_operations, require_timelock, utc

    with attached(args) as (suite, manifest):
        timelock = require_timelock(suite)
        delay_sec = int(timelock.functions.getMinDelay().call())
        now = int(suite.w3.eth.get_block("latest")["timestamp"])
        operations = pending_operations(suite, from_block=_from_block(manifest), include_finished=args.all)
    if args.json:
        document = {
            "timelock": timelock.address,
            "delay_sec": delay_sec,
            "latest_block_time": now,
            "operations": [op.to_json() for op in operations],
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"timelock {timelock.address}: delay {delay_sec} s; latest block {utc(now)} (unix {now})")
    if not operations:
        print("no queued operations" + ("" if args.all else " (--all also lists executed and cancelled ones)"))
        return 0
    for op in operations:
        wait = f", in {op.ready_at - now} s" if op.state == "waiting" else ""
        print(f"{op.id}  {op.state:<9} ready {utc(op.ready_at)} (unix {op.ready_at}{wait})")
        print(f"    {op.call.describe() if op.call else f'call to {op.target} data 0x{op.data.hex()}'}")
    return 0


def _queue_flags(p: argparse.ArgumentParser) -> None:
    signer_flags(p, receiver=False)
    p.add_argument("--delay", help="wait this long before it may execute (default and minimum: the timelock's delay)")
    p.add_argument("--salt", help="32-byte hex salt of the operation (default: random)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `governance` and its subcommands."""
    parser = sub.add_parser(
        "governance",
        help="queue, list and execute admin changes through the suite's timelock",
        description="Admin changes of a deployed suite go through its timelock: queue, wait out the delay, execute.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gov = parser.add_subparsers(dest="governance_command", required=True, metavar="SUBCOMMAND")

    p = gov.add_parser("queue-parameters", help="queue the vault's setParameters with --set changes")
    _queue_flags(p)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="change one of the vault's risk, limits or hedge parameters, as deploy's --set (repeatable)",
    )
    p.set_defaults(func=_queue_parameters)

    p = gov.add_parser("queue-fee-recipient", help="queue the vault's setFeeRecipient")
    _queue_flags(p)
    p.add_argument("--address", required=True, help="the new fee recipient")
    p.set_defaults(func=_queue_fee_recipient)

    for name, function, verb in (
        ("queue-grant-role", "grantRole", "grant"),
        ("queue-revoke-role", "revokeRole", "revoke"),
    ):
        p = gov.add_parser(name, help=f"queue a role {verb} on the vault, an oracle or the timelock")
        _queue_flags(p)
        p.add_argument("--contract", required=True, choices=tuple(_CONTRACTS))
        p.add_argument("--role", required=True, help="e.g. LISTER_ROLE, GUARDIAN_ROLE, DEFAULT_ADMIN_ROLE")
        p.add_argument("--account", required=True, help="the account the role is granted to / revoked from")
        p.set_defaults(func=lambda args, function=function: _queue_role(args, function))

    p = gov.add_parser("execute", help="execute a queued operation once its delay has passed (executors)")
    signer_flags(p, receiver=False)
    p.add_argument("--id", required=True, help="operation id (see `governance pending`)")
    p.set_defaults(func=_execute)

    p = gov.add_parser("cancel", help="cancel a queued operation (proposers)")
    signer_flags(p, receiver=False)
    p.add_argument("--id", required=True, help="operation id")
    p.set_defaults(func=_cancel)

    p = gov.add_parser("pending", help="queued operations with their ready time and decoded call")
    connection_flags(p)
    p.add_argument("--all", action="store_true", help="also executed and cancelled operations")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_pending)
