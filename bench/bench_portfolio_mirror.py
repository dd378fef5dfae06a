"""The portfolio mirror against the compiled libraries on 100,000 random inputs each: ``PortfolioMath.verify``
(every mode, n = 1..8, aimed at the tolerance boundaries) and the covariance oracle's PSD check (n = 1..8,
tolerance 1..100 bp). Target (issue 11): bit-exact, i.e. 0 mismatches (same volatility or same revert bytes).

Usage: python bench/bench_portfolio_mirror.py [--n 100000]
"""

from __future__ import annotations

import argparse

from _common import compare_with_contract, machine

from hedgevault.chain import local_node
from hedgevault.portfolio import mirror, sampling
from hedgevault.portfolio.errors import ALL_ERRORS
from hedgevault.portfolio.onchain import PortfolioHarness, PsdInput

_CHUNK = 500  # inputs per eth_call (a larger request body is refused by the node)


def _check_psd(inp: PsdInput) -> bytes:
    mirror.check_psd(*inp)
    return b""  # the harness answers b"" for a matrix that passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    with local_node() as node:
        h = PortfolioHarness.deploy(node.web3())
        compare_with_contract(
            "verify",
            args.n,
            _CHUNK,
            lambda count, offset: sampling.random_verify_inputs(count, seed=10_000 + offset),
            h.verify,
            lambda inp: mirror.verify(*inp),
            ALL_ERRORS,
        )
        compare_with_contract(
            "PSD check",
            args.n,
            _CHUNK,
            lambda count, offset: sampling.random_psd_inputs(count, seed=20_000 + offset),
            h.check_psd,
            _check_psd,
            ALL_ERRORS,
        )


if __name__ == "__main__":
    main()
