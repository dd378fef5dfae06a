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
            row["iv"] = from_wad(posted, 4) if posted else "not posted"
            row["iv_posted_at"] = utc_date(updated_at) if updated_at else "-"
        rows.append(row)
        series_id += 1
    return rows
