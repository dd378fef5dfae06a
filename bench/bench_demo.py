"""The demo scenario (`hedgevault simulate` with no flags: 7 days at hourly steps, seed 1): wall time and
peak resident memory of this process plus its children (Anvil), sampled every 0.1 s with psutil.

Targets (issue 4): within 3 minutes; peak memory, Anvil included, under 1 GiB.

Usage: python bench/bench_demo.py [--seed 1] [--out bench/results/demo.txt]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.sim.run import RunOptions, run

TARGET_SEC = 180.0
TARGET_RSS_BYTES = 2**30


class TreeRssSampler:
    """Peak of (RSS of this process + RSS of all its descendants), sampled every ``interval_sec``."""

    def __init__(self, interval_sec: float = 0.1) -> None:
        self.interval_sec = interval_sec
        self.peak_bytes = 0
        self.peak_children_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        total = me.memory_info().rss
        children = 0
        for child in me.children(recursive=True):
            try:
                children += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        self.peak_bytes = max(self.peak_bytes, total + children)
        self.peak_children_bytes = max(self.peak_children_bytes, children)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_sec)

    def __enter__(self) -> TreeRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/results/demo.txt"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, TreeRssSampler() as sampler:
        started = time.perf_counter()
        output = run(RunOptions(seed=args.seed, out_dir=Path(tmp), quiet=True))
        wall = time.perf_counter() - started
    s = output.document["summary"]
    lines = [
        "Demo scenario: `hedgevault simulate` defaults (GBM 7 days, hourly steps = 168 steps, seed "
        f"{args.seed}), embedded Anvil, real keeper, charts included",
        f"machine: {machine()}",
        f"wall time: {wall:.1f} s (setup {output.timing['setup_sec']:.1f} s, steps "
        f"{output.timing['steps_sec']:.1f} s = {1000 * output.timing['steps_sec'] / s['steps']:.0f} ms/step) "
        f"target <= {TARGET_SEC:.0f} s: {'met' if wall <= TARGET_SEC else 'MISSED'}",
        f"peak RSS, this process + Anvil: {sampler.peak_bytes / 2**20:.0f} MiB (children alone "
        f"{sampler.peak_children_bytes / 2**20:.0f} MiB) target < 1024 MiB: "
        f"{'met' if sampler.peak_bytes < TARGET_RSS_BYTES else 'MISSED'}",
        f"run: {s['hedges']} hedges, {s['settlements']} settlements, trades {s['trades']}, "
        f"share price {s['share_price_start']:.6f} -> {s['share_price_end']:.6f}",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
