"""Gas of the option vault's entry points on Anvil with 1, 8 and 32 live series (each with open
interest, so each is priced by every valuation), against the real Uniswap V3 pool.

Figures are whole-transaction gasUsed (21,000 intrinsic gas included). Targets (issue 3): deposit
<= 150,000 and buy <= 200,000 with 8 live series; performUpkeep with its swap <= 250,000.
Series are listed as a chain, expiry by expiry (up to 4 expiries).
Measured: a deposit by a new depositor, a partial withdraw, a buy for a new holder, a partial sell back,
a hedging performUpkeep (one exactOutput swap on the pool) - all on a fresh cached book -, the keeper's
re-mark upkeep once the cache is older than its maximum age, a deposit that finds the cache stale and
re-marks it itself, the settlement of one expiry (a quarter of the series, at least one) and one claim.

Usage: python bench/bench_vault_gas.py [--series 1 8 32] [--out bench/results/vault_gas.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hedgevault.chain import latest_timestamp, local_node, warp
from hedgevault.suite import deploy_suite
from hedgevault.txs import send

WAD = 10**18
DAY = 86_400
TARGETS = {"deposit": 150_000, "buy": 200_000, "performUpkeep (swap)": 250_000}
OPERATIONS = (
    "deposit",
    "withdraw",
    "buy",
    "sell",
    "performUpkeep (swap)",
    "performUpkeep (re-mark)",
    "deposit (stale cache)",
    "settle",
    "claim",
)


def _machine() -> str:
    from _common import machine

    return machine()


def measure(n_series: int) -> dict[str, int]:
    """Gas of each operation on a fresh chain with ``n_series`` live series."""
    with local_node() as node:
        w3 = node.web3()
        s = deploy_suite(w3)
        a = [str(x) for x in w3.eth.accounts]
        admin, depositor, depositor2, buyer, keeper, newcomer = a[0], a[1], a[6], a[2], a[3], a[7]
        v = s.vault.functions
        for who in (depositor, depositor2, buyer, newcomer):
            send(w3, s.quote.functions.mint(who, s.quote_units(10_000_000)), who)
            send(w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), who)
        send(w3, v.deposit(s.quote_units(5_000_000), depositor), depositor)
        n_expiries = max(1, min(4, n_series))
        expiries = [latest_timestamp(s.w3) + (20 + 10 * i) * DAY for i in range(n_expiries)]
        ids: list[int] = []
        # listed as a chain, expiry by expiry (the vault reads each expiry's volatility once per run of
        # consecutive series)
        per_expiry = -(-n_series // n_expiries)
        for i in range(n_series):
            expiry = expiries[i // per_expiry]
            strike = (2600 + 50 * (i % per_expiry)) * WAD
            is_call = i % 2 == 0
            fn = v.listSeries(expiry, strike, is_call)
            ids.append(int(fn.call({"from": admin})))
            send(w3, fn, admin)
        for expiry in expiries:
            send(w3, s.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), admin)
        for series_id in ids:
            send(w3, v.buy(series_id, WAD, 2**255, buyer), buyer)
        send(w3, v.performUpkeep(b""), keeper) if v.checkUpkeep(b"").call()[0] else None

        gas: dict[str, int] = {}
        gas["deposit"] = send(w3, v.deposit(s.quote_units(10_000), depositor2), depositor2)["gasUsed"]
        gas["withdraw"] = send(w3, v.withdraw(s.quote_units(1_000), depositor, depositor), depositor)["gasUsed"]
        gas["buy"] = send(w3, v.buy(ids[0], 20 * WAD, 2**255, newcomer), newcomer)["gasUsed"]
        gas["sell"] = send(w3, v.sell(ids[0], WAD, 0, buyer), buyer)["gasUsed"]
        # a call sale big enough to leave the band: the upkeep buys the hedge on the pool
        extra = send(w3, v.buy(ids[0], 30 * WAD, 2**255, newcomer), newcomer)
        del extra
        needed, data = v.checkUpkeep(b"").call()
        assert needed and data == b"", "the bench expected a hedge to be due"
        gas["performUpkeep (swap)"] = send(w3, v.performUpkeep(b""), keeper)["gasUsed"]
        # past the cache's maximum age: the keeper's re-mark upkeep, then a deposit that re-marks itself
        max_age = s.config.risk.cache_max_age_sec
        warp(s.w3, max_age + 1)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(3000 * WAD)), admin)
        needed, data = v.checkUpkeep(b"").call()
        assert needed and data == b"", "the bench expected a re-mark to be due"
        gas["performUpkeep (re-mark)"] = send(w3, v.performUpkeep(b""), keeper)["gasUsed"]
        warp(s.w3, max_age + 1)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(3000 * WAD)), admin)
        gas["deposit (stale cache)"] = send(w3, v.deposit(s.quote_units(10_000), newcomer), newcomer)["gasUsed"]

        warp(s.w3, expiries[0] - latest_timestamp(s.w3) + 10)
        send(w3, s.feed.functions.setAnswer(s.feed_answer(3000 * WAD)), admin)
        round_id = s.price_oracle.functions.firstRoundAtOrAfter(expiries[0]).call()
        gas["settle"] = send(w3, v.settle(expiries[0], round_id), keeper)["gasUsed"]
        gas["claim"] = send(w3, v.claim(ids[0], newcomer), newcomer)["gasUsed"]
        return gas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--out", type=Path, default=None, help="also write the table (markdown) here")
    args = parser.parse_args()
    results = {n: measure(n) for n in args.series}
    header = "| operation | " + " | ".join(f"{n} series" for n in args.series) + " | per extra series | target |"
    lines = [header, "|" + "---|" * (len(args.series) + 3)]
    for op in OPERATIONS:
        figures = [results[n][op] for n in args.series]
        lo, hi = args.series[0], args.series[-1]
        slope = (results[hi][op] - results[lo][op]) / (hi - lo) if hi != lo else 0.0
        target = f"<= {TARGETS[op]:,}" if op in TARGETS else ""
        lines.append(f"| {op} | " + " | ".join(f"{g:,}" for g in figures) + f" | {slope:,.0f} | {target} |")
    table = "\n".join(lines)
    text = f"Option vault gas (whole transactions), {_machine()}\n\n{table}\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
