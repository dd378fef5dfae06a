"""The timelock `hedgevault deploy` puts in front of every admin power (issue 9, item 5), on a real Anvil:
the deployer EOA keeps no admin role; a queued change is visible (`governance pending`), cannot execute one
second before its ready time and executes at that second; a depositor exits during the delay; the delay
has a 1 h floor (``DelayBelowMinimum``); `deploy --check` flags an EOA holding an admin role.

Every test runs in an EVM snapshot of the module's deployment (``isolated``), so clock warps and queued
operations do not leak between tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from flows import Run, deposit
from web3 import Web3
from web3.exceptions import ContractCustomError

from hedgevault import governance
from hedgevault.chain import Node, latest_timestamp
from hedgevault.deployment import attach_suite, load_manifest
from hedgevault.deployment.senders import SignedSender
from hedgevault.errors import TransactionError
from hedgevault.keys import anvil_account
from hedgevault.reverts import describe, describe_data
from hedgevault.suite import Suite
from hedgevault.toolchain.compiler import compile_project
from hedgevault.txs import send_signed

WAD = 10**18
DAY = 86_400
HOUR = 3_600
ZERO_ROLE = b"\x00" * 32


@pytest.fixture
def suite(w3: Web3, manifest_path: Path) -> Iterator[Suite]:
    """The deployed suite, inside an EVM snapshot undone after the test."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield attach_suite(w3, load_manifest(manifest_path))
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print a figure to the terminal (``-s``) past the capture that ``hv`` reads the CLI's output from."""

    def show(line: str) -> None:
        with capsys.disabled():
            print(line)

    return show


def _gov(hv: Callable[..., Run], chain: Node, manifest_path: Path, command: str, *args: str) -> Run:
    return hv("governance", command, "--rpc-url", chain.url, "--manifest", manifest_path, *args)


def _queued_id(run: Run) -> str:
    assert run.code == 0, run.err
    found = re.search(r"^queued\s+(0x[0-9a-f]{64})$", run.out, re.M)
    assert found, run.out
    return found.group(1)


def _set_next_timestamp(w3: Web3, timestamp: int) -> None:
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]


def _mine_at(w3: Web3, timestamp: int) -> None:
    _set_next_timestamp(w3, timestamp)
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _spread_bps(suite: Suite) -> int:
    logs = suite.vault.events.ParametersSet().get_logs(from_block=0)
    return int(logs[-1]["args"]["risk"]["spreadBps"])


def test_the_deployer_keeps_no_admin_power(
    suite: Suite, manifest_path: Path, deployer: LocalAccount, report: Callable[[str], None]
) -> None:
    manifest = load_manifest(manifest_path)
    assert manifest.governance is not None and suite.timelock is not None
    assert manifest.governance.parameters == {
        "timelock_delay_sec": DAY,
        "proposers": [deployer.address],
        "executors": [deployer.address],
    }
    timelock = suite.timelock.functions
    delay_sec, floor_sec = int(timelock.getMinDelay().call()), int(timelock.MINIMUM_DELAY_SEC().call())
    report(f"timelock {suite.timelock.address}: delay {delay_sec} s, hard floor {floor_sec} s")
    assert (delay_sec, floor_sec) == (DAY, HOUR)
    assert timelock.hasRole(ZERO_ROLE, suite.timelock.address).call()  # its own admin
    assert not timelock.hasRole(ZERO_ROLE, deployer.address).call()
    assert timelock.hasRole(timelock.PROPOSER_ROLE().call(), deployer.address).call()
    assert timelock.hasRole(timelock.EXECUTOR_ROLE().call(), deployer.address).call()
    for contract in (suite.vault, suite.price_oracle, suite.vol_oracle):
        assert contract.functions.hasRole(ZERO_ROLE, suite.timelock.address).call()
        assert not contract.functions.hasRole(ZERO_ROLE, deployer.address).call()
    # the roles that act at once by design stay with their holders
    vault = suite.vault.functions
    assert vault.hasRole(vault.GUARDIAN_ROLE().call(), deployer.address).call()
    assert vault.hasRole(vault.LISTER_ROLE().call(), deployer.address).call()
    vol = suite.vol_oracle.functions
    assert vol.hasRole(vol.VOL_UPDATER_ROLE().call(), deployer.address).call()

    risk = suite.config.risk
    attempts = {
        "setParameters": vault.setParameters(
            (*risk.as_tuple()[:4], 150, *risk.as_tuple()[5:]),
            suite.config.limits.as_tuple(),
            suite.config.hedge.as_tuple(),
        ),
        "setFeeRecipient": vault.setFeeRecipient(anvil_account(7).address),
        "grantRole": vault.grantRole(vault.LISTER_ROLE().call(), anvil_account(7).address),
        "price_oracle.setParams": suite.price_oracle.functions.setParams(suite.config.oracle.as_tuple()),
    }
    for name, fn in attempts.items():
        with pytest.raises(ContractCustomError) as caught:
            send_signed(suite.w3, fn, deployer)
        text = describe(caught.value)
        report(f"deployer calls {name} directly: {text}")
        assert text.startswith(f"AccessControlUnauthorizedAccount(account={deployer.address}, neededRole=0x")


def test_a_queued_change_executes_at_the_ready_second_exactly(
    hv: Callable[..., Run],
    chain: Node,
    suite: Suite,
    manifest_path: Path,
    deployer: LocalAccount,
    report: Callable[[str], None],
) -> None:
    w3, timelock = suite.w3, suite.timelock
    assert timelock is not None
    run = _gov(hv, chain, manifest_path, "queue-parameters", "--anvil-account", "0", "--set", "risk.spread_bps=150")
    op_id = _queued_id(run)
    assert "change    risk.spread_bps: 100 -> 150" in run.out
    operation = governance.find_operation(suite, op_id)
    scheduled_at = int(w3.eth.get_block(operation.scheduled_block)["timestamp"])
    ready = operation.ready_at
    report(f"queued {op_id} at unix {scheduled_at}: ready at unix {ready} (+{ready - scheduled_at} s)")
    assert ready == scheduled_at + DAY == int(timelock.functions.getTimestamp(bytes.fromhex(op_id[2:])).call())
    assert operation.call is not None and operation.call.function == "setParameters"

    early = _gov(hv, chain, manifest_path, "execute", "--anvil-account", "0", "--id", op_id)
    assert early.code == 2 and "Traceback" not in early.err
    assert "is not ready: it may be executed from" in early.err and f"(unix {ready})" in early.err
    report(f"execute right away: exit {early.code}: {early.err.strip()}")

    # one second early: the transaction is mined at ready - 1 and reverts with OpenZeppelin's error
    _mine_at(w3, ready - 2)
    assert _gov(hv, chain, manifest_path, "execute", "--anvil-account", "0", "--id", op_id).code == 2
    fn = timelock.functions.execute(operation.target, 0, operation.data, operation.predecessor, operation.salt)
    _set_next_timestamp(w3, ready - 1)
    with pytest.raises(TransactionError, match="reverted"):
        send_signed(w3, fn, deployer, gas=1_000_000)  # a fixed gas limit: no estimate, so it is mined and reverts
    failed_block = w3.eth.get_block("latest")
    assert int(failed_block["timestamp"]) == ready - 1
    with pytest.raises(ContractCustomError) as caught:
        fn.call({"from": deployer.address}, block_identifier=failed_block["number"])
    reason = describe_data(str(caught.value.data))
    report(f"execute mined at unix {ready - 1} (ready - 1): reverted {reason}")
    assert reason.startswith(f"TimelockUnexpectedOperationState(operationId={op_id}, expectedStates=0x")
    assert _spread_bps(suite) == 100

    # at the ready second it executes
    _set_next_timestamp(w3, ready)
    receipt = send_signed(w3, fn, deployer, gas=1_000_000)
    executed_at = int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    report(
        f"execute mined at unix {executed_at} (ready): status {receipt['status']}, spread now {_spread_bps(suite)} bps"
    )
    assert executed_at == ready and receipt["status"] == 1
    assert _spread_bps(suite) == 150
    assert governance.find_operation(suite, op_id).state == "done"
    again = _gov(hv, chain, manifest_path, "execute", "--anvil-account", "0", "--id", op_id)
    assert again.code == 2 and "is done: nothing to execute" in again.err


def test_a_depositor_sees_the_pending_change_and_withdraws_before_it(
    hv: Callable[..., Run], chain: Node, suite: Suite, manifest_path: Path, report: Callable[[str], None]
) -> None:
    depositor = anvil_account(3)
    shares = deposit(suite, depositor, 10_000)
    overrides = ["--set", "risk.hf_floor_wad=1.4e18", "--set", "risk.spot_shock_down_bps=3000"]
    op_id = _queued_id(_gov(hv, chain, manifest_path, "queue-parameters", "--anvil-account", "0", *overrides))

    listing = _gov(hv, chain, manifest_path, "pending", "--json")
    assert listing.code == 0, listing.err
    document = json.loads(listing.out)
    assert document["delay_sec"] == DAY
    (seen,) = document["operations"]
    assert seen["id"] == op_id and seen["state"] == "waiting"
    assert seen["call"]["contract"] == "vault" and seen["call"]["function"] == "setParameters"
    risk = seen["call"]["args"]["risk"]
    assert (risk["hfFloorWad"], risk["spotShockDownBps"]) == (14 * WAD // 10, 3000)
    now = latest_timestamp(suite.w3)
    wait_sec = seen["ready_at"] - now
    report(
        f"pending: {seen['call']['function']} ready {seen['ready_at_utc']} (unix {seen['ready_at']}, in {wait_sec} s)"
    )
    assert seen["ready_at"] - now > DAY - 60
    table = _gov(hv, chain, manifest_path, "pending")
    assert op_id in table.out and "vault.setParameters(" in table.out and "waiting" in table.out

    before = int(suite.quote.functions.balanceOf(depositor.address).call())
    run = hv("withdraw", "--rpc-url", chain.url, "--manifest", manifest_path, "--anvil-account", "3", "--all")
    assert run.code == 0, run.err
    received = int(suite.quote.functions.balanceOf(depositor.address).call()) - before
    report(f"depositor redeemed {shares} shares for {received / 10**6:,.6f} quote during the delay")
    assert int(suite.vault.functions.balanceOf(depositor.address).call()) == 0
    assert received >= suite.quote_units(10_000) - 1  # no trading happened: a share is worth its deposit
    assert _spread_bps(suite) == 100 and governance.find_operation(suite, op_id).state == "waiting"


def test_the_delay_cannot_go_below_one_hour(
    hv: Callable[..., Run], suite: Suite, deployer: LocalAccount, tmp_path: Path, report: Callable[[str], None]
) -> None:
    timelock = suite.timelock
    assert timelock is not None
    w3 = suite.w3
    # at construction
    artifact = compile_project()["HedgevaultTimelock"]
    with pytest.raises(ContractCustomError) as caught:
        SignedSender(w3, deployer).deploy(artifact, 1_800, [deployer.address], [deployer.address], "0x" + "00" * 20)
    report(f"deploy a timelock with 1800 s: {describe(caught.value)}")
    assert describe(caught.value) == "DelayBelowMinimum(delay=1800, minimum=3600)"
    # the config is refused before a node starts or anything is sent
    run = hv("deploy", "--manifest", tmp_path / "m.json", "--set", "governance.timelock_delay_sec=3599")
    assert run.code == 2 and "3599 s is below the timelock's hard minimum of 3600 s" in run.err
    # updateDelay from an EOA: only the timelock itself may call it
    with pytest.raises(ContractCustomError) as caught:
        send_signed(w3, timelock.functions.updateDelay(2 * HOUR), deployer)
    assert describe(caught.value) == f"TimelockUnauthorizedCaller(caller={deployer.address})"
    # hedgevault.governance refuses to queue it (the call is simulated as the timelock first) ...
    with pytest.raises(governance.GovernanceError, match=r"DelayBelowMinimum\(delay=1800, minimum=3600\)"):
        governance.schedule(suite, deployer, timelock, "updateDelay", [1_800])
    # ... and queued by hand it fails when executed, after the full delay
    data = bytes.fromhex(timelock.encode_abi("updateDelay", args=[1_800])[2:])
    salt = b"\x01" * 32
    send_signed(w3, timelock.functions.schedule(timelock.address, 0, data, b"\x00" * 32, salt, DAY), deployer)
    op_id = governance.operation_id(timelock.address, 0, data, b"\x00" * 32, salt)
    assert (
        op_id
        == "0x" + bytes(timelock.functions.hashOperation(timelock.address, 0, data, b"\x00" * 32, salt).call()).hex()
    )
    ready = governance.find_operation(suite, op_id).ready_at
    _mine_at(w3, ready)
    with pytest.raises(governance.GovernanceError, match=r"DelayBelowMinimum\(delay=1800, minimum=3600\)") as failed:
        governance.execute(suite, deployer, op_id)
    report(f"updateDelay(1800) through the timelock at unix {ready}: {failed.value}")
    assert int(timelock.functions.getMinDelay().call()) == DAY
    # the floor itself is allowed
    operation = governance.schedule(suite, deployer, timelock, "updateDelay", [HOUR])
    _mine_at(w3, operation.ready_at)
    governance.execute(suite, deployer, operation.id)
    report(f"updateDelay(3600) executed: delay now {timelock.functions.getMinDelay().call()} s")
    assert int(timelock.functions.getMinDelay().call()) == HOUR


def test_check_flags_an_admin_role_held_by_an_eoa(
    hv: Callable[..., Run], chain: Node, suite: Suite, manifest_path: Path, report: Callable[[str], None]
) -> None:
    assert hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path, "--check").code == 0
    intruder = anvil_account(7).address
    grant = ("--contract", "vault", "--role", "DEFAULT_ADMIN_ROLE", "--account", intruder)
    op_id = _queued_id(_gov(hv, chain, manifest_path, "queue-grant-role", "--anvil-account", "0", *grant))
    _mine_at(suite.w3, governance.find_operation(suite, op_id).ready_at)
    run = _gov(hv, chain, manifest_path, "execute", "--anvil-account", "0", "--id", op_id)
    assert run.code == 0, run.err
    assert f"vault.grantRole(role=DEFAULT_ADMIN_ROLE, account={intruder})" in run.out
    assert suite.vault.functions.hasRole(ZERO_ROLE, intruder).call()

    check = hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path, "--check")
    report(f"deploy --check: exit {check.code}\n{check.err}")
    assert check.code == 2
    assert (
        f"vault: {intruder} (an EOA) holds DEFAULT_ADMIN_ROLE besides the timelock {suite.timelock.address}"
        in check.err
    )  # type: ignore[union-attr]
    assert "price_oracle" not in check.err and "vol_oracle" not in check.err


def test_deploy_suite_keeps_no_timelock_unless_asked(anvils: Callable[..., Node]) -> None:
    """The vault tests' fixture: the admin changes parameters at once by default; with a delay the suite is
    behind a timelock as `hedgevault deploy` puts it."""
    from hedgevault.suite import deploy_suite

    w3 = anvils().web3()
    plain = deploy_suite(w3)
    assert plain.timelock is None
    assert plain.vault.functions.hasRole(ZERO_ROLE, plain.admin).call()
    locked = deploy_suite(w3, timelock_delay_sec=HOUR)
    assert locked.timelock is not None
    assert int(locked.timelock.functions.getMinDelay().call()) == HOUR
    for contract in (locked.vault, locked.price_oracle, locked.vol_oracle):
        assert contract.functions.hasRole(ZERO_ROLE, locked.timelock.address).call()
        assert not contract.functions.hasRole(ZERO_ROLE, locked.admin).call()


def test_a_proposer_cancels_a_queued_fee_recipient_change(
    hv: Callable[..., Run], chain: Node, suite: Suite, manifest_path: Path, report: Callable[[str], None]
) -> None:
    recipient = anvil_account(8).address
    run = _gov(hv, chain, manifest_path, "queue-fee-recipient", "--anvil-account", "0", "--address", recipient)
    op_id = _queued_id(run)
    assert f"vault.setFeeRecipient(recipient={recipient})" in run.out
    # a non-proposer cannot cancel; the proposer can
    refused = _gov(hv, chain, manifest_path, "cancel", "--anvil-account", "3", "--id", op_id)
    assert refused.code == 2 and "AccessControlUnauthorizedAccount" in refused.err and "proposers" in refused.err
    cancelled = _gov(hv, chain, manifest_path, "cancel", "--anvil-account", "0", "--id", op_id)
    assert cancelled.code == 0, cancelled.err
    assert json.loads(_gov(hv, chain, manifest_path, "pending", "--json").out)["operations"] == []
    listed = json.loads(_gov(hv, chain, manifest_path, "pending", "--json", "--all").out)["operations"]
    report(f"after cancel: {[(op['call']['function'], op['state']) for op in listed]}")
    assert [(op["id"], op["state"]) for op in listed] == [(op_id, "cancelled")]
    _mine_at(suite.w3, listed[0]["ready_at"])
    late = _gov(hv, chain, manifest_path, "execute", "--anvil-account", "0", "--id", op_id)
    assert late.code == 2 and "is cancelled: nothing to execute" in late.err
    assert suite.vault.functions.feeRecipient().call() != recipient
