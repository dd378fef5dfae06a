"""Manifests are written atomically (issue 12: "`deploy | head` killed mid-deploy left a partial manifest").

`save_manifest` writes a temporary file beside the manifest, fsyncs it and renames it over the manifest, so a
reader finds the old manifest or the new one, never part of one. Shown here four ways: a crash at each step of
the writer (the old manifest stays, no temporary file is left), a writer process killed with SIGKILL at random
moments while it rewrites a 2 MB manifest in a loop, `hedgevault deploy` killed midway (SIGTERM, SIGKILL: the
manifest is whole, `status` reads it, a rerun finishes the deployment), and `hedgevault deploy | head -1`."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flows import Run
from web3 import Web3

from hedgevault.chain import Node
from hedgevault.deployment import load_manifest
from hedgevault.deployment import manifest as manifest_module
from hedgevault.deployment.manifest import (
    INFRASTRUCTURE_KEYS,
    MANIFEST_MODE,
    ChainIdentity,
    ContractRecord,
    InfrastructureSection,
    Manifest,
    save_manifest,
)

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _manifest(tag: str, padding: int = 0) -> Manifest:
    """A valid manifest whose every record carries ``tag`` (so two versions differ everywhere) and whose
    parameters carry ``padding`` characters (so that writing it takes a while)."""
    records = {
        key: ContractRecord(
            address=Web3.to_checksum_address(f"0x{i + 1:040x}"),
            artifact=f"{key}-{tag}",
            code_hash="0x" + tag * (64 // len(tag)),
        )
        for i, key in enumerate(INFRASTRUCTURE_KEYS)
    }
    section = InfrastructureSection(origin="deployed", parameters={"tag": tag, "pad": "x" * padding}, contracts=records)
    return Manifest(chain=ChainIdentity(31337, "0x" + "ab" * 32), deployer=DEPLOYER, infrastructure=section)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- the writer, step by step


def test_a_new_manifest_is_whole_and_readable_by_all(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "m.json"
    save_manifest(_manifest("a"), path)
    assert load_manifest(path).to_json() == _manifest("a").to_json()
    assert path.stat().st_mode & 0o777 == MANIFEST_MODE == 0o644, "mkstemp's 0600 must not stay on the manifest"
    assert _leftovers(path.parent) == []


@pytest.mark.parametrize(
    ("step", "exc"),
    [
        ("fsync", OSError(28, "No space left on device")),  # the disk fills while the new text is written
        ("fchmod", PermissionError(1, "Operation not permitted")),
        ("replace", KeyboardInterrupt()),  # Ctrl-C (or a signal handler raising) between write and rename
        ("replace", OSError(18, "Invalid cross-device link")),
    ],
)
def test_a_crash_before_the_rename_keeps_the_old_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, exc: BaseException
) -> None:
    path = tmp_path / "m.json"
    save_manifest(_manifest("a"), path)
    before = path.read_bytes()
    real = getattr(os, step)
    calls: list[tuple[Any, ...]] = []

    def crash(*args: Any) -> None:
        calls.append(args)
        raise exc

    monkeypatch.setattr(manifest_module.os, step, crash)
    with pytest.raises(type(exc)):
        save_manifest(_manifest("b"), path)
    assert calls, f"save_manifest no longer calls os.{step}"
    assert path.read_bytes() == before, "the old manifest must stay as it was"
    assert _leftovers(tmp_path) == [], "the temporary file must be removed"
    monkeypatch.setattr(manifest_module.os, step, real)
    save_manifest(_manifest("b"), path)
    assert load_manifest(path).to_json() == _manifest("b").to_json()


def test_the_rename_is_the_last_step_and_renames_a_temporary_file_in_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the rename the temporary file already holds the whole new manifest, and the manifest still holds the
    old one: a kill at any earlier moment leaves the old manifest."""
    path = tmp_path / "m.json"
    save_manifest(_manifest("a"), path)
    seen: list[tuple[str, str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((src, Path(src).read_text(), Path(dst).read_text()))
        real_replace(src, dst)

    monkeypatch.setattr(manifest_module.os, "replace", spy)
    save_manifest(_manifest("b"), path)
    ((src, new_text, old_text),) = seen
    assert Path(src).parent == tmp_path and Path(src).name.startswith(".m.json.")
    assert json.loads(new_text) == _manifest("b").to_json()
    assert json.loads(old_text) == _manifest("a").to_json()


# ---------------------------------------------------------------- a writer killed at random moments

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_manifest_atomic import _manifest
    from hedgevault.deployment.manifest import save_manifest
    path = Path({path!r})
    versions = [_manifest("a", 2_000_000), _manifest("b", 2_000_000)]
    print("ready", flush=True)
    i = 0
    while True:
        save_manifest(versions[i % 2], path)
        i += 1
    """
)


def test_a_writer_read_meanwhile_and_killed_at_random_moments_never_shows_a_partial_manifest(tmp_path: Path) -> None:
    """A process rewrites a 2 MB manifest in a loop (two versions in turn); meanwhile every read finds one of
    the two versions, whole, and so does the read after a SIGKILL (no cleanup runs) at a random moment. A plain
    ``path.write_text`` here fails within the first round (a reader finds the file truncated)."""
    path = tmp_path / "m.json"
    save_manifest(_manifest("a", 2_000_000), path)
    versions = [_manifest(tag, 2_000_000).to_json() for tag in ("a", "b")]
    script = _WRITER.format(tests=str(Path(__file__).parent), path=str(path))
    rng = random.Random(12)
    reads = 0
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            seen = set()
            end = time.monotonic() + rng.uniform(0.5, 1.5)
            while time.monotonic() < end:
                document = load_manifest(path).to_json()
                assert document in versions
                seen.add(document["infrastructure"]["parameters"]["tag"])
                reads += 1
            assert seen == {"a", "b"}, "the writer did not rewrite the manifest while it was read"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert load_manifest(path).to_json() in versions
    assert reads >= 20
    # what a kill between the write and the rename leaves: at most one hidden temporary file per kill
    assert all(name.startswith(".m.json.") for name in _leftovers(tmp_path))


# ---------------------------------------------------------------- `hedgevault deploy` interrupted


def _hedgevault(*argv: str | Path, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hedgevault.cli", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_deploy_killed_midway_leaves_a_whole_manifest_that_a_rerun_finishes(
    anvils: Callable[..., Node], hv: Callable[..., Run], tmp_path: Path, sig: signal.Signals
) -> None:
    node = anvils()
    path = tmp_path / "m.json"
    proc = _hedgevault("deploy", "--rpc-url", node.url, "--manifest", path)
    assert proc.stdout is not None
    lines: list[str] = []
    # kill it a few contracts after the first save: the manifest exists and the deployment is unfinished
    while not (path.exists() and len(lines) >= 12):
        line = proc.stdout.readline()
        assert line, (
            f"deploy ended before it could be killed: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
        )
        lines.append(line)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == -sig
    partial = load_manifest(path)  # whole JSON, a valid manifest: ManifestError otherwise
    assert partial.vault_stack is None or "vault" not in partial.vault_stack.contracts, "it was killed too late"
    status = hv("status", "--rpc-url", node.url, "--manifest", path)
    assert status.code == 2 and "Traceback" not in status.err
    assert len(status.err.strip().splitlines()) == 1 and "run `hedgevault deploy` to finish it" in status.err
    rerun = hv("deploy", "--rpc-url", node.url, "--manifest", path)
    assert rerun.code == 0, rerun.err
    assert "reusing what it records" in rerun.out
    assert hv("status", "--rpc-url", node.url, "--manifest", path).code == 0


def test_deploy_piped_into_head_stops_cleanly_and_leaves_a_whole_manifest_or_none(
    anvils: Callable[..., Node], hv: Callable[..., Run], tmp_path: Path
) -> None:
    """`hedgevault deploy | head -1`: the reader goes away after the first line; the next line deploy prints
    fails (EPIPE) and stops it with no traceback."""
    node = anvils()
    path = tmp_path / "m.json"
    proc = _hedgevault("deploy", "--rpc-url", node.url, "--manifest", path)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert first.startswith("chain")
    proc.stdout.close()
    code = proc.wait(timeout=120)
    err = proc.stderr.read()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code == 141, err  # stopped midway: not a success (128 + SIGPIPE, as a shell reports it)
    if path.exists():
        load_manifest(path)
    rerun = hv("deploy", "--rpc-url", node.url, "--manifest", path)
    assert rerun.code == 0, rerun.err
    assert hv("status", "--rpc-url", node.url, "--manifest", path).code == 0
