"""``BookMath`` with a signed hedge, case by case through ``BookMathHarness`` (the library's own code): the
stress margin's hedge terms round against the vault in each scenario (a gain down, a loss up), the assets
count the collateral and round a short's value up before subtracting it, and the target is clamped at 0 for
a hedger that cannot short. The expected figures are computed here with exact integers."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.contract import Contract

from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy

WAD = 10**18
BPS = 10_000
S0 = 3001_234567891234567891  # an odd spot: hedge x move is not a whole number of wad
QS = 10**12


@pytest.fixture(scope="module")
def harness(w3: Web3, artifacts: dict[str, Artifact]) -> Contract:
    return deploy(w3, artifacts["BookMathHarness"], sender=str(w3.eth.accounts[0]))


def book(
    hedge_wad: int,
    stress_up: int,
    stress_down: int,
    mark: int,
    *,
    collateral: int = 0,
    quote: int = 0,
    book_delta: int = 0,
    can_short: bool = True,
) -> tuple:  # type: ignore[type-arg]
    # Book: spot, quote, hedge, collateral, canShort, deRisking, markUp, markDown, bookDelta, vega,
    # markSpot, mark, stressUp, stressDown, gammaCoef
    return (
        S0,
        quote,
        hedge_wad,
        collateral,
        can_short,
        False,
        mark,
        mark,
        book_delta,
        0,
        S0,
        mark,
        stress_up,
        stress_down,
        0,
    )


def ctx(up_bps: int = 2000, down_bps: int = 2000) -> tuple:  # type: ignore[type-arg]
    # Ctx: quoteScale, underlyingScale, payoutsOwed, feesOwed, hfFloor, shockUp, shockDown, reservedQuote
    return (QS, 1, 0, 0, 12 * WAD // 10, up_bps, down_bps, 0)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def expected_margin(h: int, stress_up: int, stress_down: int, mark: int) -> int:
    up_move = S0 * (BPS + 2000) // BPS - S0
    down_move = S0 - S0 * (BPS - 2000) // BPS
    pnl_up = h * up_move // WAD if h >= 0 else -_ceil(-h * up_move, WAD)
    pnl_down = -(h * down_move) // WAD if h < 0 else -_ceil(h * down_move, WAD)
    worst = max(stress_up - mark - pnl_up, stress_down - mark - pnl_down, 0)
    return _ceil(worst, QS)


@pytest.mark.parametrize("hedge_wad", [-7_123456789012345678, 7_123456789012345678, 0])
@pytest.mark.parametrize("worst", ["up", "down"])
def test_stress_margin_rounds_each_hedge_term_against_the_vault(harness: Contract, hedge_wad: int, worst: str) -> None:
    mark = 50_000 * WAD
    # scenario values that make the named scenario the worst, whatever the hedge's sign
    big, small = mark + 30_000 * WAD, mark + 1_000 * WAD
    up, down = (big, small) if worst == "up" else (small, big)
    b = book(hedge_wad, up, down, mark)
    got = harness.functions.stressMargin(b, ctx()).call()
    assert got == expected_margin(hedge_wad, up, down, mark)
    # at quote units of 1e-18 (QS = 1) one wei of rounding shows: check at that scale too
    fine = (1, 1, 0, 0, 12 * WAD // 10, 2000, 2000, 0)
    up_move = S0 * 12_000 // BPS - S0
    down_move = S0 - S0 * 8_000 // BPS
    h = hedge_wad
    pnl_up = h * up_move // WAD if h >= 0 else -_ceil(-h * up_move, WAD)
    pnl_down = -(h * down_move) // WAD if h < 0 else -_ceil(h * down_move, WAD)
    assert harness.functions.stressMargin(b, fine).call() == max(up - mark - pnl_up, down - mark - pnl_down, 0)


def test_assets_count_the_collateral_and_a_short_rounded_up(harness: Contract) -> None:
    quote, collateral, h = 400_000 * 10**6, 150_000 * 10**6, -7_123456789012345678
    b = book(h, 0, 0, 0, collateral=collateral, quote=quote)
    owed = _ceil(-h * S0, WAD * QS)
    assert harness.functions.assetsValue(b, ctx()).call() == quote + collateral - owed
    long_book = book(-h, 0, 0, 0, collateral=0, quote=quote)
    assert harness.functions.assetsValue(long_book, ctx()).call() == quote + (-h) * S0 // (WAD * QS)
    # a debt worth more than the cash: 0, not an underflow
    assert harness.functions.assetsValue(book(-(10**30), 0, 0, 0, quote=1), ctx()).call() == 0


@pytest.mark.parametrize("can_short", [True, False])
def test_the_target_is_minus_the_book_delta_clamped_without_a_short(harness: Contract, can_short: bool) -> None:
    b = book(2 * WAD, 0, 0, 0, book_delta=5 * WAD, can_short=can_short)
    target, gap = harness.functions.hedgeTarget(b).call()
    assert target == (-5 * WAD if can_short else 0)
    assert gap == (7 * WAD if can_short else 2 * WAD)
