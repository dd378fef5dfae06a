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
    try:
        deploy_on(args, web3)
    except HedgevaultError as exc:
        print(f"scripts/deploy.py: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
