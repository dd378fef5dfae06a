"""Compile the project's Solidity with the settings in ``brownie-config.yaml``.

The compiler is chosen automatically: py-solc-x's native solc if it is installed or can be
downloaded, otherwise a ``solc``-compatible command over solc-js (``node_modules/solc``) that is
registered with py-solc-x under the same version, so brownie and this module both find it.
Artifacts are cached in ``build/`` keyed by a hash of every source and setting.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hedgevault.errors import CompilationError, ToolchainError
from hedgevault.toolchain.paths import (
    BROWNIE_CONFIG,
    BUILD_DIR,
    NODE_MODULES,
    PROJECT_ROOT,
    SOLCX_DIR,
)

_SHIM_JS = Path(__file__).with_name("solcjs_shim.js")
_SOURCE_DIRS = ("contracts", "interfaces")
_DOWNLOAD_TIMEOUT_SEC = 30.0


@dataclass(frozen=True)
class CompilerSettings:
    """The compiler settings the project ships (read from ``brownie-config.yaml``)."""

    version: str
    evm_version: str
    optimizer_runs: int
    optimizer_enabled: bool
    via_ir: bool
    remappings: tuple[str, ...]


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def load_settings(config_path: Path = BROWNIE_CONFIG) -> CompilerSettings:
    """Read the compiler section of ``brownie-config.yaml``."""
    try:
        config = yaml.safe_load(config_path.read_text())
        compiler = config["compiler"]
        solc = compiler["solc"]
        return CompilerSettings(
            version=str(solc["version"]),
            evm_version=str(compiler["evm_version"]),
            optimizer_runs=int(solc["optimizer"]["runs"]),
            optimizer_enabled=bool(solc["optimizer"]["enabled"]),
            via_ir=bool(solc.get("viaIR", False)),
            remappings=tuple(str(r) for r in solc.get("remappings", [])),
        )
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise ToolchainError(
            f"cannot read compiler settings from {config_path}: {exc!r}; "
            "it needs compiler.evm_version and compiler.solc.{version, optimizer.runs, optimizer.enabled}"
        ) from exc


def _solcx_dir() -> Path:
    """py-solc-x's binary folder: ``$SOLCX_BINARY_PATH`` or the project's own ``.solcx``."""
    os.environ.setdefault("SOLCX_BINARY_PATH", str(SOLCX_DIR))
    folder = Path(os.environ["SOLCX_BINARY_PATH"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _answers_version(binary: Path, version: str) -> bool:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False).stdout
    except OSError:
        return False
    return f"Version: {version}+" in out


def _try_native_download(version: str, folder: Path) -> bool:
    """Ask py-solc-x for the native binary; give up after a timeout (no network here)."""
    import solcx

    result: list[bool] = []

    def _run() -> None:
        try:
            solcx.install_solc(version, solcx_binary_path=folder)
            result.append(True)
        except Exception:  # noqa: BLE001 - any failure means: use solc-js instead
            result.append(False)

    worker = threading.Thread(target=_run, daemon=True)
    worker.start()
    worker.join(_DOWNLOAD_TIMEOUT_SEC)
    return bool(result and result[0])


def _write_shim(target: Path, version: str) -> None:
    solc_js_dir = NODE_MODULES / "solc"
    package = solc_js_dir / "package.json"
    if not package.exists():
        raise ToolchainError(f"solc-js is not installed ({package} is missing): run `make setup` (npm ci) first")
    installed = json.loads(package.read_text())["version"]
    if installed != version:
        raise ToolchainError(
            f"node_modules/solc is {installed} but brownie-config.yaml pins {version}: "
            "pin the same version in package.json and run `make setup`"
        )
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("node is not on PATH: install Node.js 20 to use solc-js")
    script = (
        "#!/bin/sh\n"
        "# solc-compatible command over solc-js, written by hedgevault.toolchain.compiler\n"
        f'HEDGEVAULT_SOLCJS_DIR="{solc_js_dir}" exec "{node}" "{_SHIM_JS}" "$@"\n'
    )
    if not target.exists() or target.read_text() != script:
        target.write_text(script)
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def ensure_solc(version: str | None = None) -> Path:
    """Return a working ``solc`` of the pinned version, installing or registering one if needed.

    Order: a native binary already in py-solc-x's folder; a native download through py-solc-x;
    the solc-js shim. ``HEDGEVAULT_SOLC=native`` or ``=solcjs`` forces one of the last two (remove
    ``.solcx/`` to choose again once a shim is registered). The chosen executable is registered as
    ``solc-v<version>`` in py-solc-x's folder, so ``brownie compile`` uses the same compiler.
    """
    version = version or load_settings().version
    folder = _solcx_dir()
    target = folder / f"solc-v{version}"
    if target.exists() and _answers_version(target, version):
        if not target.read_bytes().startswith(b"#!/bin/sh\n# solc-compatible command over solc-js"):
            return target  # a native binary
        _write_shim(target, version)  # refresh paths in case the checkout moved
        return target
    choice = os.environ.get("HEDGEVAULT_SOLC", "auto")
    if choice not in ("auto", "native", "solcjs"):
        raise ToolchainError(f"HEDGEVAULT_SOLC={choice!r}: use auto (default), native or solcjs")
    if choice != "solcjs" and _try_native_download(version, folder) and _answers_version(target, version):
        return target
    if choice == "native":
        raise ToolchainError(
            f"HEDGEVAULT_SOLC=native but solc {version} could not be downloaded: unset it to fall back to solc-js"
        )
    _write_shim(target, version)
    if not _answers_version(target, version):
        raise ToolchainError(f"the solc-js shim at {target} does not answer --version {version}")
    return target


def _source_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for folder in _SOURCE_DIRS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.sol")):
            files[path.relative_to(PROJECT_ROOT).as_posix()] = path
    return files


def _standard_input(settings: CompilerSettings, files: dict[str, Path]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": path.read_text()} for name, path in files.items()},
        "settings": {
            "evmVersion": settings.evm_version,
            "optimizer": {"enabled": settings.optimizer_enabled, "runs": settings.optimizer_runs},
            "viaIR": settings.via_ir,
            "remappings": list(settings.remappings),
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def compile_project(force: bool = False) -> dict[str, Artifact]:
    """Compile ``contracts/`` and ``interfaces/``; return artifacts by contract name (cached)."""
    import solcx

    settings = load_settings()
    files = _source_files()
    standard_input = _standard_input(settings, files)
    digest = hashlib.sha256(json.dumps(standard_input, sort_keys=True).encode()).hexdigest()[:16]
    BUILD_DIR.mkdir(exist_ok=True)
    cache = BUILD_DIR / f"hedgevault-{digest}.json"
    if cache.exists() and not force:
        output = json.loads(cache.read_text())
    else:
        solc = ensure_solc(settings.version)
        try:
            output = solcx.compile_standard(standard_input, solc_binary=solc, allow_paths=str(PROJECT_ROOT))
        except solcx.exceptions.SolcError as exc:
            raise CompilationError(f"solc failed: {exc}") from exc
        errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
        if errors:
            raise CompilationError("\n".join(e["formattedMessage"] for e in errors))
        # atomic, and other digests are kept: processes compiling different trees at once
        # (a test run beside a benchmark) must not delete each other's caches
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(output))
        partial.replace(cache)
    artifacts: dict[str, Artifact] = {}
    for source, contracts in output["contracts"].items():
        for name, data in contracts.items():
            artifacts[name] = Artifact(
                name=name,
                source=source,
                abi=data["abi"],
                bytecode=data["evm"]["bytecode"]["object"],
                deployed_bytecode=data["evm"]["deployedBytecode"]["object"],
            )
    return artifacts
