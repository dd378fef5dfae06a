"""Depositors, an option buyer and a hedge on a deployed suite, every transaction signed locally
(``hedgevault.txs.send_signed``) as on a testnet. Amounts: whole tokens unless the name says units/wad."""

from __future__ import annotations

import time
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from hedgevault.chain import latest_timestamp
from hedgevault.keeper import ActionRecord, Keeper
from hedgevault.suite import WAD, Suite
from hedgevault.txs import send_signed

DAY = 86_400


@dataclass(frozen=True)
class Run:
    """One ``hedgevault`` run."""

    code: int
    out: str
    err: str


def deposit(s: Suite, who: LocalAccount, whole: int) -> int:
    """Mint ``whole`` quote tokens to ``who`` (mock token), approve and deposit; return the shares."""
    amount = s.quote_units(whole)
    send_signed(s.w3, s.quote.functions.mint(who.address, amount), who)
    send_signed(s.w3, s.quote.functions.approve(s.vault.address, amount), who)
    before = int(s.vault.functions.balanceOf(who.address).call())
    send_signed(s.w3, s.vault.functions.deposit(amount, who.address), who)
    return int(s.vault.functions.balanceOf(who.address).call()) - before


def list_call(
    s: Suite, admin: LocalAccount, days: int, strike_wad: int, vol_wad: int = 8 * WAD // 10, is_call: bool = True
) -> int:
    """List a call (or a put) expiring in ``days`` and post its volatility; return the series id."""
    expiry = latest_timestamp(s.w3) + days * DAY
    fn = s.vault.functions.listSeries(expiry, strike_wad, is_call)
    series_id = int(fn.call({"from": admin.address}))
    send_signed(s.w3, fn, admin)
    send_signed(s.w3, s.vol_oracle.functions.postVol(expiry, vol_wad), admin)
    return series_id


def buy(s: Suite, who: LocalAccount, series_id: int, amount_wad: int) -> int:
    """Buy ``amount_wad`` options at the quoted cost (minted to the buyer); return the premium plus fee."""
    premium, fee = s.vault.functions.quoteBuy(series_id, amount_wad).call()
    cost = int(premium) + int(fee)
    send_signed(s.w3, s.quote.functions.mint(who.address, cost), who)
    send_signed(s.w3, s.quote.functions.approve(s.vault.address, cost), who)
    send_signed(s.w3, s.vault.functions.buy(series_id, amount_wad, cost, who.address), who)
    return cost


def hedge_balance(s: Suite) -> int:
    """The vault's signed hedge (held - borrowed), in underlying wad."""
    return int(s.hedger.functions.position(0, 0).call()[0])


def keep_until_hedged(keeper: Keeper, max_ticks: int = 20) -> list[ActionRecord]:
    """Tick ``keeper`` until it reports a landed hedge (a tick may return with the hedge still pending; the
    next one reconciles it); every record of those ticks. Fails after ``max_ticks`` ticks."""
    records: list[ActionRecord] = []
    for _ in range(max_ticks):
        records += keeper.tick()
        if any(r.kind == "hedge" and r.status == "success" for r in records):
            return records
        time.sleep(0.1)
    raise AssertionError(f"no landed hedge after {max_ticks} ticks: {records}")
