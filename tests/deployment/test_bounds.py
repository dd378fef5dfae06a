"""The Python mirror of the contracts' hard parameter bounds (``hedgevault.bounds``) agrees with the contracts at
every edge: each bound's lo and hi pass, lo - 1 and hi + 1 are refused with the contract's own error naming the
parameter. So a deployment with a value the contracts refuse stops before anything is sent."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from flows import Run
from web3 import Web3
from web3.exceptions import ContractCustomError

from hedgevault.bounds import Bound, hedger_bounds, oracle_bounds, out_of_bounds, vault_bounds
from hedgevault.reverts import decode_error
from hedgevault.suite import Suite, SuiteConfig, deploy_suite

INT64_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def suite(w3: Web3) -> Suite:
    return deploy_suite(w3)


def _edges(b: Bound) -> list[tuple[int, bool]]:
    """(value, accepted) at and just beyond each edge; values a field's Solidity type cannot hold are skipped."""
    cases = [(b.lo, True), (b.hi, True), (b.hi + 1, False)]
    if b.lo > 0 or b.field == "rate_wad":
        cases.append((b.lo - 1, False))
    return cases


def _refusal(call: Callable[[], Any]) -> tuple[str, tuple[Any, ...]] | None:
    try:
        call()
    except ContractCustomError as exc:
        return decode_error(str(exc.data))
    return None


#: A library's external function is selected by the struct names, not the tuples (Solidity's ABI for libraries).
_CHECK_PARAMETERS = Web3.keccak(
    text="checkParameters(IOptionVault.RiskParams,IOptionVault.ExposureLimits,IOptionVault.HedgeParams)"
)[:4]


def _check_parameters(suite: Suite, config: SuiteConfig) -> None:
    """`BookMarking.checkParameters` on the deployed library (a pure call)."""
    types = [
        "(uint64,uint16,uint16,uint64,uint16,uint16,uint32,uint8,int64,uint16,uint32,uint16,uint16,uint32,uint32)",
        "(uint112,uint112,uint128)",
        "(uint112,uint112,uint32,uint16,uint16)",
    ]
    outputs = suite.book_library.abi
    assert any(item.get("name") == "checkParameters" for item in outputs)
    data = _CHECK_PARAMETERS + encode(
        types, [config.risk.as_tuple(), config.limits.as_tuple(), config.hedge.as_tuple()]
    )
    suite.w3.eth.call({"to": suite.book_library.address, "data": data})


def _name(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode()


def test_vault_bounds_agree_with_check_parameters_at_every_edge(suite: Suite) -> None:
    config = suite.config
    checked = 0
    for b in vault_bounds(config.risk, config.limits, config.hedge):
        for value, accepted in _edges(b):
            extra = {"dust_delta_wad": 0} if b.field == "delta_band_wad" else {}  # dust <= band (its own bound)
            section = getattr(config, b.section)
            changed = dataclasses.replace(
                config, **{b.section: dataclasses.replace(section, **{b.field: value}, **extra)}
            )
            refusal = _refusal(lambda changed=changed: _check_parameters(suite, changed))
            assert (refusal is None) == accepted, (b, value, refusal)
            assert (not out_of_bounds(changed)) == accepted, (b, value)
            if refusal is not None:
                assert refusal[0] == "ParamOutOfBounds" and _name(refusal[1][0]) == b.name, (b, value, refusal)
            checked += 1
    assert checked >= 4 * 23 - 10


def test_oracle_and_hedger_bounds_agree_with_their_contracts(suite: Suite) -> None:
    config = suite.config
    for contract, bounds, error, tuple_of in (
        (suite.price_oracle, oracle_bounds(), "OracleParamOutOfBounds", lambda c: c.oracle.as_tuple()),
        (suite.hedger, hedger_bounds(), "HedgerParamOutOfBounds", lambda c: c.hedger.aave_tuple()),
    ):
        for b in bounds:
            for value, accepted in _edges(b):
                section = getattr(config, b.section)
                changed = dataclasses.replace(config, **{b.section: dataclasses.replace(section, **{b.field: value})})
                fn = contract.functions.setParams(tuple_of(changed))
                refusal = _refusal(lambda fn=fn: fn.call({"from": suite.admin}))
                assert (refusal is None) == accepted, (b, value, refusal)
                assert (not out_of_bounds(changed)) == accepted, (b, value)
                if refusal is not None:
                    assert refusal[0] == error and _name(refusal[1][0]) == b.name, (b, value, refusal)


def test_deploy_refuses_an_out_of_bound_value_before_sending_anything(
    hv: Callable[..., Run], chain: Any, w3: Web3, tmp_path: Path
) -> None:
    nonce = w3.eth.get_transaction_count(w3.eth.accounts[0])
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", tmp_path / "m.json", "--set", "risk.hf_floor_wad=5e18")
    assert run.code == 2
    assert "risk.hf_floor_wad 5000000000000000000 is outside [1000000000000000000, 3000000000000000000]" in run.err
    assert w3.eth.get_transaction_count(w3.eth.accounts[0]) == nonce
    assert not (tmp_path / "m.json").exists()


def test_default_config_is_inside_every_bound() -> None:
    assert out_of_bounds(SuiteConfig()) == []
