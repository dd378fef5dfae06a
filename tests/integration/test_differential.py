"""The compiled library on Anvil (eth_call through BlackScholesHarness) against the integer mirror.

Zero mismatches allowed - values, and which inputs revert with which error and arguments (the
revert bytes are compared whole).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from hedgevault.greeks import mirror as m
from hedgevault.greeks.errors import GreeksError
from hedgevault.greeks.onchain import GreeksHarness, Input, IvInput
from hedgevault.greeks.sampling import deep_cases, random_inputs, realistic_inputs

BATCH = 250


def _mirror(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    try:
        return fn(*args)
    except GreeksError as exc:
        return exc.revert_data()


def _compare(onchain: Callable[[Sequence[Any]], list[Any]], mirrored: Callable[..., Any], inputs: Sequence[Any]) -> int:
    mismatches = []
    for start in range(0, len(inputs), BATCH):
        chunk = inputs[start : start + BATCH]
        for args, got in zip(chunk, onchain(chunk), strict=True):
            want = _mirror(mirrored, args)
            if isinstance(want, tuple) and not isinstance(got, bytes):
                want, got = tuple(want), tuple(got)
            if got != want:
                mismatches.append((args, got, want))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    return len(inputs)


def _inputs() -> list[Input]:
    return random_inputs(5000, seed=2026) + deep_cases()


def test_greeks_bit_identical_over_5000_inputs(harness: GreeksHarness) -> None:
    inputs = _inputs()
    reverted = sum(isinstance(_mirror(m.greeks, a), bytes) for a in inputs)
    assert len(inputs) >= 5000 and 0 < reverted < len(inputs) // 2  # both paths exercised
    _compare(harness.greeks, m.greeks, inputs)


def test_price_and_delta_bit_identical(harness: GreeksHarness) -> None:
    inputs = random_inputs(1500, seed=7) + deep_cases()
    _compare(harness.price, m.price, inputs)
    _compare(harness.delta, m.delta, inputs)


def _iv_inputs() -> list[IvInput]:
    rng = random.Random(99)
    out: list[IvInput] = []
    for spot, strike, time_sec, vol, rate in random_inputs(1000, seed=8) + realistic_inputs(500, seed=9):
        try:
            call, put = m.price(spot, strike, time_sec, vol, rate)
        except GreeksError:
            call = put = rng.randint(0, 10**20)
        nudge = rng.choice((0, 0, 1, -1, 10**6))
        out.append((max(0, call + nudge), spot, strike, time_sec, rate, True))
        out.append((max(0, put + nudge), spot, strike, time_sec, rate, False))
    return out


def test_implied_vol_bit_identical_including_reverts(harness: GreeksHarness) -> None:
    inputs = _iv_inputs()
    results = [_mirror(m.implied_vol, a) for a in inputs]
    assert sum(isinstance(r, int) for r in results) > 300  # the solver's success path is exercised
    _compare(harness.implied_vol, m.implied_vol, inputs)


def test_approximations_bit_identical(harness: GreeksHarness) -> None:
    rng = random.Random(5)
    q = m.Q96
    xs = [int(rng.uniform(-13, 13) * q) for _ in range(2000)] + [i << 95 for i in range(-26, 27)]
    assert harness.cdf_q96(xs) == [m.cdf_q96(x) for x in xs]
    assert harness.pdf_q96(xs) == [m.pdf_q96(x) for x in xs]
    es = [int(rng.uniform(-70, 11) * q) for _ in range(2000)] + [m.EXP_MIN_Q96, m.EXP_MIN_Q96 - 1, 0]
    assert harness.exp_q96(es) == [m.exp_q96(x) for x in es]
    pairs = []
    for _ in range(2000):
        den = int(10 ** rng.uniform(12, 30))
        pairs.append((max(1, int(den * 10 ** rng.uniform(-2, 2))), den))
    assert harness.ln_ratio_q96(pairs) == [m.ln_ratio_q96(a, b) for a, b in pairs]
    roots = [rng.getrandbits(rng.randint(1, 256)) for _ in range(2000)] + [
        0,
        1,
        2**256 - 1,
        2**128,
        2**128 - 1,
    ]
    assert harness.sqrt(roots) == [m.sqrt(x) for x in roots]
