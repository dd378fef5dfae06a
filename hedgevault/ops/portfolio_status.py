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
from hedgevault.ops.status import _try
from hedgevault.units import from_units, from_wad

WAD = 10**18
DAY_SEC = 86_400
REALISED_DAYS = 30
MIN_REALISED_DAYS = 7


def realised_vols(
    stack: PortfolioStack, weights_wad: list[int] | None, days: int = REALISED_DAYS
) -> tuple[dict[str, Any] | None, str | None]:
    """({"assets": [vol per asset], "portfolio": vol of the weights' returns or None, "days": n}, None), or
    (None, reason). Vols are annualised fractions (0.2 = 20%)."""
    w3 = stack.w3
    block = w3.eth.get_block("latest")
    now, number = int(block["timestamp"]), int(block["number"])
    history = FeedHistory(Rpc(w3), [a.feed.address for a in stack.assets])
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


def portfolio_status(stack: PortfolioStack, account: str | None = None) -> dict[str, Any]:
    """Everything ``hedgevault status`` prints of a portfolio vault, as plain values (ints in their on-chain
    units: quote units, wad)."""
    w3, vault = stack.w3, stack.vault
    block = w3.eth.get_block("latest")
    now = int(block["timestamp"])
    cov = stack.cov_oracle.functions
    status: dict[str, Any] = {
        "chain_id": int(w3.eth.chain_id),
        "block": int(block["number"]),
        "timestamp": now,
        "vault": None if vault is None else vault.address,
        "quote_decimals": stack.quote_decimals,
        "symbols": [a.symbol for a in stack.assets],
        "cov_oracle": stack.cov_oracle.address,
        "cov_last_update": int(cov.lastUpdate().call()),
        "cov_epoch": int(cov.epoch().call()),
    }
    status["vols_wad"], status["vols_error"] = _try(lambda: [int(v) for v in cov.volsWad().call()])
    if vault is None:
        status["state"], status["state_error"] = None, "the vault is not deployed yet"
        status["realised"], status["realised_error"] = realised_vols(stack, None)
        return status
    fns = vault.functions
    rules = rules_from_chain(fns.rules().call())
    status["paused"] = bool(fns.paused().call())
    status["rules"] = {
        "mode": rules.mode.name,
        "min_vol_wad": rules.min_vol_wad,
        "max_vol_wad": rules.max_vol_wad,
        "min_weight_wad": list(rules.min_weight_wad),
        "max_weight_wad": list(rules.max_weight_wad),
    }
    weights, target_vol, set_at = fns.targets().call()
    status["targets"] = {"weights_wad": [int(x) for x in weights], "vol_wad": int(target_vol), "set_at": int(set_at)}
    status["total_supply"] = int(fns.totalSupply().call())
    status["share_decimals"] = int(fns.decimals().call())
    raw, status["state_error"] = _try(lambda: fns.state().call())
    view = None if raw is None else portfolio_state(raw)
    status["state"] = view
    current = None if view is None else [a["weightWad"] for a in view["assets"]]
    status["realised"], status["realised_error"] = realised_vols(stack, current)
    upkeep, status["upkeep_error"] = _try(lambda: fns.checkUpkeep(b"").call())
    status["upkeep_needed"] = None if upkeep is None else bool(upkeep[0])
    if account is not None:
        shares = int(fns.balanceOf(account).call())
        status["account"] = {
            "address": account,
            "shares": shares,
            "assets": _try(lambda: int(fns.convertToAssets(shares).call()))[0],
            "max_withdraw": _try(lambda: int(fns.maxWithdraw(account).call()))[0],
        }
    return status


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
