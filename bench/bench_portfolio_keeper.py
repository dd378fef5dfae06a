"""The portfolio stack's deployment and the keeper's portfolio task, measured on an embedded Anvil (frozen clock):

* `deploy_local_portfolio` with the default 3 assets: wall time and transactions (the infrastructure with its
  Aave market included);
* one keeper pass that posts the covariance from 30 days of 4-hour rounds (540 rounds read, then cached) and the
  targets: wall time, gas of each; a later covariance post on the cached history;
* a pass that invests a 1,000,000 deposit: slices landed, gas per slice, wall time.

The first pass and the invest pass run twice from the same state (``evm_snapshot`` / ``evm_revert``): by a keeper
without EIP-2930 access lists, then by one with them (``PortfolioTaskConfig.access_lists``, the default): the gas
as sent by the keeper, each transaction's list (entries) beside it.

`python bench/bench_portfolio_keeper.py`; figures go to bench/RESULTS.md (issue 11, keeper and deployment).
"""

from __future__ import annotations

import time

import numpy as np

from hedgevault.chain import freeze_clock, local_node, warp
from hedgevault.chain.rpc import Rpc
from hedgevault.chain.sending import send
from hedgevault.deployment.portfolio import deploy_local_portfolio
from hedgevault.deployment.steps import DeployContext
from hedgevault.keeper import ActionRecord, Keeper, KeeperConfig
from hedgevault.keeper.portfolio import PortfolioTaskConfig
from hedgevault.keys import anvil_account
from hedgevault.portfolio.config import PortfolioConfig, vols_and_corr

WAD = 10**18
STEP_SEC = 4 * 3600
STEPS = 180


def main() -> None:
    with local_node() as node:
        w3 = node.web3()
        freeze_clock(w3)
        keeper = anvil_account(3)
        config = PortfolioConfig(enabled=True, keepers=(keeper.address,))
        DeployContext.local(w3, str(w3.eth.accounts[0]))  # compile once before timing
        nonce0 = w3.eth.get_transaction_count(w3.eth.accounts[0])
        started = time.perf_counter()
        stack = deploy_local_portfolio(w3, config, post_targets=False)
        deploy_sec = time.perf_counter() - started
        txs = w3.eth.get_transaction_count(w3.eth.accounts[0]) - nonce0
        print(f"deploy_local_portfolio (infrastructure + 3 assets): {deploy_sec:.1f} s, {txs} transactions")

        vols, corr = vols_and_corr(config)
        rng = np.random.default_rng(1)
        dt = STEP_SEC / (365 * 86_400)
        shocks = rng.standard_normal((STEPS, 3)) @ np.linalg.cholesky(corr).T
        prices = np.array([a.price_wad for a in config.assets], dtype=np.float64) * np.exp(
            np.cumsum(-0.5 * vols**2 * dt + vols * np.sqrt(dt) * shocks, axis=0)
        )
        rpc = Rpc(w3)
        admin = str(w3.eth.accounts[0])
        now = int(w3.eth.get_block("latest")["timestamp"])
        rpc.request("evm_setAutomine", [False])
        for row in prices:
            now += STEP_SEC
            for i, price in enumerate(row):
                feed = stack.assets[i].feed
                data = feed.encode_abi("setAnswer", [int(price) * 10**8 // WAD])
                tx = {"from": admin, "to": feed.address, "data": data, "gas": "0x50000"}
                rpc.request("eth_sendTransaction", [tx])
            rpc.request("evm_mine", [now])
        rpc.request("evm_setAutomine", [True])
        rpc.request("anvil_setBalance", [keeper.address, hex(100 * WAD)])

        assert stack.vault is not None
        vault = stack.vault.address

        def keeper_of(lists: bool) -> Keeper:
            task = PortfolioTaskConfig(vault, "bench", access_lists=lists)
            return Keeper(w3, keeper, KeeperConfig(portfolios=[task]))

        def listed(record: ActionRecord) -> int:
            return len(w3.eth.get_transaction(record.tx_hash or "").get("accessList") or [])

        snapshot = rpc.request("evm_snapshot", [])
        out = keeper_of(False).tick()
        plain = {r.kind: r.gas_used for r in out if r.status == "success"}
        rpc.request("evm_revert", [snapshot])
        k = keeper_of(True)
        started = time.perf_counter()
        out = k.tick()
        first_sec = time.perf_counter() - started
        gas = {r.kind: (r.gas_used, listed(r)) for r in out if r.status == "success"}
        print(
            f"first pass ({3 * STEPS} rounds read): {first_sec:.2f} s; covariance post {gas.get('covariance')} "
            f"(gas, access-list entries; without lists {plain.get('covariance')}), targets {gas.get('targets')} "
            f"(without {plain.get('targets')})"
        )
        warp(w3, 6 * 3600)
        started = time.perf_counter()
        out = k.tick()
        again_sec = time.perf_counter() - started
        gas = {r.kind: r.gas_used for r in out if r.status == "success"}
        print(f"a later covariance post (cached rounds): {again_sec:.2f} s; {gas.get('covariance')} gas")

        # invest: pools at the feeds' prices, fresh rounds, a deposit
        trader = str(w3.eth.accounts[5])
        last = [int(a.feed.functions.latestRoundData().call()[1]) * WAD // 10**8 for a in stack.assets]
        for i, price in enumerate(last):
            stack.move_pool_price(i, price, trader)
        warp(w3, 601)
        for i, price in enumerate(last):
            stack.set_feed_price(i, price, admin)
        depositor = str(w3.eth.accounts[1])
        units = 1_000_000 * 10**stack.quote_decimals
        send(w3, stack.quote.functions.mint(depositor, units), depositor)
        send(w3, stack.quote.functions.approve(stack.vault.address, units), depositor)
        send(w3, stack.vault.functions.deposit(units, depositor), depositor)
        snapshot = rpc.request("evm_snapshot", [])
        out = keeper_of(False).tick()
        plain_slices = [r.gas_used for r in out if r.kind == "rebalance" and r.status == "success"]
        rpc.request("evm_revert", [snapshot])
        started = time.perf_counter()
        out = k.tick()
        done = [r for r in out if r.kind == "rebalance" and r.status == "success"]
        sec = time.perf_counter() - started
        print(
            f"invest pass: {len(done)} slices in {sec:.2f} s, gas per slice {[r.gas_used for r in done]} with access "
            f"lists of {[listed(r) for r in done]} entries; without lists {plain_slices}"
        )
        # a slice of an asset already held: tSOL falls 40% (its weight leaves its band below the target), the pools
        # follow, fresh rounds; the next pass buys tSOL (the same pass both ways from the same state)
        moved = [last[0], last[1], last[2] * 60 // 100]
        for i, price in enumerate(moved):
            stack.move_pool_price(i, price, trader)
        warp(w3, 601)
        for i, price in enumerate(moved):
            stack.set_feed_price(i, price, admin)
        snapshot = rpc.request("evm_snapshot", [])
        out = keeper_of(False).tick()
        plain_slices = [r.gas_used for r in out if r.kind == "rebalance" and r.status == "success"]
        rpc.request("evm_revert", [snapshot])
        out = keeper_of(True).tick()
        done = [r for r in out if r.kind == "rebalance" and r.status == "success"]
        print(
            f"after tSOL -40% (an asset held): {len(done)} slices, gas per slice {[r.gas_used for r in done]} with "
            f"access lists of {[listed(r) for r in done]} entries; without lists {plain_slices}"
        )


if __name__ == "__main__":
    main()
