"""`hedgevault status` of a portfolio vault through the real CLI against the session Anvil (frozen clock): a
stack deployed by `hedgevault deploy --stack portfolio`, 20 days of daily feed rounds (pools moved along), a
deposit and a few rebalancing slices; the status shows weights against targets and bands, the ex-ante vol
against the band, the realised vol computed from the feeds (checked here against numpy on the prices written),
the tracking error and the slippage budget; with stale feeds it says which oracle error stopped the valuation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rpccount import CountingProxy
from web3 import Web3

from hedgevault.chain import Node, warp
from hedgevault.cli import main
from hedgevault.deployment import load_manifest
from hedgevault.deployment.portfolio import PortfolioStack, attach_portfolio
from hedgevault.keeper.portfolio import portfolio_state
from hedgevault.txs import send

WAD = 10**18
#: The depositor of ``invested`` (Anvil's account 2).
ALICE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
#: Round trips of the whole `status --json --account` command on this module's stack (measured; a new one-by-one
#: read makes it grow).
ROUND_TRIPS = 11
DAY = 86_400
DAYS = 20


@pytest.fixture(scope="module")
def invested(
    node: Node, w3: Web3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, PortfolioStack, list]]:
    """The stack, then ``DAYS`` daily rounds of every feed (each pool moved to the price first, the TWAP window
    waited), the covariance posted again, a 1,000,000 deposit and three slices. Yields the manifest, the
    stack and the prices written; the session chain (its clock too) is reverted after the module, so the
    20 days this module moves it never reach the other modules' suites."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield _invest(node, w3, tmp_path_factory)
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _invest(node: Node, w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PortfolioStack, list]:
    path = tmp_path_factory.mktemp("portfolio-status") / "manifest.json"
    args = ["deploy", "--rpc-url", node.url, "--manifest", str(path), "--anvil-account", "0", "--stack", "portfolio"]
    assert main(args) == 0
    stack = attach_portfolio(w3, load_manifest(path))
    admin, trader = str(w3.eth.accounts[0]), str(w3.eth.accounts[5])
    rng = np.random.default_rng(5)
    prices = [[a.price_wad for a in stack.config.assets]]
    for _ in range(DAYS):
        row = [int(p * np.exp(0.03 * rng.standard_normal())) for p in prices[-1]]
        prices.append(row)
        warp(w3, DAY - 601)
        for i, price in enumerate(row):
            stack.move_pool_price(i, price, trader)
        warp(w3, 601)
        for i, price in enumerate(row):
            # the admin posts (a mock feed: anyone may)
            send(w3, stack.assets[i].feed.functions.setAnswer(stack.feed_answer(i, price)), admin)
    assert stack.vault is not None
    vols_word, words = stack.config.initial_post()  # the first post is 20 days old: the keeper (admin) re-posts
    send(w3, stack.cov_oracle.functions.post(vols_word, list(words)), admin)
    depositor = str(w3.eth.accounts[2])
    units = 1_000_000 * 10**stack.quote_decimals
    send(w3, stack.quote.functions.mint(depositor, units), depositor)
    send(w3, stack.quote.functions.approve(stack.vault.address, units), depositor)
    send(w3, stack.vault.functions.deposit(units, depositor), depositor)
    for _ in range(3):
        needed, data = stack.vault.functions.checkUpkeep(b"").call()
        assert needed
        send(w3, stack.vault.functions.performUpkeep(data), trader)
    return path, stack, prices


@pytest.fixture
def isolated(w3: Web3, invested: tuple[Path, PortfolioStack, list]) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _status(node: Node, path: Path, *extra: str) -> int:
    return main(["status", "--rpc-url", node.url, "--manifest", str(path), *extra])


def test_status_json_has_the_vaults_figures_and_the_realised_vols(
    node: Node, invested: tuple[Path, PortfolioStack, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, stack, prices = invested
    capsys.readouterr()
    assert _status(node, path, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"portfolio"}  # no option vault in this manifest
    p = data["portfolio"]
    assert stack.vault is not None
    assert p["state"] == portfolio_state(stack.vault.functions.state().call())
    assert p["state"]["navQuote"] > 0 and any(a["balance"] > 0 for a in p["state"]["assets"])
    # realised vol: daily log returns of the prices written, annualised by sqrt(365), sample std
    answers = np.array(
        [[stack.feed_answer(i, price) for i, price in enumerate(row)] for row in prices], dtype=np.float64
    )
    returns = np.diff(np.log(answers), axis=0)
    expected = returns.std(axis=0, ddof=1) * np.sqrt(365.0)
    assert p["realised"]["days"] == DAYS
    assert np.allclose(p["realised"]["assets"], expected, rtol=1e-12, atol=0)
    w = np.array([a["weightWad"] for a in p["state"]["assets"]], dtype=np.float64) / WAD
    assert p["realised"]["portfolio"] == pytest.approx(float((returns @ w).std(ddof=1) * np.sqrt(365.0)), rel=1e-12)
    assert p["targets"]["set_at"] > 0 and p["rules"]["mode"] == "TARGET_VOL"


def test_status_text_shows_weights_bands_vols_and_budget(
    node: Node, invested: tuple[Path, PortfolioStack, list], capsys: pytest.CaptureFixture[str]
) -> None:
    path, stack, _ = invested
    capsys.readouterr()
    assert _status(node, path) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"portfolio vault {stack.vault.address}")  # type: ignore[union-attr]
    for needle in ("NAV", "weight   target   band", "ex-ante vol", "(band 18.00% - 22.00%)", "tracking error"):
        assert needle in out, out
    assert "left of" in out and "realised vol        current weights" in out and "(daily, last 20 days)" in out
    assert "last targets" in out and "covariance          epoch" in out


def test_status_with_stale_feeds_says_why_and_still_answers(
    node: Node,
    w3: Web3,
    invested: tuple[Path, PortfolioStack, list],
    capsys: pytest.CaptureFixture[str],
    isolated: None,
) -> None:
    path, _, _ = invested
    warp(w3, 2 * 3600)  # past the feeds' 1 h heartbeat: the price oracles fail closed
    capsys.readouterr()
    assert _status(node, path) == 0
    out = capsys.readouterr().out
    assert "state               unavailable: FeedStale(" in out, out
    assert "rebalance needed    no" in out  # checkUpkeep answers false (it never reverts)


def test_status_reads_in_a_few_round_trips(
    node: Node, invested: tuple[Path, PortfolioStack, list], capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole `status --json --account` command: the chain's identity and every recorded code in two batches,
    the views at one block in one, the account's shares in quote in one, the feeds' 20 days of rounds in a few
    (it was one request per view call and per recorded contract: 52 round trips)."""
    path, _, _ = invested
    proxy = CountingProxy(node.url)
    try:
        capsys.readouterr()
        args = ["status", "--json", "--account", ALICE, "--rpc-url", proxy.url, "--manifest", str(path)]
        assert main(args) == 0
        data = json.loads(capsys.readouterr().out)["portfolio"]
        assert data["account"]["shares"] > 0 and data["realised"]["days"] == DAYS
        assert proxy.count == ROUND_TRIPS, " | ".join(proxy.methods)
    finally:
        proxy.close()
