"""Where the gas of the option vault's measured operations goes: the call tree of each transaction of
``bench_vault_gas.py`` (8 live series, default ``AaveHedger``), from Anvil's ``debug_traceTransaction``
(``callTracer``), each frame with its inclusive gas and the gas spent in the frame itself, contracts and
functions named from the project's and Aave's ABIs.

A frame's gas excludes what its caller paid to enter it (the CALL's 2,600 for a cold address, 100 warm);
the root's figure excludes the 21,000 intrinsic gas and the calldata.

"short-slice-again" is one more short slice after the bench's: the underlying reserve's treasury accrual
(``accruedToTreasury``) is then no longer zero, as in a market with other borrowers (the bench's short slice
is the market's second borrow, which writes it from zero: 17,100 gas more).

Usage: python bench/trace_vault_gas.py [--ops deposit-short buy-short short-slice ...] [--depth 3] [--cold]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from eth_utils import function_abi_to_4byte_selector
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vault_gas import WAD, Bench

from hedgevault.aave import aave_abi
from hedgevault.chain import local_node
from hedgevault.chain.sending import send
from hedgevault.toolchain.compiler import compile_project

OPS = (
    "deposit-long",
    "buy-long",
    "upkeep-long",
    "first-short",
    "short-slice",
    "short-slice-again",
    "deposit-short",
    "withdraw-short",
    "buy-short",
    "sell-long",
)
AAVE_ABIS = ("Pool", "AToken", "VariableDebtToken", "AaveOracle", "PoolAddressesProvider", "ACLManager")


def _selectors() -> dict[str, str]:
    names: dict[str, str] = {}
    abis = [a.abi for a in compile_project().values()] + [aave_abi(n) for n in AAVE_ABIS]
    for abi in abis:
        for item in abi:
            if item.get("type") == "function":
                names.setdefault("0x" + function_abi_to_4byte_selector(item).hex(), item["name"])
    return names


def _labels(b: Bench) -> dict[str, str]:
    s = b.s
    out = {
        s.vault.address: "vault",
        s.hedger.address: "hedger",
        s.pool.address: "uniswapPool",
        s.price_oracle.address: "priceOracle",
        s.vol_oracle.address: "volOracle",
        s.pricer.address: "pricer",
        s.hedge_library.address: "HedgeExecution",
        s.book_library.address: "BookMarking",
        s.option_token.address: "optionToken",
        s.quote.address: "quote",
        s.underlying.address: "underlying",
        s.feed.address: "feed",
    }
    if s.aave is not None:
        out[s.aave.pool.address] = "aavePool"
        out[s.aave.oracle.address] = "aaveOracle"
        for asset, tag in ((s.quote.address, "quote"), (s.underlying.address, "underlying")):
            a_token, _, debt = s.aave._tokens(asset)
            out[a_token] = f"a{tag}"
            out[debt] = f"debt{tag}"
    return {k.lower(): v for k, v in out.items()}


def _print(frame: dict[str, Any], labels: dict[str, str], names: dict[str, str], depth: int, max_depth: int) -> None:
    gas = int(frame.get("gasUsed", "0x0"), 16)
    children = frame.get("calls", [])
    own = gas - sum(int(c.get("gasUsed", "0x0"), 16) for c in children)
    to = str(frame.get("to", "")).lower()
    selector = str(frame.get("input", "0x"))[:10]
    who = labels.get(to, to[:10])
    what = names.get(selector, selector)
    print(f"{'  ' * depth}{gas:>9,} (own {own:>7,})  {frame.get('type', '')} {who}.{what}")
    if depth < max_depth:
        for c in children:
            _print(c, labels, names, depth + 1, max_depth)


def _trace(w3: Web3, tx_hash: Any, labels: dict[str, str]) -> dict[str, Any]:
    res = w3.provider.make_request("debug_traceTransaction", [Web3.to_hex(tx_hash), {"tracer": "callTracer"}])
    frame = dict(res["result"])
    frame["opcodes"], frame["cold"] = _opcodes(w3, tx_hash, labels)
    return frame


def _opcodes(w3: Web3, tx_hash: Any, labels: dict[str, str]) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Gas by opcode class over the whole transaction (count, gas): SLOAD cold/warm, SSTORE by cost, calls
    (the entry cost: 2,600 cold, 100 warm, plus memory), LOG, the rest; and the list of cold accesses
    (storage slots and accounts) in order, by the contract whose storage or code it is."""
    res = w3.provider.make_request(
        "debug_traceTransaction",
        [Web3.to_hex(tx_hash), {"disableStorage": True, "disableMemory": True, "disableStack": False}],
    )
    logs = res["result"]["structLogs"]
    out: dict[str, list[int]] = {}
    cold: list[str] = []
    # the storage context per depth (a DELEGATECALL keeps its caller's)
    ctx: dict[int, str] = {1: "vault"}
    code: dict[int, str] = {1: "vault"}
    per_code: dict[str, dict[str, int]] = {}
    for i, step in enumerate(logs):
        op, cost, depth = step["op"], int(step["gasCost"]), int(step["depth"])
        stack = step.get("stack") or []
        if op in ("CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"):
            target = "0x" + int(stack[-2], 16).to_bytes(20, "big").hex()
            nxt = logs[i + 1] if i + 1 < len(logs) else None
            if nxt is not None and int(nxt["depth"]) == depth + 1:
                before, forwarded = int(step["gas"]), int(nxt["gas"])
                cost = before - forwarded - (before - (before - forwarded)) // 64
                ctx[depth + 1] = ctx[depth] if op == "DELEGATECALL" else labels.get(target, target[:10])
                code[depth + 1] = labels.get(target, target[:10])
            else:
                # a call to an account without code: no new frame
                cost = cost if cost < 2600 + 9000 else 2600
            temp = "cold" if cost >= 2600 else "warm"
            key = f"{op} {temp}"
            if temp == "cold":
                cold.append(f"{op} {labels.get(target, target[:10])} (from {ctx.get(depth, '?')})")
        elif op == "SLOAD":
            key = "SLOAD cold" if cost >= 2100 else "SLOAD warm"
            if cost >= 2100:
                cold.append(f"SLOAD {ctx.get(depth, '?')} slot {stack[-1]}")
        elif op == "SSTORE":
            key = f"SSTORE {cost}"
            if cost >= 20000:
                cold.append(f"SSTORE {cost} {ctx.get(depth, '?')} slot {stack[-1]} (from zero)")
        elif op.startswith("LOG"):
            key = "LOG"
        elif op in ("BALANCE", "EXTCODESIZE", "EXTCODEHASH", "EXTCODECOPY"):
            key = f"{op} {'cold' if cost >= 2600 else 'warm'}"
            if cost >= 2600:
                target = "0x" + int(stack[-1], 16).to_bytes(20, "big").hex()
                cold.append(f"{op} {labels.get(target, target[:10])}")
        else:
            key = "other"
        acc = out.setdefault(key, [0, 0])
        acc[0] += 1
        acc[1] += cost
        mine = per_code.setdefault(code.get(depth, "?"), {})
        mine[key] = mine.get(key, 0) + cost
    for name, classes in sorted(per_code.items(), key=lambda kv: -sum(kv[1].values())):
        top = sorted(classes.items(), key=lambda kv: -kv[1])[:6]
        cold.insert(0, f"[code {name}: {sum(classes.values()):,}] " + ", ".join(f"{k} {g:,}" for k, g in top))
    return {k: (v[0], v[1]) for k, v in sorted(out.items(), key=lambda kv: -kv[1][1])}, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", nargs="+", default=list(OPS), choices=OPS)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--series", type=int, default=8)
    parser.add_argument("--cold", action="store_true", help="list every cold storage slot and account accessed")
    args = parser.parse_args()
    names = _selectors()
    traces: dict[str, tuple[int, dict[str, Any]]] = {}
    # --steps-tracing: Anvil records the opcode steps debug_traceTransaction's default tracer returns
    with local_node(extra_args=("--steps-tracing",)) as node:
        w3 = node.web3()
        b = Bench(w3, args.series, "aave")
        s, v = b.s, b.v
        labels = _labels(b)
        # traced at once: an evm_revert drops the transactions after the snapshot
        receipts = _Traced(w3, traces, labels)
        flat = b.snapshot()
        b.sell_puts_to_target(-20 * WAD)
        receipts["first-short"] = _upkeep(b)
        b.arbitrage()
        b.sell_puts_to_target(b.hedge_wad() - 3 * WAD // 2)
        receipts["short-slice"] = _upkeep(b)
        b.arbitrage()
        again = b.snapshot()
        # the market's third borrow: its treasury accrual is no longer zero (the second borrow's was: +17,100)
        # (a smaller step than the bench's: the collateral still suffices, no top-up)
        b.sell_puts_to_target(b.hedge_wad() - 6 * WAD // 10)
        receipts["short-slice-again"] = _upkeep(b)
        b.revert(again)
        receipts["deposit-short"] = send(w3, v.deposit(s.quote_units(10_000), b.depositor2), b.depositor2)
        receipts["withdraw-short"] = send(w3, v.withdraw(s.quote_units(1_000), b.depositor, b.depositor), b.depositor)
        receipts["buy-short"] = send(w3, v.buy(b.ids[0], 20 * WAD, 2**255, b.newcomer), b.newcomer)
        b.revert(flat)
        if v.checkUpkeep(b"").call()[0]:
            send(w3, v.performUpkeep(b""), b.keeper)
            b.arbitrage()
        receipts["deposit-long"] = send(w3, v.deposit(s.quote_units(10_000), b.depositor2), b.depositor2)
        receipts["buy-long"] = send(w3, v.buy(b.ids[0], 20 * WAD, 2**255, b.newcomer), b.newcomer)
        send(w3, v.buy(b.ids[0], 30 * WAD, 2**255, b.newcomer), b.newcomer)
        receipts["upkeep-long"] = _upkeep(b)
        receipts["sell-long"] = send(w3, v.sell(b.ids[0], 5 * WAD, 0, b.newcomer), b.newcomer)
    for op in args.ops:
        gas, frame = traces[op]
        print(f"\n=== {op}: gasUsed {gas:,}")
        _print(frame, labels, names, 0, args.depth)
        print("  by opcode class: " + "; ".join(f"{k} {n}x {g:,}" for k, (n, g) in frame["opcodes"].items()))
        if args.cold:
            print("  cold accesses, in order:\n    " + "\n    ".join(frame["cold"]))


class _Traced:
    """``receipts[op] = receipt`` traces the transaction at once."""

    def __init__(self, w3: Web3, traces: dict[str, tuple[int, dict[str, Any]]], labels: dict[str, str]) -> None:
        self.w3, self.traces, self.labels = w3, traces, labels

    def __setitem__(self, op: str, receipt: Any) -> None:
        self.traces[op] = (int(receipt["gasUsed"]), _trace(self.w3, receipt["transactionHash"], self.labels))


def _upkeep(b: Bench) -> Any:
    needed, data = b.v.checkUpkeep(b"").call()
    if not needed or data != b"":
        raise RuntimeError("expected a hedge to be due")
    return send(b.w3, b.v.performUpkeep(b""), b.keeper)


if __name__ == "__main__":
    main()
