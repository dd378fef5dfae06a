"""A full life: deposits, calls and puts bought and sold back, price moves through the pool and the feed,
hedges on the real Uniswap pool, two expiries settled by upkeeps, claims, full withdrawals, the fees
collected.

Conservation, to the wei, from the vault's own events:
  CONS_A: quote held by the vault = deposits + premiums + buy fees - withdrawals - sale proceeds - payouts
          - fees collected + the quote changes of its hedge orders (`Hedged.quoteChange`; every fee stays
          in the vault, owed to the fee recipient, until collected).
  CONS_B: the hedge (held minus borrowed) = the sum of the orders' hedge changes (a long hedge here: no
          interest), and the vault itself holds no underlying.
  CONS_C: every quote unit ever minted is held by a known account (actors, vault, fee recipient, pool).
  CONS_D: after every claim, what stays owed is rounding dust: at most one unit per settled series.
  CONS_E: the fee recipient got every fee but the one unit that stays owed.
"""

from __future__ import annotations

from vaultkit import (
    DAY,
    WAD,
    Actors,
    book,
    buy,
    deposit,
    list_series,
    move_market,
    now,
    perform_upkeep,
    post_vol,
    q,
    warp,
)

from hedgevault.suite import Suite
from hedgevault.txs import send


def _logs(s: Suite, event: str, start: int) -> list[dict]:  # type: ignore[type-arg]
    return [dict(e["args"]) for e in getattr(s.vault.events, event)().get_logs(from_block=start)]


def test_full_lifecycle_conserves_every_token(any_suite: Suite, actors: Actors) -> None:
    s = any_suite
    w3 = s.w3
    start = w3.eth.block_number + 1
    deposit(s, actors.depositor, q(s, 500_000))
    deposit(s, actors.depositor2, q(s, 200_000))
    t = now(w3)
    e1, e2 = t + 30 * DAY, t + 60 * DAY
    call1 = list_series(s, e1, 3000 * WAD, True)
    warp(w3, s.config.vol.min_interval_sec)  # list_series posts the expiry's vol: the oracle's interval
    put1 = list_series(s, e1, 2800 * WAD, False)
    call2 = list_series(s, e2, 3300 * WAD, True)
    buy(s, actors.buyer, call1, 40 * WAD)
    buy(s, actors.buyer, put1, 30 * WAD)
    buy(s, actors.other, call2, 10 * WAD)
    perform_upkeep(s, actors.keeper)
    assert abs(book(s)["net_delta_wad"]) <= s.config.hedge.delta_band_wad

    # the market rallies 5%: pool first (arbitrageur), then the feed; vols re-posted
    warp(w3, 2 * DAY)
    move_market(s, 3150 * WAD, actors.attacker)
    post_vol(s, e1, 8 * WAD // 10)
    post_vol(s, e2, 8 * WAD // 10)
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    if needed:
        perform_upkeep(s, actors.keeper)
    send(w3, s.vault.functions.sell(call1, 10 * WAD, 0, actors.buyer), actors.buyer)

    # first expiry at 3200
    warp(w3, e1 - now(w3) - 900)
    move_market(s, 3200 * WAD, actors.attacker)
    post_vol(s, e2, 8 * WAD // 10)
    warp(w3, 1000)
    s.set_feed_price(3200 * WAD)
    perform_upkeep(s, actors.keeper)  # settles e1
    assert s.vault.functions.settlementPriceWad(e1).call() == 3200 * WAD
    post_vol(s, e2, 8 * WAD // 10)
    perform_upkeep(s, actors.keeper)  # re-hedges what is left (call2)
    send(w3, s.vault.functions.claim(call1, actors.buyer), actors.buyer)
    send(w3, s.vault.functions.claim(put1, actors.buyer), actors.buyer)

    # second expiry at 3250
    warp(w3, e2 - now(w3) - 900)
    move_market(s, 3250 * WAD, actors.attacker)
    warp(w3, 1000)
    s.set_feed_price(3250 * WAD)
    perform_upkeep(s, actors.keeper)  # settles e2
    perform_upkeep(s, actors.keeper)  # sells the whole hedge
    send(w3, s.vault.functions.claim(call2, actors.other), actors.other)
    assert s.hedger.functions.position(0, 0).call()[0] == 0

    for who in (actors.depositor, actors.depositor2):
        shares = s.vault.functions.balanceOf(who).call()
        assert s.vault.functions.maxRedeem(who).call() == shares
        send(w3, s.vault.functions.redeem(shares, who, who), who)
    assert s.vault.functions.totalSupply().call() == 0
    send(w3, s.vault.functions.collectFees(), actors.keeper)

    deposits = sum(e["assets"] for e in _logs(s, "Deposit", start))
    withdrawals = sum(e["assets"] for e in _logs(s, "Withdraw", start))
    premiums = sum(e["premium"] for e in _logs(s, "Bought", start))
    buy_fees = sum(e["fee"] for e in _logs(s, "Bought", start))
    fees = buy_fees + sum(e["fee"] for e in _logs(s, "Sold", start))
    collected = sum(e["amount"] for e in _logs(s, "FeesCollected", start))
    proceeds = sum(e["proceeds"] for e in _logs(s, "Sold", start))
    payouts = sum(e["payout"] for e in _logs(s, "Claimed", start))
    hedges = _logs(s, "Hedged", start)
    hedge_quote = sum(e["quoteChange"] for e in hedges)
    assert all(e["collateralChange"] == 0 for e in hedges), "a long hedge needs no collateral"
    held = s.quote.functions.balanceOf(s.vault.address).call()
    expected = deposits + premiums + buy_fees - withdrawals - proceeds - payouts - collected + hedge_quote
    assert held == expected, "CONS_A: vault quote != in - out"
    hedge_wad = s.hedger.functions.position(0, 0).call()[0]
    assert hedge_wad == sum(e["hedgeChangeWad"] for e in hedges) == 0, "CONS_B"
    assert s.underlying.functions.balanceOf(s.vault.address).call() == 0, "CONS_B"
    assert s.quote.functions.balanceOf(s.fee_recipient).call() == collected == fees - 1, "CONS_E"
    assert s.vault.functions.feesOwed().call() == 1, "CONS_E"

    assert s.aave is not None
    # the Aave market's quote aToken holds its reserve (the burn-address seed)
    holders = {s.vault.address, s.fee_recipient, s.pool.address, s.admin, s.aave.a_token(s.quote.address).address}
    holders |= {getattr(actors, f) for f in actors.__dataclass_fields__}
    total = sum(s.quote.functions.balanceOf(h).call() for h in holders)
    assert total == s.quote.functions.totalSupply().call(), "CONS_C: quote outside known holders"

    owed = s.vault.functions.payoutsOwed().call() + 1  # and the fee unit that stays owed
    assert owed <= 4, "CONS_D: more than rounding dust still owed"
    # the vault keeps only dust: what is owed plus the virtual-share rounding
    assert held - owed <= 10, f"left in the vault after everyone left: {held - owed}"
    settles = s.vault.events.ExpirySettled().get_logs(from_block=start)
    assert {e["args"]["expiry"] for e in settles} == {e1, e2}
