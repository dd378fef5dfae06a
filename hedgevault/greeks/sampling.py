"""Input generators shared by tests, benchmarks and the demo: the whole domain, its edges and beyond it."""

from __future__ import annotations

import math
import random

import numpy as np

from hedgevault.greeks import mirror as m

Input = tuple[int, int, int, int, int]

_EDGE_TIMES = (
    0,
    1,
    2,
    60,
    3600,
    86_400,
    m.YEAR_SECONDS,
    m.MAX_TIME_SEC - 1,
    m.MAX_TIME_SEC,
    m.MAX_TIME_SEC + 1,
)
_EDGE_VOLS = (m.MIN_VOL_WAD - 1, m.MIN_VOL_WAD, m.MIN_VOL_WAD + 1, 10**17, m.MAX_VOL_WAD, m.MAX_VOL_WAD + 1)
_EDGE_RATES = (
    -m.MAX_ABS_RATE_WAD - 1,
    -m.MAX_ABS_RATE_WAD,
    -1,
    0,
    1,
    m.MAX_ABS_RATE_WAD,
    m.MAX_ABS_RATE_WAD + 1,
)
_EDGE_PRICES = (
    m.MIN_PRICE_WAD - 1,
    m.MIN_PRICE_WAD,
    m.MIN_PRICE_WAD + 1,
    m.MAX_PRICE_WAD,
    m.MAX_PRICE_WAD + 1,
)


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return float(10 ** rng.uniform(lo, hi))


def random_input(rng: random.Random) -> Input:
    """One input, log-uniform over the domain, with 5% of each coordinate drawn from its edges."""
    spot = int(_log_uniform(rng, -6, 12) * 1e18)
    if rng.random() < 0.05:
        spot = rng.choice(_EDGE_PRICES)
    moneyness = _log_uniform(rng, -2, 2)
    if rng.random() < 0.1:
        moneyness = rng.choice((0.01, 0.0099, 1.0, 100.0, 101.0, 1 + 1e-12))
    strike = max(1, int(spot * moneyness))
    if rng.random() < 0.05:
        strike = rng.choice(_EDGE_PRICES)
    r = rng.random()
    if r < 0.1:
        time_sec = rng.choice(_EDGE_TIMES)
    elif r < 0.3:
        time_sec = rng.randint(1, 600)  # T near 0
    else:
        time_sec = int(_log_uniform(rng, 0, 8.4988))
    vol = int(_log_uniform(rng, -3, 1) * 1e18)
    if rng.random() < 0.05:
        vol = rng.choice(_EDGE_VOLS)
    rate = int(rng.uniform(-1, 1) * 1e18)
    if rng.random() < 0.05:
        rate = rng.choice(_EDGE_RATES)
    return spot, strike, time_sec, vol, rate


def random_inputs(n: int, seed: int) -> list[Input]:
    rng = random.Random(seed)
    return [random_input(rng) for _ in range(n)]


def deep_cases() -> list[Input]:
    """Deep in and out of the money, tiny and huge volatility, negative rates, T near 0."""
    out: list[Input] = []
    for spot in (m.MIN_PRICE_WAD, 10**18, 3000 * 10**18, m.MAX_PRICE_WAD):
        for ratio_pct in (1, 50, 100, 200, 10_000):  # strike / spot in percent
            strike = spot * ratio_pct // 100
            if not m.MIN_PRICE_WAD <= strike <= m.MAX_PRICE_WAD:
                continue
            for time_sec in (1, 3600, m.YEAR_SECONDS, m.MAX_TIME_SEC):
                for vol in (m.MIN_VOL_WAD, 10**18, m.MAX_VOL_WAD):
                    for rate in (-m.MAX_ABS_RATE_WAD, 0, m.MAX_ABS_RATE_WAD):
                        out.append((spot, strike, time_sec, vol, rate))
    return out


def realistic_input(rng: random.Random) -> Input:
    """A listed-option input: K/S in [0.5, 2], T from 1 day to 2 years, vol 5%..200%, rate -5%..10%."""
    spot = int(_log_uniform(rng, -2, 6) * 1e18)
    strike = int(spot * _log_uniform(rng, -0.30103, 0.30103))
    time_sec = int(_log_uniform(rng, 4.9365, 7.7998))
    vol = int(_log_uniform(rng, -1.30103, 0.30103) * 1e18)
    rate = int(rng.uniform(-0.05, 0.10) * 1e18)
    return spot, strike, time_sec, vol, rate


def realistic_inputs(n: int, seed: int) -> list[Input]:
    rng = random.Random(seed)
    return [realistic_input(rng) for _ in range(n)]


def mixed_inputs(rng: np.random.Generator, n: int) -> list[Input]:
    """n valid live inputs: even indices log-uniform over the domain (spot, K/S, vol, time; uniform
    rate), odd indices with the strike chosen so that d1 is uniform in [-8, 8] - near the money,
    where delta, gamma and vega are large and most sensitive."""
    wad = 10**18
    year = 31_536_000
    out: list[Input] = []
    while len(out) < n:
        s = 10 ** rng.uniform(-6, 12)
        vol = 10 ** rng.uniform(-3, 1)
        t = round(10 ** rng.uniform(0, math.log10(10 * year)))
        r = rng.uniform(-1, 1)
        tau = t / year
        if len(out) % 2 == 0:
            k = s * 10 ** rng.uniform(-2, 2)
        else:
            k = s * math.exp((r + vol * vol / 2) * tau - rng.uniform(-8, 8) * vol * math.sqrt(tau))
        if not (0.01 <= k / s <= 100 and 1e-6 <= k <= 1e12):
            continue
        out.append((round(s * wad), round(k * wad), t, max(1, round(vol * wad)), round(r * wad)))
    return out
