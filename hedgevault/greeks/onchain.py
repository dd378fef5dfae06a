"""The compiled library on a node, through ``BlackScholesHarness``: batched eth_calls whose results
compare one to one with the mirror (values, or the exact revert bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.greeks.mirror import Greeks
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

#: Inputs as (spot_wad, strike_wad, time_sec, vol_wad, rate_wad).
Input = tuple[int, int, int, int, int]
#: Implied-volatility inputs as (price_wad, spot_wad, strike_wad, time_sec, rate_wad, is_call).
IvInput = tuple[int, int, int, int, int, bool]
#: Each batched result: the value, or the revert data (bytes) when the call reverted.
Outcome = Any

_CALL_GAS = 900_000_000


@dataclass
class GreeksHarness:
    """A deployed harness and the web3 handle to it."""

    w3: Web3
    contract: Contract

    @classmethod
    def deploy(cls, w3: Web3) -> GreeksHarness:
        artifact = compile_project()["BlackScholesHarness"]
        return cls(w3=w3, contract=deploy(w3, artifact))

    def _call(self, fn: Any) -> Any:
        return fn.call({"gas": _CALL_GAS})

    def greeks(self, inputs: Sequence[Input]) -> list[Greeks | bytes]:
        reverts, results = self._call(self.contract.functions.batchGreeks(list(inputs)))
        return [bytes(r) if r else Greeks(*res) for r, res in zip(reverts, results, strict=True)]

    def price(self, inputs: Sequence[Input]) -> list[tuple[int, int] | bytes]:
        reverts, results = self._call(self.contract.functions.batchPrice(list(inputs)))
        return [bytes(r) if r else (res[0], res[1]) for r, res in zip(reverts, results, strict=True)]

    def delta(self, inputs: Sequence[Input]) -> list[tuple[int, int] | bytes]:
        reverts, results = self._call(self.contract.functions.batchDelta(list(inputs)))
        return [bytes(r) if r else (res[0], res[1]) for r, res in zip(reverts, results, strict=True)]

    def implied_vol(self, inputs: Sequence[IvInput]) -> list[int | bytes]:
        reverts, results = self._call(self.contract.functions.batchImpliedVol(list(inputs)))
        return [bytes(r) if r else int(res) for r, res in zip(reverts, results, strict=True)]

    def cdf_q96(self, xs: Sequence[int]) -> list[int]:
        return list(self._call(self.contract.functions.batchCdfQ96(list(xs))))

    def pdf_q96(self, xs: Sequence[int]) -> list[int]:
        return list(self._call(self.contract.functions.batchPdfQ96(list(xs))))

    def exp_q96(self, xs: Sequence[int]) -> list[int]:
        return list(self._call(self.contract.functions.batchExpQ96(list(xs))))

    def ln_ratio_q96(self, pairs: Sequence[tuple[int, int]]) -> list[int]:
        return list(self._call(self.contract.functions.batchLnRatioQ96([list(p) for p in pairs])))

    def sqrt(self, xs: Sequence[int]) -> list[int]:
        return list(self._call(self.contract.functions.batchSqrt(list(xs))))

    def gas(self, kind: str, args: Input | IvInput) -> int:
        """Gas of one library call alone (``kind``: greeks, price, delta, impliedVol)."""
        fn = getattr(self.contract.functions, "gas" + kind[0].upper() + kind[1:])
        return int(self._call(fn(args)))

    def tx_gas(self, kind: str, args: Input | IvInput) -> int:
        """Gas of a whole transaction calling the harness entry point (21,000 base included)."""
        fn = getattr(self.contract.functions, kind)
        return int(fn(*args).estimate_gas())
