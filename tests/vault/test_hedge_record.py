"""The vault's record of a long hedge (``BookMarking.hedgePosition`` / ``recordHedge``, issue 10's gas work).

Deposits, withdrawals and trades value a long hedge from the vault's own record (slot 7 of the marks'
storage, beside the payouts owed) instead of calling ``IHedger.position``: a long position changes only through
the vault's orders (``IHedger``), and each order records the position it leaves. A short position (debt and
collateral with their interest, third-party repayments, liquidations) is always read from the hedger, and so
is every position an upkeep values (its order trades from the hedger's real position).

Underlying given to the hedger while the hedge is long (a donation) is counted from the next order on, never
before: these tests give it both ways (long: counted at the next upkeep; short: counted at once) and check
that the donor cannot take depositors' money with it. The invariant that the record equals the hedger's
position after every operation without donations is ``VM_HEDGE_RECORD`` in test_stateful.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from vaultkit import DAY, WAD, Actors, book, buy, calls_to, deposit, fund, list_series, now, q, refresh_feed
from web3 import Web3
from web3.logs import DISCARD

from hedgevault.chain import warp
from hedgevault.suite import HedgerParams, Suite, SuiteConfig, deploy_suite
from hedgevault.txs import send


@pytest.fixture(scope="module")
def spot_suite(w3: Web3) -> Iterator[Suite]:
    """A suite with the long-only ``SpotHedger``, deployed inside a snapshot reverted after this module."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield deploy_suite(w3, SuiteConfig(hedger=HedgerParams(kind="spot")))
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _upkeep(s: Suite, actors: Actors) -> Any:
    s.move_pool_price(book(s)["spot_wad"], actors.other)
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed
    return send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)


def _position(s: Suite) -> tuple[int, int]:
    p = s.hedger.functions.position(book(s)["spot_wad"], s.config.risk.spot_shock_up_bps).call()
    return int(p[0]), int(p[1])


def _long_hedge(s: Suite, actors: Actors) -> int:
    """Sell ATM week calls and hedge them long (one upkeep); return the call's id."""
    deposit(s, actors.depositor, q(s, 1_000_000))
    call = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call, 60 * WAD)
    _upkeep(s, actors)
    assert book(s)["hedge_wad"] > 0
    return call


def _short_hedge(s: Suite, actors: Actors) -> None:
    deposit(s, actors.depositor, q(s, 1_000_000))
    put = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, False)
    buy(s, actors.buyer, put, 100 * WAD)
    _upkeep(s, actors)
    assert book(s)["hedge_wad"] < 0


@pytest.mark.parametrize("which", ["aave", "spot"])
def test_a_long_hedge_is_valued_from_the_record_without_a_call(
    suite: Suite, spot_suite: Suite, actors: Actors, which: str
) -> None:
    s = suite if which == "aave" else spot_suite
    call = _long_hedge(s, actors)
    b = book(s)
    assert (b["hedge_wad"], b["collateral"]) == _position(s)
    # deposit, withdraw and buy value the long hedge from the record: no call to the hedger
    fund(s, actors.depositor2, q(s, 10_000))
    fund(s, actors.buyer, q(s, 10_000))
    r_deposit = send(s.w3, s.vault.functions.deposit(q(s, 10_000), actors.depositor2), actors.depositor2)
    withdraw = s.vault.functions.withdraw(q(s, 1_000), actors.depositor, actors.depositor)
    r_withdraw = send(s.w3, withdraw, actors.depositor)
    r_buy = send(s.w3, s.vault.functions.buy(call, WAD, 2**255, actors.buyer), actors.buyer)
    assert [calls_to(s, r, s.hedger.address) for r in (r_deposit, r_withdraw, r_buy)] == [0, 0, 0]
    # the record keeps the hedger's kind (a long-only hedger clamps the target at zero)
    assert s.hedger.functions.canShort().call() is (which == "aave")
    # an upkeep reads the hedger and records what its order leaves
    _upkeep(s, actors)
    b = book(s)
    assert (b["hedge_wad"], b["collateral"]) == _position(s)


def test_a_short_hedge_is_read_from_the_hedger(suite: Suite, actors: Actors) -> None:
    s = suite
    _short_hedge(s, actors)
    fund(s, actors.depositor2, q(s, 10_000))
    r = send(s.w3, s.vault.functions.deposit(q(s, 10_000), actors.depositor2), actors.depositor2)
    assert calls_to(s, r, s.hedger.address) == 1
    # interest accrues between orders and is counted at once (the record does not stand in for a short)
    before = book(s)
    warp(s.w3, 3600)
    refresh_feed(s)
    after = book(s)
    assert after["hedge_wad"] < before["hedge_wad"], "the debt's interest lowers the hedge at once"
    assert (after["hedge_wad"], after["collateral"]) == _position(s)


def test_a_donation_to_a_long_hedge_counts_from_the_next_order(suite: Suite, actors: Actors) -> None:
    """Underlying given to the hedger while long: deposits, withdrawals and trades do not see it (the record), the
    upkeep does (it reads the hedger) and its order records it. A donor who deposits before that upkeep and
    leaves after it gets back less than the donation and the deposit: the depositors' share price never falls."""
    s = suite
    _long_hedge(s, actors)
    v = s.vault.functions
    unit = 10 ** v.decimals().call()
    price_before = v.convertToAssets(unit).call()
    hedge_before = book(s)["hedge_wad"]
    donation = 5 * WAD
    send(s.w3, s.underlying.functions.mint(actors.attacker, donation), actors.attacker)
    send(s.w3, s.underlying.functions.transfer(s.hedger.address, donation), actors.attacker)
    assert book(s)["hedge_wad"] == hedge_before, "not counted before the next order"
    assert v.convertToAssets(unit).call() == price_before
    # the attacker deposits before the upkeep that counts the donation
    stake = q(s, 100_000)
    shares = deposit(s, actors.attacker, stake)
    assert shares > 0
    warp(s.w3, s.config.hedge.hedge_interval_sec)
    refresh_feed(s)
    _upkeep(s, actors)
    b = book(s)
    assert (b["hedge_wad"], b["collateral"]) == _position(s), "the order recorded the donation"
    assert v.convertToAssets(unit).call() >= price_before, "the depositors' share price did not fall"
    # the attacker leaves with all it may: less than its stake plus the donation's value
    max_w = v.maxWithdraw(actors.attacker).call()
    send(s.w3, v.withdraw(max_w, actors.attacker, actors.attacker), actors.attacker)
    left = v.convertToAssets(v.balanceOf(actors.attacker).call()).call()
    donation_value = donation * b["spot_wad"] // WAD // 10 ** (18 - s.config.quote_decimals)
    assert max_w + left < stake + donation_value, "the donor loses"


def test_a_donation_to_a_short_hedge_counts_at_once(suite: Suite, actors: Actors) -> None:
    s = suite
    _short_hedge(s, actors)
    v = s.vault.functions
    unit = 10 ** v.decimals().call()
    price_before = v.convertToAssets(unit).call()
    hedge_before = book(s)["hedge_wad"]
    donation = 2 * WAD
    send(s.w3, s.underlying.functions.mint(actors.attacker, donation), actors.attacker)
    send(s.w3, s.underlying.functions.transfer(s.hedger.address, donation), actors.attacker)
    assert book(s)["hedge_wad"] == hedge_before + donation, "a short position is read: the donation counts at once"
    assert v.convertToAssets(unit).call() > price_before


def test_a_hedge_beyond_the_record_is_read_from_the_hedger(spot_suite: Suite, actors: Actors) -> None:
    """A long hedge of 2^112 wad or more does not fit the record: the order leaves it unknown, and every
    valuation reads the hedger (a donation that large cannot stop the vault)."""
    s = spot_suite
    _long_hedge(s, actors)
    huge = 2**113
    send(s.w3, s.underlying.functions.mint(s.hedger.address, huge), actors.attacker)
    # the upkeep sells what one slice can of the excess and records the rest as unknown
    receipt = _upkeep(s, actors)
    events = [dict(e["args"]) for e in s.vault.events.Hedged().process_receipt(receipt, errors=DISCARD)]
    assert len(events) == 1 and events[0]["hedgeChangeWad"] < 0
    held = s.underlying.functions.balanceOf(s.hedger.address).call()
    assert held >= 2**112
    b = book(s)
    assert (b["hedge_wad"], b["collateral"]) == _position(s) == (held, 0)
    fund(s, actors.depositor2, q(s, 10_000))
    r = send(s.w3, s.vault.functions.deposit(q(s, 10_000), actors.depositor2), actors.depositor2)
    assert calls_to(s, r, s.hedger.address) == 1
