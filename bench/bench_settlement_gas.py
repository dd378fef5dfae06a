"""Gas of finding and checking a settlement round (``PriceOracle.firstRoundAtOrAfter`` and
``settlementPriceWad``) with 10, 300 and 10,000 feed rounds after the expiry, on Anvil with the mock feed
(``MockAggregator``, a Chainlink-style proxy with phases).

Each case starts from a fresh suite: 1,000 rounds a minute apart before the expiry, then the rounds after
it (a minute apart). "phase change" puts the rounds after the expiry in a new phase (the search reads the
previous phase too). Figures are eth_estimateGas of an eth_call to the oracle (21,000 intrinsic gas
included): what ``checkUpkeep`` spends on the search, and what ``settle`` spends on the check.

Usage: python bench/bench_settlement_gas.py [--after 10 300 10000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hedgevault.chain import latest_timestamp, local_node, warp
from hedgevault.chain.sending import send
from hedgevault.suite import Suite, deploy_suite

WAD = 10**18
BEFORE = 1_000
STEP_SEC = 60
#: rounds per appendRounds transaction (about 45k gas each)
BATCH = 1_000


def _machine() -> str:
    from _common import machine

    return machine()


def _append(s: Suite, count: int, first_updated_at: int) -> None:
    answer = s.feed_answer(3000 * WAD)
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        send(s.w3, s.feed.functions.appendRounds(answer, n, first_updated_at + start * STEP_SEC, STEP_SEC), s.admin)


def _estimate(s: Suite, fn_name: str, *args: int) -> int:
    data = s.price_oracle.encode_abi(fn_name, list(args))
    return int(s.w3.eth.estimate_gas({"to": s.price_oracle.address, "data": data}))


def measure(after: int, phase_change: bool) -> tuple[int, int, int]:
    """(round found, gas of firstRoundAtOrAfter, gas of settlementPriceWad on it)."""
    with local_node() as node:
        w3 = node.web3()
        s = deploy_suite(w3)
        warp(w3, (BEFORE + after + 10) * STEP_SEC)
        t = latest_timestamp(w3)
        start = t - (BEFORE + after) * STEP_SEC
        _append(s, BEFORE, start)
        expiry = start + BEFORE * STEP_SEC - STEP_SEC // 2
        if phase_change:
            send(w3, s.feed.functions.startPhase(), s.admin)
        _append(s, after, start + BEFORE * STEP_SEC)
        found = int(s.price_oracle.functions.firstRoundAtOrAfter(expiry).call())
        assert found != 0 and s.price_oracle.functions.settlementPriceWad(found, expiry).call() == 3000 * WAD
        return found, _estimate(s, "firstRoundAtOrAfter", expiry), _estimate(s, "settlementPriceWad", found, expiry)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=int, nargs="+", default=[10, 300, 10_000], help="rounds after the expiry")
    args = parser.parse_args()
    print(f"machine: {_machine()}")
    print(f"{BEFORE:,} rounds before the expiry; gas by eth_estimateGas (21,000 intrinsic included)")
    header = ("rounds after", "phases", "round found", "firstRoundAtOrAfter", "settlementPriceWad")
    print(f"{header[0]:>12}  {header[1]:<13} {header[2]:>20}  {header[3]:>19}  {header[4]:>18}")
    for after in args.after:
        for phase_change in (False, True):
            found, search, check = measure(after, phase_change)
            label = "phase change" if phase_change else "one phase"
            print(f"{after:>12,}  {label:<13} {found:>#20x}  {search:>19,}  {check:>18,}", flush=True)


if __name__ == "__main__":
    main()
