"""Keeper configuration: the file plus flags, validation messages, and the real CLI's exit code 2 with a
message (no traceback) on bad configuration."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from keeperkit import HEDGEVAULT

from hedgevault.keeper import KeeperConfig, KeeperConfigError, VaultConfig, load_config
from hedgevault.toolchain.paths import PROJECT_ROOT

VAULT = "0x" + "ab" * 20
VAULT2 = "0x" + "cd" * 20


def _write(tmp_path: Path, text: str, name: str = "keeper.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_file_values_units_and_flag_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""
rpc_url = "http://127.0.0.1:8545"
stuck_blocks = 4
max_fee_per_gas = "30 gwei"
priority_fee = "0.5 gwei"
metrics_port = 9108
[[vaults]]
address = "{VAULT}"
name = "eth-weekly"
""",
    )
    config = load_config(path, {"stuck_blocks": 2, "rpc_url": None, "max_fee_per_gas": "1 ether"})
    assert config.rpc_url == "http://127.0.0.1:8545"
    assert config.stuck_blocks == 2  # the flag wins
    assert config.max_fee_per_gas_wei == 10**18
    assert config.priority_fee_wei == 500_000_000
    assert config.metrics_port == 9108
    assert config.vaults == (VaultConfig(VAULT, "eth-weekly"),)
    assert config.vaults[0].address == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"  # checksummed


def test_yaml_file_and_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, f"vaults:\n  - address: '{VAULT}'\n", "keeper.yaml")
    config = load_config(path)
    assert config.vaults[0].name == config.vaults[0].address[:10]
    assert (config.stuck_blocks, config.max_fee_per_gas_wei, config.priority_fee_wei) == (3, 100 * 10**9, 10**9)
    assert config.max_hedges_per_pass == 3
    assert config.metrics_port is None and not config.dry_run


def test_example_config_is_valid() -> None:
    config = load_config(PROJECT_ROOT / "examples" / "keeper.toml")
    assert config.vaults and config.rpc_url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rpc_url = 'http://x'\n", "no vaults to keep"),
        (f"stuck_blok = 3\n[[vaults]]\naddress = '{VAULT}'\n", "did you mean 'stuck_blocks'"),
        (f"private_key = '0x01'\n[[vaults]]\naddress = '{VAULT}'\n", "keys never go in a config file"),
        ("[[vaults]]\naddress = '0x1234'\n", "is not an address"),
        (f"max_fee_per_gas = '30 gwie'\n[[vaults]]\naddress = '{VAULT}'\n", "write an amount and a unit"),
        (f"stuck_blocks = 0\n[[vaults]]\naddress = '{VAULT}'\n", "stuck_blocks must be 1 or more"),
        (f"max_hedges_per_pass = 0\n[[vaults]]\naddress = '{VAULT}'\n", "max_hedges_per_pass must be 1..10"),
        (f"max_hedges_per_pass = 11\n[[vaults]]\naddress = '{VAULT}'\n", "max_hedges_per_pass must be 1..10"),
        (f"stuck_blocks = '3'\n[[vaults]]\naddress = '{VAULT}'\n", "stuck_blocks must be a whole number"),
        (f"[[vaults]]\naddress = '{VAULT}'\n[[vaults]]\naddress = '{VAULT}'\n", "listed twice"),
        (f"[[vaults]]\naddress = '{VAULT}'\nname = 'a'\n[[vaults]]\naddress = '{VAULT2}'\nname = 'a'\n", "unique"),
        (f"rpc_url = 'ws://x'\n[[vaults]]\naddress = '{VAULT}'\n", "http:// or https://"),
        (f"priority_fee = '200 gwei'\n[[vaults]]\naddress = '{VAULT}'\n", "between 0 and max_fee_per_gas"),
        (f"keystore = '{PROJECT_ROOT}/keeper.json'\n[[vaults]]\naddress = '{VAULT}'\n", "inside the repository"),
        ("this is = not toml", "not valid TOML"),
    ],
)
def test_bad_config_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(KeeperConfigError, match=message):
        load_config(_write(tmp_path, text))


def test_missing_file_points_to_the_example(tmp_path: Path) -> None:
    with pytest.raises(KeeperConfigError, match=r"examples/keeper\.toml"):
        load_config(tmp_path / "nope.toml")


def test_direct_construction_is_validated() -> None:
    with pytest.raises(KeeperConfigError, match="poll_interval_sec"):
        KeeperConfig(vaults=[VaultConfig(VAULT)], poll_interval_sec=0)
    config = KeeperConfig(vaults=[VaultConfig(VAULT, "v")])
    assert isinstance(config.vaults, tuple)


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEDGEVAULT, "keeper", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rpc-url", "http://127.0.0.1:1"], "no vaults to keep"),
        (["--vault", VAULT], "no node to talk to: set rpc_url"),
        (["--vault", VAULT, "--rpc-url", "http://127.0.0.1:1", "--max-fee", "lots"], "write an amount and a unit"),
        (["--vault", VAULT, "--rpc-url", "http://127.0.0.1:1"], "no signing key: set HEDGEVAULT_PRIVATE_KEY"),
        (["--vault", VAULT, "--rpc-url", "http://127.0.0.1:1", "--anvil-account", "0", "--once"], "no node answered"),
    ],
)
def test_cli_bad_config_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = _cli(args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("hedgevault keeper: ") and "Traceback" not in result.stderr


def test_cli_config_file_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, f"metrics_prot = 1\n[[vaults]]\naddress = '{VAULT}'\n")
    result = _cli(["--config", str(path)], tmp_path)
    assert result.returncode == 2
    assert str(path) in result.stderr and "did you mean 'metrics_port'" in result.stderr
    assert "Traceback" not in result.stderr
