"""The `hedgevault keeper` subcommand: registered by hedgevault.cli (heavy modules load only when run)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hedgevault.deployment import Manifest

_DESCRIPTION = """\
Keep option vaults: on each new block call checkUpkeep, simulate performUpkeep and send it (hedges,
settlements) as a locally signed EIP-1559 transaction under a fee cap; keep portfolio vaults (--portfolio):
post the covariance from the feeds' history and the optimizer's targets on a schedule, and rebalancing
slices; replace transactions stuck for --stuck-blocks; survive node restarts. Settings come from --config
(TOML or YAML, see examples/keeper.toml) and the flags below, which override the file. The key comes from --keystore (an
eth-account keystore outside the repository, password in $HEDGEVAULT_KEYSTORE_PASSWORD) or the variable
named by --key-env (default HEDGEVAULT_PRIVATE_KEY); --anvil-account N uses an Anvil dev key (local
chains only). Logs are JSON lines on stdout (or --log-file). Exit codes: 0 done or stopped (SIGTERM,
Ctrl-C), 2 bad configuration or unusable node/key."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hedgevault keeper``."""
    p = sub.add_parser(
        "keeper",
        help="run the keeper bot (hedges, settlements, portfolio covariance/targets/rebalances, oracle posts)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, help="config file (.toml, .yaml); flags override it")
    p.add_argument("--rpc-url", help="the node's HTTP URL (e.g. what `hedgevault node` prints)")
    p.add_argument(
        "--vault",
        action="append",
        metavar="ADDRESS[:NAME]",
        help="a vault to keep (repeatable; replaces the file's vaults)",
    )
    p.add_argument(
        "--portfolio",
        action="append",
        metavar="ADDRESS[:NAME]",
        help="a portfolio vault to keep: covariance and target posts, rebalancing slices (repeatable; replaces the "
        "file's portfolios)",
    )
    p.add_argument(
        "--manifest",
        type=Path,
        action="append",
        metavar="PATH",
        help="keep the vaults of this deployment manifest, as `hedgevault deploy` wrote it: its option vault and "
        "its portfolio vault (repeatable; with --vault/--portfolio, replaces the file's); the node must be the "
        "manifest's chain",
    )
    p.add_argument("--chain-id", type=int, help="refuse to run unless the node has this chain id")
    p.add_argument("--max-fee", help='fee cap, maxFeePerGas, e.g. "50 gwei" (default 100 gwei)')
    p.add_argument("--priority-fee", help='tip, maxPriorityFeePerGas, e.g. "1 gwei" (default 1 gwei)')
    p.add_argument("--stuck-blocks", type=int, help="replace a transaction not mined after N blocks (default 3)")
    p.add_argument("--poll-interval", type=float, help="seconds between looks for a new block (default 1)")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port (default: off)")
    p.add_argument("--keystore", type=Path, help="eth-account JSON keystore (outside the repository)")
    p.add_argument("--key-env", help="environment variable holding a hex private key (default HEDGEVAULT_PRIVATE_KEY)")
    p.add_argument("--password-env", help="environment variable holding the keystore password")
    p.add_argument("--anvil-account", type=int, metavar="N", help="use Anvil's dev key N (local chains only)")
    p.add_argument(
        "--local-oracles",
        action="store_true",
        default=None,
        help="local chains: also re-post the feed from the pool's TWAP and the current vols",
    )
    p.add_argument("--once", action="store_true", help="one pass at the current block, then exit")
    p.add_argument("--dry-run", action="store_true", default=None, help="check and simulate, log, never send")
    p.add_argument("--log-file", type=Path, help="append JSON-lines logs here instead of stdout")
    p.add_argument("--log-level", choices=("debug", "info", "warning"), help="default info")
    p.set_defaults(func=_cmd_keeper)


#: Statuses of a `--once` pass that make it exit 1 (a check that failed, a transaction reverted or refused).
ONCE_FAILURES = frozenset({"check_failed", "reverted", "refused", "abandoned"})


def _is_option_vault(w3: Any, address: str) -> bool:
    """The contract answers the option vault's ``liveSeries()`` and ``hedger()`` views."""
    from web3 import Web3

    for signature in ("liveSeries()", "hedger()"):
        try:
            out = w3.eth.call({"to": address, "data": Web3.keccak(text=signature)[:4]})
        except Exception:  # noqa: BLE001 - any refusal means it is not that view
            return False
        if len(out) < 32:
            return False
    return True


def _vault_flags(values: list[str] | None) -> list[dict[str, str]] | None:
    if not values:
        return None
    out = []
    for value in values:
        address, _, name = value.partition(":")
        out.append({"address": address, "name": name} if name else {"address": address})
    return out


def _manifest_vaults(manifests: list[tuple[Path, Manifest]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(option vaults, portfolio vaults) the manifests record."""
    from hedgevault.keeper.config import KeeperConfigError

    vaults, portfolios = [], []
    for path, manifest in manifests:
        stack, portfolio = manifest.vault_stack, manifest.portfolio
        if stack is not None and "vault" in stack.contracts:
            vaults.append({"address": stack.contracts["vault"].address, "name": path.stem})
        if portfolio is not None and "vault" in portfolio.contracts:
            portfolios.append({"address": portfolio.contracts["vault"].address, "name": f"{path.stem}-portfolio"})
        if not (stack is not None and "vault" in stack.contracts) and not (
            portfolio is not None and "vault" in portfolio.contracts
        ):
            raise KeeperConfigError(
                f"manifest {path} has no vault (only infrastructure): deploy a vault stack with "
                "`hedgevault deploy --infrastructure` (--stack option|portfolio|both), or give the vault with "
                "--vault / --portfolio ADDRESS"
            )
    return vaults, portfolios


def _overrides(args: argparse.Namespace, manifests: list[tuple[Path, Manifest]]) -> dict[str, Any]:
    manifest_vaults, manifest_portfolios = _manifest_vaults(manifests)
    vaults = (_vault_flags(args.vault) or []) + manifest_vaults
    portfolios = (_vault_flags(args.portfolio) or []) + manifest_portfolios
    return {
        "rpc_url": args.rpc_url or os.environ.get("HEDGEVAULT_RPC_URL") or None,
        "vaults": vaults or None,
        "portfolios": portfolios or None,
        "chain_id": args.chain_id,
        "max_fee_per_gas": args.max_fee,
        "priority_fee": args.priority_fee,
        "stuck_blocks": args.stuck_blocks,
        "poll_interval_sec": args.poll_interval,
        "metrics_port": args.metrics_port,
        "keystore": args.keystore,
        "key_env": args.key_env,
        "password_env": args.password_env,
        "local_oracles": args.local_oracles,
        "dry_run": args.dry_run,
        "log_file": args.log_file,
        "log_level": args.log_level,
    }


def _cmd_keeper(args: argparse.Namespace) -> int:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3
    from web3.providers.rpc import HTTPProvider

    from hedgevault.chain.rpc import Rpc, RpcUnavailable
    from hedgevault.deployment import ChainIdentity, load_manifest
    from hedgevault.errors import ChainError
    from hedgevault.keeper.config import KeeperConfig, KeeperConfigError, load_config
    from hedgevault.keeper.decisions import backoff_sec
    from hedgevault.keeper.keeper import Keeper
    from hedgevault.keeper.logs import configure, emit
    from hedgevault.keeper.metrics import KeeperMetrics
    from hedgevault.keeper.oracles import NoMarketSource, OracleUpdater, PoolMarketSource
    from hedgevault.keys import DEV_CHAIN_IDS, anvil_account, load_account

    manifests = [(path, load_manifest(path)) for path in args.manifest or []]
    config: KeeperConfig = load_config(args.config, _overrides(args, manifests))
    if config.rpc_url is None:
        raise KeeperConfigError(
            "no node to talk to: set rpc_url in the config file or pass --rpc-url URL "
            "(start a local one with `hedgevault node`)"
        )
    account: LocalAccount
    if args.anvil_account is not None:
        account = anvil_account(args.anvil_account)
    else:
        account = load_account(keystore=config.keystore, key_env=config.key_env, password_env=config.password_env)
    logger = configure(config.log_level, config.log_file)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        emit(logger, logging.INFO, "stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    w3 = Web3(HTTPProvider(config.rpc_url, request_kwargs={"timeout": 10}, exception_retry_configuration=None))
    rpc = Rpc(w3)
    attempt = 0
    while True:  # wait for the node (a long-running keeper may start before it)
        try:
            chain_id = int(str(rpc.request("eth_chainId", [])), 16)
            break
        except RpcUnavailable as exc:
            if args.once:
                raise ChainError(f"no node answered at {config.rpc_url}: {exc}; check rpc_url / --rpc-url") from None
            if attempt == 0:
                emit(logger, logging.WARNING, "rpc_unavailable", reason=str(exc))
            if stop.wait(backoff_sec(attempt, initial_sec=config.backoff_initial_sec, max_sec=config.backoff_max_sec)):
                return 0
            attempt += 1
    if args.anvil_account is not None and chain_id not in DEV_CHAIN_IDS:
        raise KeeperConfigError(
            f"--anvil-account signs with public development keys: refused on chain {chain_id}; "
            "use --keystore or a key in the environment"
        )
    if manifests:
        identity = ChainIdentity.read(w3)
        for path, manifest in manifests:
            manifest.check_chain(identity, f"manifest {path}")
    if config.chain_id is not None and chain_id != config.chain_id:
        raise KeeperConfigError(
            f"the node at {config.rpc_url} is chain {chain_id}, not chain_id {config.chain_id}: "
            "check rpc_url or chain_id"
        )
    kept: list[Any] = [*config.vaults, *config.portfolios]
    for vault in kept:
        if rpc.request("eth_getCode", [vault.address, "latest"]) in (None, "0x", "0x0"):
            raise KeeperConfigError(
                f"no contract at vault {vault.address} ({vault.name}) on chain {chain_id}: check the address "
                "(deployments/ has the manifest) and rpc_url"
            )
        if not _is_option_vault(w3, vault.address):
            raise KeeperConfigError(
                f"the contract at {vault.address} ({vault.name}) is not an option vault (it has no liveSeries() "
                "and hedger()): give the vault's address, not a token's or an oracle's (deployments/ has it)"
            )

    metrics = None
    if config.metrics_port is not None:
        metrics = KeeperMetrics()
        try:
            metrics.serve(config.metrics_port, config.metrics_host)
        except OSError as exc:
            raise KeeperConfigError(
                f"cannot serve metrics on {config.metrics_host}:{config.metrics_port} ({exc.strerror}): "
                "choose another metrics_port"
            ) from None
    updater = None
    if (config.local_oracles or config.quotes_file) and not config.vaults:
        raise KeeperConfigError(
            "--local-oracles re-posts the option vault's feed and vols: it needs an option vault (--vault); a "
            "portfolio vault's keeper posts its covariance and targets without it"
        )
    if config.local_oracles or config.quotes_file:
        source = PoolMarketSource(w3, [v.address for v in config.vaults])
        updater = OracleUpdater(
            w3,
            account,
            config.feed_address or source.feed.address,
            config.vol_oracle_address or source.vol_oracle.address,
            source if config.local_oracles else NoMarketSource(),
            quotes_file=config.quotes_file,
            spot_wad=lambda: int(source.price_oracle.functions.spotWad().call()),
        )
    keeper = Keeper(w3, account, config, oracle_updater=updater, metrics=metrics, logger=logger)
    emit(
        logger,
        logging.INFO,
        "config",
        chain_id=chain_id,
        keeper=account.address,
        dry_run=config.dry_run,
        max_fee=config.max_fee_per_gas_wei,
        tip=config.priority_fee_wei,
        stuck_blocks=config.stuck_blocks,
        metrics_port=config.metrics_port,
        local_oracles=config.local_oracles,
    )
    if args.once:
        try:
            records = keeper.tick()
        except RpcUnavailable as exc:
            raise ChainError(f"the node at {config.rpc_url} stopped answering: {exc}") from None
        emit(logger, logging.INFO, "stopped", reason="--once")
        failed = [r for r in records if r.status in ONCE_FAILURES]
        if failed:
            print(
                f"hedgevault keeper --once: {len(failed)} of {len(records)} actions failed "
                f"({', '.join(sorted({f'{r.name or r.vault}: {r.status}' for r in failed}))}); see the log",
                file=sys.stderr,
            )
            return 1
        return 0
    keeper.run(stop)
    return 0
