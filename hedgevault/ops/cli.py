"""`hedgevault deposit | withdraw | buy | sell | claim | collect-fees | status`: a depositor's, a buyer's
and a fee recipient's commands against a deployed vault, found through its deployment manifest."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount

from hedgevault.cliargs import address, positive_decimal, uint
from hedgevault.errors import HedgevaultError
from hedgevault.suite import Suite
from hedgevault.units import from_units, to_units, to_wad

if TYPE_CHECKING:
    from web3 import Web3

    from hedgevault.deployment.manifest import Manifest


class OpsInputError(HedgevaultError):
    """A command-line value cannot be used."""


@contextmanager
def _suite(args: argparse.Namespace) -> Iterator[Suite]:
    with attached(args) as (suite, _manifest):
        yield suite


@contextmanager
def attached(args: argparse.Namespace) -> Iterator[tuple[Suite, Manifest]]:
    """The suite of ``--manifest`` (default: the chain's own) on ``--rpc-url``, with its manifest."""
    from hedgevault.deployment import attach_suite

    with manifest_on_node(args) as (w3, manifest):
        yield attach_suite(w3, manifest), manifest


@contextmanager
def manifest_on_node(args: argparse.Namespace) -> Iterator[tuple[Web3, Manifest]]:
    """The node of ``--rpc-url`` and the manifest of ``--manifest`` (default: the chain's own)."""
    from hedgevault.chain import local_node
    from hedgevault.deployment import ChainIdentity, default_manifest_path, load_manifest

    rpc_url = args.rpc_url or os.environ.get("HEDGEVAULT_RPC_URL")
    if not rpc_url:
        raise OpsInputError(
            "give the node with --rpc-url URL (or HEDGEVAULT_RPC_URL): a vault lives on a chain you deployed to "
            "(`hedgevault node` then `hedgevault deploy --rpc-url URL`)"
        )
    with local_node(rpc_url=rpc_url) as node:
        w3 = node.web3()
        path = Path(args.manifest) if args.manifest else default_manifest_path(ChainIdentity.read(w3))
        yield w3, load_manifest(path)


def signing_account(args: argparse.Namespace, suite: Suite) -> LocalAccount:
    from hedgevault.keys import DEV_CHAIN_IDS, anvil_account, load_account

    if args.anvil_account is not None:
        chain_id = int(suite.w3.eth.chain_id)
        if chain_id not in DEV_CHAIN_IDS:
            raise OpsInputError(f"--anvil-account signs with public development keys: refused on chain {chain_id}")
        return anvil_account(args.anvil_account)
    return load_account(keystore=Path(args.keystore) if args.keystore else None, key_env=args.key_env)


def _quote_decimals(suite: Suite) -> int:
    return int(suite.quote.functions.decimals().call())


#: Event and preview fields in quote units, shown as whole quote tokens.
_QUOTE_FIELDS = frozenset(
    ("assets", "premium", "proceeds", "fee", "payout", "amount", "maxPremium", "minProceeds", "amountQuote")
)


def shown_values(suite: Suite, values: dict[str, Any]) -> dict[str, Any]:
    """An outcome's values in the units a user types: quote tokens, options and shares as decimals."""
    decimals = _quote_decimals(suite)
    share_decimals = int(suite.vault.functions.decimals().call())
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k in _QUOTE_FIELDS:
            out[k] = from_units(int(v), decimals)
        elif k == "amountWad":
            out["amount"] = from_units(int(v), 18)
        elif k == "shares":
            out[k] = from_units(int(v), share_decimals)
        else:
            out[k] = v
    return out


def _print_outcome(suite: Suite, outcome: Any, as_json: bool = False) -> None:
    shown = shown_values(suite, outcome.values)
    if as_json:
        data = {"action": outcome.action, "dry_run": outcome.dry_run, **shown}
        if not outcome.dry_run:
            data |= {"tx": outcome.tx_hash, "gas": outcome.gas_used}
        print(json.dumps(data, indent=2, default=str))
        return
    prefix = "would " if outcome.dry_run else ""
    print(f"{prefix}{outcome.action}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if outcome.dry_run:
        print("  dry run: nothing was sent")
    else:
        print(f"  tx {outcome.tx_hash}, gas {outcome.gas_used:,}")


def _run(action: Callable[[argparse.Namespace, Suite, LocalAccount], Any]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with _suite(args) as suite:
            outcome = action(args, suite, signing_account(args, suite))
            _print_outcome(suite, outcome, getattr(args, "json", False))
        return 0

    return run


def _deposit(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    amount = to_units(args.amount, _quote_decimals(suite), "--amount")
    return actions.deposit(suite, account, amount, args.receiver, dry_run=args.dry_run)


def _withdraw(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    if (args.amount is None) == (not args.all):
        raise OpsInputError("give exactly one of --amount X (quote tokens) or --all")
    assets = None if args.all else to_units(args.amount, _quote_decimals(suite), "--amount")
    return actions.withdraw(suite, account, assets, args.receiver, dry_run=args.dry_run)


def _limit(text: str | None, suite: Suite, name: str) -> int | None:
    return None if text is None else to_units(text, _quote_decimals(suite), name)


def _buy(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    return actions.buy(
        suite,
        account,
        args.series,
        to_wad(args.amount, "--amount"),
        max_premium=_limit(args.max_premium, suite, "--max-premium"),
        slippage_bps=args.slippage_bps,
        receiver=args.receiver,
        dry_run=args.dry_run,
    )


def _sell(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    return actions.sell(
        suite,
        account,
        args.series,
        to_wad(args.amount, "--amount"),
        min_proceeds=_limit(args.min_proceeds, suite, "--min-proceeds"),
        slippage_bps=args.slippage_bps,
        receiver=args.receiver,
        dry_run=args.dry_run,
    )


def _claim(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    return actions.claim(suite, account, args.series, args.receiver)


def _collect_fees(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    return actions.collect_fees(suite, account)


def _remark(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    return actions.remark(suite, account)


def _report_outage(args: argparse.Namespace, suite: Suite, account: LocalAccount) -> Any:
    from hedgevault.ops import actions

    return actions.report_outage(suite, account)


def _status(args: argparse.Namespace) -> int:
    """The option vault's status (when the manifest has one), then the portfolio vault's (when it has one);
    ``--json``: the option vault's fields at the top level and the portfolio's under ``portfolio``."""
    from hedgevault.deployment import attach_suite
    from hedgevault.deployment.portfolio import attach_portfolio
    from hedgevault.ops.portfolio_status import format_portfolio_status, portfolio_status
    from hedgevault.ops.status import format_status, vault_status

    with manifest_on_node(args) as (w3, manifest):
        status: dict[str, Any] = {}
        text = []
        if manifest.vault_stack is not None or manifest.portfolio is None:
            status = vault_status(attach_suite(w3, manifest), args.account)
            text.append(format_status(status))
        if manifest.portfolio is not None:
            status["portfolio"] = portfolio_status(attach_portfolio(w3, manifest), args.account)
            text.append(format_portfolio_status(status["portfolio"]))
    print(json.dumps(status, indent=2, default=str) if args.json else "\n".join(text))
    return 0


def connection_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rpc-url", help="the node the vault is on (default: $HEDGEVAULT_RPC_URL)")
    p.add_argument(
        "--manifest", help="deployment manifest (default: the chain's own under deployments/, as `deploy` wrote it)"
    )


def signer_flags(p: argparse.ArgumentParser, receiver: bool = True) -> None:
    connection_flags(p)
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--keystore", help="encrypted eth-account keystore outside the repository")
    keys.add_argument(
        "--anvil-account",
        type=uint("account index", 9),
        metavar="N",
        help="Anvil's dev account N, 0-9 (local chains only)",
    )
    p.add_argument(
        "--key-env",
        default="HEDGEVAULT_PRIVATE_KEY",
        help="environment variable holding a hex private key (default HEDGEVAULT_PRIVATE_KEY); keystore password "
        "in HEDGEVAULT_KEYSTORE_PASSWORD",
    )
    if receiver:
        p.add_argument("--receiver", type=address, help="who receives the shares/options/quote (default: the signer)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add deposit, withdraw, buy, sell, claim, collect-fees, remark, report-outage and status."""
    p = sub.add_parser("deposit", help="deposit quote tokens into a vault for shares")
    signer_flags(p)
    p.add_argument("--amount", required=True, type=positive_decimal("--amount"), help="quote tokens, e.g. 1000 or 12.5")
    p.add_argument("--dry-run", action="store_true", help="show the shares it would mint now; send nothing")
    p.set_defaults(func=_run(_deposit))

    p = sub.add_parser("withdraw", help="withdraw quote tokens (or --all: redeem what may leave now)")
    signer_flags(p)
    how_much = p.add_mutually_exclusive_group(required=True)
    how_much.add_argument("--amount", type=positive_decimal("--amount"), help="quote tokens to withdraw")
    how_much.add_argument("--all", action="store_true", help="redeem every share that may leave now (maxRedeem)")
    p.add_argument("--dry-run", action="store_true", help="show the shares and assets it would move; send nothing")
    p.set_defaults(func=_run(_withdraw))

    for name, fn, bound, what, summary in (
        (
            "buy",
            _buy,
            "--max-premium",
            "at most this premium + fee in quote tokens (default: quote + slippage)",
            "buy options of a listed series from the vault",
        ),
        (
            "sell",
            _sell,
            "--min-proceeds",
            "at least these proceeds in quote tokens (default: quote - slippage)",
            "sell options back to the vault",
        ),
    ):
        p = sub.add_parser(name, help=summary)
        signer_flags(p)
        p.add_argument("--series", type=uint("series id"), required=True, help="series id (see `hedgevault series`)")
        p.add_argument(
            "--amount", required=True, type=positive_decimal("--amount"), help="options, in underlying units (e.g. 1.5)"
        )
        p.add_argument(bound, type=positive_decimal(bound, allow_zero=True), help=what)
        p.add_argument(
            "--slippage-bps",
            type=uint("--slippage-bps", 10_000),
            default=50,
            help="tolerance on the quote (default 50)",
        )
        p.add_argument("--dry-run", action="store_true", help="show the quote and the limit; send nothing")
        p.set_defaults(func=_run(fn))

    p = sub.add_parser("claim", help="claim the payout of a settled series")
    signer_flags(p)
    p.add_argument("--series", type=uint("series id"), required=True, help="series id")
    p.set_defaults(func=_run(_claim))

    p = sub.add_parser(
        "collect-fees", help="send the trading fees the vault owes to its fee recipient (anyone may sign)"
    )
    signer_flags(p, receiver=False)
    p.set_defaults(func=_run(_collect_fees))

    p = sub.add_parser("remark", help="re-mark the vault's cached book now (anyone may sign; ends an outage)")
    signer_flags(p, receiver=False)
    p.set_defaults(func=_run(_remark))

    p = sub.add_parser(
        "report-outage",
        help="record that the vault's oracles are down (anyone may sign): withdrawals open at the conservative "
        "valuation once the outage delay has passed",
    )
    signer_flags(p, receiver=False)
    p.set_defaults(func=_run(_report_outage))

    p = sub.add_parser(
        "status",
        help="NAV, share price, health factor, Greeks, limits and series of the option vault; weights vs targets, "
        "ex-ante and realised vol, tracking error and slippage budget of the portfolio vault",
    )
    connection_flags(p)
    p.add_argument("--account", type=address, help="also show this account's shares, options and what it may withdraw")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_status)
