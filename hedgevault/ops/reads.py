"""Reads shared by `status`, `series` and `positions`: every listed series with its quote now, dates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from web3.exceptions import ContractCustomError

from hedgevault.chain import latest_timestamp
from hedgevault.suite import Suite
from hedgevault.units import WAD, from_units, from_wad

#: Shares, options and prices are shown to this many decimals.
_PLACES = 6


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def series_rows(suite: Suite) -> list[dict[str, Any]]:
    """Every series the vault listed (ids 1..n), with its quote now where it trades."""
    from hedgevault.ops.actions import _call

    decimals = int(suite.quote.functions.decimals().call())
    rows: list[dict[str, Any]] = []
    live = {int(i) for i in suite.vault.functions.liveSeries().call()}
    now = latest_timestamp(suite.w3)
    one = WAD // 100  # quote 0.01 option: a price per option that a small trade can get
    series_id = 1
    while True:
        try:
            expiry, is_call, strike, open_interest = suite.vault.functions.series(series_id).call()
        except ContractCustomError:  # UnknownSeries: ids run 1..n
            break
        row: dict[str, Any] = {
            "id": series_id,
            "expiry": utc_date(int(expiry)),
            "expiry_unix": int(expiry),
            "type": "call" if is_call else "put",
            "strike": from_wad(int(strike), _PLACES),
            "open_interest": from_wad(int(open_interest), _PLACES),
        }
        settlement = int(suite.vault.functions.settlementPriceWad(int(expiry)).call())
        if series_id not in live:
            row["state"] = f"settled at {from_wad(settlement, _PLACES)}" if settlement else "removed"
        elif int(expiry) <= now:
            row["state"] = "expired, to settle"
        else:
            row["state"] = "live"
            try:
                ask, fee = _call("quote", suite.vault.functions.quoteBuy(series_id, one), suite.admin)
                bid, _ = _call("quote", suite.vault.functions.quoteSell(series_id, one), suite.admin)
                row["ask"] = from_units((int(ask) + int(fee)) * 100, decimals, _PLACES)
                row["bid"] = from_units(int(bid) * 100, decimals, _PLACES)
            except Exception as exc:  # noqa: BLE001 - a series that does not trade now says why
                row["ask"] = row["bid"] = "-"
                row["state"] = f"live, not trading: {str(exc).split(':', 1)[0]}"
            posted, updated_at = (int(v) for v in suite.vol_oracle.functions.lastPost(int(expiry)).call())
            iv = _strike_vol(suite, int(expiry), int(strike), posted, updated_at, now) if posted else 0
            row["iv"] = from_wad(iv, 4) if posted else "not posted"
            row["iv_posted_at"] = utc_date(updated_at) if updated_at else "-"
        rows.append(row)
        series_id += 1
    return rows


def _strike_vol(suite: Suite, expiry: int, strike_wad: int, atm_wad: int, posted_at: int, now: int) -> int:
    """The vol the vault prices this strike at now (its expiry's slice at the strike, BookMarking's rule, at the
    oracle's spot and the vault's rate; the posted vol for a flat slice). Display only: the vault evaluates it at
    its cached marks' spot."""
    from hedgevault.surface.mirror import Slice
    from hedgevault.surface.oracle_rules import series_vol_wad

    sl = Slice(*(int(x) for x in suite.vol_oracle.functions.sliceOf(expiry).call()))
    if sl.b_wad == 0:
        return atm_wad
    p = suite.vol_oracle.functions.params().call()
    spot = int(suite.price_oracle.functions.feedSpotWad().call())
    rate = suite.config.risk.rate_wad  # the deployment's rate (the vault has no getter for its parameters)
    return series_vol_wad(sl, atm_wad, strike_wad, spot, rate, expiry - now, expiry - posted_at, int(p[0]), int(p[1]))
