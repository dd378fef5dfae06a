"""Gas of PortfolioVault on Anvil (whole transactions, 21,000 base included), with the optimizer settings the
project ships, on the local stack (``hedgevault.portfolio.localstack``: mock feeds, real Uniswap V3 full-range
pools, the real price and covariance oracles):

* a one-asset rebalance slice (a buy from the quote buffer: the first of each asset, whose balance the token writes
  from zero, and one of an asset already held; a sale), and where the first slice's gas goes (call tracer;
  ``bench/trace_portfolio_gas.py`` attributes it to source lines);
* the same slices with n = 8 assets (the first buy of each asset, a buy of an asset held, a sale);
* the held-asset buy sent with an EIP-2930 access list from ``eth_createAccessList`` (a keeper-side saving);
* setTargets with n = 3 and n = 8 assets (verification against the oracle's matrix included);
* deposit (first, later), redeem paid from the buffer, redeem and withdraw with pro-rata sales, redeemInKind.
Targets (issue 11): a one-asset rebalance slice <= 250,000; target verification for n = 8 <= 150,000.
The node's clock is frozen (``freeze_clock``; the scenario warps it), so every figure repeats to the gas: with the
wall clock, the TWAP's observation search and the budget's drain moved the slices by up to 1k between runs.

Usage: python bench/bench_portfolio_vault_gas.py
"""

from __future__ import annotations

from typing import Any

from _common import machine

from hedgevault.chain import freeze_clock, local_node
from hedgevault.chain.sending import send
from hedgevault.portfolio.localstack import AssetSpec, PortfolioStack, StackConfig, deploy_local_stack
from hedgevault.toolchain.compiler import compile_project, load_settings

WAD = 10**18
Q = 10**6
TARGETS3 = [3 * WAD // 10, 3 * WAD // 10, 2 * WAD // 10]


def _gas(stack: PortfolioStack, fn: Any, sender: str) -> int:
    return int(send(stack.w3, fn, sender)["gasUsed"])


def _fund(stack: PortfolioStack, who: str, amount: int) -> None:
    send(stack.w3, stack.quote.functions.mint(who, amount), who)
    send(stack.w3, stack.quote.functions.approve(stack.vault.address, 2**256 - 1), who)


def _trace(stack: PortfolioStack, tx_hash: str) -> list[tuple[str, int]]:
    """(callee, gas used) of the engine's direct calls in a rebalance, from Anvil's call tracer."""
    names = {stack.cov_oracle.address.lower(): "covariance oracle", stack.quote.address.lower(): "quote"}
    for i, (o, t, p) in enumerate(zip(stack.price_oracles, stack.tokens, stack.pools, strict=True)):
        names |= {
            o.address.lower(): f"price oracle {i}",
            t.address.lower(): f"token {i}",
            p.address.lower(): f"pool {i}",
        }
    answer = stack.w3.provider.make_request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])  # type: ignore[arg-type]
    top = answer["result"]
    engine = top["calls"][0]
    rows = [(names.get(str(c["to"]).lower(), str(c["to"])), int(c["gasUsed"], 16)) for c in engine.get("calls", [])]
    rows.append(
        ("engine itself (storage, memory, math, cold accounts)", int(engine["gasUsed"], 16) - sum(g for _, g in rows))
    )
    rows.append(
        ("vault (intrinsic 21,000, calldata, lock, delegatecall)", int(top["gasUsed"], 16) - int(engine["gasUsed"], 16))
    )
    return rows


def _with_access_list(stack: PortfolioStack, keeper: str) -> int:
    """The next upkeep's gas when sent with the access list ``eth_createAccessList`` gives (then undone)."""
    w3 = stack.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    tx: Any = {"from": keeper, "to": stack.vault.address, "data": stack.vault.encode_abi("performUpkeep", [b""])}
    access = w3.eth.create_access_list(tx)
    sent: Any = {**tx, "accessList": access["accessList"], "gas": 1_000_000}
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(sent))
    assert receipt["status"] == 1
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]
    return int(receipt["gasUsed"])


def _slices8(stack8: PortfolioStack, user: str, keeper: str, arb: str) -> list[tuple[str, int, str]]:
    """n = 8: the first buy of every asset (from one deposit), then a buy of an asset held (asset 1's feed
    halved, its pool following) and a sale (asset 0's feed tripled)."""
    w3 = stack8.w3
    v8 = stack8.vault.functions
    _fund(stack8, user, 10_000_000 * Q)
    send(w3, v8.deposit(1_000_000 * Q, user), user)
    first: list[int] = []
    for _ in range(12):
        ok, _data = v8.checkUpkeep(b"").call(block_identifier="latest")
        if not ok:
            break
        first.append(_gas(stack8, v8.performUpkeep(b""), keeper))
        stack8.arbitrage(arb)
    stack8.reprice(1, stack8.config.assets[1].price_wad // 2, arb)
    _a, sale, _u, _val = v8.previewRebalance().call(block_identifier="latest")
    assert not sale, "expected a buy of a held asset"
    held = _gas(stack8, v8.performUpkeep(b""), keeper)
    stack8.arbitrage(arb)
    stack8.reprice(0, stack8.config.assets[0].price_wad * 3, arb)
    _a, sale, _u, _val = v8.previewRebalance().call(block_identifier="latest")
    assert sale, "expected a sale"
    sold = _gas(stack8, v8.performUpkeep(b""), keeper)
    return [
        (f"n = 8 slice: first buys ({len(first)}), first / max", 0, f"{first[0]:,} / {max(first):,}"),
        ("n = 8 slice: a buy of an asset held", held, "<= 250,000"),
        ("n = 8 slice: a sale", sold, "<= 250,000"),
    ]


def main() -> None:
    settings = load_settings()
    print(f"machine: {machine()}")
    print(
        f"solc {settings.version}, evm {settings.evm_version}, optimizer "
        f"{'on' if settings.optimizer_enabled else 'off'} with {settings.optimizer_runs} runs\n"
    )
    artifacts = compile_project()
    with local_node() as node:
        w3 = node.web3()
        freeze_clock(w3)
        admin, user, user2, keeper, arb = (w3.eth.accounts[i] for i in (0, 1, 2, 3, 5))
        stack = deploy_local_stack(w3, artifacts, admin)
        v = stack.vault.functions
        rows: list[tuple[str, int, str]] = []
        _fund(stack, user, 10_000_000 * Q)
        _fund(stack, user2, 10_000_000 * Q)
        rows.append(("deposit (first)", _gas(stack, v.deposit(1_000_000 * Q, user), user), ""))
        rows.append(("deposit (later)", _gas(stack, v.deposit(500_000 * Q, user2), user2), ""))
        rows.append(("setTargets n = 3", _gas(stack, v.setTargets(TARGETS3), admin), ""))
        receipt = send(w3, v.performUpkeep(b""), keeper)
        slice_gas = int(receipt["gasUsed"])
        rows.append(("rebalance slice: a buy (first)", slice_gas, "<= 250,000"))
        breakdown = _trace(stack, "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x"))
        later = []
        for _ in range(8):
            stack.arbitrage(arb)
            ok, _ = v.checkUpkeep(b"").call()
            if not ok:
                break
            later.append(int(send(w3, v.performUpkeep(b""), keeper)["gasUsed"]))
        rows.append(("rebalance slice: later slices (max)", max(later), "<= 250,000"))
        stack.arbitrage(arb)
        # a buy of an asset the vault already holds (the first buys above write its balance from zero): the
        # second asset's feed down a third, the pool follows
        stack.reprice(1, 40_000 * WAD, arb)
        asset, sale, _u, _val = v.previewRebalance().call()
        assert not sale and v.state().call()[2][asset][0] > 0, "expected a buy of a held asset"
        rows.append(("rebalance slice: a buy of an asset held, access list", _with_access_list(stack, keeper), ""))
        rows.append(
            ("rebalance slice: a buy of an asset held", _gas(stack, v.performUpkeep(b""), keeper), "<= 250,000")
        )
        stack.arbitrage(arb)
        # a sale: the first asset's feed up 67%, the pool follows
        stack.reprice(0, 5_000 * WAD, arb)
        _asset, sale, _u, _val = v.previewRebalance().call()
        assert sale, "expected a sale"
        rows.append(("rebalance slice: a sale", _gas(stack, v.performUpkeep(b""), keeper), "<= 250,000"))
        stack.arbitrage(arb)
        shares = v.balanceOf(user2).call()
        rows.append(("redeem paid from the quote buffer", _gas(stack, v.redeem(shares // 20, user2, user2), user2), ""))
        big = v.balanceOf(user).call() // 2
        receipt = send(w3, v.redeem(big, user, user), user)
        assert stack.vault.events.WithdrawalSales().process_receipt(receipt), "expected sales"
        rows.append(("redeem with pro-rata sales (3 assets)", int(receipt["gasUsed"]), ""))
        stack.arbitrage(arb)
        buffer = stack.quote.functions.balanceOf(stack.vault.address).call()
        receipt = send(w3, v.withdraw(buffer + 50_000 * Q, user, user), user)
        assert stack.vault.events.WithdrawalSales().process_receipt(receipt), "expected sales"
        rows.append(("withdraw with pro-rata sales (3 assets)", int(receipt["gasUsed"]), ""))
        rows.append(("redeemInKind", _gas(stack, v.redeemInKind(shares // 10, user2, user2), user2), ""))

        # n = 8
        specs = tuple(
            AssetSpec(f"tA{i}", (18, 8, 9, 6, 18, 12, 8, 18)[i], (100 + 37 * i) * WAD, 400_000, 3_000 + 500 * i)
            for i in range(8)
        )
        stack8 = deploy_local_stack(w3, artifacts, admin, StackConfig(assets=specs))
        targets8 = [WAD // 10] * 8
        rows.append(("setTargets n = 8", _gas(stack8, stack8.vault.functions.setTargets(targets8), admin), ""))
        rows += _slices8(stack8, user, keeper, arb)

    print(f"{'PortfolioVault (whole transactions)':<56} {'gas':>9}  target")
    for name, gas, target in rows:
        print(f"{name:<56} {gas:>9,}  {target}" if gas else f"{name:<56} {target}")
    print(
        "\nwhere the first slice's gas goes (the engine's direct calls, call tracer;"
        " cold-account costs sit in the engine's own)"
    )
    for name, gas in breakdown:
        print(f"  {name:<62} {gas:>9,}")


if __name__ == "__main__":
    main()
