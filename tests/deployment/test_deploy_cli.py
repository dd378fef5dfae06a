"""`hedgevault deploy` against a real Anvil: the manifest, the idempotent rerun, mismatch detection
(tampered manifest, changed config, changes made on the chain through the timelock), attaching to the wrong
chain, admin handover to the timelock, and a chain that is not a dev chain. The timelock itself:
test_governance.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from flows import Run
from web3 import Web3

from hedgevault import governance
from hedgevault.chain import Node, warp
from hedgevault.deployment import WrongChainError, attach_suite, load_manifest
from hedgevault.deployment.manifest import INFRASTRUCTURE_KEYS, VAULT_STACK_KEYS
from hedgevault.keys import anvil_account

WAD = 10**18


@pytest.fixture
def isolated(w3: Web3, manifest_path: Path) -> Iterator[None]:
    """Undo what a test does to the chain."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _nonce(w3: Web3, account: LocalAccount) -> int:
    return int(w3.eth.get_transaction_count(account.address))


def _stack(data: dict[str, Any]) -> dict[str, Any]:
    contracts: dict[str, Any] = data["vault_stack"]["contracts"]
    return contracts


def _tampered(manifest_path: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(manifest_path.read_text())
    edit(data)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    return path


def test_manifest_records_chain_code_hashes_and_parameters(
    w3: Web3, manifest_path: Path, deployer: LocalAccount
) -> None:
    data = json.loads(manifest_path.read_text())
    assert data["format"] == 1
    assert data["chain"] == {"chain_id": 31337, "genesis_hash": "0x" + bytes(w3.eth.get_block(0)["hash"]).hex()}
    assert data["deployer"] == deployer.address
    assert data["infrastructure"]["origin"] == "deployed"
    assert set(data["infrastructure"]["contracts"]) == set(INFRASTRUCTURE_KEYS) - {"sequencer_feed"}
    assert set(data["vault_stack"]["contracts"]) == set(VAULT_STACK_KEYS)
    assert set(data["governance"]["contracts"]) == {"timelock"}
    assert data["governance"]["parameters"] == {
        "timelock_delay_sec": 86_400,
        "proposers": [deployer.address],
        "executors": [deployer.address],
    }
    for section in ("infrastructure", "vault_stack", "governance"):
        for record in data[section]["contracts"].values():
            code = bytes(w3.eth.get_code(record["address"]))
            assert code, record
            assert record["code_hash"] == "0x" + Web3.keccak(code).hex().removeprefix("0x")
    params = data["vault_stack"]["parameters"]
    assert params["risk"]["hf_floor_wad"] == 12 * WAD // 10
    assert params["hedge"]["delta_band_wad"] == WAD // 2
    assert params["fee_recipient"] == deployer.address
    assert data["vault_stack"]["roles"] == {
        "admin": deployer.address,
        "guardians": [deployer.address],
        "listers": [deployer.address],
        "vol_updaters": [deployer.address],
    }


def test_second_run_reuses_verifies_and_sends_nothing(
    hv: Callable[..., Run], chain: Node, w3: Web3, manifest_path: Path, deployer: LocalAccount
) -> None:
    before_text, before_nonce = manifest_path.read_text(), _nonce(w3, deployer)
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path)
    assert run.code == 0, run.err
    assert "0 deployed, 44 reused after checking their code, 0 transactions sent" in run.out
    assert _nonce(w3, deployer) == before_nonce
    assert manifest_path.read_text() == before_text


def test_check_compares_without_sending(hv: Callable[..., Run], chain: Node, manifest_path: Path) -> None:
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path, "--check")
    assert run.code == 0, run.err
    assert "match" in run.out


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["vault_stack"]["contracts"]["vault"].update(code_hash="0x" + "ab" * 32), "vault: code hash"),
        (lambda d: _stack(d)["vault"].update(address=_stack(d)["pricer"]["address"]), "vault: code hash"),
        (lambda d: d["infrastructure"]["contracts"]["pool"].update(address="0x" + "11" * 20), "pool: no code at"),
    ],
    ids=["hash", "address", "missing-code"],
)
def test_tampered_manifest_is_refused_with_what_differs(
    hv: Callable[..., Run],
    chain: Node,
    w3: Web3,
    manifest_path: Path,
    tmp_path: Path,
    deployer: LocalAccount,
    edit: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    tampered = _tampered(manifest_path, tmp_path, edit)
    before = _nonce(w3, deployer)
    for extra in ((), ("--check",)):
        run = hv("deploy", "--rpc-url", chain.url, "--manifest", tampered, *extra)
        assert run.code == 2
        assert expected in run.err
        assert "--fresh" in run.err and "Traceback" not in run.err
    assert _nonce(w3, deployer) == before


def test_attach_names_every_contract_that_differs_at_once(
    hv: Callable[..., Run], chain: Node, manifest_path: Path, tmp_path: Path
) -> None:
    """The codes are checked in one batch: an infrastructure record and a vault-stack record that both differ
    are both named in the one message (each used to stop the check at the first)."""

    def edit(data: dict[str, Any]) -> None:
        data["infrastructure"]["contracts"]["pool"].update(address="0x" + "11" * 20)
        _stack(data)["vault"].update(code_hash="0x" + "ab" * 32)

    run = hv("status", "--rpc-url", chain.url, "--manifest", _tampered(manifest_path, tmp_path, edit))
    assert run.code == 2
    assert "the chain does not match the manifest" in run.err
    assert "infrastructure.pool: no code at 0x1111111111111111111111111111111111111111" in run.err
    assert "vault_stack.vault: code hash at" in run.err and "the manifest records 0xabab" in run.err
    assert "--fresh" in run.err and "Traceback" not in run.err


def test_changed_config_is_refused_before_sending(
    hv: Callable[..., Run], chain: Node, w3: Web3, manifest_path: Path, deployer: LocalAccount
) -> None:
    before = _nonce(w3, deployer)
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path, "--set", "risk.spread_bps=150")
    assert run.code == 2
    assert "risk.spread_bps: manifest 100, config 150" in run.err
    assert "Nothing was sent" in run.err
    assert _nonce(w3, deployer) == before


def test_a_manifest_without_a_timelock_is_not_silently_upgraded(
    hv: Callable[..., Run], chain: Node, w3: Web3, manifest_path: Path, tmp_path: Path, deployer: LocalAccount
) -> None:
    before = _nonce(w3, deployer)
    run = hv("deploy", "--rpc-url", chain.url, "--manifest", _tampered(manifest_path, tmp_path, _drop_governance))
    assert run.code == 2
    assert "governance: the manifest's suite has no timelock" in run.err and "Nothing was sent" in run.err
    assert _nonce(w3, deployer) == before


def _drop_governance(data: dict[str, Any]) -> None:
    data["governance"] = None


def test_parameter_and_role_changes_on_chain_are_reported(
    hv: Callable[..., Run], chain: Node, w3: Web3, manifest_path: Path, deployer: LocalAccount, isolated: None
) -> None:
    suite = attach_suite(w3, load_manifest(manifest_path))
    risk = suite.config.risk
    changed = (*risk.as_tuple()[:4], 150, *risk.as_tuple()[5:])
    limits, hedge = suite.config.limits.as_tuple(), suite.config.hedge.as_tuple()
    guardian = suite.vault.functions.GUARDIAN_ROLE().call()
    changes = [
        (suite.vault, "setParameters", [changed, limits, hedge]),
        (suite.vault, "revokeRole", [guardian, deployer.address]),
        (suite.vol_oracle, "setParams", [replace(suite.config.vol, min_vol_wad=10**16).as_tuple()]),
    ]
    queued = [governance.schedule(suite, deployer, target, name, args) for target, name, args in changes]
    warp(w3, 86_400)  # the timelock's delay
    for operation in queued:
        governance.execute(suite, deployer, operation.id)

    run = hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path, "--check")
    assert run.code == 2
    assert "vault.risk.spread_bps: expected 100, the chain has 150" in run.err
    assert f"vault: {deployer.address} lacks GUARDIAN_ROLE" in run.err
    assert "vol_oracle.params" in run.err
    rerun = hv("deploy", "--rpc-url", chain.url, "--manifest", manifest_path)
    assert rerun.code == 2 and "vault.risk.spread_bps" in rerun.err


def test_manifest_of_another_chain_is_refused(
    hv: Callable[..., Run], anvils: Callable[..., Node], manifest_path: Path
) -> None:
    other = anvils()  # also chain id 31337, another genesis block
    with pytest.raises(WrongChainError, match="belongs to another chain"):
        attach_suite(other.web3(), load_manifest(manifest_path))
    run = hv("deploy", "--rpc-url", other.url, "--manifest", manifest_path)
    assert run.code == 2
    assert "belongs to another chain" in run.err and "--fresh" in run.err
    assert other.web3().eth.get_transaction_count(anvil_account(0).address) == 0


def test_attach_suite_gives_working_contracts(w3: Web3, manifest_path: Path, deployer: LocalAccount) -> None:
    suite = attach_suite(w3, load_manifest(manifest_path))
    assert suite.admin == deployer.address
    assert suite.vault.functions.asset().call() == suite.quote.address
    assert suite.price_oracle.functions.spotWad().call() == 3000 * WAD
    assert suite.config.quote_decimals == 6 and suite.config.pool_fee == 3000


def test_bad_config_is_a_message_not_a_traceback(hv: Callable[..., Run], tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("risk:\n  spread: 100\n")
    run = hv("deploy", "--config", config)
    assert run.code == 2
    assert "unknown key risk.spread" in run.err and "spread_bps" in run.err
    run = hv("deploy", "--set", "hedge.delta_band_wad=0.5")
    assert run.code == 2 and "float" in run.err


def test_resumes_after_infrastructure_and_hands_admin_to_the_timelock(
    hv: Callable[..., Run], anvils: Callable[..., Node], tmp_path: Path
) -> None:
    node = anvils()
    w3 = node.web3()
    path = tmp_path / "m.json"
    first = hv("deploy", "--rpc-url", node.url, "--manifest", path, "--infrastructure-only")
    assert first.code == 0, first.err
    assert load_manifest(path).vault_stack is None
    admin, guardian = anvil_account(5).address, anvil_account(6).address
    config = tmp_path / "roles.toml"
    config.write_text(f'[roles]\nadmin = "{admin}"\nguardians = ["{guardian}"]\n')
    second = hv("deploy", "--rpc-url", node.url, "--manifest", path, "--config", config)
    assert second.code == 0, second.err
    assert "9 deployed, 35 reused" in second.out
    suite = attach_suite(w3, load_manifest(path))
    assert suite.timelock is not None
    zero_role = b"\x00" * 32
    for contract in (suite.vault, suite.vol_oracle, suite.price_oracle):
        assert contract.functions.hasRole(zero_role, suite.timelock.address).call()
        assert not contract.functions.hasRole(zero_role, admin).call()
        assert not contract.functions.hasRole(zero_role, anvil_account(0).address).call()
    # roles.admin (the operator) is the timelock's default proposer and executor
    timelock = suite.timelock.functions
    assert timelock.hasRole(timelock.PROPOSER_ROLE().call(), admin).call()
    assert not timelock.hasRole(timelock.PROPOSER_ROLE().call(), anvil_account(0).address).call()
    assert suite.vault.functions.hasRole(suite.vault.functions.GUARDIAN_ROLE().call(), guardian).call()
    assert not suite.vault.functions.hasRole(suite.vault.functions.GUARDIAN_ROLE().call(), admin).call()
    again = hv("deploy", "--rpc-url", node.url, "--manifest", path, "--config", config)
    assert again.code == 0 and "0 transactions sent" in again.out


def test_non_dev_chain_needs_infrastructure_then_takes_it_from_the_config(
    hv: Callable[..., Run], anvils: Callable[..., Node], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = anvils(extra_args=["--chain-id", "424242"])
    run = hv("deploy", "--rpc-url", node.url, "--manifest", tmp_path / "x.json")
    assert run.code == 2 and "HEDGEVAULT_PRIVATE_KEY" in run.err  # no dev key on a non-dev chain
    monkeypatch.setenv("HEDGEVAULT_PRIVATE_KEY", anvil_account(0).key.hex())
    run = hv("deploy", "--rpc-url", node.url, "--manifest", tmp_path / "x.json")
    assert run.code == 2 and "not a dev chain and no infrastructure" in run.err
    # stand-in for a testnet's existing tokens, feed and Uniswap V3
    infra_path = tmp_path / "infra.json"
    made = hv(
        "deploy", "--rpc-url", node.url, "--manifest", infra_path, "--deploy-infrastructure", "--infrastructure-only"
    )
    assert made.code == 0, made.err
    contracts = json.loads(infra_path.read_text())["infrastructure"]["contracts"]
    # the Aave market is given by its PoolAddressesProvider alone; the rest is read from it
    given = {key: record for key, record in contracts.items() if not key.startswith("aave_")}
    given["aave_addresses_provider"] = contracts["aave_addresses_provider"]
    lines = ["infrastructure:"] + [f'  {key}: "{record["address"]}"' for key, record in given.items()]
    config = tmp_path / "testnet.yaml"
    config.write_text("\n".join(lines) + "\n")
    stack_path = tmp_path / "stack.json"
    run = hv("deploy", "--rpc-url", node.url, "--manifest", stack_path, "--config", config)
    assert run.code == 0, run.err
    data = json.loads(stack_path.read_text())
    assert data["chain"]["chain_id"] == 424242
    assert data["infrastructure"]["origin"] == "external" and data["infrastructure"]["source"] == "config"
    assert data["infrastructure"]["parameters"]["pool_fee"] == 3000
    assert data["infrastructure"]["contracts"]["aave_pool"]["address"] == contracts["aave_pool"]["address"]
    rerun = hv("deploy", "--rpc-url", node.url, "--manifest", stack_path, "--config", config)
    assert "0 transactions sent" in rerun.out


def test_parameter_out_of_the_contracts_bounds_names_the_custom_error(
    hv: Callable[..., Run], anvils: Callable[..., Node], tmp_path: Path
) -> None:
    node = anvils()
    run = hv("deploy", "--rpc-url", node.url, "--manifest", tmp_path / "m.json", "--set", "risk.hf_floor_wad=5e18")
    assert run.code == 2
    # refused before anything is sent (it used to send ~30 transactions and stop at the vault's constructor)
    assert "risk.hf_floor_wad 5000000000000000000 is outside" in run.err and "Traceback" not in run.err
    assert node.web3().eth.block_number == 0 and not (tmp_path / "m.json").exists()


def test_embedded_deploy_leaves_no_manifest_of_the_stopped_chain(hv: Callable[..., Run]) -> None:
    from hedgevault.deployment.manifest import DEPLOYMENTS_DIR

    before = set(DEPLOYMENTS_DIR.glob("local/*.json"))
    run = hv("deploy", "--infrastructure-only")
    assert run.code == 0, run.err
    assert "the embedded Anvil stops now" in run.out and "removed" in run.out
    assert set(DEPLOYMENTS_DIR.glob("local/*.json")) == before
