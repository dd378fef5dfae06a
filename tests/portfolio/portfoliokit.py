"""Helpers of the portfolio tests: deployment of the covariance oracle, revert assertions (exact bytes
against the mirror's exception, or a custom error by name) and named actors.

Amounts: volatilities and correlations in basis points as posted; weights and covariances in wad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from hedgevault.errors import ContractError
from hedgevault.portfolio import mirror
from hedgevault.portfolio.mirror import CorrWords, CovParams
from hedgevault.reverts import decode_error
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send

WAD = 10**18
HOUR = 3600
#: Distinct non-zero stand-ins for the asset tokens (the oracle only stores and returns them).
ASSETS = tuple(Web3.to_checksum_address(f"0x{0xA55E7 + i:040x}") for i in range(8))


@dataclass(frozen=True)
class Actors:
    """Named accounts (Anvil's unlocked ones): admin (every role), keeper (the updater), attacker."""

    admin: str
    keeper: str
    attacker: str


def actors(w3: Web3) -> Actors:
    a = [str(x) for x in w3.eth.accounts]
    return Actors(admin=a[0], keeper=a[3], attacker=a[4])


def deploy_oracle(
    w3: Web3, artifact: Artifact, who: Actors, n: int, params: CovParams = mirror.DEFAULT_COV_PARAMS
) -> Contract:
    """A CovarianceOracle over the first n stand-in assets, with the keeper as its updater."""
    oracle = deploy(w3, artifact, who.admin, list(ASSETS[:n]), params.as_tuple(), sender=who.admin)
    send(w3, oracle.functions.grantRole(oracle.functions.COV_UPDATER_ROLE().call(), who.keeper), who.admin)
    return oracle


def packed(vols_bp: Sequence[int], corrs_bp: Sequence[int]) -> tuple[int, CorrWords]:
    return mirror.pack_vols(vols_bp), mirror.pack_corrs(corrs_bp)


def post_fn(oracle: Contract, vols_bp: Sequence[int], corrs_bp: Sequence[int]) -> Any:
    vols_word, words = packed(vols_bp, corrs_bp)
    return oracle.functions.post(vols_word, list(words))


def reverts_exactly(fn: Any, sender: str, error: ContractError) -> None:
    """Assert that ``fn`` from ``sender`` reverts with exactly the mirror exception's bytes."""
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": sender})
    got = bytes.fromhex(str(info.value.data)[2:])
    assert got == error.revert_data(), f"expected {error}, got {decode_error(got)}"


def reverts(fn: Any, sender: str, name: str, *args: Any) -> tuple[Any, ...]:
    """Assert a revert with custom error ``name`` (and ``args`` when given; None matches anything)."""
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": sender})
    got_name, got_args = decode_error(str(info.value.data))
    assert got_name == name, f"expected {name}, got {got_name}{got_args}"
    if args:
        assert len(args) == len(got_args)
        for want, got in zip(args, got_args, strict=True):
            assert want is None or want == got, f"{name}: expected {args}, got {got_args}"
    return tuple(got_args)
