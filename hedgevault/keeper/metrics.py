"""Prometheus metrics of the keeper (prometheus_client), in their own registry so that several keepers
can live in one process (the simulator, tests). ``serve`` starts the HTTP endpoint (``/metrics``).

Units: seconds, underlying units (net delta, hedge, gap), quote token units (collateral, claims' reserve),
plain ratios (HF), ether (balance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

if TYPE_CHECKING:
    from hedgevault.chain.rpc import Head
    from hedgevault.keeper.portfolio import PortfolioKeeperTask

WAD = 10**18


class KeeperMetrics:
    """The gauges and counters the keeper updates every tick."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.seconds_since_hedge = Gauge(
            "hedgevault_keeper_seconds_since_last_hedge",
            "Chain time since the vault's last hedge (lastHedgeTime), seconds",
            ["vault"],
            registry=r,
        )
        self.net_delta = Gauge(
            "hedgevault_keeper_net_delta", "Net delta (book delta + hedge), underlying units", ["vault"], registry=r
        )
        self.hedge = Gauge(
            "hedgevault_keeper_hedge",
            "The signed hedge (held - owed with interest), underlying units",
            ["vault"],
            registry=r,
        )
        self.hedge_gap = Gauge(
            "hedgevault_keeper_hedge_gap",
            "|target - hedge| after the keeper's last pass, underlying units (target = -book delta)",
            ["vault"],
            registry=r,
        )
        self.collateral = Gauge(
            "hedgevault_keeper_collateral_units",
            "The hedger's collateral on the lending market, quote token units",
            ["vault"],
            registry=r,
        )
        self.claim_reserve = Gauge(
            "hedgevault_keeper_claim_reserve_units",
            "Quote kept for near-expiry in-the-money claims, quote token units",
            ["vault"],
            registry=r,
        )
        self.hedge_waits = Counter(
            "hedgevault_keeper_hedge_waits",
            "Passes whose hedge waited for arbitrage (PoolBeyondLimit, NothingToHedge): not failures",
            ["vault"],
            registry=r,
        )
        self.health_factor = Gauge(
            "hedgevault_keeper_health_factor",
            "Health factor A / (L + M) (+Inf with no liabilities)",
            ["vault"],
            registry=r,
        )
        self.balance = Gauge("hedgevault_keeper_balance_ether", "The keeper account's balance, ether", registry=r)
        self.last_block = Gauge("hedgevault_keeper_last_block", "Block number of the last tick", registry=r)
        self.tick_seconds = Gauge("hedgevault_keeper_tick_seconds", "Wall time of the last tick, seconds", registry=r)
        self.actions = Counter(
            "hedgevault_keeper_actions",
            "Transactions sent, by kind (hedge, settle, oracle, replace)",
            ["kind"],
            registry=r,
        )
        self.failures = Counter(
            "hedgevault_keeper_failures", "Failures by reason (stage:ErrorName)", ["reason"], registry=r
        )
        # portfolio vaults
        self.portfolio_skips = Counter(
            "hedgevault_keeper_portfolio_skips",
            "Portfolio actions not taken, by reason (paused, budget_spent, oracle_stale, cov_too_soon, ...)",
            ["vault", "reason"],
            registry=r,
        )
        self.portfolio_fallbacks = Counter(
            "hedgevault_keeper_portfolio_fallbacks",
            "Targets posted from the inverse-volatility fallback (the mode's solve failed)",
            ["vault"],
            registry=r,
        )
        self.portfolio_cov_clipped = Counter(
            "hedgevault_keeper_portfolio_cov_clipped",
            "Covariance posts moved only part of the way to the estimate (the oracle's step limit)",
            ["vault"],
            registry=r,
        )
        self.portfolio_tracking_error = Gauge(
            "hedgevault_keeper_portfolio_tracking_error",
            "sqrt((w-t)'S(w-t)) of the current weights, annualised (1.0 = 100%)",
            ["vault"],
            registry=r,
        )
        self.portfolio_ex_ante_vol = Gauge(
            "hedgevault_keeper_portfolio_ex_ante_vol",
            "sqrt(w'Sw) of the current weights, annualised (1.0 = 100%)",
            ["vault"],
            registry=r,
        )
        self.portfolio_budget_left = Gauge(
            "hedgevault_keeper_portfolio_budget_left_ratio",
            "Slippage budget available / capacity (1 = untouched)",
            ["vault"],
            registry=r,
        )
        self.portfolio_seconds_since = Gauge(
            "hedgevault_keeper_portfolio_seconds_since",
            "Chain time since the last covariance post (what=cov) and targets (what=targets), seconds",
            ["vault", "what"],
            registry=r,
        )

    def observe_vault(self, vault: str, *, now_sec: int, last_hedge_sec: int, hf_wad: int) -> None:
        self.seconds_since_hedge.labels(vault).set(max(0, now_sec - last_hedge_sec))
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

    def observe_portfolio(self, task: PortfolioKeeperTask, head: Head) -> None:
        """The portfolio vault's figures from ``state()`` (nothing when it reverts: the skip says why)."""
        from hedgevault.keeper.portfolio import portfolio_state

        name = task.config.name
        last_cov = int(task.cov_oracle.functions.lastUpdate().call(block_identifier=head.number))
        self.portfolio_seconds_since.labels(name, "cov").set(max(0, head.timestamp - last_cov))
        if task.vault is None:
            return
        try:
            view = portfolio_state(task.vault.functions.state().call(block_identifier=head.number))
        except Exception:  # noqa: BLE001 - a fail-closed oracle: reported by the task's skip
            return
        self.portfolio_tracking_error.labels(name).set(view["trackingErrorWad"] / WAD)
        self.portfolio_ex_ante_vol.labels(name).set(view["exAnteVolWad"] / WAD)
        capacity = view["budgetCapacityQuote"]
        self.portfolio_budget_left.labels(name).set(view["budgetAvailableQuote"] / capacity if capacity else 0.0)
        if view["targetsSetAt"]:
            self.portfolio_seconds_since.labels(name, "targets").set(max(0, head.timestamp - view["targetsSetAt"]))

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
