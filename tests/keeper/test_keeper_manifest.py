"""`hedgevault keeper --manifest PATH`: the keeper finds the vault in the manifest `hedgevault deploy` wrote,
and refuses a manifest of another chain or one without a vault (exit 2, what to do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from keeperkit import run_keeper_once

from hedgevault.chain import Node
from hedgevault.cli import main


@pytest.fixture(scope="module")
def manifest(chain: Node, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keeper-manifest") / "demo-vault.json"
    assert main(["deploy", "--rpc-url", chain.url, "--manifest", str(path), "--anvil-account", "0"]) == 0
    return path


def _args(chain: Node, *manifests: Path) -> list[str]:
    out = ["--rpc-url", chain.url, "--anvil-account", "3", "--poll-interval", "0.1", "--log-level", "debug"]
    for path in manifests:
        out += ["--manifest", str(path)]
    return out


def test_keeps_the_vault_of_a_manifest(chain: Node, manifest: Path, tmp_path: Path) -> None:
    vault = json.loads(manifest.read_text())["vault_stack"]["contracts"]["vault"]["address"]
    log = tmp_path / "keeper.log"
    code, stderr = run_keeper_once(_args(chain, manifest), log)
    assert code == 0, stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    # the vault was checked under the manifest's name (nothing to do on a fresh deployment)
    checked = [e for e in events if e.get("vault") == vault]
    assert checked and all(e["name"] == "demo-vault" for e in checked), events
    assert any(e["event"] == "idle" for e in checked), events


def test_refuses_a_manifest_of_another_chain(chain: Node, manifest: Path, tmp_path: Path) -> None:
    data = json.loads(manifest.read_text())
    data["chain"]["genesis_hash"] = "0x" + "11" * 32
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    code, stderr = run_keeper_once(_args(chain, other), tmp_path / "keeper.log")
    assert code == 2
    assert f"manifest {other}" in stderr and "belongs to another chain" in stderr and "Traceback" not in stderr


def test_refuses_a_manifest_without_a_vault(chain: Node, manifest: Path, tmp_path: Path) -> None:
    data = json.loads(manifest.read_text())
    data["vault_stack"] = None
    bare = tmp_path / "infrastructure-only.json"
    bare.write_text(json.dumps(data))
    code, stderr = run_keeper_once(_args(chain, bare), tmp_path / "keeper.log")
    assert code == 2
    assert "has no vault" in stderr and "Traceback" not in stderr
