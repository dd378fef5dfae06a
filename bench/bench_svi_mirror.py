"""The surface mirror (``hedgevault.surface.mirror``) against the compiled ``SviMath`` on 100,000 random posts
(parameters, butterfly and calendar checks on a grid, rate limit; valid and invalid, aimed at every boundary) and
100,000 random evaluations (vol at a strike; checked slices, some inputs out of range). Target (issue 13): bit-exact,
i.e. 0 mismatches (same volatility or same revert bytes).

Usage: python bench/bench_svi_mirror.py [--n 100000]
"""

from __future__ import annotations

import argparse

from _common import compare_with_contract, machine

from hedgevault.chain import local_node
from hedgevault.surface import mirror, sampling
from hedgevault.surface.errors import ALL_ERRORS
from hedgevault.surface.mirror import Post
from hedgevault.surface.onchain import SviHarness

_CHUNK = 250  # inputs per eth_call


def _check_post(post: Post) -> bytes:
    mirror.check_post(post)
    return b""  # the harness answers b"" for a post that passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    with local_node() as node:
        h = SviHarness.deploy(node.web3())
        compare_with_contract(
            "posts",
            args.n,
            _CHUNK,
            lambda count, offset: sampling.random_posts(count, seed=30_000 + offset),
            h.check_post,
            _check_post,
            ALL_ERRORS,
        )
        compare_with_contract(
            "evaluations",
            args.n,
            4 * _CHUNK,
            lambda count, offset: sampling.random_vol_inputs(count, seed=40_000 + offset),
            h.vol,
            lambda inp: mirror.vol_wad(*inp),
            ALL_ERRORS,
        )


if __name__ == "__main__":
    main()
