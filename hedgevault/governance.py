"""Admin changes through the suite's timelock (``HedgevaultTimelock``: OpenZeppelin's ``TimelockController``
with a 1 h floor under its delay), which holds ``DEFAULT_ADMIN_ROLE`` of the vault and the oracles when the
suite was deployed by ``hedgevault deploy``.

* ``schedule``: queue one call (predecessor 0, a salt) after checking that the timelock could make it now;
  it becomes executable ``delay`` seconds later (``ready_at``).
* ``pending_operations`` / ``find_operation``: the queue, read from the timelock's ``CallScheduled``,
  ``CallSalt``, ``CallExecuted`` and ``Cancelled`` events and its ``getOperationState`` / ``getTimestamp``
  views, each call decoded (contract, function, arguments, role names) for display.
* ``execute`` / ``cancel``: run a ready operation (refused with ``NotReadyError`` saying when it will be
  ready), or drop a queued one (proposers).

Transactions are signed locally with ``hedgevault.chain.sending.send_signed``, the path of every user command. The
operation id is OpenZeppelin's ``hashOperation``: ``keccak256(abi.encode(target, value, data, predecessor,
salt))`` (``operation_id`` computes it off-chain; the timelock's view gives the same bytes).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD
from web3.types import TxParams

from hedgevault.chain.sending import send_signed
from hedgevault.errors import HedgevaultError
from hedgevault.hints import for_user, revert_message
from hedgevault.reverts import describe
from hedgevault.suite import Suite

ZERO_BYTES32 = b"\x00" * 32
#: Role names that appear in role grants, by their bytes32 value.
ROLE_NAMES: dict[bytes, str] = {ZERO_BYTES32: "DEFAULT_ADMIN_ROLE"} | {
    bytes(Web3.keccak(text=name)): name
    for name in (
        "GUARDIAN_ROLE",
        "LISTER_ROLE",
        "VOL_UPDATER_ROLE",
        "PROPOSER_ROLE",
        "EXECUTOR_ROLE",
        "CANCELLER_ROLE",
    )
}
#: ``TimelockController.OperationState`` by its enum value.
STATES = ("unset", "waiting", "ready", "done")

#: Governance's own next step where the shared one (``hedgevault.hints``) speaks of another call: which timelock
#: role does what. The meaning of each error stays the shared table's.
STEPS: dict[str, str] = {
    "AccessControlUnauthorizedAccount": "proposers queue and cancel, executors execute (governance.proposers / "
    "governance.executors of the deployment)",
}


class GovernanceError(HedgevaultError):
    """A timelock operation cannot be queued, found, executed or cancelled (nothing was sent)."""


class NotReadyError(GovernanceError):
    """The operation is queued but its delay has not passed."""


@dataclass(frozen=True)
class DecodedCall:
    """A call as people read it: the contract's name in the suite, the function and its arguments."""

    contract: str
    function: str
    args: dict[str, Any]

    def describe(self) -> str:
        shown = ", ".join(f"{name}={_show(value)}" for name, value in self.args.items())
        return f"{self.contract}.{self.function}({shown})"


@dataclass(frozen=True)
class Operation:
    """One call queued on the timelock; ``ready_at`` is the unix time from which it may be executed.

    ``state``: ``waiting`` (delay running), ``ready``, ``done`` (executed) or ``cancelled``.
    """

    id: str
    target: str
    value: int
    data: bytes
    predecessor: bytes
    salt: bytes
    delay_sec: int
    ready_at: int
    state: str
    scheduled_block: int
    call: DecodedCall | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "ready_at": self.ready_at,
            "ready_at_utc": utc(self.ready_at),
            "delay_sec": self.delay_sec,
            "target": self.target,
            "value": self.value,
            "call": None
            if self.call is None
            else {"contract": self.call.contract, "function": self.call.function, "args": _jsonable(self.call.args)},
            "data": "0x" + self.data.hex(),
            "salt": "0x" + self.salt.hex(),
            "scheduled_block": self.scheduled_block,
        }


def utc(timestamp: int) -> str:
    """A unix time as ``2026-12-08 14:00:00 UTC``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def operation_id(
    target: str, value: int, data: bytes, predecessor: bytes = ZERO_BYTES32, salt: bytes = ZERO_BYTES32
) -> str:
    """``TimelockController.hashOperation``: keccak256(abi.encode(target, value, data, predecessor, salt))."""
    encoded = encode(["address", "uint256", "bytes", "bytes32", "bytes32"], [target, value, data, predecessor, salt])
    return "0x" + bytes(Web3.keccak(encoded)).hex()


def suite_contracts(suite: Suite) -> dict[str, Contract]:
    """The suite's contracts a timelock call may target, by the name ``DecodedCall`` shows."""
    known = {"vault": suite.vault, "price_oracle": suite.price_oracle, "vol_oracle": suite.vol_oracle}
    if suite.timelock is not None:
        known["timelock"] = suite.timelock
    return known


def require_timelock(suite: Suite) -> Contract:
    """The suite's timelock, or ``GovernanceError`` when its deployment has none."""
    if suite.timelock is None:
        raise GovernanceError(
            "this deployment has no timelock (its manifest records no governance section): its admin "
            f"{suite.admin} changes parameters directly; `hedgevault deploy` puts new suites behind a timelock"
        )
    return suite.timelock


def decode_call(known: Mapping[str, Contract], target: str, data: bytes) -> DecodedCall | None:
    """``data`` sent to ``target`` as contract name, function and arguments (roles by name); None when
    ``target`` is not one of ``known`` or the selector is not in its ABI."""
    for name, contract in known.items():
        if contract.address != Web3.to_checksum_address(target):
            continue
        try:
            fn, args = contract.decode_function_input(data)
        except ValueError:
            return None
        return DecodedCall(name, str(fn.fn_name), {k: _role_named(v) for k, v in args.items()})
    return None


def _role_named(value: Any) -> Any:
    if isinstance(value, bytes) and len(value) == 32 and value in ROLE_NAMES:
        return ROLE_NAMES[value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)


def _explain(action: str, exc: Exception) -> GovernanceError:
    text = describe(exc)
    return GovernanceError(revert_message(action, text, STEPS.get(text.split("(", 1)[0])))


def _salt(salt: bytes | None) -> bytes:
    if salt is None:
        return secrets.token_bytes(32)  # a fresh salt: the same call may be queued again later
    if len(salt) != 32:
        raise GovernanceError(f"a salt is 32 bytes (64 hex digits), got {len(salt)} bytes")
    return salt


def schedule(
    suite: Suite,
    account: LocalAccount,
    target: Contract,
    function: str,
    args: Sequence[Any],
    *,
    salt: bytes | None = None,
    delay_sec: int | None = None,
    max_fee_cap_wei: int | None = None,
) -> Operation:
    """Queue ``target.function(*args)`` on the suite's timelock from the proposer ``account``.

    The call is first simulated as the timelock (``eth_call``), so a call that would revert now (a
    parameter out of the contract's bounds, a missing role) is refused before anything is queued. The delay
    defaults to the timelock's own (``getMinDelay``); the salt to 32 random bytes.
    """
    timelock = require_timelock(suite)
    w3 = suite.w3
    data = bytes.fromhex(target.encode_abi(function, args=list(args)).removeprefix("0x"))
    call: TxParams = {"from": timelock.address, "to": target.address, "data": data}
    try:
        w3.eth.call(call)
    except (ContractCustomError, ContractLogicError) as exc:
        text = describe(exc)
        hint = for_user(text.split("(", 1)[0], "")  # the meaning only: the caller here is the timelock
        raise GovernanceError(
            f"{function} would revert when the timelock executes it now, with {text}"
            + (f" ({hint})" if hint else "")
            + ": nothing was queued"
        ) from None
    delay = int(timelock.functions.getMinDelay().call()) if delay_sec is None else delay_sec
    fn = timelock.functions.schedule(target.address, 0, data, ZERO_BYTES32, _salt(salt), delay)
    try:
        receipt = send_signed(w3, fn, account, max_fee_cap_wei=max_fee_cap_wei)
    except (ContractCustomError, ContractLogicError) as exc:
        raise _explain("schedule", exc) from None
    events = timelock.events.CallScheduled().process_receipt(receipt, errors=DISCARD)
    if not events:
        raise GovernanceError(f"transaction {receipt['transactionHash'].hex()} emitted no CallScheduled event")
    return find_operation(suite, "0x" + bytes(events[-1]["args"]["id"]).hex(), from_block=int(receipt["blockNumber"]))


def pending_operations(suite: Suite, *, from_block: int = 0, include_finished: bool = False) -> list[Operation]:
    """The timelock's operations in the order they were queued: waiting and ready ones (and with
    ``include_finished`` executed and cancelled ones too), their calls decoded."""
    timelock = require_timelock(suite)
    w3 = suite.w3
    salts = {bytes(log["args"]["id"]): bytes(log["args"]["salt"]) for log in _logs(timelock, "CallSalt", from_block)}
    latest: dict[bytes, Any] = {}
    for log in _logs(timelock, "CallScheduled", from_block):
        latest[bytes(log["args"]["id"])] = log  # a cancelled id may be queued again: the last one counts
    known = suite_contracts(suite)
    operations = []
    for op_id, log in latest.items():
        args = log["args"]
        state = STATES[int(timelock.functions.getOperationState(op_id).call())]
        if state == "unset":
            state = "cancelled"
        if state in ("done", "cancelled") and not include_finished:
            continue
        block_time = int(w3.eth.get_block(log["blockNumber"])["timestamp"])
        data = bytes(args["data"])
        operations.append(
            Operation(
                id="0x" + op_id.hex(),
                target=str(args["target"]),
                value=int(args["value"]),
                data=data,
                predecessor=bytes(args["predecessor"]),
                salt=salts.get(op_id, ZERO_BYTES32),
                delay_sec=int(args["delay"]),
                ready_at=block_time + int(args["delay"]),  # TimelockController: block.timestamp + delay
                state=state,
                scheduled_block=int(log["blockNumber"]),
                call=decode_call(known, str(args["target"]), data),
            )
        )
    return operations


def _logs(contract: Contract, event: str, from_block: int) -> list[Any]:
    return list(getattr(contract.events, event)().get_logs(from_block=from_block))


def find_operation(suite: Suite, op_id: str, *, from_block: int = 0) -> Operation:
    """The operation ``op_id`` (0x + 64 hex digits), or ``GovernanceError`` when it was never queued."""
    wanted = op_id.lower()
    if not (wanted.startswith("0x") and len(wanted) == 66):
        raise GovernanceError(f"{op_id!r} is not an operation id (0x followed by 64 hex digits)")
    for operation in pending_operations(suite, from_block=from_block, include_finished=True):
        if operation.id == wanted:
            return operation
    raise GovernanceError(
        f"no operation {op_id} was queued on the timelock {require_timelock(suite).address}: see "
        "`hedgevault governance pending`"
    )


def execute(
    suite: Suite, account: LocalAccount, op_id: str, *, from_block: int = 0, max_fee_cap_wei: int | None = None
) -> tuple[Operation, str]:
    """Execute the queued operation ``op_id`` from the executor ``account``; (the operation, the tx hash).

    Refused before anything is sent when the operation is not ready as of the latest block
    (``NotReadyError`` saying when it will be), already executed, or cancelled.
    """
    timelock = require_timelock(suite)
    operation = find_operation(suite, op_id, from_block=from_block)
    if operation.state == "waiting":
        now = int(suite.w3.eth.get_block("latest")["timestamp"])
        raise NotReadyError(
            f"operation {operation.id} ({_what(operation)}) is not ready: it may be executed from "
            f"{utc(operation.ready_at)} (unix {operation.ready_at}), in {operation.ready_at - now} s (the latest "
            f"block is at unix {now}); until then depositors can see it and leave"
        )
    if operation.state != "ready":
        raise GovernanceError(f"operation {operation.id} ({_what(operation)}) is {operation.state}: nothing to execute")
    fn = timelock.functions.execute(
        operation.target, operation.value, operation.data, operation.predecessor, operation.salt
    )
    try:
        receipt = send_signed(suite.w3, fn, account, max_fee_cap_wei=max_fee_cap_wei)
    except (ContractCustomError, ContractLogicError) as exc:
        raise _explain("execute", exc) from None
    return operation, receipt["transactionHash"].hex()


def cancel(
    suite: Suite, account: LocalAccount, op_id: str, *, from_block: int = 0, max_fee_cap_wei: int | None = None
) -> tuple[Operation, str]:
    """Cancel the queued (waiting or ready) operation ``op_id`` from a proposer ``account``."""
    timelock = require_timelock(suite)
    operation = find_operation(suite, op_id, from_block=from_block)
    if operation.state not in ("waiting", "ready"):
        raise GovernanceError(f"operation {operation.id} ({_what(operation)}) is {operation.state}: nothing to cancel")
    try:
        receipt = send_signed(
            suite.w3,
            timelock.functions.cancel(bytes.fromhex(operation.id[2:])),
            account,
            max_fee_cap_wei=max_fee_cap_wei,
        )
    except (ContractCustomError, ContractLogicError) as exc:
        raise _explain("cancel", exc) from None
    return operation, receipt["transactionHash"].hex()


def _what(operation: Operation) -> str:
    call = operation.call
    return f"{call.contract}.{call.function}" if call is not None else f"a call to {operation.target}"
