"""Smoke test on Ganache 7.9.2 (npm ``ganache``; Shanghai rules, no Cancun opcodes, EIP-170 code size
limit enforced, no ``--chain.allowUnlimitedContractSize``): ``hedgevault deploy`` deploys the suite there,
time moves with ``hedgevault.chain.warp`` (Ganache's ``evm_setTime`` path), and the real keeper hedges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flows import Run, buy, deposit, hedge_balance, keep_until_hedged, list_call

from hedgevault.chain import Node, is_ganache, latest_timestamp, start_ganache, warp
from hedgevault.deployment import attach_suite, load_manifest
from hedgevault.keeper import Keeper, KeeperConfig, VaultConfig
from hedgevault.keys import anvil_account
from hedgevault.suite import WAD
from hedgevault.txs import send_signed


@pytest.fixture(scope="module")
def ganache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = start_ganache(log_dir=tmp_path_factory.mktemp("ganache"))
    try:
        yield node
    finally:
        node.stop()  # the whole process group
        assert node.process is not None and node.process.poll() is not None


def test_deploys_warps_and_hedges_on_ganache(hv: Callable[..., Run], ganache: Node, tmp_path: Path) -> None:
    w3 = ganache.web3()
    assert is_ganache(w3) and w3.eth.chain_id == 1337
    path = tmp_path / "ganache.json"
    run = hv("deploy", "--rpc-url", ganache.url, "--manifest", path)
    assert run.code == 0, run.err
    assert "44 deployed" in run.out
    assert "0 transactions sent" in hv("deploy", "--rpc-url", ganache.url, "--manifest", path).out

    suite = attach_suite(w3, load_manifest(path))
    # the oracle answers: the pool's TWAP over 600 s exists because warp moved Ganache's clock
    assert suite.price_oracle.functions.spotWad().call() == 3000 * WAD
    before = latest_timestamp(w3)
    warp(w3, 1800)
    assert 1800 <= latest_timestamp(w3) - before <= 1802  # Ganache's clock runs on from the time set
    admin, depositor, buyer, keeper_key = (anvil_account(i) for i in (0, 1, 2, 3))
    send_signed(w3, suite.feed.functions.setAnswer(suite.feed_answer(3000 * WAD)), admin)

    deposit(suite, depositor, 100_000)
    series = list_call(suite, admin, days=7, strike_wad=3000 * WAD)
    buy(suite, buyer, series, 20 * WAD)
    assert suite.vault.functions.checkUpkeep(b"").call()[0]
    keeper = Keeper(w3, keeper_key, KeeperConfig(vaults=[VaultConfig(suite.vault.address, "ganache")]))
    records = keep_until_hedged(keeper)
    assert [r.status for r in records if r.kind == "hedge"][-1] == "success", records
    assert len([r for r in records if r.kind == "hedge" and r.status == "success"]) == 1
    assert hedge_balance(suite) > 0
    assert suite.vault.functions.checkUpkeep(b"").call()[0] is False
