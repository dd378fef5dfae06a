"""Lean JSON-RPC access for the simulator: batched ``eth_call`` reads, transactions from unlocked local
accounts with fixed gas and fees (no estimate or fee round trips), receipts of a block range in one
batch, and log decoding. Few round trips per step is what keeps the demo fast."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.abi import get_abi_output_types
from web3 import Web3
from web3.contract import Contract

from hedgevault.reverts import describe_data
from hedgevault.sim.errors import SimulationError

#: Gas limit of the simulator's own transactions (the chain charges only what is used).
TX_GAS = 5_000_000
#: Fee cap of the simulator's own transactions (wei per gas; Anvil's base fee starts at 1 gwei and falls).
MAX_FEE_WEI = 10 * 10**9


@dataclass(frozen=True)
class Call:
    """A view call: ``contract.name(*args)``."""

    contract: Contract
    name: str
    args: tuple[Any, ...] = ()

    def data(self) -> str:
        return str(self.contract.encode_abi(self.name, args=list(self.args)))

    def output_types(self) -> list[str]:
        fn = self.contract.get_function_by_name(self.name)
        return list(get_abi_output_types(fn.abi))


class Reverted(Exception):
    """An ``eth_call`` reverted; ``name`` is the custom error's name (or a short description)."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


def _revert_name(error: dict[str, Any]) -> Reverted:
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        detail = describe_data(data)
        return Reverted(detail.split("(", 1)[0], detail)
    message = str(error.get("message", "reverted"))
    return Reverted(message, message)


class Rpc:
    """Raw JSON-RPC over the web3 provider."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.provider = w3.provider
        self.chain_id = int(w3.eth.chain_id)

    def request(self, method: str, params: list[Any]) -> Any:
        response = self.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise SimulationError(f"{method} failed: {response['error']}")
        return response["result"]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Send ``requests`` in one HTTP round trip; responses in the same order (each has result or error)."""
        if not requests:
            return []
        responses = self.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        if isinstance(responses, dict):  # the node refused the whole batch
            raise SimulationError(f"batch request failed: {responses.get('error', responses)}")
        ordered = sorted(responses, key=lambda r: int(r["id"]))
        return [dict(r) for r in ordered]

    def calls(self, calls: list[Call], sender: str | None = None, block: int | None = None) -> list[Any]:
        """Batched view calls at ``block`` (a number: the state after that block, at its timestamp; None:
        ``latest``); a revert raises ``Reverted``."""
        requests: list[tuple[str, list[Any]]] = []
        tag = "latest" if block is None else hex(block)
        for c in calls:
            tx: dict[str, Any] = {"to": c.contract.address, "data": c.data()}
            if sender is not None:
                tx["from"] = sender
            requests.append(("eth_call", [tx, tag]))
        out: list[Any] = []
        for c, response in zip(calls, self.batch(requests), strict=True):
            if "error" in response:
                raise _revert_name(response["error"])
            values = decode(c.output_types(), bytes.fromhex(str(response["result"])[2:]))
            out.append(values[0] if len(values) == 1 else values)
        return out

    def call(self, call: Call, sender: str | None = None) -> Any:
        return self.calls([call], sender)[0]

    def simulate(self, sender: str, contract: Contract, name: str, *args: Any) -> Reverted | None:
        """``eth_call`` the transaction as ``sender``: None if it would succeed, else the revert."""
        tx = {"from": sender, "to": contract.address, "data": contract.encode_abi(name, args=list(args))}
        response = self.provider.make_request("eth_call", [tx, "latest"])  # type: ignore[arg-type]
        if "error" in response:
            return _revert_name(dict(response["error"]))
        return None

    def send(self, sender: str, contract: Contract, name: str, *args: Any, value: int = 0) -> str:
        """Send from an unlocked account with fixed gas and fees and wait until it is mined (Anvil answers
        before it mines); return the hash (the step's receipts are read in one batch later, where a revert
        is caught)."""
        tx = {
            "from": sender,
            "to": contract.address,
            "data": contract.encode_abi(name, args=list(args)),
            "gas": hex(TX_GAS),
            "maxFeePerGas": hex(MAX_FEE_WEI),
            "maxPriorityFeePerGas": "0x0",
            "value": hex(value),
            "chainId": hex(self.chain_id),
        }
        return self.wait_mined(str(self.request("eth_sendTransaction", [tx])))

    def send_many(
        self, sender: str, calls: list[tuple[Contract, str, tuple[Any, ...]]], *, block_timestamp: int | None = None
    ) -> list[str]:
        """Send ``calls`` (contract, function, args) from one unlocked account in one batched round trip and
        wait until the last is mined: one block each (automine), or with ``block_timestamp`` all in one block
        mined at that time (automine is switched off for the batch and on again)."""
        if not calls:
            if block_timestamp is not None:
                self.mine(block_timestamp)
            return []
        if block_timestamp is not None:
            self.request("evm_setAutomine", [False])
        requests: list[tuple[str, list[Any]]] = []
        # explicit nonces: the node takes a batch's requests concurrently
        nonce = int(self.request("eth_getTransactionCount", [sender, "pending"]), 16)
        for k, (contract, name, args) in enumerate(calls):
            tx = {
                "from": sender,
                "nonce": hex(nonce + k),
                "to": contract.address,
                "data": contract.encode_abi(name, args=list(args)),
                "gas": hex(TX_GAS),
                "maxFeePerGas": hex(MAX_FEE_WEI),
                "maxPriorityFeePerGas": "0x0",
                "chainId": hex(self.chain_id),
            }
            requests.append(("eth_sendTransaction", [tx]))
        hashes = []
        try:
            for response in self.batch(requests):
                if "error" in response:
                    raise SimulationError(f"eth_sendTransaction failed: {response['error']}")
                hashes.append(str(response["result"]))
            if block_timestamp is not None:
                self.mine(block_timestamp)
        finally:
            if block_timestamp is not None:
                self.request("evm_setAutomine", [True])
        self.wait_mined(hashes[-1])
        return hashes

    def wait_mined(self, tx_hash: str, timeout_sec: float = 60.0) -> str:
        """Return ``tx_hash`` once its receipt exists."""
        deadline = time.monotonic() + timeout_sec
        delay = 0.001
        while self.request("eth_getTransactionReceipt", [tx_hash]) is None:
            if time.monotonic() > deadline:
                raise SimulationError(f"transaction {tx_hash} was not mined within {timeout_sec:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return tx_hash

    def send_value(self, sender: str, to: str, value: int) -> str:
        tx = {"from": sender, "to": to, "value": hex(value), "gas": hex(21_000), "maxFeePerGas": hex(MAX_FEE_WEI)}
        return self.wait_mined(str(self.request("eth_sendTransaction", [tx])))

    def block_number(self) -> int:
        return int(self.request("eth_blockNumber", []), 16)

    def block_timestamp(self, number: int) -> int:
        """Timestamp (unix seconds) of block ``number``."""
        return int(self.request("eth_getBlockByNumber", [hex(number), False])["timestamp"], 16)

    def receipts(self, first_block: int, last_block: int) -> list[dict[str, Any]]:
        """Every receipt of blocks ``first_block..last_block``, in order (one batched round trip)."""
        requests: list[tuple[str, list[Any]]] = [
            ("eth_getBlockReceipts", [hex(b)]) for b in range(first_block, last_block + 1)
        ]
        out: list[dict[str, Any]] = []
        for response in self.batch(requests):
            if "error" in response:
                raise SimulationError(f"eth_getBlockReceipts failed: {response['error']}")
            out.extend(response["result"] or [])
        return out

    def set_next_timestamp(self, timestamp: int) -> None:
        self.request("evm_setNextBlockTimestamp", [timestamp])

    def mine(self, timestamp: int) -> None:
        """Mine an empty block at ``timestamp``."""
        self.batch([("evm_setNextBlockTimestamp", [timestamp]), ("evm_mine", [])])


@dataclass(frozen=True)
class EventAbi:
    """Enough of an event ABI to decode its logs."""

    name: str
    indexed: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]


def event_table(*contracts: Contract) -> dict[tuple[str, str], EventAbi]:
    """(lowercase address, topic0 hex) -> event, for every event of the given contracts."""
    table: dict[tuple[str, str], EventAbi] = {}
    for contract in contracts:
        for entry in contract.abi:
            item: dict[str, Any] = dict(entry)
            if item.get("type") != "event":
                continue
            types = [_type(i) for i in item["inputs"]]
            topic = Web3.keccak(text=f"{item['name']}({','.join(types)})").hex().removeprefix("0x")
            indexed = tuple((i["name"], t) for i, t in zip(item["inputs"], types, strict=True) if i["indexed"])
            data = tuple((i["name"], t) for i, t in zip(item["inputs"], types, strict=True) if not i["indexed"])
            table[(contract.address.lower(), topic)] = EventAbi(str(item["name"]), indexed, data)
    return table


def _type(item: dict[str, Any]) -> str:
    if str(item["type"]).startswith("tuple"):
        inner = ",".join(_type(c) for c in item["components"])
        return f"({inner}){str(item['type'])[5:]}"
    return str(item["type"])


def decode_log(table: dict[tuple[str, str], EventAbi], log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(event name, arguments) of a raw log from a known contract, else None."""
    topics = log["topics"]
    if not topics:
        return None
    event = table.get((str(log["address"]).lower(), str(topics[0]).removeprefix("0x")))
    if event is None:
        return None
    args: dict[str, Any] = {}
    for (name, typ), topic in zip(event.indexed, topics[1:], strict=True):
        args[name] = decode([typ], bytes.fromhex(str(topic)[2:]))[0]
    values = decode([t for _, t in event.data], bytes.fromhex(str(log["data"])[2:]))
    args.update({name: v for (name, _), v in zip(event.data, values, strict=True)})
    return event.name, args
