"""Transactions that do not get mined: dropped by the node, or underpriced after a base-fee rise, are
replaced with the same nonce (fees bumped >= 12.5%, under the cap) by the real keeper process; when the
cap blocks the bump the keeper says so and keeps the old one (in-process ``Keeper``)."""

from __future__ import annotations

from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from keeperkit import WAD, KeeperProcess, Market, hedged_events, keeper_args, mine, rpc, tx_count

from hedgevault.chain import Node, warp
from hedgevault.keeper import Keeper, KeeperConfig, KeeperMetrics, VaultConfig

Spawn = Callable[..., KeeperProcess]
GWEI = 10**9


def breach_with_mining_off(market: Market, price_wad: int) -> int:
    """Leave the vault outside its band in a block mined by hand, with automine off afterwards; return it."""
    s, w3 = market.suite, market.w3
    s.move_pool_price(price_wad, market.trader)
    warp(w3, s.config.oracle.twap_window_sec + 1)
    rpc(w3, "evm_setAutomine", False)
    s.feed.functions.setAnswer(s.feed_answer(price_wad)).transact({"from": s.admin})
    mine(w3)
    assert market.check_upkeep()[0]
    return int(w3.eth.block_number)


def test_dropped_transaction_is_resent_with_the_same_nonce(
    chain: Node, market: Market, spawn: Spawn, keeper: LocalAccount
) -> None:
    w3 = market.w3
    start = breach_with_mining_off(market, 3150 * WAD)
    proc = spawn(keeper_args(chain.url, market.suite.vault.address, "--anvil-account", "3", "--stuck-blocks", "2"))
    (sent,) = proc.wait_event("sent", action="hedge")
    rpc(w3, "anvil_dropTransaction", sent["tx"])
    assert w3.provider.make_request("eth_getTransactionByHash", [sent["tx"]])["result"] is None  # type: ignore[arg-type]
    mine(w3)
    (replaced,) = proc.wait_event("replace")
    assert replaced["nonce"] == sent["nonce"] == 0 and replaced["replaces"] == sent["tx"]
    assert "dropped" in replaced["reason"]
    mine(w3)
    (mined,) = proc.wait_event("mined", action="hedge")
    assert mined["tx"] == replaced["tx"] and mined["status"] == "success"
    assert len(hedged_events(market.suite, start)) == 1
    assert tx_count(w3, keeper.address) == 1


def test_underpriced_transaction_is_replaced_with_bumped_fees(
    chain: Node, market: Market, spawn: Spawn, keeper: LocalAccount
) -> None:
    w3 = market.w3
    start = breach_with_mining_off(market, 3150 * WAD)
    cap = 50 * GWEI
    proc = spawn(
        keeper_args(
            chain.url, market.suite.vault.address, "--anvil-account", "3", "--stuck-blocks", "2", "--max-fee", "50 gwei"
        )
    )
    (sent,) = proc.wait_event("sent", action="hedge")
    old_max_fee = sent["max_fee"]
    for _ in range(2):  # the base fee jumps above the transaction's maxFeePerGas: it cannot be included
        rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(old_max_fee + 1))
        mine(w3)
        assert w3.eth.get_block("latest")["transactions"] == []
    (replaced,) = proc.wait_event("replace")
    # Anvil evicts a transaction the base fee has overtaken (geth would keep it): either way it is replaced
    assert replaced["nonce"] == sent["nonce"]
    assert "dropped by the node" in replaced["reason"] or "not mined after 2 blocks" in replaced["reason"]
    assert replaced["max_fee"] * 8 >= old_max_fee * 9 and replaced["max_fee"] <= cap
    assert replaced["max_fee"] > old_max_fee + 1  # includable at the risen base fee
    assert replaced["tip"] * 8 >= sent["tip"] * 9
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(old_max_fee + 1))
    mine(w3)
    (mined,) = proc.wait_event("mined", action="hedge")
    assert mined["tx"] == replaced["tx"] and mined["status"] == "success"
    tx = w3.eth.get_transaction(mined["tx"])
    assert tx["maxFeePerGas"] == replaced["max_fee"] and tx["nonce"] == sent["nonce"]
    assert len(hedged_events(market.suite, start)) == 1
    assert tx_count(w3, keeper.address) == 1


def test_fee_cap_that_blocks_the_bump_is_refused_and_the_old_transaction_kept(
    market: Market, keeper: LocalAccount
) -> None:
    w3 = market.w3
    breach_with_mining_off(market, 3150 * WAD)
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    cap = 2 * base + GWEI  # exactly the first transaction's maxFeePerGas: no room for +12.5%
    config = KeeperConfig(
        vaults=[VaultConfig(market.suite.vault.address, "v1")],
        stuck_blocks=1,
        max_fee_per_gas_wei=cap,
        priority_fee_wei=GWEI,
    )
    k = Keeper(w3, keeper, config)
    (first,) = k.tick()
    assert (first.kind, first.status) == ("hedge", "pending")
    gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    rpc(w3, "anvil_setBlockGasLimit", hex(100_000))  # the hedge (~300k gas) no longer fits: it stays pending
    mine(w3)
    (refused,) = k.tick()
    assert (refused.kind, refused.status, refused.tx_hash) == ("skip", "refused", first.tx_hash)
    assert refused.reason is not None and "blocks the 12.5% bump" in refused.reason
    assert k.pending == {market.suite.vault.address: (0, [str(first.tx_hash)])}
    # blocks grow again: the original is mined and recorded
    rpc(w3, "anvil_setBlockGasLimit", hex(gas_limit))
    mine(w3)
    (landed,) = k.tick()
    assert (landed.kind, landed.status, landed.tx_hash) == ("hedge", "success", first.tx_hash)
    assert k.pending == {}


def test_stuck_transaction_whose_replacement_the_node_refuses_is_kept(market: Market, keeper: LocalAccount) -> None:
    """A transaction that stays in the mempool (blocks too small for it) is due for replacement after
    stuck_blocks; when the node refuses the replacement the keeper counts it, keeps the original and
    records it when it lands."""
    w3 = market.w3
    start = breach_with_mining_off(market, 3150 * WAD)
    config = KeeperConfig(vaults=[VaultConfig(market.suite.vault.address, "v1")], stuck_blocks=2)
    metrics = KeeperMetrics()
    k = Keeper(w3, keeper, config, metrics=metrics)
    (first,) = k.tick()
    assert first.status == "pending"
    gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    rpc(w3, "anvil_setBlockGasLimit", hex(100_000))  # the hedge (~300k gas) no longer fits in a block
    mine(w3)
    assert k.tick() == []  # one block: still waiting
    mine(w3)
    (refused,) = k.tick()  # two blocks: stuck; Anvil refuses a replacement above the block gas limit
    assert (refused.kind, refused.status, refused.tx_hash, refused.nonce) == ("skip", "refused", first.tx_hash, 0)
    assert (
        metrics.registry.get_sample_value(
            "hedgevault_keeper_failures_total", {"vault": market.suite.vault.address, "reason": "replace:refused"}
        )
        == 1
    )
    assert k.pending == {market.suite.vault.address: (0, [str(first.tx_hash)])}
    rpc(w3, "anvil_setBlockGasLimit", hex(gas_limit))
    mine(w3)
    (landed,) = k.tick()
    assert (landed.kind, landed.status, landed.tx_hash) == ("hedge", "success", first.tx_hash)
    assert len(hedged_events(market.suite, start)) == 1
