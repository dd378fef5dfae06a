"""Economic safety (issue 9): each attack of the adversarial review, performed against the real vault on
Anvil with the real Uniswap V3 pool, now failing or losing money. Each test prints the attacker's figure
(``pytest -s``) beside what the same attack made before the defence; the threat model with the residual
figures is in docs/option-vault.md and the table in bench/RESULTS.md.

Time boundaries are tested at their second: ``_mined_at`` mines a transaction in a block of a given
timestamp (Anvil's ``evm_setNextBlockTimestamp``) and returns its status, so "reverts at T - 1, works at
T" is checked on the chain itself, not with a view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from vaultkit import (
    DAY,
    WAD,
    Actors,
    book,
    buy,
    deposit,
    fund,
    list_series,
    move_market,
    now,
    post_vol,
    q,
    refresh_feed,
    reverts,
)
from web3 import Web3
from web3.logs import DISCARD

from hedgevault.chain import warp
from hedgevault.suite import Suite, SuiteConfig, deploy_suite
from hedgevault.txs import send

HOUR = 3600


def report(message: str) -> None:
    print(f"[attack] {message}")


def _snapshot(w3: Web3) -> str:
    return str(w3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]


def _revert(w3: Web3, snapshot: str) -> None:
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def scenario(suite: Suite) -> Iterator[Any]:
    """Run a block of the test and roll the chain back after it (several scenarios in one test)."""
    snapshots: list[str] = []

    class _Scenario:
        def __enter__(self) -> None:
            snapshots.append(_snapshot(suite.w3))

        def __exit__(self, *exc: object) -> None:
            _revert(suite.w3, snapshots.pop())

    yield _Scenario


def _mined_at(s: Suite, timestamp: int, fn: Any, sender: str) -> int:
    """Mine ``fn`` from ``sender`` in a block at ``timestamp`` (fixed gas: no estimate, so a revert is mined
    too); return the receipt's status."""
    s.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
    tx_hash = fn.transact({"from": sender, "gas": 3_000_000})
    return int(s.w3.eth.wait_for_transaction_receipt(tx_hash)["status"])


def _quote_balance(s: Suite, who: str) -> int:
    return int(s.quote.functions.balanceOf(who).call())


def _units(s: Suite, amount: int) -> str:
    return f"{amount / 10**s.config.quote_decimals:,.2f}"


def _sell(s: Suite, who: str, series_id: int, amount_wad: int) -> int:
    proceeds, _fee = s.vault.functions.quoteSell(series_id, amount_wad).call()
    before = _quote_balance(s, who)
    send(s.w3, s.vault.functions.sell(series_id, amount_wad, proceeds, who), who)
    return _quote_balance(s, who) - before


def _buy_paid(s: Suite, who: str, series_id: int, amount_wad: int) -> int:
    premium, fee = s.vault.functions.quoteBuy(series_id, amount_wad).call()
    fund(s, who, premium + fee)
    before = _quote_balance(s, who)
    send(s.w3, s.vault.functions.buy(series_id, amount_wad, premium + fee, who), who)
    return before - _quote_balance(s, who)


# ----------------------------------------------------------------------------- 1. oracle latency


@pytest.mark.parametrize("hours", [2, 6, 24, 168], ids=lambda h: f"{h}h")
@pytest.mark.parametrize("is_call", [True, False], ids=["call", "put"])
def test_round_trip_across_a_feed_round_loses(
    suite: Suite, actors: Actors, scenario: Any, is_call: bool, hours: int
) -> None:
    """Buy just before a feed round of the deviation threshold, sell right after: a loss, both ways."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    spot = 3000 * WAD
    expiry = now(s.w3) + hours * HOUR + 120
    series_id = list_series(s, expiry, 3000 * WAD, is_call)
    dev = s.config.risk.feed_deviation_bps
    spread, fee_bps = s.config.risk.spread_bps, s.config.risk.fee_bps
    scale = 10 ** (18 - s.config.quote_decimals)
    amount = 10 * WAD
    for direction in (1, -1):
        with scenario():
            # what the trade paid before the defence: Black-Scholes at the feed price both ways
            t_buy = expiry - now(s.w3) - 1
            old_price = s.pricer.functions.price(spot, 3000 * WAD, t_buy, 8 * WAD // 10, 0, is_call).call()
            old_premium = -(-amount * old_price * (10_000 + spread) // (WAD * 10_000 * scale))
            old_paid = old_premium - (-old_premium * fee_bps // 10_000)
            paid = _buy_paid(s, actors.attacker, series_id, amount)
            moved = spot * (10_000 + direction * dev) // 10_000
            refresh_feed(s, moved)
            t_sell = expiry - now(s.w3) - 1
            new_price = s.pricer.functions.price(moved, 3000 * WAD, t_sell, 8 * WAD // 10, 0, is_call).call()
            old_gross = amount * new_price * (10_000 - spread) // (WAD * 10_000 * scale)
            old_proceeds = old_gross - (-(-old_gross * fee_bps // 10_000))
            proceeds = _sell(s, actors.attacker, series_id, amount)
            pnl = proceeds - paid
            old_pnl = old_proceeds - old_paid
            report(
                f"round trip {'call' if is_call else 'put'} {hours}h feed {direction * dev:+d} bps: "
                f"before {old_pnl / old_paid:+.1%} of {_units(s, old_paid)}, now {pnl / paid:+.1%} of {_units(s, paid)}"
            )
            assert pnl < 0, "VM_NO_ROUNDTRIP_PROFIT"


def test_trade_spot_boundary_is_the_deviation(suite: Suite, actors: Actors) -> None:
    """quoteBuy prices a call at ceil(S (1 + d)) and a put at floor(S (1 - d)), quoteSell the other way: the
    vault's quotes equal the pricer at exactly those spots (a bound moved by one unit shows here)."""
    # an 18-decimal feed and quote token: a wei of spot shows in the premium (an 8-decimal feed's spot is a
    # multiple of 1e10 wad, where the shift is exact)
    s = deploy_suite(suite.w3, SuiteConfig(quote_decimals=18, feed_decimals=18))
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 7 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    put_id = list_series(s, expiry, 3000 * WAD, False)
    spot = 3000 * WAD + 7  # not a multiple of 10,000: the rounding direction shows
    refresh_feed(s, spot)
    spot = s.price_oracle.functions.feedSpotWad().call()
    dev = s.config.risk.feed_deviation_bps
    up = -(-spot * (10_000 + dev) // 10_000)
    down = spot * (10_000 - dev) // 10_000
    scale = 10 ** (18 - s.config.quote_decimals)
    amount = 1000 * WAD
    t = expiry - now(s.w3)
    for series_id, is_call, buy_spot, sell_spot in ((call_id, True, up, down), (put_id, False, down, up)):
        p_buy = s.pricer.functions.price(buy_spot, 3000 * WAD, t, 8 * WAD // 10, 0, is_call).call()
        premium, _ = s.vault.functions.quoteBuy(series_id, amount).call()
        assert premium == -(-amount * p_buy * (10_000 + s.config.risk.spread_bps) // (WAD * 10_000 * scale))
        p_sell = s.pricer.functions.price(sell_spot, 3000 * WAD, t, 8 * WAD // 10, 0, is_call).call()
        proceeds, fee = s.vault.functions.quoteSell(series_id, amount).call()
        assert proceeds + fee == amount * p_sell * (10_000 - s.config.risk.spread_bps) // (WAD * 10_000 * scale)


# ----------------------------------------------------------------------------- 2. stress griefing


def test_round_trips_leave_no_phantom_stress(suite: Suite, actors: Actors) -> None:
    """Many buy/sell round trips of a cheap option between re-marks: the stress margin comes back to the
    wei, HF and maxWithdraw do not fall (the vault keeps the spread and fees)."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    held = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, held, 100 * WAD)  # an honest book: the stress margin is not zero
    expiry = now(s.w3) + 5 * HOUR
    series_id = list_series(s, expiry, 3300 * WAD, True)  # 10% out of the money, hours from expiry
    receipt = send(s.w3, s.vault.functions.remark(), actors.attacker)  # anyone may force a re-mark
    assert len(s.vault.events.BookMarked().process_receipt(receipt, errors=DISCARD)) == 1
    before = book(s)
    withdraw_before = int(s.vault.functions.maxWithdraw(actors.depositor).call())
    cost = 0
    trips = 40
    for _ in range(trips):
        cost += _buy_paid(s, actors.attacker, series_id, 100 * WAD)
        cost -= _sell(s, actors.attacker, series_id, 100 * WAD)
    after = book(s)
    withdraw_after = int(s.vault.functions.maxWithdraw(actors.depositor).call())
    report(
        f"{trips} round trips of 100 options cost the attacker {_units(s, cost)}; stress margin "
        f"{_units(s, before['stress_margin'])} -> {_units(s, after['stress_margin'])}, HF "
        f"{before['health_factor_wad'] / WAD:.4f} -> {after['health_factor_wad'] / WAD:.4f}, maxWithdraw "
        f"{_units(s, withdraw_before)} -> {_units(s, withdraw_after)} (before the fix: 1,353 trips costing 12 "
        "took HF 25.6 -> 1.20 and maxWithdraw 863,027 -> 852)"
    )
    assert after["marked_at_sec"] == before["marked_at_sec"], "the round trips ran between re-marks"
    assert after["stress_margin"] == before["stress_margin"] > 0, "VM_NO_PHANTOM_STRESS"
    assert after["health_factor_wad"] >= before["health_factor_wad"], "VM_NO_PHANTOM_STRESS"
    assert withdraw_after >= withdraw_before, "VM_NO_PHANTOM_STRESS"
    assert cost > 0


def test_locking_withdrawals_costs_the_locker(suite: Suite, actors: Actors) -> None:
    """Buying options whose stress locks depositors' funds costs at least 1% of what is locked: half of a
    1M vault's withdrawable funds costs thousands, not cents."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 4 * HOUR
    series_id = list_series(s, expiry, 3300 * WAD, True)
    start = int(s.vault.functions.maxWithdraw(actors.depositor).call())
    cost = 0
    bought = 0
    while int(s.vault.functions.maxWithdraw(actors.depositor).call()) > start // 2:
        before = int(s.vault.functions.maxWithdraw(actors.depositor).call())
        paid = _buy_paid(s, actors.attacker, series_id, 250 * WAD)
        locked = before - int(s.vault.functions.maxWithdraw(actors.depositor).call())
        assert paid * 100 >= locked, f"a buy locked {locked} for {paid}: below 1%"
        cost += paid
        bought += 250
    locked = start - int(s.vault.functions.maxWithdraw(actors.depositor).call())
    premium_bs = s.pricer.functions.price(
        s.price_oracle.functions.spotWad().call(), 3300 * WAD, expiry - now(s.w3), 8 * WAD // 10, 0, True
    ).call()
    report(
        f"locking {_units(s, locked)} of {_units(s, start)} withdrawable took {bought} options and cost "
        f"{_units(s, cost)} ({cost / locked:.2%} of what is locked); Black-Scholes alone would have charged "
        f"{bought * premium_bs / WAD:,.2f}"
    )
    assert cost * 100 >= locked
    assert cost >= q(s, 1_000)


def test_minimum_premium_binds_only_where_the_stress_exceeds_the_price(suite: Suite, actors: Actors) -> None:
    """An at-the-money week is priced by Black-Scholes (the minimum does not bind); a far out-of-the-money
    option hours from expiry pays the minimum: floor x 1% x its worst scenario value."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    week_expiry = now(s.w3) + 7 * DAY
    week = list_series(s, week_expiry, 3000 * WAD, True)
    expiry = now(s.w3) + 3 * HOUR
    far = list_series(s, expiry, 3600 * WAD, True)
    risk = s.config.risk
    scale = 10 ** (18 - s.config.quote_decimals)
    amount = 100 * WAD
    premium_week, _ = s.vault.functions.quoteBuy(week, amount).call()
    spot = s.price_oracle.functions.spotWad().call()
    up = -(-spot * (10_000 + risk.feed_deviation_bps) // 10_000)
    bs_week = s.pricer.functions.price(up, 3000 * WAD, week_expiry - now(s.w3), 8 * WAD // 10, 0, True).call()
    assert premium_week == -(-amount * bs_week * (10_000 + risk.spread_bps) // (WAD * 10_000 * scale))
    premium_far, _ = s.vault.functions.quoteBuy(far, amount).call()
    b = book(s)
    s0 = b["spot_wad"]
    worst = s.pricer.functions.markAndDelta(
        s0 * (10_000 + risk.spot_shock_up_bps) // 10_000,
        3600 * WAD,
        expiry - b["marked_at_sec"],
        8 * WAD // 10 + risk.vol_shock_wad,
        0,
        True,
    ).call()[0]
    minimum_per_option = -(-worst * risk.hf_floor_wad * risk.min_premium_bps // WAD)
    expected = -(-amount * minimum_per_option // (WAD * 10_000 * scale))
    bs = s.pricer.functions.price(up, 3600 * WAD, expiry - now(s.w3), 8 * WAD // 10, 0, True).call()
    report(
        f"100 options 20% OTM 3h from expiry: Black-Scholes {amount * bs / WAD**2:,.4f}, minimum premium "
        f"{_units(s, premium_far)} (worst scenario {worst / WAD:,.2f} per option); ATM week {_units(s, premium_week)}"
    )
    assert premium_far == expected


# ----------------------------------------------------------------------------- 4. just-in-time deposits


def _short_puts_book(s: Suite, actors: Actors) -> int:
    """A 1M vault that sold 300 at-the-money week puts: a positive delta it cannot hedge (no short)."""
    deposit(s, actors.depositor, q(s, 1_000_000))
    put_id = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, False)
    buy(s, actors.buyer, put_id, 300 * WAD)
    return put_id


def test_jit_deposit_around_a_feed_round_does_not_profit(suite: Suite, actors: Actors, scenario: Any) -> None:
    s = suite
    _short_puts_book(s, actors)
    b = book(s)
    dev = s.config.risk.feed_deviation_bps
    big = q(s, 10_000_000)
    for direction in (1, -1):
        with scenario():
            fund(s, actors.attacker, big)
            shares = int(s.vault.functions.previewDeposit(big).call())
            send(s.w3, s.vault.functions.deposit(big, actors.attacker), actors.attacker)
            refresh_feed(s, 3000 * WAD * (10_000 + direction * dev) // 10_000)
            before = _quote_balance(s, actors.attacker)
            max_redeem = int(s.vault.functions.maxRedeem(actors.attacker).call())
            send(s.w3, s.vault.functions.redeem(max_redeem, actors.attacker, actors.attacker), actors.attacker)
            got = _quote_balance(s, actors.attacker) - before
            left = int(s.vault.functions.convertToAssets(shares - max_redeem).call())
            pnl = got + left - big
            naive = b["net_delta_wad"] * 3000 * direction * dev // 10_000 // WAD
            report(
                f"10M deposit around a {direction * dev:+d} bps feed round (net delta "
                f"{b['net_delta_wad'] / WAD:+.1f}): NAV moved ~{naive:+,} quote; the depositor's P&L "
                f"{_units(s, pnl)} (before the fix: +8,766 on a +0.9% round)"
            )
            assert pnl < 0, "VM_NO_JIT_PROFIT"


def test_jit_deposit_around_a_maximal_vol_post_does_not_profit(suite: Suite, actors: Actors) -> None:
    """300 sold calls; a deposit before the largest volatility step down the oracle allows and a redemption
    after it lose money."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 7 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 300 * WAD)
    step = int(s.vol_oracle.functions.params().call()[2])
    big = q(s, 10_000_000)
    fund(s, actors.attacker, big)
    send(s.w3, s.vault.functions.deposit(big, actors.attacker), actors.attacker)
    nav_before = int(s.vault.functions.totalAssets().call())
    warp(s.w3, HOUR)
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10 - step)
    nav_after = int(s.vault.functions.totalAssets().call())
    before = _quote_balance(s, actors.attacker)
    shares = int(s.vault.functions.balanceOf(actors.attacker).call())
    max_redeem = int(s.vault.functions.maxRedeem(actors.attacker).call())
    send(s.w3, s.vault.functions.redeem(max_redeem, actors.attacker, actors.attacker), actors.attacker)
    got = _quote_balance(s, actors.attacker) - before
    left = int(s.vault.functions.convertToAssets(shares - max_redeem).call())
    pnl = got + left - big
    report(
        f"10M deposit around a vol post -{step / WAD:.0%} on 300 sold calls: NAV {_units(s, nav_before)} -> "
        f"{_units(s, nav_after)}; the depositor's P&L {_units(s, pnl)} (before the fix: +18,620 on 80% -> 60%)"
    )
    assert pnl < 0, "VM_NO_JIT_PROFIT"


def test_exit_ahead_of_an_adverse_round_and_reenter_does_not_profit(suite: Suite, actors: Actors) -> None:
    """The mirror image: redeem before a feed round that lowers NAV, deposit the proceeds after it: fewer
    shares than before."""
    s = suite
    _short_puts_book(s, actors)
    shares = int(s.vault.functions.balanceOf(actors.depositor).call())
    part = shares // 10
    before = _quote_balance(s, actors.depositor)
    send(s.w3, s.vault.functions.redeem(part, actors.depositor, actors.depositor), actors.depositor)
    got = _quote_balance(s, actors.depositor) - before
    dev = s.config.risk.feed_deviation_bps
    refresh_feed(s, 3000 * WAD * (10_000 - dev) // 10_000)  # short puts lose when the spot falls
    send(s.w3, s.vault.functions.deposit(got, actors.depositor), actors.depositor)
    after = int(s.vault.functions.balanceOf(actors.depositor).call())
    report(f"redeem 10% before a -{dev} bps round and re-deposit after it: shares {shares} -> {after}")
    assert after < shares, "VM_NO_JIT_PROFIT"


def test_swing_is_what_a_feed_round_and_a_vol_post_can_move(suite: Suite, actors: Actors) -> None:
    """book().swing = |net delta| S d + gammaCoef S d^2 / 2 + vega x maxStep, and the withdrawals' NAV is
    totalAssets minus it, the deposits' the lower mark plus it."""
    s = suite
    _short_puts_book(s, actors)
    b = book(s)
    v = s.vault.functions.valuation().call()
    assert b["swing"] > 0
    assert v[2] == b["assets_value"] - b["mark_value"] - b["payouts_owed"] - b["swing"]
    assert v[1] == b["assets_value"] - b["mark_lower_value"] - b["payouts_owed"] + b["swing"]
    step = int(s.vol_oracle.functions.params().call()[2])
    vega_term = -(-b["vega_wad"] * step // WAD)
    delta_term = abs(b["net_delta_wad"]) * b["spot_wad"] * s.config.risk.feed_deviation_bps // (WAD * 10_000)
    scale = 10 ** (18 - s.config.quote_decimals)
    assert b["swing"] * scale >= vega_term + delta_term
    report(
        f"swing {_units(s, b['swing'])} on NAV {_units(s, v[0])} ({b['swing'] / v[0]:.3%}): what an honest "
        "depositor pays on entry and on exit with 300 naked short puts"
    )


# ----------------------------------------------------------------------------- 5. admin and pause


def _exit_at(s: Suite, end: int, who: str) -> tuple[int, int]:
    """Exit mode opens at ``end``, not a second before: a withdrawal mined at ``end - 1`` reverts; at ``end``
    ``who`` withdraws maxWithdraw, and the stayers' conservative value per share (virtual share and asset
    included) does not fall (VM_EXIT_OUTAGE). Returns (what ``who`` got, the conservative NAV before)."""
    v = s.vault.functions
    assert _mined_at(s, end - 1, v.withdraw(q(s, 1_000), who, who), who) == 0
    assert not v.exitMode().call()
    s.w3.provider.make_request("evm_setNextBlockTimestamp", [end])  # type: ignore[arg-type]
    s.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert v.exitMode().call()
    nav, supply = int(v.totalAssets().call()), int(v.totalSupply().call())
    most = int(v.maxWithdraw(who).call())
    assert most > 0 and int(v.previewWithdraw(most).call()) > 0
    before = _quote_balance(s, who)
    send(s.w3, v.withdraw(most, who, who), who)
    got = _quote_balance(s, who) - before
    assert got == most
    nav_after, supply_after = int(v.totalAssets().call()), int(v.totalSupply().call())
    assert (nav_after + 1) * (supply + 10**6) >= (nav + 1) * (supply_after + 10**6), "VM_EXIT_OUTAGE"
    return got, nav


def test_parameter_changes_are_bounded_in_size_and_rate(suite: Suite, actors: Actors) -> None:
    s = suite
    r = s.config.risk
    v = s.vault.functions
    c = s.config
    step_floor = WAD // 4
    too_far = replace(r, hf_floor_wad=r.hf_floor_wad + step_floor + 1)
    fn = v.setParameters(too_far.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple())
    reverts(
        fn,
        s.admin,
        "ParamStepTooLarge",
        b"hfFloorWad".ljust(32, b"\0"),
        r.hf_floor_wad,
        too_far.hf_floor_wad,
        step_floor,
    )
    flipped = replace(r, rate_wad=WAD // 50 + 1)
    fn = v.setParameters(flipped.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple())
    reverts(fn, s.admin, "ParamStepTooLarge", b"rateWad".ljust(32, b"\0"), 0, WAD // 50 + 1, WAD // 50)
    at_step = replace(r, hf_floor_wad=r.hf_floor_wad + step_floor, rate_wad=WAD // 50)
    receipt = send(s.w3, v.setParameters(at_step.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple()), s.admin)
    changed_at = int(s.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    again = replace(at_step, rate_wad=2 * WAD // 50)
    fn = v.setParameters(again.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple())
    reverts(fn, s.admin, "ParametersChangedTooRecently", changed_at, changed_at + HOUR)
    refresh_feed(s)
    assert _mined_at(s, changed_at + HOUR - 1, fn, s.admin) == 0
    assert _mined_at(s, changed_at + HOUR, fn, s.admin) == 1
    report(
        "the admin's rate flip 50% -> -10% (85.4% of NAV before) now takes 30 hourly changes of 2 points, "
        "each queued 24 h in the timelock"
    )


def test_a_pause_stops_withdrawals_for_at_most_max_pause(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vault.functions
    deposit(s, actors.depositor, q(s, 1_000_000))
    deposit(s, actors.depositor2, q(s, 500_000))
    call_id = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 100 * WAD)
    receipt = send(s.w3, v.pause(), s.admin)
    paused_at = int(s.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    assert v.maxWithdraw(actors.depositor).call() == 0
    assert v.maxDeposit(actors.depositor).call() == 0
    amount = q(s, 1_000)
    end = paused_at + s.config.risk.max_pause_sec
    got, nav = _exit_at(s, end, actors.depositor)
    reverts(v.deposit(amount, actors.depositor), actors.depositor, "EnforcedPause")
    report(
        f"paused {s.config.risk.max_pause_sec // DAY} days: withdraw reverts at {end - 1}, at {end} the depositor "
        f"leaves with {_units(s, got)} at the conservative NAV {_units(s, nav)} (before the fix: no time limit)"
    )


# ----------------------------------------------------------------------------- 6. expiry before settlement


def test_redeeming_before_settle_gains_nothing(suite: Suite, actors: Actors, scenario: Any) -> None:
    s = suite
    v = s.vault.functions
    deposit(s, actors.depositor, q(s, 500_000))
    deposit(s, actors.depositor2, q(s, 500_000))
    expiry = now(s.w3) + 2 * HOUR
    call_id = list_series(s, expiry, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 100 * WAD)
    s.w3.provider.make_request("evm_setNextBlockTimestamp", [expiry + 10])  # type: ignore[arg-type]
    refresh_feed(s, 3100 * WAD)  # the settlement round: the first at or after the expiry
    refresh_feed(s, 3130 * WAD)  # a later round
    shares = int(v.balanceOf(actors.depositor2).call())
    results = {}
    for settle_first in (False, True):
        with scenario():
            if settle_first:
                needed, data = v.checkUpkeep(b"").call()
                assert needed and data
                send(s.w3, v.performUpkeep(data), actors.keeper)
            before = _quote_balance(s, actors.depositor2)
            send(s.w3, v.redeem(shares // 2, actors.depositor2, actors.depositor2), actors.depositor2)
            results[settle_first] = _quote_balance(s, actors.depositor2) - before
    report(
        f"half a share redeemed before settle {_units(s, results[False])}, after {_units(s, results[True])} "
        "(before the fix: 1,010,736 vs 995,736, +15,000)"
    )
    assert abs(results[False] - results[True]) <= 2, "VM_SETTLEMENT_VALUE"


# ----------------------------------------------------------------------------- 7. insolvent deposits


def test_deposits_refused_while_insolvent(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vault.functions
    deposit(s, actors.depositor, q(s, 100_000))
    call_id = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 100 * WAD)
    move_market(s, 4500 * WAD, actors.other)
    b = book(s)
    assert b["assets_value"] <= b["mark_value"] + b["payouts_owed"]
    assert v.maxDeposit(actors.attacker).call() == 0
    assert v.maxMint(actors.attacker).call() == 0
    fund(s, actors.attacker, q(s, 100_000))
    args = reverts(v.deposit(q(s, 100_000), actors.attacker), actors.attacker, "VaultInsolvent")
    assert args[0] <= args[1]
    reverts(v.mint(10**12, actors.attacker), actors.attacker, "VaultInsolvent")
    reverts(v.previewDeposit(q(s, 100_000)), actors.attacker, "DepositsClosed")
    reverts(v.previewMint(10**12), actors.attacker, "DepositsClosed")
    report(
        f"assets {_units(s, args[0])} vs liabilities {_units(s, args[1])}: a 100,000 deposit is refused "
        "(before the fix: accepted and worth 0.00)"
    )


# ----------------------------------------------------------------------------- 8. oracle outage


def test_views_never_revert_and_exits_open_after_a_reported_outage(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vault.functions
    deposit(s, actors.depositor, q(s, 1_000_000))
    deposit(s, actors.depositor2, q(s, 500_000))
    expiry = now(s.w3) + 30 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 200 * WAD)
    reverts(v.reportOracleOutage(), actors.other, "OracleHealthy")
    warp(s.w3, 2 * HOUR)
    # the feed is stale: the ERC-4626 views answer, closed
    assert v.totalAssets().call() > 0
    assert v.convertToAssets(10**12).call() > 0 and v.convertToShares(10**6).call() > 0
    for fn in (v.maxDeposit, v.maxMint, v.maxWithdraw, v.maxRedeem):
        assert fn(actors.depositor).call() == 0
    reverts(v.previewRedeem(10**12), actors.depositor, "FeedStale")
    reverts(v.withdraw(q(s, 1), actors.depositor, actors.depositor), actors.depositor, "FeedStale")
    receipt = send(s.w3, v.reportOracleOutage(), actors.other)
    (event,) = s.vault.events.OracleOutageReported().process_receipt(receipt, errors=DISCARD)
    since = int(event.args.sinceSec)
    reverts(v.reportOracleOutage(), actors.other, "OutageAlreadyReported", since)
    end = since + s.config.risk.outage_exit_delay_sec
    got, nav = _exit_at(s, end, actors.depositor)
    report(
        f"feed stale since {since}: exits closed until {end - 1}, at {end} the depositor leaves with "
        f"{_units(s, got)} at the conservative NAV {_units(s, nav)} (before the fix: frozen with no time limit)"
    )
    # the oracle comes back: a re-mark ends the outage
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10)
    send(s.w3, v.remark(), actors.other)
    assert not v.exitMode().call()
    assert v.maxWithdraw(actors.depositor2).call() > 0


# ----------------------------------------------------------------------------- 9. smaller ones


def _settled_call(s: Suite, actors: Actors) -> int:
    """A 100,000 vault that sold 100 two-hour 3000 calls, settled by the keeper's upkeep at 3100 (10,000 owed
    to the holder); returns the series id."""
    deposit(s, actors.depositor, q(s, 100_000))
    expiry = now(s.w3) + 2 * HOUR
    call_id = list_series(s, expiry, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 100 * WAD)
    s.w3.provider.make_request("evm_setNextBlockTimestamp", [expiry + 10])  # type: ignore[arg-type]
    refresh_feed(s, 3100 * WAD)  # the first round at or after the expiry
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data
    send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)
    return call_id


def test_last_depositor_withdraws_all_but_the_reserved_payouts(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vault.functions
    call_id = _settled_call(s, actors)
    owed = int(v.payoutsOwed().call())
    assert owed == q(s, 10_000)
    nav = int(v.totalAssets().call())
    most = int(v.maxWithdraw(actors.depositor).call())
    old_room = nav + owed - owed * s.config.risk.hf_floor_wad // WAD
    assert most >= nav - 1
    before = _quote_balance(s, actors.depositor)
    send(s.w3, v.withdraw(most, actors.depositor, actors.depositor), actors.depositor)
    assert _quote_balance(s, actors.depositor) - before == most
    before = _quote_balance(s, actors.buyer)
    send(s.w3, v.claim(call_id, actors.buyer), actors.buyer)
    assert _quote_balance(s, actors.buyer) - before == owed
    report(
        f"the last depositor withdraws {_units(s, most)} of NAV {_units(s, nav)} (before the fix: "
        f"{_units(s, old_room)}, 20% of the {_units(s, owed)} owed held back); the holder is paid in full"
    )


def test_withdraw_room_leaves_reserved_payouts_out_of_both_sides(suite: Suite, actors: Actors) -> None:
    """With payouts owed and a live book, maxWithdraw is exactly (A - P) - ceil(floor x (mark + M))."""
    s = suite
    v = s.vault.functions
    _settled_call(s, actors)
    live = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, live, 100 * WAD)
    b = book(s)
    floor = s.config.risk.hf_floor_wad
    needed = -(-(b["mark_value"] + b["stress_margin"]) * floor // WAD)
    room = b["assets_value"] - b["payouts_owed"] - needed
    assert b["payouts_owed"] > 0 and 0 < room < int(v.totalAssets().call())
    assert int(v.maxWithdraw(actors.depositor).call()) == room
    assert int(v.valuation().call()[3]) == room


def test_redeeming_for_zero_assets_reverts(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000))
    v = s.vault.functions
    reverts(v.redeem(1, actors.depositor, actors.depositor), actors.depositor, "ZeroAssets", 1)
    shares = int(v.balanceOf(actors.depositor).call())
    assert v.previewRedeem(10**6).call() == 1  # one share unit per 1e-6 of a quote unit at par
    send(s.w3, v.redeem(10**6, actors.depositor, actors.depositor), actors.depositor)
    assert int(v.balanceOf(actors.depositor).call()) == shares - 10**6


# ----------------------------------------------------------------------------- 3. compromised vol updater


def test_compromised_vol_updater_takes_at_most_one_percent_in_an_hour(suite: Suite, actors: Actors) -> None:
    """The attacker holds the volatility updater's key: buys the most vega the vault sells, walks the vol up
    as fast as the oracle allows for an hour (a full step, then the rate), and sells everything back."""
    s = suite
    v = s.vault.functions
    oracle = s.vol_oracle.functions
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 30 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    warp(s.w3, HOUR)  # the updater waits until a full step is allowed
    refresh_feed(s)
    nav_before = int(v.totalAssets().call())
    # the most options the vega limit allows (vega bound per option: S sqrt(tau) phi(0))
    spot = 3000 * WAD
    tau_wad = (expiry - now(s.w3)) * WAD // (365 * DAY)
    vega_per_option = spot * int((tau_wad * WAD) ** 0.5) // WAD * 398942280401432678 // WAD
    amount = s.config.limits.max_vega_wad * WAD // vega_per_option * 99 // 100
    paid = _buy_paid(s, actors.attacker, call_id, amount)
    path = [int(oracle.lastPost(expiry).call()[0])]
    start = now(s.w3)
    while True:
        step = int(oracle.maxStepNowWad(expiry).call())
        if step:
            post_vol(s, expiry, path[-1] + step)
            path.append(path[-1] + step)
        if now(s.w3) + s.config.vol.min_interval_sec > start + HOUR:
            break
        warp(s.w3, s.config.vol.min_interval_sec)
        refresh_feed(s)
    proceeds = _sell(s, actors.attacker, call_id, amount)
    nav_after = int(v.totalAssets().call())
    loss = nav_before - nav_after
    bound = s.config.limits.max_vega_wad * (s.config.vol.max_step_wad + s.config.vol.max_rate_per_hour_wad) // WAD
    report(
        f"updater key: {amount / WAD:,.0f} calls (vega limit {s.config.limits.max_vega_wad / WAD:,.0f}), vol "
        f"{path[0] / WAD:.2f} -> {path[-1] / WAD:.2f} in {len(path) - 1} posts within an hour; attacker P&L "
        f"{_units(s, proceeds - paid)}, depositors' NAV {_units(s, nav_before)} -> {_units(s, nav_after)} "
        f"({loss / nav_before:+.3%}; bound maxVega x (maxStep + rate x 1 h) = {bound / WAD:,.0f} quote); before "
        "the fix: 968,163 (97.1% of NAV) in one block"
    )
    assert path[-1] - path[0] <= s.config.vol.max_step_wad + s.config.vol.max_rate_per_hour_wad
    assert loss * 100 <= nav_before, "the updater key took more than 1% of NAV in an hour"
    # the documented bound itself is within 1% of this vault's NAV at default parameters
    assert bound // 10 ** (18 - s.config.quote_decimals) * 100 <= nav_before


# ----------------------------------------------------------------------------- boundaries a mutant hid behind


def test_withdraw_burns_the_ceiling_of_the_shares(suite: Suite, actors: Actors) -> None:
    """withdraw(assets) burns ceil(assets x (supply + 10^6) / (navForWithdrawals + 1)) shares (a withdraw that
    burned the floor passed the suite before)."""
    s = suite
    v = s.vault.functions
    deposit(s, actors.depositor, q(s, 1_000_000))
    call_id = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 10 * WAD)  # NAV no longer a round multiple of the supply
    assets = q(s, 1_000) + 7
    nav_w = int(v.valuation().call()[2])
    supply = int(v.totalSupply().call())
    numerator = assets * (supply + 10**6)
    assert numerator % (nav_w + 1) != 0, "the case must round"
    expected = -(-numerator // (nav_w + 1))
    assert int(v.previewWithdraw(assets).call()) == expected
    before = int(v.balanceOf(actors.depositor).call())
    send(s.w3, v.withdraw(assets, actors.depositor, actors.depositor), actors.depositor)
    assert before - int(v.balanceOf(actors.depositor).call()) == expected


def test_sell_fee_is_rounded_up_against_the_seller(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    call_id = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, 10 * WAD)
    for amount in (WAD + 12_345, 3 * WAD + 7):
        proceeds, fee = s.vault.functions.quoteSell(call_id, amount).call()
        gross = proceeds + fee
        assert gross * s.config.risk.fee_bps % 10_000 != 0, "the case must round"
        assert fee == -(-gross * s.config.risk.fee_bps // 10_000)


def test_trading_cutoff_at_its_second(suite: Suite, actors: Actors) -> None:
    """Trading closes cutoff seconds before expiry: a buy mined at expiry - cutoff - 1 goes through, at
    expiry - cutoff it reverts TradingCutoff (and so does a sale)."""
    s = suite
    v = s.vault.functions
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 2 * HOUR
    call_id = list_series(s, expiry, 3000 * WAD, True)
    cutoff = s.config.risk.trading_cutoff_sec
    fund(s, actors.buyer, q(s, 10_000))
    last = expiry - cutoff - 1
    refresh_feed(s)
    assert _mined_at(s, last, v.buy(call_id, WAD, 2**255, actors.buyer), actors.buyer) == 1
    assert _mined_at(s, last + 1, v.buy(call_id, WAD, 2**255, actors.buyer), actors.buyer) == 0
    reverts(v.sell(call_id, WAD, 0, actors.buyer), actors.buyer, "TradingCutoff", call_id, expiry, cutoff)
    reverts(v.buy(call_id, WAD, 2**255, actors.buyer), actors.buyer, "TradingCutoff", call_id, expiry, cutoff)
