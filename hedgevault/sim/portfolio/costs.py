"""Cost model of a trade on a full-range Uniswap V3 pool, and of its gas.

A full-range position's liquidity ``L`` is constant over the whole price range, so the pool trades like a
constant-product pool with virtual reserves ``x = L / sqrt(p)`` (asset) and ``y = L sqrt(p)`` (quote), ``p``
the raw price. The fee (pips, 3000 = 0.3%) is taken from the input and does not join the reserves:

* buy the asset with ``q`` quote: ``out = x q (1 - f) / (y + q (1 - f))``;
* sell ``a`` of the asset: ``out = y a (1 - f) / (x + a (1 - f))``.

The cost of a trade is its value at the oracle price in minus its value out (the vault's definition:
``Rebalanced.costQuote``), split into the fee (``f`` x the input's oracle value) and the price impact (the
rest; it includes any gap between the pool and the oracle).

:func:`swap_exact_input_raw` is the same swap in the pool's integers, operation for operation as
``SwapMath.computeSwapStep`` / ``SqrtPriceMath`` compute one step, for the golden test against a real swap:
a swap that crosses a tick-bitmap word boundary (a price move of ~4.6x at tick spacing 60) is split by the
pool into steps whose roundings this one-step form does not reproduce; :func:`same_bitmap_word` tells.

Gas (:class:`GasModel`): a stated gas per trade at a stated gas price, valued in quote at a stated ETH
price; the on-chain run measures its own gas and values it with the same price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Q96 = 2**96
UINT256_MAX = 2**256 - 1
FEE_UNIT_PIPS = 10**6


def _mul_div_up(a: int, b: int, d: int) -> int:
    return -((-a * b) // d)


def _div_up(a: int, b: int) -> int:
    return -(-a // b)


def next_sqrt_from_amount0_up(sqrt_x96: int, liquidity: int, amount: int) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp(sqrtP, L, amount, add = true)."""
    if amount == 0:
        return sqrt_x96
    numerator1 = liquidity << 96
    product = amount * sqrt_x96
    if product <= UINT256_MAX:  # `product / amount == sqrtPX96` (no overflow)
        denominator = numerator1 + product
        if denominator <= UINT256_MAX:  # `denominator >= numerator1` (no overflow)
            return _mul_div_up(numerator1, sqrt_x96, denominator)
    return _div_up(numerator1, numerator1 // sqrt_x96 + amount)


def next_sqrt_from_amount1_down(sqrt_x96: int, liquidity: int, amount: int) -> int:
    """SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown(sqrtP, L, amount, add = true)."""
    quotient = (amount << 96) // liquidity if amount <= 2**160 - 1 else amount * Q96 // liquidity
    return sqrt_x96 + quotient


def amount0_delta_down(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """SqrtPriceMath.getAmount0Delta(a, b, L, roundUp = false), a < b."""
    return (liquidity << 96) * (sqrt_b - sqrt_a) // sqrt_b // sqrt_a


def amount1_delta_down(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """SqrtPriceMath.getAmount1Delta(a, b, L, roundUp = false), a < b."""
    return liquidity * (sqrt_b - sqrt_a) // Q96


def swap_exact_input_raw(
    sqrt_x96: int, liquidity: int, fee_pips: int, amount_in: int, zero_for_one: bool
) -> tuple[int, int]:
    """(amount out, sqrt price after) of an exact-input swap that stays in one step (see the module)."""
    if amount_in <= 0 or liquidity <= 0:
        raise ValueError("amount in and liquidity must be positive")
    less_fee = amount_in * (FEE_UNIT_PIPS - fee_pips) // FEE_UNIT_PIPS
    if zero_for_one:
        after = next_sqrt_from_amount0_up(sqrt_x96, liquidity, less_fee)
        return amount1_delta_down(after, sqrt_x96, liquidity), after
    after = next_sqrt_from_amount1_down(sqrt_x96, liquidity, less_fee)
    return amount0_delta_down(sqrt_x96, after, liquidity), after


def tick_at_sqrt_floor(sqrt_x96: int) -> int:
    """floor(log_1.0001(p)) of a sqrt price (float; close enough to tell the bitmap word)."""
    return math.floor(math.log((sqrt_x96 / Q96) ** 2) / math.log(1.0001))


def same_bitmap_word(sqrt_before: int, sqrt_after: int, tick_spacing: int) -> bool:
    """Whether a swap between the two prices stays in one word of the pool's tick bitmap (one swap step)."""
    words = {(tick_at_sqrt_floor(s) // tick_spacing) >> 8 for s in (sqrt_before, sqrt_after)}
    return len(words) == 1


# ----------------------------------------------------------------------------- float model


@dataclass
class PoolModel:
    """A full-range asset/quote pool in whole tokens: depth ``k = sqrt(x y)`` (whole-token virtual reserves;
    ``L / 10^((asset decimals + quote decimals) / 2)``) and the fee. ``reset(price)`` puts it at a price
    (the arbitrageur's move); trades then move it."""

    depth: float
    fee_pips: int
    x: float = 0.0
    y: float = 0.0

    @classmethod
    def from_liquidity(cls, liquidity: int, asset_decimals: int, quote_decimals: int, fee_pips: int) -> PoolModel:
        return cls(depth=liquidity / 10 ** ((asset_decimals + quote_decimals) / 2), fee_pips=fee_pips)

    @property
    def fee(self) -> float:
        return self.fee_pips / FEE_UNIT_PIPS

    def reset(self, price: float) -> None:
        root = math.sqrt(price)
        self.x = self.depth / root
        self.y = self.depth * root

    def price(self) -> float:
        return self.y / self.x

    def buy(self, quote_in: float) -> float:
        """Spend ``quote_in``; returns the asset out (the pool moves)."""
        net = quote_in * (1 - self.fee)
        out = self.x * net / (self.y + net)
        self.x -= out
        self.y += net
        return out

    def sell(self, asset_in: float) -> float:
        """Sell ``asset_in``; returns the quote out (the pool moves)."""
        net = asset_in * (1 - self.fee)
        out = self.y * net / (self.x + net)
        self.y -= out
        self.x += net
        return out


@dataclass(frozen=True)
class TradeCost:
    """A trade's cost at the oracle price (quote): ``fee`` + ``impact`` = value in - value out; ``gas`` as
    valued by the :class:`GasModel`."""

    fee: float
    impact: float
    gas: float

    @property
    def total(self) -> float:
        return self.fee + self.impact + self.gas


@dataclass(frozen=True)
class GasModel:
    """Gas per trade (default: the issue's bound for a one-asset rebalance slice), gas price (gwei) and the
    ETH price in quote used to value it."""

    gas_per_trade: int = 250_000
    gas_price_gwei: float = 20.0
    eth_price_quote: float = 3000.0

    def quote_of(self, gas: int) -> float:
        return gas * self.gas_price_gwei * 1e-9 * self.eth_price_quote


def buy_cost(pool: PoolModel, oracle_price: float, quote_in: float, gas: GasModel) -> tuple[float, TradeCost]:
    """Buy with ``quote_in`` on ``pool``: (asset out, cost)."""
    out = pool.buy(quote_in)
    fee = pool.fee * quote_in
    return out, TradeCost(fee=fee, impact=quote_in - out * oracle_price - fee, gas=gas.quote_of(gas.gas_per_trade))


def sell_cost(pool: PoolModel, oracle_price: float, asset_in: float, gas: GasModel) -> tuple[float, TradeCost]:
    """Sell ``asset_in`` on ``pool``: (quote out, cost)."""
    out = pool.sell(asset_in)
    value_in = asset_in * oracle_price
    fee = pool.fee * value_in
    return out, TradeCost(fee=fee, impact=value_in - out - fee, gas=gas.quote_of(gas.gas_per_trade))
