"""Shared by the benchmarks: the machine they ran on, valid inputs, and the differential loop of the mirror benches."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hedgevault.errors import ContractError
from hedgevault.greeks import mirror
from hedgevault.greeks.errors import GreeksError
from hedgevault.greeks.sampling import Input, random_inputs

T = TypeVar("T")


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


def compare_with_contract(
    label: str,
    n: int,
    chunk: int,
    sample: Callable[[int, int], Sequence[T]],
    on_chain: Callable[[Sequence[T]], Sequence[Any]],
    off_chain: Callable[[T], Any],
    errors: Sequence[type[ContractError]],
) -> int:
    """A mirror against the compiled library on ``n`` sampled inputs, ``chunk`` per eth_call: ``sample(count,
    offset)`` draws the inputs, ``on_chain`` answers a chunk (a value, or the revert bytes; ``b""`` for a check
    that passed), ``off_chain`` answers one input (raising the mirror's ``ContractError``, compared by its revert
    bytes). Prints the mismatches (target 0: bit-exact) and the outcomes by error name; returns the mismatches."""

    def name(outcome: Any) -> str:
        if not isinstance(outcome, bytes) or not outcome:
            return "passed"
        return next((e.__name__ for e in errors if outcome[:4] == e.selector()), outcome[:4].hex())

    start = time.perf_counter()
    mismatches, kinds = 0, Counter[str]()
    for offset in range(0, n, chunk):
        inputs = sample(min(chunk, n - offset), offset)
        for inp, got in zip(inputs, on_chain(inputs), strict=True):
            try:
                want = off_chain(inp)
            except ContractError as exc:
                want = exc.revert_data()
            mismatches += got != want
            kinds[name(got)] += 1
    print(f"{label}: {n:,} inputs, {mismatches} mismatches ({time.perf_counter() - start:.0f} s)")
    print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))
    return mismatches
