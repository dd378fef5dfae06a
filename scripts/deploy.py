"""Deploy the suite with brownie: ``brownie run scripts/deploy.py --network <id>``.

The same deployment code as ``hedgevault deploy`` (hedgevault.deployment) runs over brownie's web3
connection to the network brownie chose: transactions are signed locally with hedgevault's key (never
brownie's account store), and the manifest is written and verified the same way. The options of
``hedgevault deploy`` other than the chain go in the environment variable ``HEDGEVAULT_DEPLOY_ARGS``, e.g.

    HEDGEVAULT_DEPLOY_ARGS="--config deployments/example.yaml --manifest /tmp/m.json" \\
        brownie run scripts/deploy.py --network hedgevault-local

Keys as for ``hedgevault deploy``: ``--keystore`` or ``HEDGEVAULT_PRIVATE_KEY``; on a dev chain (id 31337 or
1337) Anvil's development account 0 by default. See docs/deployment.md for adding a network to brownie.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from brownie import network, web3

from hedgevault.deployment.cli import add_deploy_options, deploy_on
from hedgevault.errors import HedgevaultError


def main() -> None:
    parser = argparse.ArgumentParser(prog="HEDGEVAULT_DEPLOY_ARGS", description=__doc__)
    add_deploy_options(parser)
    args = parser.parse_args(shlex.split(os.environ.get("HEDGEVAULT_DEPLOY_ARGS", "")))
    args.rpc_url = network.show_active()
    print(f"brownie network {network.show_active()}, chain id {web3.chain_id}")
    # brownie installs a legacy gas-price strategy on its web3; with one set, web3 adds gasPrice to the
    # EIP-1559 transactions hedgevault builds (maxFeePerGas), which then cannot be signed. This script sends
    # nothing through brownie, so it removes the strategy for its run.
    web3.eth.set_gas_price_strategy(None)
    _drop_request_cache()
    try:
        deploy_on(args, web3)
    except HedgevaultError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - a message, not brownie's traceback of the script
        _fail(f"unexpected {type(exc).__name__}: {exc} (a bug: please report it)")


def _drop_request_cache() -> None:
    """brownie switches on its request-caching middleware for any network whose last 50 blocks span 250 s
    (every real testnet); it serves stale answers (a transaction count) and the next transaction fails
    `nonce too low`. hedgevault reads fresh state on every call, so the cache goes for this run."""
    from brownie.network.middlewares.caching import RequestCachingMiddleware

    for builder, middleware in list(web3._custom_middleware):
        if isinstance(middleware, RequestCachingMiddleware):
            web3.middleware_onion.remove(builder)
            middleware.uninstall()
            web3._custom_middleware.remove((builder, middleware))


def _fail(message: str) -> None:
    """One line on stderr and exit 2, without brownie's traceback (brownie prints one for any exception a
    script raises, SystemExit included): the network is disconnected first, then the process ends."""
    print(f"scripts/deploy.py: {' '.join(message.split())}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    if network.is_connected():
        network.disconnect()
    os._exit(2)
