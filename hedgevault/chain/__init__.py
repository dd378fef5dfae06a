"""The chain layer: the one way hedgevault talks to a node. The commands, the keeper, the simulator and the
deployment all go through it.

* ``chain.node``: the node itself - start an embedded Anvil (default), a fork, or Ganache; attach to an RPC URL;
  dev-chain clock control (``warp``, ``freeze_clock``). Its names are re-exported here
  (``from hedgevault.chain import local_node, warp``).
* ``chain.abi``: compiled-ABI helpers - ``AbiFunction`` (selector, calldata, decoded outputs), ``Call`` (a view
  call on a web3 contract), ``event_table`` / ``decode_log`` (raw logs).
* ``chain.rpc``: raw, batched JSON-RPC - ``Rpc`` (batched eth_call reads with a decoded output or a ``Revert``
  per call, heads, receipts single and batched, replay of a reverted transaction), ``RpcUnavailable`` for a
  node that is down, ``RpcError`` for one that refuses.
* ``chain.sending``: EIP-1559 fees under a cap (``capped_fees``), local signing and raw broadcast (``Signer``,
  ``send_signed``), sending from unlocked dev accounts (``send``), ``TransactionReverted`` with the decoded
  reason.

Revert data is decoded by ``hedgevault.reverts`` (custom errors by name, arguments in user units).
"""

from __future__ import annotations

from hedgevault.chain.node import (
    EMBEDDED_GAS_LIMIT,
    PRUNE_HISTORY,
    Node,
    anvil_path,
    check_answers,
    free_port,
    freeze_clock,
    ganache_path,
    is_ganache,
    latest_timestamp,
    local_node,
    port_is_free,
    start_anvil,
    start_ganache,
    unfreeze_clock,
    wait_until_answers,
    warp,
)

__all__ = [
    "EMBEDDED_GAS_LIMIT",
    "PRUNE_HISTORY",
    "Node",
    "anvil_path",
    "check_answers",
    "free_port",
    "freeze_clock",
    "ganache_path",
    "is_ganache",
    "latest_timestamp",
    "local_node",
    "port_is_free",
    "start_anvil",
    "start_ganache",
    "unfreeze_clock",
    "wait_until_answers",
    "warp",
]
