"""Throughput and accuracy of the float64 Black-Scholes (hedgevault.greeks.fast).

Usage: python bench/bench_float64.py [--n 1000000] [--samples 2000] [--seed 7]

Prints options per second for price_f64 and greeks_f64 (one call over n
random inputs, one core, best of 3) and the worst errors against the mpmath
reference on a smaller sample.  Domain: spot and strike 1e-6..1e12 with K/S
in [0.01, 100], vol 0.001..10, time 1 s..10 years, rate -1..1.  Informative
only: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hedgevault.greeks import reference as ref
from hedgevault.greeks.fast import greeks_f64, price_f64
from hedgevault.greeks.sampling import mixed_inputs

W = 10**18
Y = ref.YEAR_SECONDS
EPS = float(np.finfo(np.float64).eps)


def random_floats(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """n float inputs over the domain (vectorised; for timing)."""
    s = 10 ** rng.uniform(-6, 12, n)
    k = np.clip(s * 10 ** rng.uniform(-2, 2, n), 1e-6, 1e12)
    t = np.round(10 ** rng.uniform(0, math.log10(10 * Y), n))
    v = 10 ** rng.uniform(-3, 1, n)
    r = rng.uniform(-1, 1, n)
    return s, k, t, v, r


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="inputs per timed call")
    ap.add_argument("--samples", type=int, default=2_000, help="samples checked against the reference")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    inputs = random_floats(rng, args.n)
    price_f64(*(x[:1000] for x in inputs))  # warm-up
    greeks_f64(*(x[:1000] for x in inputs))
    t_price = best_of(lambda: price_f64(*inputs))
    t_greeks = best_of(lambda: greeks_f64(*inputs))

    wads = mixed_inputs(rng, args.samples)
    cols = list(zip(*wads, strict=True))
    s = np.array([x / W for x in cols[0]])
    k = np.array([x / W for x in cols[1]])
    t = np.array([float(x) for x in cols[2]])
    v = np.array([x / W for x in cols[3]])
    r = np.array([x / W for x in cols[4]])
    t0 = time.perf_counter()
    refs = [ref.greeks(*w) for w in wads]
    t_ref = time.perf_counter() - t0
    got = greeks_f64(s, k, t, v, r)
    want = {f: np.array([float(getattr(g, f)) for g in refs]) for f in got._fields}

    kd = k * np.exp(-r * t / Y)
    price_err = np.maximum(np.abs(got.call - want["call"]), np.abs(got.put - want["put"]))
    delta_err = np.maximum(np.abs(got.call_delta - want["call_delta"]), np.abs(got.put_delta - want["put_delta"]))
    rel = {}
    for f in ("gamma", "vega", "call_theta", "put_theta", "call_rho", "put_rho"):
        nz = np.abs(want[f]) > 1e-290
        rel[f] = float(np.max(np.abs(getattr(got, f)[nz] - want[f][nz]) / np.abs(want[f][nz])))

    print(f"float64 Black-Scholes  (numpy {np.__version__}, one core, best of 3)")
    print(f"{'function':<12}{'inputs':>12}{'seconds':>10}{'options/s':>14}")
    for name, sec in (("price_f64", t_price), ("greeks_f64", t_greeks)):
        print(f"{name:<12}{args.n:>12,}{sec:>10.3f}{args.n / sec:>14,.0f}")
    print()
    print(f"accuracy vs mpmath reference on {args.samples:,} samples ({t_ref:.1f} s for the reference)")
    print(f"{'metric':<48}{'worst':>12}")
    rows = [
        ("price |err| / max(S, K e^-r.tau)", float(np.max(price_err / np.maximum(s, kd)))),
        ("price |err| / max(S, K)", float(np.max(price_err / np.maximum(s, k)))),
        ("delta |err| (absolute)", float(np.max(delta_err))),
    ]
    rows += [(f"{f} relative err (conditioning-limited)", e) for f, e in rel.items()]
    for name, value in rows:
        print(f"{name:<48}{value:>12.2e}")
    print(f"(eps = {EPS:.2e}; price error {rows[0][1] / EPS:.1f} eps of max(S, K e^-r.tau))")


if __name__ == "__main__":
    main()
