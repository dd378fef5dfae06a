"""The portfolio mirror against the compiled libraries on 100,000 random inputs each: ``PortfolioMath.verify``
(every mode, n = 1..8, aimed at the tolerance boundaries) and the covariance oracle's PSD check (n = 1..8,
tolerance 1..100 bp). Target (issue 11): bit-exact, i.e. 0 mismatches (same volatility or same revert bytes).

Usage: python bench/bench_portfolio_mirror.py [--n 100000]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from _common import machine

from hedgevault.chain import local_node
from hedgevault.portfolio import mirror, sampling
from hedgevault.portfolio.errors import ALL_ERRORS, PortfolioError
from hedgevault.portfolio.onchain import PortfolioHarness

_CHUNK = 500  # inputs per eth_call (a larger request body is refused by the node)


def _name(outcome: int | bytes) -> str:
    if isinstance(outcome, int):
        return "passed"
    return next((e.__name__ for e in ALL_ERRORS if outcome[:4] == e.selector()), outcome[:4].hex())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    with local_node() as node:
        h = PortfolioHarness.deploy(node.web3())
        start = time.perf_counter()
        mismatches, kinds = 0, Counter[str]()
        for offset in range(0, args.n, _CHUNK):
            inputs = sampling.random_verify_inputs(min(_CHUNK, args.n - offset), seed=10_000 + offset)
            for (w, cov, rules), got in zip(inputs, h.verify(inputs), strict=True):
                try:
                    want: int | bytes = mirror.verify(w, cov, rules)
                except PortfolioError as exc:
                    want = exc.revert_data()
                mismatches += got != want
                kinds[_name(got)] += 1
        print(f"verify: {args.n:,} inputs, {mismatches} mismatches ({time.perf_counter() - start:.0f} s)")
        print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
        start = time.perf_counter()
        mismatches, kinds = 0, Counter[str]()
        for offset in range(0, args.n, _CHUNK):
            psd_inputs = sampling.random_psd_inputs(min(_CHUNK, args.n - offset), seed=20_000 + offset)
            for (words, n, tol), got_bytes in zip(psd_inputs, h.check_psd(psd_inputs), strict=True):
                try:
                    mirror.check_psd(words, n, tol)
                    want_bytes = b""
                except PortfolioError as exc:
                    want_bytes = exc.revert_data()
                mismatches += got_bytes != want_bytes
                kinds["passed" if not got_bytes else _name(got_bytes)] += 1
        print(f"PSD check: {args.n:,} inputs, {mismatches} mismatches ({time.perf_counter() - start:.0f} s)")
        print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))


if __name__ == "__main__":
    main()
