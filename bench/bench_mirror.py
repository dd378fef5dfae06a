"""The Python mirror: mismatches against the compiled library over many random inputs, and speed.

1. N random inputs (whole domain, edges, out-of-domain included) evaluated by the library on Anvil
   (batched eth_calls through BlackScholesHarness) and by the mirror; mismatches counted (values
   and revert bytes). Target: zero over one million.
2. Pure-Python throughput of whole sets (greeks) per second on one core. Target: 20,000.

Usage: python bench/bench_mirror.py [--n 1000000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import time

from _common import machine

from hedgevault.chain import local_node
from hedgevault.greeks import mirror
from hedgevault.greeks.errors import GreeksError
from hedgevault.greeks.onchain import GreeksHarness
from hedgevault.greeks.sampling import random_inputs, realistic_inputs


def _mirror(args: tuple[int, int, int, int, int]) -> object:
    try:
        return mirror.greeks(*args)
    except GreeksError as exc:
        return exc.revert_data()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    print(f"machine: {machine()}")

    inputs = realistic_inputs(20_000, seed=4)
    start = time.process_time()
    for inp in inputs:
        mirror.greeks(*inp)
    rate = len(inputs) / (time.process_time() - start)
    print(f"mirror throughput: {rate:,.0f} whole sets per second (one core, CPU time, listed-option inputs)")

    mismatches = 0
    reverted = 0
    start = time.perf_counter()
    with local_node() as node:
        h = GreeksHarness.deploy(node.web3())
        done = 0
        seed = 0
        while done < args.n:
            chunk = random_inputs(min(args.batch, args.n - done), seed=10_000 + seed)
            seed += 1
            for inp, got in zip(chunk, h.greeks(chunk), strict=True):
                want = _mirror(inp)
                reverted += isinstance(want, bytes)
                if got != want:
                    mismatches += 1
                    if mismatches <= 5:
                        print(f"MISMATCH {inp}: chain {got!r} mirror {want!r}")
            done += len(chunk)
            if done % 100_000 < args.batch:
                print(
                    f"  {done:,} compared, {mismatches} mismatches ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    elapsed = time.perf_counter() - start
    print(f"differential: {done:,} inputs ({reverted:,} revert), {mismatches} mismatches ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
