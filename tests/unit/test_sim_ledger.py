"""The simulator's ledger (``hedgevault.sim.accounting``) on fabricated event sequences: the signed hedge and
the collateral replayed from ``Hedged`` events, Aave interest booked as its own PnL lines, and every change
the events and interest cannot explain raised as a ``ConservationError``.

Units as in the ledger: quote units (6 decimals), hedge in underlying wad, spot in wad, times in seconds.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from hedgevault.sim.accounting import RAY, SECONDS_PER_YEAR, ConservationError, Ledger, interest_bound

WAD = 10**18
QS = 10**6
SPOT = 3000 * WAD
#: 307% a year: base 0 + slopes 7% and 300% (Aave's rateStrategyVolatileOne at full utilisation).
CAP_RAY = 307 * RAY // 100


def _ledger(hedge_wad: int = 0, collateral: int = 0) -> Ledger:
    return Ledger(
        quote_scale=QS,
        spot_wad=SPOT,
        hedge_wad=hedge_wad,
        collateral=collateral,
        quote=1_000_000 * QS,
        liability=0,
        time_sec=0,
        borrow_rate_cap_ray=CAP_RAY,
        supply_rate_cap_ray=CAP_RAY,
    )


def _short(ledger: Ledger) -> None:
    """An upkeep that borrowed 10 underlying against 40,000 quote of collateral and sold them for 29,900
    quote (100 quote of fee and impact at the oracle spot 3000)."""
    ledger.hedged(-10 * WAD, 29_900 * QS - 40_000 * QS, 40_000 * QS, upkeep=True)


def test_a_short_order_costs_its_slippage_and_moves_quote_collateral_and_hedge() -> None:
    ledger = _ledger()
    _short(ledger)
    assert ledger.hedge_wad == -10 * WAD
    assert ledger.collateral == 40_000 * QS
    assert ledger.quote == 1_000_000 * QS - 10_100 * QS
    # cost = -(dQ + dC + dH x S) = -(-10,100 + 40,000 - 30,000) quote
    assert ledger.pnl.swap_cost == 100 * QS
    assert (ledger.hedges, ledger.hedge_down_wad, ledger.collateral_in) == (1, 10 * WAD, 40_000 * QS)


def test_interest_is_booked_as_its_own_lines_and_reconciles() -> None:
    """An hour of interest on the short: the debt grows (the hedge falls) by 2e14 wad, worth 0.6 quote at
    3000, and the collateral earns 1.5 quote; both are their own PnL lines and the NAV change (Q + C + H S
    at the end minus at the start) is explained to the unit."""
    ledger = _ledger()
    nav_start = ledger.quote + ledger.collateral + ledger.value(ledger.hedge_wad, SPOT)
    _short(ledger)
    ledger.accrue(hedge_wad=-10 * WAD - 2 * 10**14, collateral=40_000 * QS + 1_500_000, time_sec=3600)
    assert ledger.pnl.borrow_interest == Fraction(600_000)  # 2e14 x 3000 / 1e36 x 1e6
    assert ledger.pnl.supply_interest == 1_500_000
    assert ledger.borrow_interest_wad == 2 * 10**14
    assert ledger.hedge_wad == -10 * WAD - 2 * 10**14
    nav_end = ledger.quote + ledger.collateral + ledger.value(ledger.hedge_wad, SPOT)
    assert nav_end - nav_start == ledger.pnl.explained()
    # the spot falls 100: the short hedge, with its interest, gains 100 x 10.0002
    ledger.spot_update(2900 * WAD)
    assert ledger.pnl.hedge == ledger.value(10 * WAD + 2 * 10**14, 100 * WAD)


def test_close_step_accrues_then_checks_quote_and_fees() -> None:
    ledger = _ledger()
    _short(ledger)
    ledger.close_step(
        quote_balance=ledger.quote,
        hedge_wad=-10 * WAD - 10**12,
        collateral=40_000 * QS,
        time_sec=60,
        liability=0,
        fees_owed=0,
    )
    assert ledger.borrow_interest_wad == 10**12
    with pytest.raises(ConservationError, match="quote 1 on chain"):
        ledger.close_step(
            quote_balance=1,
            hedge_wad=ledger.hedge_wad,
            collateral=ledger.collateral,
            time_sec=60,
            liability=0,
            fees_owed=0,
        )


@pytest.mark.parametrize(
    ("hedge_wad", "collateral", "message"),
    [
        # the hedge rose without an event: underlying sent to the hedger, or debt repaid by someone else
        (-10 * WAD + 1, 40_000 * QS, "changed without an event"),
        # the collateral fell: a liquidation seized it
        (-10 * WAD, 40_000 * QS - 1, "changed without an event"),
        # both moved the wrong way at once (a liquidation repays debt and seizes collateral)
        (-9 * WAD, 35_000 * QS, "changed without an event"),
    ],
)
def test_a_change_interest_cannot_make_is_a_conservation_error(hedge_wad: int, collateral: int, message: str) -> None:
    ledger = _ledger()
    _short(ledger)
    with pytest.raises(ConservationError, match=message):
        ledger.accrue(hedge_wad=hedge_wad, collateral=collateral, time_sec=3600)


def test_growth_beyond_the_highest_rate_is_not_interest() -> None:
    """10 underlying owed for an hour at 307% a year can grow by at most 10 x x / (1 - 2x), x = 3.07/8760
    (3.5e15 wad): 0.01 underlying more is not interest; neither is debt growth with no debt at all."""
    ledger = _ledger()
    _short(ledger)
    bound = interest_bound(10 * WAD, CAP_RAY, 3600)
    assert bound is not None and 3.5e15 < bound < 3.6e15
    with pytest.raises(ConservationError, match=r"more than .* not interest"):
        ledger.accrue(hedge_wad=-10 * WAD - 10**16, collateral=40_000 * QS, time_sec=3600)
    long_only = _ledger(hedge_wad=5 * WAD)
    with pytest.raises(ConservationError, match="debt grew by 1 "):
        long_only.accrue(hedge_wad=5 * WAD - 1, collateral=0, time_sec=3600)
    with pytest.raises(ConservationError, match="collateral grew by 1 "):
        long_only.accrue(hedge_wad=5 * WAD, collateral=1, time_sec=3600)


def test_interest_on_a_debt_repaid_within_the_stretch_is_accepted() -> None:
    """The debt accrues, then an order repays it all (with that interest) and goes long: the replayed hedge
    is off by the interest accrued before the order, within the bound of the peak debt of the stretch."""
    ledger = _ledger()
    _short(ledger)
    ledger.accrue(hedge_wad=-10 * WAD, collateral=40_000 * QS, time_sec=0)
    interest = 10**13
    # in the order: the hedge moves from -10 - interest (on chain) to +2; the event says +12 + interest
    # it bought 12 underlying for 36,100 quote and had the 40,000 quote of collateral back
    ledger.hedged(12 * WAD + interest, 3_900 * QS, -40_000 * QS, upkeep=True)
    ledger.accrue(hedge_wad=2 * WAD, collateral=0, time_sec=1800)
    assert ledger.borrow_interest_wad == interest
    assert ledger.hedge_wad == 2 * WAD


def test_time_going_back_is_refused() -> None:
    ledger = _ledger()
    ledger.accrue(hedge_wad=0, collateral=0, time_sec=100)
    with pytest.raises(ConservationError, match="before the previous reading"):
        ledger.accrue(hedge_wad=0, collateral=0, time_sec=99)


def test_the_interest_bound_is_valid_up_to_half_the_rate_horizon() -> None:
    # continuous compounding over a year at 30%: e^0.3 - 1 = 0.3499 <= 0.3 / (1 - 0.6) = 0.75
    bound = interest_bound(WAD, 3 * RAY // 10, SECONDS_PER_YEAR)
    assert bound is not None and bound >= Fraction(3499, 10_000) * WAD
    assert interest_bound(WAD, RAY, SECONDS_PER_YEAR) is None  # x = 1: no bound stated
    assert interest_bound(0, CAP_RAY, 3600) == 0


def test_a_claim_raise_is_counted_apart_from_upkeeps() -> None:
    ledger = _ledger(hedge_wad=3 * WAD)
    ledger.hedged(-WAD, 2_990 * QS, 0, upkeep=False)
    assert (ledger.hedges, ledger.raises) == (0, 1)
    assert ledger.pnl.swap_cost == 10 * QS
