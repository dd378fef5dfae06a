"""The keeper's chain adapter: encodes and decodes the vault's calls from the compiled ABI (by field
name, never by position), reads heads, and signs and broadcasts EIP-1559 transactions locally.

Nothing here decides anything; ``decisions.py`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_account.signers.local import LocalAccount
from web3 import Web3

from hedgevault.keeper.decisions import Fees
from hedgevault.keeper.rpc import Rpc, RpcError
from hedgevault.toolchain.compiler import compile_project


def _abi_type(item: dict[str, Any]) -> str:
    if str(item["type"]).startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){str(item['type'])[5:]}"
    return str(item["type"])


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
                types = tuple(_abi_type(i) for i in item["inputs"])
                selector = Web3.keccak(text=f"{name}({','.join(types)})")[:4]
                return cls(name, selector, types, tuple(item["outputs"]))
        raise KeyError(f"the compiled ABI has no function {name}")

    def calldata(self, *args: Any) -> bytes:
        return self.selector + encode(list(self.input_types), list(args))

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        return tuple(decode([_abi_type(o) for o in self.outputs], data))


@cache
def artifact_abi(name: str) -> list[dict[str, Any]]:
    """The ABI of compiled contract ``name`` (the project's build, cached)."""
    return compile_project()[name].abi


class VaultAbi:
    """The OptionVault calls the keeper makes, from the compiled ABI."""

    def __init__(self) -> None:
        abi = artifact_abi("OptionVault")
        self.check_upkeep = AbiFunction.of(abi, "checkUpkeep")
        self.perform_upkeep = AbiFunction.of(abi, "performUpkeep")
        self.book = AbiFunction.of(abi, "book")
        self.last_hedge_time = AbiFunction.of(abi, "lastHedgeTime")
        self.underlying = AbiFunction.of(abi, "underlying")
        self.price_oracle = AbiFunction.of(abi, "priceOracle")
        self.vol_oracle = AbiFunction.of(abi, "volOracle")
        self.live_series = AbiFunction.of(abi, "liveSeries")
        self.series = AbiFunction.of(abi, "series")
        self.report_outage = AbiFunction.of(abi, "reportOracleOutage")
        self.hedger = AbiFunction.of(abi, "hedger")
        self.can_short = AbiFunction.of(artifact_abi("AaveHedger"), "canShort")  # IHedger.canShort()
        self.check_upkeep_data = self.check_upkeep.calldata(b"")
        self.report_outage_data = self.report_outage.calldata()
        self.book_data = self.book.calldata()
        self.last_hedge_time_data = self.last_hedge_time.calldata()
        self._book_names = tuple(str(c["name"]) for c in self.book.outputs[0]["components"])

    def decode_check(self, data: bytes) -> tuple[bool, bytes]:
        needed, perform_data = self.check_upkeep.decode_output(data)
        return bool(needed), bytes(perform_data)

    def decode_book(self, data: bytes) -> dict[str, int]:
        """``book()`` as {ABI field name: value} (fields appended later by the contract are kept too)."""
        (values,) = self.book.decode_output(data)
        return {name: int(v) for name, v in zip(self._book_names, values, strict=True)}

    def decode_address(self, fn: AbiFunction, data: bytes) -> str:
        return str(Web3.to_checksum_address(fn.decode_output(data)[0]))


@dataclass(frozen=True)
class Head:
    """The latest block: number, timestamp (unix seconds) and base fee (wei per gas)."""

    number: int
    timestamp: int
    base_fee_wei: int


def read_head(rpc: Rpc) -> Head:
    block = rpc.request("eth_getBlockByNumber", ["latest", False])
    return Head(int(block["number"], 16), int(block["timestamp"], 16), int(block.get("baseFeePerGas", "0x0"), 16))


@dataclass(frozen=True)
class TxRequest:
    """What to send: call ``data`` on ``to`` with ``gas`` and ``value`` (wei)."""

    to: str
    data: bytes
    gas: int
    value: int = 0


class Signer:
    """Signs EIP-1559 transactions with a local account and broadcasts them raw (never eth_sendTransaction),
    so the same path works on Anvil and on testnets."""

    def __init__(self, rpc: Rpc, account: LocalAccount, chain_id: int) -> None:
        self.rpc = rpc
        self.account = account
        self.address = str(account.address)
        self.chain_id = chain_id

    def nonce(self, block: str) -> int:
        """The account's transaction count at ``block`` ("latest": mined; "pending": with the mempool)."""
        return int(str(self.rpc.request("eth_getTransactionCount", [self.address, block])), 16)

    def send(self, request: TxRequest, nonce: int, fees: Fees) -> str:
        """Sign and broadcast; return the hash (hex). Raises ``RpcError`` when the node refuses it (the
        message says why: nonce too low, replacement underpriced, insufficient funds ...)."""
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": request.to,
            "data": "0x" + request.data.hex(),
            "value": request.value,
            "gas": request.gas,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        try:
            self.rpc.request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        except RpcError as exc:
            if "already known" in exc.rpc_message.lower():  # a resend of the same bytes: fine
                return tx_hash
            raise
        return tx_hash

    def balance_wei(self) -> int:
        return int(str(self.rpc.request("eth_getBalance", [self.address, "latest"])), 16)


@dataclass(frozen=True)
class TxStatus:
    """What the node knows of a hash: a receipt (status, gas used, block), or whether it still knows the tx."""

    tx_hash: str
    known: bool
    mined: bool
    success: bool = False
    gas_used: int = 0
    block: int = 0


def tx_statuses(rpc: Rpc, hashes: list[str]) -> list[TxStatus]:
    """Receipts (and, for those without one, whether the node still has the transaction), batched."""
    receipts = rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
    out: list[TxStatus | None] = []
    missing: list[int] = []
    for i, (h, response) in enumerate(zip(hashes, receipts, strict=True)):
        receipt = response.get("result")
        if receipt:
            out.append(
                TxStatus(
                    h,
                    True,
                    True,
                    int(receipt["status"], 16) == 1,
                    int(receipt["gasUsed"], 16),
                    int(receipt["blockNumber"], 16),
                )
            )
        else:
            out.append(None)
            missing.append(i)
    if missing:
        found = rpc.batch([("eth_getTransactionByHash", [hashes[i]]) for i in missing])
        for i, response in zip(missing, found, strict=True):
            out[i] = TxStatus(hashes[i], bool(response.get("result")), False)
    return [s for s in out if s is not None]
