"""One test (or a few) per vault entry point, including every custom error with its context.

A reverted call changes nothing (EVM atomicity); where it matters the test also reads the state back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from vaultkit import (
    DAY,
    WAD,
    ZERO,
    Actors,
    book,
    buy,
    decode_error,
    deposit,
    fund,
    list_series,
    now,
    perform_upkeep,
    post_vol,
    q,
    refresh_feed,
    reverts,
    set_parameters,
    warp,
)
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from hedgevault.suite import BOOK_LIBRARY, HEDGE_LIBRARY, ExposureLimits, HedgeParams, RiskParams, Suite, link
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send


@dataclass(frozen=True)
class Market:
    expiry: int
    call_id: int
    put_id: int


@pytest.fixture
def market(suite: Suite, actors: Actors) -> Market:
    """1,000,000 quote deposited; a 30-day 3000 call and 2800 put listed at 80% vol."""
    deposit(suite, actors.depositor, q(suite, 1_000_000))
    expiry = now(suite.w3) + 30 * DAY
    call_id = list_series(suite, expiry, 3000 * WAD, True)
    warp(suite.w3, suite.config.vol.min_interval_sec)  # list_series posts the expiry's vol: the oracle's interval
    return Market(expiry=expiry, call_id=call_id, put_id=list_series(suite, expiry, 2800 * WAD, False))


def set_params(
    s: Suite,
    risk: RiskParams | None = None,
    limits: ExposureLimits | None = None,
    hedge: HedgeParams | None = None,
) -> None:
    set_parameters(s, risk, limits, hedge)


# ----------------------------------------------------------------------------- ERC-4626


def test_deposit_mints_shares_at_par_with_offset(any_suite: Suite, actors: Actors) -> None:
    s = any_suite
    shares = deposit(s, actors.depositor, q(s, 1_000))
    # virtual shares: 1e6 shares per quote unit on an empty vault
    assert shares == q(s, 1_000) * 10**6
    assert s.vault.functions.totalAssets().call() == q(s, 1_000)
    assert s.vault.functions.decimals().call() == s.config.quote_decimals + 6


def test_mint_and_redeem_round_trip_never_favour_the_user(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000))
    fund(s, actors.depositor2, q(s, 1_000))
    shares = 123_456_789_012
    assets = s.vault.functions.previewMint(shares).call()
    send(s.w3, s.vault.functions.mint(shares, actors.depositor2), actors.depositor2)
    assert s.vault.functions.balanceOf(actors.depositor2).call() == shares
    out = s.vault.functions.previewRedeem(shares).call()
    assert out <= assets
    send(s.w3, s.vault.functions.redeem(shares, actors.depositor2, actors.depositor2), actors.depositor2)
    assert s.vault.functions.balanceOf(actors.depositor2).call() == 0


def test_zero_amounts_revert(suite: Suite, actors: Actors) -> None:
    v = suite.vault.functions
    for fn in (
        v.deposit(0, actors.depositor),
        v.mint(0, actors.depositor),
        v.withdraw(0, actors.depositor, actors.depositor),
        v.redeem(0, actors.depositor, actors.depositor),
    ):
        reverts(fn, actors.depositor, "ZeroAmount")


def test_withdraw_beyond_own_assets(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000))
    reverts(
        s.vault.functions.withdraw(q(s, 1_001), actors.depositor, actors.depositor),
        actors.depositor,
        "ERC4626ExceededMaxWithdraw",
        actors.depositor,
        q(s, 1_001),
        q(s, 1_000),
    )
    shares = s.vault.functions.balanceOf(actors.depositor).call()
    reverts(
        s.vault.functions.redeem(shares + 1, actors.depositor, actors.depositor),
        actors.depositor,
        "ERC4626ExceededMaxRedeem",
        actors.depositor,
        shares + 1,
        shares,
    )


def test_withdraw_by_spender_needs_allowance(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000))
    reverts(
        s.vault.functions.withdraw(q(s, 1), actors.other, actors.depositor), actors.other, "ERC20InsufficientAllowance"
    )


def test_withdraw_that_would_break_the_floor_reports_the_hf(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, 250 * WAD)  # about 86,000 of the 100,000 vega limit
    max_w = s.vault.functions.maxWithdraw(actors.depositor).call()
    own = s.vault.functions.convertToAssets(s.vault.functions.balanceOf(actors.depositor).call()).call()
    assert 0 < max_w < own
    args = reverts(
        s.vault.functions.withdraw(max_w + q(s, 1), actors.depositor, actors.depositor),
        actors.depositor,
        "HealthFactorTooLow",
    )
    assert args[0] < s.config.risk.hf_floor_wad == args[1]
    # exactly maxWithdraw passes and leaves HF at or above the floor
    send(s.w3, s.vault.functions.withdraw(max_w, actors.depositor, actors.depositor), actors.depositor)
    assert book(s)["health_factor_wad"] >= s.config.risk.hf_floor_wad
    max_r = s.vault.functions.maxRedeem(actors.depositor).call()
    assert s.vault.functions.previewRedeem(max_r).call() <= s.vault.functions.maxWithdraw(actors.depositor).call() + 1


def test_withdraw_limited_by_free_cash(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 10_000))
    call = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call, 2 * WAD)
    # the hedge holds underlying bought with the vault's quote: NAV counts it, the quote that can leave does not
    s.move_pool_price(book(s)["spot_wad"], actors.other)
    perform_upkeep(s, actors.keeper)
    b = book(s)
    assert b["hedge_wad"] > 0
    free = b["quote_balance"] - s.vault.functions.feesOwed().call()
    own = s.vault.functions.convertToAssets(s.vault.functions.balanceOf(actors.depositor).call()).call()
    assert own > free
    assert s.vault.functions.maxWithdraw(actors.depositor).call() <= free
    reverts(
        s.vault.functions.withdraw(free + 1, actors.depositor, actors.depositor),
        actors.depositor,
        "InsufficientLiquidity",
        free + 1,
        free,
    )


# ----------------------------------------------------------------------------- buy / sell


def test_buy_charges_price_plus_spread_and_fee(any_suite: Suite, actors: Actors) -> None:
    s = any_suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 30 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    amount = 10 * WAD
    premium, fee = s.vault.functions.quoteBuy(call_id, amount).call()
    spot = s.price_oracle.functions.spotWad().call()
    # a buy of a call is priced at the spot moved up by the feed's deviation, rounded up
    dev = s.config.risk.feed_deviation_bps
    trade_spot = -(-spot * (10_000 + dev) // 10_000)
    t = expiry - now(s.w3) - 1  # the buy is mined one second later
    price = s.pricer.functions.price(trade_spot, 3000 * WAD, t, 8 * WAD // 10, 0, True).call()
    scale = 10 ** (18 - s.config.quote_decimals)
    expected = -(-amount * price * (10_000 + s.config.risk.spread_bps) // (WAD * 10_000 * scale))
    assert abs(premium - expected) <= expected // 10**6 + 1
    assert fee == -(-premium * s.config.risk.fee_bps // 10_000)
    fund(s, actors.buyer, premium * 2)
    before = s.quote.functions.balanceOf(actors.buyer).call()
    vault_before = s.quote.functions.balanceOf(s.vault.address).call()
    fees_before = s.vault.functions.feesOwed().call()
    receipt = send(s.w3, s.vault.functions.buy(call_id, amount, premium * 2, actors.other), actors.buyer)
    (event,) = s.vault.events.Bought().process_receipt(receipt, errors=DISCARD)
    paid = before - s.quote.functions.balanceOf(actors.buyer).call()
    # one transfer of premium + fee into the vault; the fee is owed to the fee recipient
    assert paid == event.args.premium + event.args.fee
    assert s.quote.functions.balanceOf(s.vault.address).call() - vault_before == paid
    assert s.vault.functions.feesOwed().call() - fees_before == event.args.fee > 0
    assert event.args.fee == -(-event.args.premium * s.config.risk.fee_bps // 10_000)
    assert s.option_token.functions.balanceOf(actors.other, call_id).call() == amount
    assert s.vault.functions.series(call_id).call()[3] == amount


def test_buy_errors(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    v = s.vault.functions
    b = actors.buyer
    fund(s, b, q(s, 1_000_000))
    reverts(v.buy(market.call_id, 0, 1, b), b, "ZeroAmount")
    reverts(v.buy(market.call_id, WAD, 1, ZERO), b, "ZeroAddress")
    reverts(v.buy(99, WAD, 1, b), b, "UnknownSeries", 99)
    premium, fee = v.quoteBuy(market.call_id, WAD).call()
    reverts(v.buy(market.call_id, WAD, premium + fee - 1, b), b, "PremiumAboveMax", premium + fee, premium + fee - 1)
    big = s.config.limits.max_open_interest_wad + 1
    reverts(v.buy(market.call_id, big, 2**255, b), b, "OpenInterestCap", market.call_id, big, big - 1)


def test_buy_that_breaks_the_floor(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 10_000))
    expiry = now(s.w3) + 30 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    fund(s, actors.buyer, q(s, 1_000_000))
    args = reverts(s.vault.functions.buy(call_id, 100 * WAD, 2**255, actors.buyer), actors.buyer, "HealthFactorTooLow")
    assert args[0] < args[1] == s.config.risk.hf_floor_wad


def test_exposure_limits(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    fund(s, actors.buyer, q(s, 1_000_000))
    set_params(s, limits=replace(s.config.limits, max_net_delta_wad=5 * WAD))
    args = reverts(s.vault.functions.buy(market.call_id, 20 * WAD, 2**255, actors.buyer), actors.buyer, "NetDeltaLimit")
    assert args[0] < -5 * WAD and args[1] == 5 * WAD
    # short puts give the vault a positive delta that it cannot hedge without shorting: it counts too
    args = reverts(s.vault.functions.buy(market.put_id, 40 * WAD, 2**255, actors.buyer), actors.buyer, "NetDeltaLimit")
    assert args[0] > 5 * WAD
    set_params(s, limits=replace(s.config.limits, max_vega_wad=1_000 * WAD))
    args = reverts(s.vault.functions.buy(market.call_id, 10 * WAD, 2**255, actors.buyer), actors.buyer, "VegaLimit")
    assert args[0] > 1_000 * WAD


def test_trading_cutoff_and_expiry(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    fund(s, actors.buyer, q(s, 1_000_000))
    warp(s.w3, market.expiry - now(s.w3) - s.config.risk.trading_cutoff_sec + 10)
    refresh_feed(s)
    post_vol(s, market.expiry, 8 * WAD // 10)
    reverts(
        s.vault.functions.buy(market.call_id, WAD, 2**255, actors.buyer),
        actors.buyer,
        "TradingCutoff",
        market.call_id,
        market.expiry,
        s.config.risk.trading_cutoff_sec,
    )
    reverts(s.vault.functions.sell(market.call_id, WAD, 0, actors.buyer), actors.buyer, "TradingCutoff")
    warp(s.w3, s.config.risk.trading_cutoff_sec)
    reverts(s.vault.functions.buy(market.call_id, WAD, 2**255, actors.buyer), actors.buyer, "SeriesExpired")


def test_sell_back_pays_price_minus_spread(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    premium = buy(s, actors.buyer, market.call_id, 10 * WAD)
    proceeds, fee = s.vault.functions.quoteSell(market.call_id, 10 * WAD).call()
    assert proceeds + fee < premium  # the spread both ways
    reverts(
        s.vault.functions.sell(market.call_id, 10 * WAD, proceeds + 1, actors.buyer),
        actors.buyer,
        "ProceedsBelowMin",
        None,  # priced at the next block's time: may differ by a few units
        proceeds + 1,
    )
    reverts(
        s.vault.functions.sell(market.call_id, 11 * WAD, 0, actors.buyer), actors.buyer, "ERC1155InsufficientBalance"
    )
    reverts(s.vault.functions.sell(market.call_id, 0, 0, actors.buyer), actors.buyer, "ZeroAmount")
    reverts(s.vault.functions.sell(market.call_id, WAD, 0, ZERO), actors.buyer, "ZeroAddress")
    before = s.quote.functions.balanceOf(actors.buyer).call()
    send(s.w3, s.vault.functions.sell(market.call_id, 10 * WAD, proceeds, actors.buyer), actors.buyer)
    assert s.quote.functions.balanceOf(actors.buyer).call() - before == proceeds
    assert s.vault.functions.series(market.call_id).call()[3] == 0


def test_fees_are_owed_until_collected(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    v = s.vault.functions
    fees0 = v.feesOwed().call()
    buy(s, actors.buyer, market.call_id, 10 * WAD)
    fees1 = v.feesOwed().call()
    assert fees1 > fees0
    # a sale back owes its fee too; the assets, and so the NAV, do not count the fees owed
    nav = v.totalAssets().call()
    b = book(s)
    spot_value = b["hedge_wad"] * b["spot_wad"] // (WAD * 10 ** (18 - s.config.quote_decimals))
    assert b["assets_value"] == b["quote_balance"] - fees1 + spot_value
    assert nav == b["assets_value"] - b["mark_value"] - b["payouts_owed"]
    receipt = send(s.w3, v.sell(market.call_id, 5 * WAD, 0, actors.buyer), actors.buyer)
    (sold,) = s.vault.events.Sold().process_receipt(receipt, errors=DISCARD)
    fees2 = v.feesOwed().call()
    assert fees2 == fees1 + sold.args.fee and sold.args.fee > 0
    # anyone collects, also while paused; the fees go to the fee recipient, one unit stays owed
    send(s.w3, v.pause(), s.admin)
    recipient_before = s.quote.functions.balanceOf(s.fee_recipient).call()
    nav_before = v.totalAssets().call()
    receipt = send(s.w3, v.collectFees(), actors.attacker)
    (collected,) = s.vault.events.FeesCollected().process_receipt(receipt, errors=DISCARD)
    assert collected.args.feeRecipient == s.fee_recipient and collected.args.amount == fees2 - 1
    assert s.quote.functions.balanceOf(s.fee_recipient).call() - recipient_before == fees2 - 1
    assert v.feesOwed().call() == 1
    assert v.totalAssets().call() == nav_before
    reverts(v.collectFees(), actors.attacker, "NoFeesToCollect", 1)


def test_hedge_limited_by_cash_then_sell_needs_free_cash(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, 100 * WAD)
    # the depositor leaves with everything the floor allows; the hedge then buys what the rest affords
    max_w = s.vault.functions.maxWithdraw(actors.depositor).call()
    send(s.w3, s.vault.functions.withdraw(max_w, actors.depositor, actors.depositor), actors.depositor)
    assert book(s)["health_factor_wad"] >= s.config.risk.hf_floor_wad
    perform_upkeep(s, actors.keeper)
    after = book(s)
    assert after["hedge_wad"] > 0
    assert after["net_delta_wad"] < -s.config.hedge.delta_band_wad  # not fully hedged: no cash left
    # the fees owed to the fee recipient are not free cash
    free = s.quote.functions.balanceOf(s.vault.address).call() - s.vault.functions.feesOwed().call()
    proceeds, fee = s.vault.functions.quoteSell(market.call_id, 100 * WAD).call()
    assert proceeds + fee > free
    reverts(
        s.vault.functions.sell(market.call_id, 100 * WAD, 0, actors.buyer),
        actors.buyer,
        "InsufficientLiquidity",
        None,
        free,
    )


def test_stale_volatility_stops_trading(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    fund(s, actors.buyer, q(s, 1_000_000))
    warp(s.w3, s.config.vol.max_age_sec + 1)
    refresh_feed(s)
    reverts(
        s.vault.functions.buy(market.call_id, WAD, 2**255, actors.buyer),
        actors.buyer,
        "VolStale",
        market.expiry,
        None,
        None,
    )


# ----------------------------------------------------------------------------- settle / claim


def _expire(s: Suite, m: Market, price_wad: int) -> int:
    """Warp past expiry, publish ``price_wad`` and return the settlement round."""
    warp(s.w3, m.expiry - now(s.w3) + 5)
    refresh_feed(s, price_wad)
    return int(s.feed.functions.latestRound().call())


def test_settle_and_claim(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, 10 * WAD)
    buy(s, actors.buyer, market.put_id, 10 * WAD)
    reverts(s.vault.functions.settle(market.expiry, 1), actors.keeper, "NotExpired")
    reverts(s.vault.functions.claim(market.call_id, actors.buyer), actors.buyer, "NotSettled", market.call_id)
    round_id = _expire(s, market, 3200 * WAD)
    # a round before expiry is not a valid hint
    reverts(s.vault.functions.settle(market.expiry, round_id - 1), actors.keeper, "InvalidSettlementRound")
    refresh_feed(s, 3300 * WAD)
    # nor a later round than the first one at or after expiry
    reverts(s.vault.functions.settle(market.expiry, round_id + 1), actors.keeper, "InvalidSettlementRound")
    reverts(s.vault.functions.settle(market.expiry + 1, round_id), actors.keeper, "NothingToSettle")
    send(s.w3, s.vault.functions.settle(market.expiry, round_id), actors.keeper)
    assert s.vault.functions.settlementPriceWad(market.expiry).call() == 3200 * WAD
    reverts(s.vault.functions.settle(market.expiry, round_id), actors.keeper, "AlreadySettled", market.expiry)
    assert s.vault.functions.liveSeries().call() == []
    owed = 10 * 200 * 10**s.config.quote_decimals
    assert s.vault.functions.payoutsOwed().call() == owed
    reverts(s.vault.functions.sell(market.call_id, WAD, 0, actors.buyer), actors.buyer, "SeriesExpired")
    before = s.quote.functions.balanceOf(actors.other).call()
    send(s.w3, s.vault.functions.claim(market.call_id, actors.other), actors.buyer)
    assert s.quote.functions.balanceOf(actors.other).call() - before == owed
    assert s.vault.functions.payoutsOwed().call() == 0
    reverts(
        s.vault.functions.claim(market.call_id, actors.buyer),
        actors.buyer,
        "NothingToClaim",
        market.call_id,
        actors.buyer,
    )
    # the put expired worthless: claiming burns it for nothing
    send(s.w3, s.vault.functions.claim(market.put_id, actors.buyer), actors.buyer)
    assert s.option_token.functions.balanceOf(actors.buyer, market.put_id).call() == 0
    reverts(s.vault.functions.claim(77, actors.buyer), actors.buyer, "UnknownSeries", 77)
    reverts(s.vault.functions.claim(market.call_id, ZERO), actors.buyer, "ZeroAddress")


def test_claim_works_while_paused(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, WAD)
    round_id = _expire(s, market, 3100 * WAD)
    send(s.w3, s.vault.functions.pause(), s.admin)
    send(s.w3, s.vault.functions.settle(market.expiry, round_id), actors.keeper)
    send(s.w3, s.vault.functions.claim(market.call_id, actors.buyer), actors.buyer)


# ----------------------------------------------------------------------------- upkeep


def test_upkeep_hedges_to_delta_zero_then_is_not_needed(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    assert not needed
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "UpkeepNotNeeded", 0, s.config.hedge.delta_band_wad)
    buy(s, actors.buyer, market.call_id, 50 * WAD)
    before = book(s)
    assert before["net_delta_wad"] < -s.config.hedge.delta_band_wad
    perform_upkeep(s, actors.keeper)
    after = book(s)
    assert abs(after["net_delta_wad"]) <= s.config.hedge.delta_band_wad
    assert after["hedge_wad"] > 0
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    assert not needed
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "UpkeepNotNeeded")


def test_upkeep_settles_with_its_own_hint(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, 10 * WAD)
    round_id = _expire(s, market, 3100 * WAD)
    refresh_feed(s, 3100 * WAD)
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed
    perform_upkeep(s, actors.keeper)
    assert s.vault.functions.settlementPriceWad(market.expiry).call() == 3100 * WAD
    # the hint was the first round at or after expiry, not the latest
    assert data[-32:] == round_id.to_bytes(32, "big")


def test_upkeep_refuses_a_forged_hint(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, 10 * WAD)
    round_id = _expire(s, market, 3100 * WAD)
    refresh_feed(s, 2000 * WAD)
    forged = s.w3.codec.encode(["uint256", "uint80"], [market.expiry, round_id + 1])
    reverts(s.vault.functions.performUpkeep(forged), actors.keeper, "InvalidSettlementRound")


# ----------------------------------------------------------------------------- governance


def test_list_series_errors(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vault.functions
    t = now(s.w3)
    reverts(v.listSeries(t + 30 * DAY, 3000 * WAD, True), actors.other, "AccessControlUnauthorizedAccount")
    reverts(v.listSeries(t + 60, 3000 * WAD, True), s.admin, "BadExpiry")
    reverts(v.listSeries(t + 400 * DAY, 3000 * WAD, True), s.admin, "BadExpiry")
    # strikes within [spot / 10, 10 x spot]: the library's moneyness domain keeps a factor 10 of room
    reverts(v.listSeries(t + 30 * DAY, 299 * WAD, True), s.admin, "BadStrike", 299 * WAD)
    reverts(v.listSeries(t + 30 * DAY, 30_001 * WAD, False), s.admin, "BadStrike", 30_001 * WAD)
    first = list_series(s, t + 30 * DAY, 3000 * WAD, True)
    reverts(v.listSeries(t + 30 * DAY, 3000 * WAD, True), s.admin, "SeriesAlreadyListed", first)
    set_params(s, risk=replace(s.config.risk, max_live_series=2))
    warp(s.w3, s.config.vol.min_interval_sec)  # list_series posts the expiry's vol: the oracle's interval
    list_series(s, t + 30 * DAY, 3100 * WAD, True)
    reverts(v.listSeries(t + 30 * DAY, 3200 * WAD, True), s.admin, "LiveSeriesCap", 2)
    reverts(v.series(42), s.admin, "UnknownSeries", 42)


@pytest.mark.parametrize(
    ("group", "name", "value"),
    [
        ("risk", "hf_floor_wad", WAD - 1),
        ("risk", "spot_shock_up_bps", 9001),
        ("risk", "spot_shock_down_bps", 99),
        ("risk", "vol_shock_wad", 3 * WAD),
        ("risk", "spread_bps", 2001),
        ("risk", "fee_bps", 1001),
        ("risk", "trading_cutoff_sec", 8 * DAY),
        ("risk", "max_live_series", 65),
        ("risk", "rate_wad", -WAD // 5),
        ("limits", "max_open_interest_wad", 0),
        ("limits", "max_net_delta_wad", 10**31),
        ("limits", "max_vega_wad", 10**37),
        ("hedge", "delta_band_wad", 10**11),
        ("hedge", "dust_delta_wad", WAD),
        ("hedge", "hedge_interval_sec", 59),
        ("hedge", "max_slippage_bps", 0),
        ("hedge", "max_nav_loss_bps", 1001),
    ],
)
def test_every_parameter_is_bounded(suite: Suite, group: str, name: str, value: int) -> None:
    s = suite
    groups = {"risk": s.config.risk, "limits": s.config.limits, "hedge": s.config.hedge}
    groups[group] = replace(groups[group], **{name: value})  # type: ignore[arg-type]
    fn = s.vault.functions.setParameters(*(g.as_tuple() for g in groups.values()))
    camel = "".join(p if i == 0 else p.capitalize() for i, p in enumerate(name.split("_")))
    camel = camel.replace("Wad", "Wad").replace("Bps", "Bps").replace("Sec", "Sec")
    args = reverts(fn, s.admin, "ParamOutOfBounds")
    assert args[0].rstrip(b"\0").decode() == camel
    assert args[1] == value


def test_governance_is_role_gated_and_evented(suite: Suite, actors: Actors) -> None:
    s = suite
    v = s.vault.functions
    c = s.config
    fn = v.setParameters(c.risk.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple())
    reverts(fn, actors.attacker, "AccessControlUnauthorizedAccount")
    receipt = send(s.w3, fn, s.admin)
    assert len(s.vault.events.ParametersSet().process_receipt(receipt, errors=DISCARD)) == 1
    reverts(v.setFeeRecipient(actors.attacker), actors.attacker, "AccessControlUnauthorizedAccount")
    reverts(v.setFeeRecipient(ZERO), s.admin, "ZeroAddress")
    send(s.w3, v.setFeeRecipient(actors.other), s.admin)
    assert v.feeRecipient().call() == actors.other
    reverts(v.pause(), actors.attacker, "AccessControlUnauthorizedAccount")
    reverts(v.unpause(), actors.attacker, "AccessControlUnauthorizedAccount")


def test_pause_stops_risk_taking(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, WAD)
    send(s.w3, s.vault.functions.pause(), s.admin)
    v = s.vault.functions
    d = actors.depositor
    fund(s, d, q(s, 10))
    for fn in (
        v.deposit(q(s, 1), d),
        v.mint(10**6, d),
        v.withdraw(q(s, 1), d, d),
        v.redeem(10**6, d, d),
        v.buy(market.call_id, WAD, 2**255, d),
        v.sell(market.call_id, WAD, 0, actors.buyer),
        v.performUpkeep(b""),
    ):
        reverts(fn, actors.buyer if fn.fn_name == "sell" else d, "EnforcedPause")
    assert v.maxDeposit(d).call() == 0 and v.maxWithdraw(d).call() == 0 and v.maxRedeem(d).call() == 0
    send(s.w3, v.unpause(), s.admin)
    deposit(s, d, q(s, 1))


def test_option_token_guards(suite: Suite, actors: Actors) -> None:
    s = suite
    t = s.option_token.functions
    reverts(t.mint(actors.attacker, 1, WAD), actors.attacker, "NotVault", actors.attacker)
    reverts(t.burn(actors.buyer, 1, WAD), actors.attacker, "NotVault", actors.attacker)
    reverts(t.bindVault(actors.attacker), s.admin, "BindRefused", s.admin)
    reverts(
        t.safeTransferFrom(actors.buyer, actors.attacker, 1, 1, b""), actors.attacker, "ERC1155MissingApprovalForAll"
    )


def test_hedge_nav_loss_bound(suite: Suite, actors: Actors, market: Market) -> None:
    s = suite
    buy(s, actors.buyer, market.call_id, 50 * WAD)
    # a 0.01% NAV-loss bound is below the pool fee alone on a hedge of about 30 underlying
    set_params(s, hedge=replace(s.config.hedge, max_nav_loss_bps=1))
    args = reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "HedgeNavLoss")
    assert args[1] < args[0] and args[2] == 1


def test_constructor_refuses_tokens_above_18_decimals(
    suite: Suite, actors: Actors, artifacts: dict[str, Artifact]
) -> None:
    s = suite
    odd = deploy(s.w3, artifacts["MockERC20"], "Odd", "ODD", 19)
    config = (
        odd.address,
        s.underlying.address,
        s.price_oracle.address,
        s.vol_oracle.address,
        s.hedger.address,
        s.option_token.address,
        s.pricer.address,
        s.admin,
        s.fee_recipient,
    )
    vault = link(
        artifacts["OptionVault"], {HEDGE_LIBRARY: s.hedge_library.address, BOOK_LIBRARY: s.book_library.address}
    )
    factory = s.w3.eth.contract(abi=vault.abi, bytecode=vault.bytecode)
    c = s.config
    with pytest.raises(ContractCustomError) as info:
        factory.constructor(config, "x", "x", c.risk.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple()).estimate_gas(
            {"from": s.admin}
        )
    name, args = decode_error(str(info.value.data))
    assert name == "BadConfiguration" and args[0].rstrip(b"\0") == b"decimals"
