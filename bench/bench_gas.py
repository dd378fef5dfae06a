"""Gas of the Black-Scholes library on Anvil, with the optimizer settings the project ships.

Measured inside the harness around the library call alone (gasleft() before and after: no
calldata, dispatch or ABI encoding), over the whole domain and over listed-option inputs; the
whole-transaction figure of one greeks() call is printed for context. Targets (issue 2): the whole
set <= 6,000; price only <= 2,500; implied volatility median <= 10,000.

Usage: python bench/bench_gas.py [--n 1000]
"""

from __future__ import annotations

import argparse

from _common import machine, percentiles, valid_inputs

from hedgevault.chain import local_node
from hedgevault.greeks import mirror
from hedgevault.greeks.errors import GreeksError
from hedgevault.greeks.onchain import GreeksHarness, IvInput
from hedgevault.greeks.sampling import Input, realistic_inputs
from hedgevault.toolchain.compiler import load_settings


def _iv_inputs(inputs: list[Input]) -> list[IvInput]:
    out: list[IvInput] = []
    for spot, strike, time_sec, vol, rate in inputs:
        call, put = mirror.price(spot, strike, time_sec, vol, rate)
        for price, is_call in ((call, True), (put, False)):
            args = (price, spot, strike, time_sec, rate, is_call)
            try:
                mirror.implied_vol(*args)
            except GreeksError:
                continue
            out.append(args)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    settings = load_settings()
    print(f"machine: {machine()}")
    print(
        f"solc {settings.version}, evm {settings.evm_version}, optimizer "
        f"{'on' if settings.optimizer_enabled else 'off'} with {settings.optimizer_runs} runs\n"
    )
    domain = valid_inputs(args.n, seed=1)
    listed = realistic_inputs(args.n, seed=2)
    with local_node() as node:
        h = GreeksHarness.deploy(node.web3())
        print(f"{'call':<34} {'inputs':>6}  gas of the library call alone")
        for label, inputs in (("whole domain", domain), ("listed options", listed)):
            for kind in ("greeks", "price", "delta"):
                gas = [h.gas(kind, inp) for inp in inputs]
                print(f"{kind + ' (' + label + ')':<34} {len(gas):>6}  {percentiles(gas)}")
            ivs = _iv_inputs(inputs[: max(1, args.n // 2)])
            gas = [h.gas("impliedVol", a) for a in ivs]
            print(f"{'impliedVol (' + label + ')':<34} {len(gas):>6}  {percentiles(gas)}")
        hull = (42 * 10**18, 40 * 10**18, 15_768_000, 2 * 10**17, 10**17)
        print(f"\nwhole transaction greeks() on Hull 15.6 (21,000 base included): {h.tx_gas('greeks', hull):,}")
        print(f"whole transaction price() on Hull 15.6: {h.tx_gas('price', hull):,}")
        print("implied volatility counts only calls that return (reverts are excluded)")


if __name__ == "__main__":
    main()
