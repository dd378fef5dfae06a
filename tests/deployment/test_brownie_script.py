"""`brownie run scripts/deploy.py --network <id>` deploys the suite through brownie's web3 with hedgevault's
deployment code, and a rerun with a changed parameter is refused (exit code 2).

brownie keeps its networks in ``~/.brownie``: the test gives it a private HOME and adds a network for
its own Anvil there. It runs brownie in a copy of the project's brownie-config.yaml (contracts, scripts,
node_modules and the build cache linked, scripts copied, so nothing is recompiled that brownie compiled before) without
the ``dotenv`` key: brownie 1.22 refuses ``dotenv: false`` when loading a project for ``brownie run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from hedgevault.chain import Node, warp
from hedgevault.toolchain.compiler import ensure_solc
from hedgevault.toolchain.paths import PROJECT_ROOT

_TIMEOUT_SEC = 600  # a first brownie compile of the project over solc-js takes about a minute


def _brownie_project(root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    for name in ("contracts", "interfaces", "node_modules", "build"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    # a copy, not a link: brownie imports the script by its resolved path turned into a dotted module
    # name, which breaks when a folder above the checkout has a dot in its name (e.g. mktemp's tmp.XXXX)
    shutil.copytree(PROJECT_ROOT / "scripts", project / "scripts")
    config = yaml.safe_load((PROJECT_ROOT / "brownie-config.yaml").read_text())
    config.pop("dotenv", None)
    (project / "brownie-config.yaml").write_text(yaml.safe_dump(config))
    return project


def test_brownie_script_deploys_and_refuses_a_changed_config(anvils: Callable[..., Node], tmp_path: Path) -> None:
    node = anvils()
    (PROJECT_ROOT / "build").mkdir(exist_ok=True)
    project = _brownie_project(tmp_path)
    brownie = str(Path(sys.executable).with_name("brownie"))
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), SOLCX_BINARY_PATH=str(ensure_solc().parent))
    add = [brownie, "networks", "add", "Ethereum", "hv-test", f"host={node.url}", "chainid=31337"]
    added = subprocess.run(add, cwd=project, env=env, capture_output=True, text=True, timeout=_TIMEOUT_SEC)
    assert added.returncode == 0, added.stdout + added.stderr
    manifest = tmp_path / "brownie.json"

    def run(args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [brownie, "run", "scripts/deploy.py", "--network", "hv-test"],
            cwd=project,
            env=dict(env, HEDGEVAULT_DEPLOY_ARGS=f"--manifest {manifest} {args}"),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SEC,
        )

    # 60 blocks 10 s apart: the last 50 span 500 s >= 250 s, so brownie switches its request cache on, as
    # on every real testnet (its stale transaction counts once made the second transaction `nonce too low`)
    for _ in range(60):
        warp(node.web3(), 10)
    first = run("")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "44 deployed, 0 reused" in first.stdout
    data = json.loads(manifest.read_text())
    assert data["chain"]["chain_id"] == 31337 and set(data["vault_stack"]["contracts"]) >= {"vault", "option_token"}
    assert node.web3().eth.get_code(data["vault_stack"]["contracts"]["vault"]["address"])

    changed = run("--set risk.spread_bps=150")
    assert changed.returncode == 2, changed.stdout + changed.stderr
    assert "risk.spread_bps: manifest 100, config 150" in changed.stderr
    assert "Traceback" not in changed.stdout + changed.stderr  # one line, not brownie's traceback of the script
