"""Random slices and posts for the differential tests and ``bench/bench_svi_mirror.py``: valid and invalid, aimed at
every check's boundary (parameters at their exact bounds and one wei beyond, butterfly-arbitrage wings, calendar
neighbours a few units of variance away, rate-limit steps at the realised move)."""

from __future__ import annotations

import math

import numpy as np

from hedgevault.surface import mirror
from hedgevault.surface.errors import SviError
from hedgevault.surface.mirror import E36, WAD, Grid, Post, Slice

DAY = 86_400


def _raw_slice(rng: np.random.Generator, t_years: float) -> Slice:
    """A plausible smile of an expiry t_years away (not checked)."""
    atm_var = float(rng.uniform(0.2, 1.2)) ** 2 * t_years
    rho = float(rng.uniform(-0.95, 0.6))
    b_cap = 2.0 / (1.0 + abs(rho))
    b = float(rng.uniform(0.0, 1.0)) ** 2 * min(b_cap, 4.0 * math.sqrt(t_years) + 0.05)
    sigma = float(10 ** rng.uniform(-2.5, 0.3))
    m = float(rng.uniform(-0.4, 0.4))
    a = atm_var - b * (rho * (-m) + math.sqrt(m * m + sigma * sigma))
    a = max(a, -b * sigma * math.sqrt(1 - rho * rho) * float(rng.uniform(0.0, 1.0)))
    return Slice.from_floats(a, b, rho, m, sigma)


def _mutate(rng: np.random.Generator, s: Slice) -> Slice:
    """One parameter moved to a boundary, one wei across it, or out of the domain."""
    a, b, rho, m, sig = s.as_tuple()
    kind = int(rng.integers(0, 12))
    if kind == 0:
        b = -int(rng.integers(1, 10**17))
    elif kind == 1:
        rho = int(rng.choice([WAD, -WAD, WAD - 1, -WAD + 1, WAD + 7]))
    elif kind == 2:
        sig = int(rng.choice([0, -1, 1, mirror.MIN_SIGMA_WAD - 1, mirror.MIN_SIGMA_WAD, mirror.MAX_SIGMA_WAD + 1]))
    elif kind == 3:
        a = int(rng.choice([mirror.MAX_ABS_A36 + 1, -mirror.MAX_ABS_A36 - 1, mirror.MAX_ABS_A36]))
    elif kind == 4:
        m = int(rng.choice([mirror.MAX_ABS_M_WAD + 1, -mirror.MAX_ABS_M_WAD, 6 * WAD]))
    elif kind == 5:
        b = int(rng.choice([mirror.MAX_B_WAD, mirror.MAX_B_WAD + 1, 3 * WAD]))
    elif kind in (6, 7):
        # Lee's bound exactly, or one wei beyond: b (1e18 + |rho|) = 2e36 (+1)
        rho = int(rng.choice([0, WAD // 2, -WAD // 4, -(10**17) * 6]))
        b = mirror.LEE_BOUND_36 // (WAD + abs(rho)) + int(rng.integers(0, 2))
    elif kind in (8, 9):
        # the minimum variance at 0 or just below
        root = math.isqrt(E36 - rho * rho)
        a = -(b * sig * root // WAD) - int(rng.integers(0, 2))
    else:
        b = b * int(rng.integers(2, 6))  # steep wings: butterfly or Lee
    return Slice(a, b, rho, m, sig)


def random_slice(rng: np.random.Generator, t_years: float, invalid_share: float = 0.3) -> Slice:
    s = _raw_slice(rng, t_years)
    return _mutate(rng, s) if rng.random() < invalid_share else s


def _valid(rng: np.random.Generator, t_years: float) -> Slice:
    for _ in range(50):
        s = _raw_slice(rng, t_years)
        try:
            mirror.check_params(s)
        except SviError:
            continue
        return s
    return mirror.flat_slice(WAD // 2, max(1, int(t_years * mirror.YEAR_SEC)))


def _shifted(s: Slice, delta36: int) -> Slice:
    return Slice(s.a36 + delta36, s.b_wad, s.rho_wad, s.m_wad, s.sigma_wad)


def random_post(rng: np.random.Generator) -> Post:
    """One expiry's post: slice (valid or not), grid, neighbours, previous slice, strikes, step."""
    t_sec = int(rng.integers(DAY, 400 * DAY))
    t = t_sec / mirror.YEAR_SEC
    s = random_slice(rng, t)
    lo = float(rng.uniform(-1.5, -0.02))
    hi = float(rng.uniform(0.02, 1.2))
    points = int(rng.integers(2, 40))
    if rng.random() < 0.03:
        points = int(rng.choice([0, 1, 65]))
    grid = Grid(int(lo * WAD), int(hi * WAD), points)
    if rng.random() < 0.02:
        grid = Grid(grid.k_hi_wad, grid.k_lo_wad, points)
    # neighbours: the slice moved by a small variance either way (calendar boundaries), or flat ones
    near = far = None
    tiny = int(10 ** rng.uniform(0, 34))
    if rng.random() < 0.6:
        near = _shifted(s, -tiny if rng.random() < 0.8 else tiny) if rng.random() < 0.5 else _valid(rng, t / 2)
    if rng.random() < 0.6:
        far = _shifted(s, tiny if rng.random() < 0.8 else -tiny) if rng.random() < 0.5 else _valid(rng, t * 2)
    forward = int(10 ** rng.uniform(13, 22)) * 10**6
    n_strikes = int(rng.integers(1, 12))
    strikes = tuple(int(forward * math.exp(float(rng.uniform(lo, hi)))) for _ in range(n_strikes))
    prev_t = t_sec + int(rng.integers(60, 2 * DAY))
    prev = _shifted(s, int(rng.normal(0, 1) * 10 ** rng.uniform(20, 33))) if rng.random() < 0.7 else _valid(rng, t)
    step = int(10 ** rng.uniform(13, 17.5))
    # aim the step at the realised move: the largest move passes, one wei less fails
    try:
        moves = [abs(mirror.vol_wad(s, k, forward, t_sec) - mirror.vol_wad(prev, k, forward, prev_t)) for k in strikes]
        if rng.random() < 0.4:
            step = max(moves) - int(rng.integers(0, 2))
    except SviError:
        pass
    return Post(s, grid, near, far, prev, prev_t, t_sec, strikes, forward, max(step, 0))


def random_posts(count: int, seed: int) -> list[Post]:
    rng = np.random.default_rng(seed)
    return [random_post(rng) for _ in range(count)]


def random_vol_inputs(count: int, seed: int) -> list[tuple[Slice, int, int, int]]:
    """(slice, strike, forward, time): checked slices (the evaluation's domain) and some out-of-range inputs."""
    rng = np.random.default_rng(seed)
    out: list[tuple[Slice, int, int, int]] = []
    for _ in range(count):
        t_sec = int(rng.integers(1, 3 * 365 * DAY))
        if rng.random() < 0.02:
            t_sec = int(rng.choice([0, mirror.MAX_TIME_SEC, mirror.MAX_TIME_SEC + 1]))
        s = _valid(rng, max(t_sec, DAY) / mirror.YEAR_SEC)
        if rng.random() < 0.15:
            s = mirror.flat_slice(int(rng.integers(10**15, 3 * WAD)), min(max(t_sec, 1), mirror.MAX_TIME_SEC))
        forward = int(10 ** rng.uniform(12.1, 29.9))
        strike = int(forward * math.exp(float(rng.uniform(-4.7, 4.7))))
        out.append((s, strike, forward, t_sec))
    return out
