"""``BlackScholes.terms`` (the part of an evaluation that depends only on the strike, time and rate, computed once)
and the pricer's ``tradePrices`` that shares it, against the unchanged functions and the integer mirror.

Zero mismatches allowed: values to the wei, and which inputs revert with which bytes (custom errors with their
arguments, the overflow panic). Through ``SharedTermsHarness`` (eth_call, batched, each revert kept):

* ``priceAt`` / ``priceAndDeltaAt`` with terms shared by a group of evaluations (several spots and volatilities at
  one strike, time and rate, as the trade's mark and two stress scenarios) against ``BlackScholes.price`` and
  ``delta`` through ``BlackScholesHarness`` (the unchanged library functions) and the mirror;
* ``OptionPricer.tradePrices`` against its four single calls (``price``, then ``markAndDelta`` at the marks' point
  and at the two scenario spots) made one by one, and both against the mirror's composition of them, including
  spots outside the library's domain (the continuation from the domain edge), an expired mark (time 0) and
  out-of-domain strikes, times, volatilities and rates.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from eth_abi.abi import encode
from web3 import Web3
from web3.contract import Contract

from hedgevault.greeks import mirror as m
from hedgevault.greeks.errors import GreeksError
from hedgevault.greeks.onchain import GreeksHarness, Input
from hedgevault.greeks.sampling import deep_cases, random_inputs
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

WAD = 10**18
GAS = 900_000_000
BATCH = 200
#: Solidity's Panic(uint256) with code 0x11 (arithmetic overflow): the pricer's checked products on absurd inputs.
OVERFLOW = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
#: A ``TradeQuote`` in the ABI's field order: (spot, time, mark spot, mark time, strike, vol, rate, is_call, up spot,
#: down spot, stress vol).
Quote = tuple[int, int, int, int, int, int, int, bool, int, int, int]


@pytest.fixture(scope="module")
def shared(w3: Web3) -> Contract:
    return deploy(w3, compile_project()["SharedTermsHarness"])


@pytest.fixture(scope="module")
def pricer(w3: Web3) -> Contract:
    return deploy(w3, compile_project()["OptionPricer"])


def _mirror(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except GreeksError as exc:
        return exc.revert_data()


def _grouped(inputs: Sequence[Input], size: int, rng: random.Random) -> list[Input]:
    """Groups of ``size`` evaluations sharing the first's strike, time and rate, each with its own spot and
    volatility (drawn from the other inputs, and near the first's: the stress scenarios' shape)."""
    out: list[Input] = []
    for start in range(0, len(inputs) - size + 1, size):
        spot, strike, time_sec, vol, rate = inputs[start]
        out.append((spot, strike, time_sec, vol, rate))
        for k in range(1, size):
            other = inputs[start + k]
            if rng.random() < 0.5:
                out.append((other[0], strike, time_sec, other[3], rate))
            else:
                shock = rng.choice((100, 1_000, 2_000, 5_000, 9_000))
                s = spot * (10_000 + shock) // 10_000 if k % 2 else spot * (10_000 - shock) // 10_000
                out.append((s, strike, time_sec, vol + rng.choice((0, 10**16, 10**17, 5 * 10**17)), rate))
    return out


def test_shared_terms_bit_identical_to_price_and_delta(harness: GreeksHarness, shared: Contract) -> None:
    rng = random.Random(2027)
    size = 3
    inputs = _grouped(random_inputs(4500, seed=31) + deep_cases()[: 3 * (len(deep_cases()) // 3)], size, rng)
    mismatches: list[Any] = []
    ok = reverted = 0
    for start in range(0, len(inputs), BATCH * size):
        chunk = inputs[start : start + BATCH * size]
        price_reverts, prices, pd_reverts, pds = shared.functions.batchShared(list(chunk), size).call({"gas": GAS})
        unchanged_prices = harness.price(chunk)
        unchanged_deltas = harness.delta(chunk)
        for i, args in enumerate(chunk):
            got_price = bytes(price_reverts[i]) if price_reverts[i] else tuple(prices[i])
            got_pd = bytes(pd_reverts[i]) if pd_reverts[i] else tuple(pds[i])
            want_price = _mirror(m.price, *args)
            want_price = want_price if isinstance(want_price, bytes) else tuple(want_price)
            # the unchanged library function agrees with the mirror (as tests/integration/test_differential.py shows)
            unchanged = unchanged_prices[i]
            assert (unchanged if isinstance(unchanged, bytes) else tuple(unchanged)) == want_price
            if isinstance(want_price, bytes):
                want_pd: Any = want_price
                reverted += 1
            else:
                delta = unchanged_deltas[i]
                assert not isinstance(delta, bytes)
                want_pd = (*want_price, delta[0])
                ok += 1
            if got_price != want_price or got_pd != want_pd:
                mismatches.append((args, got_price, want_price, got_pd, want_pd))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    # both paths exercised, and the expired case (time 0) among the successes
    assert ok > 2000 and reverted > 300
    assert any(a[2] == 0 and not isinstance(_mirror(m.price, *a), bytes) for a in inputs)


def _edges(strike: int) -> tuple[int, int]:
    return max(-(-strike // 100), m.MIN_PRICE_WAD), min(strike * 100, m.MAX_PRICE_WAD)


def _mark_and_delta(spot: int, strike: int, time_sec: int, vol: int, rate: int, is_call: bool) -> tuple[int, int, bool]:
    """``OptionPricer.markAndDelta`` from the mirror: inside the library's domain its price and delta, outside it the
    price at the domain edge continued (IOptionPricer), for inputs below 2^200 (no overflow panic); raises the
    library's error."""
    inside = spot * 50 >= strike and strike * 50 >= spot
    lo, hi = _edges(strike)
    edge = lo if spot < lo else (hi if spot > hi else spot)
    call, put = m.price(edge, strike, time_sec, vol, rate)
    if edge == spot:
        call_delta, put_delta = m.delta(spot, strike, time_sec, vol, rate)
        return (call, call_delta, inside) if is_call else (put, put_delta, inside)
    if spot > edge:
        return (call + spot - edge, WAD, False) if is_call else (put, 0, False)
    return (call, 0, False) if is_call else (put + edge - spot, -WAD, False)


def _trade_prices(q: Quote) -> tuple[int, int, int, bool, int, int] | bytes:
    """The mirror's composition of the four calls ``tradePrices`` stands for (the first error wins)."""
    spot, time_sec, mark_spot, mark_time, strike, vol, rate, is_call, up, down, stress_vol = q
    try:
        c, p = m.price(spot, strike, time_sec, vol, rate)
        trade = c if is_call else p
        mark, delta, inside = _mark_and_delta(mark_spot, strike, mark_time, vol, rate, is_call)
        stress_up = _mark_and_delta(up, strike, mark_time, stress_vol, rate, is_call)[0]
        stress_down = _mark_and_delta(down, strike, mark_time, stress_vol, rate, is_call)[0]
    except GreeksError as exc:
        return exc.revert_data()
    return trade, mark, delta, inside, stress_up, stress_down


def _quotes(n: int, seed: int) -> list[Quote]:
    """Trades as the vault makes them (a mark a little before the trade, the two stress spots around the mark's
    spot) and beyond: marks and scenario spots outside the domain (the continuation), an expired mark, every
    input of the library's domain at and beyond its edges, and overflowing strikes and spots."""
    rng = random.Random(seed)
    out: list[Quote] = []
    for spot, strike, time_sec, vol, rate in random_inputs(n, seed=seed):
        r = rng.random()
        if r < 0.6:
            mark_spot = spot * rng.randint(9_000, 11_000) // 10_000
        elif r < 0.8:
            # far from the strike: beyond the margin, the domain's moneyness edge or its price edges
            mark_spot = max(1, int(strike * 10 ** rng.uniform(-3, 3)))
        else:
            # the domain's edges for this strike, each side (the edge rounded up from strike / 100)
            edges = (strike // 100, -(-strike // 100), strike // 101, strike * 100, strike * 100 + 1, strike * 101)
            mark_spot = rng.choice((1, m.MIN_PRICE_WAD - 1, m.MAX_PRICE_WAD + 1, spot, *edges))
        mark_time = time_sec + rng.choice((0, 1, 3_600, 86_400)) if rng.random() < 0.9 else 0
        up = mark_spot * (10_000 + rng.choice((100, 2_000, 9_000))) // 10_000
        down = mark_spot * (10_000 - rng.choice((100, 2_000, 9_000))) // 10_000
        stress_vol = vol + rng.choice((0, 10**17, 5 * 10**17, 10**19))
        out.append((spot, time_sec, mark_spot, mark_time, strike, vol, rate, rng.random() < 0.5, up, down, stress_vol))
    return out


def _call(contract: Contract, name: str, pricer: Contract, quotes: Sequence[Quote]) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(quotes), BATCH):
        chunk = list(quotes[start : start + BATCH])
        reverts, results = getattr(contract.functions, name)(pricer.address, chunk).call({"gas": GAS})
        out += [bytes(r) if r else tuple(res) for r, res in zip(reverts, results, strict=True)]
    return out


def test_trade_prices_equal_the_four_calls_and_the_mirror(shared: Contract, pricer: Contract) -> None:
    quotes = _quotes(3000, seed=41)
    got = _call(shared, "batchTradePrices", pricer, quotes)
    four = _call(shared, "batchFourCalls", pricer, quotes)
    assert got == four
    want = [_trade_prices(q) for q in quotes]
    mismatches = [(q, g, w) for q, g, w in zip(quotes, got, want, strict=True) if g != w]
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    values = [w for w in want if not isinstance(w, bytes)]
    # the paths exercised: successes inside the margin and outside it (a continuation), and reverts
    assert len(values) > 1000 and len(values) < len(want)
    assert any(not v[3] for v in values) and any(v[3] for v in values)
    assert any(v[2] in (WAD, -WAD, 0) and not v[3] for v in values)


def test_trade_prices_overflow_panics_as_the_four_calls(shared: Contract, pricer: Contract) -> None:
    """Beyond the listing bounds (a strike above 2^256 / 100, a spot above 2^256 / 50) the pricer's checked products
    revert with the overflow panic, in ``tradePrices`` as in the single calls; below that the library's errors."""
    big = 2**255
    base: Quote = (3000 * WAD, 86_400, 3000 * WAD, 86_400, 3000 * WAD, WAD // 2, 0, True, 3300 * WAD, 2700 * WAD, WAD)
    cases = [
        base,
        # the strike: the trade's price rejects it first (its check runs before any product)
        (*base[:4], big, *base[5:]),
        # the mark's spot, an up spot, a down spot beyond 2^256 / 50: the margin's product overflows
        (*base[:2], big, *base[3:]),
        (*base[:8], big, *base[9:]),
        (*base[:9], big, base[10]),
        # just below the overflow: the spot is continued from the domain's edge, no revert
        (*base[:2], (2**256 - 1) // 50, *base[3:]),
    ]
    got = _call(shared, "batchTradePrices", pricer, cases)
    assert got == _call(shared, "batchFourCalls", pricer, cases)
    assert not isinstance(got[0], bytes) and got[0] == _trade_prices(base)
    assert got[1] == _trade_prices(cases[1]) and isinstance(got[1], bytes)
    assert got[2] == got[3] == got[4] == OVERFLOW
    assert not isinstance(got[5], bytes) and got[5][3] is False
