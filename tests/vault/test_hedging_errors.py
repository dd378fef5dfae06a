"""The hedge's own custom errors (``SwapExecution``) in the situations that raise them, on the real Uniswap V3
pool and SwapRouter:

* ``SwapAmountZero``: the book needs more hedge but the vault has no free quote left (depositors took it
  after an earlier hedge): the upkeep fails instead of swapping nothing again and again.
* ``HedgeOutsideBand``: an underlying with 2 decimals and a band finer than one token unit: the swap can
  only buy whole units (rounded up), so the hedge overshoots the target by more than the band.
* ``SwapInputAboveAvailable``: unreachable through the vault, see ``test_cash_limited_hedge_spends_at_most_
  the_free_quote``; raised through ``SwapExecutionHarness`` (the same linked library, called by DELEGATECALL
  like the vault calls it) when a buy's bounded input exceeds what the caller may spend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from vaultkit import DAY, WAD, Actors, book, buy, deposit, list_series, move_market, now, q, reverts, set_parameters
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from hedgevault.suite import SWAP_LIBRARY, HedgeParams, Suite, SuiteConfig, deploy_suite, link
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send

BPS = 10_000


@pytest.fixture(scope="module")
def coarse_suite(w3: Web3) -> Iterator[Suite]:
    """A suite whose underlying has 2 decimals (one unit = 0.01 underlying), deployed inside a snapshot that
    is reverted after this module, so the other modules' chain is untouched."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield deploy_suite(w3, SuiteConfig(quote_decimals=6, underlying_decimals=2))
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _sell_calls(s: Suite, actors: Actors, amount_wad: int) -> int:
    """Deposit 100,000 quote, list a 30-day 3000 call at 80% vol and sell ``amount_wad`` of it; return its id."""
    deposit(s, actors.depositor, q(s, 100_000))
    call_id = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call_id, amount_wad)
    return call_id


def _hedge_events(s: Suite, receipt: Any) -> list[dict[str, Any]]:
    return [dict(e["args"]) for e in s.vault.events.Hedged().process_receipt(receipt, errors=DISCARD)]


# ----------------------------------------------------------------------------- SwapAmountZero


def test_swap_amount_zero_when_the_free_quote_is_gone(suite: Suite, actors: Actors) -> None:
    s = suite
    _sell_calls(s, actors, 20 * WAD)
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data == b""
    send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    assert book(s)["hedge_balance"] > 0
    # the hedge is worth enough for the floor: the depositor may take every unit of free quote (the
    # trading fees owed to the fee recipient stay)
    max_w = int(s.vault.functions.maxWithdraw(actors.depositor).call())
    fees = int(s.vault.functions.feesOwed().call())
    assert fees > 0
    assert max_w == s.quote.functions.balanceOf(s.vault.address).call() - fees > 0
    send(s.w3, s.vault.functions.withdraw(max_w, actors.depositor, actors.depositor), actors.depositor)
    assert s.quote.functions.balanceOf(s.vault.address).call() == fees
    # the spot rises 10%: the calls' delta grows, the hedge must grow, and nothing is affordable
    move_market(s, 3300 * WAD, actors.attacker)
    b = book(s)
    assert -b["book_delta_wad"] - b["hedge_balance"] > s.config.hedge.delta_band_wad
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data == b""
    hedge_before = b["hedge_balance"]
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "SwapAmountZero")
    # a reverted upkeep changes nothing
    assert s.underlying.functions.balanceOf(s.vault.address).call() == hedge_before


# ----------------------------------------------------------------------------- HedgeOutsideBand


def _set_band(s: Suite, band_wad: int) -> None:
    c = s.config
    hedge = HedgeParams(
        delta_band_wad=band_wad,
        dust_delta_wad=0,
        hedge_interval_sec=c.hedge.hedge_interval_sec,
        max_slippage_bps=c.hedge.max_slippage_bps,
        max_nav_loss_bps=c.hedge.max_nav_loss_bps,
    )
    set_parameters(s, hedge=hedge)


def test_hedge_outside_band_when_the_underlying_is_coarser_than_the_band(coarse_suite: Suite, actors: Actors) -> None:
    s = coarse_suite
    unit_wad = 10 ** (18 - s.config.underlying_decimals)
    _sell_calls(s, actors, 7 * WAD)
    # governance sets the band to its hard minimum, 1e-6 underlying: finer than one token unit (0.01)
    band = 10**12
    _set_band(s, band)
    b = book(s)
    target = -b["book_delta_wad"]
    assert target > 0 and b["hedge_balance"] == 0
    # the buy is rounded up to whole units: the hedge overshoots the target by this much
    overshoot = -target % unit_wad
    assert overshoot > band
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "HedgeOutsideBand", overshoot, band)
    assert s.underlying.functions.balanceOf(s.vault.address).call() == 0


def test_the_same_hedge_passes_with_a_band_of_one_unit(coarse_suite: Suite, actors: Actors) -> None:
    """Control: with a band of one token unit the same upkeep swaps on the pool and ends inside it."""
    s = coarse_suite
    unit_wad = 10 ** (18 - s.config.underlying_decimals)
    _sell_calls(s, actors, 7 * WAD)
    _set_band(s, unit_wad)
    target = -book(s)["book_delta_wad"]
    receipt = send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    (event,) = _hedge_events(s, receipt)
    assert event["bought"] is True
    assert s.underlying.functions.balanceOf(s.vault.address).call() * unit_wad == target + (-target % unit_wad)
    assert abs(book(s)["net_delta_wad"]) <= unit_wad


# ----------------------------------------------------------------------------- SwapInputAboveAvailable


def test_cash_limited_hedge_spends_at_most_the_free_quote(suite: Suite, actors: Actors) -> None:
    """Why ``SwapInputAboveAvailable`` cannot come from the vault: ``hedge`` sells exactly the excess (no
    quote spent) or buys at most ``affordable = floor(floor(free x 1e18 x BPS x qs / (S x (BPS + slip))) /
    us)`` units, so amount x us x S x (BPS + slip) <= free x 1e18 x BPS x qs and the bound
    maxIn = ceil(amount x us x S x (BPS + slip) / (1e18 x BPS x qs)) <= free (qs, us: the tokens' scales).
    The nearest reachable behaviour: a hedge cut to the free quote pays no more than that free quote."""
    s = suite
    _sell_calls(s, actors, 20 * WAD)
    # the depositor leaves with what the floor allows before any hedge: the hedge then cannot be completed
    max_w = int(s.vault.functions.maxWithdraw(actors.depositor).call())
    send(s.w3, s.vault.functions.withdraw(max_w, actors.depositor, actors.depositor), actors.depositor)
    b = book(s)
    free = b["quote_balance"] - b["payouts_owed"]
    cost_bound = -b["book_delta_wad"] * b["spot_wad"] // WAD * (BPS + s.config.hedge.max_slippage_bps) // BPS
    assert cost_bound // 10 ** (18 - s.config.quote_decimals) > free, "the full hedge must not be affordable"
    receipt = send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    (event,) = _hedge_events(s, receipt)
    assert event["bought"] is True
    assert 0 < int(event["quoteAmount"]) <= free
    assert s.quote.functions.balanceOf(s.vault.address).call() == b["quote_balance"] - int(event["quoteAmount"])


@pytest.fixture
def harness(suite: Suite, artifacts: dict[str, Artifact], actors: Actors) -> Contract:
    artifact = link(artifacts["SwapExecutionHarness"], {SWAP_LIBRARY: str(suite.swap_library.address)})
    return deploy(
        suite.w3,
        artifact,
        suite.quote.address,
        suite.underlying.address,
        suite.uniswap.router.address,
        sender=actors.admin,
    )


def _swap(s: Suite, buy_underlying: bool, amount: int, available: int) -> tuple[Any, ...]:
    """``SwapExecution.Swap`` at the oracle spot with the configured slippage."""
    return (
        s.uniswap.router.address,
        s.quote.address,
        s.underlying.address,
        s.config.pool_fee,
        buy_underlying,
        amount,
        s.config.spot_wad,
        s.config.hedge.max_slippage_bps,
        10 ** (18 - s.config.quote_decimals),
        10 ** (18 - s.config.underlying_decimals),
        available,
    )


def test_swap_input_above_available(suite: Suite, actors: Actors, harness: Contract) -> None:
    s = suite
    amount = s.underlying_units(1)
    # the bound: ceil(1 x 3000 x 1.01) quote
    max_in = -(-amount * s.config.spot_wad * (BPS + s.config.hedge.max_slippage_bps) // (WAD * BPS * 10**12))
    assert max_in == q(s, 3030)
    send(s.w3, s.quote.functions.mint(harness.address, max_in), actors.admin)
    reverts(
        harness.functions.execute(_swap(s, True, amount, max_in - 1)),
        actors.admin,
        "SwapInputAboveAvailable",
        max_in,
        max_in - 1,
    )
    # control: allowed to spend exactly the bound, the real pool fills it for less
    send(s.w3, harness.functions.execute(_swap(s, True, amount, max_in)), actors.admin)
    assert s.underlying.functions.balanceOf(harness.address).call() == amount
    assert 0 < s.quote.functions.balanceOf(harness.address).call() < max_in


def test_swap_amount_zero_through_the_library(suite: Suite, actors: Actors, harness: Contract) -> None:
    s = suite
    for buy_underlying in (True, False):
        reverts(harness.functions.execute(_swap(s, buy_underlying, 0, q(s, 10_000))), actors.admin, "SwapAmountZero")
