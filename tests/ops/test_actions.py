"""Depositor and buyer actions (hedgevault.ops) and the status report, against the real suite on the
session Anvil, signed locally with Anvil's dev keys (the path a testnet user takes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from hedgevault.chain import latest_timestamp, warp
from hedgevault.keys import anvil_account
from hedgevault.ops import actions
from hedgevault.ops.actions import ActionError
from hedgevault.ops.status import format_status, hedger_lines, vault_status
from hedgevault.reverts import describe_data
from hedgevault.suite import Suite, SuiteConfig, deploy_suite
from hedgevault.txs import send
from hedgevault.units import from_wad

WAD = 10**18
DAY = 86_400


@pytest.fixture(scope="module")
def suite(w3: Web3) -> Suite:
    return deploy_suite(w3, SuiteConfig(quote_decimals=6))


@pytest.fixture(autouse=True)
def _isolate(w3: Web3, suite: Suite) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture
def depositor(suite: Suite) -> LocalAccount:
    account = anvil_account(1)
    send(suite.w3, suite.quote.functions.mint(account.address, suite.quote_units(100_000)), suite.admin)
    return account


@pytest.fixture
def buyer(suite: Suite) -> LocalAccount:
    account = anvil_account(2)
    send(suite.w3, suite.quote.functions.mint(account.address, suite.quote_units(100_000)), suite.admin)
    return account


def _list_call(suite: Suite, days: int = 7, strike: int = 3000) -> int:
    expiry = latest_timestamp(suite.w3) + days * DAY
    send(suite.w3, suite.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), suite.admin)
    send(suite.w3, suite.vault.functions.listSeries(expiry, strike * WAD, True), suite.admin)
    return int(suite.vault.functions.liveSeries().call()[-1])


def test_deposit_then_withdraw_everything(suite: Suite, depositor: LocalAccount) -> None:
    out = actions.deposit(suite, depositor, suite.quote_units(50_000))
    assert out.values["assets"] == suite.quote_units(50_000)
    assert out.values["shares"] == int(suite.vault.functions.balanceOf(depositor.address).call()) > 0
    before = int(suite.quote.functions.balanceOf(depositor.address).call())
    out = actions.withdraw(suite, depositor, None)
    assert int(suite.vault.functions.balanceOf(depositor.address).call()) == 0
    # rounding is against the user, by at most one unit
    assert suite.quote_units(50_000) - 1 <= out.values["assets"] <= suite.quote_units(50_000)
    assert int(suite.quote.functions.balanceOf(depositor.address).call()) == before + out.values["assets"]


def test_withdraw_more_than_allowed_says_the_limit_and_sends_nothing(suite: Suite, depositor: LocalAccount) -> None:
    actions.deposit(suite, depositor, suite.quote_units(1_000))
    nonce = suite.w3.eth.get_transaction_count(depositor.address)
    # in the tokens a user types, not in units (1000 tUSD, not 1000000000)
    with pytest.raises(ActionError, match=r"at most 1000 tUSD can be withdrawn"):
        actions.withdraw(suite, depositor, suite.quote_units(2_000))
    assert suite.w3.eth.get_transaction_count(depositor.address) == nonce


def test_deposit_more_than_held_is_refused(suite: Suite) -> None:
    with pytest.raises(
        ActionError, match=r"holds 0 tUSD, less than the 1 tUSD to deposit \(dev chains: `hedgevault faucet"
    ):
        actions.deposit(suite, anvil_account(5), suite.quote_units(1))
    with pytest.raises(ActionError, match="must be positive"):
        actions.deposit(suite, anvil_account(5), 0)


def test_buy_sell_and_the_slippage_bounds(suite: Suite, depositor: LocalAccount, buyer: LocalAccount) -> None:
    actions.deposit(suite, depositor, suite.quote_units(50_000))
    series_id = _list_call(suite)
    premium, fee = suite.vault.functions.quoteBuy(series_id, 2 * WAD).call()
    out = actions.buy(suite, buyer, series_id, 2 * WAD)
    assert (out.values["premium"], out.values["fee"]) == (premium, fee)
    assert int(suite.option_token.functions.balanceOf(buyer.address, series_id).call()) == 2 * WAD
    # a max premium below the quote is refused with the vault's own error, named, and a hint
    with pytest.raises(
        ActionError, match=r"PremiumAboveMax\(premiumWithFee=\d+\.\d+, maxPremium=0\.000001\): the price moved"
    ):
        actions.buy(suite, buyer, series_id, WAD, max_premium=1)
    proceeds, _ = suite.vault.functions.quoteSell(series_id, WAD).call()
    out = actions.sell(suite, buyer, series_id, WAD)
    assert out.values["proceeds"] == proceeds
    with pytest.raises(ActionError, match="ProceedsBelowMin"):
        actions.sell(suite, buyer, series_id, WAD, min_proceeds=proceeds * 2)
    with pytest.raises(ActionError, match="slippage"):
        actions.sell(suite, buyer, series_id, WAD, slippage_bps=-1)


def test_claim_before_and_after_settlement(suite: Suite, depositor: LocalAccount, buyer: LocalAccount) -> None:
    actions.deposit(suite, depositor, suite.quote_units(50_000))
    series_id = _list_call(suite, days=2, strike=2900)
    actions.buy(suite, buyer, series_id, WAD)
    with pytest.raises(ActionError, match=r"NotSettled.*must settle it first"):
        actions.claim(suite, buyer, series_id)
    warp(suite.w3, 2 * DAY + 1)
    suite.set_feed_price(3100 * WAD)
    expiry = int(suite.vault.functions.series(series_id).call()[0])
    round_id = int(suite.price_oracle.functions.firstRoundAtOrAfter(expiry).call())
    send(suite.w3, suite.vault.functions.settle(expiry, round_id), suite.admin)
    out = actions.claim(suite, buyer, series_id)
    assert out.values["payout"] == suite.quote_units(200)  # (3100 - 2900) x 1 option
    with pytest.raises(ActionError, match="NothingToClaim"):
        actions.claim(suite, buyer, series_id)


def test_status_reports_the_book_and_the_account(suite: Suite, depositor: LocalAccount, buyer: LocalAccount) -> None:
    actions.deposit(suite, depositor, suite.quote_units(50_000))
    series_id = _list_call(suite)
    actions.buy(suite, buyer, series_id, 3 * WAD)
    status = vault_status(suite, buyer.address)
    book = suite.book_view()
    assert status["total_assets"] == int(suite.vault.functions.totalAssets().call())
    assert status["book"]["healthFactorWad"] == book["healthFactorWad"]
    assert status["book"]["netDeltaWad"] == book["bookDeltaWad"] + book["hedgeWad"]
    (row,) = [dict(r) for r in status["series"]]
    quoted = {k: row.pop(k) for k in ("bid", "ask", "iv", "state", "expiry_date")}
    assert row == {
        "id": series_id,
        "expiry": row["expiry"],
        "type": "call",
        "strike_wad": 3000 * WAD,
        "open_interest_wad": 3 * WAD,
        "held_wad": 3 * WAD,
    }
    # the quote of a 0.01 option, per option: the sale below the purchase, both around the mark
    premium, fee = suite.vault.functions.quoteBuy(series_id, WAD // 100).call()
    assert Decimal(quoted["ask"]) == Decimal(premium + fee) * 100 / 10**6
    assert 0 < Decimal(quoted["bid"]) < Decimal(quoted["ask"])
    assert quoted["state"] == "live" and quoted["expiry_date"].endswith("UTC")
    assert status["parameters"]["risk"]["hfFloorWad"] == suite.config.risk.hf_floor_wad
    text = format_status(status)
    assert "health factor" in text and f"#{series_id}" in text and "held 3" in text


def test_status_shows_the_aave_hedge(suite: Suite, depositor: LocalAccount, buyer: LocalAccount) -> None:
    """Puts sold and hedged: the hedge is a short borrowed on Aave against collateral; status shows the long,
    the debt, the collateral, Aave's health factor now and under the vault's 20% spot-up shock, the rates
    (ray a year as % a year), the signed hedge, the net delta and the claims' reserve (text and JSON)."""
    actions.deposit(suite, depositor, suite.quote_units(100_000))
    expiry = latest_timestamp(suite.w3) + 7 * DAY
    send(suite.w3, suite.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), suite.admin)
    send(suite.w3, suite.vault.functions.listSeries(expiry, 3000 * WAD, False), suite.admin)
    series_id = int(suite.vault.functions.liveSeries().call()[-1])
    actions.buy(suite, buyer, series_id, 10 * WAD)
    send(suite.w3, suite.vault.functions.performUpkeep(b""), suite.admin)
    status = vault_status(suite)
    hedger = status["hedger"]
    d = hedger["details"]
    assert hedger["can_short"] and hedger["shock_up_bps"] == suite.config.risk.spot_shock_up_bps
    assert d["longWad"] == 0 and d["debtWad"] > 4 * WAD and d["collateral"] == status["book"]["collateral"] > 0
    assert status["book"]["hedgeWad"] == -d["debtWad"]
    # Aave's HF (collateral x 85% / debt value) divided by 1.2 under the shock
    assert d["healthFactorShockWad"] == d["healthFactorWad"] * 10_000 // 12_000
    assert d["borrowRateRay"] > 0
    text = format_status(status)
    for line in ("debt ", "Aave HF ", "with the spot 20% up", "rates ", "% a year", "claims' reserve", "held - owed"):
        assert line in text, line
    assert f"hedge               -{from_wad(d['debtWad'], 6)} underlying" in text
    json.dumps(status, default=str)  # what `status --json` prints


def test_status_of_a_long_only_hedger_says_so() -> None:
    """A SpotHedger has no lending leg: status says so and shows only what it holds."""
    hedger = {"address": "0x" + "11" * 20, "can_short": False, "shock_up_bps": 2000, "details_error": None}
    hedger["details"] = {
        "longWad": 3 * WAD,
        "debtWad": 0,
        "collateral": 0,
        "healthFactorWad": 2**256 - 1,
        "healthFactorShockWad": 2**256 - 1,
        "borrowRateRay": 0,
        "supplyRateRay": 0,
    }
    lines = "\n".join(hedger_lines(hedger, str))
    assert "long-only hedger" in lines and "spot held (long)  3 underlying" in lines
    assert "Aave HF" not in lines and "debt" not in lines


def test_status_says_why_the_book_is_unavailable(suite: Suite, depositor: LocalAccount) -> None:
    actions.deposit(suite, depositor, suite.quote_units(1_000))
    warp(suite.w3, 2 * 3600)  # past the feed's heartbeat: the vault fails closed
    status = vault_status(suite)
    assert status["book"] is None and str(status["book_error"]).startswith("FeedStale(")
    assert "unavailable: FeedStale(" in format_status(status)


def test_revert_data_is_named() -> None:
    selector = Web3.keccak(text="HealthFactorTooLow(uint256,uint256)")[:4]
    data = selector + (5).to_bytes(32, "big") + (6).to_bytes(32, "big")
    assert describe_data(data) == "HealthFactorTooLow(healthFactorWad=5, floorWad=6)"
    panic = bytes.fromhex("4e487b71") + (0x11).to_bytes(32, "big")
    assert describe_data(panic) == "Panic(0x11)"
    assert describe_data(b"\x12\x34\x56\x78").startswith("unknown revert 0x12345678")
    assert describe_data(b"") == "reverted without a reason"


def test_bytes32_names_read_as_text() -> None:
    selector = Web3.keccak(text="ParamOutOfBounds(bytes32,int256,int256,int256)")[:4]
    data = (
        selector + b"spreadBps".ljust(32, b"\0") + (5000).to_bytes(32, "big") + bytes(32) + (2000).to_bytes(32, "big")
    )
    assert describe_data(data) == "ParamOutOfBounds(name=spreadBps, value=5000, min=0, max=2000)"
