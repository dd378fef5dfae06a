"""Gas of the option vault with the volatility surface (issue 13): the same chain as ``bench_vault_gas.py``'s
(``Bench``: 8 live series on 4 expiries, each with open interest, hedge long), once with every expiry posted
flat (``postVol``, today's path) and once with a skewed SVI slice per expiry (``postSlice``, the listed strikes
in the strike set). Rows: a buy, a sell, a deposit on a fresh cached book; the keeper's re-mark upkeep (every
series priced: one slice evaluation per series); the posts themselves (``postVol``, ``postSlice`` with 2 strikes
and 24 grid points against both neighbours, and a 4-expiry ``postSlices``).

The difference per priced strike is what the surface costs: the buy prices its series once from fresh marks
(target <= 1,500 added gas per strike, issue 13), the re-mark prices all 8.

Usage: python bench/bench_svi_vault_gas.py [--series 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vault_gas import Bench

from hedgevault.chain import latest_timestamp, local_node, warp
from hedgevault.surface.mirror import Slice
from hedgevault.surface.oracle_rules import on_grid
from hedgevault.txs import send

WAD = 10**18
YEAR = 365 * 86_400
SPOT_WAD = 3000 * WAD


def _skew(time_sec: int, atm: float = 0.8) -> Slice:
    """A put-skewed slice (b 0.1, rho -0.5, sigma 0.1) whose at-the-money vol is about ``atm``."""
    b, sigma = 0.1, 0.1
    return on_grid(Slice.from_floats(atm * atm * time_sec / YEAR - b * sigma, b, -0.5, 0.0, sigma))


def measure(n_series: int, surface: bool) -> dict[str, int]:
    gas: dict[str, int] = {}
    with local_node() as node:
        w3 = node.web3()
        b = Bench(w3, n_series, "aave")
        s, v, o = b.s, b.v, b.s.vol_oracle.functions
        # wide steps: the bench moves from the flat posts to the skew at once
        p = s.config.vol
        send(w3, o.setParams((p.min_vol_wad, p.max_vol_wad, WAD // 5, p.max_age_sec, WAD, p.min_interval_sec)), b.admin)
        warp(w3, 3600)
        strikes: dict[int, list[int]] = {}
        for sid in b.ids:
            series = v.series(sid).call()
            strikes.setdefault(int(series[0]), []).append(int(series[2]))
        if surface:
            # the first slices without preparation (undone), then as the listing path leaves them: prepared
            snap = b.snapshot()
            _first_slices(b, strikes, gas, " (unprepared)")
            b.revert(snap)
        for e in b.expiries:
            receipt = send(w3, o.prepareExpiry(e, len(strikes.get(e, []))), b.admin)
            gas.setdefault("prepareExpiry (posted flat: 1 strike slot)", int(receipt["gasUsed"]))
        if surface:
            _first_slices(b, strikes, gas, "")
        else:
            for e in b.expiries:
                receipt = send(w3, o.postVol(e, 8 * WAD // 10), b.admin)
            gas["postVol"] = int(receipt["gasUsed"])
        send(w3, s.feed.functions.setAnswer(s.feed_answer(SPOT_WAD)), b.admin)
        if v.checkUpkeep(b"").call()[0]:
            send(w3, v.performUpkeep(b""), b.keeper)
            b.arbitrage()
        b.trades("hedge long", gas)
        warp(w3, s.config.risk.cache_max_age_sec + 1)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(SPOT_WAD)), b.admin)
        gas["performUpkeep (re-mark)"] = int(send(w3, v.performUpkeep(b""), b.keeper)["gasUsed"])
        if surface:
            now = latest_timestamp(w3)
            posts = [(e, _skew(e - now, 0.81).as_tuple(), SPOT_WAD, []) for e in b.expiries]
            gas["postSlices (4 expiries)"] = int(send(w3, o.postSlices(posts), b.admin)["gasUsed"])
            # a routine re-post of one expiry between both neighbours (its strike set exists)
            warp(w3, p.min_interval_sec)
            now = latest_timestamp(w3)
            e = b.expiries[1]
            receipt = send(w3, o.postSlice(e, _skew(e - now, 0.815).as_tuple(), SPOT_WAD, []), b.admin)
            gas["postSlice (re-post, neighbours)"] = int(receipt["gasUsed"])
            _new_expiry(b, gas)
    return gas


def _first_slices(b: Bench, strikes: dict[int, list[int]], gas: dict[str, int], tag: str) -> None:
    """The first slice post of each expiry (each posted flat before), its strikes added: the first expiry's gas
    (one neighbour: the farther, flat) and the last's (one neighbour: the nearer, a smile)."""
    w3, o = b.w3, b.s.vol_oracle.functions
    now = latest_timestamp(w3)
    for e in b.expiries[:-1]:
        receipt = send(w3, o.postSlice(e, _skew(e - now).as_tuple(), SPOT_WAD, strikes.get(e, [])), b.admin)
        gas.setdefault(f"postSlice (first slice, strikes){tag}", int(receipt["gasUsed"]))
    e = b.expiries[-1]
    receipt = send(w3, o.postSlice(e, _skew(e - now).as_tuple(), SPOT_WAD, strikes.get(e, [])), b.admin)
    gas[f"postSlice (last expiry, one neighbour){tag}"] = int(receipt["gasUsed"])


def _new_expiry(b: Bench, gas: dict[str, int]) -> None:
    """The first post ever of a new expiry between the second and third (both neighbours smiles, 2 strikes, 24
    points): unprepared (undone), then prepared (its post slot, list node and strike slot)."""
    w3, o = b.w3, b.s.vol_oracle.functions
    warp(w3, 600)
    e = b.expiries[1] + 5 * 86_400
    ks = [2600 * WAD, 2650 * WAD]
    snap = b.snapshot()
    now = latest_timestamp(w3)
    receipt = send(w3, o.postSlice(e, _skew(e - now, 0.8125).as_tuple(), SPOT_WAD, ks), b.admin)
    gas["postSlice (new expiry, neighbours, unprepared)"] = int(receipt["gasUsed"])
    b.revert(snap)
    snap = b.snapshot()  # a snapshot is reverted once
    # prepared by someone without the updater role (branch svipre's path): the slots only, the post inserts
    receipt = send(w3, o.prepareExpiry(e, len(ks)), b.depositor)
    gas["prepareExpiry (new expiry, not the updater: post, node, 1 strike slot)"] = int(receipt["gasUsed"])
    now = latest_timestamp(w3)
    receipt = send(w3, o.postSlice(e, _skew(e - now, 0.8125).as_tuple(), SPOT_WAD, ks), b.admin)
    gas["postSlice (new expiry, neighbours, slots prepared, inserted by the post)"] = int(receipt["gasUsed"])
    b.revert(snap)
    # the updater's preparation (the keeper's, or list-series signed by it): the slots and the list (branch svlist)
    receipt = send(w3, o.prepareExpiry(e, len(ks)), b.admin)
    gas["prepareExpiry (new expiry, the updater: post, node, 1 strike slot, listed)"] = int(receipt["gasUsed"])
    if not o.isPrepared(e, len(ks)).call({"from": b.admin}):
        raise RuntimeError("prepareExpiry left a slot unprepared or the expiry unlisted")
    again = send(w3, o.prepareExpiry(e, len(ks)), b.admin)
    gas["prepareExpiry (again: nothing to write)"] = int(again["gasUsed"])
    now = latest_timestamp(w3)
    receipt = send(w3, o.postSlice(e, _skew(e - now, 0.8125).as_tuple(), SPOT_WAD, ks), b.admin)
    gas["postSlice (new expiry, neighbours)"] = int(receipt["gasUsed"])
    # the griefing bound: a re-post of the nearer neighbour with a full run of listed expiries never posted after it
    warp(w3, 600)
    snap = b.snapshot()
    for d in range(1, 5):
        send(w3, o.prepareExpiry(b.expiries[1] + d * 3600, 0), b.admin)
    near = b.expiries[1]
    now = latest_timestamp(w3)
    receipt = send(w3, o.postSlice(near, _skew(near - now, 0.815).as_tuple(), SPOT_WAD, []), b.admin)
    gas["postSlice (re-post, 4 listed never posted after it)"] = int(receipt["gasUsed"])
    b.revert(snap)
    now = latest_timestamp(w3)
    receipt = send(w3, o.postSlice(near, _skew(near - now, 0.815).as_tuple(), SPOT_WAD, []), b.admin)
    gas["postSlice (re-post, the same without them)"] = int(receipt["gasUsed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=8)
    parser.add_argument("--flat-only", action="store_true", help="the flat rows only (runs on a tree before issue 13)")
    args = parser.parse_args()
    started = time.perf_counter()
    flat = measure(args.series, surface=False)
    if args.flat_only:
        print("\n".join(f"| {r} | {g:,} |" for r, g in flat.items()))
        return
    skew = measure(args.series, surface=True)
    rows = ["deposit (hedge long)", "withdraw (hedge long)", "buy (hedge long)", "buy (hedge long, holder)"]
    rows.append("sell (hedge long)")
    rows.append("performUpkeep (re-mark)")
    print(f"| operation ({args.series} series) | flat (postVol) | SVI slices | difference |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r} | {flat[r]:,} | {skew[r]:,} | {skew[r] - flat[r]:+,} |")
    for r in ("postVol",):
        print(f"| {r} | {flat[r]:,} | - | - |")
    r = "prepareExpiry (posted flat: 1 strike slot)"
    print(f"| {r} | {flat[r]:,} | {skew[r]:,} | - |")
    for r in skew:
        if r.startswith(("postSlice", "prepareExpiry (new", "prepareExpiry (again")):
            print(f"| {r} | - | {skew[r]:,} | - |")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
