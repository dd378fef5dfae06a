"""Prometheus metrics of the keeper (prometheus_client), in their own registry so that several keepers
can live in one process (the simulator, tests). ``serve`` starts the HTTP endpoint (``/metrics``).

Units: seconds, underlying units (net delta, hedge, gap), quote token units (collateral, claims' reserve),
plain ratios (HF), ether (balance).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

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

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
