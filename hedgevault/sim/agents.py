"""What the simulated market participants want to do at a step (pure decisions from a seeded generator;
the engine checks them against the chain and sends what the vault accepts).

Units: option amounts in underlying wad; quote amounts in whole quote tokens (the engine scales them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

WAD = 10**18


@dataclass(frozen=True)
class AgentParams:
    """Option buyers: a Poisson number of trades per step (mean ``trades_per_step``), each a buy with
    probability ``buy_probability`` (else a sale of part of a holding), of 0.5 to ``max_trade_options``
    options in steps of 0.5. Depositors: each step each one deposits with probability
    ``deposit_probability`` (``deposit_min``..``deposit_max`` whole quote tokens) or withdraws with
    probability ``withdraw_probability`` (5%..25% of its ``maxWithdraw``)."""

    trades_per_step: float = 1.0
    buy_probability: float = 0.75
    max_trade_options: int = 5
    deposit_probability: float = 0.03
    withdraw_probability: float = 0.02
    deposit_min: int = 10_000
    deposit_max: int = 50_000


@dataclass(frozen=True)
class TradeIntent:
    """``buyer`` buys (``buy``) or sells back ``amount_wad`` options of ``series_id``."""

    buyer: str
    series_id: int
    amount_wad: int
    buy: bool


@dataclass(frozen=True)
class FlowIntent:
    """``depositor`` deposits ``deposit_whole`` quote tokens, or withdraws ``withdraw_bps`` of its maxWithdraw."""

    depositor: str
    deposit_whole: int = 0
    withdraw_bps: int = 0


class Agents:
    """Seeded decisions of the buyers and depositors."""

    def __init__(self, params: AgentParams, rng: np.random.Generator, buyers: Sequence[str], depositors: Sequence[str]):
        self.params = params
        self.rng = rng
        self.buyers = list(buyers)
        self.depositors = list(depositors)

    def trades(self, tradable: Sequence[int], holdings: Mapping[tuple[str, int], int]) -> list[TradeIntent]:
        """This step's option trades among the ``tradable`` series; a sale only of what a buyer holds."""
        p = self.params
        out: list[TradeIntent] = []
        holdings = dict(holdings)  # sales earlier in the step reduce what is left to sell
        n = int(self.rng.poisson(p.trades_per_step))
        for _ in range(n):
            buyer = self.buyers[int(self.rng.integers(len(self.buyers)))]
            wants_buy = bool(self.rng.random() < p.buy_probability)
            halves = int(self.rng.integers(1, 2 * p.max_trade_options + 1))
            amount = halves * WAD // 2
            if not tradable:
                continue
            if wants_buy:
                series_id = int(tradable[int(self.rng.integers(len(tradable)))])
                out.append(TradeIntent(buyer, series_id, amount, True))
                continue
            held = [s for s in tradable if holdings.get((buyer, s), 0) > 0]
            if not held:
                continue
            series_id = int(held[int(self.rng.integers(len(held)))])
            amount = min(amount, holdings[(buyer, series_id)])
            holdings[(buyer, series_id)] -= amount
            out.append(TradeIntent(buyer, series_id, amount, False))
        return out

    def flows(self) -> list[FlowIntent]:
        p = self.params
        out: list[FlowIntent] = []
        for depositor in self.depositors:
            u = float(self.rng.random())
            if u < p.deposit_probability:
                amount = int(self.rng.integers(p.deposit_min, p.deposit_max + 1))
                out.append(FlowIntent(depositor, deposit_whole=amount))
            elif u < p.deposit_probability + p.withdraw_probability:
                out.append(FlowIntent(depositor, withdraw_bps=int(self.rng.integers(500, 2501))))
        return out
