"""The compiled portfolio libraries on a node, through ``PortfolioHarness``: batched eth_calls whose
results compare one to one with :mod:`hedgevault.portfolio.mirror` (values, or the exact revert bytes).

The batches are ABI-encoded with eth_abi directly: web3's contract-call formatting of nested structs costs
about 15 ms per verification input, more than the node's execution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from hedgevault.portfolio.mirror import CorrWords, TargetRules
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

#: PSD inputs as (correlation words, n, tolerance bp).
PsdInput = tuple[CorrWords, int, int]
#: Verification inputs as (weights wad, covariance wad n x n, rules).
VerifyInput = tuple[Sequence[int], Sequence[int], TargetRules]

_CALL_GAS = 900_000_000
_RULES = "(uint8,uint256[],uint256[],uint256,uint256,uint256[],uint256)"
_PSD_BATCH = "batchCheckPsd((uint256[2],uint256,uint256)[])"
_VERIFY_BATCH = f"batchVerify((int256[],int256[],{_RULES})[])"


@dataclass
class PortfolioHarness:
    """A deployed ``PortfolioHarness`` and the web3 handle to it."""

    w3: Web3
    contract: Contract

    @classmethod
    def deploy(cls, w3: Web3) -> PortfolioHarness:
        return cls(w3=w3, contract=deploy(w3, compile_project()["PortfolioHarness"]))

    def _call(self, fn: Any) -> Any:
        return fn.call({"gas": _CALL_GAS})

    def _raw_call(self, signature: str, args: Any, returns: list[str]) -> tuple[Any, ...]:
        inner = signature[signature.index("(") + 1 : -1]  # the one parameter: an array of tuples
        data = keccak(text=signature)[:4] + encode([inner], [args])
        answer = self.w3.eth.call({"to": self.contract.address, "data": data, "gas": _CALL_GAS})
        return tuple(decode(returns, bytes(answer)))

    def check_psd(self, inputs: Sequence[PsdInput]) -> list[bytes]:
        """Each input's revert data (b"" when the matrix passed)."""
        args = [(list(words), n, tol) for words, n, tol in inputs]
        (reverts,) = self._raw_call(_PSD_BATCH, args, ["bytes[]"])
        return [bytes(r) for r in reverts]

    def verify(self, inputs: Sequence[VerifyInput]) -> list[int | bytes]:
        """Each input's volatility (wad), or its revert data."""
        args = [(list(w), list(c), r.as_tuple()) for w, c, r in inputs]
        reverts, vols = self._raw_call(_VERIFY_BATCH, args, ["bytes[]", "uint256[]"])
        return [bytes(r) if r else int(v) for r, v in zip(reverts, vols, strict=True)]

    def gas_check_psd(self, words: CorrWords, n: int, tol_bp: int) -> int:
        """Gas of ``CovarianceMath.checkPsd`` alone."""
        return int(self._call(self.contract.functions.gasCheckPsd(list(words), n, tol_bp)))

    def gas_verify(self, weights_wad: Sequence[int], cov_wad: Sequence[int], rules: TargetRules) -> int:
        """Gas of ``PortfolioMath.verify`` alone (inputs already in memory)."""
        fn = self.contract.functions.gasVerify(list(weights_wad), list(cov_wad), rules.as_tuple())
        return int(self._call(fn))
