"""The one table of what each custom error means (``hedgevault.hints``): it covers every error declared in
``contracts/`` and ``interfaces/`` that a user or the keeper can meet, names no error the compiled ABIs no
longer declare, and each reader (CLI, keeper, governance) words its message from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hedgevault import hints
from hedgevault.governance import STEPS
from hedgevault.keeper.logs import explain
from hedgevault.reverts import error_table

ROOT = Path(__file__).resolve().parents[2]
_DECLARATION = re.compile(r"^\s*error\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(", re.MULTILINE)


def declared_errors() -> dict[str, list[str]]:
    """Error name -> the .sol files that declare it, over contracts/ (test harnesses and mocks excluded) and
    interfaces/."""
    found: dict[str, list[str]] = {}
    for folder in ("contracts", "interfaces"):
        for path in sorted((ROOT / folder).rglob("*.sol")):
            if path.is_relative_to(ROOT / "contracts" / "test"):
                continue
            for name in _DECLARATION.findall(path.read_text()):
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_the_parser_sees_the_declarations() -> None:
    """Not blind: errors known to be declared in each kind of file are found (a parser that found nothing would
    let the coverage test pass)."""
    declared = declared_errors()
    assert "interfaces/IOptionVault.sol" in declared["HealthFactorTooLow"]
    assert "contracts/hedging/AaveHedger.sol" in declared["CollateralShort"]
    assert "contracts/libraries/BoundedSwap.sol" in declared["PoolBeyondLimit"]
    assert len(declared) > 120


def test_every_declared_error_a_user_or_keeper_can_meet_has_a_meaning() -> None:
    declared = set(declared_errors())
    missing = declared - set(hints.HINTS) - set(hints.UNREACHABLE)
    assert not missing, f"declared errors with no entry in hedgevault.hints.HINTS: {sorted(missing)}"


def test_no_error_is_both_explained_and_called_unreachable() -> None:
    assert not set(hints.HINTS) & set(hints.UNREACHABLE)
    assert set(hints.UNREACHABLE) <= set(declared_errors())


def test_every_entry_names_an_error_the_compiled_abis_declare() -> None:
    """A stale or misspelt key would never match a revert (OpenZeppelin's errors count: the vault reverts with
    them)."""
    compiled = {name for name, _, _ in error_table().values()}
    assert set(hints.HINTS) - compiled == set()
    assert set(STEPS) <= set(hints.HINTS)


def test_a_mirrored_error_means_what_its_mirror_says_and_is_not_written_twice() -> None:
    """The errors the off-chain mirrors raise carry their meaning in the exception's ``HINT``: the table reads
    it (the CLI, the keeper and the mirror's own exception say the same) and does not word it again."""
    from hedgevault.surface.errors import SviButterflyArbitrage

    mirrored = hints.mirrored_meanings()
    assert len(mirrored) >= 40
    assert not set(mirrored) & set(hints._WRITTEN), "a mirrored error is worded twice"
    assert set(hints._MIRRORED_KEEPER_STEPS) <= set(mirrored)
    for name, means in mirrored.items():
        assert hints.HINTS[name].means == means, name
    assert str(SviButterflyArbitrage(1, -2)).endswith(": " + str(hints.for_user("SviButterflyArbitrage")))


def test_every_entry_says_something() -> None:
    for name, hint in hints.HINTS.items():
        assert hint.means and not hint.means.endswith((".", ":", ";")), name
        for step in (hint.user, hint.keeper):
            assert not step.endswith((".", ":", ";")), name


def test_the_cli_line_the_keeper_explanation_and_governance_read_one_meaning() -> None:
    means = hints.HINTS["HealthFactorTooLow"].means
    line = hints.revert_message("withdraw", "HealthFactorTooLow(healthFactorWad=0.9, floorWad=1.2)")
    assert line == (
        f"withdraw would revert with HealthFactorTooLow(healthFactorWad=0.9, floorWad=1.2): {means}: take less "
        "(see `hedgevault status`)"
    )
    assert explain("hedge: HealthFactorTooLow(healthFactorWad=1, floorWad=2)") == (
        f"HealthFactorTooLow: {means}: the upkeep waits; check the book with `hedgevault status`"
    )
    role = hints.HINTS["AccessControlUnauthorizedAccount"].means
    governance = hints.revert_message(
        "execute",
        "AccessControlUnauthorizedAccount(account=0x1, neededRole=0x2)",
        STEPS["AccessControlUnauthorizedAccount"],
    )
    assert governance.endswith(f": {role}: {STEPS['AccessControlUnauthorizedAccount']}")
    # an error with no next step for the reader shows the meaning alone; an unknown one, the decoded text alone
    assert hints.for_user("NothingToClaim") == hints.HINTS["NothingToClaim"].means
    assert hints.revert_message("buy", "Error('x: y')") == "buy would revert with Error('x: y')"


@pytest.mark.parametrize(
    ("texts", "name"),
    [
        (("simulate: Panic(0x11); then FeedStale(updatedAt=1)",), "FeedStale"),
        ((None, "UnknownThing(a=1) then VolStale(expiry=1)"), "VolStale"),
        (("Error('x')", 3), None),
    ],
)
def test_named_error_finds_the_first_known_error(texts: tuple[object, ...], name: str | None) -> None:
    assert hints.named_error(*texts) == name
