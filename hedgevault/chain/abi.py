"""ABI helpers of the chain layer: a compiled function (``AbiFunction``: selector, calldata, decoded outputs),
a view call on a web3 contract (``Call``) and event logs decoded from raw JSON-RPC logs (``event_table``,
``decode_log``). Everything decodes with the compiled ABIs (by field name where a struct has names), never
through web3's middleware, so batched raw JSON-RPC answers decode the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from web3 import Web3
from web3.contract import Contract

from hedgevault.toolchain.compiler import compile_project


def abi_type(item: dict[str, Any]) -> str:
    """The canonical type of an ABI input/output (tuples spelled out: ``(uint256,address)[]``)."""
    if str(item["type"]).startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){str(item['type'])[5:]}"
    return str(item["type"])


def signature(item: dict[str, Any]) -> str:
    """``name(type,...)`` of an ABI function, event or error: what its selector / topic hashes."""
    return f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"


@cache
def artifact_abi(name: str) -> list[dict[str, Any]]:
    """The ABI of compiled contract ``name`` (the project's build, cached)."""
    return compile_project()[name].abi


@dataclass(frozen=True)
class AbiFunction:
    """One function of a compiled ABI: its selector, input types and output items."""

    name: str
    selector: bytes
    input_types: tuple[str, ...]
    outputs: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, abi: list[dict[str, Any]], name: str) -> AbiFunction:
        for item in abi:
            if item.get("type") == "function" and item.get("name") == name:
                types = tuple(abi_type(i) for i in item["inputs"])
                selector = Web3.keccak(text=signature(item))[:4]
                return cls(name, selector, types, tuple(item["outputs"]))
        raise KeyError(f"the compiled ABI has no function {name}")

    @property
    def output_types(self) -> list[str]:
        return [abi_type(o) for o in self.outputs]

    def calldata(self, *args: Any) -> bytes:
        return self.selector + encode(list(self.input_types), list(args))

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        return tuple(decode(self.output_types, data))


@cache
def _function_of(contract: Contract, name: str) -> AbiFunction:
    return AbiFunction.of([dict(item) for item in contract.abi], name)


@dataclass(frozen=True)
class Call:
    """A view call on a web3 contract: ``contract.name(*args)``; the arguments are encoded by web3 (checksum
    addresses, bytes from hex), the output decoded with the compiled ABI: one value, or a tuple of several."""

    contract: Contract
    name: str
    args: tuple[Any, ...] = ()

    @property
    def to(self) -> str:
        return str(self.contract.address)

    def data(self) -> bytes:
        return bytes.fromhex(str(self.contract.encode_abi(self.name, args=list(self.args))).removeprefix("0x"))

    def function(self) -> AbiFunction:
        return _function_of(self.contract, self.name)

    def decode(self, output: bytes) -> Any:
        values = self.function().decode_output(output)
        return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class EventAbi:
    """Enough of an event ABI to decode its logs."""

    name: str
    indexed: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]


def event_table(*contracts: Contract) -> dict[tuple[str, str], EventAbi]:
    """(lowercase address, topic0 hex without 0x) -> event, for every event of the given contracts."""
    table: dict[tuple[str, str], EventAbi] = {}
    for contract in contracts:
        for entry in contract.abi:
            item: dict[str, Any] = dict(entry)
            if item.get("type") != "event":
                continue
            types = [abi_type(i) for i in item["inputs"]]
            topic = Web3.keccak(text=signature(item)).hex().removeprefix("0x")
            indexed = tuple((i["name"], t) for i, t in zip(item["inputs"], types, strict=True) if i["indexed"])
            data = tuple((i["name"], t) for i, t in zip(item["inputs"], types, strict=True) if not i["indexed"])
            table[(contract.address.lower(), topic)] = EventAbi(str(item["name"]), indexed, data)
    return table


def decode_log(table: dict[tuple[str, str], EventAbi], log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(event name, arguments) of a raw JSON-RPC log from a contract in ``table``, else None."""
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
