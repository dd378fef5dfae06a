"""The deployment config: the shipped examples, strict keys, exact integers, clear errors (no chain)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hedgevault.deployment.config import DeployConfig, load_deploy_config
from hedgevault.deployment.errors import DeployConfigError, ManifestError
from hedgevault.deployment.manifest import ChainIdentity, default_manifest_path, load_manifest
from hedgevault.toolchain.paths import PROJECT_ROOT

WAD = 10**18
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize("name", ["example.yaml", "example.toml"])
def test_shipped_examples_state_the_defaults(name: str) -> None:
    config = load_deploy_config(PROJECT_ROOT / "deployments" / name)
    assert config.suite == DeployConfig().suite
    assert (config.vault_name, config.vault_symbol) == ("hedgevault option vault", "hvOPT")


def test_flags_override_the_file_and_wad_strings_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("risk:\n  spread_bps: 120\n")
    overrides = ["risk.spread_bps=150", "hedge.delta_band_wad=0.25e18", f"roles.listers=[{ADDRESS}]"]
    config = load_deploy_config(path, overrides)
    assert config.suite.risk.spread_bps == 150
    assert config.suite.hedge.delta_band_wad == WAD // 4
    assert config.roles.listers == (ADDRESS,)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["risk.spread=1"], "unknown key risk.spread; risk takes hf_floor_wad"),
        (["riks.spread_bps=1"], "unknown section 'riks'"),
        (["risk.hf_floor_wad=1.2"], "got the float 1.2"),
        (["risk.hf_floor_wad=1.5e0x"], "expected an integer"),
        (["local.with_sequencer_feed=1"], "expected true or false"),
        (["vault.fee_recipient=0x1234"], "is not an address"),
        ([f"vault.fee_recipient={ADDRESS.lower()[:-1]}C"], "wrong checksum"),
        (["spread_bps=1"], "expected SECTION.KEY=VALUE"),
        (["infrastructure.quote=" + ADDRESS], "infrastructure is missing underlying"),
        (["governance.timelock_delay_sec=3599"], "3599 s is below the timelock's hard minimum of 3600 s"),
        (["governance.proposers=[]"], "governance.proposers is empty: nobody could queue"),
        (["governance.executors=0x1234"], "expected a list of addresses"),
    ],
)
def test_bad_values_say_what_is_wrong(overrides: list[str], message: str) -> None:
    with pytest.raises(DeployConfigError, match=re.escape(message)):
        load_deploy_config(None, overrides)


def test_governance_defaults_to_a_24_hour_timelock_run_by_the_operator() -> None:
    config = load_deploy_config(None, [])
    assert config.governance.resolve(ADDRESS) == {
        "timelock_delay_sec": 86_400,
        "proposers": [ADDRESS],
        "executors": [ADDRESS],
    }
    floor = load_deploy_config(None, ["governance.timelock_delay_sec=3600"])
    assert floor.governance.timelock_delay_sec == 3600


def test_infrastructure_addresses_exclude_local_settings() -> None:
    keys = ("quote", "underlying", "feed", "uniswap_factory", "swap_router", "position_manager", "pool")
    overrides = [f"infrastructure.{k}={ADDRESS}" for k in keys]
    assert load_deploy_config(None, overrides).infrastructure is not None
    with pytest.raises(DeployConfigError, match=r"local\.quote_decimals only applies"):
        load_deploy_config(None, [*overrides, "local.quote_decimals=6"])


def test_unreadable_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DeployConfigError, match="cannot read"):
        load_deploy_config(tmp_path / "missing.yaml")
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(DeployConfigError, match=r"use a \.yaml, \.yml or \.toml file"):
        load_deploy_config(tmp_path / "c.json")
    (tmp_path / "m.json").write_text('{"format": 7}')
    with pytest.raises(ManifestError, match="not a hedgevault deployment manifest"):
        load_manifest(tmp_path / "m.json")
    with pytest.raises(ManifestError, match="does not exist"):
        load_manifest(tmp_path / "none.json")


def test_dev_chain_manifests_are_kept_apart_by_genesis() -> None:
    a = ChainIdentity(31337, "0x" + "aa" * 32)
    b = ChainIdentity(31337, "0x" + "bb" * 32)
    assert default_manifest_path(a) != default_manifest_path(b)
    assert default_manifest_path(a).parent.name == "local"
    assert default_manifest_path(ChainIdentity(11155111, "0x" + "cc" * 32)).name == "11155111.json"
