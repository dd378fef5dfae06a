"""The compiler is chosen and registered automatically; brownie compiles with the same one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hedgevault.toolchain.compiler import compile_project, ensure_solc, load_settings
from hedgevault.toolchain.paths import PROJECT_ROOT


def test_solc_of_the_pinned_version_is_registered_with_py_solc_x() -> None:
    settings = load_settings()
    solc = ensure_solc()
    assert solc.name == f"solc-v{settings.version}"
    out = subprocess.run([str(solc), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {settings.version}+commit" in out
    import solcx

    assert str(solcx.get_installed_solc_versions(solc.parent)[0]).startswith(settings.version)


def test_artifacts_are_cached_and_complete() -> None:
    artifacts = compile_project()
    harness = artifacts["BlackScholesHarness"]
    assert harness.bytecode and harness.deployed_bytecode
    assert len(harness.deployed_bytecode) // 2 <= 24_576  # deployable under EIP-170
    assert compile_project() == artifacts


def test_brownie_compiles_the_project_with_the_registered_compiler(tmp_path: Path) -> None:
    env = dict(os.environ, SOLCX_BINARY_PATH=str(ensure_solc().parent))
    brownie = Path(sys.executable).with_name("brownie")
    result = subprocess.run(
        [str(brownie), "compile"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (PROJECT_ROOT / "build" / "brownie" / "contracts" / "BlackScholesHarness.json").exists()
