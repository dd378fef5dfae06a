"""The Greeks demo: the library on an embedded Anvil beside the Python mirror and the mpmath reference."""

from __future__ import annotations

from collections.abc import Callable

import mpmath

from hedgevault.chain import local_node
from hedgevault.greeks import mirror, reference
from hedgevault.greeks.errors import GreeksError, decode_revert
from hedgevault.greeks.onchain import GreeksHarness, Input
from hedgevault.units import WAD, from_wad

#: (label, spot, strike, time, vol, rate) - the first is Hull's Example 15.6.
DEMO_OPTIONS: tuple[tuple[str, Input], ...] = (
    ("Hull 15.6: S=42 K=40 T=0.5y s=20% r=10%", (42 * WAD, 40 * WAD, 15_768_000, WAD // 5, WAD // 10)),
    (
        "ETH 30d ATM: S=3000 K=3000 s=80% r=5%",
        (3000 * WAD, 3000 * WAD, 30 * 86_400, 8 * WAD // 10, WAD // 20),
    ),
    ("deep ITM 1d: S=3000 K=1500 s=50% r=5%", (3000 * WAD, 1500 * WAD, 86_400, WAD // 2, WAD // 20)),
    ("far OTM 2y: S=1 K=3 s=120% r=-1%", (WAD, 3 * WAD, 2 * 31_536_000, 12 * WAD // 10, -(WAD // 100))),
    ("1 second, tiny vol: S=K=1e-6 s=0.1%", (10**12, 10**12, 1, 10**15, 0)),
)

_FIELDS: tuple[tuple[str, Callable[[reference.ReferenceGreeks], mpmath.mpf]], ...] = (
    ("call", lambda r: r.call),
    ("put", lambda r: r.put),
    ("call_delta", lambda r: r.call_delta),
    ("put_delta", lambda r: r.put_delta),
    ("gamma", lambda r: r.gamma),
    ("vega", lambda r: r.vega),
    ("call_theta", lambda r: r.call_theta),
    ("put_theta", lambda r: r.put_theta),
    ("call_rho", lambda r: r.call_rho),
    ("put_rho", lambda r: r.put_rho),
)


def _fmt(value_wad: int) -> str:
    return from_wad(value_wad)


def run_demo(print_fn: Callable[[str], None] = print) -> int:
    """Start Anvil, deploy the harness, print every output beside mirror and reference; 0 if all agree."""
    mismatches = 0
    with local_node() as node:
        w3 = node.web3()
        print_fn(f"embedded Anvil at {node.url} (log: {node.log_path}); chain id {w3.eth.chain_id}")
        harness = GreeksHarness.deploy(w3)
        print_fn(f"BlackScholesHarness deployed at {harness.contract.address}\n")
        onchain_all = harness.greeks([inp for _, inp in DEMO_OPTIONS])
        for (label, inp), onchain in zip(DEMO_OPTIONS, onchain_all, strict=True):
            mirrored = mirror.greeks(*inp)
            ref = reference.greeks(*inp)
            print_fn(f"== {label}")
            print_fn(f"   inputs (wad / s): spot={inp[0]} strike={inp[1]} time={inp[2]} vol={inp[3]} rate={inp[4]}")
            print_fn(
                f"   {'output':<11} {'on-chain (Solidity)':>34} {'mirror':>8} {'mpmath reference':>34} {'|error|':>10}"
            )
            if isinstance(onchain, bytes):
                print_fn(f"   reverted: 0x{onchain.hex()}")
                mismatches += 1
                continue
            for (name, get), value, mirror_value in zip(_FIELDS, onchain, mirrored, strict=True):
                same = "same" if value == mirror_value else "DIFF"
                mismatches += value != mirror_value
                exact = get(ref)
                with mpmath.workdps(60):
                    err = abs(mpmath.mpf(value) / WAD - exact)
                print_fn(
                    f"   {name:<11} {_fmt(value):>34} {same:>8} {mpmath.nstr(exact, 22):>34} {mpmath.nstr(err, 2):>10}"
                )
            call_wad = onchain[0]
            iv_input = (call_wad, inp[0], inp[1], inp[2], inp[4], True)
            iv_onchain = harness.implied_vol([iv_input])[0]
            try:
                iv_text = _fmt(mirror.implied_vol(*iv_input))
            except GreeksError as exc:  # an honest revert (e.g. ill-conditioned), shown as such
                iv_text = type(exc).__name__
            if isinstance(iv_onchain, int):
                iv_chain_text = _fmt(iv_onchain)
            else:
                decoded = decode_revert(iv_onchain)
                iv_chain_text = f"reverted with {type(decoded).__name__ if decoded else '0x' + iv_onchain.hex()}"
            print_fn(f"   implied vol of the call price: on-chain {iv_chain_text}, mirror {iv_text}")
            gas = {kind: harness.gas(kind, inp) for kind in ("greeks", "price", "delta")}
            iv_gas = harness.gas("impliedVol", iv_input) if isinstance(iv_onchain, int) else None
            print_fn(
                "   gas (library call alone): "
                + ", ".join(f"{k} {v:,}" for k, v in gas.items())
                + (f", impliedVol {iv_gas:,}" if iv_gas is not None else "")
                + f"; whole tx greeks(): {harness.tx_gas('greeks', inp):,}\n"
            )
    print_fn("all on-chain outputs equal the mirror bit for bit" if mismatches == 0 else f"{mismatches} MISMATCHES")
    return 0 if mismatches == 0 else 1
