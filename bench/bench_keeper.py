"""Keeper benchmark (prints its figures; not a test).

1. Per-block cost: 100 vaults on one Anvil sharing one set of infrastructure (tokens, feed, Uniswap V3 pool,
   oracles, pricer, hedge library; each vault with its own OptionToken and SpotHedger), each with a deposit, a listed
   7-day call, an open position and one hedge done. The in-process ``Keeper`` ticks once per mined block;
   the figure is the wall time of a tick (median, max) with metrics on (checkUpkeep + book + lastHedgeTime
   per vault, one batched request) and off (checkUpkeep only). Target: under 1 s per block.
2. Memory: the keeper's resident set size (this process) over ``--blocks`` blocks (default 10,000), a tick
   per block (anvil_mine), with a price move every 1,000 blocks so that hedges are sent and recorded.
   Target: end and peak within 10% of the start (measured after a 100-block warm-up).

    .venv/bin/python bench/bench_keeper.py [--vaults 100] [--memory-vaults 10] [--blocks 10000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

import psutil
from _common import machine
from web3 import Web3
from web3.contract import Contract

from hedgevault.chain import local_node, warp
from hedgevault.chain.sending import send
from hedgevault.keeper import Keeper, KeeperConfig, KeeperMetrics, VaultConfig
from hedgevault.keys import anvil_account
from hedgevault.suite import BOOK_LIBRARY, HEDGE_LIBRARY, Suite, SuiteConfig, deploy_suite, link
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

WAD = 10**18
DAY = 86_400


def extra_vault(s: Suite, index: int) -> Contract:
    """Another vault on the suite's infrastructure, with its own option token and a long-only hedger
    (``SpotHedger``; constructor as deploy_suite)."""
    artifacts = compile_project()
    w3, admin, c = s.w3, s.admin, s.config
    token = deploy(w3, artifacts["OptionToken"], "", sender=admin)
    hedger = deploy(w3, artifacts["SpotHedger"], s.quote.address, s.underlying.address, s.pool.address, sender=admin)
    vault_config = (
        s.quote.address,
        s.underlying.address,
        s.price_oracle.address,
        s.vol_oracle.address,
        hedger.address,
        token.address,
        s.pricer.address,
        admin,
        s.fee_recipient,
    )
    vault = deploy(
        w3,
        link(artifacts["OptionVault"], {HEDGE_LIBRARY: s.hedge_library.address, BOOK_LIBRARY: s.book_library.address}),
        vault_config,
        f"bench vault {index}",
        f"hvB{index}",
        c.risk.as_tuple(),
        c.limits.as_tuple(),
        c.hedge.as_tuple(),
        sender=admin,
    )
    send(w3, token.functions.bindVault(vault.address), admin)
    send(w3, hedger.functions.bind(vault.address), admin)
    send(w3, vault.functions.grantRole(vault.functions.LISTER_ROLE().call(), admin), admin)
    return vault


def open_book(s: Suite, vault: Contract, expiry: int) -> None:
    """Deposit 100,000 quote, list the 3000 call at ``expiry``, buy 10 options and hedge once."""
    w3, admin = s.w3, s.admin
    user = str(w3.eth.accounts[1])
    amount = s.quote_units(100_000)
    send(w3, s.quote.functions.mint(user, amount * 2), user)
    send(w3, s.quote.functions.approve(vault.address, 2**256 - 1), user)
    send(w3, vault.functions.deposit(amount, user), user)
    fn = vault.functions.listSeries(expiry, 3000 * WAD, True)
    series_id = int(fn.call({"from": admin}))
    send(w3, fn, admin)
    premium, fee = vault.functions.quoteBuy(series_id, 10 * WAD).call()
    send(w3, vault.functions.buy(series_id, 10 * WAD, premium + fee, user), user)
    needed, data = vault.functions.checkUpkeep(b"").call()
    if needed:
        send(w3, vault.functions.performUpkeep(data), admin)


def deploy_vaults(w3: Web3, n: int) -> tuple[Suite, list[Contract]]:
    s = deploy_suite(w3, SuiteConfig(pool_underlying=2_000_000))  # deep pool: 100 hedges barely move it
    expiry = int(w3.eth.get_block("latest")["timestamp"]) + 7 * DAY
    send(w3, s.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), s.admin)
    vaults = [s.vault] + [extra_vault(s, i) for i in range(1, n)]
    for vault in vaults:
        open_book(s, vault, expiry)
    return s, vaults


def mine(w3: Web3, blocks: int = 1) -> None:
    w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]


def tick_times(keeper: Keeper, w3: Web3, blocks: int) -> list[float]:
    out = []
    for _ in range(blocks):
        mine(w3)
        started = time.perf_counter()
        keeper.tick()
        out.append(time.perf_counter() - started)
    return out


def per_block(w3: Web3, n: int, blocks: int) -> list[str]:
    started = time.perf_counter()
    suite, vaults = deploy_vaults(w3, n)
    setup_sec = time.perf_counter() - started
    account = anvil_account(3)
    config = KeeperConfig(vaults=[VaultConfig(v.address, f"v{i}") for i, v in enumerate(vaults)])
    lines = [f"per block, {n} vaults (deployed and opened in {setup_sec:.0f} s), {blocks} blocks each:"]
    for label, metrics in (("metrics on ", KeeperMetrics()), ("metrics off", None)):
        keeper = Keeper(w3, account, config, metrics=metrics)
        keeper.tick()  # warm-up (ABI caches, decimals)
        times = tick_times(keeper, w3, blocks)
        lines.append(
            f"  {label}: tick median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
            f"({n / statistics.median(times):.0f} vaults/s; target < 1000 ms per block)"
        )
    # one block where every vault has work: a price move opens a gap in each
    suite.move_pool_price(3150 * WAD, str(w3.eth.accounts[5]))
    warp(w3, suite.config.oracle.twap_window_sec + 1)
    suite.set_feed_price(3150 * WAD)
    keeper = Keeper(w3, account, config)
    started = time.perf_counter()
    records = keeper.tick()
    busy = time.perf_counter() - started
    sent = sum(r.kind == "hedge" and r.status in ("success", "pending") for r in records)
    mine(w3)
    records += keeper.tick()  # receipts of what automine had not mined when the keeper looked
    outcomes = Counter(f"{r.kind}/{r.status}" for r in records)
    lines.append(
        f"  a block where {sent} of {n} vaults hedge (simulate, estimate, sign, send): {busy:.2f} s "
        f"(records over that tick and the next: {dict(outcomes)})"
    )
    return lines


def memory(w3: Web3, n: int, blocks: int) -> list[str]:
    suite, vaults = deploy_vaults(w3, n)
    config = KeeperConfig(vaults=[VaultConfig(v.address, f"v{i}") for i, v in enumerate(vaults)])
    keeper = Keeper(w3, anvil_account(3), config, metrics=KeeperMetrics())
    w3.provider.make_request("anvil_setBalance", [anvil_account(3).address, hex(10_000 * WAD)])  # type: ignore[arg-type]
    process = psutil.Process()
    tick_times(keeper, w3, 100)  # warm-up
    start_rss = peak_rss = process.memory_info().rss
    hedges = 0
    times: list[float] = []
    price = 3000
    started = time.perf_counter()
    for block in range(1, blocks + 1):
        if block % 1000 == 0:  # a price move: every vault hedges in the next tick
            price = 3100 if price == 3000 else 3000
            suite.move_pool_price(price * WAD, str(w3.eth.accounts[5]))
            warp(w3, suite.config.oracle.twap_window_sec + 1)
            suite.set_feed_price(price * WAD)
        mine(w3)
        t = time.perf_counter()
        hedges += sum(r.kind == "hedge" and r.status == "success" for r in keeper.tick())
        times.append(time.perf_counter() - t)
        if block % 100 == 0:
            peak_rss = max(peak_rss, process.memory_info().rss)
    end_rss = process.memory_info().rss
    peak_rss = max(peak_rss, end_rss)
    mib = 2**20
    return [
        f"memory, {n} vaults, {blocks} blocks ({time.perf_counter() - started:.0f} s, {hedges} hedges sent and mined, "
        f"tick median {statistics.median(times) * 1000:.1f} ms):",
        f"  RSS start {start_rss / mib:.1f} MiB, peak {peak_rss / mib:.1f} MiB "
        f"({(peak_rss / start_rss - 1) * 100:+.1f}%), end {end_rss / mib:.1f} MiB "
        f"({(end_rss / start_rss - 1) * 100:+.1f}%); target within 10%",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vaults", type=int, default=100)
    parser.add_argument("--per-block-blocks", type=int, default=50)
    parser.add_argument("--memory-vaults", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=10_000)
    args = parser.parse_args()
    print(f"keeper benchmark on {machine()}")
    with local_node() as node:
        for line in per_block(node.web3(), args.vaults, args.per_block_blocks):
            print(line, flush=True)
    with local_node() as node:
        for line in memory(node.web3(), args.memory_vaults, args.blocks):
            print(line, flush=True)


if __name__ == "__main__":
    main()
