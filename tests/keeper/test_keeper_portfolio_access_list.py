"""The keeper's portfolio transactions carry an EIP-2930 access list when it lowers the gas estimate (issue 11, branch
prp): a rebalancing slice reads three feeds through their price oracles, the pools, the tokens and the covariance
oracle, all cold accounts the list pre-pays at 2,400 gas instead of 2,600 on first touch (and storage keys at
1,900 instead of 2,100).

The chain: the default target-vol portfolio stack (``deploy_local_portfolio``, the deployment's first targets) on
the module's frozen-clock Anvil, pools aligned with the feeds and 1,000,000 quote deposited, so the first keeper
pass sends a slice. Every test runs between ``evm_snapshot`` and ``evm_revert``. The node failure in the last test
is injected (an ``Rpc`` whose ``eth_createAccessList`` raises what a node without the method answers), since Anvil
always answers it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from keeperkit import rpc
from portfoliokeeperkit import align_pools, deposit, portfolio_keeper
from web3 import Web3

from hedgevault.chain import freeze_clock
from hedgevault.chain.rpc import AccessEntry, Rpc, RpcError
from hedgevault.chain.sending import choose_access_list
from hedgevault.deployment.portfolio import PortfolioStack, deploy_local_portfolio
from hedgevault.keeper import ActionRecord, Keeper
from hedgevault.portfolio.config import PortfolioConfig
from hedgevault.txs import send

WAD = 10**18


@pytest.fixture(scope="module")
def fw3(cw3: Web3) -> Web3:
    freeze_clock(cw3)
    return cw3


@pytest.fixture(scope="module")
def stack(fw3: Web3, keeper: LocalAccount) -> PortfolioStack:
    """The default stack, pools at the feeds' prices, 1,000,000 quote deposited: a slice is due."""
    s = deploy_local_portfolio(fw3, dataclasses.replace(PortfolioConfig(enabled=True), keepers=(keeper.address,)))
    rpc(fw3, "anvil_setBalance", keeper.address, hex(100 * WAD))
    accounts = [str(a) for a in fw3.eth.accounts]
    align_pools(s, accounts[5], s.admin)
    deposit(s, accounts[1], 1_000_000 * 10**s.quote_decimals)
    assert s.vault is not None and s.vault.functions.checkUpkeep(b"").call()[0]
    return s


@pytest.fixture(autouse=True)
def _isolate(fw3: Web3) -> Iterator[None]:
    snapshot = rpc(fw3, "evm_snapshot")
    yield
    rpc(fw3, "evm_revert", snapshot)


def _keeper(stack: PortfolioStack, account: LocalAccount, **task: object) -> Keeper:
    return portfolio_keeper(
        stack, account, "p", **{"cov_interval_sec": 365 * 86_400, "max_upkeeps_per_pass": 1, **task}
    )


def _one_slice(k: Keeper) -> ActionRecord:
    slices = [r for r in k.tick() if r.kind == "rebalance"]
    assert [r.status for r in slices] == ["success"], slices
    return slices[0]


def _sent(w3: Web3, record: ActionRecord) -> dict[str, Any]:
    assert record.tx_hash is not None
    return dict(w3.eth.get_transaction(record.tx_hash))


def _as_sets(entries: list[AccessEntry]) -> dict[str, set[str]]:
    """An access list as account -> storage keys (the node's order of entries and keys is not fixed)."""
    out: dict[str, set[str]] = {}
    for address, keys in entries:
        out.setdefault(address.lower(), set()).update(k.lower() for k in keys)
    return out


def _entries(tx: dict[str, Any]) -> dict[str, set[str]]:
    listed = tx.get("accessList") or []
    return _as_sets(
        [(str(e["address"]), tuple("0x" + bytes(HexBytes(k)).hex() for k in e["storageKeys"])) for e in listed]
    )


def test_a_slice_carries_the_access_list_and_uses_less_gas(
    stack: PortfolioStack, keeper: LocalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same first slice from the same state, sent by a keeper without access lists and by one with: the
    second carries the list ``eth_createAccessList`` gives for it at the block it was planned on, the same
    calldata, and uses at least 2,000 gas less (the measured saving is ~3k)."""
    w3 = stack.w3
    snapshot = rpc(w3, "evm_snapshot")
    plain = _one_slice(_keeper(stack, keeper, access_lists=False))
    plain_tx = _sent(w3, plain)
    assert _entries(plain_tx) == {}
    rpc(w3, "evm_revert", snapshot)

    head = w3.eth.block_number
    expected = Rpc(w3).create_access_list(
        sender=keeper.address, to=plain_tx["to"], data=plain_tx["input"], block=hex(head)
    )
    listed = _one_slice(_keeper(stack, keeper))
    listed_tx = _sent(w3, listed)
    assert listed_tx["input"] == plain_tx["input"] and listed_tx["type"] == 2
    assert _entries(listed_tx) == _as_sets(expected)
    assert len(expected) >= 5  # the feeds, their oracles, the pools, the tokens, the covariance oracle
    assert plain.gas_used is not None and listed.gas_used is not None
    assert plain.gas_used - listed.gas_used >= 2_000, (plain.gas_used, listed.gas_used)
    with capsys.disabled():
        print(f"\nslice as sent by the keeper: {plain.gas_used:,} gas without, {listed.gas_used:,} with the list")


def test_no_list_where_it_does_not_lower_the_estimate(stack: PortfolioStack, keeper: LocalAccount) -> None:
    """A quote-token transfer touches only the token (the called, already warm account) and the two balances: a
    list would cost more than it saves, so none is kept and the reason says so; the estimate is the plain one."""
    token = stack.quote
    holder = str(stack.w3.eth.accounts[2])
    send(stack.w3, token.functions.mint(holder, 10), holder)
    data = bytes.fromhex(token.encode_abi("transfer", [keeper.address, 1])[2:])
    r = Rpc(stack.w3)
    plain = r.estimate_gas(sender=holder, to=token.address, data=data)
    assert isinstance(plain, int)
    choice = choose_access_list(r, sender=holder, to=token.address, data=data, block="latest", plain_gas=plain)
    assert choice.entries == () and choice.gas == plain and not choice.failed
    assert choice.reason.startswith(("no saving", "the access list is empty")), choice.reason


def test_a_failing_eth_create_access_list_sends_without_it_and_says_why(
    stack: PortfolioStack, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    """A call that reverts: Anvil refuses its access list, and ``choose_access_list`` gives none with the node's
    reason. A node without the method (injected): the keeper's slice lands without a list, and the keeper logs
    why as a warning."""
    assert stack.vault is not None
    r = Rpc(stack.w3)
    data = bytes.fromhex(stack.vault.encode_abi("setTargets", [[0, 0, 0]])[2:])  # the depositor holds no role
    depositor = str(stack.w3.eth.accounts[1])
    choice = choose_access_list(r, sender=depositor, to=stack.vault.address, data=data, block="latest", plain_gas=1)
    assert choice.entries == () and choice.failed and choice.gas == 1, choice

    class NoAccessLists(Rpc):
        def create_access_list(self, *, sender: str, to: str, data: bytes, block: str = "latest") -> list[AccessEntry]:
            raise RpcError("eth_createAccessList", "the method eth_createAccessList does not exist/is not available")

    k = _keeper(stack, keeper)
    k.rpc = NoAccessLists(stack.w3)
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        record = _one_slice(k)
    assert _entries(_sent(stack.w3, record)) == {}
    unused = [r for r in caplog.records if r.getMessage() == "access_list_unused"]
    assert unused and unused[0].levelno == logging.WARNING
    assert "does not exist" in unused[0].__dict__["fields"]["reason"]
