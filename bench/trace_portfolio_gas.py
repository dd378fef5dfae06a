"""Where the gas of a portfolio rebalance slice goes, line by line: Anvil's ``debug_traceTransaction`` (struct
logs) of ``performUpkeep`` on the local stack, each step's gas (a call's inclusive of its callee) attributed to
the Solidity source line of the vault or the engine that ran it (the compiler's source maps), and the calls
out to other contracts summed by callee.

Three slices: the first buy of an asset (its balance in the vault written from zero inside the pool's transfer),
a later buy of an asset already held (the steady state), and a sale.

Usage: python bench/trace_portfolio_gas.py [--top 40] [--slices buy,held,sale]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import machine
from web3 import Web3

from hedgevault.chain import local_node
from hedgevault.chain.sending import send
from hedgevault.portfolio.localstack import PortfolioStack, deploy_local_stack
from hedgevault.toolchain.compiler import (
    _source_files,
    _standard_input,
    compile_project,
    ensure_solc,
    load_settings,
)
from hedgevault.toolchain.paths import BUILD_DIR, PROJECT_ROOT

WAD = 10**18
Q = 10**6
TARGETS3 = [3 * WAD // 10, 3 * WAD // 10, 2 * WAD // 10]
TRACED = ("PortfolioVault", "PortfolioEngine")


@dataclass
class SourceMap:
    """pc -> (source file, line) of one contract's runtime code."""

    by_pc: dict[int, tuple[str, int]]
    fn_by_pc: dict[int, str]


def _functions(out: dict[str, Any]) -> dict[str, list[tuple[int, int, str]]]:
    """Source file -> (start, end, Contract.function) of every function and modifier."""
    found: dict[str, list[tuple[int, int, str]]] = defaultdict(list)

    def walk(node: Any, contract: str) -> None:
        if isinstance(node, dict):
            kind = node.get("nodeType")
            if kind == "ContractDefinition":
                contract = str(node.get("name"))
            if kind in ("FunctionDefinition", "ModifierDefinition"):
                start, length, _ = (int(x) for x in str(node["src"]).split(":"))
                name = node.get("name") or node.get("kind") or "?"
                found[src_of[int(str(node["src"]).split(":")[2])]].append((start, start + length, f"{contract}.{name}"))
            for v in node.values():
                walk(v, contract)
        elif isinstance(node, list):
            for v in node:
                walk(v, contract)

    src_of = {int(v["id"]): k for k, v in out["sources"].items()}
    for v in out["sources"].values():
        walk(v.get("ast"), "")
    return found


def _compile_with_maps() -> tuple[dict[str, SourceMap], dict[str, list[str]]]:
    import hashlib

    import solcx

    settings = load_settings()
    files = _source_files()
    std = _standard_input(settings, files)
    std["settings"]["outputSelection"] = {
        "*": {"*": ["evm.deployedBytecode.object", "evm.deployedBytecode.sourceMap"], "": ["ast"]}
    }
    digest = hashlib.sha256(json.dumps(std, sort_keys=True).encode()).hexdigest()[:16]
    cache = BUILD_DIR / f"srcmap-{digest}.json"
    if cache.exists():
        out = json.loads(cache.read_text())
    else:
        out = solcx.compile_standard(std, solc_binary=ensure_solc(settings.version), allow_paths=str(PROJECT_ROOT))
        cache.write_text(json.dumps(out))
    ids = {int(v["id"]): k for k, v in out["sources"].items()}
    fns = _functions(out)

    def fn_at(src: str, offset: int) -> str:
        best = ("", 0, 1 << 62)
        for a, b, name in fns.get(src, []):
            if a <= offset < b and b - a < best[2] - best[1]:
                best = (name, a, b)
        return best[0] or Path(src).name

    texts: dict[str, str] = {}
    for name in ids.values():
        path = PROJECT_ROOT / name
        if not path.exists():
            path = PROJECT_ROOT / "node_modules" / name
        texts[name] = path.read_text() if path.exists() else ""
    maps: dict[str, SourceMap] = {}
    for contracts in out["contracts"].values():
        for cname, data in contracts.items():
            if cname not in TRACED:
                continue
            code = bytes.fromhex(re.sub(r"__\$[0-9a-f]{34}\$__", "00" * 20, data["evm"]["deployedBytecode"]["object"]))
            entries = data["evm"]["deployedBytecode"]["sourceMap"].split(";")
            pcs: list[int] = []
            pc = 0
            while pc < len(code):
                pcs.append(pc)
                op = code[pc]
                pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
            by_pc: dict[int, tuple[str, int]] = {}
            fn_by_pc: dict[int, str] = {}
            s, f = -1, -1
            for k, entry in enumerate(entries):
                parts = entry.split(":")
                if parts and parts[0] != "":
                    s = int(parts[0])
                if len(parts) > 2 and parts[2] != "":
                    f = int(parts[2])
                if k < len(pcs):
                    src = ids.get(f)
                    if src is None or s < 0:
                        by_pc[pcs[k]] = ("(generated)", 0)
                        fn_by_pc[pcs[k]] = "(generated)"
                    else:
                        by_pc[pcs[k]] = (src, texts[src].encode()[:s].count(b"\n") + 1)
                        fn_by_pc[pcs[k]] = fn_at(src, s)
            maps[cname] = SourceMap(by_pc, fn_by_pc)
    lines = {k: v.splitlines() for k, v in texts.items()}
    return maps, lines


@dataclass
class Profile:
    """One transaction's gas: by source line and by function of the traced code (own gas: a call out is
    counted at its callee, not here), by callee (inclusive, entry cost included) and the total."""

    by_line: dict[tuple[str, int], int]
    by_fn: dict[str, int]
    by_callee: dict[str, int]
    total: int


def _call_entry_cost(gas_before: int, gas_in_callee: int) -> int:
    """What a CALL kept for itself (access, value, memory), net of the 1/64 it retains and gets back: the
    forwarded gas is x - floor(x / 64) with x = gas_before - entry cost."""
    x = gas_in_callee * 64 // 63
    while x - x // 64 < gas_in_callee:
        x += 1
    while x - 1 - (x - 1) // 64 >= gas_in_callee and x > 0:
        x -= 1
    return max(gas_before - x, 0)


def _profile(w3: Web3, tx_hash: str, maps: dict[str, SourceMap], labels: dict[str, str]) -> Profile:
    res = w3.provider.make_request(
        "debug_traceTransaction",
        [tx_hash, {"disableStorage": True, "disableMemory": True, "disableStack": False}],  # type: ignore[arg-type]
    )
    logs: list[dict[str, Any]] = res["result"]["structLogs"]
    prof = Profile(defaultdict(int), defaultdict(int), defaultdict(int), 0)
    # the traced code running at each depth (None: untraced, e.g. inside a pool)
    frame_code: dict[int, str | None] = {1: "PortfolioVault"}
    last_fn: dict[int, str] = {}
    for i, step in enumerate(logs):
        depth = int(step["depth"])
        code = frame_code.get(depth)
        if code is None:
            continue
        op = step["op"]
        label = ""
        # the next step of the same frame: this step's cost, a call's inclusive of its callee
        j = i + 1
        while j < len(logs) and int(logs[j]["depth"]) > depth:
            j += 1
        same = j < len(logs) and int(logs[j]["depth"]) == depth
        cost = int(step["gas"]) - int(logs[j]["gas"]) if same else int(step["gasCost"])
        if op in ("CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"):
            target = "0x" + int(step["stack"][-2], 16).to_bytes(20, "big").hex()
            label = labels.get(target, target[:10])
            entered = i + 1 < len(logs) and int(logs[i + 1]["depth"]) == depth + 1
            # the pool's callback into the vault runs inside the pool's frame: counted in the pool's figure
            frame_code[depth + 1] = label if entered and label in TRACED else None
            if entered and label in TRACED:
                cost = _call_entry_cost(int(step["gas"]), int(logs[i + 1]["gas"]))
            else:
                prof.by_callee[label] += cost
        src = maps[code].by_pc.get(int(step["pc"]), ("(unmapped)", 0))
        prof.by_line[src] += cost
        if op not in ("CALL", "STATICCALL", "DELEGATECALL", "CALLCODE") or label in TRACED:
            fn = maps[code].fn_by_pc.get(int(step["pc"]), "(unmapped)")
            # compiler-generated helpers (checked arithmetic, ABI coding, memory) under the function that ran last
            if fn == "(generated)":
                fn = f"(generated, after {last_fn.get(depth, '?')})"
            else:
                last_fn[depth] = fn
            prof.by_fn[fn] += cost
    prof.total = int(w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]
    return prof


def _labels(stack: PortfolioStack) -> dict[str, str]:
    out = {
        stack.vault.address: "PortfolioVault",
        stack.engine.address: "PortfolioEngine",
        stack.cov_oracle.address: "covariance oracle",
        stack.quote.address: "quote",
    }
    for i, (o, t, p) in enumerate(zip(stack.price_oracles, stack.tokens, stack.pools, strict=True)):
        out |= {o.address: f"price oracle {i}", t.address: f"token {i}", p.address: f"pool {i}"}
    return {k.lower(): v for k, v in out.items()}


def _report(title: str, prof: Profile, lines: dict[str, list[str]], top: int) -> None:
    calls = sum(prof.by_callee.values())
    own = sum(prof.by_fn.values())
    print(f"\n=== {title}: {prof.total:,} gas (whole transaction, refunds deducted)")
    print("calls out of the vault and the engine (inclusive, cold-account entry included):")
    for name, gas in sorted(prof.by_callee.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40} {gas:>9,}")
    print(f"  {'sum':<40} {calls:>9,}")
    print(
        f"vault + engine own code {own:,}; the rest (intrinsic 21,000, calldata, less refunds) "
        f"{prof.total - own - calls:,}"
    )
    print("own gas by function (innermost; calls out excluded):")
    for name, gas in sorted(prof.by_fn.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {gas:>8,}  {name}")
    print("top lines (calls out included at their line):")
    for (src, line), gas in sorted(prof.by_line.items(), key=lambda kv: -kv[1])[:top]:
        text = lines.get(src, [])[line - 1].strip() if 0 < line <= len(lines.get(src, [])) else ""
        print(f"  {gas:>8,}  {Path(src).name}:{line:<5} {text[:110]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--slices", default="buy,held,sale")
    args = ap.parse_args()
    wanted = set(args.slices.split(","))
    print(f"machine: {machine()}")
    maps, lines = _compile_with_maps()
    artifacts = compile_project()
    # --steps-tracing: Anvil records the opcode steps debug_traceTransaction returns
    with local_node(extra_args=("--steps-tracing",)) as node:
        w3 = node.web3()
        admin, user, keeper, arb = (w3.eth.accounts[i] for i in (0, 1, 3, 5))
        stack = deploy_local_stack(w3, artifacts, admin)
        labels = _labels(stack)
        v = stack.vault.functions
        send(w3, stack.quote.functions.mint(user, 10_000_000 * Q), user)
        send(w3, stack.quote.functions.approve(stack.vault.address, 2**256 - 1), user)
        send(w3, v.deposit(1_000_000 * Q, user), user)
        send(w3, v.setTargets(TARGETS3), admin)

        def run(title: str) -> None:
            receipt = send(w3, v.performUpkeep(b""), keeper)
            h = "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x")
            _report(title, _profile(w3, h, maps, labels), lines, args.top)

        if "buy" in wanted:
            run("first buy of an asset")
        else:
            send(w3, v.performUpkeep(b""), keeper)
        # invest the rest; then a buy of an asset already held
        for _ in range(6):
            stack.arbitrage(arb)
            ok, _ = v.checkUpkeep(b"").call()
            if not ok:
                break
            send(w3, v.performUpkeep(b""), keeper)
        stack.arbitrage(arb)
        stack.reprice(1, 40_000 * WAD, arb)
        _a, sale, _u, _val = v.previewRebalance().call()
        if "held" in wanted and not sale:
            run("a buy of an asset already held")
        stack.arbitrage(arb)
        stack.reprice(0, 5_000 * WAD, arb)
        _a, sale, _u, _val = v.previewRebalance().call()
        if "sale" in wanted and sale:
            run("a sale")


if __name__ == "__main__":
    main()
