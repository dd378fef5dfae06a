"""Prometheus metrics of the keeper (prometheus_client), in their own registry so that several keepers
can live in one process (the simulator, tests). ``serve`` starts the HTTP endpoint (``/metrics``).

Names follow Prometheus's naming guide: every name starts ``hedgevault_keeper_``; counters end ``_total``;
durations are ``_seconds`` histograms; moments are ``_timestamp_seconds`` gauges (unix time: alert on
``time() - x``, not on a seconds-since gauge that is only as fresh as the last scrape); unit-less ratios end
``_ratio`` (1 = 100%); the unit is the last word otherwise (``_underlying_tokens`` for underlying amounts in
whole tokens, ``_quote_units`` for quote amounts in the token's smallest units as the vault reports them,
``_ether``). Dimensions are labels: ``vault`` (the kept contract's checksummed address; for oracle posts the
oracle's; empty for what concerns the keeper as a whole, such as ``rpc:unavailable``), ``action`` and
``reason``. ``hedgevault_keeper_vault_info{vault,name,kind}`` maps addresses to the configured names. The
registry also carries prometheus_client's process (``process_...``), platform (``python_info``) and garbage
collector (``python_gc_...``) collectors.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
)

if TYPE_CHECKING:
    from hedgevault.chain.rpc import Head
    from hedgevault.keeper.config import KeeperConfig
    from hedgevault.keeper.oracles import SurfacePoster
    from hedgevault.keeper.portfolio import PortfolioKeeperTask

WAD = 10**18
#: Buckets of the tick's wall time, seconds: an idle tick on a local node takes a few milliseconds, one that
#: sends waits for receipts (up to ``RECEIPT_WAIT_SEC`` = 2 s per wait), a slow node stretches it further.
TICK_BUCKETS_SEC = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: ``vault`` label of what concerns the keeper as a whole (an empty value: Prometheus treats it as no label).
NO_VAULT = ""


class KeeperMetrics:
    """The gauges, counters and histograms the keeper updates every tick. ``process_metrics=False`` leaves
    out the process, platform and GC collectors (tests that read only the keeper's own metrics)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, process_metrics: bool = True) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        if process_metrics:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)
        self.vault_info = Gauge(
            "hedgevault_keeper_vault_info",
            "1 for each kept contract: its address (vault), configured name and kind (option, portfolio)",
            ["vault", "name", "kind"],
            registry=r,
        )
        # ---- option vaults
        self.last_hedge = Gauge(
            "hedgevault_keeper_last_hedge_timestamp_seconds",
            "The vault's lastHedgeTime (chain time of its last hedge, unix seconds; 0 = never)",
            ["vault"],
            registry=r,
        )
        self.net_delta = Gauge(
            "hedgevault_keeper_net_delta_underlying_tokens",
            "Net delta (book delta + hedge), underlying tokens",
            ["vault"],
            registry=r,
        )
        self.hedge = Gauge(
            "hedgevault_keeper_hedge_underlying_tokens",
            "The signed hedge (held - owed with interest), underlying tokens",
            ["vault"],
            registry=r,
        )
        self.hedge_gap = Gauge(
            "hedgevault_keeper_hedge_gap_underlying_tokens",
            "|target - hedge| after the keeper's last pass, underlying tokens (target = -book delta)",
            ["vault"],
            registry=r,
        )
        self.collateral = Gauge(
            "hedgevault_keeper_collateral_quote_units",
            "The hedger's collateral on the lending market, quote token units (smallest units)",
            ["vault"],
            registry=r,
        )
        self.claim_reserve = Gauge(
            "hedgevault_keeper_claim_reserve_quote_units",
            "Quote kept for near-expiry in-the-money claims, quote token units (smallest units)",
            ["vault"],
            registry=r,
        )
        self.health_factor = Gauge(
            "hedgevault_keeper_health_factor_ratio",
            "Health factor A / (L + M) (+Inf with no liabilities)",
            ["vault"],
            registry=r,
        )
        self.hedge_waits = Counter(
            "hedgevault_keeper_hedge_waits_total",
            "Passes whose next hedge slice could not trade, by the revert it met (reason: PoolBeyondLimit, "
            "NothingToHedge): waiting for arbitrage or free cash, not failures",
            ["vault", "reason"],
            registry=r,
        )
        # ---- the keeper
        self.actions = Counter(
            "hedgevault_keeper_actions_total",
            "Transactions sent, by contract and action (hedge, settle, report_outage, oracle, covariance, targets, "
            "rebalance, replace)",
            ["vault", "action"],
            registry=r,
        )
        self.failures = Counter(
            "hedgevault_keeper_failures_total",
            "Failures by contract (empty: the keeper as a whole) and reason (stage:ErrorName)",
            ["vault", "reason"],
            registry=r,
        )
        self.pending = Gauge(
            "hedgevault_keeper_pending_transactions",
            "Transactions sent and not yet seen mined, by the contract they call (after the last tick)",
            ["vault"],
            registry=r,
        )
        self.rpc_up = Gauge(
            "hedgevault_keeper_rpc_up",
            "1 when the last tick's reads answered, 0 while the node does not answer (or before the first tick)",
            registry=r,
        )
        self.balance = Gauge(
            "hedgevault_keeper_account_balance_ether", "The keeper account's balance, ether", registry=r
        )
        self.head_block = Gauge(
            "hedgevault_keeper_head_block_number", "Number of the head block the last tick worked on", registry=r
        )
        self.last_tick = Gauge(
            "hedgevault_keeper_last_tick_timestamp_seconds",
            "Wall-clock time the last tick completed (unix seconds)",
            registry=r,
        )
        self.tick_duration = Histogram(
            "hedgevault_keeper_tick_duration_seconds",
            "Wall time of a tick (reconcile, oracle posts, every vault), seconds",
            buckets=TICK_BUCKETS_SEC,
            registry=r,
        )
        # ---- the fitted surface (SurfacePoster, keeper setting quotes_file)
        self.surface_walk_steps = Counter(
            "hedgevault_keeper_surface_walk_steps_total",
            "Partial steps planned toward a fitted slice the oracle's rate limit refused, by expiry (unix s)",
            ["expiry"],
            registry=r,
        )
        self.surface_walk_lambda = Gauge(
            "hedgevault_keeper_surface_walk_lambda_ratio",
            "How far the expiry's latest planned post went from the re-post toward the fit (1 = the fit itself)",
            ["expiry"],
            registry=r,
        )
        self.surface_walk_left = Gauge(
            "hedgevault_keeper_surface_walk_left_vol_ratio",
            "Largest per-strike vol distance left between the expiry's latest planned post and the fit (1 = 100 "
            "vol points; 0 = the fit posted)",
            ["expiry"],
            registry=r,
        )
        self.surface_fallbacks = Counter(
            "hedgevault_keeper_surface_fallbacks_total",
            "Fits that kept the expiry's last good slice (refused for more than the rate limit, or no step toward "
            "them passes; the log says why), by expiry (unix s)",
            ["expiry"],
            registry=r,
        )
        # ---- portfolio vaults
        self.portfolio_skips = Counter(
            "hedgevault_keeper_portfolio_skips_total",
            "Portfolio actions not taken, by reason (paused, budget_spent, oracle_stale, cov_too_soon, ...)",
            ["vault", "reason"],
            registry=r,
        )
        self.portfolio_fallbacks = Counter(
            "hedgevault_keeper_portfolio_fallbacks_total",
            "Targets posted from the inverse-volatility fallback (the mode's solve failed)",
            ["vault"],
            registry=r,
        )
        self.portfolio_cov_clipped = Counter(
            "hedgevault_keeper_portfolio_cov_clipped_total",
            "Covariance posts moved only part of the way to the estimate (the oracle's step limit)",
            ["vault"],
            registry=r,
        )
        self.portfolio_tracking_error = Gauge(
            "hedgevault_keeper_portfolio_tracking_error_ratio",
            "sqrt((w-t)'S(w-t)) of the current weights, annualised (1 = 100%)",
            ["vault"],
            registry=r,
        )
        self.portfolio_ex_ante_vol = Gauge(
            "hedgevault_keeper_portfolio_ex_ante_volatility_ratio",
            "sqrt(w'Sw) of the current weights, annualised (1 = 100%)",
            ["vault"],
            registry=r,
        )
        self.portfolio_budget_left = Gauge(
            "hedgevault_keeper_portfolio_budget_left_ratio",
            "Slippage budget available / capacity (1 = untouched)",
            ["vault"],
            registry=r,
        )
        self.portfolio_last_post = Gauge(
            "hedgevault_keeper_portfolio_last_post_timestamp_seconds",
            "Chain time of the last covariance post (what=covariance) and targets (what=targets), unix seconds",
            ["vault", "what"],
            registry=r,
        )
        self._pending_seen: set[str] = set()
        self.rpc_up.set(0)

    # ------------------------------------------------------------------ recording

    def describe_vaults(self, config: KeeperConfig) -> None:
        """``vault_info`` of every configured contract, and its pending transactions at 0 (a series from the
        start rather than from its first transaction still pending at the end of a tick)."""
        for v in config.vaults:
            self.vault_info.labels(v.address, v.name, "option").set(1)
        for p in config.portfolios:
            self.vault_info.labels(p.address, p.name, "portfolio").set(1)
        self._pending_seen.update(v.address for v in config.vaults)
        self._pending_seen.update(p.address for p in config.portfolios)
        self.observe_pending([])

    def observe_vault(self, vault: str, *, last_hedge_sec: int, hf_wad: int) -> None:
        self.last_hedge.labels(vault).set(last_hedge_sec)
        self.health_factor.labels(vault).set(float("inf") if hf_wad >= 2**255 else hf_wad / WAD)

    def observe_hedge(
        self, vault: str, *, net_delta_wad: int, hedge_wad: int, gap_wad: int, collateral: int, claim_reserve: int
    ) -> None:
        """The book's hedge figures (underlying wad; quote token units)."""
        self.net_delta.labels(vault).set(net_delta_wad / WAD)
        self.hedge.labels(vault).set(hedge_wad / WAD)
        self.hedge_gap.labels(vault).set(gap_wad / WAD)
        self.collateral.labels(vault).set(collateral)
        self.claim_reserve.labels(vault).set(claim_reserve)

    def observe_pending(self, targets: Iterable[str]) -> None:
        """The pending transactions by the contract they call; a contract with none left reads 0."""
        counts: dict[str, int] = {}
        for target in targets:
            counts[target] = counts.get(target, 0) + 1
        self._pending_seen.update(counts)
        for target in self._pending_seen:
            self.pending.labels(target).set(counts.get(target, 0))

    def observe_tick(self, *, head_block: int, balance_wei: int, duration_sec: float) -> None:
        """A tick that completed: the chain answered."""
        self.rpc_up.set(1)
        self.balance.set(balance_wei / WAD)
        self.head_block.set(head_block)
        self.tick_duration.observe(duration_sec)
        self.last_tick.set(time.time())

    def observe_surface(self, poster: SurfacePoster) -> None:
        """The surface poster's latest pass (call once per pass that refitted): its partial steps and fallbacks."""
        for expiry, step in poster.walks.items():
            self.surface_walk_steps.labels(str(expiry)).inc()
            self.surface_walk_lambda.labels(str(expiry)).set(step.lam)
            self.surface_walk_left.labels(str(expiry)).set(step.max_left_wad / WAD)
        for expiry in poster.fallbacks:
            self.surface_fallbacks.labels(str(expiry)).inc()
        for expiry in poster.posted_fits:
            self.surface_walk_lambda.labels(str(expiry)).set(1.0)
            self.surface_walk_left.labels(str(expiry)).set(0.0)

    def observe_portfolio(self, task: PortfolioKeeperTask, head: Head) -> None:
        """The portfolio vault's figures from ``state()`` (nothing when it reverts: the skip says why)."""
        from hedgevault.keeper.portfolio import portfolio_state

        vault = task.config.address
        last_cov = int(task.cov_oracle.functions.lastUpdate().call(block_identifier=head.number))
        self.portfolio_last_post.labels(vault, "covariance").set(last_cov)
        if task.vault is None:
            return
        try:
            view = portfolio_state(task.vault.functions.state().call(block_identifier=head.number))
        except Exception:  # noqa: BLE001 - a fail-closed oracle: reported by the task's skip
            return
        self.portfolio_tracking_error.labels(vault).set(view["trackingErrorWad"] / WAD)
        self.portfolio_ex_ante_vol.labels(vault).set(view["exAnteVolWad"] / WAD)
        capacity = view["budgetCapacityQuote"]
        self.portfolio_budget_left.labels(vault).set(view["budgetAvailableQuote"] / capacity if capacity else 0.0)
        if view["targetsSetAt"]:
            self.portfolio_last_post.labels(vault, "targets").set(view["targetsSetAt"])

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread. The process serving them leaves out
        prometheus_client's ``_created`` series (one more series per counter and histogram in the text
        format, which Prometheus stores as separate gauges)."""
        disable_created_metrics()  # type: ignore[no-untyped-call]
        start_http_server(port, addr=host, registry=self.registry)
