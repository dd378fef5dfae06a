"""The surface mirror (``hedgevault.surface.mirror``) against the compiled ``SviMath`` on 100,000 random posts
(parameters, butterfly and calendar checks on a grid, rate limit; valid and invalid, aimed at every boundary) and
100,000 random evaluations (vol at a strike; checked slices, some inputs out of range). Target (issue 13): bit-exact,
i.e. 0 mismatches (same volatility or same revert bytes).

Usage: python bench/bench_svi_mirror.py [--n 100000]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from _common import machine

from hedgevault.chain import local_node
from hedgevault.surface import mirror, sampling
from hedgevault.surface.errors import ALL_ERRORS, SviError
from hedgevault.surface.onchain import SviHarness

_CHUNK = 250  # inputs per eth_call


def _name(outcome: int | bytes) -> str:
    if isinstance(outcome, int) or not outcome:
        return "passed"
    return next((e.__name__ for e in ALL_ERRORS if outcome[:4] == e.selector()), outcome[:4].hex())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    with local_node() as node:
        h = SviHarness.deploy(node.web3())
        start = time.perf_counter()
        mismatches, kinds = 0, Counter[str]()
        for offset in range(0, args.n, _CHUNK):
            posts = sampling.random_posts(min(_CHUNK, args.n - offset), seed=30_000 + offset)
            for p, got in zip(posts, h.check_post(posts), strict=True):
                try:
                    mirror.check_post(p)
                    want = b""
                except SviError as exc:
                    want = exc.revert_data()
                mismatches += got != want
                kinds[_name(got)] += 1
        print(f"posts: {args.n:,} inputs, {mismatches} mismatches ({time.perf_counter() - start:.0f} s)")
        print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
        start = time.perf_counter()
        mismatches, kinds = 0, Counter[str]()
        for offset in range(0, args.n, 4 * _CHUNK):
            inputs = sampling.random_vol_inputs(min(4 * _CHUNK, args.n - offset), seed=40_000 + offset)
            for inp, got_vol in zip(inputs, h.vol(inputs), strict=True):
                try:
                    want_vol: int | bytes = mirror.vol_wad(*inp)
                except SviError as exc:
                    want_vol = exc.revert_data()
                mismatches += got_vol != want_vol
                kinds[_name(got_vol)] += 1
        print(f"evaluations: {args.n:,} inputs, {mismatches} mismatches ({time.perf_counter() - start:.0f} s)")
        print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))


if __name__ == "__main__":
    main()
