"""`hedgevault surface`: the volatility oracle's smile per expiry, read from a deployed suite.

Per expiry (every expiry of a live listed series, and every quoted expiry the oracle holds a post of; or the
``--expiry`` given): the slice as stored (a, b, rho, m, sigma in plain units: a in total variance), its post and
validity window (``sliceUntil``), the forward it is evaluated at, and the smile: each listed strike (the vault's
series of the expiry and the oracle's strike set) and a few points of log-moneyness spread over the oracle's
arbitrage grid, each with the contract's vol (``strikeVolWad``) beside the bit-exact mirror's
(``hedgevault.surface.mirror.vol_wad``, same slice, strike, forward and T0). They must agree to the wei; a row
where they do not is flagged and the command says so.

The forward: the one of the expiry's latest slice post (``SlicePosted``; what the oracle checked the strikes at
and the keeper fitted at), else the vault's rule now, spot x e^(r tau) (the price oracle's spot, the deployment's
rate). The slice is a smile in k = ln(K / F) held as posted: sigma(k) = sqrt(w(k) / T0), T0 the time to expiry
at the post.

``--quotes FILE`` (the keeper's quotes file: JSON ``{spot, rate, now, quotes}`` or CSV; a CSV takes the price
oracle's spot, and both are read at the chain's time, as the keeper reads them) adds the market points: each
usable quote's mid implied vol (prices inverted by the project's implied-vol mirror, ``hedgevault.surface.fit``)
against the slice's vol at the quote's strike and forward, and the residual in vol points. ``--png PATH`` charts
the smile of each posted expiry (the slice's curve, the market points, the listed strikes). ``--json`` prints the
same document as JSON (vols as exact wad integers beside the decimals).

All reads are at one block, in a few batched round trips (``hedgevault.chain.rpc.Rpc``), plus one ``eth_getLogs``
for the posts' forwards.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedgevault.chain.rpc import Revert, Rpc, RpcError
from hedgevault.errors import ContractError, HedgevaultError
from hedgevault.ops.reads import Batch, listed_series, revert_text, series_probe, utc_date, value
from hedgevault.units import from_units, from_wad

if TYPE_CHECKING:
    from hedgevault.deployment.manifest import Manifest
    from hedgevault.suite import Suite
    from hedgevault.surface.fit import SmilePoints
    from hedgevault.surface.mirror import Slice

WAD = 10**18
E36 = 10**36
YEAR_SEC = 31_536_000
#: Points of log-moneyness shown by default, equally spaced over the oracle's arbitrage grid.
DEFAULT_POINTS = 5
MAX_POINTS = 64
#: A point of log-moneyness this close to a listed strike's k is not shown (the strike's row is).
GRID_GAP_WAD = WAD // 200
#: Oracle errors that mean "no fresh post", not a disagreement between the contract and the mirror.
_FRESHNESS_ERRORS = frozenset(("VolNotPosted", "VolStale"))
_SLICE_POSTED = "SlicePosted(uint256,(int256,int256,int256,int256,int256),uint256)"


class SurfaceInputError(HedgevaultError):
    """A ``surface`` argument that cannot be used (an unknown expiry, nothing to chart)."""


# ----------------------------------------------------------------------------- reading


@dataclass
class _Expiry:
    """What batch 2 asks of one expiry (indexes into the batch)."""

    last_post: int
    until: int
    slice_of: int
    strikes: int


@dataclass
class _Row:
    k_wad: int
    strike_wad: int
    source: str
    mirror: int | ContractError
    #: Index of its ``strikeVolWad`` call in the smile batch; the answer once read.
    call: int = -1
    contract: int | Revert | None = None


@dataclass
class _Smile:
    expiry: int
    doc: dict[str, Any]
    slice: Slice | None = None
    post_time_sec: int = 0
    forward_wad: int = 0
    rows: list[_Row] = field(default_factory=list)


def _plain(value_: int, decimals: int) -> str:
    return from_units(value_, decimals)


def _slice_doc(s: Slice) -> dict[str, str]:
    """The slice in plain units: a in total variance, the others as numbers (exact)."""
    return {
        "a": _plain(s.a36, 36),
        "b": from_wad(s.b_wad),
        "rho": from_wad(s.rho_wad),
        "m": from_wad(s.m_wad),
        "sigma": from_wad(s.sigma_wad),
    }


def _forward_now(spot_wad: int, rate_wad: int, tau_sec: int) -> int:
    """spot x e^(r tau) in wad (rounded down): the vault's forward rule, for an expiry without a slice post."""
    with localcontext() as ctx:
        ctx.prec = 60
        growth = (Decimal(rate_wad) / WAD * Decimal(max(tau_sec, 0)) / YEAR_SEC).exp()
        return int(Decimal(spot_wad) * growth)


def _k_points(lo_wad: int, hi_wad: int, points: int) -> list[int]:
    last = max(points - 1, 1)
    return [lo_wad + (hi_wad - lo_wad) * i // last for i in range(points)]


def _strike_at(forward_wad: int, k_wad: int) -> int:
    """F e^k in wad, rounded to nearest (the row then shows the k of that strike, as the contract takes it)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((Decimal(forward_wad) * (Decimal(k_wad) / WAD).exp()).to_integral_value())


def _run(batch: Batch, rpc: Rpc, block: int) -> None:
    """Answer the batch at ``block`` (every read of one command sees one state)."""
    batch.answers = rpc.results(batch.calls, None, block) if batch.calls else []


def _k_or_none(strike_wad: int, forward_wad: int) -> int | None:
    from hedgevault.surface import mirror

    try:
        return mirror.log_moneyness_wad(strike_wad, forward_wad)
    except ContractError:
        return None


def _posted_forwards(rpc: Rpc, oracle: Any, from_block: int, to_block: int) -> dict[int, tuple[int, int]]:
    """expiry -> (forward wad, block) of the latest ``SlicePosted`` of each expiry up to ``to_block``."""
    from eth_abi.abi import decode
    from web3 import Web3

    logs = rpc.request(
        "eth_getLogs",
        [
            {
                "address": oracle.address,
                "fromBlock": hex(from_block),
                "toBlock": hex(to_block),
                "topics": ["0x" + Web3.keccak(text=_SLICE_POSTED).hex().removeprefix("0x")],
            }
        ],
    )
    out: dict[int, tuple[int, int]] = {}
    for log in logs or []:
        expiry = int(str(log["topics"][1]), 16)
        _, forward = decode(["(int256,int256,int256,int256,int256)", "uint256"], bytes.fromhex(str(log["data"])[2:]))
        out[expiry] = (int(forward), int(str(log["blockNumber"]), 16))  # logs come in chain order
    return out


def _mirror_vol(s: Slice, strike_wad: int, forward_wad: int, time_sec: int) -> int | ContractError:
    from hedgevault.surface import mirror

    try:
        return mirror.vol_wad(s, strike_wad, forward_wad, time_sec)
    except ContractError as exc:
        return exc


def _agreement(row: _Row) -> bool | None:
    """True: the contract and the mirror give the same vol (or the same revert, byte for byte); None: not
    compared (the oracle has no fresh post: the contract refuses before it evaluates)."""
    c, m = row.contract, row.mirror
    if isinstance(c, Revert):
        if c.name in _FRESHNESS_ERRORS:
            return None
        return isinstance(m, ContractError) and m.revert_data() == c.data
    return isinstance(m, int) and c == m


def _vol_cell(v: int | ContractError | Revert | None) -> dict[str, Any]:
    if v is None:
        return {"vol_wad": None, "vol": None, "error": "not read"}
    if isinstance(v, Revert):
        return {"vol_wad": None, "vol": None, "error": revert_text(v)}
    if isinstance(v, ContractError):
        return {"vol_wad": None, "vol": None, "error": type(v).__name__}
    return {"vol_wad": v, "vol": from_wad(v), "error": None}


def read_surface(
    suite: Suite,
    manifest: Manifest | None = None,
    *,
    expiries: Sequence[int] | None = None,
    quotes: Path | None = None,
    points: int = DEFAULT_POINTS,
    rpc: Rpc | None = None,
) -> dict[str, Any]:
    """The document ``surface`` prints: per expiry the slice, its window, forward, the smile's rows (contract and
    mirror vols) and with ``quotes`` the market points and residuals. Raises ``SurfaceInputError`` for an
    expiry neither listed by the vault nor posted to the oracle; ``SurfaceFitError`` for a quotes file that
    cannot be read."""
    from hedgevault.surface.mirror import Slice
    from hedgevault.surface.oracle_rules import oracle_grid

    rpc = rpc or Rpc(suite.w3)
    head = rpc.head()
    block, now = head.number, head.timestamp
    oracle = suite.vol_oracle

    first = Batch()
    live_i = first.add(suite.vault, "liveSeries")
    spot_i = first.add(suite.price_oracle, "spotWad")
    params_i = first.add(oracle, "params")
    grid_i = first.add(oracle, "gridPoints")
    probes = series_probe(first, suite)
    _run(first, rpc, block)
    live = {int(i) for i in value(first[live_i])}
    listed = listed_series(rpc, suite, first, probes)
    vol_params = [int(x) for x in value(first[params_i])]
    grid_points = int(value(first[grid_i]))
    spot = first[spot_i]
    spot_wad = None if isinstance(spot, Revert) else int(spot)
    rate_wad = int(suite.config.risk.rate_wad)

    series_strikes: dict[int, set[int]] = {}
    for series_id, (expiry, _is_call, strike, _oi) in listed:
        series_strikes.setdefault(int(expiry), set())
        if series_id in live:
            series_strikes[int(expiry)].add(int(strike))
    live_expiries = {int(e) for sid, (e, *_) in listed if sid in live and int(e) > now}

    snapshot_points: dict[int, SmilePoints] = {}
    quotes_doc: dict[str, Any] | None = None
    if quotes is not None:
        from dataclasses import replace

        from hedgevault.surface.errors import SurfaceFitError
        from hedgevault.surface.fit import load_quotes, smile_points

        csv_spot = None if spot_wad is None else spot_wad / WAD
        if quotes.suffix.lower() != ".json" and spot_wad is None:
            raise SurfaceFitError(f"{quotes}: a CSV takes the price oracle's spot, which refused: {revert_text(spot)}")
        snapshot = replace(load_quotes(quotes, spot=csv_spot, now=now), now=now)
        pts, dropped = smile_points(snapshot)
        snapshot_points = {p.expiry: p for p in pts}
        quotes_doc = {"file": str(quotes), "spot": snapshot.spot, "rate": snapshot.rate, "dropped": dropped}

    asked = sorted(set(expiries)) if expiries else []
    wanted = sorted(set(asked) | live_expiries | set(snapshot_points))
    second = Batch()
    reads = {
        e: _Expiry(
            second.add(oracle, "lastPost", e),
            second.add(oracle, "sliceUntil", e),
            second.add(oracle, "sliceOf", e),
            second.add(oracle, "strikesOf", e),
        )
        for e in wanted
    }
    _run(second, rpc, block)
    posted_at = {e: int(value(second[r.last_post])[1]) for e, r in reads.items()}
    if asked:
        unknown = [e for e in asked if e not in series_strikes and posted_at[e] == 0]
        if unknown:
            known = sorted(set(series_strikes) | {e for e, at in posted_at.items() if at})
            raise SurfaceInputError(
                f"expiry {unknown[0]} ({utc_date(unknown[0])}) is neither listed by the vault nor posted to the "
                "oracle; known expiries: " + (", ".join(str(e) for e in known) or "none (see `hedgevault series`)")
            )
        shown = asked
    else:
        shown = sorted(live_expiries | {e for e in snapshot_points if posted_at[e]})

    record = manifest.vault_stack.contracts.get("vol_oracle") if manifest and manifest.vault_stack else None
    from_block = record.block if record is not None and record.block is not None else 0
    logs_error = None
    try:
        forwards = _posted_forwards(rpc, oracle, from_block, block) if shown else {}
    except RpcError as exc:  # a node that limits eth_getLogs: the vault's forward instead, said so
        forwards, logs_error = {}, str(exc)

    smiles: list[_Smile] = []
    third = Batch()
    for e in shown:
        r = reads[e]
        atm_wad, at = (int(x) for x in value(second[r.last_post]))
        doc: dict[str, Any] = {"expiry": e, "expiry_utc": utc_date(e), "listed_strikes": []}
        smile = _Smile(e, doc)
        smiles.append(smile)
        strike_set = [int(k) for k in value(second[r.strikes])]
        listed_strikes = sorted(series_strikes.get(e, set()) | set(strike_set))
        doc["listed_strikes"] = [from_wad(k) for k in listed_strikes]
        if at == 0:
            doc |= {"state": "not posted", "kind": None}
            continue
        sl = Slice(*(int(x) for x in value(second[r.slice_of])))
        smile.slice, smile.post_time_sec = sl, e - at
        until = second[r.until]
        if isinstance(until, Revert):
            state, fresh_until = revert_text(until), at + vol_params[3]
        else:
            state, fresh_until = "fresh", int(until[1])
        if e in forwards:
            forward, source = forwards[e][0], f"posted with the slice at block {forwards[e][1]}"
        elif spot_wad is not None:
            why = (
                "a flat post has no forward"
                if sl.b_wad == 0
                else f"its slice post's log was not found ({logs_error or 'no SlicePosted log'})"
            )
            forward, source = _forward_now(spot_wad, rate_wad, e - now), f"spot now x e^(r tau): {why}"
        else:
            forward, source = 0, f"none: the price oracle refused ({revert_text(spot)})"
        smile.forward_wad = forward
        doc |= {
            "state": state,
            "kind": "smile" if sl.b_wad else "flat",
            "posted_at": at,
            "posted_at_utc": utc_date(at),
            "fresh_until": fresh_until,
            "fresh_until_utc": utc_date(fresh_until),
            "post_time_sec": e - at,
            "atm_vol_wad": atm_wad,
            "atm_vol": from_wad(atm_wad),
            "slice": _slice_doc(sl),
            "slice_raw": {
                "a36": sl.a36,
                "bWad": sl.b_wad,
                "rhoWad": sl.rho_wad,
                "mWad": sl.m_wad,
                "sigmaWad": sl.sigma_wad,
            },
            "forward_wad": forward,
            "forward": from_wad(forward) if forward else None,
            "forward_source": source,
            "bounds": {"min_vol": from_wad(vol_params[0]), "max_vol": from_wad(vol_params[1])},
        }
        if forward == 0:
            continue
        grid = oracle_grid(strike_set, forward, grid_points)
        doc["grid"] = {"k_lo": from_wad(grid.k_lo_wad), "k_hi": from_wad(grid.k_hi_wad), "points": grid.points}
        rows: dict[int, _Row] = {}
        for k in listed_strikes:
            tags = [t for t, ok in (("series", k in series_strikes.get(e, ())), ("strike set", k in strike_set)) if ok]
            rows[k] = _Row(0, k, ", ".join(tags), _mirror_vol(sl, k, forward, e - at))
        listed_ks = [_k_or_none(k, forward) for k in listed_strikes]
        for k_wad in _k_points(grid.k_lo_wad, grid.k_hi_wad, points):
            k_wad = round(k_wad, -16)  # k to 0.01: round figures, the row shows the strike's exact k
            if any(k is not None and abs(k - k_wad) < GRID_GAP_WAD for k in listed_ks):
                continue  # a listed strike is there already
            strike = _strike_at(forward, k_wad)
            rows.setdefault(strike, _Row(0, strike, "grid", _mirror_vol(sl, strike, forward, e - at)))
        for row in rows.values():
            row.k_wad = _k_or_none(row.strike_wad, forward) or 0
            row.call = third.add(oracle, "strikeVolWad", e, row.strike_wad, forward)
            smile.rows.append(row)
        smile.rows.sort(key=lambda x: x.strike_wad)
    _run(third, rpc, block)

    out_expiries: list[dict[str, Any]] = []
    disagreements = 0
    for smile in smiles:
        doc = smile.doc
        table = []
        for row in smile.rows:
            row.contract = third[row.call]
            agree = _agreement(row)
            disagreements += agree is False
            table.append(
                {
                    "k": from_wad(row.k_wad),
                    "k_wad": row.k_wad,
                    "strike": from_wad(row.strike_wad, 6),
                    "strike_wad": row.strike_wad,
                    "source": row.source,
                    "contract": _vol_cell(row.contract),
                    "mirror": _vol_cell(row.mirror),
                    "agree": agree,
                }
            )
        if smile.slice is not None and smile.forward_wad:
            doc["smile"] = table
            compared = [r["agree"] for r in table if r["agree"] is not None]
            doc["agree"] = all(compared) if compared else None
        if smile.expiry in snapshot_points and smile.slice is not None:
            doc["market"], doc["rmse_vol_points"] = _market(
                smile.slice, smile.post_time_sec, snapshot_points[smile.expiry]
            )
        out_expiries.append(doc)
    if quotes_doc is not None:
        quotes_doc["not_shown"] = sorted(e for e in snapshot_points if e not in shown)
    return {
        "block": block,
        "time": now,
        "time_utc": utc_date(now),
        "vol_oracle": oracle.address,
        "spot": from_wad(spot_wad) if spot_wad is not None else None,
        "spot_error": None if spot_wad is not None else revert_text(spot),
        "rate": from_wad(rate_wad),
        "grid_points": grid_points,
        "expiries": out_expiries,
        "disagreements": disagreements,
        **({"quotes": quotes_doc} if quotes_doc is not None else {}),
    }


def _market(s: Slice, post_time_sec: int, pts: SmilePoints) -> tuple[list[dict[str, Any]], float | None]:
    """The expiry's usable quotes against the slice: each quote's mid implied vol, the slice's vol at its strike
    (at the quotes' forward, over T0) and the residual market - slice in vol points; with the RMSE."""
    out: list[dict[str, Any]] = []
    squares: list[float] = []
    for k, vol, strike in zip(pts.k, pts.vol, pts.strikes_wad, strict=True):
        fitted = _mirror_vol(s, strike, pts.forward_wad, post_time_sec)
        point: dict[str, Any] = {
            "strike": from_wad(strike, 6),
            "k": round(float(k), 6),
            "market_vol": float(vol),
            "slice_vol": None if isinstance(fitted, ContractError) else fitted / WAD,
            "residual_vol_points": None,
        }
        if isinstance(fitted, int):
            residual = (float(vol) - fitted / WAD) * 100
            point["residual_vol_points"] = residual
            squares.append(residual * residual)
        else:
            point["error"] = type(fitted).__name__
        out.append(point)
    rmse = (sum(squares) / len(squares)) ** 0.5 if squares else None
    return out, rmse


# ----------------------------------------------------------------------------- text


def _cell(cell: dict[str, Any]) -> str:
    return f"{float(cell['vol']):.6f}" if cell["vol"] is not None else str(cell["error"]).split("(", 1)[0]


def format_surface(doc: dict[str, Any]) -> str:
    """The document as text: a block per expiry."""
    lines = [
        f"volatility oracle {doc['vol_oracle']} at block {doc['block']} ({doc['time_utc']}); "
        + (f"spot {doc['spot']}" if doc["spot"] is not None else f"spot refused: {doc['spot_error']}")
        + f", rate {doc['rate']}, arbitrage grid {doc['grid_points']} points"
    ]
    if not doc["expiries"]:
        lines.append("no expiry to show: no live series is listed (`hedgevault list-series`) and no quote is posted")
    for e in doc["expiries"]:
        lines.append("")
        head = f"expiry {e['expiry_utc']} ({e['expiry']})"
        if e["kind"] is None:
            lines.append(f"{head}: not posted (strikes {', '.join(e['listed_strikes']) or 'none'})")
            continue
        lines.append(
            f"{head}: {e['kind']} slice posted {e['posted_at_utc']} (T0 {e['post_time_sec'] / 86_400:.4g} days), "
            f"fresh until {e['fresh_until_utc']}" + ("" if e["state"] == "fresh" else f" - {e['state']}")
        )
        s = e["slice"]
        lines.append(f"  slice   a {s['a']}  b {s['b']}  rho {s['rho']}  m {s['m']}  sigma {s['sigma']}")
        lines.append(
            f"  at-the-money vol {float(e['atm_vol']):.6f}, bounds [{e['bounds']['min_vol']}, {e['bounds']['max_vol']}]"
        )
        lines.append(f"  forward {e['forward'] or '-'} ({e['forward_source']})")
        if "smile" not in e:
            continue
        g = e["grid"]
        lines.append(f"  arbitrage grid k in [{float(g['k_lo']):.4f}, {float(g['k_hi']):.4f}], {g['points']} points")
        lines.append(f"  {'k':>9} {'strike':>14} {'contract vol':>13} {'mirror vol':>13}  row")
        for r in e["smile"]:
            mark = {True: "", None: "  (not compared)", False: "  DIFFERS"}[r["agree"]]
            lines.append(
                f"  {r['k_wad'] / WAD:>9.4f} {r['strike']:>14} {_cell(r['contract']):>13} {_cell(r['mirror']):>13}  "
                f"{r['source']}{mark}"
            )
        if e["agree"] is True:
            lines.append(f"  contract and mirror agree to the wei at all {len(e['smile'])} points")
        elif e["agree"] is None:
            lines.append("  not compared: the contract refuses without a fresh post (mirror only)")
        else:
            bad = sum(1 for r in e["smile"] if r["agree"] is False)
            lines.append(f"  CONTRACT AND MIRROR DISAGREE at {bad} of {len(e['smile'])} points")
        if "market" in e:
            lines.append("  market quotes (mid implied vol) against the slice, residual in vol points:")
            lines.append(f"  {'k':>9} {'strike':>14} {'market vol':>13} {'slice vol':>13} {'residual':>9}")
            for m in e["market"]:
                fitted = "-" if m["slice_vol"] is None else f"{m['slice_vol']:.6f}"
                res = "-" if m["residual_vol_points"] is None else f"{m['residual_vol_points']:+.3f}"
                lines.append(f"  {m['k']:>9.4f} {m['strike']:>14} {m['market_vol']:>13.6f} {fitted:>13} {res:>9}")
            rmse = e["rmse_vol_points"]
            lines.append(
                f"  fit RMSE {rmse:.3f} vol points over {len(e['market'])} quotes"
                if rmse is not None
                else "  no quote could be evaluated"
            )
    q = doc.get("quotes")
    if q is not None:
        lines.append("")
        lines.append(f"quotes {q['file']}: {len(q['dropped'])} dropped" + (":" if q["dropped"] else ""))
        lines.extend(f"  {reason}" for reason in q["dropped"])
        if q["not_shown"]:
            lines.append("  quoted expiries without a post (not shown): " + ", ".join(str(x) for x in q["not_shown"]))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- chart


def write_png(doc: dict[str, Any], path: Path) -> Path:
    """One panel per posted expiry: the slice's vol against log-moneyness (the curve sqrt(w(k) / T0) from the
    mirror), the listed strikes and grid points at the contract's vols, the market points; matplotlib, Agg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hedgevault.surface import mirror
    from hedgevault.surface.mirror import Slice

    panels = [e for e in doc["expiries"] if e.get("smile")]
    if not panels:
        raise SurfaceInputError("nothing to chart: no shown expiry has a posted slice and a forward")
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 4.2 * len(panels)), squeeze=False)
    for ax, e in zip(axes[:, 0], panels, strict=True):
        raw = e["slice_raw"]
        s = Slice(raw["a36"], raw["bWad"], raw["rhoWad"], raw["mWad"], raw["sigmaWad"])
        ks = [int(r["k_wad"]) for r in e["smile"]]
        market = e.get("market", [])
        lo = min([*ks, *(round(m["k"] * WAD) for m in market)])
        hi = max([*ks, *(round(m["k"] * WAD) for m in market)])
        pad = max((hi - lo) // 10, WAD // 100)
        curve_k, curve_v = [], []
        for k in np.linspace(lo - pad, hi + pad, 201):
            try:
                v = mirror._vol_at(s, int(k), e["post_time_sec"])
            except ContractError:
                continue
            curve_k.append(float(k) / WAD)
            curve_v.append(100 * v / WAD)
        ax.plot(curve_k, curve_v, color="tab:blue", label="SVI slice on chain (mirror)")
        listed = [r for r in e["smile"] if r["contract"]["vol_wad"] is not None]
        for source, marker, label in (
            ("grid", "x", "log-moneyness points, strikeVolWad"),
            (None, "o", "listed strikes, strikeVolWad"),
        ):
            pts = [r for r in listed if (r["source"] == "grid") == (source == "grid")]
            if pts:
                ax.scatter(
                    [r["k_wad"] / WAD for r in pts],
                    [100 * r["contract"]["vol_wad"] / WAD for r in pts],
                    marker=marker,
                    color="tab:green" if source is None else "tab:gray",
                    zorder=3,
                    label=label,
                )
        if market:
            ax.scatter(
                [m["k"] for m in market],
                [100 * m["market_vol"] for m in market],
                marker="D",
                facecolors="none",
                edgecolors="tab:red",
                zorder=4,
                label="market quotes (mid implied vol)",
            )
        ax.axvline(0, color="gray", linewidth=0.5)
        title = f"Smile of {e['expiry_utc']}: {e['kind']} slice, T0 {e['post_time_sec'] / 86_400:.3g} days"
        if e.get("rmse_vol_points") is not None:
            title += f", fit RMSE {e['rmse_vol_points']:.2f} vol points"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"log-moneyness k = ln(K / F), F = {float(e['forward']):g} (quote per underlying)")
        ax.set_ylabel("implied volatility (% a year)")
        forward = float(e["forward"])
        top = ax.secondary_xaxis(
            "top", functions=(lambda k, f=forward: f * np.exp(k), lambda x, f=forward: np.log(np.maximum(x, 1e-12) / f))
        )
        top.set_xlabel("strike K (quote per underlying)", fontsize=8)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"Volatility surface at block {doc['block']} ({doc['time_utc']})", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- command


def _surface(args: argparse.Namespace) -> int:
    from hedgevault.deployment import attach_suite
    from hedgevault.ops.cli import manifest_on_node
    from hedgevault.ops.journey_cli import parse_time

    quotes = None if args.quotes is None else Path(args.quotes)
    if quotes is not None and not quotes.is_file():
        raise SurfaceInputError(f"--quotes {quotes}: no such file")
    with manifest_on_node(args) as (w3, manifest):
        if manifest.vault_stack is None:
            raise SurfaceInputError("the manifest has no option vault (deployed with --stack portfolio?)")
        suite = attach_suite(w3, manifest)
        rpc = Rpc(w3)
        now = rpc.head().timestamp
        expiries = [parse_time(text, now, "--expiry") for text in args.expiry or []]
        doc = read_surface(suite, manifest, expiries=expiries, quotes=quotes, points=args.points, rpc=rpc)
    if args.png:
        doc["png"] = str(write_png(doc, Path(args.png)))
    print(json.dumps(doc, indent=2, default=str) if args.json else format_surface(doc))
    if doc["disagreements"]:
        raise SurfaceInputError(
            f"the contract and the mirror disagree at {doc['disagreements']} points (a bug: please report it)"
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``surface``."""
    from hedgevault.cliargs import uint
    from hedgevault.ops.cli import connection_flags

    p = sub.add_parser(
        "surface",
        help="the volatility oracle's smile per expiry: the SVI slice, its window and forward, each listed "
        "strike's vol from the contract beside the mirror's, market quotes and the fit's residuals, a PNG chart",
    )
    connection_flags(p)
    p.add_argument(
        "--expiry",
        action="append",
        help="only this expiry (unix seconds or 2027-01-08T08:00 UTC); repeat for several (default: every live "
        "listed expiry and every quoted expiry with a post)",
    )
    p.add_argument(
        "--quotes",
        help="the keeper's quotes file (JSON {spot, rate, now, quotes} or CSV strike,expiry,bid,ask,kind): adds the "
        "market's mid implied vols and the residual of each quote",
    )
    p.add_argument(
        "--points",
        type=uint("--points", MAX_POINTS),
        default=DEFAULT_POINTS,
        help="points of log-moneyness over the oracle's arbitrage grid, besides the strikes "
        f"(default {DEFAULT_POINTS})",
    )
    p.add_argument("--png", help="write a chart of each expiry's smile (market points against the slice) here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_surface)
