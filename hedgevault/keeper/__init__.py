"""The keeper: watches option vaults block by block, settles due expiries and hedges when the vault asks
for it (checkUpkeep / performUpkeep), with simulation before sending, fee caps, replacement of stuck
transactions, recovery from node restarts, JSON-lines logs and Prometheus metrics. See docs/keeper.md.

    from hedgevault.keeper import Keeper, KeeperConfig, VaultConfig, load_config
    keeper = Keeper(w3, account, KeeperConfig(vaults=[VaultConfig(address, "eth-weekly")]))
    records = keeper.tick()          # one pass at the current head
    keeper.run(stop_event)           # a tick per new block until stop_event is set
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use, so `hedgevault --help` stays fast
    from hedgevault.chain.rpc import RpcUnavailable
    from hedgevault.keeper.config import KeeperConfig, KeeperConfigError, VaultConfig, load_config
    from hedgevault.keeper.keeper import ActionRecord, Keeper
    from hedgevault.keeper.metrics import KeeperMetrics
    from hedgevault.keeper.oracles import MarketQuote, MarketSource, OracleUpdater, PoolMarketSource

_HOMES = {
    "KeeperConfig": "config",
    "KeeperConfigError": "config",
    "VaultConfig": "config",
    "load_config": "config",
    "ActionRecord": "keeper",
    "Keeper": "keeper",
    "KeeperMetrics": "metrics",
    "MarketQuote": "oracles",
    "MarketSource": "oracles",
    "OracleUpdater": "oracles",
    "PoolMarketSource": "oracles",
    "RpcUnavailable": "hedgevault.chain.rpc",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        home = _HOMES[name]
        return getattr(importlib.import_module(home if "." in home else f"hedgevault.keeper.{home}"), name)
    raise AttributeError(f"module 'hedgevault.keeper' has no attribute {name!r}")


__all__ = [
    "ActionRecord",
    "Keeper",
    "KeeperConfig",
    "KeeperConfigError",
    "KeeperMetrics",
    "MarketQuote",
    "MarketSource",
    "OracleUpdater",
    "PoolMarketSource",
    "RpcUnavailable",
    "VaultConfig",
    "load_config",
]
