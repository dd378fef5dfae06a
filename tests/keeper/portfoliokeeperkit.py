"""Helpers of the portfolio keeper tests: a correlated GBM feed history written round by round on a frozen-clock
Anvil (the clock moves only by ``warp``), and the keeper's portfolio task config.

Prices are wad (quote per whole asset); feeds have 8 decimals; a step is ``STEP_SEC`` (4 h, the task's
default grid, so each grid sample is exactly one written round).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from web3 import Web3

from hedgevault.chain.rpc import Rpc
from hedgevault.deployment.portfolio import PortfolioStack
from hedgevault.keeper import Keeper, KeeperConfig, KeeperMetrics
from hedgevault.keeper.portfolio import PortfolioTaskConfig

WAD = 10**18
STEP_SEC = 4 * 3600
YEAR_SEC = 365 * 86_400


@dataclass
class History:
    """The answers written to each feed (feed units, oldest first) and the time of the last round."""

    answers: list[list[int]]
    last_sec: int


def gbm_prices(
    start_wad: list[int], vols: list[float], corr: np.ndarray, steps: int, seed: int, dt_sec: int = STEP_SEC
) -> np.ndarray:
    """``steps`` x n prices (wad floats) of a correlated GBM from ``start_wad`` (zero drift)."""
    rng = np.random.default_rng(seed)
    dt = dt_sec / YEAR_SEC
    chol = np.linalg.cholesky(corr)
    sig = np.asarray(vols)
    shocks = rng.standard_normal((steps, len(vols))) @ chol.T
    log_ret = -0.5 * sig**2 * dt + sig * np.sqrt(dt) * shocks
    return np.asarray(np.asarray(start_wad, dtype=np.float64) * np.exp(np.cumsum(log_ret, axis=0)), dtype=np.float64)


def write_history(stack: PortfolioStack, prices_wad: np.ndarray, sender: str, dt_sec: int = STEP_SEC) -> History:
    """For each row: one block ``dt_sec`` after the previous one holding every feed's round at that row's
    price (automine off while the rows are written; raw JSON-RPC without receipt polling)."""
    w3: Web3 = stack.w3
    rpc = Rpc(w3)
    answers: list[list[int]] = [[] for _ in stack.assets]
    now = int(w3.eth.get_block("latest")["timestamp"])
    calls: list[tuple[str, list[Any]]] = [("evm_setAutomine", [False])]
    for row in prices_wad:
        now += dt_sec
        for i, price in enumerate(row):
            answer = int(price) * 10 ** stack.assets[i].feed_decimals // WAD
            feed = stack.assets[i].feed
            data = feed.encode_abi("setAnswer", [answer])
            calls.append(
                ("eth_sendTransaction", [{"from": sender, "to": feed.address, "data": data, "gas": hex(300_000)}])
            )
            answers[i].append(answer)
        calls.append(("evm_mine", [now]))  # every feed's round of the row in one block at exactly ``now``
    calls.append(("evm_setAutomine", [True]))
    _flush(rpc, calls)
    assert int(w3.eth.get_block("latest")["timestamp"]) == now
    return History(answers=answers, last_sec=now)


def _flush(rpc: Rpc, calls: list[tuple[str, list[Any]]]) -> None:
    for method, params in calls:  # in order, one at a time (a batch's calls may run concurrently)
        rpc.request(method, params)
    calls.clear()


def align_pools(stack: PortfolioStack, trader: str, sender: str, twap_window_sec: int = 600) -> None:
    """Move every pool to its feed's latest price (arbitrage), let the TWAP window pass and post every feed
    again at that price (fresh rounds), so the price oracles answer."""
    from hedgevault.chain import warp

    prices = []
    for i, a in enumerate(stack.assets):
        answer = int(a.feed.functions.latestRoundData().call()[1])
        prices.append(answer * WAD // 10**a.feed_decimals)
        stack.move_pool_price(i, prices[-1], trader)
    warp(stack.w3, twap_window_sec + 1)
    for i, price in enumerate(prices):
        stack.set_feed_price(i, price, sender)


def deposit(stack: PortfolioStack, who: str, units: int) -> None:
    """Mint ``units`` quote units to ``who`` (an unlocked account), approve and deposit them."""
    from hedgevault.txs import send

    assert stack.vault is not None
    send(stack.w3, stack.quote.functions.mint(who, units), who)
    send(stack.w3, stack.quote.functions.approve(stack.vault.address, units), who)
    send(stack.w3, stack.vault.functions.deposit(units, who), who)


def portfolio_keeper(
    stack: PortfolioStack, account: LocalAccount, name: str, metrics: KeeperMetrics | None = None, **task: object
) -> Keeper:
    """The real keeper with one portfolio task, ``name``, on the stack's vault (``task``: its settings)."""
    assert stack.vault is not None
    config = KeeperConfig(portfolios=[PortfolioTaskConfig(stack.vault.address, name, **task)])  # type: ignore[arg-type]
    return Keeper(stack.w3, account, config, metrics=metrics)
