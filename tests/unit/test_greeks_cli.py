"""`hedgevault greeks`: which flags go together (issue 12: `--price` demanded `--vol`; `--type` without
`--price`, `--rpc-url` without `--onchain` and `--onchain` with only `--price` were silently ignored), the
library's refusals in the units the user typed, one line and exit 2 with nothing printed before it, and
`--onchain` comparing the implied volatility too (an embedded Anvil)."""

from __future__ import annotations

import pytest

from hedgevault.cli import main
from hedgevault.greeks import mirror
from hedgevault.units import from_wad

ATM = ["greeks", "--spot", "3000", "--strike", "3000", "--time", "7d"]
WAD = 10**18


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*ATM, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_price_alone_solves_the_implied_vol_without_vol(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--price", "100")
    expected = mirror.implied_vol(100 * WAD, 3000 * WAD, 3000 * WAD, 7 * 86_400, 0, True)
    assert (code, err) == (0, "")
    assert out == f"implied volatility of a call at 100: {from_wad(expected)}\n"


def test_type_chooses_the_option_whose_price_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    # ITM strike: the call and the put of the same price have different implied vols
    code, out, _ = _run(capsys, "--price", "300", "--type", "put", "--strike", "3200")
    expected = mirror.implied_vol(300 * WAD, 3000 * WAD, 3200 * WAD, 7 * 86_400, 0, False)
    assert code == 0 and out == f"implied volatility of a put at 300: {from_wad(expected)}\n"
    assert expected != mirror.implied_vol(300 * WAD, 3000 * WAD, 3200 * WAD, 7 * 86_400, 0, True)


def test_vol_and_price_print_the_greeks_then_the_implied_vol(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--vol", "0.8", "--price", "100")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[0] == "call" and lines[-1].startswith("implied volatility of a call")
    assert len(lines) == 11


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --vol (to price the option) or --price (to solve its implied volatility), or both"),
        (["--vol", "0.8", "--type", "put"], "--type says which option --price is the price of: give --price too"),
        (["--vol", "0.8", "--rpc-url", "http://127.0.0.1:1"], "--rpc-url is where --onchain evaluates"),
        (["--price", "100", "--rpc-url", "http://127.0.0.1:1"], "--rpc-url is where --onchain evaluates"),
        # the library's refusals, in the units typed (not -5000000000000000000), without the wad ranges
        (["--vol", "0.8", "--spot", "-5"], "SpotOutOfRange(spot=-5): spot must be within [1e-6, 1e12]"),
        (["--vol", "20"], "VolatilityOutOfRange(vol=20): volatility must be within [0.001, 10]"),
        (["--vol", "0.8", "--rate", "5"], "RateOutOfRange(rate=5): rate must be within [-1, 1]"),
        (["--price", "5000"], "PriceOutOfBounds(price=5000, lower=0, upper=3000): no volatility fits"),
        (["--price", "-1", "--type", "put"], "PriceOutOfBounds(price=-1, lower=0, upper=3000)"),
        (["--price", "10", "--time", "0"], "TimeOutOfRange(timeSec=0)"),  # the later --time wins
        # a good --vol and a bad --price: nothing printed before the message
        (["--vol", "0.8", "--price", "0"], "PriceOutOfBounds(price=0, lower=0, upper=3000)"),
        (["--vol", "0.8", "--type", "straddle", "--price", "1"], "invalid choice: 'straddle'"),
    ],
)
def test_bad_combinations_and_inputs_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Wad" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 or "usage:" in err


def test_onchain_compares_the_implied_vol_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--price", "100", "--type", "put", "--onchain")
    assert code == 0, err
    assert out.splitlines()[0] == "on-chain implied volatility equals the mirror"
    assert out.splitlines()[-1].startswith("implied volatility of a put at 100: ")
