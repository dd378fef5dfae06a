"""The cost model of a full-range Uniswap V3 trade: the float model against the integer one-step swap,
its fee/impact split, and (golden) the integer swap against a real swap on a local pool (one Anvil test)."""

from __future__ import annotations

import math

import pytest
from web3 import Web3

from hedgevault.sim.portfolio.costs import (
    Q96,
    GasModel,
    PoolModel,
    buy_cost,
    same_bitmap_word,
    sell_cost,
    swap_exact_input_raw,
)
from hedgevault.suite import Suite, SuiteConfig, deploy_suite
from hedgevault.txs import send
from hedgevault.uniswap import FAR_DEADLINE

NO_GAS = GasModel(gas_per_trade=0)


def _pool(price: float = 3000.0, depth: float = 1_000_000.0, fee_pips: int = 3000) -> PoolModel:
    pool = PoolModel(depth=depth, fee_pips=fee_pips)
    pool.reset(price)
    return pool


def test_a_small_trade_costs_the_fee_and_a_little_impact() -> None:
    """Impact of a buy of q against a quote reserve y: q x (q / y) to first order (0.1% of a trade of
    0.1% of the reserve)."""
    pool = _pool()
    y = pool.y
    q = y / 1000
    out, cost = buy_cost(pool, 3000.0, q, NO_GAS)
    assert cost.fee == pytest.approx(0.003 * q)
    assert cost.impact == pytest.approx(q * 0.997 * (q * 0.997 / y), rel=0.01)
    assert out * 3000 + cost.fee + cost.impact == pytest.approx(q, rel=1e-12)
    assert pool.price() > 3000.0  # a buy moves the price up


def test_a_sale_mirrors_a_buy_and_a_round_trip_loses_two_fees_and_impact() -> None:
    pool = _pool()
    bought, c1 = buy_cost(pool, 3000.0, 30_000.0, NO_GAS)
    got, c2 = sell_cost(pool, 3000.0, bought, NO_GAS)
    loss = 30_000.0 - got
    # a round trip in the same pool: the second trade gives back the first one's impact, not the fees
    assert loss == pytest.approx(c1.fee + c1.impact + c2.fee + c2.impact, rel=1e-9)
    assert loss > 0.006 * 30_000 * 0.99
    assert pool.price() == pytest.approx(3000.0, rel=1e-4)


def test_gas_is_valued_at_the_stated_prices() -> None:
    gas = GasModel(gas_per_trade=250_000, gas_price_gwei=20.0, eth_price_quote=3000.0)
    _, cost = buy_cost(_pool(), 3000.0, 1000.0, gas)
    assert cost.gas == pytest.approx(250_000 * 20e-9 * 3000)
    assert cost.total == pytest.approx(cost.fee + cost.impact + 15.0)


@pytest.mark.parametrize("zero_for_one", [True, False])
@pytest.mark.parametrize("fraction", [1e-6, 1e-3, 0.05])
def test_the_float_model_agrees_with_the_integer_swap(zero_for_one: bool, fraction: float) -> None:
    """Token0 = an 18-decimal asset at 3000 quote (6 decimals); L for 20,000 assets; the two forms agree
    to 1e-9 relative plus the unit the integer one floors away."""
    raw_price = 3000 * 10**6 / 10**18
    liquidity = int(20_000 * 10**18 * math.sqrt(raw_price))
    sqrt_x96 = int(math.sqrt(raw_price) * Q96)
    pool = PoolModel.from_liquidity(liquidity, 18, 6, 3000)
    pool.reset((sqrt_x96 / Q96) ** 2 * 10**18 / 10**6)
    price = pool.price()
    if zero_for_one:  # sell the asset
        amount = 20_000 * fraction
        out_raw, _ = swap_exact_input_raw(sqrt_x96, liquidity, 3000, int(amount * 10**18), True)
        assert out_raw / 10**6 == pytest.approx(pool.sell(amount), rel=1e-9, abs=1e-6)
    else:
        amount = 20_000 * price * fraction
        out_raw, _ = swap_exact_input_raw(sqrt_x96, liquidity, 3000, int(amount * 10**6), False)
        assert out_raw / 10**18 == pytest.approx(pool.buy(amount), rel=1e-9, abs=1e-18)


@pytest.fixture(scope="module")
def suite(w3: Web3) -> Suite:
    return deploy_suite(w3, SuiteConfig())


@pytest.mark.parametrize("asset_in", [True, False])
def test_golden_the_integer_swap_equals_a_real_swap_on_the_local_pool(w3: Web3, suite: Suite, asset_in: bool) -> None:
    """A real ``exactInputSingle`` on the suite's full-range WETH-like/USDC-like 0.3% pool pays exactly
    what ``swap_exact_input_raw`` computes from the pool's slot0 and liquidity, and ends at its price."""
    trader = str(w3.eth.accounts[5])
    fee = suite.config.pool_fee
    token_in, token_out = (suite.underlying, suite.quote) if asset_in else (suite.quote, suite.underlying)
    amount = suite.underlying_units(37) + 12345 if asset_in else suite.quote_units(98_765) + 7
    send(w3, token_in.functions.mint(trader, amount), trader)
    send(w3, token_in.functions.approve(suite.uniswap.router.address, amount), trader)
    sqrt_before = int(suite.pool.functions.slot0().call()[0])
    liquidity = int(suite.pool.functions.liquidity().call())
    zero_for_one = suite.pool.functions.token0().call() == token_in.address
    expected_out, expected_sqrt = swap_exact_input_raw(sqrt_before, liquidity, fee, amount, zero_for_one)
    assert same_bitmap_word(sqrt_before, expected_sqrt, 60)
    before = int(token_out.functions.balanceOf(trader).call())
    params = (token_in.address, token_out.address, fee, trader, FAR_DEADLINE, amount, 0, 0)
    send(w3, suite.uniswap.router.functions.exactInputSingle(params), trader)
    assert int(token_out.functions.balanceOf(trader).call()) - before == expected_out
    assert int(suite.pool.functions.slot0().call()[0]) == expected_sqrt
