"""The state of a portfolio vault as a depositor or a risk manager reads it: NAV, each asset's weight against
its target and no-trade band, the ex-ante volatility against the target band, the realised volatility from the
feeds' history (each asset's and the current weights'), the tracking error, the slippage budget left, the
covariance oracle's last post and the last targets.

``state()`` fails closed on-chain (an oracle error reverts it): the status then says which error stopped it
instead of failing as a whole. Realised volatility: the standard deviation of daily log returns of the feeds
sampled once a day (the last round at or before each day's time) over the last ``REALISED_DAYS`` days,
annualised by sqrt(365); None with the reason when the feeds have less than a week of history.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hedgevault.chain.rpc import Rpc
from hedgevault.deployment.portfolio import PortfolioStack
from hedgevault.keeper.portfolio import FeedHistory, portfolio_state, rules_from_chain
from hedgevault.ops.reads import Batch, value
from hedgevault.ops.status import _tried
from hedgevault.units import from_units, from_wad

WAD = 10**18
DAY_SEC = 86_400
REALISED_DAYS = 30
MIN_REALISED_DAYS = 7


def realised_vols(
    stack: PortfolioStack,
    weights_wad: list[int] | None,
    days: int = REALISED_DAYS,
    *,
    rpc: Rpc | None = None,
    head: tuple[int, int] | None = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """({"assets": [vol per asset], "portfolio": vol of the weights' returns or None, "days": n}, None), or
    (None, reason). Vols are annualised fractions (0.2 = 20%). ``head`` is (block number, timestamp) when the
    caller has read it (else the latest block is read)."""
    rpc = rpc or Rpc(stack.w3)
    if head is None:
        latest = rpc.head()
        head = (latest.number, latest.timestamp)
    number, now = head
    history = FeedHistory(rpc, [a.feed.address for a in stack.assets])
    history.refresh(number, now - days * DAY_SEC)
    prices = None
    for points in range(days + 1, MIN_REALISED_DAYS, -1):
        prices = history.grid(now, DAY_SEC, points)
        if prices is not None:
            break
    if prices is None:
        return None, f"the feeds have less than {MIN_REALISED_DAYS} days of history"
    returns = np.diff(np.log(prices), axis=0)
    out: dict[str, Any] = {
        "days": int(returns.shape[0]),
        "assets": [float(v) for v in returns.std(axis=0, ddof=1) * np.sqrt(365.0)],
        "portfolio": None,
    }
    if weights_wad is not None:
        w = np.array(weights_wad, dtype=np.float64) / WAD
        out["portfolio"] = float((returns @ w).std(ddof=1) * np.sqrt(365.0))
    return out, None


def portfolio_status(stack: PortfolioStack, account: str | None = None, rpc: Rpc | None = None) -> dict[str, Any]:
    """Everything ``hedgevault status`` prints of a portfolio vault, as plain values (ints in their on-chain
    units: quote units, wad). The views are read at one block in one batch (a second for the account's
    shares in quote), then the feeds' history for the realised vols."""
    vault = stack.vault
    rpc = rpc or Rpc(stack.w3)
    chain_id, block = rpc.checked([("eth_chainId", []), ("eth_getBlockByNumber", ["latest", False])])
    number, now = int(block["number"], 16), int(block["timestamp"], 16)
    cov = stack.cov_oracle
    first = Batch()
    at = {name: first.add(cov, name) for name in ("lastUpdate", "epoch", "volsWad")}
    if vault is not None:
        at.update({name: first.add(vault, name) for name in _VAULT_VIEWS})
        at["upkeep"] = first.add(vault, "checkUpkeep", b"")
        if account is not None:
            at["shares"] = first.add(vault, "balanceOf", account)
            at["max_withdraw"] = first.add(vault, "maxWithdraw", account)
    first.run(rpc, block=number)
    status: dict[str, Any] = {
        "chain_id": int(chain_id, 16),
        "block": number,
        "timestamp": now,
        "vault": None if vault is None else vault.address,
        "quote_decimals": stack.quote_decimals,
        "symbols": [a.symbol for a in stack.assets],
        "cov_oracle": cov.address,
        "cov_last_update": int(value(first[at["lastUpdate"]])),
        "cov_epoch": int(value(first[at["epoch"]])),
    }
    vols, status["vols_error"] = _tried(first[at["volsWad"]])
    status["vols_wad"] = None if vols is None else [int(v) for v in vols]
    if vault is None:
        status["state"], status["state_error"] = None, "the vault is not deployed yet"
        status["realised"], status["realised_error"] = realised_vols(stack, None, rpc=rpc, head=(number, now))
        return status
    rules = rules_from_chain(value(first[at["rules"]]))
    status["paused"] = bool(value(first[at["paused"]]))
    status["rules"] = {
        "mode": rules.mode.name,
        "min_vol_wad": rules.min_vol_wad,
        "max_vol_wad": rules.max_vol_wad,
        "min_weight_wad": list(rules.min_weight_wad),
        "max_weight_wad": list(rules.max_weight_wad),
    }
    weights, target_vol, set_at = value(first[at["targets"]])
    status["targets"] = {"weights_wad": [int(x) for x in weights], "vol_wad": int(target_vol), "set_at": int(set_at)}
    status["total_supply"] = int(value(first[at["totalSupply"]]))
    status["share_decimals"] = int(value(first[at["decimals"]]))
    raw, status["state_error"] = _tried(first[at["state"]])
    view = None if raw is None else portfolio_state(raw)
    status["state"] = view
    current = None if view is None else [a["weightWad"] for a in view["assets"]]
    status["realised"], status["realised_error"] = realised_vols(stack, current, rpc=rpc, head=(number, now))
    upkeep, status["upkeep_error"] = _tried(first[at["upkeep"]])
    status["upkeep_needed"] = None if upkeep is None else bool(upkeep[0])
    if account is not None:
        shares = int(value(first[at["shares"]]))
        second = Batch()
        assets_at = second.add(vault, "convertToAssets", shares)
        assets, _ = _tried(second.run(rpc, block=number)[assets_at])
        max_withdraw, _ = _tried(first[at["max_withdraw"]])
        status["account"] = {
            "address": account,
            "shares": shares,
            "assets": None if assets is None else int(assets),
            "max_withdraw": None if max_withdraw is None else int(max_withdraw),
        }
    return status


#: The vault's views every status reads (one batch).
_VAULT_VIEWS = ("rules", "paused", "targets", "totalSupply", "decimals", "state")


def _pct(wad: int | None, digits: int = 2) -> str:
    return "n/a" if wad is None else f"{wad / WAD:.{digits}%}"


def format_portfolio_status(status: dict[str, Any]) -> str:
    """``portfolio_status`` as text for a terminal."""
    qd = int(status["quote_decimals"])

    def quote(value: int | None) -> str:
        return "n/a" if value is None else from_units(int(value), qd, 2)

    head = f"portfolio vault {status['vault']} on chain {status['chain_id']} at block {status['block']}"
    if status.get("paused"):
        head += " (PAUSED)"
    lines = [head]
    view = status["state"]
    rules = status.get("rules")
    realised = status["realised"]
    if view is None:
        lines.append(f"  state               unavailable: {status['state_error']}")
    else:
        lines += [
            f"  NAV                 {quote(view['navQuote'])} (quote held {quote(view['quoteBalance'])})",
            "  asset      weight   target   band      drift    price            value",
        ]
        for symbol, a in zip(status["symbols"], view["assets"], strict=True):
            drift = a["weightWad"] - a["targetWad"]
            flag = "  OUTSIDE BAND" if abs(drift) > a["bandWad"] else ""
            lines.append(
                f"  {symbol:<9}{_pct(a['weightWad']):>8} {_pct(a['targetWad']):>8} +-{_pct(a['bandWad']):<7}"
                f" {drift / WAD:>+8.2%}  {from_wad(a['priceWad'], 4):>14}  {quote(a['valueQuote']):>14}{flag}"
            )
        band = "" if rules is None else f" (band {_pct(rules['min_vol_wad'])} - {_pct(rules['max_vol_wad'])})"
        inside = ""
        if rules is not None and rules["max_vol_wad"]:
            ok = rules["min_vol_wad"] <= view["exAnteVolWad"] <= rules["max_vol_wad"]
            inside = ", inside the band" if ok else ", OUTSIDE the band"
        lines += [
            f"  ex-ante vol         {_pct(view['exAnteVolWad'])} now{inside}; "
            f"targets' {_pct(view['targetVolWad'])}{band}",
            f"  tracking error      {_pct(view['trackingErrorWad'])} a year (sqrt((w-t)'S(w-t)))",
            f"  slippage budget     {quote(view['budgetAvailableQuote'])} left of {quote(view['budgetCapacityQuote'])}",
        ]
    if realised is None:
        lines.append(f"  realised vol        unavailable: {status['realised_error']}")
    else:
        per_asset = ", ".join(f"{s} {v:.1%}" for s, v in zip(status["symbols"], realised["assets"], strict=True))
        portfolio = "" if realised["portfolio"] is None else f"current weights {realised['portfolio']:.1%}; "
        lines.append(f"  realised vol        {portfolio}{per_asset} (daily, last {realised['days']} days)")
    targets = status.get("targets")
    if targets is not None:
        when = "never" if not targets["set_at"] else f"{status['timestamp'] - targets['set_at']} s ago"
        mode = "" if rules is None else f" ({rules['mode']})"
        lines.append(f"  last targets        {when}{mode}")
    vols = status["vols_wad"]
    vols_text = "unavailable: " + str(status["vols_error"]) if vols is None else ", ".join(_pct(v, 1) for v in vols)
    lines.append(
        f"  covariance          epoch {status['cov_epoch']}, posted "
        f"{status['timestamp'] - status['cov_last_update']} s ago; vols {vols_text}"
    )
    needed = status.get("upkeep_needed")
    if "upkeep_needed" in status:
        lines.append(
            "  rebalance needed    "
            + ("unknown (" + str(status["upkeep_error"]) + ")" if needed is None else ("yes" if needed else "no"))
        )
    acct = status.get("account")
    if acct:
        lines.append(
            f"  account {acct['address']}: shares {from_units(acct['shares'], int(status['share_decimals']), 6)} "
            f"worth {quote(acct['assets'])}; "
            f"may withdraw now {quote(acct['max_withdraw'])}"
        )
    return "\n".join(lines)
