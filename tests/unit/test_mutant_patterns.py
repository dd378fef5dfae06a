"""Every mutant in ``bench/mutants.py`` still finds its code: its pattern occurs exactly once in its file.

The runner skips a mutant whose pattern is gone (the code moved, e.g. into a library) and prints STALE; without
this test such a mutant would test nothing, unnoticed, until someone read the bench's output line by line. The
list is read by running the module's definitions only (everything before the loop that mutates sources).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "bench" / "mutants.py"
_LOOP = "\nonly = sys.argv"


def _mutants() -> list[tuple]:
    src = RUNNER.read_text()
    assert src.count(_LOOP) == 1, "bench/mutants.py's loop moved: update the split point of this test"
    ns: dict = {"__file__": str(RUNNER)}
    exec(compile(src.split(_LOOP)[0], str(RUNNER), "exec"), ns)  # definitions only: nothing is mutated
    return list(ns["mutants"])


MUTANTS = _mutants()


def test_mutant_ids_are_unique() -> None:
    ids = [m[0].split()[0] for m in MUTANTS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m[0].split()[0] for m in MUTANTS])
def test_each_mutant_finds_its_code_exactly_once(mutant: tuple) -> None:
    name, path, old, new, tests, *extra = mutant
    text = (ROOT / path).read_text()
    assert text.count(old) == 1, f"{name}: pattern found {text.count(old)} times in {path}"
    assert new != old, f"{name}: the mutation changes nothing"
    for extra_old, _ in extra:
        assert extra_old in text.replace(old, new), f"{name}: an extra pattern is missing in {path}"
    for t in tests:
        assert (ROOT / t.split("::")[0]).exists(), f"{name}: its test file {t} does not exist"
