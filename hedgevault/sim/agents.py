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
    options in steps of 0.5. A buy is of a put with probability ``put_share[r]`` (else a call), where the
    regime r = (step // ``regime_steps``) mod len(put_share): the default market alternates call-heavy and
    put-heavy stretches of 36 steps, so the vault's book delta (short calls: negative; short puts:
    positive) and with it the hedge's target swing both ways. Depositors: each step each one deposits
    with probability ``deposit_probability`` (``deposit_min``..``deposit_max`` whole quote tokens) or
    withdraws with probability ``withdraw_probability`` (5%..25% of its ``maxWithdraw``)."""

    trades_per_step: float = 1.0
    put_share: tuple[float, ...] = (0.2, 0.8)
    regime_steps: int = 36
    buy_probability: float = 0.75
    max_trade_options: int = 5
    deposit_probability: float = 0.03
    withdraw_probability: float = 0.02
    deposit_min: int = 10_000
    deposit_max: int = 50_000

    def __post_init__(self) -> None:
        if not self.put_share or not all(0.0 <= p <= 1.0 for p in self.put_share):
            raise ValueError(f"put_share must be one or more probabilities in [0, 1], got {self.put_share}")
        if self.regime_steps < 1:
            raise ValueError(f"regime_steps must be at least 1 step, got {self.regime_steps}")

    def put_probability(self, step: int) -> float:
        """The probability that a buy at ``step`` is of a put (the regime's ``put_share``)."""
        return self.put_share[(step // self.regime_steps) % len(self.put_share)]


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

    def trades(
        self,
        tradable: Sequence[int],
        holdings: Mapping[tuple[str, int], int],
        *,
        step: int,
        is_call: Mapping[int, bool],
    ) -> list[TradeIntent]:
        """This step's option trades among the ``tradable`` series (``is_call``: each series' type); a buy
        picks the type by the regime of ``step``, then a series of that type (none tradable: no trade); a
        sale only of what a buyer holds."""
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
                wants_put = bool(self.rng.random() < p.put_probability(step))
                of_type = [sid for sid in tradable if is_call[sid] != wants_put]
                if of_type:
                    series_id = int(of_type[int(self.rng.integers(len(of_type)))])
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


@dataclass(frozen=True)
class InformedParams:
    """The informed buyer: each step, for each tradable series, it offers to buy ``lot_wad`` options when the
    vault's all-in cost (premium + fee) is below the market's (Merton) value, and to sell back what it holds (up to a
    lot) when the vault's proceeds are above it; a trade the vault refuses (its limits: health factor, open interest,
    vega, delta) is retried at half the size, down to ``min_lot_wad``."""

    lot_wad: int = 5 * WAD
    min_lot_wad: int = WAD // 2

    def __post_init__(self) -> None:
        if not 0 < self.min_lot_wad <= self.lot_wad:
            raise ValueError(f"need 0 < min_lot_wad <= lot_wad, got {self.min_lot_wad} and {self.lot_wad}")


@dataclass(frozen=True)
class InformedDecision:
    """One comparison of the informed buyer: at ``step``, ``series_id``, the vault's quote for ``amount_wad``
    (``vault_units``: cost of a buy or proceeds of a sale, quote units) against the market's value of the same
    amount (``market_units``, quote units, a float); ``side`` "buy" or "sell"; ``traded`` the amount sent (0 when
    the vault was not better than the market, or refused every size: ``reason``)."""

    step: int
    series_id: int
    side: str
    amount_wad: int
    vault_units: int
    market_units: float
    traded_wad: int
    reason: str

    @property
    def edge_units(self) -> float:
        """What the trade gains at the market price per ``amount_wad`` (quote units; > 0: the vault is off)."""
        if self.side == "buy":
            return self.market_units - self.vault_units
        return self.vault_units - self.market_units

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "edge_units": self.edge_units}


def informed_wants(side: str, vault_units: int, market_units: float) -> bool:
    """The informed buyer's rule: buy only when the vault's cost is below the market value, sell back only when its
    proceeds are above it (strictly: a tie is no trade)."""
    if side == "buy":
        return vault_units < market_units
    if side == "sell":
        return vault_units > market_units
    raise ValueError(f"side must be buy or sell, got {side!r}")
