"""The `hedgevault deploy` subcommand: registered by hedgevault.cli."""

from __future__ import annotations

import argparse
import signal
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedgevault.cliargs import uint

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from hedgevault.deployment.config import DeployConfig
    from hedgevault.deployment.manifest import ChainIdentity

_EPILOG = """\
examples:
  hedgevault deploy                                   embedded Anvil: everything, then the chain stops
  hedgevault deploy --keep-running                    ... and keep serving it until Ctrl-C
  hedgevault deploy --rpc-url http://127.0.0.1:8545   a running node; a second run reuses and verifies
  hedgevault deploy --rpc-url $URL --config deployments/example.yaml --keystore ~/.hedgevault/key.json
  hedgevault deploy --fork-url $URL                   Anvil fork of $URL; its manifest is the base
  hedgevault deploy --rpc-url $URL --check            compare the chain with the manifest, send nothing
  hedgevault deploy --stack both                      the option vault and the portfolio vault
  hedgevault deploy --stack portfolio                 the portfolio vault alone (assets, feeds, pools, oracles)

Keys: --keystore (password in HEDGEVAULT_KEYSTORE_PASSWORD or a prompt), else HEDGEVAULT_PRIVATE_KEY,
else on a dev chain (id 31337 or 1337) Anvil's development account --anvil-account (default 0).
Manifests: deployments/<chain id>.json; dev chains deployments/local/<chain id>-<genesis>.json.
See docs/deployment.md."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `deploy` to the `hedgevault` parser."""
    p = sub.add_parser(
        "deploy",
        help="deploy the suite (and on a dev chain tokens, feeds, Uniswap V3), write and verify its manifest",
        description="Deploy the option-vault suite idempotently and record it in a manifest under deployments/.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chain = p.add_mutually_exclusive_group()
    chain.add_argument(
        "--rpc-url", help="attach to this node (default: $HEDGEVAULT_RPC_URL, else start an embedded Anvil)"
    )
    chain.add_argument("--fork-url", help="start Anvil as a fork of this RPC URL and deploy onto the fork")
    add_deploy_options(p)
    p.add_argument("--keep-running", action="store_true", help="embedded/fork Anvil: keep serving until Ctrl-C")
    p.set_defaults(func=_cmd_deploy)


def add_deploy_options(p: argparse.ArgumentParser) -> None:
    """The options of `hedgevault deploy` besides the chain (shared with scripts/deploy.py under brownie)."""
    p.add_argument("--config", type=Path, help="parameters and addresses: a .yaml or .toml file")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value, e.g. --set risk.spread_bps=150 (repeatable)",
    )
    p.add_argument("--manifest", type=Path, help="manifest to read and write (default: by chain, see below)")
    p.add_argument("--infrastructure", type=Path, metavar="MANIFEST", help="take tokens, feed and pool from here")
    p.add_argument("--fresh", action="store_true", help="ignore and replace an existing manifest: deploy anew")
    p.add_argument("--infrastructure-only", action="store_true", help="stop after tokens, feeds and Uniswap V3")
    p.add_argument(
        "--stack",
        choices=("option", "portfolio", "both"),
        help="which vault stacks to deploy on the infrastructure (default: option, or both when the config's "
        "portfolio.enabled is true)",
    )
    p.add_argument(
        "--deploy-infrastructure",
        action="store_true",
        help="deploy mock tokens and feeds and Uniswap V3 even on a chain that is not a dev chain",
    )
    p.add_argument("--check", action="store_true", help="only compare the chain with the manifest; send nothing")
    p.add_argument("--keystore", type=Path, help="eth-account JSON keystore (outside the repository)")
    p.add_argument(
        "--anvil-account", type=uint("account index", 9), metavar="N", help="dev chains: Anvil's development account N"
    )
    p.add_argument("--max-fee-gwei", help="cap on maxFeePerGas, in gwei (e.g. 50)")


def _cmd_deploy(args: argparse.Namespace) -> int:
    import os

    from hedgevault.chain import local_node

    _validate(args)  # bad flags and config fail before a node starts
    if args.rpc_url is None and args.fork_url is None:
        args.rpc_url = os.environ.get("HEDGEVAULT_RPC_URL") or None
    with local_node(rpc_url=args.rpc_url, fork_url=args.fork_url) as node:
        embedded = args.rpc_url is None
        try:
            code = deploy_on(args, node.web3())
            if embedded and args.keep_running:
                _serve(node.url)
            elif embedded and code == 0:
                print(f"note: the {'fork' if args.fork_url else 'embedded Anvil'} stops now; --keep-running keeps it")
        finally:
            if embedded and args.manifest is None and not args.check:
                _forget_manifest(args)
        return code


def _forget_manifest(args: argparse.Namespace) -> None:
    """A chain started here stops with the command: its manifest (at the default path) describes contracts that
    no longer exist anywhere, so it goes too (give --manifest PATH to keep a record, or --keep-running)."""
    path = getattr(args, "written_manifest", None)
    if path is not None and Path(path).exists():
        Path(path).unlink()
        print(f"note: removed {path}: it described the stopped chain (keep one with --manifest PATH)")


def _validate(args: argparse.Namespace) -> None:
    """Check the flags and read the config (``args.max_fee_cap_wei``, ``args.deploy_config``)."""
    from hedgevault.deployment.config import load_deploy_config
    from hedgevault.deployment.errors import DeployConfigError

    if args.check and (args.fresh or args.infrastructure_only or args.deploy_infrastructure or args.stack):
        raise DeployConfigError("--check sends nothing: it cannot be combined with --fresh or deployment flags")
    if args.infrastructure_only and args.stack:
        raise DeployConfigError("--infrastructure-only deploys no vault stack: drop --stack, or drop the other flag")
    args.max_fee_cap_wei = _gwei(args.max_fee_gwei) if args.max_fee_gwei is not None else None
    # read (and so validate) the config in --check too: a typo, a missing file or a bad --set is an error there
    args.deploy_config = load_deploy_config(args.config, args.overrides)
    args.config_given = args.config is not None or bool(args.overrides)


def deploy_on(args: argparse.Namespace, w3: Web3) -> int:
    """Run `hedgevault deploy` (or `--check`) with parsed ``args`` on the connected ``w3``."""
    if not hasattr(args, "deploy_config"):
        _validate(args)
    if args.check:
        return _check(args, w3)
    return _deploy(args, w3, args.deploy_config, args.max_fee_cap_wei)


def _gwei(text: str) -> int:
    from hedgevault.deployment.errors import DeployConfigError

    try:
        value = Decimal(text) * 10**9
    except InvalidOperation:
        value = Decimal(-1)
    if value <= 0 or value != value.to_integral_value():
        raise DeployConfigError(f"--max-fee-gwei {text!r}: expected a positive number of gwei, e.g. 50 or 0.5")
    return int(value)


def _manifest_path(args: argparse.Namespace, identity: ChainIdentity) -> tuple[Path, bool]:
    """(manifest path, whether an existing file there is replaced because the chain is a new fork)."""
    from hedgevault.deployment.manifest import default_fork_manifest_path, default_manifest_path

    if args.manifest is not None:
        return args.manifest, False
    if getattr(args, "fork_url", None):
        # a fork started here is new: an earlier fork manifest at the default path describes a fork now gone
        return default_fork_manifest_path(identity), True
    return default_manifest_path(identity), False


def _deploy(args: argparse.Namespace, w3: Web3, config: DeployConfig, max_fee_cap_wei: int | None) -> int:
    from hedgevault.deployment.manifest import ChainIdentity, default_manifest_path
    from hedgevault.deployment.runner import run_deploy
    from hedgevault.deployment.senders import SignedSender

    identity = ChainIdentity.read(w3)
    path, replace_stale_fork = _manifest_path(args, identity)
    args.written_manifest = path
    infrastructure = args.infrastructure
    if getattr(args, "fork_url", None) and infrastructure is None and config.infrastructure is None:
        base = default_manifest_path(identity.parent)
        if base.exists():
            infrastructure = base
    account = _account(args, identity.is_dev)
    sender = SignedSender(w3, account, max_fee_cap_wei=max_fee_cap_wei)
    print(f"chain      {identity.describe()}")
    print(f"deployer   {account.address}")
    result = run_deploy(
        w3,
        sender,
        config,
        manifest_path=path,
        fresh=args.fresh or (replace_stale_fork and path.exists()),
        infrastructure_manifest=infrastructure,
        deploy_infrastructure=True if args.deploy_infrastructure else None,
        vault_stack=not args.infrastructure_only and args.stack != "portfolio",
        portfolio=False if args.infrastructure_only else (None if args.stack is None else args.stack != "option"),
        log=lambda line: print(f"  {line}", flush=True),
    )
    print(f"manifest   {result.manifest_path}")
    print(
        f"done       {len(result.deployed)} deployed, {len(result.reused)} reused after checking their code, "
        f"{result.transactions} transactions sent"
    )
    print("checks     code hashes, wiring, parameters and roles read back from the chain match the manifest")
    if result.stack is not None:
        print(f"vault      {result.stack.vault.address}")
    if result.portfolio is not None:
        stack = result.portfolio
        print(f"portfolio  {stack.vault.address if stack.vault is not None else 'vault not deployed'}")
        symbols = ", ".join(a.symbol for a in stack.assets)
        print(f"           covariance oracle {stack.cov_oracle.address}; assets {symbols}")
    if result.stack is not None and result.stack.timelock is not None:
        delay_sec = int(result.stack.timelock.functions.getMinDelay().call())
        print(
            f"timelock   {result.stack.timelock.address} (delay {delay_sec} s) holds the admin role of the vault and "
            "the oracles; queue changes with `hedgevault governance`"
        )
    return 0


def _check(args: argparse.Namespace, w3: Web3) -> int:
    from hedgevault.deployment.checks import check_deployment
    from hedgevault.deployment.errors import DeploymentMismatch
    from hedgevault.deployment.manifest import ChainIdentity, load_manifest
    from hedgevault.toolchain.compiler import compile_project

    identity = ChainIdentity.read(w3)
    path, _ = _manifest_path(args, identity)
    manifest = load_manifest(path)
    manifest.check_chain(identity, f"manifest {path}")
    differences = check_deployment(w3, manifest, compile_project())
    if getattr(args, "config_given", False):
        differences += config_differences(manifest, args.deploy_config)
    if differences:
        raise DeploymentMismatch(f"the chain does not match manifest {path}", differences, CHECK_ADVICE)
    print(f"manifest {path}: code hashes, wiring, parameters and roles on {identity.describe()} match")
    return 0


def config_differences(manifest: Any, config: DeployConfig) -> list[str]:
    """Where the vault parameters ``config`` asks for differ from those the manifest records (and the chain was
    just checked against): ``risk.spread_bps: config 150, deployed 100``."""
    from hedgevault.deployment.vault_stack import vault_stack_parameters

    stack = manifest.vault_stack
    if stack is None:
        return ["the manifest records no vault stack to compare the config with"]
    wanted = vault_stack_parameters(config, stack.roles)
    out = []
    for key, value in wanted.items():
        recorded = stack.parameters.get(key)
        if isinstance(value, dict) and isinstance(recorded, dict):
            out += [
                f"{key}.{k}: config {v}, deployed {recorded.get(k)}" for k, v in value.items() if recorded.get(k) != v
            ]
        elif key != "fee_recipient" and recorded != value:
            out.append(f"{key}: config {value}, deployed {recorded}")
    return out


#: What to do when ``--check`` finds differences: the manifest may be stale, or the chain was changed.
CHECK_ADVICE = (
    "Nothing was sent. Code that differs from the manifest means it does not describe this chain (a reset node, "
    "a tampered or copied manifest: deploy anew with --fresh or --manifest PATH). Parameters or roles that differ "
    "were changed on-chain: put them back (or record the change) through the timelock with `hedgevault governance`."
)


def _account(args: argparse.Namespace, is_dev: bool) -> LocalAccount:
    import os

    from hedgevault.deployment.errors import DeployConfigError
    from hedgevault.keys import DEFAULT_KEY_ENV, anvil_account, load_account

    if args.anvil_account is not None:
        if not is_dev:
            raise DeployConfigError("--anvil-account is for dev chains (id 31337 or 1337): use --keystore or a key env")
        return anvil_account(args.anvil_account)
    if args.keystore is not None or os.environ.get(DEFAULT_KEY_ENV) or not is_dev:
        return load_account(keystore=args.keystore)
    return anvil_account(0)


def _serve(url: str) -> None:
    print(f"serving    {url} until Ctrl-C or SIGTERM", flush=True)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
