"""The `hedgevault` command."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence

from hedgevault.errors import HedgevaultError
from hedgevault.units import from_wad, to_seconds, to_wad


def _cmd_toolchain(args: argparse.Namespace) -> int:
    from hedgevault.toolchain.compiler import compile_project, ensure_solc, load_settings

    settings = load_settings()
    solc = ensure_solc(settings.version)
    kind = "solc-js shim" if solc.read_bytes().startswith(b"#!/bin/sh") else "native solc"
    print(f"solc {settings.version}: {kind} at {solc} (registered with py-solc-x)")
    artifacts = compile_project()
    print(f"compiled {len(artifacts)} contracts (evm {settings.evm_version}, optimizer runs {settings.optimizer_runs})")
    return 0


def _cmd_node(args: argparse.Namespace) -> int:
    from hedgevault.chain import local_node

    with local_node(fork_url=args.fork_url) as node:
        print(f"Anvil listening at {node.url} (log: {node.log_path}); Ctrl-C to stop", flush=True)
        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stop and (node.process is None or node.process.poll() is None):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_greeks(args: argparse.Namespace) -> int:
    from hedgevault.greeks import mirror

    spot = to_wad(args.spot, "--spot")
    strike = to_wad(args.strike, "--strike")
    time_sec = to_seconds(args.time, "--time")
    vol = to_wad(args.vol, "--vol")
    rate = to_wad(args.rate, "--rate")
    inputs = (spot, strike, time_sec, vol, rate)
    result = mirror.greeks(*inputs)
    if args.onchain:
        from hedgevault.chain import local_node
        from hedgevault.greeks.onchain import GreeksHarness

        with local_node(rpc_url=args.rpc_url) as node:
            onchain = GreeksHarness.deploy(node.web3()).greeks([inputs])[0]
        print("on-chain result equals the mirror" if onchain == result else f"ON-CHAIN DIFFERS: {onchain!r}")
    for name, value in result._asdict().items():
        print(f"{name:<11} {from_wad(value):>32}")
    if args.price is not None:
        target = to_wad(args.price, "--price")
        vol_wad = mirror.implied_vol(target, spot, strike, time_sec, rate, args.type == "call")
        print(f"implied volatility of a {args.type} at {args.price}: {from_wad(vol_wad)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from hedgevault.demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hedgevault",
        description="hedgevault: hedged option vaults with an on-chain Black-Scholes library.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("toolchain", help="install/register the Solidity compiler and compile the contracts")
    p.set_defaults(func=_cmd_toolchain)

    p = sub.add_parser("node", help="run the embedded Anvil (or a fork) until Ctrl-C")
    p.add_argument("--fork-url", help="start Anvil as a fork of this RPC URL")
    p.set_defaults(func=_cmd_node)

    p = sub.add_parser(
        "greeks",
        help="price an option and its Greeks with the integer mirror (optionally also on-chain)",
        description="Values are decimals (spot 3000, vol 0.8 for 80%%, rate -0.01); time as 3600, 12h, 30d, 0.5y.",
    )
    p.add_argument("--spot", required=True)
    p.add_argument("--strike", required=True)
    p.add_argument("--time", required=True, help="time to expiry: seconds, or with a unit s/m/h/d/y")
    p.add_argument("--vol", required=True, help="annual volatility, e.g. 0.8")
    p.add_argument("--rate", default="0", help="annual rate, e.g. 0.05 (default 0)")
    p.add_argument("--price", help="also solve the implied volatility of this option price")
    p.add_argument("--type", choices=("call", "put"), default="call", help="option type for --price")
    p.add_argument("--onchain", action="store_true", help="also evaluate on a chain and compare")
    p.add_argument("--rpc-url", help="with --onchain: attach to this node instead of the embedded Anvil")
    p.set_defaults(func=_cmd_greeks)

    p = sub.add_parser(
        "greeks-demo", help="the Greeks library on an embedded Anvil beside the mirror and mpmath, with gas"
    )
    p.set_defaults(func=_cmd_demo)

    # each part registers its own subcommands (and imports its heavy modules only when run)
    from hedgevault.deployment.cli import register as register_deploy
    from hedgevault.keeper.cli import register as register_keeper
    from hedgevault.ops.cli import register as register_ops
    from hedgevault.ops.governance_cli import register as register_governance
    from hedgevault.sim.cli import register as register_sim

    for register in (register_deploy, register_ops, register_governance, register_keeper, register_sim):
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except HedgevaultError as exc:
        print(f"hedgevault {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
