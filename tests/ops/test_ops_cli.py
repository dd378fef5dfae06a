"""`hedgevault deploy`, then a depositor's and a buyer's commands and `status`, through the real CLI
entry point against the session Anvil (signed with Anvil's dev keys, as `--anvil-account` does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from hedgevault.chain import Node, latest_timestamp
from hedgevault.cli import main
from hedgevault.deployment import attach_suite, load_manifest
from hedgevault.keys import anvil_account
from hedgevault.suite import Suite
from hedgevault.txs import send

WAD = 10**18


@pytest.fixture(scope="module")
def deployed(node: Node, w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Suite]:
    manifest = tmp_path_factory.mktemp("ops-cli") / "manifest.json"
    assert main(["deploy", "--rpc-url", node.url, "--manifest", str(manifest), "--anvil-account", "0"]) == 0
    suite = attach_suite(w3, load_manifest(manifest))
    depositor = anvil_account(3).address
    send(w3, suite.quote.functions.mint(depositor, suite.quote_units(10_000)), suite.admin)
    return manifest, suite


def _cli(node: Node, manifest: Path, *args: str) -> int:
    return main([args[0], "--rpc-url", node.url, "--manifest", str(manifest), *args[1:]])


def test_deposit_buy_status_withdraw(
    node: Node, deployed: tuple[Path, Suite], capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, suite = deployed
    w3 = suite.w3
    assert _cli(node, manifest, "deposit", "--anvil-account", "3", "--amount", "5000") == 0
    assert "deposit: " in capsys.readouterr().out
    shares = int(suite.vault.functions.balanceOf(anvil_account(3).address).call())
    assert shares > 0

    expiry = latest_timestamp(w3) + 7 * 86_400
    send(w3, suite.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), suite.admin)
    send(w3, suite.vault.functions.listSeries(expiry, 3000 * WAD, False), suite.admin)
    series_id = str(suite.vault.functions.liveSeries().call()[-1])
    assert _cli(node, manifest, "buy", "--anvil-account", "3", "--series", series_id, "--amount", "0.5") == 0
    assert "buy: " in capsys.readouterr().out

    assert _cli(node, manifest, "status", "--json", "--account", anvil_account(3).address) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["account"]["shares"] == shares
    assert status["series"][-1]["held_wad"] == WAD // 2
    assert status["hedger"]["can_short"] and set(status["hedger"]["details"]) >= {"debtWad", "collateral"}
    assert {"hedgeWad", "collateral", "claimReserve", "netDeltaWad"} <= set(status["book"])
    assert _cli(node, manifest, "status") == 0
    out = capsys.readouterr().out
    assert "health factor" in out and "fees owed" in out and "swing" in out
    assert "Aave HF" in out and "claims' reserve" in out
    assert "EXIT MODE" not in out

    # anyone may re-mark the cached book; an outage can only be reported while the oracles fail
    assert _cli(node, manifest, "remark", "--anvil-account", "5") == 0
    assert "re-mark: " in capsys.readouterr().out
    assert _cli(node, manifest, "report-outage", "--anvil-account", "5") == 2
    assert "there is no outage to report" in capsys.readouterr().err

    # the buy's fee is owed in the vault until anyone collects it for the fee recipient
    recipient = suite.vault.functions.feeRecipient().call()
    owed = int(suite.vault.functions.feesOwed().call())
    before = int(suite.quote.functions.balanceOf(recipient).call())
    assert _cli(node, manifest, "collect-fees", "--anvil-account", "5") == 0
    assert "collect fees: " in capsys.readouterr().out
    assert int(suite.quote.functions.balanceOf(recipient).call()) - before == owed - 1
    assert _cli(node, manifest, "collect-fees", "--anvil-account", "5") == 2
    assert "no trading fees are owed" in capsys.readouterr().err

    assert _cli(node, manifest, "withdraw", "--anvil-account", "3", "--all") == 0
    assert int(suite.vault.functions.balanceOf(anvil_account(3).address).call()) < shares


def test_bad_input_is_a_message_not_a_traceback(
    node: Node, deployed: tuple[Path, Suite], capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, _ = deployed
    assert _cli(node, manifest, "deposit", "--anvil-account", "3", "--amount", "1.0000001") == 2
    assert "more than 6 decimals" in capsys.readouterr().err
    assert _cli(node, manifest, "withdraw", "--anvil-account", "3") == 2
    assert "one of the arguments --amount --all is required" in capsys.readouterr().err
    assert _cli(node, manifest, "buy", "--anvil-account", "3", "--series", "999", "--amount", "1") == 2
    assert "UnknownSeries(seriesId=999)" in capsys.readouterr().err
    assert main(["status", "--manifest", str(manifest)]) == 2
    assert "--rpc-url" in capsys.readouterr().err
