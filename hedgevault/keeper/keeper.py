"""The keeper: one ``tick`` per new block (oracle updates first, then every vault), and ``run``, the loop
that survives the node going away.

Per vault and block: ``checkUpkeep``; when it asks for work, simulate ``performUpkeep(performData)`` with
eth_call and skip (logging the decoded revert) what would revert; otherwise send a locally signed
EIP-1559 transaction under the fee cap. At most one pending transaction per vault (and per oracle slot):
each tick first reconciles what is pending by receipt and nonce: mined (record it), nonce used by
something else (forget it), dropped (re-simulate, resend with the same nonce or abandon it) or stuck for
``stuck_blocks`` (replace it: same nonce, fees +12.5% under the cap, or a cancel when the action is no
longer valid). Decisions are in ``decisions.py``; chain I/O goes through ``hedgevault.chain`` (the vault's
calls: ``chainio.VaultAbi``).

A hedge upkeep moves the hedge by one slice (the hedger's swap stops at the oracle spot +/- the slippage
bound). After a hedge that landed, while ``checkUpkeep`` still asks for one, the same pass sends another, up
to ``max_hedges_per_pass`` per vault. A hedge that would revert ``PoolBeyondLimit`` or ``NothingToHedge`` is
waiting for arbitrage to move the pool back: logged once per pass (``hedge_waiting``) with the gap left, not
counted as a failure. Every pass that hedged or waited ends with the gap left (|target - hedge|) and the
book's hedge figures (``hedge_pass`` / ``hedge_waiting``; gauges with metrics).

Portfolio vaults (``KeeperConfig.portfolios``, one ``PortfolioKeeperTask`` each, after the option vaults): the
covariance post, then the targets, then rebalancing slices while ``checkUpkeep`` asks (at most
``max_upkeeps_per_pass``), each simulated and sent like the rest (``keeper/portfolio.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from hedgevault.chain.rpc import AccessEntry, CallResult, Head, Revert, Rpc, RpcError, RpcUnavailable, TxStatus
from hedgevault.chain.sending import AccessListChoice, Fees, Signer, TxRequest, choose_access_list
from hedgevault.keeper import decisions as d
from hedgevault.keeper.chainio import VaultAbi
from hedgevault.keeper.config import KeeperConfig, VaultConfig
from hedgevault.keeper.logs import LOGGER_NAME, emit
from hedgevault.keeper.metrics import NO_VAULT, KeeperMetrics
from hedgevault.keeper.oracles import OracleCall, OracleUpdater
from hedgevault.keeper.portfolio import PortfolioCall, PortfolioKeeperTask, PortfolioSkip, skip_reason_of_revert

INFO, WARNING, ERROR, DEBUG = logging.INFO, logging.WARNING, logging.ERROR, logging.DEBUG
#: Gas of a plain transfer (the cancel that fills an abandoned nonce).
CANCEL_GAS = 21_000
#: A failure that repeats with the same reason is logged again only after this many blocks.
REPEAT_LOG_BLOCKS = 50

#: How long a tick waits in all for the transactions it sent to be mined (oracle posts before the vaults are
#: checked, then the vault actions); on a chain with real block times the rest is reconciled next tick.
RECEIPT_WAIT_SEC = 2.0


@dataclass(frozen=True)
class ActionRecord:
    """What the keeper did (or decided not to do) in a tick.

    * ``kind``: ``hedge`` | ``settle`` | ``oracle`` | ``covariance`` | ``targets`` | ``rebalance`` (a
      transaction for that purpose; the last three for portfolio vaults), ``replace`` (a pending
      transaction re-sent with the same nonce), ``skip`` (not sent: ``reason`` says why).
    * ``status``: ``success`` / ``reverted`` (mined, with ``gas_used``), ``pending`` (sent, not mined yet),
      ``dry_run`` (would have been sent), ``skipped`` (would revert), ``waiting`` (a hedge that would
      revert ``PoolBeyondLimit``/``NothingToHedge``: waiting for arbitrage, not a failure),
      ``check_failed`` (checkUpkeep reverted), ``refused`` (fee cap, or the node refused it), ``abandoned``
      (dropped and no longer valid), ``unknown`` (its nonce was used by a transaction this keeper did not
      track).
    * ``vault``: the vault's address (for oracle actions: the oracle's), ``name`` its configured name.
    A landed hedge is a record with kind ``hedge`` and status ``success``.
    """

    block: int
    vault: str
    kind: str
    status: str
    tx_hash: str | None = None
    gas_used: int | None = None
    reason: str | None = None
    name: str = ""
    nonce: int | None = None


@dataclass
class _HedgePass:
    """One vault's hedging in the current pass: upkeeps landed, and why the next one waits (if it does)."""

    upkeeps: int = 0
    #: The revert the next hedge would meet (``decisions.HEDGE_WAITING_ERRORS``): name and text.
    waiting: tuple[str, str] | None = None


@dataclass
class _Pending:
    """A transaction sent and not yet seen mined; every hash it was broadcast under is kept."""

    slot: str
    target: str
    name: str
    kind: str
    request: TxRequest
    nonce: int
    fees: Fees
    hashes: list[str]
    sent_block: int
    cancel: bool = False


class Keeper:
    """Keeps the vaults of ``config`` with ``account`` (a local eth-account key) on the node of ``w3``.

    ``oracle_updater`` (local chains) posts feed and vol updates before the vaults are checked; ``metrics``
    receives gauges and counters; ``logger`` (default ``logging.getLogger("hedgevault.keeper")``) receives
    one structured event per line (see ``logs.py``)."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        config: KeeperConfig,
        oracle_updater: OracleUpdater | None = None,
        metrics: KeeperMetrics | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.config = config
        self.oracle_updater = oracle_updater
        self.metrics = metrics
        self.log = logger or logging.getLogger(LOGGER_NAME)
        self.rpc = Rpc(w3)
        self.abi = VaultAbi()
        self.address = str(account.address)
        self._signer: Signer | None = None
        self._pending: dict[str, _Pending] = {}
        self._next_nonce: int | None = None
        #: Whether each vault's hedger can go short (read once; the target of a long-only hedger is >= 0).
        self._can_short: dict[str, bool] = {}
        self._passes: dict[str, _HedgePass] = {}
        self._last_block: int | None = None
        self._last_failure: dict[str, tuple[str, int]] = {}
        #: Vaults whose oracle outage this keeper reported (or found reported), until checkUpkeep works again.
        self._outage_reported: set[str] = set()
        #: One task per portfolio vault (``KeeperConfig.portfolios``), created on first use.
        self._portfolio_tasks: list[PortfolioKeeperTask] | None = None
        if metrics is not None:
            metrics.describe_vaults(config)

    # ------------------------------------------------------------------ public

    @property
    def pending(self) -> dict[str, tuple[int, list[str]]]:
        """What is pending: slot (vault address or ``oracle:...``) -> (nonce, hashes broadcast)."""
        return {slot: (p.nonce, list(p.hashes)) for slot, p in self._pending.items()}

    def tick(self) -> list[ActionRecord]:
        """One pass at the current head: reconcile pending transactions, post oracle updates, then check
        and act on every vault. Raises ``RpcUnavailable`` when the node does not answer."""
        started = time.perf_counter()
        head = self.rpc.head()
        signer = self._signer_for_chain()
        if self._last_block is not None and head.number < self._last_block:
            emit(self.log, WARNING, "chain_went_back", block=head.number, previous=self._last_block)
            self._next_nonce = None
        records: list[ActionRecord] = []
        self._reconcile(head, signer, records)
        if self.oracle_updater is not None:
            posted = len(records)
            self._post_oracles(head, signer, self.oracle_updater, records)
            self._await_sent(head, records, posted)
            if any(r.kind == "oracle" and r.status == "success" for r in records[posted:]):
                head = self.rpc.head()  # already mined (automine): check the vaults on the fresh prices
        acted = len(records)
        self._passes = {}
        self._keep_vaults(head, signer, records, self.config.vaults)
        self._await_sent(head, records, acted)
        self._follow_up_hedges(signer, records, acted)
        if self._passes:
            self._report_hedge_passes(records, acted)
        for task in self.portfolio_tasks:
            self._keep_portfolio(signer, task, records)
        if self.metrics is not None:
            self.metrics.observe_pending(p.target for p in self._pending.values())
            self.metrics.observe_tick(
                head_block=head.number, balance_wei=signer.balance_wei(), duration_sec=time.perf_counter() - started
            )
        self._last_block = head.number
        emit(
            self.log,
            DEBUG,
            "tick",
            block=head.number,
            records=len(records),
            sec=round(time.perf_counter() - started, 4),
        )
        return records

    def run(self, stop: threading.Event) -> None:
        """Tick once per new block until ``stop`` is set (it finishes the current tick first). While the node
        is unreachable it retries with doubling delays, then resumes and reconciles by nonce and receipt."""
        attempt = 0
        down = False
        emit(self.log, INFO, "started", keeper=self.address, vaults=[v.address for v in self.config.vaults])
        while not stop.is_set():
            try:
                number = int(str(self.rpc.request("eth_blockNumber", [])), 16)
                if down:
                    emit(self.log, INFO, "rpc_restored", block=number, after_attempts=attempt)
                    down, attempt = False, 0
                    self._next_nonce = None
                    self._last_block = None  # tick now even if the head did not move: reconcile pending
                if number != self._last_block:
                    self.tick()
            except RpcUnavailable as exc:
                if self.metrics is not None:
                    self.metrics.rpc_up.set(0)
                if not down:
                    emit(self.log, WARNING, "rpc_unavailable", reason=str(exc))
                    self._count_failure("rpc:unavailable")
                down = True
                stop.wait(
                    d.backoff_sec(
                        attempt, initial_sec=self.config.backoff_initial_sec, max_sec=self.config.backoff_max_sec
                    )
                )
                attempt += 1
                continue
            except Exception as exc:  # noqa: BLE001 - a keeper left running logs and carries on
                emit(self.log, ERROR, "tick_failed", reason=f"{type(exc).__name__}: {exc}")
                self._count_failure(f"tick:{type(exc).__name__}")
            stop.wait(self.config.poll_interval_sec)
        emit(self.log, INFO, "stopped", block=self._last_block, pending=len(self._pending))

    @property
    def portfolio_tasks(self) -> list[PortfolioKeeperTask]:
        """The portfolio vaults' tasks (one per ``config.portfolios`` entry)."""
        if self._portfolio_tasks is None:
            self._portfolio_tasks = [PortfolioKeeperTask(self.w3, p, self.rpc) for p in self.config.portfolios]
        return self._portfolio_tasks

    # ------------------------------------------------------------------ portfolio vaults

    def _keep_portfolio(self, signer: Signer, task: PortfolioKeeperTask, records: list[ActionRecord]) -> None:
        """The covariance post, the targets and the rebalancing slices of one portfolio vault, each sent only
        when the one before has landed (the targets are checked against the new covariance)."""
        for plan in (task.plan_covariance, task.plan_targets):
            head = self.rpc.head()
            slot = task.cov_slot if plan == task.plan_covariance else task.targets_slot
            if slot in self._pending:
                continue
            planned = plan(head.number, head.timestamp)
            if planned is None:
                continue
            if isinstance(planned, PortfolioSkip):
                self._portfolio_skip(head, task, planned)
                continue
            if planned.kind == "targets" and planned.note and self.metrics is not None:
                self.metrics.portfolio_fallbacks.labels(task.config.address).inc()
            if planned.kind == "covariance" and planned.note and self.metrics is not None:
                self.metrics.portfolio_cov_clipped.labels(task.config.address).inc()
            first = len(records)
            self._send_portfolio_call(head, signer, task, planned, records)
            self._await_sent(head, records, first)
        for _ in range(task.config.max_upkeeps_per_pass):
            if task.config.address in self._pending:
                break
            head = self.rpc.head()
            planned = task.plan_upkeep(head.number)
            if planned is None:
                break
            if isinstance(planned, PortfolioSkip):
                self._portfolio_skip(head, task, planned)
                break
            first = len(records)
            self._send_portfolio_call(head, signer, task, planned, records)
            self._await_sent(head, records, first)
            if not any(r.kind == "rebalance" and r.status == "success" for r in records[first:]):
                break
        if self.metrics is not None:
            self.metrics.observe_portfolio(task, self.rpc.head())

    def _portfolio_skip(self, head: Head, task: PortfolioKeeperTask, skip: PortfolioSkip) -> None:
        """Log why the task does not act (the same reason again only every ``REPEAT_LOG_BLOCKS``) and count it."""
        if self.metrics is not None:
            self.metrics.portfolio_skips.labels(task.config.address, skip.reason).inc()
        slot = f"portfolio:{task.config.address}:{skip.what}:skip"
        last = self._last_failure.get(slot)
        if last is None or last[0] != skip.reason or head.number - last[1] >= REPEAT_LOG_BLOCKS:
            emit(
                self.log,
                INFO,
                "portfolio_skip",
                block=head.number,
                vault=task.config.address,
                name=task.config.name,
                action=skip.what,
                reason=skip.reason,
                detail=skip.text,
            )
            self._last_failure[slot] = (skip.reason, head.number)

    def _send_portfolio_call(
        self, head: Head, signer: Signer, task: PortfolioKeeperTask, call: PortfolioCall, records: list[ActionRecord]
    ) -> None:
        name = task.config.name
        (revert,) = self._simulate(head, [TxRequest(call.to, call.data, 0)])
        if revert is not None:
            reason = skip_reason_of_revert(revert.name)
            self._portfolio_skip(head, task, PortfolioSkip(call.kind, reason, f"{call.description}: {revert.text}"))
            records.append(ActionRecord(head.number, call.to, "skip", "skipped", reason=revert.text, name=name))
            return
        emit(
            self.log,
            INFO,
            "portfolio_plan",
            block=head.number,
            vault=task.config.address,
            name=name,
            action=call.kind,
            call=call.description,
            note=call.note or None,
            **call.fields,
        )
        if self.config.dry_run:
            emit(self.log, INFO, "dry_run", block=head.number, vault=call.to, name=name, action=call.kind)
            records.append(ActionRecord(head.number, call.to, call.kind, "dry_run", reason=call.description, name=name))
            return
        records.append(
            self._send_new(
                head,
                signer,
                slot=call.slot,
                target=call.to,
                name=name,
                kind=call.kind,
                to=call.to,
                data=call.data,
                access_list=task.config.access_lists,
            )
        )

    # ------------------------------------------------------------------ helpers

    def _signer_for_chain(self) -> Signer:
        if self._signer is None:
            chain_id = int(str(self.rpc.request("eth_chainId", [])), 16)
            self._signer = Signer(self.rpc, self.account, chain_id)
        return self._signer

    def _count_failure(self, label: str, vault: str = NO_VAULT) -> None:
        if self.metrics is not None:
            self.metrics.failures.labels(vault, label).inc()

    def _failure(self, head: Head, slot: str, label: str, event: str, **fields: Any) -> None:
        """Count a failure; log it unless the same reason was logged for ``slot`` in the last blocks."""
        self._count_failure(label, str(fields.get("vault") or NO_VAULT))
        if self._log_due(head, slot, label):
            emit(self.log, WARNING, event, block=head.number, **fields)

    def _log_due(self, head: Head, key: str, label: str) -> bool:
        """Whether ``label`` is to be logged for ``key``: not logged for it in the last ``REPEAT_LOG_BLOCKS``
        blocks (a due one is marked as logged now)."""
        last = self._last_failure.get(key)
        if last is not None and last[0] == label and head.number - last[1] < REPEAT_LOG_BLOCKS:
            return False
        self._last_failure[key] = (label, head.number)
        return True

    def _allocate_nonce(self, signer: Signer) -> int:
        if self._next_nonce is None:
            self._next_nonce = signer.nonce("pending")
        nonce = d.next_nonce(self._next_nonce, (p.nonce for p in self._pending.values()))
        self._next_nonce = nonce + 1
        return nonce

    def _simulate(self, head: Head, requests: list[TxRequest]) -> list[Revert | None]:
        """eth_call each request at the head block (an explicit number, not "latest": Anvil evaluates
        "latest" with the mempool applied, which would hide a stuck transaction's own effect)."""
        results = self.rpc.eth_calls(
            [(r.to, r.data) for r in requests],
            sender=self.address,
            block=hex(head.number),
            gas=[r.gas for r in requests],
        )
        return [r.revert for r in results]

    # ------------------------------------------------------------------ sending

    def _send_new(
        self,
        head: Head,
        signer: Signer,
        *,
        slot: str,
        target: str,
        name: str,
        kind: str,
        to: str,
        data: bytes,
        access_list: bool = False,
    ) -> ActionRecord:
        """Estimate, price under the cap, sign and send; the outcome is recorded by ``_await_sent``. With
        ``access_list``, the transaction carries the EIP-2930 list ``choose_access_list`` keeps (only one that
        lowers the estimate; a failure of the node's answer sends without, logged as ``access_list_unused``)."""
        estimate = self.rpc.estimate_gas(sender=self.address, to=to, data=data, block=hex(head.number))
        if isinstance(estimate, Revert):
            self._failure(
                head,
                slot,
                d.failure_label("estimate", estimate.name),
                "skip",
                vault=target,
                name=name,
                action=kind,
                reason=estimate.text,
            )
            return ActionRecord(head.number, target, "skip", "skipped", reason=estimate.text, name=name)
        fees = d.initial_fees(
            base_fee_wei=head.base_fee_wei,
            priority_fee_wei=self.config.priority_fee_wei,
            fee_cap_wei=self.config.max_fee_per_gas_wei,
        )
        if isinstance(fees, d.FeeRefusal):
            self._failure(
                head, slot, "send:fee_cap", "fee_cap", vault=target, name=name, action=kind, reason=fees.reason
            )
            return ActionRecord(head.number, target, "skip", "refused", reason=fees.reason, name=name)
        entries: tuple[AccessEntry, ...] = ()
        if access_list:
            choice = choose_access_list(
                self.rpc, sender=self.address, to=to, data=data, block=hex(head.number), plain_gas=estimate
            )
            entries, estimate = choice.entries, choice.gas
            if choice.reason:
                self._access_list_unused(head, slot, target, name, kind, choice)
        request = TxRequest(to, data, d.gas_limit(estimate, self.config.gas_margin_bps), access_list=entries)
        nonce = self._allocate_nonce(signer)
        try:
            tx_hash = signer.send(request, nonce, fees)
        except RpcError as exc:
            self._next_nonce = None  # the nonce may be unused: ask the node again next time
            if "nonce" in exc.rpc_message.lower():
                nonce = self._allocate_nonce(signer)
                try:
                    tx_hash = signer.send(request, nonce, fees)
                except RpcError as exc2:
                    return self._refused(head, slot, target, name, kind, exc2)
            else:
                return self._refused(head, slot, target, name, kind, exc)
        pending = _Pending(slot, target, name, kind, request, nonce, fees, [tx_hash], head.number)
        self._pending[slot] = pending
        if self.metrics is not None:
            self.metrics.actions.labels(target, kind).inc()
        emit(
            self.log,
            INFO,
            "sent",
            block=head.number,
            vault=target,
            name=name,
            action=kind,
            tx=tx_hash,
            nonce=nonce,
            gas_limit=request.gas,
            access_list=len(request.access_list) or None,
            max_fee=fees.max_fee_per_gas,
            tip=fees.max_priority_fee_per_gas,
        )
        return ActionRecord(head.number, target, kind, "pending", tx_hash=tx_hash, name=name, nonce=nonce)

    def _access_list_unused(
        self, head: Head, slot: str, target: str, name: str, kind: str, choice: AccessListChoice
    ) -> None:
        """Log why a transaction goes without an access list (a node failure as a warning), once per
        ``REPEAT_LOG_BLOCKS`` for the same kind of reason."""
        if self._log_due(head, f"{slot}:access_list", "failed" if choice.failed else "no_saving"):
            level = WARNING if choice.failed else INFO
            emit(
                self.log,
                level,
                "access_list_unused",
                block=head.number,
                vault=target,
                name=name,
                action=kind,
                reason=choice.reason,
            )

    def _refused(self, head: Head, slot: str, target: str, name: str, kind: str, exc: RpcError) -> ActionRecord:
        self._failure(
            head, slot, "send:refused", "send_refused", vault=target, name=name, action=kind, reason=exc.rpc_message
        )
        return ActionRecord(head.number, target, "skip", "refused", reason=exc.rpc_message, name=name)

    def _finish(self, head: Head, p: _Pending, status: TxStatus) -> ActionRecord:
        """A pending transaction was mined: forget it and record the outcome."""
        del self._pending[p.slot]
        kind = "replace" if p.cancel else p.kind
        outcome = "success" if status.success else "reverted"
        reason = "cancelled: the action was no longer valid" if p.cancel else None
        if not status.success:
            reason = "reverted on-chain (the state changed after the simulation, e.g. another keeper acted first)"
            self._count_failure(f"tx:reverted:{p.kind}", p.target)
        level = INFO if status.success else WARNING
        emit(
            self.log,
            level,
            "mined",
            block=status.block,
            vault=p.target,
            name=p.name,
            action=kind,
            status=outcome,
            tx=status.tx_hash,
            gas=status.gas_used,
            nonce=p.nonce,
            reason=reason,
        )
        return ActionRecord(
            status.block, p.target, kind, outcome, status.tx_hash, status.gas_used, reason, p.name, p.nonce
        )

    def _rebroadcast(self, head: Head, signer: Signer, p: _Pending, *, why: str, dropped: bool) -> ActionRecord | None:
        """Send ``p`` again with the same nonce: the same call if it still simulates, else a cancel."""
        if not p.cancel:
            (revert,) = self._simulate(head, [p.request])
            if revert is not None:
                others = [q.nonce for q in self._pending.values() if q is not p]
                if dropped and not d.needs_cancel(p.nonce, others):
                    # nothing waits behind this nonce: forget it (the next transaction reuses it)
                    del self._pending[p.slot]
                    self._next_nonce = None
                    emit(
                        self.log,
                        INFO,
                        "abandoned",
                        block=head.number,
                        vault=p.target,
                        name=p.name,
                        action=p.kind,
                        nonce=p.nonce,
                        reason=f"{why}; no longer valid: {revert.text}",
                    )
                    return ActionRecord(
                        head.number,
                        p.target,
                        "skip",
                        "abandoned",
                        p.hashes[-1],
                        None,
                        f"{why}; no longer valid: {revert.text}",
                        p.name,
                        p.nonce,
                    )
                p.cancel = True
                p.request = TxRequest(self.address, b"", CANCEL_GAS)
                why = f"{why}; cancelled: {revert.text}"
        fees = d.bumped_fees(
            p.fees,
            base_fee_wei=head.base_fee_wei,
            priority_fee_wei=self.config.priority_fee_wei,
            fee_cap_wei=self.config.max_fee_per_gas_wei,
        )
        if isinstance(fees, d.FeeRefusal):
            if not dropped:
                p.sent_block = head.number  # try again after another stuck_blocks
                self._failure(
                    head,
                    p.slot,
                    "replace:fee_cap",
                    "bump_blocked",
                    vault=p.target,
                    name=p.name,
                    action=p.kind,
                    tx=p.hashes[-1],
                    nonce=p.nonce,
                    reason=fees.reason,
                )
                return ActionRecord(
                    head.number, p.target, "skip", "refused", p.hashes[-1], None, fees.reason, p.name, p.nonce
                )
            fees = p.fees  # a dropped transaction may go out again at its old fees
        try:
            tx_hash = signer.send(p.request, p.nonce, fees)
        except RpcError as exc:
            self._failure(
                head,
                p.slot,
                "replace:refused",
                "replace_refused",
                vault=p.target,
                name=p.name,
                nonce=p.nonce,
                reason=exc.rpc_message,
            )
            p.sent_block = head.number
            return ActionRecord(
                head.number, p.target, "skip", "refused", p.hashes[-1], None, exc.rpc_message, p.name, p.nonce
            )
        p.fees = fees
        p.hashes.append(tx_hash)
        p.sent_block = head.number
        if self.metrics is not None:
            self.metrics.actions.labels(p.target, "replace").inc()
        emit(
            self.log,
            INFO,
            "replace",
            block=head.number,
            vault=p.target,
            name=p.name,
            action=p.kind,
            tx=tx_hash,
            replaces=p.hashes[-2],
            nonce=p.nonce,
            max_fee=fees.max_fee_per_gas,
            tip=fees.max_priority_fee_per_gas,
            reason=why,
        )
        return ActionRecord(head.number, p.target, "replace", "pending", tx_hash, None, why, p.name, p.nonce)

    # ------------------------------------------------------------------ the three stages

    def _reconcile(self, head: Head, signer: Signer, records: list[ActionRecord]) -> None:
        if not self._pending:
            return
        pendings = sorted(self._pending.values(), key=lambda p: p.nonce)
        hashes = [h for p in pendings for h in p.hashes]
        statuses = {s.tx_hash: s for s in self.rpc.tx_statuses(hashes)}
        mined_nonce = signer.nonce("latest")
        for p in pendings:
            mine = [statuses[h] for h in p.hashes]
            mined = next((s for s in mine if s.mined), None)
            verdict = d.pending_verdict(
                receipt_found=mined is not None,
                tx_known=any(s.known for s in mine),
                mined_nonce=mined_nonce,
                nonce=p.nonce,
                head_block=head.number,
                sent_block=p.sent_block,
                stuck_blocks=self.config.stuck_blocks,
            )
            if verdict is d.PendingVerdict.MINED and mined is not None:
                records.append(self._finish(head, p, mined))
            elif verdict is d.PendingVerdict.NONCE_USED:
                del self._pending[p.slot]
                reason = f"nonce {p.nonce} was used by a transaction this keeper did not send or track"
                emit(self.log, WARNING, "nonce_used", block=head.number, vault=p.target, name=p.name, reason=reason)
                self._count_failure("reconcile:nonce_used", p.target)
                records.append(
                    ActionRecord(head.number, p.target, p.kind, "unknown", p.hashes[-1], None, reason, p.name, p.nonce)
                )
            elif verdict is d.PendingVerdict.DROPPED:
                record = self._rebroadcast(head, signer, p, why="dropped by the node", dropped=True)
                if record is not None:
                    records.append(record)
            elif verdict is d.PendingVerdict.STUCK:
                why = f"not mined after {head.number - p.sent_block} blocks"
                record = self._rebroadcast(head, signer, p, why=why, dropped=False)
                if record is not None:
                    records.append(record)

    def _post_oracles(self, head: Head, signer: Signer, updater: OracleUpdater, records: list[ActionRecord]) -> None:
        plan = updater.plan(block=head.number, now_sec=head.timestamp)
        if self.metrics is not None and updater.surface is not None and updater.surface.refitted:
            self.metrics.observe_surface(updater.surface)
        for held in plan.held:
            emit(
                self.log,
                INFO if held.fresh else DEBUG,
                "oracle_held",
                block=head.number,
                vault=held.to,
                name=held.slot,
                action="oracle",
                reason=held.reason,
            )
        calls: list[OracleCall] = [c for c in plan.calls if c.slot not in self._pending]
        for call in calls:
            if call.note:
                emit(
                    self.log,
                    INFO,
                    "oracle_clipped",
                    block=head.number,
                    vault=call.to,
                    name=call.slot,
                    action="oracle",
                    call=call.description,
                    reason=call.note,
                )
        if not calls:
            return
        reverts = self._simulate(head, [TxRequest(c.to, c.data, 0) for c in calls])
        for call, revert in zip(calls, reverts, strict=True):
            if revert is not None:
                self._failure(
                    head,
                    call.slot,
                    d.failure_label("oracle", revert.name),
                    "skip",
                    vault=call.to,
                    name=call.slot,
                    action="oracle",
                    call=call.description,
                    reason=revert.text,
                )
                records.append(
                    ActionRecord(head.number, call.to, "skip", "skipped", reason=revert.text, name=call.slot)
                )
            elif self.config.dry_run:
                emit(
                    self.log,
                    INFO,
                    "dry_run",
                    block=head.number,
                    vault=call.to,
                    name=call.slot,
                    action="oracle",
                    call=call.description,
                )
                records.append(
                    ActionRecord(head.number, call.to, "oracle", "dry_run", reason=call.description, name=call.slot)
                )
            else:
                records.append(
                    self._send_new(
                        head,
                        signer,
                        slot=call.slot,
                        target=call.to,
                        name=call.slot,
                        kind="oracle",
                        to=call.to,
                        data=call.data,
                    )
                )

    def _await_sent(self, head: Head, records: list[ActionRecord], first: int) -> None:
        """Wait up to ``RECEIPT_WAIT_SEC`` (in all) for the transactions this tick sent to be mined and record
        their outcomes: a local node's automine can lag behind the send under load, and oracle posts must
        land before the vaults are checked on them. What is still pending then is reconciled on a later
        tick as usual."""
        waiting = [i for i, r in enumerate(records) if i >= first and r.status == "pending" and r.tx_hash]
        deadline = time.monotonic() + RECEIPT_WAIT_SEC
        while waiting:
            statuses = self.rpc.tx_statuses([str(records[i].tx_hash) for i in waiting])
            for i, status in zip(list(waiting), statuses, strict=True):
                pending = next((p for p in self._pending.values() if status.tx_hash in p.hashes), None)
                if status.mined and pending is not None:
                    records[i] = self._finish(head, pending, status)
                    waiting.remove(i)
            if not waiting or time.monotonic() >= deadline:
                return
            time.sleep(0.02)

    def _hedge_direction(self, vaults: list[str]) -> None:
        """Read (once per vault) whether its hedger can go short: ``vault.hedger().canShort()``. A vault whose
        reads fail is tried again next pass (its gap is not reported meanwhile)."""
        todo = [a for a in vaults if a not in self._can_short]
        if not todo:
            return
        hedgers = self.rpc.eth_calls([(a, self.abi.hedger.calldata()) for a in todo])
        pairs = [
            (a, self.abi.decode_address(self.abi.hedger, r.output))
            for a, r in zip(todo, hedgers, strict=True)
            if r.output
        ]
        results = self.rpc.eth_calls([(h, self.abi.can_short.calldata()) for _, h in pairs])
        for (vault, _), result in zip(pairs, results, strict=True):
            if result.output:
                self._can_short[vault] = bool(self.abi.can_short.decode_output(result.output)[0])

    def _hedge_figures(self, vault: VaultConfig, values: dict[str, int]) -> dict[str, Any] | None:
        """The book's hedge figures for logs and metrics (None until the hedger's direction is known):
        underlying amounts as floats in underlying units, quote amounts in quote token units."""
        can_short = self._can_short.get(vault.address)
        if can_short is None:
            return None
        target, gap = d.hedge_gap_wad(values["bookDeltaWad"], values["hedgeWad"], can_short=can_short)
        net = values["bookDeltaWad"] + values["hedgeWad"]
        if self.metrics is not None:
            self.metrics.observe_hedge(
                vault.address,
                net_delta_wad=net,
                hedge_wad=values["hedgeWad"],
                gap_wad=gap,
                collateral=values["collateral"],
                claim_reserve=values["claimReserve"],
            )
        return {
            "gap_left": round(gap / 10**18, 6),
            "hedge": round(values["hedgeWad"] / 10**18, 6),
            "target": round(target / 10**18, 6),
            "net_delta": round(net / 10**18, 6),
            "collateral_units": values["collateral"],
            "claim_reserve_units": values["claimReserve"],
        }

    def _follow_up_hedges(self, signer: Signer, records: list[ActionRecord], first: int) -> None:
        """After hedges that landed in this pass: check those vaults again at the new head and, while they
        still ask for work, act again, up to ``max_hedges_per_pass`` hedges per vault in the pass."""
        start = first
        cap = self.config.max_hedges_per_pass
        while True:
            for r in records[start:]:
                if r.kind == "hedge" and r.status == "success":
                    self._passes.setdefault(r.vault, _HedgePass()).upkeeps += 1
            landed = {r.vault for r in records[start:] if r.kind == "hedge" and r.status == "success"}
            again = [
                v
                for v in self.config.vaults
                if v.address in landed and v.address not in self._pending and self._passes[v.address].upkeeps < cap
            ]
            if not again:
                return
            head = self.rpc.head()
            start = len(records)
            self._keep_vaults(head, signer, records, again)
            self._await_sent(head, records, start)

    def _report_hedge_passes(self, records: list[ActionRecord], first: int) -> None:
        """One event per vault that hedged or waited in this pass, with the gap left and the book's hedge
        figures at the head after the pass: ``hedge_waiting`` (the next slice waits for arbitrage) or
        ``hedge_pass``."""
        vaults = [v for v in self.config.vaults if v.address in self._passes]
        self._hedge_direction([v.address for v in vaults])
        head = self.rpc.head()
        results = self.rpc.eth_calls([(v.address, self.abi.book_data) for v in vaults], block=hex(head.number))
        for v, result in zip(vaults, results, strict=True):
            state = self._passes[v.address]
            figures = self._hedge_figures(v, self.abi.decode_book(result.output)) if result.output else None
            fields: dict[str, Any] = {"upkeeps": state.upkeeps, **(figures or {})}
            if state.waiting is not None:
                if self.metrics is not None:
                    self.metrics.hedge_waits.labels(v.address, state.waiting[0]).inc()
                emit(
                    self.log,
                    INFO,
                    "hedge_waiting",
                    block=head.number,
                    vault=v.address,
                    name=v.name,
                    action="hedge",
                    reason=d.hedge_waiting_reason(*state.waiting),
                    **fields,
                )
            elif state.upkeeps:
                emit(self.log, INFO, "hedge_pass", block=head.number, vault=v.address, name=v.name, **fields)

    def _keep_vaults(
        self, head: Head, signer: Signer, records: list[ActionRecord], candidates: Sequence[VaultConfig]
    ) -> None:
        """Check ``candidates`` (those without a pending transaction) at ``head`` and act on what they ask."""
        vaults = [v for v in candidates if v.address not in self._pending]
        if not vaults:
            return
        with_metrics = self.metrics is not None
        per_vault = 3 if with_metrics else 1
        calls: list[tuple[str, bytes]] = []
        for v in vaults:
            calls.append((v.address, self.abi.check_upkeep_data))
            if with_metrics:
                calls += [(v.address, self.abi.book_data), (v.address, self.abi.last_hedge_time_data)]
        results = self.rpc.eth_calls(calls, sender=self.address, block=hex(head.number))
        if with_metrics:
            self._hedge_direction([v.address for v in vaults])
        todo: list[tuple[VaultConfig, str, bytes]] = []
        for i, v in enumerate(vaults):
            check = results[i * per_vault]
            if with_metrics:
                self._observe(head, v, results[i * per_vault + 1], results[i * per_vault + 2])
            if check.revert is not None or not check.output:
                # no output at all: an account without code answers an eth_call with nothing (a wrong address
                # in the config); that vault fails, the others are still kept
                revert = check.revert or Revert(
                    b"", "empty", "checkUpkeep returned no data: is there an OptionVault at this address?"
                )
                self._failure(
                    head,
                    v.address,
                    d.failure_label("check", revert.name),
                    "check_failed",
                    vault=v.address,
                    name=v.name,
                    reason=revert.text,
                )
                records.append(
                    ActionRecord(head.number, v.address, "skip", "check_failed", reason=revert.text, name=v.name)
                )
                if revert.name in d.ORACLE_DOWN_ERRORS and v.address not in self._outage_reported:
                    todo.append((v, d.UpkeepKind.REPORT_OUTAGE.value, self.abi.report_outage_data))
                continue
            self._outage_reported.discard(v.address)
            needed, perform_data = self.abi.decode_check(check.output)
            if not needed:
                emit(self.log, DEBUG, "idle", block=head.number, vault=v.address, name=v.name)
                continue
            try:
                upkeep = d.classify_perform_data(perform_data)
            except ValueError as exc:
                self._failure(
                    head,
                    v.address,
                    "check:bad_perform_data",
                    "check_failed",
                    vault=v.address,
                    name=v.name,
                    reason=str(exc),
                )
                continue
            todo.append((v, upkeep.kind.value, self.abi.perform_upkeep.calldata(perform_data)))
        if not todo:
            return
        simulated = self._simulate(head, [TxRequest(v.address, data, 0) for v, _, data in todo])
        for (v, kind, data), failed in zip(todo, simulated, strict=True):
            if kind == d.UpkeepKind.HEDGE.value and failed is not None and failed.name in d.HEDGE_WAITING_ERRORS:
                # the pool sits at the slice's price limit: arbitrage must move it first (reported after the
                # pass with the gap left, once; not a failure)
                self._passes.setdefault(v.address, _HedgePass()).waiting = (failed.name, failed.text)
                records.append(ActionRecord(head.number, v.address, "skip", "waiting", reason=failed.text, name=v.name))
                continue
            if kind == d.UpkeepKind.REPORT_OUTAGE.value and (failed is None or failed.name == "OutageAlreadyReported"):
                self._outage_reported.add(v.address)
                if failed is not None:
                    continue  # another caller reported it first: nothing to send, nothing failed
            if failed is not None:
                self._failure(
                    head,
                    v.address,
                    d.failure_label("simulate", failed.name),
                    "skip",
                    vault=v.address,
                    name=v.name,
                    action=kind,
                    reason=failed.text,
                )
                records.append(ActionRecord(head.number, v.address, "skip", "skipped", reason=failed.text, name=v.name))
            elif self.config.dry_run:
                emit(self.log, INFO, "dry_run", block=head.number, vault=v.address, name=v.name, action=kind)
                records.append(ActionRecord(head.number, v.address, kind, "dry_run", name=v.name))
            else:
                if kind != d.UpkeepKind.REPORT_OUTAGE.value:  # the check still fails: keep its log deduplicated
                    self._last_failure.pop(v.address, None)
                records.append(
                    self._send_new(
                        head, signer, slot=v.address, target=v.address, name=v.name, kind=kind, to=v.address, data=data
                    )
                )

    def _observe(self, head: Head, vault: VaultConfig, book: CallResult, last_hedge: CallResult) -> None:
        if self.metrics is None or not book.output or not last_hedge.output:
            return
        values = self.abi.decode_book(book.output)
        (last_hedge_sec,) = self.abi.last_hedge_time.decode_output(last_hedge.output)
        self.metrics.observe_vault(vault.address, last_hedge_sec=int(last_hedge_sec), hf_wad=values["healthFactorWad"])
        self._hedge_figures(vault, values)
