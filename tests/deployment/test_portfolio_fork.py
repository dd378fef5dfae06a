"""The portfolio fork test: assets with feeds and Uniswap V3 pools on one Anvil (a testnet stand-in, deployed by
`hedgevault deploy --stack portfolio`) with its manifest; a second Anvil forking it; a new portfolio stack deployed
onto the fork attached to the existing tokens, feeds and pools given by address in the config (the quote token and
Uniswap V3 from the first manifest); then a depositor and the real keeper (``hedgevault.keeper.Keeper``) invest
there in bounded slices, while the forked chain stays untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from flows import Run

from hedgevault.chain import Node
from hedgevault.deployment import load_manifest
from hedgevault.deployment.manifest import EMPTY_CODE_HASH, code_hash
from hedgevault.deployment.portfolio import attach_portfolio
from hedgevault.keeper import Keeper, KeeperConfig
from hedgevault.keeper.portfolio import PortfolioTaskConfig, portfolio_state
from hedgevault.keys import anvil_account
from hedgevault.txs import send_signed


def test_portfolio_stack_on_a_fork_attached_to_assets_by_address(
    hv: Callable[..., Run], anvils: Callable[..., Node], tmp_path: Path
) -> None:
    testnet = anvils()
    testnet_path = tmp_path / "testnet.json"
    made = hv("deploy", "--rpc-url", testnet.url, "--manifest", testnet_path, "--stack", "portfolio")
    assert made.code == 0, made.err
    base = load_manifest(testnet_path)
    assert base.portfolio is not None
    c = base.portfolio.contracts
    assets = [
        {
            "symbol": s,
            "token": c[f"token:{s}"].address,
            "feed": c[f"feed:{s}"].address,
            "pool": c[f"pool:{s}"].address,
            "vol_bp": vol,
        }
        for s, vol in (("tWETH", 6000), ("tWBTC", 5000), ("tSOL", 8000))
    ]
    config = tmp_path / "fork.yaml"
    config.write_text(yaml.safe_dump({"portfolio": {"assets": assets, "name": "forked portfolio", "symbol": "fPORT"}}))

    fork = anvils(fork_url=testnet.url)
    w3 = fork.web3()
    fork_path = tmp_path / "fork.json"
    args = ("--rpc-url", fork.url, "--infrastructure", testnet_path, "--manifest", fork_path, "--config", config)
    run = hv("deploy", *args, "--stack", "portfolio")
    assert run.code == 0, run.err
    for symbol in ("tWETH", "tWBTC", "tSOL"):
        assert f"attached {symbol}" in run.out
    manifest = load_manifest(fork_path)
    assert manifest.portfolio is not None and manifest.infrastructure is not None
    records = manifest.portfolio.contracts
    for a in assets:
        for kind in ("token", "feed", "pool"):
            record = records[f"{kind}:{a['symbol']}"]
            assert record.address == a[kind] and record.artifact == f"external:{kind}"
    # the new oracles and vault exist on the fork only
    for key in ("cov_oracle", "vault", "engine", "price_oracle:tWETH"):
        assert code_hash(testnet.web3(), records[key].address) == EMPTY_CODE_HASH
        assert code_hash(w3, records[key].address) != EMPTY_CODE_HASH
    assert hv("deploy", "--rpc-url", fork.url, "--manifest", fork_path, "--check").code == 0
    rerun = hv("deploy", *args, "--stack", "portfolio")
    assert rerun.code == 0 and "0 transactions sent" in rerun.out, rerun.err

    stack = attach_portfolio(w3, manifest)
    assert stack.vault is not None and not any(a.mock for a in stack.assets)
    assert [a.token.address for a in stack.assets] == list(stack.cov_oracle.functions.assets().call())
    assert int(stack.vault.functions.targets().call()[2]) > 0
    depositor, keeper_key = anvil_account(1), anvil_account(0)  # the deployer is the keeper by default
    units = 500_000 * 10**stack.quote_decimals
    send_signed(w3, stack.quote.functions.mint(depositor.address, units), depositor)
    send_signed(w3, stack.quote.functions.approve(stack.vault.address, units), depositor)
    send_signed(w3, stack.vault.functions.deposit(units, depositor.address), depositor)
    assert stack.vault.functions.checkUpkeep(b"").call()[0]

    keeper = Keeper(w3, keeper_key, KeeperConfig(portfolios=[PortfolioTaskConfig(stack.vault.address, "fork")]))
    records_ = keeper.tick()
    slices = [r for r in records_ if r.kind == "rebalance"]
    assert slices and all(r.status == "success" for r in slices), records_
    view = portfolio_state(stack.vault.functions.state().call())
    assert sum(a["balance"] > 0 for a in view["assets"]) >= 1
    assert view["trackingErrorWad"] < view["targetVolWad"]
    # the forked chain never saw the deposit or the trades
    testnet_vault = base.portfolio.contracts["vault"].address
    assert int(stack.quote.functions.balanceOf(stack.vault.address).call()) > 0
    testnet_quote = testnet.web3().eth.contract(address=stack.quote.address, abi=stack.quote.abi)
    assert int(testnet_quote.functions.balanceOf(stack.vault.address).call()) == 0
    assert int(testnet_quote.functions.balanceOf(testnet_vault).call()) == 0
