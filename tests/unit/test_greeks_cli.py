"""`hedgevault greeks`: which flags go together (issue 12: `--price` demanded `--vol`; `--type` without
`--price`, `--rpc-url` without `--onchain` and `--onchain` with only `--price` were silently ignored), the
library's refusals in the units the user typed, one line and exit 2 with nothing printed before it, and
`--onchain` comparing the implied volatility too (an embedded Anvil).

`--svi a,b,rho,m,sigma` (issue 13): the strike's vol from a raw SVI slice through the bit-exact mirror, the Greeks
priced at it equal to the wei to `--vol` at that vol; `--forward` (default the spot) and `--svi-time` (default
`--time`) where the slice is read; the slice's refusals in the units typed; `--onchain` through ``SviHarness``.
Tolerance everywhere: none (exact integers)."""

from __future__ import annotations

import pytest

from hedgevault.cli import main
from hedgevault.greeks import mirror
from hedgevault.greeks.slice_vol import parse_svi
from hedgevault.surface import mirror as svi_mirror
from hedgevault.units import from_units, from_wad, to_units

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
        ([], "give --vol or --svi (to price the option) or --price (to solve its implied volatility), or both"),
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


# ----------------------------------------------------------------------------- --svi (issue 13)

#: A put-skewed slice (a in total variance over 30 days: about 80% at the money), as `hedgevault surface` prints one.
SVI = "0.042602739726027408255504065113358336,0.1,-0.5,0,0.1"
SLICE = svi_mirror.Slice(42602739726027408255504065113358336, WAD // 10, -WAD // 2, 0, WAD // 10)
DAYS30 = 30 * 86_400


def _greeks_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if not line.startswith(("svi vol", "on-chain"))]


@pytest.mark.parametrize("strike", ["2400", "2700", "3000", "3300", "3600"])
def test_svi_prices_at_the_mirrors_vol_to_the_wei(capsys: pytest.CaptureFixture[str], strike: str) -> None:
    base = ["greeks", "--spot", "3000", "--strike", strike, "--time", "30d", "--rate", "0.02"]
    vol = svi_mirror.vol_wad(SLICE, int(strike) * WAD, 3000 * WAD, DAYS30)
    capsys.readouterr()
    assert main([*base, "--svi", SVI]) == 0
    with_svi = capsys.readouterr().out
    assert main([*base, "--vol", from_wad(vol)]) == 0
    with_vol = capsys.readouterr().out
    assert _greeks_lines(with_svi) == with_vol.splitlines()
    result = mirror.greeks(3000 * WAD, int(strike) * WAD, DAYS30, vol, 2 * WAD // 100)
    assert with_vol.splitlines()[0].split() == ["call", from_wad(result.call)]
    k = svi_mirror.log_moneyness_wad(int(strike) * WAD, 3000 * WAD)
    assert with_svi.splitlines()[0] == (
        f"svi vol: {from_wad(vol)} (k = ln(strike / forward) = {from_wad(k)}, forward 3000, over {DAYS30} s)"
    )


def test_the_skew_reaches_the_price(capsys: pytest.CaptureFixture[str]) -> None:
    """The 2400 put under the slice costs more than at the at-the-money vol (its wing's vol is higher)."""
    atm = svi_mirror.vol_wad(SLICE, 3000 * WAD, 3000 * WAD, DAYS30)
    wing = svi_mirror.vol_wad(SLICE, 2400 * WAD, 3000 * WAD, DAYS30)
    assert wing > atm + WAD // 10
    code, out, _ = _run(capsys, "--strike", "2400", "--time", "30d", "--svi", SVI)
    put = next(line for line in out.splitlines() if line.startswith("put "))
    assert code == 0 and put.split()[1] == from_wad(mirror.greeks(3000 * WAD, 2400 * WAD, DAYS30, wing, 0).put)
    assert (
        mirror.greeks(3000 * WAD, 2400 * WAD, DAYS30, wing, 0).put
        > mirror.price(3000 * WAD, 2400 * WAD, DAYS30, atm, 0)[1]
    )


def test_forward_defaults_to_the_spot_and_moves_k(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--strike", "2700", "--time", "30d", "--svi", SVI)
    _, default, _ = _run(capsys, *args)
    _, same, _ = _run(capsys, *args, "--forward", "3000")
    code, other, _ = _run(capsys, *args, "--forward", "3100")
    assert default == same and code == 0
    vol = svi_mirror.vol_wad(SLICE, 2700 * WAD, 3100 * WAD, DAYS30)
    assert other.splitlines()[0].startswith(f"svi vol: {from_wad(vol)} (k = ln(strike / forward) = ")
    assert vol != svi_mirror.vol_wad(SLICE, 2700 * WAD, 3000 * WAD, DAYS30)


def test_svi_time_is_the_slices_own_time(capsys: pytest.CaptureFixture[str]) -> None:
    """The oracle's slice is over T0 (its time to expiry at the post): --svi-time reads it there, the Greeks
    stay at --time."""
    code, out, _ = _run(capsys, "--strike", "2700", "--time", "20d", "--svi", SVI, "--svi-time", "30d")
    vol = svi_mirror.vol_wad(SLICE, 2700 * WAD, 3000 * WAD, DAYS30)
    assert code == 0 and out.splitlines()[0].startswith(f"svi vol: {from_wad(vol)} ")
    assert out.splitlines()[1].split()[1] == from_wad(mirror.greeks(3000 * WAD, 2700 * WAD, 20 * 86_400, vol, 0).call)


def test_a_flat_slice_gives_its_vol_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    flat = svi_mirror.flat_slice(8 * WAD // 10, DAYS30)  # a = ceil(v^2 T / year): v to the wei
    code, out, _ = _run(capsys, "--strike", "3600", "--time", "30d", "--svi", f"{from_units(flat.a36, 36)},0,0,0,1")
    assert code == 0 and out.splitlines()[0].startswith("svi vol: 0.8 ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--vol", "0.8", "--svi", SVI], "give the volatility once: --vol (one number) or --svi"),
        (["--vol", "0.8", "--forward", "3000"], "--forward belongs to the slice: give --svi too"),
        (["--vol", "0.8", "--svi-time", "30d"], "--svi-time belongs to the slice: give --svi too"),
        (["--svi", "0.04,0.1,-0.5,0"], "give five numbers a,b,rho,m,sigma"),
        (["--svi", "0.04,0.1,x,0,0.1"], "--svi rho: 'x' is not a number"),
        (["--svi", "0.04,0.1,-0.5,0,0.1e-18"], "--svi sigma: '0.1e-18' has more than 18 decimals"),
        (["--svi", "0.04,0.1,-1,0,0.1"], "--svi: SviRhoOutOfRange(rho=-1): rho must be strictly within (-1, 1)"),
        (["--svi", "0.04,0.1,0,0,6"], "SviParamOutOfDomain(sigma=6, min=0.000000001, max=5)"),
        # Lee's bound: a slice the evaluation alone would price; refused as the oracle would refuse it
        (["--svi", "0.04,1.5,0.5,0,0.1"], "SviLeeBoundExceeded(b=1.5, rho=0.5, slope=2.25)"),
        (["--svi=-0.04,0.1,0,0,0.1"], "SviMinVarianceNegative(minVariance=-0.03)"),
        (["--svi", SVI, "--strike", "20"], "SviMoneynessOutOfRange(strike=20, forward=3000)"),
        (["--svi", SVI, "--svi-time", "0"], "SviTimeOutOfRange(timeSec=0)"),
        (["--svi", "1,0,0,0,1", "--time", "1d"], "VolatilityOutOfRange(vol=19.1"),  # the slice's vol, refused by B-S
    ],
)
def test_svi_refusals_are_one_line_in_user_units(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Wad" not in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_svi_a_keeps_all_36_decimals() -> None:
    """a in 1e36 units is read exactly (decimal's default 28 digits would round it)."""
    assert parse_svi(SVI) == SLICE
    assert to_units("0.042602739726027408255504065113358336", 36, "a") == SLICE.a36


def test_onchain_evaluates_the_slice_through_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--strike", "2400", "--time", "30d", "--svi", SVI, "--onchain")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["on-chain slice volatility equals the mirror", "on-chain result equals the mirror"]
    assert lines[2].startswith("svi vol: ")
