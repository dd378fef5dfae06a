"""`hedgevault deploy --stack portfolio|both`: the portfolio stack (mock assets with feeds, Uniswap V3 pools and
price oracles, the covariance oracle with its first post, the vault linked to its engine with its first targets)
deployed behind the timelock, recorded, reused without sending, checked by `deploy --check` (a lost role, a
changed config), refused to an attacker, and shown by `hedgevault status`.

The module's chain gets the portfolio stack alone once (``portfolio_manifest``, by `hedgevault deploy --stack
portfolio` with the defaults: timelock 24 h, keeper and guardian = the deployer); tests that change the chain
run between ``evm_snapshot`` and ``evm_revert`` (``isolated``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from flows import Run
from web3 import Web3
from web3.exceptions import ContractCustomError

from hedgevault.chain import Node
from hedgevault.deployment import load_manifest
from hedgevault.deployment.portfolio import DEFAULT_ADMIN_ROLE, attach_portfolio
from hedgevault.keys import anvil_account
from hedgevault.portfolio import mirror
from hedgevault.portfolio.config import PortfolioConfig, initial_targets
from hedgevault.reverts import decode_error
from hedgevault.txs import send_signed

WAD = 10**18


@pytest.fixture(scope="module")
def portfolio_manifest(chain: Node, tmp_path_factory: pytest.TempPathFactory, hv_module: Callable[..., Run]) -> Path:
    path = tmp_path_factory.mktemp("portfolio") / "portfolio.json"
    run = hv_module("deploy", "--rpc-url", chain.url, "--manifest", path, "--stack", "portfolio")
    assert run.code == 0, run.err
    return path


@pytest.fixture(scope="module")
def hv_module() -> Callable[..., Run]:
    """`hedgevault` in-process for module fixtures (output not captured: the tests check the manifest)."""
    from hedgevault.cli import main

    def run(*argv: str | Path) -> Run:
        return Run(main([str(a) for a in argv]), "", "")

    return run


@pytest.fixture
def isolated(w3: Web3, portfolio_manifest: Path) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _nonce(w3: Web3, account: LocalAccount) -> int:
    return int(w3.eth.get_transaction_count(account.address))


def test_portfolio_stack_alone_is_deployed_wired_and_handed_to_the_timelock(
    w3: Web3, portfolio_manifest: Path, deployer: LocalAccount
) -> None:
    manifest = load_manifest(portfolio_manifest)
    assert manifest.vault_stack is None and manifest.portfolio is not None and manifest.governance is not None
    symbols = [a.symbol for a in PortfolioConfig().assets]
    expected = {f"{k}:{s}" for s in symbols for k in ("token", "feed", "pool", "price_oracle")}
    assert set(manifest.portfolio.contracts) == expected | {"cov_oracle", "engine", "vault"}
    stack = attach_portfolio(w3, manifest)
    assert stack.vault is not None and stack.timelock is not None
    tokens = [a.token.address for a in stack.assets]
    assert list(stack.cov_oracle.functions.assets().call()) == tokens
    assert [tuple(h) for h in stack.vault.functions.holdings().call()] == [
        (a.token.address, a.price_oracle.address, a.pool.address) for a in stack.assets
    ]
    assert [a.decimals for a in stack.assets] == [18, 8, 9]
    for a in stack.assets:  # each price oracle answers: pools seeded at the feed price, TWAP warmed up
        assert int(a.price_oracle.functions.spotWad().call()) == stack.config.assets[stack.assets.index(a)].price_wad
    # the first covariance and the first targets, as the config says
    vols_word, words = stack.config.initial_post()
    assert stack.cov_oracle.functions.packed().call()[:2] == [vols_word, list(words)]
    weights, vol_wad, set_at = stack.vault.functions.targets().call()
    assert tuple(weights) == initial_targets(stack.config) and set_at > 0
    assert vol_wad == mirror.verify(weights, stack.config.initial_covariance_wad(), stack.config.target_rules())
    # roles: the keeper (the deployer by default) posts; the timelock alone is admin
    keeper = deployer.address
    cov_role = stack.cov_oracle.functions.COV_UPDATER_ROLE().call()
    target_role = stack.vault.functions.TARGET_SETTER_ROLE().call()
    assert stack.cov_oracle.functions.hasRole(cov_role, keeper).call()
    assert stack.vault.functions.hasRole(target_role, keeper).call()
    for contract in (stack.vault, stack.cov_oracle, *(a.price_oracle for a in stack.assets)):
        assert contract.functions.hasRole(DEFAULT_ADMIN_ROLE, stack.timelock.address).call()
        assert not contract.functions.hasRole(DEFAULT_ADMIN_ROLE, deployer.address).call()


def test_second_run_sends_nothing_and_check_matches(
    hv: Callable[..., Run], chain: Node, w3: Web3, portfolio_manifest: Path, deployer: LocalAccount
) -> None:
    before_text, before_nonce = portfolio_manifest.read_text(), _nonce(w3, deployer)
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", portfolio_manifest, "--stack", "portfolio")
    assert run.code == 0, run.err
    assert "0 deployed" in run.out and "0 transactions sent" in run.out
    assert _nonce(w3, deployer) == before_nonce and portfolio_manifest.read_text() == before_text
    check = hv("deploy", "--rpc-url", chain.url, "--manifest", portfolio_manifest, "--check")
    assert check.code == 0, check.err


def test_a_lost_role_is_reported_by_check(
    hv: Callable[..., Run], chain: Node, w3: Web3, portfolio_manifest: Path, deployer: LocalAccount, isolated: None
) -> None:
    stack = attach_portfolio(w3, load_manifest(portfolio_manifest))
    assert stack.vault is not None
    role = stack.vault.functions.TARGET_SETTER_ROLE().call()
    send_signed(w3, stack.vault.functions.renounceRole(role, deployer.address), deployer)
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", portfolio_manifest, "--check")
    assert run.code == 2
    assert f"portfolio.vault: {deployer.address} lacks TARGET_SETTER_ROLE (portfolio.keepers)" in run.err


def test_a_changed_portfolio_config_is_refused_before_sending(
    hv: Callable[..., Run], chain: Node, w3: Web3, portfolio_manifest: Path, deployer: LocalAccount
) -> None:
    before = _nonce(w3, deployer)
    run = hv(
        "deploy", "--rpc-url", chain.url, "--manifest", portfolio_manifest, "--stack", "portfolio",
        "--set", "portfolio.rules.max_vol_wad=0.25e18",
    )  # fmt: skip
    assert run.code == 2
    assert "portfolio.rules.max_vol_wad: manifest 220000000000000000, config 250000000000000000" in run.err
    assert _nonce(w3, deployer) == before


def test_bad_portfolio_config_is_one_line_before_any_node(hv: Callable[..., Run]) -> None:
    run = hv("deploy", "--stack", "portfolio", "--set", "portfolio.rebalance.max_slippage_bps=900")
    assert run.code == 2
    assert "portfolio.rebalance.max_slippage_bps 900 is outside [1, 500]" in run.err
    assert "Traceback" not in run.err


def test_attacker_cannot_post_covariance_targets_or_parameters(
    w3: Web3, portfolio_manifest: Path, isolated: None
) -> None:
    stack = attach_portfolio(w3, load_manifest(portfolio_manifest))
    assert stack.vault is not None
    attacker = anvil_account(6)
    vols_word, words = stack.config.initial_post()
    attempts = [
        stack.cov_oracle.functions.post(vols_word, list(words)),
        stack.vault.functions.setTargets([0, 0, 0]),
        stack.vault.functions.setRebalanceParams(stack.config.rebalance.as_tuple()),
        stack.assets[0].price_oracle.functions.setParams((1, 1, 1, 1, 1)),
    ]
    for fn in attempts:
        with pytest.raises(ContractCustomError) as info:
            fn.call({"from": attacker.address})
        assert decode_error(str(info.value.data))[0] == "AccessControlUnauthorizedAccount"


def test_status_shows_weights_targets_bands_and_vols(
    hv: Callable[..., Run], chain: Node, portfolio_manifest: Path
) -> None:
    run = hv("status", "--rpc-url", chain.url, "--manifest", portfolio_manifest)
    assert run.code == 0, run.err
    assert "portfolio vault 0x" in run.out
    for needle in ("tWETH", "tWBTC", "tSOL", "ex-ante vol", "tracking error", "slippage budget", "realised vol"):
        assert needle in run.out, run.out
    assert "(band 18.00% - 22.00%)" in run.out
    data = json.loads(hv("status", "--rpc-url", chain.url, "--manifest", portfolio_manifest, "--json").out)
    portfolio = data["portfolio"]
    assert portfolio["symbols"] == ["tWETH", "tWBTC", "tSOL"]
    assert [a["targetWad"] for a in portfolio["state"]["assets"]] == portfolio["targets"]["weights_wad"]
    assert portfolio["state"]["navQuote"] == 0 and portfolio["realised"] is None


def test_both_stacks_on_one_infrastructure(hv: Callable[..., Run], chain: Node, w3: Web3, tmp_path: Path) -> None:
    path = tmp_path / "both.json"
    keeper = anvil_account(5).address
    run = hv(
        "deploy", "--rpc-url", chain.url, "--manifest", path, "--stack", "both",
        "--set", f"portfolio.keepers=[{keeper}]",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert "vault      0x" in run.out and "portfolio  0x" in run.out
    manifest = load_manifest(path)
    assert manifest.vault_stack is not None and manifest.portfolio is not None
    stack = attach_portfolio(w3, manifest)
    assert stack.vault is not None and stack.quote.address == manifest.infrastructure.contracts["quote"].address  # type: ignore[union-attr]
    # the deployer posted the first covariance and targets with roles it renounced after
    deployer = manifest.deployer
    cov_role = stack.cov_oracle.functions.COV_UPDATER_ROLE().call()
    target_role = stack.vault.functions.TARGET_SETTER_ROLE().call()
    assert not stack.cov_oracle.functions.hasRole(cov_role, deployer).call()
    assert not stack.vault.functions.hasRole(target_role, deployer).call()
    assert stack.cov_oracle.functions.hasRole(cov_role, keeper).call()
    assert stack.vault.functions.hasRole(target_role, keeper).call()
    assert int(stack.vault.functions.targets().call()[2]) > 0
    status = hv("status", "--rpc-url", chain.url, "--manifest", path)
    assert status.code == 0 and "health factor" in status.out and "portfolio vault" in status.out
