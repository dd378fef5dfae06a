"""The option vault's gas paths of branch vbuy (issues 10 and 13's buy, smile and short-slice targets): each
shortcut gives the same result as the path it skips.

- The claims' reserve: the vault checks the reserve's window on the head slot before the library call
  (`OptionVault._claimReserve`): while the stored bound on the nearest expiry with open interest lies beyond
  the window, no call; at the bound to the second, the call and its loop.
- The record of a long hedge keeps no copy of the hedger's `canShort` (slot 7: the payouts owed, the long
  hedge, its known flag and an in-use bit that keeps the slot from being cleared): a valuation from the record
  never enters the hedge target, which only the upkeep computes, from the hedger's own position.
- Unchecked arithmetic in `BookMarking` (each bound beside it): a re-mark's aggregates stay the exact ceilings.
"""

from __future__ import annotations

from vaultkit import DAY, WAD, Actors, book, buy, calls_to, deposit, list_series, now, post_vol, q, refresh_feed
from web3.logs import DISCARD

from hedgevault.chain import warp
from hedgevault.suite import Suite
from hedgevault.txs import send


def test_the_claim_reserve_at_the_stored_bound_to_the_second(suite: Suite, actors: Actors) -> None:
    """Marks made exactly three days before a put's expiry store its bound as 72 whole hours; one day before
    the expiry the window's end equals that bound, and the reserve counts the put (the vault's check is
    strict, as the library's)."""
    s = suite
    deposit(s, actors.depositor, q(s, 300_000))
    expiry = now(s.w3) + 4 * DAY
    put = list_series(s, expiry, 3200 * WAD, False)
    buy(s, actors.buyer, put, 10 * WAD)
    warp(s.w3, expiry - now(s.w3) - 3 * DAY)
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10)
    send(s.w3, s.vault.functions.remark(), actors.keeper)
    assert book(s)["marked_at_sec"] == expiry - 3 * DAY, "the marks were made three days before the expiry"
    warp(s.w3, 2 * DAY)
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10)
    assert now(s.w3) + DAY == expiry
    assert book(s)["claim_reserve"] == 10 * 200 * 10**6


def test_no_library_call_for_the_reserve_while_no_expiry_is_near(suite: Suite, actors: Actors) -> None:
    """A withdrawal far from any expiry calls the book library once (its book); near an expiry twice (the
    book, then the reserve's loop), and the reserve is then kept out of what may leave."""
    s = suite
    deposit(s, actors.depositor, q(s, 300_000))
    expiry = now(s.w3) + 3 * DAY
    put = list_series(s, expiry, 3200 * WAD, False)
    buy(s, actors.buyer, put, 10 * WAD)
    library = s.book_library.address
    withdraw = s.vault.functions.withdraw(q(s, 1_000), actors.depositor, actors.depositor)
    assert calls_to(s, send(s.w3, withdraw, actors.depositor), library, "DELEGATECALL") == 1
    assert book(s)["claim_reserve"] == 0
    warp(s.w3, 2 * DAY)
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10)
    assert calls_to(s, send(s.w3, withdraw, actors.depositor), library, "DELEGATECALL") == 2
    assert book(s)["claim_reserve"] == 10 * 200 * 10**6


def _slot7(s: Suite) -> int:
    """Slot 7 of the vault's marks (`BookMarking.Stored`, storage slot 6 + 7): payouts owed, the record, inUse."""
    return int.from_bytes(s.w3.eth.get_storage_at(s.vault.address, 6 + 7), "big")


def _upkeep(s: Suite, actors: Actors) -> None:
    s.move_pool_price(book(s)["spot_wad"], actors.other)
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed
    send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)


def test_the_record_holds_no_copy_of_can_short_and_the_upkeep_still_goes_short(suite: Suite, actors: Actors) -> None:
    """With the Aave hedger (it can short): a recorded long hedge is its amount, the known flag and the in-use
    bit, nothing of the hedger's kind; puts that turn the target negative are hedged short by the next upkeep
    (the upkeep reads the hedger), which leaves the record unknown and the slot in use (never cleared)."""
    s = suite
    assert s.hedger.functions.canShort().call()
    assert _slot7(s) == (1 << 240) | (1 << 248), "a new vault: a known flat hedge, in use"
    deposit(s, actors.depositor, q(s, 1_000_000))
    call = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call, 60 * WAD)
    _upkeep(s, actors)
    hedge = book(s)["hedge_wad"]
    assert hedge > 0
    assert _slot7(s) == (hedge << 128) | (1 << 240) | (1 << 248)
    put = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, False)
    buy(s, actors.buyer, put, 150 * WAD)
    assert book(s)["book_delta_wad"] > 0, "the target is now short"
    _upkeep(s, actors)
    assert book(s)["hedge_wad"] < 0, "the upkeep went short (the hedger's canShort, not the record's)"
    assert _slot7(s) == 1 << 248, "a short hedge is not recorded; the slot stays in use"


def test_a_remark_stores_the_series_mark_rounded_up(suite: Suite, actors: Actors) -> None:
    """The marks' aggregates are exact sums of ceil(open x price) (`BookMarking._up`, unchecked): a re-mark of one
    series with an open interest whose product with the price is not a whole wad emits that ceiling."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 20 * DAY
    strike = 3100 * WAD
    call = list_series(s, expiry, strike, True)
    amount = 5 * WAD + 1
    buy(s, actors.buyer, call, amount)
    receipt = send(s.w3, s.vault.functions.remark(), actors.keeper)
    marked = s.vault.events.BookMarked().process_receipt(receipt, errors=DISCARD)[0]["args"]
    t = book(s)["marked_at_sec"]
    vol = int(s.vol_oracle.functions.volWad(expiry).call())
    rate = s.config.risk.rate_wad
    price = int(s.pricer.functions.markAndDelta(marked["spotWad"], strike, expiry - t, vol, rate, True).call()[0])
    assert amount * price % WAD != 0, "the product is not a whole wad: the rounding shows"
    assert marked["markWad"] == -(-amount * price // WAD)
