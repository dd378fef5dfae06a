"""The fork test: the infrastructure (tokens, feed, Uniswap V3, the Aave v3 market) on one Anvil (a testnet
stand-in) with its manifest; a second Anvil forking it; the vault stack deployed onto the fork from the first
manifest, its hedger attached to the forked Aave market; depositors, a buyer and the real keeper
(``hedgevault.keeper.Keeper``) working there, long then short, while the forked chain stays untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flows import Run, buy, deposit, hedge_balance, keep_until_hedged, list_call

from hedgevault.chain import Node
from hedgevault.deployment import attach_suite, load_manifest
from hedgevault.deployment.manifest import EMPTY_CODE_HASH, code_hash
from hedgevault.keeper import Keeper, KeeperConfig, VaultConfig
from hedgevault.keys import anvil_account
from hedgevault.suite import WAD
from hedgevault.txs import send_signed


def test_vault_stack_on_a_fork_of_the_infrastructure_chain(
    hv: Callable[..., Run], anvils: Callable[..., Node], tmp_path: Path
) -> None:
    testnet = anvils()
    infra_path = tmp_path / "testnet.json"
    made = hv("deploy", "--rpc-url", testnet.url, "--manifest", infra_path, "--infrastructure-only")
    assert made.code == 0, made.err

    fork = anvils(fork_url=testnet.url)
    w3 = fork.web3()
    fork_path = tmp_path / "fork.json"
    run = hv("deploy", "--rpc-url", fork.url, "--infrastructure", infra_path, "--manifest", fork_path)
    assert run.code == 0, run.err
    assert "9 deployed" in run.out  # the vault stack (the hedger included) and its timelock
    manifest = load_manifest(fork_path)
    assert manifest.infrastructure is not None and manifest.vault_stack is not None
    assert manifest.governance is not None and manifest.governance.timelock_address is not None
    assert manifest.infrastructure.origin == "external" and manifest.infrastructure.source == str(infra_path)
    assert manifest.infrastructure.contracts == load_manifest(infra_path).infrastructure.contracts  # type: ignore[union-attr]
    # the forked chain never sees the vault
    assert code_hash(testnet.web3(), manifest.vault_stack.contracts["vault"].address) == EMPTY_CODE_HASH
    assert code_hash(testnet.web3(), manifest.governance.timelock_address) == EMPTY_CODE_HASH

    suite = attach_suite(w3, manifest)
    admin, alice, bob, buyer, keeper_key = (anvil_account(i) for i in (0, 1, 2, 3, 4))
    assert deposit(suite, alice, 60_000) > 0
    assert deposit(suite, bob, 40_000) > 0
    series = list_call(suite, admin, days=7, strike_wad=3000 * WAD)
    buy(suite, buyer, series, 20 * WAD)  # short 20 ATM calls: book delta about -10 underlying
    needed, _ = suite.vault.functions.checkUpkeep(b"").call()
    assert needed

    keeper = Keeper(w3, keeper_key, KeeperConfig(vaults=[VaultConfig(suite.vault.address, "fork")]))
    records = keep_until_hedged(keeper)
    hedges = [r for r in records if r.kind == "hedge" and r.status == "success"]
    assert len(hedges) == 1, records
    assert not [r for r in records if r.kind == "hedge" and r.status not in ("pending", "success")], records
    assert hedge_balance(suite) > 0
    assert suite.vault.functions.checkUpkeep(b"").call()[0] is False

    # puts flip the book: the hedge goes short on the forked chain's Aave market (borrowed and sold there)
    put = list_call(suite, admin, days=14, strike_wad=3000 * WAD, is_call=False)
    buy(suite, buyer, put, 60 * WAD)
    keep_until_hedged(keeper)
    assert hedge_balance(suite) < 0
    assert suite.aave is not None
    debt_token = suite.aave.variable_debt_token(suite.underlying.address)
    assert debt_token.functions.balanceOf(suite.hedger.address).call() == -hedge_balance(suite)
    assert suite.aave.pool.address == load_manifest(infra_path).infrastructure.contracts["aave_pool"].address  # type: ignore[union-attr]

    shares = int(suite.vault.functions.balanceOf(bob.address).call())
    redeemable = int(suite.vault.functions.maxRedeem(bob.address).call())
    assert 0 < redeemable <= shares
    send_signed(w3, suite.vault.functions.redeem(redeemable // 2, bob.address, bob.address), bob)
    assert int(suite.quote.functions.balanceOf(bob.address).call()) > 0


def test_fork_manifest_is_not_the_forked_chains(anvils: Callable[..., Node], tmp_path: Path) -> None:
    """A fork shares its origin's chain id and genesis hash, so the origin's manifest is accepted there
    (its contracts exist on the fork); the CLI writes fork deployments to a manifest of their own."""
    from hedgevault.deployment.manifest import ChainIdentity, default_fork_manifest_path, default_manifest_path

    origin = anvils()
    fork = anvils(fork_url=origin.url)
    identity = ChainIdentity.read(fork.web3())
    origin_identity = ChainIdentity.read(origin.web3())
    assert identity == origin_identity  # same chain id and genesis ...
    assert identity.fork_block is not None and origin_identity.fork_block is None  # ... told apart by anvil_nodeInfo
    # so the commands (status, deploy --rpc-url FORK) never read or overwrite the origin's manifest
    assert default_manifest_path(identity) == default_fork_manifest_path(identity)
    assert default_manifest_path(identity) != default_manifest_path(origin_identity)
    assert default_manifest_path(identity.parent) == default_manifest_path(origin_identity)


def test_cli_fork_url_starts_a_fork_deploys_onto_it_and_stops_it(
    hv: Callable[..., Run], anvils: Callable[..., Node], tmp_path: Path
) -> None:
    testnet = anvils()
    infra_path = tmp_path / "testnet.json"
    assert hv("deploy", "--rpc-url", testnet.url, "--manifest", infra_path, "--infrastructure-only").code == 0
    fork_path = tmp_path / "fork.json"
    run = hv("deploy", "--fork-url", testnet.url, "--infrastructure", infra_path, "--manifest", fork_path)
    assert run.code == 0, run.err
    assert "9 deployed, 35 reused" in run.out and "the fork stops now" in run.out
    vault = load_manifest(fork_path).vault_stack.contracts["vault"].address  # type: ignore[union-attr]
    assert code_hash(testnet.web3(), vault) == EMPTY_CODE_HASH
