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
    refresh_feed,
    warp,
)
from web3.contract import Contract

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


def _interest(token: Contract, holder: str, start: int) -> int:
    """Interest Aave booked to ``holder`` on ``token`` (aToken or variable debt token) since block ``start``:
    the ``balanceIncrease`` of its Mint and Burn events (each action first accrues what the balance earned or
    owed since the holder's previous action)."""
    total = 0
    for event, who in (("Mint", "onBehalfOf"), ("Burn", "from")):
        for log in getattr(token.events, event)().get_logs(from_block=start):
            if log["args"][who] == holder:
                total += int(log["args"]["balanceIncrease"])
    return total


def test_two_sided_lifecycle_accounts_for_every_token_and_debt_wei(suite: Suite, actors: Actors) -> None:
    """Call-heavy, then put-heavy (the hedge crosses zero into an Aave borrow), interest accruing over days,
    back to call-heavy (the debt repaid with its interest, the collateral returned), an in-the-money call
    expiry, an in-the-money put expiry with a short hedge (unwound in slices after settlement), every claim
    paid, every depositor out, the fees collected.

    Conservation, to the wei, from the vault's and Aave's own events:
      TS_QUOTE:  the vault's quote = deposits + premiums + buy fees - withdrawals - proceeds - payouts - fees
                 collected + the hedge orders' quote changes.
      TS_HEDGE:  the hedge now (held - debt) = the orders' hedge changes - the debt's interest (Aave's
                 balanceIncrease on the hedger's debt token): no underlying or debt wei unexplained.
      TS_COLL:   the collateral now = the orders' collateral changes + its supply interest.
      TS_END:    after the unwind the hedger holds nothing, owes nothing and has no collateral.
      TS_SUPPLY: every quote and underlying unit ever minted is held by a known account.
    """
    s = suite
    w3 = s.w3
    market = s.aave
    assert market is not None
    start = w3.eth.block_number + 1
    debt_token = market.variable_debt_token(s.underlying.address)
    collateral_token = market.a_token(s.quote.address)
    deposit(s, actors.depositor, q(s, 1_500_000))
    deposit(s, actors.depositor2, q(s, 500_000))
    t = now(w3)
    e1, e2 = t + 10 * DAY, t + 20 * DAY
    call1 = list_series(s, e1, 3000 * WAD, True)
    warp(w3, s.config.vol.min_interval_sec)
    put2 = list_series(s, e2, 3100 * WAD, False)
    saw: set[str] = set()

    def hedge_all() -> None:
        for _ in range(12):
            needed, _ = s.vault.functions.checkUpkeep(b"").call()
            if not needed:
                break
            s.move_pool_price(book(s)["spot_wad"], actors.other)  # the arbitrageur first
            perform_upkeep(s, actors.keeper)
        h = book(s)["hedge_wad"]
        saw.add("long" if h > 0 else "short" if h < 0 else "flat")

    def new_day(price: int, days: int = 1) -> None:
        warp(w3, days * DAY)
        move_market(s, price * WAD, actors.attacker)
        for expiry in (e1, e2):
            if now(w3) < expiry:
                post_vol(s, expiry, 8 * WAD // 10)

    buy(s, actors.buyer, call1, 60 * WAD)  # call-heavy: long hedge
    hedge_all()
    buy(s, actors.other, put2, 200 * WAD)  # put-heavy: the hedge crosses zero into a borrow
    hedge_all()
    assert book(s)["hedge_wad"] < 0 and book(s)["collateral"] > 0
    for price in (2950, 3050, 3100):  # interest accrues over days
        new_day(price, 2)
        hedge_all()
    send(w3, s.vault.functions.sell(put2, 150 * WAD, 0, actors.other), actors.other)  # back toward long
    hedge_all()
    new_day(3200, 3)  # into e1's last day: the call is in the money
    hedge_all()
    warp(w3, e1 - now(w3) + 60)
    refresh_feed(s)
    perform_upkeep(s, actors.keeper)  # settles e1
    send(w3, s.vault.functions.claim(call1, actors.buyer), actors.buyer)
    post_vol(s, e2, 8 * WAD // 10)
    hedge_all()
    new_day(2900, 2)  # the put is in the money: the hedge is short again
    hedge_all()
    assert book(s)["hedge_wad"] < 0
    warp(w3, e2 - now(w3) + 60)
    refresh_feed(s)
    perform_upkeep(s, actors.keeper)  # settles e2: the book is empty, the hedge unwinds in slices
    hedge_all()
    send(w3, s.vault.functions.claim(put2, actors.other), actors.other)
    assert {"long", "short"} <= saw, saw

    d = [int(x) for x in s.hedger.functions.details(2000).call()]
    assert d[0] <= s.config.hedge.delta_band_wad and d[1] == 0 and d[2] == 0, f"TS_END: {d}"
    # the last dust of the long hedge (inside the band) stays: sell it by hand is not the vault's job
    for who in (actors.depositor, actors.depositor2):
        shares = s.vault.functions.maxRedeem(who).call()
        send(w3, s.vault.functions.redeem(shares, who, who), who)
    send(w3, s.vault.functions.collectFees(), actors.keeper)

    logs = {name: _logs(s, name, start) for name in ("Deposit", "Withdraw", "Bought", "Sold", "Claimed", "Hedged")}
    hedges = logs["Hedged"]
    expected_quote = (
        sum(e["assets"] for e in logs["Deposit"])
        + sum(e["premium"] + e["fee"] for e in logs["Bought"])
        - sum(e["assets"] for e in logs["Withdraw"])
        - sum(e["proceeds"] for e in logs["Sold"])
        - sum(e["payout"] for e in logs["Claimed"])
        - sum(e["amount"] for e in _logs(s, "FeesCollected", start))
        + sum(e["quoteChange"] for e in hedges)
    )
    assert s.quote.functions.balanceOf(s.vault.address).call() == expected_quote, "TS_QUOTE"
    scale = 10 ** (18 - s.config.underlying_decimals)
    hedge_now = s.hedger.functions.position(0, 0).call()[0]
    debt_interest = _interest(debt_token, s.hedger.address, start) * scale
    assert debt_interest > 0, "the short paid interest"
    assert hedge_now == sum(e["hedgeChangeWad"] for e in hedges) - debt_interest, "TS_HEDGE"
    supply_interest = _interest(collateral_token, s.hedger.address, start)
    assert sum(e["collateralChange"] for e in hedges) + supply_interest == 0, "TS_COLL"

    quote_holders = {s.vault.address, s.hedger.address, s.fee_recipient, s.pool.address, s.admin}
    quote_holders |= {collateral_token.address} | {getattr(actors, f) for f in actors.__dataclass_fields__}
    total = sum(s.quote.functions.balanceOf(h).call() for h in quote_holders)
    assert total == s.quote.functions.totalSupply().call(), "TS_SUPPLY: quote outside known holders"
    under_holders = quote_holders | {market.a_token(s.underlying.address).address}
    total = sum(s.underlying.functions.balanceOf(h).call() for h in under_holders)
    assert total == s.underlying.functions.totalSupply().call(), "TS_SUPPLY: underlying outside known holders"
