"""The state of a vault as a depositor or a risk manager reads it: NAV, share price, health factor,
Greeks, the hedge (signed, and for an Aave hedger its long, debt, collateral, Aave's health factor now
and under the vault's spot-up shock, and the rates), limits, live series, and (for an account) what it
holds and may withdraw now.

Values that need the oracles (``book()``, ``totalAssets``) fail closed on-chain; the status then says
which error stopped them instead of failing as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hedgevault.chain.rpc import Revert, Rpc
from hedgevault.deployment.vault_stack import latest_parameters
from hedgevault.ops.reads import (
    Batch,
    Market,
    add_series_details,
    listed_series,
    revert_text,
    series_probe,
    series_table,
    utc_date,
    value,
)
from hedgevault.suite import Suite
from hedgevault.units import from_units, from_wad

RAY = 10**27
#: Aave's health factor with no debt (type(uint256).max).
NO_DEBT_HF = 2**256 - 1


def hedger_status(
    suite: Suite, shock_up_bps: int | None, can_short: bool | None = None, details: Any = None
) -> dict[str, Any]:
    """The hedging module: its address, whether it can go short, and ``IHedger.details(shockUpBps)`` at the
    vault's spot-up shock (underlying wad, quote units, health factors in wad, rates in ray a year); when
    ``shock_up_bps`` is unknown (no ParametersSet event found) or ``details`` reverts, ``details_error`` says
    why and ``details`` is None. ``can_short`` and ``details`` (its answer or ``Revert``) are read now unless
    given (``vault_status`` reads them in its batch)."""
    hedger = suite.hedger
    if can_short is None:
        batch = Batch()
        calls = [batch.add(hedger, "canShort")]
        if shock_up_bps is not None:
            calls.append(batch.add(hedger, "details", shock_up_bps))
        batch.run(Rpc(suite.w3))
        can_short = bool(value(batch[calls[0]]))
        details = batch[calls[1]] if shock_up_bps is not None else None
    out: dict[str, Any] = {"address": hedger.address, "can_short": bool(can_short)}
    if shock_up_bps is None:
        out["details"], out["details_error"] = None, "the vault's spot-up shock is unknown (no ParametersSet event)"
        return out
    raw, out["details_error"] = _tried(details)
    out["shock_up_bps"] = shock_up_bps
    if raw is None:
        out["details"] = None
        return out
    names = ("longWad", "debtWad", "collateral", "healthFactorWad", "healthFactorShockWad")
    out["details"] = {name: int(v) for name, v in zip((*names, "borrowRateRay", "supplyRateRay"), raw, strict=True)}
    return out


def _tried(answer: Any) -> tuple[Any, str | None]:
    """A batched answer as (value, None), or (None, why) when it reverted."""
    if isinstance(answer, Revert):
        return None, revert_text(answer)
    return answer, None


def vault_status(suite: Suite, account: str | None = None, rpc: Rpc | None = None) -> dict[str, Any]:
    """Everything ``hedgevault status`` prints, as plain values (ints in their on-chain units): four round
    trips (the chain id and head, the ParametersSet logs, then two batches of view calls) for up to
    ``SERIES_PROBE`` listed series."""
    vault = suite.vault
    rpc = rpc or Rpc(suite.w3)
    chain_id, block = rpc.checked([("eth_chainId", []), ("eth_getBlockByNumber", ["latest", False])])
    now = int(block["timestamp"], 16)
    parameters = latest_parameters(suite.vault) or {}
    risk = parameters.get("risk")
    shock = int(risk["spotShockUpBps"]) if risk else None

    first = Batch()
    at = {name: first.add(vault, name) for name in _VAULT_VIEWS}
    at["quote_decimals"] = first.add(suite.quote, "decimals")
    at["upkeep"] = first.add(vault, "checkUpkeep", b"")
    at["can_short"] = first.add(suite.hedger, "canShort")
    if shock is not None:
        at["details"] = first.add(suite.hedger, "details", shock)
    market_at = (first.add(suite.vol_oracle, "params"), first.add(suite.price_oracle, "feedSpotWad"))
    if account is not None:
        at["shares"] = first.add(vault, "balanceOf", account)
        at["quote_balance"] = first.add(suite.quote, "balanceOf", account)
        at["max_withdraw"] = first.add(vault, "maxWithdraw", account)
        at["max_redeem"] = first.add(vault, "maxRedeem", account)
    probes = series_probe(first, suite)
    first.run(rpc)

    quote_decimals = int(value(first[at["quote_decimals"]]))
    share_decimals = int(value(first[at["decimals"]]))
    live_ids = [int(i) for i in value(first[at["liveSeries"]])]
    live = set(live_ids)
    listed = listed_series(rpc, suite, first, probes)
    second = Batch()
    details = add_series_details(second, suite, listed, live, now)
    price_at = second.add(vault, "convertToAssets", 10**share_decimals)
    shares = int(value(first[at["shares"]])) if account is not None else 0
    if account is not None:
        assets_at = second.add(vault, "convertToAssets", shares)
        held_at = {i: second.add(suite.option_token, "balanceOf", account, i) for i in live_ids}
    second.run(rpc, suite.admin)

    status: dict[str, Any] = {
        "chain_id": int(chain_id, 16),
        "block": int(block["number"], 16),
        "timestamp": now,
        "vault": vault.address,
        "quote_decimals": quote_decimals,
        "share_decimals": share_decimals,
        "paused": bool(value(first[at["paused"]])),
        "exit_mode": bool(value(first[at["exitMode"]])),
        "total_supply": int(value(first[at["totalSupply"]])),
        "last_hedge_time": int(value(first[at["lastHedgeTime"]])),
        "payouts_owed": int(value(first[at["payoutsOwed"]])),
        "fees_owed": int(value(first[at["feesOwed"]])),
        "parameters": parameters,
    }
    can_short = bool(value(first[at["can_short"]]))
    status["hedger"] = hedger_status(suite, shock, can_short, first[at["details"]] if shock is not None else None)
    total_assets, total_assets_error = _tried(first[at["totalAssets"]])
    status["total_assets"] = None if total_assets is None else int(total_assets)
    status["total_assets_error"] = total_assets_error
    share_price, _ = _tried(second[price_at])
    status["share_price"] = None if share_price is None else int(share_price)
    raw_book, status["book_error"] = _tried(first[at["book"]])
    status["book"] = suite.book_view(raw_book) if raw_book is not None else None
    upkeep, status["upkeep_error"] = _tried(first[at["upkeep"]])
    status["upkeep_needed"] = None if upkeep is None else bool(upkeep[0])
    status["upkeep_reason"] = _upkeep_reason(suite, upkeep, status["book"], status["parameters"])
    market = Market(first[market_at[0]], first[market_at[1]])
    rows = series_table(suite, listed, live, now, quote_decimals, second, details, market)
    quotes = {row["id"]: row for row in rows}
    by_id = dict(listed)
    series = []
    for series_id in live_ids:
        expiry, is_call, strike_wad, open_wad = by_id[series_id]
        quoted = quotes.get(series_id, {})
        row: dict[str, Any] = {
            "id": series_id,
            "expiry": int(expiry),
            "expiry_date": utc_date(int(expiry)),
            "type": "call" if is_call else "put",
            "strike_wad": int(strike_wad),
            "open_interest_wad": int(open_wad),
            "bid": quoted.get("bid", "-"),
            "ask": quoted.get("ask", "-"),
            "iv": quoted.get("iv", "-"),
            "state": quoted.get("state", "-"),
        }
        if account is not None:
            row["held_wad"] = int(value(second[held_at[series_id]]))
        series.append(row)
    status["series"] = series
    if account is not None:
        status["account"] = {
            "address": account,
            "shares": shares,
            "quote_balance": int(value(first[at["quote_balance"]])),
            "assets": _int_or_none(second[assets_at]),
            "max_withdraw": _int_or_none(first[at["max_withdraw"]]),
            "max_redeem": _int_or_none(first[at["max_redeem"]]),
        }
    return status


#: The vault's views ``vault_status`` reads in its first batch.
_VAULT_VIEWS = (
    "decimals",
    "paused",
    "exitMode",
    "totalSupply",
    "lastHedgeTime",
    "payoutsOwed",
    "feesOwed",
    "totalAssets",
    "book",
    "liveSeries",
)


def _int_or_none(answer: Any) -> int | None:
    got, _ = _tried(answer)
    return None if got is None else int(got)


def _upkeep_reason(suite: Suite, upkeep: Any, book: dict[str, int] | None, params: dict[str, Any]) -> str:
    """Why an upkeep is (not) needed now, in words: the settlement it would do, the gap it would hedge."""
    if upkeep is None:
        return "unknown: checkUpkeep reverted (the vault fails closed while its oracles refuse)"
    needed, data = bool(upkeep[0]), bytes(upkeep[1])
    if needed and len(data) == 64:
        expiry = int.from_bytes(data[:32], "big")
        return f"settle the expiry {utc_date(expiry)} at feed round {int.from_bytes(data[32:], 'big')}"
    if book is None or not params:
        return "hedge or re-mark" if needed else "nothing to do"
    band = int(params["hedge"]["deltaBandWad"])
    net = int(book["netDeltaWad"])
    gap = f"net delta {from_wad(net, 4)} vs the band +-{from_wad(band, 4)}"
    if needed:
        return f"hedge: {gap}" if abs(net) > band else "re-mark the cached book (stale or the spot moved)"
    return f"nothing to do: {gap}" + (" (outside, but the hedge interval has not passed)" if abs(net) > band else "")


def format_status(status: dict[str, Any]) -> str:
    """``vault_status`` as text for a terminal."""
    qd = int(status["quote_decimals"])

    def quote(value: int | None) -> str:
        return "n/a" if value is None else from_units(int(value), qd, 6)

    lines = [
        f"vault {status['vault']} on chain {status['chain_id']} at block {status['block']} "
        f"({utc_date(int(status['timestamp']))})"
        + (" (PAUSED)" if status["paused"] else "")
        + (" (EXIT MODE: withdrawals at the conservative valuation, deposits closed)" if status["exit_mode"] else ""),
        f"  NAV (totalAssets)   {quote(status['total_assets'])}"
        + (f"   unavailable: {status['total_assets_error']}" if status["total_assets_error"] else ""),
        f"  share price         {quote(status['share_price'])} per share",
        f"  shares outstanding  {from_units(status['total_supply'], int(status['share_decimals']), 6)}",
        f"  payouts owed        {quote(status['payouts_owed'])}",
        f"  fees owed           {quote(status['fees_owed'])}",
    ]
    book = status["book"]
    if book is None:
        lines.append(f"  book                unavailable: {status['book_error']}")
    else:
        hf = int(book["healthFactorWad"])
        lines += [
            f"  spot                {from_wad(int(book['spotWad']), 6)}",
            f"  assets / mark       {quote(book['assetsValue'])} / {quote(book['markValue'])}",
            f"  stress margin       {quote(book['stressMargin'])}",
            "  health factor       " + ("infinite (no liabilities)" if hf >= 2**255 else from_wad(hf, 4)),
            f"  net delta           {from_wad(int(book['netDeltaWad']), 6)} underlying "
            f"(book {from_wad(int(book['bookDeltaWad']), 6)} + hedge {from_wad(int(book['hedgeWad']), 6)})",
            f"  hedge               {from_wad(int(book['hedgeWad']), 6)} underlying (held - owed), "
            f"collateral {quote(book['collateral'])}",
            f"  claims' reserve     {quote(book['claimReserve'])} (quote kept for near-expiry in-the-money claims)",
            f"  vega                {from_wad(int(book['vegaWad']), 4)} quote per 1.00 vol",
            f"  swing               {quote(book['swing'])} (what one feed round and one vol post can move NAV:"
            " deposits pay it on top of NAV, withdrawals below)",
        ]
    lines += hedger_lines(status["hedger"], quote)
    params = status["parameters"]
    if params:
        risk, limits, hedge = params["risk"], params["limits"], params["hedge"]
        lines += [
            f"  limits              HF floor {from_wad(int(risk['hfFloorWad']), 4)}, |net delta| <= "
            f"{from_wad(int(limits['maxNetDeltaWad']), 4)}, vega <= {from_wad(int(limits['maxVegaWad']), 4)}, "
            f"open interest <= {from_wad(int(limits['maxOpenInterestWad']), 4)} per series",
            f"  hedging             band {from_wad(int(hedge['deltaBandWad']), 4)}, every "
            f"{int(hedge['hedgeIntervalSec'])} s, slippage <= {int(hedge['maxSlippageBps'])} bps",
        ]
    needed = status["upkeep_needed"]
    lines.append(
        f"  last hedge          {utc_date(int(status['last_hedge_time'])) if status['last_hedge_time'] else 'never'}"
        "; upkeep needed now: "
        + ("unknown (" + str(status["upkeep_error"]) + ")" if needed is None else ("yes" if needed else "no"))
        + f" - {status['upkeep_reason']}"
    )
    lines.append(f"  live series         {len(status['series'])}")
    for row in status["series"]:
        held = f", held {from_wad(row['held_wad'], 6)}" if "held_wad" in row else ""
        lines.append(
            f"    #{row['id']:<3} {row['type']:<4} strike {from_wad(row['strike_wad'], 4):>12}  expiry "
            f"{row['expiry_date']}  bid/ask {row['bid']} / {row['ask']}  iv {row['iv']}  "
            f"open {from_wad(row['open_interest_wad'], 6)}{held}"
            + (f"  [{row['state']}]" if row["state"] != "live" else "")
        )
    acct = status.get("account")
    if acct:
        lines += [
            f"  account {acct['address']}",
            f"    shares {from_units(acct['shares'], int(status['share_decimals']), 6)} worth {quote(acct['assets'])}; "
            f"may withdraw now {quote(acct['max_withdraw'])}; quote balance {quote(acct['quote_balance'])}",
        ]
    return "\n".join(lines)


def _hf(value: int) -> str:
    return "infinite (no debt)" if value == NO_DEBT_HF else from_wad(value, 4)


def _rate(value_ray: int) -> str:
    """A rate in ray a year as a percentage a year."""
    return f"{from_units(value_ray * 100, 27, 4)}% a year"


def hedger_lines(hedger: dict[str, Any], quote: Callable[[int | None], str]) -> list[str]:
    """The hedger's lines of ``format_status``."""
    if not hedger["can_short"]:
        head = f"  hedger              {hedger['address']} (long-only hedger: holds the underlying, never short)"
    else:
        head = f"  hedger              {hedger['address']} (Aave: long held, or short borrowed against collateral)"
    d = hedger["details"]
    if d is None:
        return [head, f"    details unavailable: {hedger['details_error']}"]
    lines = [head, f"    spot held (long)  {from_wad(d['longWad'], 6)} underlying"]
    if hedger["can_short"]:
        shock = int(hedger["shock_up_bps"])
        lines += [
            f"    debt              {from_wad(d['debtWad'], 6)} underlying (borrowed, with interest)",
            f"    collateral        {quote(d['collateral'])}",
            f"    Aave HF           {_hf(d['healthFactorWad'])} now, {_hf(d['healthFactorShockWad'])} with the spot "
            f"{shock / 100:g}% up",
            f"    rates             borrow {_rate(d['borrowRateRay'])} (underlying), supply "
            f"{_rate(d['supplyRateRay'])} (quote)",
        ]
    return lines
