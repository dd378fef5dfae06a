"""The compiled ``SviMath`` on a node, through ``SviHarness``: batched eth_calls whose results compare one to one
with :mod:`hedgevault.surface.mirror` (values, or the exact revert bytes). Batches are ABI-encoded with eth_abi
directly (web3's struct formatting is slower than the node's execution)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from hedgevault.surface.mirror import Post, Slice
from hedgevault.toolchain.compiler import compile_project
from hedgevault.toolchain.deploy import deploy

#: Volatility inputs as (slice, strike wad, forward wad, time sec).
VolInput = tuple[Slice, int, int, int]

_CALL_GAS = 900_000_000
_SLICE = "(int256,int256,int256,int256,int256)"
_GRID = "(int256,int256,uint256)"
_POST = f"({_SLICE},{_GRID},{_SLICE},bool,{_SLICE},bool,{_SLICE},uint256,uint256,uint256[],uint256,uint256)"
_VOL = f"({_SLICE},uint256,uint256,uint256)"


@dataclass
class SviHarness:
    """A deployed ``SviHarness`` and the web3 handle to it."""

    w3: Web3
    contract: Contract

    @classmethod
    def deploy(cls, w3: Web3) -> SviHarness:
        return cls(w3=w3, contract=deploy(w3, compile_project()["SviHarness"]))

    def _raw_call(self, signature: str, types: list[str], args: list[Any], returns: list[str]) -> tuple[Any, ...]:
        data = keccak(text=signature)[:4] + encode(types, args)
        answer = self.w3.eth.call({"to": self.contract.address, "data": data, "gas": _CALL_GAS})
        return tuple(decode(returns, bytes(answer)))

    def vol(self, inputs: Sequence[VolInput]) -> list[int | bytes]:
        """Each input's volatility (wad), or its revert data."""
        args = [(s.as_tuple(), k, f, t) for s, k, f, t in inputs]
        reverts, vols = self._raw_call(f"batchVol({_VOL}[])", [f"{_VOL}[]"], [args], ["bytes[]", "uint256[]"])
        return [bytes(r) if r else int(v) for r, v in zip(reverts, vols, strict=True)]

    def variance(self, slices: Sequence[Slice], ks_wad: Sequence[int]) -> list[int]:
        """Each slice's w at its k (rounded down, 1e36 units)."""
        (w,) = self._raw_call(
            f"batchVariance({_SLICE}[],int256[])",
            [f"{_SLICE}[]", "int256[]"],
            [[s.as_tuple() for s in slices], list(ks_wad)],
            ["int256[]"],
        )
        return [int(x) for x in w]

    def check_params(self, slices: Sequence[Slice]) -> list[bytes]:
        """Each slice's revert data (b"" when it passed)."""
        (reverts,) = self._raw_call(
            f"batchCheckParams({_SLICE}[])", [f"{_SLICE}[]"], [[s.as_tuple() for s in slices]], ["bytes[]"]
        )
        return [bytes(r) for r in reverts]

    def check_post(self, posts: Sequence[Post]) -> list[bytes]:
        """Each post's revert data (b"" when it passed)."""
        (reverts,) = self._raw_call(
            f"batchCheckPost({_POST}[])", [f"{_POST}[]"], [[p.as_tuple() for p in posts]], ["bytes[]"]
        )
        return [bytes(r) for r in reverts]

    def flat_slice(self, vol_wad: int, time_sec: int) -> Slice:
        (s,) = self._raw_call("flatSlice(uint256,uint256)", ["uint256", "uint256"], [vol_wad, time_sec], [_SLICE])
        return Slice(*s)

    def gas_vol(self, s: Slice, strike_wad: int, forward_wad: int, time_sec: int) -> int:
        """Gas of ``SviMath.volWad`` alone."""
        (g,) = self._raw_call(
            f"gasVol({_SLICE},uint256,uint256,uint256)",
            [_SLICE, "uint256", "uint256", "uint256"],
            [s.as_tuple(), strike_wad, forward_wad, time_sec],
            ["uint256"],
        )
        return int(g)

    def gas_check_post(self, p: Post) -> tuple[int, int, int, int]:
        """Gas of a post's checks: (total, params, arbitrage, rate limit)."""
        (total,) = self._raw_call(f"gasCheckPost({_POST})", [_POST], [p.as_tuple()], ["uint256"])
        parts = self._raw_call(
            f"gasCheckPostParts({_POST})", [_POST], [p.as_tuple()], ["uint256", "uint256", "uint256"]
        )
        return int(total), int(parts[0]), int(parts[1]), int(parts[2])

    def sqrt_floor(self, xs: Sequence[int]) -> list[int]:
        """``FixedPointMath.sqrt`` (the square root ``SviMath`` uses) of each input."""
        (roots,) = self._raw_call("batchSqrt(uint256[])", ["uint256[]"], [list(xs)], ["uint256[]"])
        return [int(r) for r in roots]

    def hypot_floor(self, ds: Sequence[int], sigmas: Sequence[int]) -> list[int]:
        """floor(sqrt(d^2 + sigma^2)) of each pair, through ``SviMath.varianceDown`` (b = 1e-18)."""
        (roots,) = self._raw_call(
            "batchHypot(int256[],int256[])", ["int256[]", "int256[]"], [list(ds), list(sigmas)], ["uint256[]"]
        )
        return [int(r) for r in roots]

    def gas_vol_at_k(self, s: Slice, k_wad: int, time_sec: int) -> int:
        """Gas of ``SviMath.volAtLogMoneyness`` alone."""
        (g,) = self._raw_call(
            f"gasVolAtK({_SLICE},int256,uint256)",
            [_SLICE, "int256", "uint256"],
            [s.as_tuple(), k_wad, time_sec],
            ["uint256"],
        )
        return int(g)
