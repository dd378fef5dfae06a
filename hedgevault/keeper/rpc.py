"""Raw JSON-RPC for the keeper: batched calls (one HTTP request for every vault's views), revert data
kept per call, and a single exception for "the node is not answering" so the loop can back off.

Web3's middleware is bypassed on purpose: the keeper signs locally and decodes with the compiled ABIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from web3 import Web3
from web3.types import RPCEndpoint

from hedgevault.errors import ChainError
from hedgevault.reverts import describe_data, error_table


class RpcUnavailable(ChainError):
    """The node did not answer (connection refused, reset or timed out): retry later."""


class RpcError(ChainError):
    """The node answered with an error that is not a revert (e.g. a refused transaction)."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"{method}: {message}")
        self.rpc_message = message


@dataclass(frozen=True)
class Revert:
    """A revert: its raw data, the error's name (``"Error"``, ``"Panic"``, a custom error name or
    ``"unknown"``) and a readable description with the decoded arguments."""

    data: bytes
    name: str
    text: str


def revert_from_data(data: bytes) -> Revert:
    """Name and describe revert data with the project's compiled ABIs."""
    text = describe_data(data)
    if not data:
        name = "empty"
    elif data[:4] == bytes.fromhex("08c379a0"):
        name = "Error"
    elif data[:4] == bytes.fromhex("4e487b71"):
        name = "Panic"
    elif data[:4] in error_table():
        name = error_table()[data[:4]][0]
    else:
        name = "unknown"
    return Revert(data, name, text)


@dataclass(frozen=True)
class CallResult:
    """One eth_call: ``output`` when it returned, ``revert`` when it reverted."""

    output: bytes | None
    revert: Revert | None


def _hex_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            return b""
    return b""


def _revert_of(error: dict[str, Any]) -> Revert | None:
    """A JSON-RPC error object -> Revert when it is an execution revert (Anvil: code 3 with data)."""
    message = str(error.get("message", ""))
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest it
        data = data.get("data")
    if error.get("code") == 3 or "revert" in message.lower():
        return revert_from_data(_hex_bytes(data))
    return None


class Rpc:
    """JSON-RPC over the provider of ``w3`` (batched when the provider supports it)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._provider: Any = w3.provider

    def _raw(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        try:
            response = self._provider.make_request(RPCEndpoint(method), list(params))
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RpcUnavailable(f"node not answering ({type(exc).__name__}): {exc}") from None
        return dict(response)

    def request(self, method: str, params: Sequence[Any]) -> Any:
        """One call; raises ``RpcError`` on an error answer (reverts included), ``RpcUnavailable`` when down."""
        response = self._raw(method, params)
        if "error" in response:
            error = response["error"]
            raise RpcError(method, str(error.get("message", error)) if isinstance(error, dict) else str(error))
        return response.get("result")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        """Several calls in one HTTP request (one by one when the provider cannot batch); raw responses."""
        if not calls:
            return []
        if len(calls) == 1 or not hasattr(self._provider, "make_batch_request"):
            return [self._raw(m, p) for m, p in calls]
        try:
            responses = self._provider.make_batch_request([(RPCEndpoint(m), list(p)) for m, p in calls])
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RpcUnavailable(f"node not answering ({type(exc).__name__}): {exc}") from None
        if not isinstance(responses, list) or len(responses) != len(calls):
            # a node that refuses batches answers with one error object: fall back to single calls
            return [self._raw(m, p) for m, p in calls]
        return [dict(r) for r in responses]

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
        that one vault's failure never stops the others."""
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
                revert = _revert_of(error) if isinstance(error, dict) else None
                if revert is None:
                    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
                    revert = Revert(b"", "node_error", f"the node refused the call: {message}")
                out.append(CallResult(None, revert))
            else:
                out.append(CallResult(_hex_bytes(response.get("result")), None))
        return out

    def estimate_gas(self, *, sender: str, to: str, data: bytes, block: str = "latest") -> int | Revert:
        """eth_estimateGas at ``block``, or the revert that made it fail."""
        response = self._raw("eth_estimateGas", [{"from": sender, "to": to, "data": "0x" + data.hex()}, block])
        if "error" in response:
            error = response["error"]
            revert = _revert_of(error) if isinstance(error, dict) else None
            if revert is None:
                raise RpcError("eth_estimateGas", str(error))
            return revert
        return int(str(response["result"]), 16)
