"""The command line: exact unit parsing and errors as messages with a non-zero exit, not tracebacks."""

from __future__ import annotations

import pytest

from hedgevault.cli import main
from hedgevault.units import InputError, from_wad, to_seconds, to_wad


def test_units_are_exact() -> None:
    assert to_wad("0.2", "vol") == 2 * 10**17
    assert to_wad("-0.01", "rate") == -(10**16)
    assert from_wad(4_759_422_392_871_533_219) == "4.759422392871533219"
    assert from_wad(-(10**18)) == "-1"
    assert to_seconds("30d", "time") == 2_592_000
    assert to_seconds("0.5y", "time") == 15_768_000
    assert to_seconds("3600", "time") == 3600


@pytest.mark.parametrize(
    ("text", "message"),
    [("abc", "is not a number"), ("1e-19", "more than 18 decimals"), ("nan", "not a finite number")],
)
def test_bad_numbers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        to_wad(text, "--spot")


def test_cli_prints_the_set_and_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["greeks", "--spot", "42", "--strike", "40", "--time", "0.5y", "--vol", "0.2", "--rate", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "call" in out and "4.759422392871533219" in out
    assert main(["greeks", "--spot", "42", "--strike", "40", "--time", "0.5y", "--vol", "20"]) == 2
    err = capsys.readouterr().err
    assert "VolatilityOutOfRange" in err and "within [0.001, 10]" in err
    assert main(["greeks", "--spot", "42", "--strike", "40", "--time", "soon", "--vol", "0.2"]) == 2
    assert "is not a duration" in capsys.readouterr().err
