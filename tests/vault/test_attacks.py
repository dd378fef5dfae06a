"""Attacks: inflation/donation on the first deposit, a sandwich of the hedge swap, a manipulated or stale
feed, reentrancy through the ERC-1155 receiver hook, performUpkeep when checkUpkeep is false."""

from __future__ import annotations

import pytest
from vaultkit import (
    DAY,
    WAD,
    Actors,
    book,
    buy,
    decode_error,
    deposit,
    fund,
    list_series,
    now,
    q,
    refresh_feed,
    reverts,
    warp,
)
from web3.logs import DISCARD

from hedgevault.suite import Suite
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send
from hedgevault.uniswap import swap_exact_input

#: The victim of a first-deposit donation loses at most this fraction of the deposit (1 bp): with 6
#: virtual decimals the rounding is worth donation / 1e6 shares' price.
VICTIM_MAX_LOSS_BPS = 1


@pytest.mark.parametrize("donation_whole", [10_000, 1_000_000])
def test_first_deposit_donation_attack_fails(any_suite: Suite, actors: Actors, donation_whole: int) -> None:
    s = any_suite
    attacker, victim = actors.attacker, actors.depositor
    deposit(s, attacker, 1)  # one quote unit
    donation = q(s, donation_whole)
    send(s.w3, s.quote.functions.mint(attacker, donation), attacker)
    send(s.w3, s.quote.functions.transfer(s.vault.address, donation), attacker)
    victim_assets = q(s, 10_000)
    shares = deposit(s, victim, victim_assets)
    assert shares > 0
    victim_value = s.vault.functions.previewRedeem(shares).call()
    assert (victim_assets - victim_value) * 10_000 <= VICTIM_MAX_LOSS_BPS * victim_assets
    attacker_value = s.vault.functions.previewRedeem(s.vault.functions.balanceOf(attacker).call()).call()
    assert attacker_value < donation + 1, "the attacker must lose on the donation"


def _vault_with_delta(s: Suite, a: Actors) -> int:
    deposit(s, a.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 30 * DAY
    call_id = list_series(s, expiry, 3000 * WAD, True)
    buy(s, a.buyer, call_id, 60 * WAD)
    return call_id


def test_sandwich_beyond_the_pool_bound_reverts(suite: Suite, actors: Actors) -> None:
    s = suite
    _vault_with_delta(s, actors)
    s.move_pool_price(3070 * WAD, actors.attacker)  # +2.3%: beyond the 2% pool bound
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "PoolPriceDeviation", 3000 * WAD, None, 200)


def test_sandwich_beyond_slippage_trades_nothing(suite: Suite, actors: Actors) -> None:
    """A pool pushed beyond the slice's price limit (oracle spot x 1.01, fee included) leaves nothing to buy:
    the upkeep reverts before the swap with the pool's and the limit's prices, and the vault keeps its quote."""
    s = suite
    _vault_with_delta(s, actors)
    s.move_pool_price(3045 * WAD, actors.attacker)  # +1.5%: inside the pool bound, beyond 1% slippage
    quote_before = s.quote.functions.balanceOf(s.vault.address).call()
    pool_sqrt, limit_sqrt = reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "PoolBeyondLimit")
    assert pool_sqrt > 0 and limit_sqrt > 0 and pool_sqrt != limit_sqrt
    assert s.quote.functions.balanceOf(s.vault.address).call() == quote_before


def test_sandwich_inside_slippage_loses_at_most_the_bound(suite: Suite, actors: Actors) -> None:
    s = suite
    _vault_with_delta(s, actors)
    nav_before = s.vault.functions.totalAssets().call()
    # front-run: buy underlying to push the pool up about 0.2%
    spent = q(s, 60_000)
    send(s.w3, s.quote.functions.mint(actors.attacker, spent), actors.attacker)
    got = swap_exact_input(s.w3, s.uniswap, s.quote, s.underlying, 3000, spent, actors.attacker)
    receipt = send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    hedged = s.vault.events.Hedged().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert hedged["hedgeChangeWad"] > 0 and hedged["collateralChange"] == 0
    bound = hedged["hedgeChangeWad"] * 3000 * (10_000 + s.config.hedge.max_slippage_bps) // 10_000
    bound = bound * 10**s.config.quote_decimals // WAD + 1
    assert -hedged["quoteChange"] <= bound
    # back-run
    swap_exact_input(s.w3, s.uniswap, s.underlying, s.quote, 3000, got, actors.attacker)
    nav_after = s.vault.functions.totalAssets().call()
    max_loss = nav_before * s.config.hedge.max_nav_loss_bps // 10_000
    assert nav_before - nav_after <= max_loss
    assert abs(book(s)["net_delta_wad"]) <= s.config.hedge.delta_band_wad


def test_manipulated_feed_fails_closed(suite: Suite, actors: Actors) -> None:
    s = suite
    call_id = _vault_with_delta(s, actors)
    fund(s, actors.buyer, q(s, 1_000_000))
    refresh_feed(s, 4000 * WAD)  # a feed spike the pool's TWAP does not confirm
    for fn, who in (
        (s.vault.functions.buy(call_id, WAD, 2**255, actors.buyer), actors.buyer),
        (s.vault.functions.deposit(q(s, 1), actors.buyer), actors.buyer),
        (s.vault.functions.withdraw(q(s, 1), actors.depositor, actors.depositor), actors.depositor),
        (s.vault.functions.performUpkeep(b""), actors.keeper),
    ):
        reverts(fn, who, "TwapDeviation", 4000 * WAD, None, s.config.oracle.max_twap_deviation_bps)
    # ERC-4626's views never revert: the conservative NAV, deposits and withdrawals closed
    v = s.vault.functions
    assert v.totalAssets().call() > 0
    assert v.maxDeposit(actors.buyer).call() == 0
    assert v.maxMint(actors.buyer).call() == 0
    assert v.maxWithdraw(actors.depositor).call() == 0
    assert v.maxRedeem(actors.depositor).call() == 0
    assert v.convertToAssets(10**12).call() > 0


def test_manipulated_pool_alone_does_not_move_prices(suite: Suite, actors: Actors) -> None:
    s = suite
    call_id = _vault_with_delta(s, actors)
    quote_before = s.vault.functions.quoteBuy(call_id, WAD).call()
    s.move_pool_price(2000 * WAD, actors.attacker)  # one block: the TWAP barely moves
    assert s.vault.functions.quoteBuy(call_id, WAD).call() == quote_before
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "PoolPriceDeviation")


def test_stale_feed_fails_closed(suite: Suite, actors: Actors) -> None:
    s = suite
    call_id = _vault_with_delta(s, actors)
    warp(s.w3, s.config.oracle.heartbeat_sec + 1)
    reverts(s.vault.functions.buy(call_id, WAD, 2**255, actors.buyer), actors.buyer, "FeedStale")
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "FeedStale")


@pytest.mark.parametrize("reentry", ["buy", "sell", "deposit", "withdraw", "claim", "performUpkeep"])
def test_erc1155_receiver_cannot_reenter(
    suite: Suite, actors: Actors, artifacts: dict[str, Artifact], reentry: str
) -> None:
    s = suite
    call_id = _vault_with_delta(s, actors)
    attacker = deploy(s.w3, artifacts["ReentrantBuyer"], s.vault.address, s.quote.address, sender=actors.attacker)
    send(s.w3, s.quote.functions.mint(attacker.address, q(s, 1_000_000)), actors.attacker)
    a = attacker.address
    calls = {
        "buy": s.vault.functions.buy(call_id, WAD, 2**255, a),
        "sell": s.vault.functions.sell(call_id, WAD, 0, a),
        "deposit": s.vault.functions.deposit(q(s, 1), a),
        "withdraw": s.vault.functions.withdraw(1, a, a),
        "claim": s.vault.functions.claim(call_id, a),
        "performUpkeep": s.vault.functions.performUpkeep(b""),
    }
    data = calls[reentry]._encode_transaction_data()
    # bubbling: the whole buy fails with the guard's error
    send(s.w3, attacker.functions.arm(data, False), actors.attacker)
    reverts(attacker.functions.attackBuy(call_id, WAD, 2**255), actors.attacker, "ReentrancyGuardReentrantCall")
    # swallowing: the buy succeeds but the reentry did not
    send(s.w3, attacker.functions.arm(data, True), actors.attacker)
    send(s.w3, attacker.functions.attackBuy(call_id, WAD, 2**255), actors.attacker)
    assert not attacker.functions.reentrySucceeded().call()
    name, _ = decode_error(attacker.functions.reentryRevert().call())
    assert name == "ReentrancyGuardReentrantCall"
    assert s.option_token.functions.balanceOf(a, call_id).call() == WAD


def test_perform_upkeep_when_check_upkeep_is_false(suite: Suite, actors: Actors) -> None:
    s = suite
    _vault_with_delta(s, actors)
    send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    assert not needed
    reverts(s.vault.functions.performUpkeep(b""), actors.attacker, "UpkeepNotNeeded")
    # calldata is never trusted: a made-up settlement is refused
    future = now(s.w3) + 30 * DAY
    forged = s.w3.codec.encode(["uint256", "uint80"], [future, 1])
    reverts(s.vault.functions.performUpkeep(forged), actors.attacker, "NotExpired")
    refresh_feed(s)
    when = now(s.w3) - 1
    hint = s.price_oracle.functions.firstRoundAtOrAfter(when).call()
    past = s.w3.codec.encode(["uint256", "uint80"], [when, hint])
    reverts(s.vault.functions.performUpkeep(past), actors.attacker, "NothingToSettle")
