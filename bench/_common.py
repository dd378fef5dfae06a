"""Shared by the benchmarks: the machine they ran on, and valid inputs."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hedgevault.greeks import mirror
from hedgevault.greeks.errors import GreeksError
from hedgevault.greeks.sampling import Input, random_inputs


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def valid_inputs(n: int, seed: int, live_only: bool = True) -> list[Input]:
    """n inputs inside the domain (time > 0 unless live_only is False), from the shared sampler."""
    out: list[Input] = []
    batch = 0
    while len(out) < n:
        for inp in random_inputs(n, seed + batch):
            try:
                mirror.check_inputs(*inp)
            except GreeksError:
                continue
            if live_only and inp[2] == 0:
                continue
            out.append(inp)
        batch += 1
    return out[:n]


def percentiles(values: list[int]) -> str:
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]  # noqa: E731
    return f"min {v[0]:>7,}  median {pick(0.5):>7,}  p90 {pick(0.9):>7,}  max {v[-1]:>7,}"
