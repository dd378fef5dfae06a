"""Raw JSON-RPC: the one way hedgevault reads the chain in bulk.

* ``Rpc.batch``: several requests in one HTTP round trip (one by one when the node cannot batch).
* ``Rpc.eth_calls`` / ``Rpc.results`` / ``Rpc.calls``: batched ``eth_call`` reads; a revert is kept per call
  (``Revert``: the custom error's name and its arguments, readable in user units with ``Revert.describe``)
  or raised (``Reverted``) when the caller wants all or nothing.
* ``Rpc.create_access_list`` (EIP-2930, ``AccessEntry``; ``access_list_json`` for requests and transactions),
  ``Rpc.estimate_gas`` (with or without a list).
* ``Rpc.head``, ``Rpc.receipts`` (a block range in one batch), ``Rpc.tx_statuses`` (many hashes in one
  batch), ``Rpc.wait_receipt`` (one), ``Rpc.replay`` (why a mined transaction reverted).
* ``RpcUnavailable``: the node does not answer (refused at once, no retries here: the caller decides when to
  try again); ``RpcError``: it answered with an error that is not a revert.

Web3's middleware is bypassed on purpose: the answers are decoded with the compiled ABIs (``chain.abi``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import requests
from web3 import Web3
from web3.contract import Contract
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from hedgevault.chain.abi import Call
from hedgevault.errors import ChainError, HedgevaultError
from hedgevault.reverts import describe_data, error_name

#: One EIP-2930 access-list entry: (account address, its storage keys as 0x-prefixed 32-byte hex).
AccessEntry = tuple[str, tuple[str, ...]]


def access_list_json(entries: Sequence[AccessEntry]) -> list[dict[str, Any]]:
    """The JSON-RPC / eth-account form of an access list."""
    return [{"address": address, "storageKeys": list(keys)} for address, keys in entries]


class RpcUnavailable(ChainError):
    """The node did not answer (connection refused, reset or timed out): retry later."""


class RpcError(ChainError):
    """The node answered with an error that is not a revert (e.g. a refused transaction)."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"{method}: {message}")
        self.rpc_message = message


@dataclass(frozen=True)
class Revert:
    """A revert: its raw data, the error's name (``"Error"``, ``"Panic"``, a custom error's name, ``"empty"``
    without data, ``"unknown"`` for a selector no compiled ABI declares, ``"node_error"`` when the node refused
    the call for another reason) and a readable description with the decoded arguments."""

    data: bytes
    name: str
    text: str

    @classmethod
    def of_data(cls, data: bytes) -> Revert:
        """Name and describe revert data with the project's compiled ABIs."""
        return cls(data, error_name(data), describe_data(data))

    def describe(self, quote_decimals: int | None = None) -> str:
        """``Name(arg=value, ...)`` with quote amounts in tokens and wad values as decimals (user units) when
        ``quote_decimals`` is given (``hedgevault.reverts.describe_data``)."""
        if self.name == "node_error":
            return self.text
        return describe_data(self.data, quote_decimals)


class Reverted(HedgevaultError):
    """A call reverted (``Rpc.calls``, ``Rpc.call``); ``revert`` says how."""

    def __init__(self, revert: Revert) -> None:
        super().__init__(revert.text)
        self.revert = revert

    @property
    def name(self) -> str:
        return self.revert.name

    @property
    def detail(self) -> str:
        return self.revert.text


def hex_bytes(value: object) -> bytes:
    """``0x``-hex (or bytes) as bytes; anything else, or malformed hex, as ``b""``."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            return b""
    return b""


def revert_of_error(error: object) -> Revert | None:
    """A JSON-RPC error object -> ``Revert`` when it is an execution revert (Anvil: code 3 with data; other
    nodes: a message that says "revert", the data possibly nested), else None."""
    if not isinstance(error, dict):
        return None
    message = str(error.get("message", ""))
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest it
        data = data.get("data")
    if error.get("code") == 3 or "revert" in message.lower():
        return Revert.of_data(hex_bytes(data))
    return None


def _error_text(error: object) -> str:
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


@dataclass(frozen=True)
class CallResult:
    """One eth_call: ``output`` when it returned, ``revert`` when it reverted."""

    output: bytes | None
    revert: Revert | None


@dataclass(frozen=True)
class Head:
    """The latest block: number, timestamp (unix seconds) and base fee (wei per gas)."""

    number: int
    timestamp: int
    base_fee_wei: int


@dataclass(frozen=True)
class TxStatus:
    """What the node knows of a hash: a receipt (status, gas used, block), or whether it still knows the tx."""

    tx_hash: str
    known: bool
    mined: bool
    success: bool = False
    gas_used: int = 0
    block: int = 0


def _without_retries(provider: Any) -> Any:
    """An HTTP provider for the same endpoint that does not retry: a node that times out is reported after one
    timeout (web3's default retries a read that timed out five times, with backoff)."""
    if isinstance(provider, HTTPProvider) and provider.exception_retry_configuration is not None:
        kwargs = dict(provider.get_request_kwargs())
        kwargs.pop("headers", None)  # set again by the provider
        return HTTPProvider(provider.endpoint_uri, request_kwargs=kwargs, exception_retry_configuration=None)
    return provider


class Rpc:
    """JSON-RPC over the provider of ``w3`` (batched when the provider supports it)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.provider: Any = _without_retries(w3.provider)

    @classmethod
    def connect(cls, url: str, timeout_sec: float = 10.0) -> Rpc:
        return cls(Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_sec}, exception_retry_configuration=None)))

    @cached_property
    def chain_id(self) -> int:
        return int(str(self.request("eth_chainId", [])), 16)

    # -- raw requests -------------------------------------------------------------------------------------

    def _raw(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        try:
            response = self.provider.make_request(RPCEndpoint(method), list(params))
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RpcUnavailable(f"node not answering ({type(exc).__name__}): {exc}") from None
        return dict(response)

    def request(self, method: str, params: Sequence[Any]) -> Any:
        """One call; raises ``RpcError`` on an error answer (reverts included), ``RpcUnavailable`` when down."""
        response = self._raw(method, params)
        if "error" in response:
            raise RpcError(method, _error_text(response["error"]))
        return response.get("result")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        """Several calls in one HTTP request (one by one when the provider cannot batch); raw responses, in
        the order of ``calls`` (each has ``result`` or ``error``)."""
        if not calls:
            return []
        if len(calls) == 1 or not hasattr(self.provider, "make_batch_request"):
            return [self._raw(m, p) for m, p in calls]
        try:
            responses = self.provider.make_batch_request([(RPCEndpoint(m), list(p)) for m, p in calls])
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RpcUnavailable(f"node not answering ({type(exc).__name__}): {exc}") from None
        if not isinstance(responses, list) or len(responses) != len(calls):
            # a node that refuses batches answers with one error object: fall back to single calls
            return [self._raw(m, p) for m, p in calls]
        out = [dict(r) for r in responses]
        if all(isinstance(r.get("id"), int) for r in out):
            out.sort(key=lambda r: int(r["id"]))  # the ids count up in request order
        return out

    def checked(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """``batch`` whose answers must all be results (``RpcError`` names the first that is not)."""
        out = []
        for (method, _), response in zip(calls, self.batch(calls), strict=True):
            if "error" in response:
                raise RpcError(method, _error_text(response["error"]))
            out.append(response.get("result"))
        return out

    # -- reads ---------------------------------------------------------------------------------------------

    def eth_calls(
        self,
        calls: Sequence[tuple[str, bytes]],
        *,
        sender: str | None = None,
        block: str = "latest",
        gas: Sequence[int] | None = None,
    ) -> list[CallResult]:
        """eth_call each (to, data) at ``block`` (with ``gas[i]`` when given, else the node's default). A
        revert is a result; so is any other error of one call (named ``node_error``, e.g. out of gas), so
        that one call's failure never stops the others."""
        requests_: list[tuple[str, Sequence[Any]]] = []
        for i, (to, data) in enumerate(calls):
            tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
            if sender is not None:
                tx["from"] = sender
            if gas is not None and gas[i] > 0:
                tx["gas"] = hex(gas[i])
            requests_.append(("eth_call", [tx, block]))
        out = []
        for response in self.batch(requests_):
            if "error" in response:
                error = response["error"]
                revert = revert_of_error(error)
                if revert is None:
                    revert = Revert(b"", "node_error", f"the node refused the call: {_error_text(error)}")
                out.append(CallResult(None, revert))
            else:
                out.append(CallResult(hex_bytes(response.get("result")), None))
        return out

    def results(self, calls: Sequence[Call], sender: str | None = None, block: int | None = None) -> list[Any]:
        """Batched view calls at ``block`` (a number: the state after that block; None: ``latest``): each
        call's decoded output (one value, or a tuple), or its ``Revert``."""
        tag = "latest" if block is None else hex(block)
        answers = self.eth_calls([(c.to, c.data()) for c in calls], sender=sender, block=tag)
        return [
            a.revert if a.revert is not None else c.decode(a.output or b"") for c, a in zip(calls, answers, strict=True)
        ]

    def calls(self, calls: Sequence[Call], sender: str | None = None, block: int | None = None) -> list[Any]:
        """``results``, all or nothing: the first revert raises ``Reverted``."""
        out = self.results(calls, sender, block)
        for value in out:
            if isinstance(value, Revert):
                raise Reverted(value)
        return out

    def call(self, call: Call, sender: str | None = None) -> Any:
        return self.calls([call], sender)[0]

    def simulate(self, sender: str, contract: Contract, name: str, *args: Any) -> Revert | None:
        """``eth_call`` the transaction ``contract.name(*args)`` as ``sender``: None if it would succeed, else
        the revert."""
        call = Call(contract, name, args)
        response = self._raw("eth_call", [{"from": sender, "to": call.to, "data": "0x" + call.data().hex()}, "latest"])
        if "error" in response:
            return revert_of_error(response["error"]) or Revert(
                b"", "node_error", f"the node refused the call: {_error_text(response['error'])}"
            )
        return None

    def estimate_gas(
        self,
        *,
        sender: str,
        to: str,
        data: bytes,
        block: str = "latest",
        access_list: Sequence[AccessEntry] = (),
    ) -> int | Revert:
        """eth_estimateGas at ``block`` (with the EIP-2930 ``access_list`` when given), or the revert that made
        it fail."""
        tx: dict[str, Any] = {"from": sender, "to": to, "data": "0x" + data.hex()}
        if access_list:
            tx["accessList"] = access_list_json(access_list)
        response = self._raw("eth_estimateGas", [tx, block])
        if "error" in response:
            revert = revert_of_error(response["error"])
            if revert is None:
                raise RpcError("eth_estimateGas", _error_text(response["error"]))
            return revert
        return int(str(response["result"]), 16)

    def create_access_list(self, *, sender: str, to: str, data: bytes, block: str = "latest") -> list[AccessEntry]:
        """eth_createAccessList at ``block``: the accounts and storage keys the call touches (EIP-2930), as the node
        gives them. Raises ``RpcError`` when the node refuses (no such method, the call reverts, an answer that
        is not an access list)."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex()}
        result = self.request("eth_createAccessList", [tx, block])
        try:
            if result.get("error"):  # geth answers a reverting call with the list so far and its error
                raise RpcError("eth_createAccessList", str(result["error"]))
            return [
                (str(entry["address"]), tuple(str(key) for key in entry.get("storageKeys") or ()))
                for entry in result["accessList"]
            ]
        except (AttributeError, KeyError, TypeError) as exc:
            raise RpcError("eth_createAccessList", f"not an access list: {result!r:.200}") from exc

    def head(self) -> Head:
        block = self.request("eth_getBlockByNumber", ["latest", False])
        return Head(int(block["number"], 16), int(block["timestamp"], 16), int(block.get("baseFeePerGas", "0x0"), 16))

    def block_number(self) -> int:
        return int(str(self.request("eth_blockNumber", [])), 16)

    def block_timestamp(self, number: int) -> int:
        """Timestamp (unix seconds) of block ``number``."""
        return int(self.request("eth_getBlockByNumber", [hex(number), False])["timestamp"], 16)

    def nonce(self, address: str, block: str = "pending") -> int:
        """The account's transaction count at ``block`` ("latest": mined; "pending": with the mempool)."""
        return int(str(self.request("eth_getTransactionCount", [address, block])), 16)

    def balance_wei(self, address: str) -> int:
        return int(str(self.request("eth_getBalance", [address, "latest"])), 16)

    # -- receipts ------------------------------------------------------------------------------------------

    def receipts(self, first_block: int, last_block: int) -> list[dict[str, Any]]:
        """Every receipt of blocks ``first_block..last_block``, in order (one batched round trip)."""
        answers = self.checked([("eth_getBlockReceipts", [hex(b)]) for b in range(first_block, last_block + 1)])
        return [receipt for block in answers for receipt in block or []]

    def wait_receipt(self, tx_hash: str, timeout_sec: float = 120.0) -> dict[str, Any]:
        """The raw receipt of ``tx_hash`` once it is mined (polling from 1 ms up to 50 ms apart; Anvil answers
        a send before it mines); ``ChainError`` after ``timeout_sec``."""
        deadline = time.monotonic() + timeout_sec
        delay = 0.001
        while (receipt := self.request("eth_getTransactionReceipt", [tx_hash])) is None:
            if time.monotonic() > deadline:
                raise ChainError(f"transaction {tx_hash} was not mined within {timeout_sec:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return dict(receipt)

    def tx_statuses(self, hashes: Sequence[str]) -> list[TxStatus]:
        """Receipts (and, for those without one, whether the node still has the transaction), batched."""
        receipts = self.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        out: list[TxStatus | None] = []
        missing: list[int] = []
        for i, (h, response) in enumerate(zip(hashes, receipts, strict=True)):
            receipt = response.get("result")
            if receipt:
                status = int(receipt["status"], 16) == 1
                out.append(
                    TxStatus(h, True, True, status, int(receipt["gasUsed"], 16), int(receipt["blockNumber"], 16))
                )
            else:
                out.append(None)
                missing.append(i)
        if missing:
            found = self.batch([("eth_getTransactionByHash", [hashes[i]]) for i in missing])
            for i, response in zip(missing, found, strict=True):
                out[i] = TxStatus(hashes[i], bool(response.get("result")), False)
        return [s for s in out if s is not None]

    def replay(self, tx_hash: str, block: int | None = None) -> Revert:
        """Why the mined transaction ``tx_hash`` reverted: it is called again on the state before its block
        (exact for a transaction alone in its block, as on an automining node). ``block`` is the block it was
        mined in, from its receipt; without it, the node's record of the transaction says."""
        tx = self.request("eth_getTransactionByHash", [tx_hash])
        if tx is None:
            return Revert(b"", "unknown", f"the node does not know transaction {tx_hash}")
        if block is None:
            if tx.get("blockNumber") is None:
                return Revert(b"", "unknown", f"transaction {tx_hash} is not mined yet: nothing to replay")
            block = int(tx["blockNumber"], 16)
        call = {key: tx[key] for key in ("from", "to", "input", "value", "gas") if tx.get(key) is not None}
        call["data"] = call.pop("input", "0x")
        before = hex(max(block - 1, 0))
        response = self._raw("eth_call", [call, before])
        if "error" in response:
            return revert_of_error(response["error"]) or Revert(b"", "node_error", _error_text(response["error"]))
        return Revert(b"", "unknown", "reverted, but not when replayed on the state before its block")

    # -- local dev chains (Anvil) --------------------------------------------------------------------------

    def set_next_timestamp(self, timestamp: int) -> None:
        self.request("evm_setNextBlockTimestamp", [timestamp])

    def mine(self, timestamp: int) -> None:
        """Mine an empty block at ``timestamp``."""
        self.checked([("evm_setNextBlockTimestamp", [timestamp]), ("evm_mine", [])])
