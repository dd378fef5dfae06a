"""The commands that make a local workflow one `hedgevault` command per step (no web3.py, no curl):

* development chains only (refused elsewhere, like ``--anvil-account``): ``faucet`` (mint the mock quote /
  underlying), ``set-price`` (a new round of the mock price feed), ``warp`` (advance the clock and mine),
  ``mine``;
* operators, through the same signing path as the depositor's commands: ``list-series`` (lister role),
  ``post-vol`` (volatility updater), ``settle`` (anyone), ``pause`` / ``unpause`` (guardian); parameter changes
  go through the timelock: ``hedgevault governance queue-parameters`` then ``execute``;
* reads: ``series`` (every listed series: expiry as a date, strike, type, mark, bid/ask, implied vol, open
  interest, state) and ``positions`` (an account's shares and options, settled-but-unclaimed included).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractCustomError

from hedgevault.chain.rpc import Rpc
from hedgevault.cliargs import address, positive_decimal, uint
from hedgevault.ops.cli import OpsInputError, _suite, connection_flags, signer_flags, signing_account
from hedgevault.ops.reads import (
    Batch,
    Market,
    add_series_details,
    listed_series,
    live_series,
    series_probe,
    series_rows,
    series_table,
    utc_date,
    value,
)
from hedgevault.suite import Suite
from hedgevault.units import WAD, from_units, from_wad, to_seconds, to_units, to_wad

#: Shares and options are shown to this many decimals.
_PLACES = 6


def _dev_chain(suite: Suite, command: str) -> None:
    from hedgevault.keys import DEV_CHAIN_IDS

    chain_id = int(suite.w3.eth.chain_id)
    if chain_id not in DEV_CHAIN_IDS:
        raise OpsInputError(f"{command} works on development chains only (Anvil 31337, Ganache 1337): chain {chain_id}")


def _dev_signer(args: argparse.Namespace, suite: Suite) -> LocalAccount:
    """The signer of a dev command: the flags' account, by default Anvil's account 0."""
    if args.anvil_account is None and args.keystore is None:
        args.anvil_account = 0
    return signing_account(args, suite)


def _send(suite: Suite, what: str, fn: Any, account: LocalAccount) -> str:
    from hedgevault.ops.actions import _send as send_checked

    receipt = send_checked(suite, what, fn, account)
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _emit(args: argparse.Namespace, text_lines: list[str], data: dict[str, Any]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str))
    else:
        print("\n".join(text_lines))


#: Relative expiries (``+7d``) are rounded up to the next 08:00 UTC, the hour option markets expire at, so that
#: `list-series --expiry +7d` and `post-vol --expiry +7d` a few minutes apart name the same expiry.
EXPIRY_HOUR_UTC = 8


def parse_time(text: str, now: int, flag: str, *, expiry: bool = False) -> int:
    """An instant: unix seconds, an ISO date/time (UTC unless it says otherwise), or relative ``+7d`` / ``+12h``
    (for an expiry rounded up to the next 08:00 UTC)."""
    if text.startswith("+"):
        instant = now + to_seconds(text[1:], flag)
        if expiry:
            day, offset = 86_400, EXPIRY_HOUR_UTC * 3600
            instant = -((offset - instant) // day) * day + offset
        return instant
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OpsInputError(
            f"{flag} {text!r} is not a time: write unix seconds, 2027-01-08, 2027-01-08T08:00 or +7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _now(suite: Suite) -> int:
    from hedgevault.chain import latest_timestamp

    return latest_timestamp(suite.w3)


# ----------------------------------------------------------------- development chains


def _faucet(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        _dev_chain(suite, "faucet")
        account = _dev_signer(args, suite)
        to = args.to or account.address
        if args.quote is None and args.underlying is None:
            raise OpsInputError("give --quote AMOUNT and/or --underlying AMOUNT (whole tokens, e.g. 100000)")
        lines, data = [], {"to": to}
        for flag, token, text in (
            ("--quote", suite.quote, args.quote),
            ("--underlying", suite.underlying, args.underlying),
        ):
            if text is None:
                continue
            decimals = int(token.functions.decimals().call())
            amount = to_units(text, decimals, flag)
            symbol = str(token.functions.symbol().call())
            tx = _send(suite, "faucet", token.functions.mint(to, amount), account)
            balance = int(token.functions.balanceOf(to).call())
            lines.append(f"minted {text} {symbol} to {to} (balance {from_units(balance, decimals)}); tx {tx}")
            data[flag.strip("-")] = {"minted": text, "balance": from_units(balance, decimals), "tx": tx}
        _emit(args, lines, data)
    return 0


def _set_price(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        _dev_chain(suite, "set-price")
        account = _dev_signer(args, suite)
        price_wad = to_wad(args.price, "--price")
        fn = suite.feed.functions.setAnswer(suite.feed_answer(price_wad))
        tx = _send(suite, "set-price", fn, account)
        lines = [f"feed round at {args.price} (quote per underlying), time {utc_date(_now(suite))}; tx {tx}"]
        if args.move_pool:
            suite.move_pool_price(price_wad, account.address)
            lines.append(f"pool moved to {float(suite.pool_price_wad()) / WAD:.6g}")
        _emit(args, lines, {"price": args.price, "tx": tx})
    return 0


def _warp(args: argparse.Namespace) -> int:
    from hedgevault.chain import warp

    with _suite(args) as suite:
        _dev_chain(suite, "warp")
        now = _now(suite)
        if (args.by is None) == (args.to is None):
            raise OpsInputError("give exactly one of --by DURATION (e.g. 8d) or --to TIME (e.g. 2027-01-09)")
        target = now + to_seconds(args.by, "--by") if args.by is not None else parse_time(args.to, now, "--to")
        if target <= now:
            raise OpsInputError(f"the chain is already at {utc_date(now)}: time only moves forward")
        warp(suite.w3, target - now)
        after = _now(suite)
        _emit(args, [f"chain time {utc_date(after)} (unix {after}), block mined"], {"timestamp": after})
    return 0


def _mine(args: argparse.Namespace) -> int:
    from hedgevault.chain.rpc import Rpc

    with _suite(args) as suite:
        _dev_chain(suite, "mine")
        rpc = Rpc(suite.w3)
        for _ in range(args.blocks):
            rpc.request("evm_mine", [])
        block = suite.w3.eth.get_block("latest")
        _emit(
            args,
            [f"mined {args.blocks} block(s): block {block['number']} at {utc_date(int(block['timestamp']))}"],
            {"block": int(block["number"]), "timestamp": int(block["timestamp"])},
        )
    return 0


# ----------------------------------------------------------------- operators


def _list_series(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        expiry = parse_time(args.expiry, _now(suite), "--expiry", expiry=True)
        strike = to_wad(args.strike, "--strike")
        account = signing_account(args, suite)
        from hedgevault.ops.actions import list_series

        done = list_series(suite, account, expiry, strike, args.type == "call")
        series_id, prepared = int(done.values["seriesId"]), int(done.values["preparedStrikes"])
        what = f"{args.type} strike {args.strike} expiring {utc_date(expiry)}"
        lines = [f"listed series {series_id}: {what}; tx {done.tx_hash}"]
        if done.values["prepareTx"]:
            lines.append(
                f"prepared the expiry's volatility storage for {prepared} strike(s), so its first post is cheaper: "
                f"tx {done.values['prepareTx']} ({done.values['prepareGas']:,} gas)"
            )
        data = {"series": series_id, "expiry": expiry, "strike": args.strike, "type": args.type, "tx": done.tx_hash}
        data["prepared"] = {"strikes": prepared, "tx": done.values["prepareTx"] or None}
        _emit(args, lines, data)
    return 0


def _post_vol(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        if (args.expiry is None) == (args.series is None):
            raise OpsInputError("give exactly one of --series ID or --expiry TIME")
        if args.series is not None:
            try:
                expiry = int(suite.vault.functions.series(args.series).call()[0])
            except ContractCustomError:
                raise OpsInputError(f"no series {args.series} is listed: see `hedgevault series`") from None
        else:
            expiry = parse_time(args.expiry, _now(suite), "--expiry", expiry=True)
        vol = to_wad(args.vol, "--vol")
        account = signing_account(args, suite)
        tx = _send(suite, "post-vol", suite.vol_oracle.functions.postVol(expiry, vol), account)
        _emit(
            args,
            [f"posted volatility {args.vol} for the expiry {utc_date(expiry)}; tx {tx}"],
            {"expiry": expiry, "vol": args.vol, "tx": tx},
        )
    return 0


def _settle(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        account = signing_account(args, suite)
        now = _now(suite)
        if args.expiry is None:
            expiries = {int(s[0]) for _, s in live_series(suite)}
            passed = sorted(e for e in expiries if e <= now)
            if not passed:
                raise OpsInputError(f"no live series has expired yet (chain time {utc_date(now)})")
            expiry = passed[0]
        else:
            expiry = parse_time(args.expiry, now, "--expiry")
        if expiry > now:
            raise OpsInputError(f"the expiry {utc_date(expiry)} has not passed (chain time {utc_date(now)})")
        round_id = int(suite.price_oracle.functions.firstRoundAtOrAfter(expiry).call())
        if round_id == 0:
            raise OpsInputError(
                f"the feed has no round at or after {utc_date(expiry)} yet: wait for one "
                "(dev chains: `hedgevault set-price`)"
            )
        tx = _send(suite, "settle", suite.vault.functions.settle(expiry, round_id), account)
        price = int(suite.vault.functions.settlementPriceWad(expiry).call())
        _emit(
            args,
            [f"settled the expiry {utc_date(expiry)} at {from_wad(price, _PLACES)} (feed round {round_id}); tx {tx}"],
            {"expiry": expiry, "round": round_id, "price": from_wad(price), "tx": tx},
        )
    return 0


def _pause(args: argparse.Namespace, on: bool) -> int:
    with _suite(args) as suite:
        account = signing_account(args, suite)
        fn = suite.vault.functions.pause() if on else suite.vault.functions.unpause()
        tx = _send(suite, "pause" if on else "unpause", fn, account)
        state = "paused" if suite.vault.functions.paused().call() else "running"
        _emit(args, [f"vault {suite.vault.address} is {state}; tx {tx}"], {"state": state, "tx": tx})
    return 0


# ----------------------------------------------------------------- reads


def _series(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        rows = series_rows(suite)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no series listed yet: `hedgevault list-series --expiry +7d --strike 3000 --type call` (lister role)")
        return 0
    print(f"{'id':>3}  {'expiry':<21} {'type':<4} {'strike':>10} {'bid':>11} {'ask':>11} {'iv':>7} {'open':>10}  state")
    for r in rows:
        print(
            f"{r['id']:>3}  {r['expiry']:<21} {r['type']:<4} {r['strike']:>10} {r.get('bid', '-'):>11} "
            f"{r.get('ask', '-'):>11} {r.get('iv', '-'):>7} {r['open_interest']:>10}  {r['state']}"
        )
    print("bid/ask: quote tokens per option, fee included, for a small trade; iv: the posted annual volatility")
    return 0


def positions(suite: Suite, account: str, rpc: Rpc | None = None) -> dict[str, Any]:
    """``account``'s shares (and what they may take now) and options of every series, with each settled
    series' claimable payout: three round trips (the head, then two batches of view calls) for up to
    ``SERIES_PROBE`` listed series."""
    vault = suite.vault
    rpc = rpc or Rpc(suite.w3)
    now = rpc.head().timestamp
    first = Batch()
    decimals_at = first.add(suite.quote, "decimals")
    shares_at = first.add(vault, "balanceOf", account)
    share_decimals_at = first.add(vault, "decimals")
    max_withdraw_at = first.add(vault, "maxWithdraw", account)
    quote_balance_at = first.add(suite.quote, "balanceOf", account)
    live_at = first.add(vault, "liveSeries")
    market_at = (first.add(suite.vol_oracle, "params"), first.add(suite.price_oracle, "feedSpotWad"))
    probes = series_probe(first, suite)
    first.run(rpc)
    decimals = int(value(first[decimals_at]))
    shares = int(value(first[shares_at]))
    share_decimals = int(value(first[share_decimals_at]))
    listed = listed_series(rpc, suite, first, probes)
    live = {int(i) for i in value(first[live_at])}
    second = Batch()
    assets_at = second.add(vault, "convertToAssets", shares)
    details = add_series_details(second, suite, listed, live, now)
    held_at = {i: second.add(suite.option_token, "balanceOf", account, i) for i, _ in listed}
    second.run(rpc, suite.admin)
    out: dict[str, Any] = {
        "account": account,
        "shares": from_units(shares, share_decimals, _PLACES),
        "shares_value": from_units(int(value(second[assets_at])), decimals, _PLACES),
        "may_withdraw_now": from_units(int(value(first[max_withdraw_at])), decimals, _PLACES),
        "quote_balance": from_units(int(value(first[quote_balance_at])), decimals, _PLACES),
        "options": [],
    }
    market = Market(first[market_at[0]], first[market_at[1]])
    for row in series_table(suite, listed, live, now, decimals, second, details, market):
        held = int(value(second[held_at[row["id"]]]))
        if held == 0:
            continue
        item: dict[str, Any] = {k: row[k] for k in ("id", "type", "strike", "expiry", "state")}
        item["amount"] = from_wad(held, _PLACES)
        settlement = int(value(second[details.settlement[row["id"]]]))
        if settlement:
            strike = int(Decimal(row["strike"]) * WAD)
            intrinsic = max(settlement - strike, 0) if row["type"] == "call" else max(strike - settlement, 0)
            payout = held * intrinsic // (WAD * 10 ** (18 - decimals))
            item["claimable"] = from_units(payout, decimals, _PLACES)
        out["options"].append(item)
    return out


def _positions(args: argparse.Namespace) -> int:
    with _suite(args) as suite:
        who = args.account or (signing_account(args, suite).address if args.anvil_account is not None else None)
        if who is None:
            raise OpsInputError("give --account ADDRESS (or --anvil-account N)")
        data = positions(suite, who)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"account          {data['account']}")
    print(f"quote balance    {data['quote_balance']}")
    print(
        f"vault shares     {data['shares']} (worth {data['shares_value']}; may withdraw now {data['may_withdraw_now']})"
    )
    if not data["options"]:
        print("options          none")
    for o in data["options"]:
        claim = f", claimable {o['claimable']} (`hedgevault claim --series {o['id']}`)" if "claimable" in o else ""
        print(
            f"series {o['id']:>3}       {o['amount']} {o['type']} {o['strike']} exp {o['expiry']} [{o['state']}]{claim}"
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add faucet, set-price, warp, mine, list-series, post-vol, settle, pause, unpause, series, positions."""
    p = sub.add_parser(
        "faucet",
        help="dev chains: mint the mock quote/underlying tokens to an account",
        description="Mints the deployment's mock tokens (development chains only). Signs with --anvil-account "
        "(default 0).",
    )
    signer_flags(p, receiver=False)
    p.add_argument("--to", type=address, help="who receives the tokens (default: the signer)")
    p.add_argument("--quote", type=positive_decimal("--quote"), help="whole quote tokens, e.g. 100000")
    p.add_argument("--underlying", type=positive_decimal("--underlying"), help="whole underlying tokens, e.g. 10")
    p.set_defaults(func=_faucet)

    p = sub.add_parser("set-price", help="dev chains: a new round of the mock price feed (optionally moving the pool)")
    signer_flags(p, receiver=False)
    p.add_argument("--price", required=True, type=positive_decimal("--price"), help="quote per underlying, e.g. 3000")
    p.add_argument("--move-pool", action="store_true", help="also trade the Uniswap pool to the price")
    p.set_defaults(func=_set_price)

    p = sub.add_parser("warp", help="dev chains: move the chain's clock forward and mine a block")
    connection_flags(p)
    p.add_argument("--by", help="a duration: 3600, 45m, 12h, 8d")
    p.add_argument("--to", help="a time: unix seconds, 2027-01-09, 2027-01-09T08:00 (UTC)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_warp)

    p = sub.add_parser("mine", help="dev chains: mine blocks now")
    connection_flags(p)
    p.add_argument("--blocks", type=uint("--blocks", 10_000), default=1, help="how many (default 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_mine)

    p = sub.add_parser("list-series", help="list an option series on the vault (lister role)")
    signer_flags(p, receiver=False)
    p.add_argument(
        "--expiry", required=True, help="unix seconds, 2027-01-08T08:00 (UTC), or +7d (rounded up to 08:00 UTC)"
    )
    p.add_argument("--strike", required=True, type=positive_decimal("--strike"), help="quote per underlying")
    p.add_argument("--type", required=True, choices=("call", "put"))
    p.set_defaults(func=_list_series)

    p = sub.add_parser("post-vol", help="post an expiry's annual volatility (volatility updater role)")
    signer_flags(p, receiver=False)
    p.add_argument("--series", type=uint("series id"), help="the expiry of this series")
    p.add_argument("--expiry", help="or the expiry, as for list-series")
    p.add_argument("--vol", required=True, type=positive_decimal("--vol"), help="annual volatility, e.g. 0.8 for 80%%")
    p.set_defaults(func=_post_vol)

    p = sub.add_parser("settle", help="settle a passed expiry at the feed's first round after it (anyone)")
    signer_flags(p, receiver=False)
    p.add_argument("--expiry", help="the expiry (default: the earliest one due)")
    p.set_defaults(func=_settle)

    for name, on, what in (
        ("pause", True, "stop deposits, trades and hedges (guardian role)"),
        ("unpause", False, "resume (guardian role)"),
    ):
        p = sub.add_parser(name, help=what)
        signer_flags(p, receiver=False)
        p.set_defaults(func=lambda args, on=on: _pause(args, on))

    p = sub.add_parser("series", help="every listed series: expiry, strike, type, bid/ask, implied vol, open interest")
    connection_flags(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_series)

    p = sub.add_parser("positions", help="an account's shares and options, settled-but-unclaimed payouts included")
    connection_flags(p)
    p.add_argument("--account", type=address, help="the account (or --anvil-account N)")
    p.add_argument("--anvil-account", type=uint("account index", 9), metavar="N", help="Anvil's dev account N")
    p.add_argument("--keystore", help=argparse.SUPPRESS)
    p.add_argument("--key-env", default="HEDGEVAULT_PRIVATE_KEY", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_positions)
