"""Error of the library (through its bit-identical mirror) against the 50-digit mpmath reference.

Over a stated grid and over random inputs of the whole domain, prints for each output the worst
absolute error, the worst error relative to the output's scale (see hedgevault.greeks.accuracy:
(|err| - quantum) / scale, documented bound 1e-17), and the input where it occurs. Also prints
the price error relative to max(spot, strike) as issue 2 states its target.

Usage: python bench/bench_accuracy.py [--n 20000]
"""

from __future__ import annotations

import argparse
import itertools
import time

import mpmath
from _common import machine, valid_inputs

from hedgevault.greeks import mirror
from hedgevault.greeks.accuracy import BOUNDS_REL, OUTPUTS, greeks_errors
from hedgevault.greeks.sampling import Input

WAD = 10**18


def grid() -> list[Input]:
    """Spot 1e-6, 1, 3000, 1e12; K/S 0.01..100; T 1 s..10 y; vol 0.001..10; rate -1..1."""
    out = []
    for spot in (10**12, WAD, 3000 * WAD, 10**30):
        for ratio in (1, 10, 50, 90, 100, 110, 200, 1000, 10_000):  # K/S in percent
            strike = spot * ratio // 100
            if not 10**12 <= strike <= 10**30:
                continue
            for time_sec, vol, rate in itertools.product(
                (1, 3600, 86_400, 31_536_000, 315_360_000),
                (10**15, 10**17, WAD, 10**19),
                (-WAD, -(10**16), 0, 5 * 10**16, WAD),
            ):
                out.append((spot, strike, time_sec, vol, rate))
    return out


def report(label: str, inputs: list[Input]) -> None:
    start = time.perf_counter()
    worst_scaled: dict[str, tuple[mpmath.mpf, Input]] = {}
    worst_abs: dict[str, mpmath.mpf] = {}
    worst_price_vs_max_sk = (mpmath.mpf(0), inputs[0])
    worst_price_vs_max_sk_nonneg_rate = (mpmath.mpf(0), inputs[0])
    for inp in inputs:
        errs = greeks_errors(*inp)
        for name, e in errs.items():
            if name not in worst_scaled or e.scaled > worst_scaled[name][0]:
                worst_scaled[name] = (e.scaled, inp)
            worst_abs[name] = max(worst_abs.get(name, mpmath.mpf(0)), e.abs_err)
        with mpmath.workdps(40):
            for name in ("call", "put"):
                rel = errs[name].abs_err * WAD / max(inp[0], inp[1])
                if inp[0] >= WAD and inp[1] >= WAD and rel > worst_price_vs_max_sk[0]:
                    worst_price_vs_max_sk = (rel, inp)
                if inp[0] >= WAD and inp[1] >= WAD and inp[4] >= 0 and rel > worst_price_vs_max_sk_nonneg_rate[0]:
                    worst_price_vs_max_sk_nonneg_rate = (rel, inp)
    print(f"\n{label}: {len(inputs)} inputs ({time.perf_counter() - start:.0f} s)")
    print(
        f"  {'output':<11} {'worst scaled':>13} {'bound':>7} {'worst abs':>11}  where (spot, strike, time, vol, rate)"
    )
    for name in OUTPUTS:
        scaled, where = worst_scaled[name]
        print(
            f"  {name:<11} {mpmath.nstr(scaled, 3):>13} {mpmath.nstr(BOUNDS_REL[name], 1):>7} "
            f"{mpmath.nstr(worst_abs[name], 3):>11}  {where}"
        )
    rel, where = worst_price_vs_max_sk
    print(f"  price error / max(spot, strike), spot and strike >= 1: {mpmath.nstr(rel, 3)} at {where}")
    rel, where = worst_price_vs_max_sk_nonneg_rate
    print(f"  the same with rate >= 0 (strike e^(-rT) <= strike): {mpmath.nstr(rel, 3)} at {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("scaled error = (|error in wei| - output quantum) / scale; within bound when <= bound")
    report("grid", [g for g in grid() if g[3] >= mirror.MIN_VOL_WAD])
    report("random over the whole domain", valid_inputs(args.n, seed=3))


if __name__ == "__main__":
    main()
