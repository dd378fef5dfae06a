"""The `hedgevault` command."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hedgevault.cliargs import Parser, quiet_broken_pipe, uint
from hedgevault.errors import HedgevaultError
from hedgevault.units import InputError, from_wad, to_seconds, to_wad

#: Exit code after stdout's reader went away: what a shell reports for a tool killed by SIGPIPE.
EXIT_BROKEN_PIPE = 141

if TYPE_CHECKING:
    from hedgevault.greeks.errors import GreeksError


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
    from contextlib import ExitStack

    from hedgevault.chain import local_node, start_ganache

    with ExitStack() as stack:
        if args.ganache:
            if args.fork_url:
                raise HedgevaultError(
                    "--ganache starts a fresh Ganache chain: it cannot fork (--fork-url is for Anvil)"
                )
            node = start_ganache(port=args.port)
            stack.callback(node.stop)
            kind = "Ganache"
        else:
            node = stack.enter_context(local_node(fork_url=args.fork_url, port=args.port))
            kind = "Anvil fork" if args.fork_url else "Anvil"
        print(f"{kind} listening at {node.url} (log: {node.log_path}); Ctrl-C to stop", flush=True)
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
    from hedgevault.greeks.errors import GreeksError

    if args.rpc_url and not args.onchain:
        raise InputError("--rpc-url is where --onchain evaluates: give --onchain too, or drop --rpc-url")
    if args.type is not None and args.price is None:
        raise InputError("--type says which option --price is the price of: give --price too, or drop --type")
    if args.vol is not None and args.svi is not None:
        raise InputError("give the volatility once: --vol (one number) or --svi (a slice: the strike's vol), not both")
    if args.svi is None and (args.forward is not None or args.svi_time is not None):
        flag = "--forward" if args.forward is not None else "--svi-time"
        raise InputError(f"{flag} belongs to the slice: give --svi too, or drop {flag}")
    if args.vol is None and args.svi is None and args.price is None:
        raise InputError(
            "give --vol or --svi (to price the option) or --price (to solve its implied volatility), or both"
        )
    spot = to_wad(args.spot, "--spot")
    strike = to_wad(args.strike, "--strike")
    time_sec = to_seconds(args.time, "--time")
    rate = to_wad(args.rate, "--rate")
    svi = None
    if args.svi is not None:
        from hedgevault.greeks.slice_vol import parse_svi, slice_vol_wad

        forward = spot if args.forward is None else to_wad(args.forward, "--forward")
        svi_time = time_sec if args.svi_time is None else to_seconds(args.svi_time, "--svi-time")
        svi = (parse_svi(args.svi), strike, forward, svi_time)
        svi_vol_wad = slice_vol_wad(*svi)
        vol_text = from_wad(svi_vol_wad)  # exact: the Greeks are priced at this vol to the wei
    else:
        vol_text = args.vol
    inputs = None if vol_text is None else (spot, strike, time_sec, to_wad(vol_text, "--vol"), rate)
    kind = args.type or "call"
    iv_inputs = (
        None if args.price is None else (to_wad(args.price, "--price"), spot, strike, time_sec, rate, kind == "call")
    )
    try:  # both first: a refused input is one line, with nothing printed before it
        result = None if inputs is None else mirror.greeks(*inputs)
        vol_wad = None if iv_inputs is None else mirror.implied_vol(*iv_inputs)
    except GreeksError as exc:
        raise InputError(_greeks_error_in_user_units(exc)) from None
    if args.onchain:
        from hedgevault.chain import local_node
        from hedgevault.greeks.onchain import GreeksHarness

        with local_node(rpc_url=args.rpc_url) as node:
            if svi is not None:
                from hedgevault.greeks.slice_vol import onchain_slice_vol

                onchain_svi = onchain_slice_vol(node.web3(), *svi)
                print(
                    "on-chain slice volatility equals the mirror"
                    if onchain_svi == svi_vol_wad
                    else f"ON-CHAIN SLICE VOLATILITY DIFFERS: {onchain_svi!r}"
                )
            harness = GreeksHarness.deploy(node.web3())
            if inputs is not None:
                onchain = harness.greeks([inputs])[0]
                print("on-chain result equals the mirror" if onchain == result else f"ON-CHAIN DIFFERS: {onchain!r}")
            if iv_inputs is not None:
                onchain_vol = harness.implied_vol([iv_inputs])[0]
                print(
                    "on-chain implied volatility equals the mirror"
                    if onchain_vol == vol_wad
                    else f"ON-CHAIN IMPLIED VOLATILITY DIFFERS: {onchain_vol!r}"
                )
    if svi is not None:
        from hedgevault.surface.mirror import log_moneyness_wad

        k = from_wad(log_moneyness_wad(svi[1], svi[2]))
        print(f"svi vol: {vol_text} (k = ln(strike / forward) = {k}, forward {from_wad(svi[2])}, over {svi[3]} s)")
    if result is not None:
        for name, value in result._asdict().items():
            print(f"{name:<11} {from_wad(value):>32}")
    if vol_wad is not None:
        print(f"implied volatility of a {kind} at {args.price}: {from_wad(vol_wad)}")
    return 0


def _greeks_error_in_user_units(exc: GreeksError) -> str:
    """The library's refusal with its arguments as the user typed them: ``SpotOutOfRange(spot=-5)``, not
    ``spotWad=-5000000000000000000``, and the hint without its wad ranges."""
    import re

    shown = ", ".join(
        f"{name.removesuffix('Wad')}={from_wad(value)}"
        if name.endswith("Wad") and isinstance(value, int)
        else f"{name}={value!r}"
        for name, value in zip(exc.FIELDS, exc.values, strict=True)
    )
    hint = re.sub(r" \([^()]*in wad units\)", "", exc.HINT)
    return f"{type(exc).__name__}({shown}): {hint}"


def _cmd_demo(args: argparse.Namespace) -> int:
    from hedgevault.demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = Parser(
        prog="hedgevault",
        description="hedgevault: hedged option vaults with an on-chain Black-Scholes library. "
        "`hedgevault COMMAND --help` explains a command.",
    )
    parser.add_argument("--version", action="version", version=f"hedgevault {_version()}")
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("toolchain", help="install/register the Solidity compiler and compile the contracts")
    p.set_defaults(func=_cmd_toolchain)

    p = sub.add_parser(
        "node",
        help="run the embedded Anvil (or a fork, or Ganache) until Ctrl-C",
        description="Runs a local development chain on 127.0.0.1 until Ctrl-C: Anvil by default (chain id 31337), "
        "a fork of --fork-url, or Ganache 7 (--ganache, chain id 1337). Both fund Anvil's 10 development "
        "accounts (--anvil-account N). Other commands attach with --rpc-url http://127.0.0.1:PORT.",
    )
    p.add_argument("--port", type=uint("port", 65535), help="listen on this port (default: a free one; 8545 is usual)")
    p.add_argument("--fork-url", help="start Anvil as a fork of this RPC URL")
    p.add_argument("--ganache", action="store_true", help="run Ganache 7 instead of Anvil (Shanghai, no Cancun)")
    p.set_defaults(func=_cmd_node)

    p = sub.add_parser(
        "greeks",
        help="price an option and its Greeks with the integer mirror (optionally also on-chain)",
        description="Values are decimals (spot 3000, vol 0.8 for 80%, rate -0.01); time as 3600, 12h, 30d, 0.5y.",
    )
    p.add_argument("--spot", required=True, help="underlying price, e.g. 3000")
    p.add_argument("--strike", required=True, help="strike price, e.g. 3200")
    p.add_argument("--time", required=True, help="time to expiry: seconds, or with a unit s/m/h/d/y")
    p.add_argument("--vol", help="annual volatility, e.g. 0.8 (not needed to only solve --price's implied vol)")
    p.add_argument(
        "--svi",
        metavar="A,B,RHO,M,SIGMA",
        help="instead of --vol: a raw SVI slice of the expiry's total variance (a in variance, e.g. "
        "0.0426,0.1,-0.5,0,0.1, as `hedgevault surface` prints it; a negative a: --svi=-0.01,...); the strike's vol "
        "from it (the bit-exact mirror)",
    )
    p.add_argument("--forward", help="with --svi: the forward k = ln(strike / forward) is taken at (default --spot)")
    p.add_argument(
        "--svi-time",
        help="with --svi: the time the slice's variance is over (default --time; the oracle's T0 from `surface`)",
    )
    p.add_argument("--rate", default="0", help="annual rate, e.g. 0.05 (default 0)")
    p.add_argument("--price", help="also solve the implied volatility of this option price")
    p.add_argument("--type", choices=("call", "put"), help="option type for --price (default call)")
    p.add_argument(
        "--onchain",
        action="store_true",
        help="also evaluate on a chain (the Greeks with --vol, the slice's vol with --svi, the implied volatility "
        "with --price) and compare",
    )
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
    from hedgevault.ops.journey_cli import register as register_journey
    from hedgevault.ops.surface_cli import register as register_surface
    from hedgevault.sim.cli import register as register_sim

    for register in (
        register_deploy,
        register_ops,
        register_surface,
        register_journey,
        register_governance,
        register_keeper,
        register_sim,
    ):
        register(sub)
    # every subcommand's --help opens with what it does: its one-line summary where it has no longer text
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, subparser in sub.choices.items():
        if not subparser.description and helps.get(name):
            summary = str(helps[name]).replace("%%", "%")
            subparser.description = summary[0].upper() + summary[1:] + "."
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hedgevault")
    except PackageNotFoundError:
        return "unknown (not installed: run `make setup`)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and bad arguments (2): a code, for in-process callers too
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except HedgevaultError as exc:
        print(f"hedgevault {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`hedgevault deploy | head -1`): quiet, but not a success - the command stopped
        # where it was, as a Unix tool killed by SIGPIPE does (128 + 13)
        quiet_broken_pipe()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a traceback
        return _unexpected(args.command, exc)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unexpected(command: str, exc: Exception) -> int:
    """An error no part of hedgevault anticipated: one line naming it (revert data decoded, a dead node named),
    the traceback only with HEDGEVAULT_DEBUG=1."""
    import os
    import traceback

    from requests.exceptions import ConnectionError as RequestsConnectionError
    from web3.exceptions import ContractCustomError, ContractLogicError

    if os.environ.get("HEDGEVAULT_DEBUG"):
        traceback.print_exc()
    if isinstance(exc, (ContractCustomError, ContractLogicError)):
        from hedgevault.reverts import describe

        print(f"hedgevault {command}: the contract refused: {describe(exc)}", file=sys.stderr)
        return 2
    if isinstance(exc, RequestsConnectionError):
        print(f"hedgevault {command}: lost the connection to the node: {_one_line(str(exc))[:200]}", file=sys.stderr)
        return 2
    print(
        f"hedgevault {command}: unexpected {type(exc).__name__}: {_one_line(str(exc))[:300]} "
        "(a bug: please report it with HEDGEVAULT_DEBUG=1 for the traceback)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
