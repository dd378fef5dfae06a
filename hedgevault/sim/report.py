"""Results of a run: the summary (deterministic: no wall-clock values), ``results.json``, the text table
and the PNG charts (matplotlib, Agg backend)."""

from __future__ import annotations

import json
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from hedgevault.sim.accounting import GAS_KINDS
from hedgevault.sim.engine import Simulation, StepRecord

WAD = 10**18
#: The PNG charts ``charts`` writes, in order, with their titles.
CHART_TITLES = {
    "market_and_greeks.png": "Market, hedge and Greeks",
    "share_price_and_hf.png": "Share price and health factor",
    "pnl_attribution.png": "PnL attribution (cumulative)",
}
#: The skewed market's chart (runs with ``SimConfig.skew`` only).
SMILE_CHART = "smile.png"
SMILE_TITLE = "The smile: posted slice against the market's quotes"


def summary(sim: Simulation) -> dict[str, Any]:
    """Everything the table shows, as JSON-ready values (quote amounts in whole quote tokens as floats,
    with the exact integers in quote units beside them where they reconcile)."""
    records = sim.records
    first, last = records[0], records[-1]
    cfg = sim.suite.config
    qs = 10**cfg.quote_decimals
    pnl = sim.ledger.pnl
    c = sim.counters
    nav_change = last.nav - sim.nav0
    residual = Fraction(nav_change) - pnl.explained()
    hfs = [r.health_factor for r in records if r.health_factor is not None]
    gas = {
        kind: {"count": len(v), "total": sum(v), "mean": round(sum(v) / len(v)), "what": GAS_KINDS[kind]}
        for kind, v in sorted(c.gas.items())
    }
    keeper_gas_eth = c.keeper_gas_wei / WAD
    ledger = sim.ledger
    return {
        "steps": len(records) - 1,
        "horizon_sec": last.time_sec,
        "nav_start": sim.nav0 / qs,
        "nav_end": last.nav / qs,
        "share_price_start": first.share_price,
        "share_price_end": last.share_price,
        "share_price_return": last.share_price / first.share_price - 1,
        "health_factor_end": last.health_factor,
        "health_factor_min": min(hfs) if hfs else None,
        "net_delta_end": last.net_delta,
        "vega_end": last.vega,
        "hedge_end": last.hedge,
        "hedge_min": min(r.hedge for r in records),
        "hedge_max": max(r.hedge for r in records),
        "collateral_end": last.collateral / qs,
        "hedger": cfg.hedger.kind,
        "neutrality": neutrality(records, cfg.hedge.delta_band_wad / WAD),
        "hedges": ledger.hedges,
        "slices": ledger.slices,
        "claim_raises": ledger.raises,
        "hedge_waits": dict(sorted(c.hedge_waits.items())),
        "settlements": ledger.settlements,
        "trades": dict(sorted(c.trades_done.items())),
        "skipped": dict(sorted(c.skipped.items())),
        "keeper_failed_tx": c.keeper_failed,
        "vol_posts": _vol_posts(sim),
        "pnl": {
            "premium": pnl.premium / qs,
            "option_mark": pnl.option / qs,
            "hedge": float(pnl.hedge / qs),
            "swap_costs": float(pnl.swap_cost / qs),
            "borrow_interest": float(pnl.borrow_interest / qs),
            "supply_interest": pnl.supply_interest / qs,
            "trading_pnl": float((pnl.explained() - pnl.flows) / qs),
            "flows": pnl.flows / qs,
            "nav_change": nav_change / qs,
            "residual": float(residual / qs),
            "residual_quote_units": float(residual),
            "keeper_gas_eth": keeper_gas_eth,
            "keeper_gas_quote": keeper_gas_eth * last.price,
        },
        "tokens": {
            "quote_in_units": c.quote_in,
            "quote_out_units": c.quote_out,
            "quote_balance_start_units": sim.quote0,
            "quote_balance_end_units": last.quote_balance,
            "hedge_start_wad": sim.hedge0_wad,
            "hedge_up_wad": ledger.hedge_up_wad,
            "hedge_down_wad": ledger.hedge_down_wad,
            "borrow_interest_wad": ledger.borrow_interest_wad,
            "hedge_end_wad": ledger.hedge_wad,
            "collateral_start_units": sim.collateral0,
            "collateral_in_units": ledger.collateral_in,
            "collateral_out_units": ledger.collateral_out,
            "supply_interest_units": pnl.supply_interest,
            "collateral_end_units": ledger.collateral,
            "options_bought_wad": c.options_bought_wad,
            "options_sold_wad": c.options_sold_wad,
            "options_claimed_wad": c.options_claimed_wad,
            "claims_paid_units": c.claims_paid,
        },
        "gas": gas,
        "gas_other": dict(sorted(c.gas_other.items())),
        **({"skew": skew_summary(sim)} if sim.market is not None else {}),
        **({"informed": informed_summary(sim)} if sim.config.informed is not None else {}),
    }


def skew_summary(sim: Simulation) -> dict[str, Any]:
    """The skewed market's posts: how many, the RMSE of each posted slice against the market's implied vols (vol
    points) per expiry (mean and largest), and the keeper's fits that kept the last good slice, by error."""
    by_expiry: dict[int, list[float]] = {}
    for post in sim.smile_posts:
        if post["rmse_vol_points"] is not None:
            by_expiry.setdefault(post["expiry_offset_sec"], []).append(post["rmse_vol_points"])
    reasons: dict[str, int] = {}
    for f in sim.fallbacks:
        key = f["reason"].split(":")[0] + (
            ": " + f["reason"].split(":")[1].split("(")[0].strip() if ":" in f["reason"] else ""
        )
        # the walk's verdict on a refused fit (hedgevault.keeper.oracles.SurfacePoster)
        if "not walked toward" in f["reason"]:
            key += " (not walked: refused for more than the rate limit)"
        elif "no step toward it passes" in f["reason"]:
            key += " (no step toward it passes)"
        reasons[key] = reasons.get(key, 0) + 1
    assert sim.config.skew is not None
    return {
        "surface": sim.config.skew.surface,
        "posts": len(sim.smile_posts),
        "rmse_vol_points": {
            str(e): {"posts": len(v), "mean": sum(v) / len(v), "max": max(v)} for e, v in sorted(by_expiry.items())
        },
        "fallbacks": len(sim.fallbacks),
        "fallback_reasons": dict(sorted(reasons.items())),
        "walk": sim.config.skew.walk,
        "walk_steps": len(sim.walks),
        "first_post_bridges": sim.bridges,
    }


def sim_walk_enabled(skew: dict[str, Any]) -> bool:
    """Whether the run's keeper walked toward refused fits (the summary's ``walk`` flag; True when absent)."""
    return bool(skew.get("walk", True))


def informed_summary(sim: Simulation) -> dict[str, Any]:
    """The informed buyer against the vault (quote tokens): trades, the edge it took at the market's price when it
    traded (``edge_at_trade``: the vault's loss to adverse selection at the trades' market values) and its P&L at the
    end (``pnl_end``: its quote balance's change, claims included, plus what it still holds at the market's price)."""
    qs = 10**sim.suite.config.quote_decimals
    traded = [d for d in sim.informed_decisions if d.traded_wad]
    cash = sim.informed_cash[-1] - sim.informed_cash0 if sim.informed_cash else 0
    mark = sim.informed_mark[-1] if sim.informed_mark else 0.0
    return {
        "decisions": len(sim.informed_decisions),
        "buys": sum(d.side == "buy" for d in traded),
        "sells": sum(d.side == "sell" for d in traded),
        "bought_wad": sum(d.traded_wad for d in traded if d.side == "buy"),
        "refused": sum(1 for d in sim.informed_decisions if not d.traded_wad and not d.reason.startswith("vault not")),
        "edge_at_trade": sum(d.edge_units for d in traded) / qs,
        "pnl_end": (cash + mark) / qs,
        "cash_change": cash / qs,
        "mark_end": mark / qs,
    }


def neutrality(records: list[StepRecord], band: float) -> dict[str, Any]:
    """How well the hedge kept the vault delta-neutral, from the state after each step's last keeper pass:
    the largest |net delta| (underlying), the share of steps with |net delta| <= ``band`` (the vault's delta
    band, underlying) and the longest run of consecutive steps outside it."""
    outside = [abs(r.net_delta) > band for r in records]
    longest = run = 0
    for out in outside:
        run = run + 1 if out else 0
        longest = max(longest, run)
    return {
        "band": band,
        "max_abs_net_delta": max((abs(r.net_delta) for r in records), default=0.0),
        "share_in_band": (len(outside) - sum(outside)) / len(outside) if outside else 1.0,
        "longest_run_outside": longest,
        "max_gap_to_target": max((r.hedge_gap for r in records), default=0.0),
    }


def _vol_posts(sim: Simulation) -> dict[str, Any]:
    """How the keeper's vol posts followed the scenario under the oracle's rate rule: posts sent as asked,
    clipped to the allowed step, held for the minimum interval, and the largest gap between the posted
    and the scenario's vol at a step's end (vol points as a fraction: 0.01 is 1 point)."""
    updater = sim.keeper.oracle_updater
    stats = updater.stats if updater is not None else None
    return {
        "posted": stats.posted if stats else 0,
        "clipped": stats.clipped if stats else 0,
        "held": stats.held if stats else 0,
        "steps_off_scenario": sum(r.vol_posted != r.vol for r in sim.records),
        "max_gap": max((abs(r.vol_posted - r.vol) for r in sim.records), default=0.0),
    }


def results_document(sim: Simulation, scenario_info: dict[str, Any]) -> dict[str, Any]:
    """The whole ``results.json``: scenario, configuration, per-step series and summary."""
    cfg = sim.config
    return {
        "scenario": scenario_info,
        "seed": cfg.seed,
        "suite": asdict(cfg.suite),
        "series": [
            {
                "id": sid,
                "expiry_offset_sec": sim.series_meta[sid].expiry_offset_sec,
                "strike": sim.series_meta[sid].strike_wad / WAD,
                "type": "call" if sim.series_meta[sid].is_call else "put",
            }
            for sid in sim.series_ids
        ],
        "agents": asdict(cfg.agents) if cfg.agents is not None else None,
        "steps": [r.as_dict() for r in sim.records],
        "summary": summary(sim),
        **(
            {"smile_posts": sim.smile_posts, "fallbacks": sim.fallbacks, "walks": sim.walks}
            if sim.market is not None
            else {}
        ),
        **(
            {
                "informed_decisions": [d.as_dict() for d in sim.informed_decisions],
                "informed_pnl": [
                    (c - sim.informed_cash0 + m) / 10**sim.suite.config.quote_decimals
                    for c, m in zip(sim.informed_cash, sim.informed_mark, strict=True)
                ],
            }
            if sim.config.informed is not None
            else {}
        ),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


def _fmt(x: float | None, places: int = 2) -> str:
    return "-" if x is None else f"{x:,.{places}f}"


def table(s: dict[str, Any]) -> str:
    """The end-of-run table (plain text)."""
    p = s["pnl"]
    n = s["neutrality"]
    rows: list[tuple[str, str]] = [
        ("steps", f"{s['steps']} over {s['horizon_sec'] / 86_400:g} days"),
        ("NAV (quote)", f"{_fmt(s['nav_start'])} -> {_fmt(s['nav_end'])}"),
        (
            "share price (quote)",
            f"{s['share_price_start']:.6f} -> {s['share_price_end']:.6f} ({100 * s['share_price_return']:+.3f}%)",
        ),
        ("health factor", f"end {_fmt(s['health_factor_end'], 3)}, min {_fmt(s['health_factor_min'], 3)}"),
        ("net delta (underlying)", _fmt(s["net_delta_end"], 4)),
        (
            "delta neutrality",
            f"|net delta| <= {n['band']:g} in {100 * n['share_in_band']:.1f}% of steps, "
            f"max {n['max_abs_net_delta']:.4f}, "
            f"longest run outside {n['longest_run_outside']} steps",
        ),
        ("vega (quote per 1.00 vol)", _fmt(s["vega_end"])),
        (
            f"hedge ({s['hedger']}, underlying)",
            f"end {_fmt(s['hedge_end'], 4)} (held - owed), "
            f"range {_fmt(s['hedge_min'], 4)} .. {_fmt(s['hedge_max'], 4)}; "
            f"collateral {_fmt(s['collateral_end'])}",
        ),
        (
            "hedge upkeeps / slices",
            f"{s['hedges']} / {s['slices']}"
            + (f" (+{s['claim_raises']} claims raised)" if s["claim_raises"] else "")
            + "; waited: "
            + (", ".join(f"{k} x{v}" for k, v in s["hedge_waits"].items()) or "never"),
        ),
        ("settlements", str(s["settlements"])),
        ("trades", ", ".join(f"{k} {v}" for k, v in s["trades"].items()) or "none"),
        ("skipped (reason)", ", ".join(f"{k} x{v}" for k, v in s["skipped"].items()) or "none"),
        (
            "vol posts (rate rule)",
            f"{s['vol_posts']['posted']} sent, {s['vol_posts']['clipped']} clipped, {s['vol_posts']['held']} held; "
            f"max gap to the scenario {s['vol_posts']['max_gap']:.4f}",
        ),
        ("PnL: premium", _fmt(p["premium"])),
        ("PnL: option mark + payouts", _fmt(p["option_mark"])),
        ("PnL: hedge (at oracle)", _fmt(p["hedge"])),
        ("PnL: swap fees + slippage", _fmt(-p["swap_costs"])),
        ("PnL: borrow interest (Aave)", _fmt(-p["borrow_interest"], 4)),
        ("PnL: supply interest (Aave)", _fmt(p["supply_interest"], 4)),
        ("PnL: trading total", _fmt(p["trading_pnl"])),
        ("deposits - withdrawals", _fmt(p["flows"])),
        ("NAV change (residual)", f"{_fmt(p['nav_change'])} ({p['residual_quote_units']:+.3f} quote units)"),
        ("keeper gas (not in NAV)", f"{p['keeper_gas_eth']:.6f} ETH ~ {_fmt(p['keeper_gas_quote'])} quote"),
    ]
    if "skew" in s:
        k = s["skew"]
        rmse = ", ".join(
            f"{int(e) / 86_400:g} d: mean {v['mean']:.2f}, max {v['max']:.2f} ({v['posts']} posts)"
            for e, v in k["rmse_vol_points"].items()
        )
        rows.append(("market (Merton)", "surface fitted by the keeper" if k["surface"] else "flat: at-the-money vol"))
        rows.append(("posted vs market RMSE (vol pts)", rmse or "-"))
        rows.append(
            (
                "fits kept the last good slice",
                f"{k['fallbacks']}" + "".join(f"; {r} x{n}" for r, n in k["fallback_reasons"].items()),
            )
        )
        rows.append(
            (
                "partial steps toward refused fits",
                f"{k.get('walk_steps', 0)}" + ("" if sim_walk_enabled(k) else " (walk off)"),
            )
        )
    if "informed" in s:
        i = s["informed"]
        rows.append(
            (
                "informed buyer",
                f"{i['buys']} buys ({i['bought_wad'] / WAD:g} options), {i['sells']} sells, {i['refused']} refused "
                f"by the vault; edge at trade {_fmt(i['edge_at_trade'])}, P&L at the end {_fmt(i['pnl_end'])} quote",
            )
        )
    rows += gas_rows(s["gas"], s.get("gas_other", {}))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def gas_rows(gas: dict[str, dict[str, Any]], other: dict[str, int]) -> list[tuple[str, str]]:
    """The table's gas rows, the largest total first: count, mean and total of each kind and what it holds;
    'other' itemised by the contract and function its transactions called."""
    rows = []
    for kind, g in sorted(gas.items(), key=lambda item: (-item[1]["total"], item[0])):
        what = g.get("what", GAS_KINDS.get(kind, ""))
        if kind == "other" and other:
            what = ", ".join(f"{label} x{n}" for label, n in sorted(other.items(), key=lambda i: (-i[1], i[0])))
        rows.append((f"gas: {kind}", f"{g['count']} tx, mean {g['mean']:,}, total {g['total']:,}: {what}"))
    return rows


def _duration(sec: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if sec >= size and sec % size == 0:
            return f"{sec / size:g} {unit}"
    return f"{sec:g} s"


def caption(document: dict[str, Any]) -> str:
    """The run's parameters in one line, for every chart: seed, horizon and step, the scenario (GBM drift,
    volatility and its model, or the CSV it came from) and the hedger."""
    s = document["summary"]
    steps, horizon = s["steps"], s["horizon_sec"]
    scenario = document["scenario"]
    gbm = scenario.get("gbm")
    merton = scenario.get("merton")
    if merton is not None:
        market = (
            f"Merton spot {merton['spot']:g}, sigma {merton['sigma']:g}, jumps {merton['lam']:g}/yr "
            f"(mean {merton['mu_j']:g}, sd {merton['delta_j']:g}), "
            + ("surface" if merton["surface"] else "flat ATM vol")
        )
    elif gbm is not None:
        market = f"GBM spot {gbm['spot']:g}, drift {gbm['drift']:g}, vol {gbm['vol']:g}, {gbm['vol_model']} vol model"
        if gbm["vol_model"] == "mean-reverting":
            market += f" (kappa {gbm['kappa']:g}, xi {gbm['xi']:g})"
    else:
        market = scenario["description"].split(":")[0]
    step = _duration(horizon / steps) if steps else "-"
    return (
        f"seed {document['seed']}, {horizon / 86_400:g} days in {steps} steps of {step}; {market}; {s['hedger']} hedger"
    )


def figures(document: dict[str, Any]) -> dict[str, Any]:
    """The charts of a run from its ``results.json`` document, as matplotlib Figures by file name (Agg
    backend; the caller saves and closes them). Each has a title and the run's parameters (``caption``) as
    its subtitle, and each panel a title. The health factor is on a log scale (it spans orders of magnitude
    when the book is small) with the vault's floor and 1 drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = document["steps"]
    suite = document["suite"]
    qs = 10 ** suite["quote_decimals"]
    band = suite["hedge"]["delta_band_wad"] / WAD
    floor = suite["risk"]["hf_floor_wad"] / WAD
    subtitle = caption(document)
    days = [r["time_sec"] / 86_400 for r in records]
    out: dict[str, Any] = {}

    def titled(fig: Any, name: str) -> None:
        fig.suptitle(f"{CHART_TITLES[name]}\n{subtitle}", fontsize=10)
        out[name] = fig

    fig, axes = plt.subplots(3, 1, figsize=(9, 8.5), sharex=True)
    (price_line,) = axes[0].plot(days, [r["price"] for r in records], color="tab:blue", label="spot (oracle, left)")
    axes[0].set_ylabel("price (quote)")
    axes[0].set_title("Spot and implied volatility", fontsize=9)
    ax_vol = axes[0].twinx()
    vol_lines = [
        ax_vol.plot(
            days, [r["vol"] for r in records], color="tab:gray", linewidth=0.8, label="implied vol, scenario (right)"
        )[0],
        ax_vol.plot(
            days,
            [r["vol_posted"] for r in records],
            color="tab:orange",
            linewidth=0.8,
            label="implied vol, posted to the oracle (right)",
        )[0],
    ]
    ax_vol.set_ylabel("implied vol (annual)")
    handles = [price_line, *vol_lines]
    axes[0].legend(handles, [str(h.get_label()) for h in handles], loc="upper left", fontsize=8)
    axes[1].axhspan(-band, band, color="tab:green", alpha=0.12, label=f"band +/-{band:g}")
    axes[1].axhline(0, color="gray", linewidth=0.5)
    axes[1].plot(days, [r["hedge"] for r in records], label="hedge (held - owed)")
    axes[1].plot(days, [r["hedge_target"] for r in records], label="-book delta (target)", linestyle="--")
    axes[1].plot(days, [r["net_delta"] for r in records], label="net delta")
    axes[1].set_ylabel("underlying")
    axes[1].set_title("Hedge, its target and the net delta", fontsize=9)
    axes[1].legend(loc="best", fontsize=8)
    axes[2].plot(days, [r["vega"] for r in records], color="tab:purple", label="vega")
    axes[2].set_ylabel("vega (quote / 1.00 vol)")
    axes[2].set_title("Vega of the book", fontsize=9)
    axes[2].set_xlabel("days")
    titled(fig, "market_and_greeks.png")

    fig, axes = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    axes[0].plot(days, [r["share_price"] for r in records], label="share price")
    axes[0].set_ylabel("share price (quote)")
    axes[0].set_title("Share price", fontsize=9)
    hfs = [r["health_factor"] if r["health_factor"] is not None else float("nan") for r in records]
    axes[1].plot(days, hfs, label="health factor")
    axes[1].set_yscale("log")
    axes[1].axhline(
        floor, color="tab:red", linestyle="--", linewidth=1, label=f"HF floor {floor:g} (new risk refused below)"
    )
    axes[1].axhline(1, color="black", linestyle=":", linewidth=1, label="1 (de-risking only below)")
    axes[1].set_ylabel("health factor (log scale)")
    axes[1].set_title("Health factor (no point while the book has no liabilities)", fontsize=9)
    axes[1].set_xlabel("days")
    axes[1].legend(loc="best", fontsize=8)
    titled(fig, "share_price_and_hf.png")

    fig, ax = plt.subplots(figsize=(9, 5.5))
    ax.plot(days, [r["pnl_premium"] / qs for r in records], label="premium")
    ax.plot(days, [r["pnl_option"] / qs for r in records], label="option mark + payouts")
    ax.plot(days, [r["pnl_hedge_quote"] for r in records], label="hedge")
    ax.plot(days, [-r["pnl_swap_cost_quote"] for r in records], label="swap costs")
    interest = [r["pnl_supply_interest"] / qs - r["pnl_borrow_interest_quote"] for r in records]
    ax.plot(days, interest, label="Aave interest (supply - borrow)")
    total = [
        (r["pnl_premium"] + r["pnl_option"]) / qs + r["pnl_hedge_quote"] - r["pnl_swap_cost_quote"] + x
        for r, x in zip(records, interest, strict=True)
    ]
    ax.plot(days, total, label="trading PnL", color="black", linewidth=1.5)
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.set_ylabel("cumulative PnL (quote)")
    ax.set_title("Trading PnL by source (deposits and withdrawals excluded)", fontsize=9)
    ax.set_xlabel("days")
    ax.legend(loc="best", fontsize=8)
    titled(fig, "pnl_attribution.png")
    if document.get("smile_posts"):
        fig = smile_figure(document, subtitle)
        out[SMILE_CHART] = fig
    return out


def smile_figure(document: dict[str, Any], subtitle: str) -> Any:
    """The smile chart: for the expiry with the most posts, the market's implied vols (points) and the posted
    slice's vol (line, sqrt(w(k) / T0) at the post) at its first, middle and last post; below, each post's RMSE
    against the market (vol points) over time, per expiry."""
    import math

    import matplotlib.pyplot as plt

    posts = [p for p in document["smile_posts"] if p["strikes"]]
    fig, axes = plt.subplots(2, 1, figsize=(9, 8))
    fig.suptitle(f"{SMILE_TITLE}\n{subtitle}", fontsize=9)
    counts: dict[int, int] = {}
    for p in posts:
        counts[p["expiry_offset_sec"]] = counts.get(p["expiry_offset_sec"], 0) + 1
    if counts:
        expiry = max(counts, key=lambda e: (counts[e], e))
        mine = [p for p in posts if p["expiry_offset_sec"] == expiry]
        chosen = sorted({0, len(mine) // 2, len(mine) - 1})
        for i, idx in enumerate(chosen):
            p = mine[idx]
            color = f"C{i}"
            day = p["posted_at_sec"] / 86_400
            axes[0].scatter(p["strikes"], p["market_vols"], color=color, marker="o", label=f"market, day {day:.2f}")
            lo, hi = min(p["strikes"]), max(p["strikes"])
            ks = [lo + (hi - lo) * j / 80 for j in range(81)]
            sl = p["slice"]
            t0 = p["t0_sec"] / (365 * 86_400)
            vols = []
            for strike in ks:
                x = math.log(strike / p["spot"]) - sl["m"]
                w = sl["a"] + sl["b"] * (sl["rho"] * x + math.sqrt(x * x + sl["sigma"] ** 2))
                vols.append(math.sqrt(max(w, 0.0) / t0))
            axes[0].plot(ks, vols, color=color, label=f"posted slice, day {day:.2f}")
        axes[0].set_title(f"Expiry at day {expiry / 86_400:g}: implied vol by strike", fontsize=9)
        axes[0].set_xlabel("strike (quote)")
        axes[0].set_ylabel("implied vol (annual)")
        axes[0].legend(loc="best", fontsize=8)
    for e in sorted(counts):
        mine = [p for p in posts if p["expiry_offset_sec"] == e and p["rmse_vol_points"] is not None]
        axes[1].plot(
            [p["posted_at_sec"] / 86_400 for p in mine],
            [p["rmse_vol_points"] for p in mine],
            marker=".",
            label=f"expiry day {e / 86_400:g}",
        )
    axes[1].set_title("RMSE of each post against the market's implied vols", fontsize=9)
    axes[1].set_xlabel("days")
    axes[1].set_ylabel("RMSE (vol points)")
    axes[1].legend(loc="best", fontsize=8)
    return fig


def charts(document: dict[str, Any], out_dir: Path) -> list[Path]:
    """The PNG charts of a run (``figures``) under ``out_dir``; returns their paths."""
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    for name, fig in figures(document).items():
        path = out_dir / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
