"""The simulator's own sending: transactions from the dev chain's unlocked accounts (``eth_sendTransaction``)
with fixed gas and fees (no estimate or fee round trips), many at once with explicit nonces, optionally all in
one block mined at a given time. Few round trips per step is what keeps the demo fast. Reads, receipts and
revert decoding are the chain layer's (``hedgevault.chain.rpc.Rpc``)."""

from __future__ import annotations

from typing import Any

from web3.contract import Contract

from hedgevault.chain.abi import Call
from hedgevault.chain.rpc import Rpc

#: Gas limit of the simulator's own transactions (the chain charges only what is used).
TX_GAS = 5_000_000
#: Fee cap of the simulator's own transactions (wei per gas; Anvil's base fee starts at 1 gwei and falls).
MAX_FEE_WEI = 10 * 10**9


class DevRpc(Rpc):
    """``Rpc`` plus sending from the node's unlocked accounts (local dev chains only)."""

    def _tx(self, sender: str, to: str, data: bytes, *, value: int = 0, gas: int = TX_GAS) -> dict[str, Any]:
        return {
            "from": sender,
            "to": to,
            "data": "0x" + data.hex(),
            "gas": hex(gas),
            "maxFeePerGas": hex(MAX_FEE_WEI),
            "maxPriorityFeePerGas": "0x0",
            "value": hex(value),
            "chainId": hex(self.chain_id),
        }

    def send(self, sender: str, contract: Contract, name: str, *args: Any, value: int = 0) -> str:
        """Send ``contract.name(*args)`` from an unlocked account with fixed gas and fees and wait until it is
        mined (Anvil answers before it mines); return the hash (the step's receipts are read in one batch
        later, where a revert is caught)."""
        tx = self._tx(sender, str(contract.address), Call(contract, name, args).data(), value=value)
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
        # explicit nonces: the node takes a batch's requests concurrently
        nonce = self.nonce(sender, "pending")
        requests: list[tuple[str, list[Any]]] = []
        for k, (contract, name, args) in enumerate(calls):
            tx = self._tx(sender, str(contract.address), Call(contract, name, args).data())
            tx["nonce"] = hex(nonce + k)
            del tx["value"]
            requests.append(("eth_sendTransaction", [tx]))
        try:
            hashes = [str(h) for h in self.checked(requests)]
            if block_timestamp is not None:
                self.mine(block_timestamp)
        finally:
            if block_timestamp is not None:
                self.request("evm_setAutomine", [True])
        self.wait_mined(hashes[-1])
        return hashes

    def send_value(self, sender: str, to: str, value: int) -> str:
        tx = {"from": sender, "to": to, "value": hex(value), "gas": hex(21_000), "maxFeePerGas": hex(MAX_FEE_WEI)}
        return self.wait_mined(str(self.request("eth_sendTransaction", [tx])))

    def wait_mined(self, tx_hash: str, timeout_sec: float = 60.0) -> str:
        """Return ``tx_hash`` once its receipt exists."""
        self.wait_receipt(tx_hash, timeout_sec)
        return tx_hash
