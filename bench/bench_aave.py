"""The Aave v3.0.x market of the infrastructure (``hedgevault.aave``) on Anvil: how many transactions and how
much gas a two-reserve market costs to deploy (libraries, provider, ACL, proxies, oracle, data provider, token
implementations, rate strategies, listing, configuration, seeds, the lender's supply), the wall time, and the
gas of an EOA's supply, borrow, repay and withdraw.

Figures are whole-transaction gasUsed (21,000 intrinsic gas included). The EOA supplies 30,000 quote (a
first supply: it also turns the quote on as collateral), borrows 5 underlying (variable rate), repays it all
an hour later and withdraws all its quote.

Usage: python bench/bench_aave.py [--out bench/results/aave.txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.aave import deploy_aave_market
from hedgevault.chain import freeze_clock, local_node, warp
from hedgevault.chain.sending import send
from hedgevault.suite import WAD
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

UINT256_MAX = 2**256 - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    lines = [f"machine: {machine()}"]
    artifacts = compile_project()
    with local_node() as node:
        w3 = node.web3()
        freeze_clock(w3)
        deployer, borrower = str(w3.eth.accounts[0]), str(w3.eth.accounts[5])
        quote = deploy(w3, artifacts["MockERC20"], "Test USD", "tUSD", 6, sender=deployer)
        underlying = deploy(w3, artifacts["MockERC20"], "Test Ether", "tETH", 18, sender=deployer)
        feed = deploy(w3, artifacts["MockAggregator"], 8, 3000 * 10**8, sender=deployer)

        block_before = w3.eth.block_number
        started = time.perf_counter()
        market, records, transactions = deploy_aave_market(
            w3, deployer, underlying=underlying, quote=quote, underlying_feed=feed
        )
        seconds = time.perf_counter() - started
        gas = sum(
            int(receipt["gasUsed"])
            for number in range(block_before + 1, w3.eth.block_number + 1)
            for receipt in w3.eth.get_block_receipts(number)
        )
        lines.append(
            f"deployment: {transactions} transactions ({len(records)} contracts recorded), {gas:,} gas, "
            f"{seconds:.1f} s wall"
        )

        pool = market.pool.functions
        supplied, borrowed = 30_000 * 10**6, 5 * WAD
        send(w3, quote.functions.mint(borrower, supplied), borrower)
        send(w3, quote.functions.approve(market.pool.address, UINT256_MAX), borrower)
        send(w3, underlying.functions.approve(market.pool.address, UINT256_MAX), borrower)
        measured = {
            "supply (first, 30,000 quote)": send(w3, pool.supply(quote.address, supplied, borrower, 0), borrower),
            "borrow (5 underlying, variable)": send(
                w3, pool.borrow(underlying.address, borrowed, 2, 0, borrower), borrower
            ),
        }
        warp(w3, 3600)
        send(w3, underlying.functions.mint(borrower, WAD), borrower)  # the hour's interest, with room
        repay = pool.repay(underlying.address, UINT256_MAX, 2, borrower)
        measured["repay (all, after 1 h)"] = send(w3, repay, borrower)
        measured["withdraw (all)"] = send(w3, pool.withdraw(quote.address, UINT256_MAX, borrower), borrower)
        for name, receipt in measured.items():
            lines.append(f"{name:<34} {int(receipt['gasUsed']):>9,} gas")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
