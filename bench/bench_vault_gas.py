"""Gas of the option vault's entry points on Anvil with 1, 8 and 32 live series (each with open interest, so
each is priced by every valuation), against the real Uniswap V3 pool and the suite's Aave v3 market, with the
default hedging module (``AaveHedger``) and, for comparison, a suite with ``SpotHedger`` (long only).

Figures are whole-transaction gasUsed (21,000 intrinsic gas included). Targets: deposit <= 150,000 and buy
<= 200,000 with 8 live series (issue 3); a hedge upkeep that only trades the spot (a long buy) <= 250,000, one
that borrows and sells (a short slice whose collateral already suffices) <= 450,000 (issue 10).
Series are listed as a chain, expiry by expiry (up to 4 expiries), calls and puts alternating (series 0 is
a call, series 1 a put: the one-series column has no put, so no short hedge).

Measured, each on a fresh cached book:

* with the hedge long (the calls' hedge, as before issue 10): a deposit by a new depositor, a partial
  withdraw, a buy for a new holder (the headline: its ERC-1155 balance slot is created; in a snapshot, the
  same buy by a holder who already has some of the series: "holder"), a partial sell back; a hedging upkeep
  that buys underlying (one slice, no Aave call); then puts sold until the target is 5 underlying short: the
  upkeep that crosses zero (sells the long, borrows the rest, supplies the first collateral, in one slice);
* from a flat hedge (the same listing, before any hedge; then puts sold until the target is 20 short): the
  first short upkeep (borrows, supplies collateral, sells); after arbitrage, 1.5 underlying more short:
  a short slice with the collateral already sufficient (borrows and sells); then deposit, withdraw, buy and
  sell with the hedge short (every valuation then reads the hedger's Aave balances);
* the keeper's re-mark upkeep once the cache is older than its maximum age, a deposit that finds the cache
  stale and re-marks it itself, the settlement of one expiry (a quarter of the series, at least one) and
  one claim (with the hedge long).

Blocks are mined every 2 s of chain time whatever the wall clock (``anvil_setBlockTimestampInterval``),
so that a rerun gives the same figures. Between slices the pool is moved back to the oracle price
(``Suite.move_pool_price``), as an arbitrageur would. Every hedge row is checked against the order's
``Hedged`` event (direction, collateral supplied or not), so the bench fails rather than measure the
wrong thing.

Usage: python bench/bench_vault_gas.py [--series 1 8 32] [--spot-series 8] [--out bench/results/vault_gas.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from web3.logs import DISCARD

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hedgevault.chain import latest_timestamp, local_node, warp
from hedgevault.chain.sending import send
from hedgevault.suite import HedgerParams, Suite, SuiteConfig, deploy_suite

WAD = 10**18
DAY = 86_400
#: Seconds between blocks (Anvil's timestamp interval; an L2-like block time).
BLOCK_SEC = 2
#: Figures from before the hedging module (8 series, measured 2026-12-07: bench/RESULTS.md, issue 9).
PREVIOUS_8 = {
    "deposit (hedge long)": 151_843,
    "buy (hedge long)": 212_051,
    "withdraw (hedge long)": 138_893,
    "sell (hedge long)": 174_497,
    "upkeep: long buy (spot only)": 213_657,
}
#: Figures with the hedging module before its gas work (8 series, measured 2026-12-07 on 8116ba9: RESULTS.md).
ISSUE10_8 = {
    "deposit (hedge long)": 160_308,
    "withdraw (hedge long)": 149_484,
    "buy (hedge long)": 220_863,
    "sell (hedge long)": 176_615,
    "deposit (hedge short)": 214_654,
    "withdraw (hedge short)": 203_830,
    "buy (hedge short)": 274_680,
    "sell (hedge short)": 176_615,
    "upkeep: long buy (spot only)": 235_314,
    "upkeep: short slice (borrow, sell)": 542_919,
    "upkeep: first short (borrow, supply, sell)": 684_694,
    "upkeep: crossing zero (sell long, borrow, supply)": 665_796,
    "performUpkeep (re-mark)": 527_927,
    "deposit (stale cache)": 468_085,
    "settle": 155_775,
    "claim": 68_024,
}
TARGETS = {
    "deposit (hedge long)": 150_000,
    "buy (hedge long)": 200_000,
    "buy (hedge long, holder)": 200_000,
    "deposit (hedge short)": 150_000,
    "buy (hedge short)": 200_000,
    "upkeep: long buy (spot only)": 250_000,
    "upkeep: short slice (borrow, sell)": 450_000,
}
OPERATIONS = (
    "deposit (hedge long)",
    "withdraw (hedge long)",
    "buy (hedge long)",
    "buy (hedge long, holder)",
    "sell (hedge long)",
    "deposit (hedge short)",
    "withdraw (hedge short)",
    "buy (hedge short)",
    "buy (hedge short, holder)",
    "sell (hedge short)",
    "upkeep: long buy (spot only)",
    "upkeep: short slice (borrow, sell)",
    "upkeep: first short (borrow, supply, sell)",
    "upkeep: crossing zero (sell long, borrow, supply)",
    "performUpkeep (re-mark)",
    "deposit (stale cache)",
    "settle",
    "claim",
)


def _machine() -> str:
    from _common import machine

    return machine()


class Bench:
    """One suite with ``n_series`` live series and the named actors."""

    def __init__(self, w3: Any, n_series: int, kind: str) -> None:
        self.w3 = w3
        self.s: Suite = deploy_suite(w3, SuiteConfig(hedger=HedgerParams(kind=kind)))
        # every block BLOCK_SEC after the previous, whatever the wall clock: the same timestamps on every run,
        # so the same gas (the pool writes an oracle observation, Aave updates its indexes, once per second)
        w3.provider.make_request("anvil_setBlockTimestampInterval", [BLOCK_SEC])
        a = [str(x) for x in w3.eth.accounts]
        self.admin, self.depositor, self.depositor2 = a[0], a[1], a[6]
        self.buyer, self.keeper, self.newcomer, self.arbitrageur = a[2], a[3], a[7], a[8]
        self.v = self.s.vault.functions
        s, v = self.s, self.v
        for who in (self.depositor, self.depositor2, self.buyer, self.newcomer):
            send(w3, s.quote.functions.mint(who, s.quote_units(10_000_000)), who)
            send(w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), who)
        send(w3, v.deposit(s.quote_units(5_000_000), self.depositor), self.depositor)
        n_expiries = max(1, min(4, n_series))
        self.expiries = [latest_timestamp(w3) + (20 + 10 * i) * DAY for i in range(n_expiries)]
        self.ids: list[int] = []
        # listed as a chain, expiry by expiry (the vault reads each expiry's volatility once per run of
        # consecutive series)
        per_expiry = -(-n_series // n_expiries)
        for i in range(n_series):
            expiry = self.expiries[i // per_expiry]
            strike = (2600 + 50 * (i % per_expiry)) * WAD
            fn = v.listSeries(expiry, strike, i % 2 == 0)
            self.ids.append(int(fn.call({"from": self.admin})))
            send(w3, fn, self.admin)
        for expiry in self.expiries:
            send(w3, s.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), self.admin)
        for series_id in self.ids:
            send(w3, v.buy(series_id, WAD, 2**255, self.buyer), self.buyer)
        self.put_id = self.ids[1] if n_series > 1 else None

    # ------------------------------------------------------------ chain
    def snapshot(self) -> str:
        return str(self.w3.provider.make_request("evm_snapshot", [])["result"])

    def revert(self, snap: str) -> None:
        self.w3.provider.make_request("evm_revert", [snap])

    def book(self) -> dict[str, int]:
        return self.s.book_view()

    def hedge_wad(self) -> int:
        return self.book()["hedgeWad"]

    def arbitrage(self) -> None:
        """Move the pool back to the oracle spot (what an arbitrageur does between slices)."""
        self.s.move_pool_price(self.book()["spotWad"], self.arbitrageur)

    # ------------------------------------------------------------ actions
    def upkeep(self) -> tuple[int, dict[str, int]]:
        """A hedging upkeep: (gas, the ``Hedged`` event's arguments)."""
        needed, data = self.v.checkUpkeep(b"").call()
        if not needed or data != b"":
            raise RuntimeError(f"the bench expected a hedge to be due (hedge {self.hedge_wad() / WAD:+.3f})")
        receipt = send(self.w3, self.v.performUpkeep(b""), self.keeper)
        events = self.s.vault.events.Hedged().process_receipt(receipt, errors=DISCARD)
        if len(events) != 1:
            raise RuntimeError("the upkeep did not hedge")
        return int(receipt["gasUsed"]), {k: int(x) for k, x in dict(events[0]["args"]).items()}

    def sell_puts_to_target(self, target_wad: int) -> None:
        """Buy puts (the vault sells them) until the hedge target (-book delta) is at most ``target_wad``:
        the per-option delta is measured on one put, then the rest is bought in one trade."""
        assert self.put_id is not None
        before = -self.book()["bookDeltaWad"]
        send(self.w3, self.v.buy(self.put_id, WAD, 2**255, self.buyer), self.buyer)
        after = -self.book()["bookDeltaWad"]
        per_option = before - after
        if per_option <= 0:
            raise RuntimeError("a sold put did not lower the hedge target")
        if after > target_wad:
            amount = -(-(after - target_wad) * WAD // per_option) + WAD // 10
            send(self.w3, self.v.buy(self.put_id, amount, 2**255, self.buyer), self.buyer)

    def trades(self, tag: str, gas: dict[str, int]) -> None:
        """Deposit, withdraw, buy (a call, to a new holder) and sell back, each on a fresh cached book."""
        s, v, w3 = self.s, self.v, self.w3
        gas[f"deposit ({tag})"] = send(w3, v.deposit(s.quote_units(10_000), self.depositor2), self.depositor2)[
            "gasUsed"
        ]
        gas[f"withdraw ({tag})"] = send(
            w3, v.withdraw(s.quote_units(1_000), self.depositor, self.depositor), self.depositor
        )["gasUsed"]
        # a holder who already has some of the series (its ERC-1155 balance slot is rewritten, not created), measured
        # in a snapshot so that every other row sees the same chain as before
        snap = self.snapshot()
        gas[f"buy ({tag}, holder)"] = send(w3, v.buy(self.ids[0], 20 * WAD, 2**255, self.buyer), self.buyer)["gasUsed"]
        self.revert(snap)
        gas[f"buy ({tag})"] = send(w3, v.buy(self.ids[0], 20 * WAD, 2**255, self.newcomer), self.newcomer)["gasUsed"]
        gas[f"sell ({tag})"] = send(w3, v.sell(self.ids[0], WAD, 0, self.buyer), self.buyer)["gasUsed"]


def _check(row: str, event: dict[str, int], *, up: bool, supplied: bool | None) -> None:
    change, collateral = event["hedgeChangeWad"], event["collateralChange"]
    if (change > 0) != up or (supplied is not None and (collateral > 0) != supplied):
        raise RuntimeError(f"{row}: unexpected order (hedge change {change}, collateral change {collateral})")


def measure(n_series: int, kind: str = "aave") -> tuple[dict[str, int], list[str]]:
    """Gas of each operation on a fresh chain with ``n_series`` live series, and notes (hedge signs)."""
    gas: dict[str, int] = {}
    notes: list[str] = []
    with local_node() as node:
        w3 = node.web3()
        b = Bench(w3, n_series, kind)
        s, v = b.s, b.v
        can_short = kind == "aave" and b.put_id is not None
        flat = b.snapshot()
        if can_short:
            # from a flat hedge: the first short, a second short slice, then trades with the hedge short
            b.sell_puts_to_target(-20 * WAD)
            row = "upkeep: first short (borrow, supply, sell)"
            gas[row], event = b.upkeep()
            _check(row, event, up=False, supplied=True)
            b.arbitrage()
            b.sell_puts_to_target(b.hedge_wad() - 3 * WAD // 2)
            row = "upkeep: short slice (borrow, sell)"
            gas[row], event = b.upkeep()
            _check(row, event, up=False, supplied=False)
            b.arbitrage()
            notes.append(f"{n_series} series: trades 'hedge short' at hedge {b.hedge_wad() / WAD:+.2f}")
            b.trades("hedge short", gas)
            b.revert(flat)
        # the calls' long hedge, as the rows before issue 10
        if v.checkUpkeep(b"").call()[0]:
            send(w3, v.performUpkeep(b""), b.keeper)
            b.arbitrage()
        notes.append(f"{n_series} series ({kind}): trades 'hedge long' at hedge {b.hedge_wad() / WAD:+.2f}")
        b.trades("hedge long", gas)
        # a call sale big enough to leave the band: the upkeep buys underlying on the pool
        send(w3, v.buy(b.ids[0], 30 * WAD, 2**255, b.newcomer), b.newcomer)
        row = "upkeep: long buy (spot only)"
        gas[row], event = b.upkeep()
        _check(row, event, up=True, supplied=False)
        b.arbitrage()
        if can_short:
            long_state = b.snapshot()
            held = b.hedge_wad()
            b.sell_puts_to_target(-5 * WAD)
            row = "upkeep: crossing zero (sell long, borrow, supply)"
            gas[row], event = b.upkeep()
            _check(row, event, up=False, supplied=True)
            if b.hedge_wad() >= 0:
                raise RuntimeError(f"{row}: the hedge did not cross zero in one upkeep")
            notes.append(f"{n_series} series: crossing from {held / WAD:+.2f} to {b.hedge_wad() / WAD:+.2f}")
            b.revert(long_state)
        # past the cache's maximum age: the keeper's re-mark upkeep, then a deposit that re-marks itself
        max_age = s.config.risk.cache_max_age_sec
        warp(s.w3, max_age + 1)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(3000 * WAD)), b.admin)
        needed, data = v.checkUpkeep(b"").call()
        if not needed or data != b"":
            raise RuntimeError("the bench expected a re-mark to be due")
        gas["performUpkeep (re-mark)"] = send(w3, v.performUpkeep(b""), b.keeper)["gasUsed"]
        warp(s.w3, max_age + 1)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(3000 * WAD)), b.admin)
        gas["deposit (stale cache)"] = send(w3, v.deposit(s.quote_units(10_000), b.newcomer), b.newcomer)["gasUsed"]

        warp(s.w3, b.expiries[0] - latest_timestamp(s.w3) + 10)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(3000 * WAD)), b.admin)
        round_id = s.price_oracle.functions.firstRoundAtOrAfter(b.expiries[0]).call()
        gas["settle"] = send(w3, v.settle(b.expiries[0], round_id), b.keeper)["gasUsed"]
        gas["claim"] = send(w3, v.claim(b.ids[0], b.newcomer), b.newcomer)["gasUsed"]
    return gas, notes


def _fmt(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def _verdict(op: str, figure: int | None) -> str:
    if op not in TARGETS:
        return ""
    if figure is None:
        return f"<= {TARGETS[op]:,}"
    over = figure - TARGETS[op]
    return f"<= {TARGETS[op]:,}: " + ("**met**" if over <= 0 else f"**missed by {over:,}**")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1, 8, 32], help="live series (AaveHedger)")
    parser.add_argument("--spot-series", type=int, nargs="*", default=[8], help="live series (SpotHedger suite)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table (markdown) here")
    args = parser.parse_args()
    started = time.perf_counter()
    results: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    for n in args.series:
        results[f"{n} series"], more = measure(n, "aave")
        notes += more
    for n in args.spot_series:
        results[f"{n} series, SpotHedger"], more = measure(n, "spot")
        notes += more
    columns = list(results)
    lo, hi = args.series[0], args.series[-1]
    header = (
        "| operation | "
        + " | ".join(columns)
        + " | per extra series | target (8 series) | before the gas work (8) | before issue 10 (8) |"
    )
    lines = [header, "|" + "---|" * (len(columns) + 5)]
    for op in OPERATIONS:
        figures = [results[c].get(op) for c in columns]
        a, z = results[f"{lo} series"].get(op), results[f"{hi} series"].get(op)
        slope = f"{(z - a) / (hi - lo):,.0f}" if a is not None and z is not None and hi != lo else "-"
        at8 = results.get("8 series", {}).get(op)
        lines.append(
            f"| {op} | "
            + " | ".join(_fmt(g) for g in figures)
            + f" | {slope} | {_verdict(op, at8)} | {_fmt(ISSUE10_8.get(op))} | {_fmt(PREVIOUS_8.get(op))} |"
        )
    table = "\n".join(lines)
    text = (
        f"Option vault gas (whole transactions), {_machine()}; {time.perf_counter() - started:.0f} s\n\n{table}\n\n"
        + "\n".join(f"- {n}" for n in notes)
        + "\n"
    )
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
