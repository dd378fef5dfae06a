"""The hedging module (``IHedger``: ``AaveHedger``, ``SpotHedger``, ``HedgeExecution``) function by function and
error by error, on the real Uniswap V3 pool and the real Aave v3 market.

Orders the vault would never send (zero free quote, a spot off the Aave oracle) are sent as the vault itself
(Anvil's ``anvil_impersonateAccount``): the hedger's own checks are what is tested, whatever the vault sends.

Errors and where they are raised:
  NotVault, NotPool, BadBinding                            access (every hedger)
  NothingToHedge                                           an order that trades nothing (no free quote)
  PoolBeyondLimit                                          the pool already past the slice's price limit
  AaveReserveUnavailable, AaveBorrowCapReached,
  AaveLiquidityShort, AaveOracleDeviation, CollateralShort a borrow the market or the collateral refuses
  HedgerParamOutOfBounds                                   setParams
  HedgerDeRisking (vault)                                  a put bought while the Aave position is below buffer
  HedgeOutsideBand (HedgeExecution)                        an order overshooting the target beyond the band
``AaveHealthTooLow`` cannot be reached through an order: the borrow is sized (or cut) by the same carry rate
the check uses, see ``test_a_cut_borrow_lands_at_the_health_buffer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import pytest
from vaultkit import (
    DAY,
    WAD,
    Actors,
    book,
    buy,
    deposit,
    list_series,
    now,
    post_vol,
    q,
    refresh_feed,
    reverts,
    set_parameters,
)
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from hedgevault.aave import (
    configure_collateral,
    set_borrow_cap,
    set_reserve_frozen,
    set_reserve_paused,
    user_account_data,
)
from hedgevault.chain import warp
from hedgevault.deployment.senders import UnlockedSender
from hedgevault.reverts import decode_error
from hedgevault.suite import HedgeParams, HedgerParams, Suite, SuiteConfig, deploy_suite
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send

BPS = 10_000
SHOCK = 2000


@pytest.fixture(scope="module")
def spot_suite(w3: Web3) -> Iterator[Suite]:
    """A suite with the long-only ``SpotHedger``, deployed inside a snapshot reverted after this module."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield deploy_suite(w3, SuiteConfig(hedger=HedgerParams(kind="spot")))
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def coarse_suite(w3: Web3) -> Iterator[Suite]:
    """An underlying with 2 decimals (one unit = 0.01 underlying), long-only hedger."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield deploy_suite(w3, SuiteConfig(underlying_decimals=2, hedger=HedgerParams(kind="spot")))
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@contextmanager
def as_vault(s: Suite) -> Iterator[str]:
    """Send as the vault (impersonated, with gas money)."""
    vault = s.vault.address
    s.w3.provider.make_request("anvil_impersonateAccount", [vault])  # type: ignore[arg-type]
    s.w3.provider.make_request("anvil_setBalance", [vault, hex(10 * WAD)])  # type: ignore[arg-type]
    try:
        yield vault
    finally:
        s.w3.provider.make_request("anvil_stopImpersonatingAccount", [vault])  # type: ignore[arg-type]


def order(s: Suite, target_wad: int, available: int, spot_wad: int | None = None) -> tuple[int, ...]:
    """``IHedger.Order`` at the oracle spot with the configured slippage and shock."""
    spot = spot_wad if spot_wad is not None else book(s)["spot_wad"]
    return (target_wad, spot, s.config.hedge.max_slippage_bps, available, s.config.risk.spot_shock_up_bps)


def details(s: Suite) -> dict[str, int]:
    names = ("long", "debt", "collateral", "hf", "hf_shock", "borrow_rate", "supply_rate")
    return dict(zip(names, (int(v) for v in s.hedger.functions.details(SHOCK).call()), strict=True))


def hedged_events(s: Suite, receipt: Any) -> list[dict[str, Any]]:
    return [dict(e["args"]) for e in s.vault.events.Hedged().process_receipt(receipt, errors=DISCARD)]


def upkeep(s: Suite, keeper: str) -> Any:
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed
    return send(s.w3, s.vault.functions.performUpkeep(data), keeper)


def arbitrage(s: Suite, actors: Actors) -> None:
    """An arbitrageur moves the pool back to the oracle's spot."""
    s.move_pool_price(book(s)["spot_wad"], actors.other)


def hedge_until_in_band(s: Suite, actors: Actors, limit: int = 12) -> list[dict[str, Any]]:
    """Upkeeps (arbitrage before each) until checkUpkeep has nothing to do; the Hedged events."""
    events: list[dict[str, Any]] = []
    for _ in range(limit):
        needed, data = s.vault.functions.checkUpkeep(b"").call()
        if not needed:
            return events
        arbitrage(s, actors)
        events += hedged_events(s, send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper))
    raise AssertionError(f"the gap did not close in {limit} upkeeps")


def sell_puts(s: Suite, actors: Actors, amount_wad: int, deposit_whole: int = 1_000_000) -> int:
    deposit(s, actors.depositor, q(s, deposit_whole))
    put = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, False)
    buy(s, actors.buyer, put, amount_wad)
    return put


def short_hedge(s: Suite, actors: Actors, puts_wad: int = 100 * WAD) -> int:
    """Sell ATM week puts and hedge them short; return the put's id."""
    put = sell_puts(s, actors, puts_wad)
    hedge_until_in_band(s, actors)
    assert book(s)["hedge_wad"] < 0
    return put


def admin_sender(s: Suite) -> UnlockedSender:
    return UnlockedSender(s.w3, s.admin)


# ----------------------------------------------------------------------------- binding and access


def test_bind_once_by_the_deployer_to_a_vault_that_names_it(
    suite: Suite, actors: Actors, artifacts: dict[str, Artifact]
) -> None:
    s = suite
    assert s.hedger.functions.vault().call() == s.vault.address
    reverts(s.hedger.functions.bind(s.vault.address), s.admin, "BadBinding", s.vault.address)
    fresh = deploy(s.w3, artifacts["SpotHedger"], s.quote.address, s.underlying.address, s.pool.address, sender=s.admin)
    # the vault names another hedger; someone else than the deployer
    reverts(fresh.functions.bind(s.vault.address), s.admin, "BadBinding", s.vault.address)
    reverts(fresh.functions.bind(s.vault.address), actors.attacker, "BadBinding", s.vault.address)
    # a pool of other tokens
    other = deploy(s.w3, artifacts["MockERC20"], "Other", "OTH", 18, sender=s.admin)
    factory = s.w3.eth.contract(abi=artifacts["SpotHedger"].abi, bytecode=artifacts["SpotHedger"].bytecode)
    with pytest.raises(ContractCustomError) as info:
        factory.constructor(other.address, s.underlying.address, s.pool.address).estimate_gas({"from": s.admin})
    assert decode_error(str(info.value.data)) == ("BadBinding", (s.pool.address,))


def test_only_the_vault_sends_orders(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 100_000))
    reverts(s.hedger.functions.hedge(order(s, WAD, q(s, 10_000))), actors.attacker, "NotVault", actors.attacker)
    reverts(
        s.hedger.functions.raiseQuote(q(s, 1), 3000 * WAD, 100, SHOCK), actors.attacker, "NotVault", actors.attacker
    )


def test_the_swap_callback_pays_only_the_pool(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 100_000))
    # the vault's allowance to its hedger is unlimited: a fake callback must not reach it
    reverts(
        s.hedger.functions.uniswapV3SwapCallback(0, q(s, 100_000), b""),
        actors.attacker,
        "NotPool",
        actors.attacker,
    )


def test_hedger_parameters_are_bounded_and_admin_only(suite: Suite, actors: Actors) -> None:
    s = suite
    fn = s.hedger.functions
    good = s.config.hedger.aave_tuple()
    reverts(fn.setParams(good), actors.attacker, "AccessControlUnauthorizedAccount")
    for index, bad, name in (
        (0, WAD // 100, b"hfBufferWad"),
        (1, 20_001, b"collateralHeadroomBps"),
        (2, 9, b"maxOracleDeviationBps"),
    ):
        params = list(good)
        params[index] = bad
        got = reverts(fn.setParams(tuple(params)), s.admin, "HedgerParamOutOfBounds")
        assert got[0].rstrip(b"\0") == name and got[1] == bad
    send(s.w3, fn.setParams((WAD // 5, 1000, 50)), s.admin)
    assert tuple(fn.params().call()) == (WAD // 5, 1000, 50)


# ----------------------------------------------------------------------------- the long side


def test_long_slice_buys_within_the_bound(spot_suite: Suite, actors: Actors) -> None:
    s = spot_suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    call = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call, 60 * WAD)
    (event,) = hedged_events(s, upkeep(s, actors.keeper))
    b = book(s)
    assert event["hedgeChangeWad"] == b["hedge_wad"] > 0 and event["collateralChange"] == 0
    cost = -event["quoteChange"]
    bound = event["hedgeChangeWad"] * b["spot_wad"] * (BPS + s.config.hedge.max_slippage_bps) // (WAD * BPS * 10**12)
    assert 0 < cost <= bound + 1
    assert abs(b["net_delta_wad"]) <= s.config.hedge.delta_band_wad
    assert s.underlying.functions.balanceOf(s.hedger.address).call() == b["hedge_wad"]
    assert s.hedger.functions.canShort().call() is False


def test_a_long_only_hedger_leaves_a_positive_book_delta_unhedged(spot_suite: Suite, actors: Actors) -> None:
    s = spot_suite
    sell_puts(s, actors, 50 * WAD)
    b = book(s)
    assert b["book_delta_wad"] > s.config.hedge.delta_band_wad and b["hedge_wad"] == 0
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    assert not needed, "the target is 0 for a long-only hedger"


def test_nothing_to_hedge_without_free_quote(spot_suite: Suite, actors: Actors) -> None:
    s = spot_suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    with as_vault(s) as vault:
        reverts(s.hedger.functions.hedge(order(s, 5 * WAD, 0)), vault, "NothingToHedge", 0, 5 * WAD)


def test_pool_beyond_the_limit_trades_nothing(spot_suite: Suite, actors: Actors) -> None:
    s = spot_suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    s.move_pool_price(3040 * WAD, actors.attacker)  # +1.33%: past 1% + the fee
    with as_vault(s) as vault:
        fn = s.hedger.functions.hedge(order(s, 5 * WAD, q(s, 100_000)))
        pool_sqrt, limit_sqrt = reverts(fn, vault, "PoolBeyondLimit")
        assert pool_sqrt != limit_sqrt
    assert s.underlying.functions.balanceOf(s.hedger.address).call() == 0


def test_raise_quote_sells_what_the_long_hedge_holds(spot_suite: Suite, actors: Actors) -> None:
    s = spot_suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    with as_vault(s) as vault:
        send(s.w3, s.hedger.functions.hedge(order(s, 10 * WAD, q(s, 100_000))), vault)
        quote_before = s.quote.functions.balanceOf(s.vault.address).call()
        # exactly 3,000 quote out when the holding covers it
        send(s.w3, s.hedger.functions.raiseQuote(q(s, 3_000), 3000 * WAD, 100, SHOCK), vault)
        assert s.quote.functions.balanceOf(s.vault.address).call() - quote_before == q(s, 3_000)
        # more than the holding is worth: the whole holding, within the bound
        held = s.underlying.functions.balanceOf(s.hedger.address).call()
        before = s.quote.functions.balanceOf(s.vault.address).call()
        send(s.w3, s.hedger.functions.raiseQuote(q(s, 1_000_000), 3000 * WAD, 100, SHOCK), vault)
        got = s.quote.functions.balanceOf(s.vault.address).call() - before
    assert s.underlying.functions.balanceOf(s.hedger.address).call() == 0
    assert got >= held * 3000 * 99 // 100 // 10**12


def test_hedge_outside_band_when_the_underlying_is_coarser_than_the_band(coarse_suite: Suite, actors: Actors) -> None:
    s = coarse_suite
    unit_wad = 10 ** (18 - s.config.underlying_decimals)
    deposit(s, actors.depositor, q(s, 100_000))
    call = list_series(s, now(s.w3) + 30 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, call, 7 * WAD)
    band = 10**12  # the hard minimum, finer than one unit (0.01)
    c = s.config.hedge
    set_parameters(s, hedge=HedgeParams(band, 0, c.hedge_interval_sec, c.max_slippage_bps, c.max_nav_loss_bps))
    target = -book(s)["book_delta_wad"]
    overshoot = -target % unit_wad
    assert overshoot > band
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "HedgeOutsideBand", overshoot, band)
    # with a band of one unit the same order passes
    set_parameters(s, hedge=HedgeParams(unit_wad, 0, c.hedge_interval_sec, c.max_slippage_bps, c.max_nav_loss_bps))
    send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    assert abs(book(s)["net_delta_wad"]) <= unit_wad


# ----------------------------------------------------------------------------- the short side (Aave)


def test_a_put_book_is_hedged_short_with_a_borrow(suite: Suite, actors: Actors) -> None:
    s = suite
    sell_puts(s, actors, 60 * WAD)
    receipt = upkeep(s, actors.keeper)
    (event,) = hedged_events(s, receipt)
    b, d = book(s), details(s)
    assert event["hedgeChangeWad"] == b["hedge_wad"] == -d["debt"] < 0
    assert event["collateralChange"] == b["collateral"] == d["collateral"] > 0
    assert d["long"] == 0 and abs(b["net_delta_wad"]) <= s.config.hedge.delta_band_wad
    # collateral = what the debt needs at the carry rate x (1 + headroom), to within rounding
    cfg = s.config.hedger
    carry = min(8500 * WAD * WAD // ((WAD + cfg.hf_buffer_wad) * (BPS + SHOCK)), 8000 * WAD // BPS)
    needed = d["debt"] * b["spot_wad"] // WAD * WAD // carry // 10**12
    assert needed * (BPS + cfg.collateral_headroom_bps) // BPS - 2 <= d["collateral"]
    assert d["collateral"] <= needed * (BPS + cfg.collateral_headroom_bps) // BPS + 2
    # Aave's own health factor, and under the shock at least 1 + buffer
    assert d["hf_shock"] >= WAD + s.config.hedger.hf_buffer_wad - 10**9
    account = user_account_data(s.aave, s.hedger.address)  # type: ignore[arg-type]
    assert account.health_factor_wad == d["hf"]
    # the collateral carries the headroom: the requirement x (1 + 25%), to within rounding
    assert s.hedger.events.Borrowed().process_receipt(receipt, errors=DISCARD)
    assert s.hedger.events.CollateralSupplied().process_receipt(receipt, errors=DISCARD)
    # A counts the collateral and the debt (rounded up before it is subtracted)
    owed_value = -(b["hedge_wad"] * b["spot_wad"] // (WAD * 10**12))  # ceil of the debt's value
    own_quote = b["quote_balance"] - s.vault.functions.feesOwed().call()
    assert b["assets_value"] == own_quote + b["collateral"] - owed_value


def test_the_hedge_crosses_zero_both_ways(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 7 * DAY
    call = list_series(s, expiry, 3000 * WAD, True)
    put = list_series(s, expiry, 3000 * WAD, False)
    buy(s, actors.buyer, call, 40 * WAD)
    hedge_until_in_band(s, actors)
    held = book(s)["hedge_wad"]
    assert held > 0
    # long -> short in one order: it sells what is held, then borrows and sells the rest
    buy(s, actors.buyer, put, 100 * WAD)
    first = hedge_until_in_band(s, actors)[0]
    assert first["hedgeChangeWad"] < -held, "the first order went through zero"
    b, d = book(s), details(s)
    assert b["hedge_wad"] < 0 and d["long"] == 0 and d["debt"] == -b["hedge_wad"]
    # short -> long: the buy repays the debt with its interest, returns all collateral, then holds
    send(s.w3, s.vault.functions.sell(put, 100 * WAD, 0, actors.buyer), actors.buyer)
    hedge_until_in_band(s, actors)
    b, d = book(s), details(s)
    assert b["hedge_wad"] > 0 and d["debt"] == 0 and d["collateral"] == 0 == b["collateral"]
    assert s.aave.variable_debt_token(s.underlying.address).functions.balanceOf(s.hedger.address).call() == 0  # type: ignore[union-attr]


def test_borrow_interest_accrues_into_the_hedge_and_nav(suite: Suite, actors: Actors) -> None:
    s = suite
    short_hedge(s, actors)
    before = book(s)
    warp(s.w3, 30 * DAY)
    refresh_feed(s)
    after = details(s)
    assert -after["debt"] < before["hedge_wad"], "the debt grew"
    assert after["collateral"] >= before["collateral"], "supply interest never lowers the collateral"
    assert after["borrow_rate"] > 0


def _reserve_error(s: Suite) -> tuple[Any, ...]:
    with as_vault(s) as vault:
        return tuple(
            reverts(s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000))), vault, "AaveReserveUnavailable")
        )


def test_a_frozen_or_paused_reserve_refuses_the_borrow(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    market, sender = s.aave, admin_sender(s)
    assert market is not None
    set_reserve_frozen(market, s.underlying.address, True, sender)
    assert _reserve_error(s) == (s.underlying.address, True, False, True)
    set_reserve_frozen(market, s.underlying.address, False, sender)
    set_reserve_paused(market, s.quote.address, True, sender)
    assert _reserve_error(s) == (s.quote.address, False, True, True)
    set_reserve_paused(market, s.quote.address, False, sender)
    with as_vault(s) as vault:
        send(s.w3, s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000))), vault)
    assert details(s)["debt"] == 5 * WAD


def test_the_borrow_cap_cuts_then_refuses(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    assert s.aave is not None
    set_borrow_cap(s.aave, s.underlying.address, 3, admin_sender(s))
    with as_vault(s) as vault:
        send(s.w3, s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000))), vault)
        assert details(s)["debt"] == 3 * WAD, "cut to the cap"
        cap, total = reverts(s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000))), vault, "AaveBorrowCapReached")
    assert cap == 3 and total >= 3 * WAD


def test_no_liquidity_left_to_borrow(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    market = s.aave
    assert market is not None
    a_token = market.a_token(s.underlying.address)
    # another borrower takes every unit the market has
    whale = actors.other
    send(s.w3, s.quote.functions.mint(whale, q(s, 100_000_000)), whale)
    send(s.w3, s.quote.functions.approve(market.pool.address, 2**256 - 1), whale)
    send(s.w3, market.pool.functions.supply(s.quote.address, q(s, 100_000_000), whale, 0), whale)
    liquidity = s.underlying.functions.balanceOf(a_token.address).call()
    send(s.w3, market.pool.functions.borrow(s.underlying.address, liquidity, 2, 0, whale), whale)
    with as_vault(s) as vault:
        reverts(s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000))), vault, "AaveLiquidityShort", 0, 5 * WAD)


def test_the_aave_oracle_must_agree_before_a_borrow(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    spot = book(s)["spot_wad"]
    off = spot * 102 // 100  # the vault's spot 2% above Aave's
    with as_vault(s) as vault:
        aave_spot, vault_spot, max_bps = reverts(
            s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000), spot_wad=off)), vault, "AaveOracleDeviation"
        )
        assert (vault_spot, max_bps) == (off, s.config.hedger.max_oracle_deviation_bps)
        assert abs(aave_spot - spot) <= spot // 10**6
        # inside the bound it borrows
        send(s.w3, s.hedger.functions.hedge(order(s, -5 * WAD, q(s, 100_000), spot_wad=spot * 1005 // 1000)), vault)
    assert details(s)["debt"] == 5 * WAD


def test_collateral_short_without_free_quote(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    with as_vault(s) as vault:
        needed, available = reverts(s.hedger.functions.hedge(order(s, -5 * WAD, 0)), vault, "CollateralShort")
    assert needed > 0 and available == 0


def test_a_cut_borrow_lands_at_the_health_buffer(suite: Suite, actors: Actors) -> None:
    """The nearest behaviour to ``AaveHealthTooLow``: collateral for about 2 underlying only, 5 asked: the
    borrow is cut to what the collateral carries, and Aave's HF under the shock ends at 1 + buffer."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    available = q(s, 10_000)
    with as_vault(s) as vault:
        send(s.w3, s.hedger.functions.hedge(order(s, -5 * WAD, available)), vault)
    d = details(s)
    assert 0 < d["debt"] < 5 * WAD and d["collateral"] == available
    minimum = WAD + s.config.hedger.hf_buffer_wad
    assert minimum - 10**9 <= d["hf_shock"] <= minimum * 1001 // 1000


def test_de_risking_stops_puts_and_restores_the_buffer(suite: Suite, actors: Actors) -> None:
    s = suite
    put = short_hedge(s, actors)
    assert s.aave is not None
    # Aave governance lowers the quote's threshold 85% -> 60%: the position is below 1 + buffer under the shock
    configure_collateral(s.aave, s.quote.address, 5500, 6000, 10_500, admin_sender(s))
    spot = book(s)["spot_wad"]
    assert s.hedger.functions.position(spot, SHOCK).call()[3], "de-risking"
    premium, fee = s.vault.functions.quoteBuy(put, WAD).call()
    send(s.w3, s.quote.functions.mint(actors.buyer, premium + fee), actors.buyer)
    send(s.w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), actors.buyer)
    reverts(s.vault.functions.buy(put, WAD, premium + fee, actors.buyer), actors.buyer, "HedgerDeRisking", put)
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    assert needed, "a de-risking hedger is worth an upkeep even inside the band"
    receipt = upkeep(s, actors.keeper)
    (derisked,) = [dict(e["args"]) for e in s.hedger.events.DeRisked().process_receipt(receipt, errors=DISCARD)]
    assert derisked["healthFactorShockAfterWad"] >= WAD + s.config.hedger.hf_buffer_wad - 10**9
    assert not s.hedger.functions.position(spot, SHOCK).call()[3]
    assert book(s)["hedge_wad"] > -details(s)["debt"] - 1, "consistent"
    # puts sell again
    send(s.w3, s.vault.functions.buy(put, WAD, premium + fee, actors.buyer), actors.buyer)


def test_de_risking_reduces_the_short(suite: Suite, actors: Actors) -> None:
    """A de-risking order buys underlying back with the free quote and repays what the collateral cannot carry
    at 1 + buffer, whatever the target (here: the hedge as it is)."""
    s = suite
    short_hedge(s, actors)
    assert s.aave is not None
    configure_collateral(s.aave, s.quote.address, 5500, 6000, 10_500, admin_sender(s))
    before = details(s)
    with as_vault(s) as vault:
        send(s.w3, s.hedger.functions.hedge(order(s, book(s)["hedge_wad"], q(s, 500_000))), vault)
    d = details(s)
    assert d["debt"] < before["debt"] and d["collateral"] == before["collateral"], "reduced, not topped up"
    assert d["hf_shock"] >= WAD + s.config.hedger.hf_buffer_wad - 10**9
    # without free quote nothing can be bought back: the order trades nothing
    configure_collateral(s.aave, s.quote.address, 4500, 5000, 10_500, admin_sender(s))
    with as_vault(s) as vault:
        reverts(s.hedger.functions.hedge(order(s, book(s)["hedge_wad"], 0)), vault, "NothingToHedge")


# ----------------------------------------------------------------------------- slices


def test_a_large_gap_closes_in_bounded_slices(suite: Suite, actors: Actors) -> None:
    s = suite
    sell_puts(s, actors, 300 * WAD, deposit_whole=3_000_000)
    gap0 = book(s)["book_delta_wad"]
    assert gap0 > 120 * WAD, "larger than one slice of the default pool"
    receipt = upkeep(s, actors.keeper)
    (first,) = hedged_events(s, receipt)
    assert 0 < -first["hedgeChangeWad"] < gap0
    # it borrowed what the slice could sell within its limit, no more: nothing left over to repay
    (borrowed,) = [dict(e["args"]) for e in s.hedger.events.Borrowed().process_receipt(receipt, errors=DISCARD)]
    assert not s.hedger.events.Repaid().process_receipt(receipt, errors=DISCARD)
    assert borrowed["amount"] == -first["hedgeChangeWad"]
    # the pool sits at the limit: the next order waits for arbitrage
    reverts(s.vault.functions.performUpkeep(b""), actors.keeper, "PoolBeyondLimit")
    events = [first, *hedge_until_in_band(s, actors)]
    assert len(events) >= 2
    spot = book(s)["spot_wad"]
    for e in events:
        traded = abs(e["hedgeChangeWad"]) * spot // WAD // 10**12
        cost = -(e["quoteChange"] + e["collateralChange"]) - e["hedgeChangeWad"] * spot // WAD // 10**12
        assert cost <= traded * s.config.hedge.max_slippage_bps // BPS + 2
    assert abs(book(s)["net_delta_wad"]) <= s.config.hedge.delta_band_wad


@pytest.mark.parametrize("is_call", [True, False], ids=["buy-slice", "sell-slice"])
def test_every_unit_of_a_slice_is_within_the_bound(suite: Suite, actors: Actors, is_call: bool) -> None:
    """A slice larger than the pool allows stops at the price limit: the last unit it traded cost at most
    spot x (1 + slippage) with the fee (a buy), or brought at least spot x (1 - slippage) net of the fee (a
    sale). The pool's price after the slice is that limit, to the pool's sqrt-price precision."""
    s = suite
    deposit(s, actors.depositor, q(s, 5_000_000))
    option = list_series(s, now(s.w3) + 7 * DAY, 3000 * WAD, is_call)
    buy(s, actors.buyer, option, 400 * WAD)
    spot = book(s)["spot_wad"]
    (event,) = hedged_events(s, upkeep(s, actors.keeper))
    assert abs(book(s)["net_delta_wad"]) > s.config.hedge.delta_band_wad, "the slice stopped at the limit"
    fee = Fraction(s.config.pool_fee, 10**6)
    slip = Fraction(s.config.hedge.max_slippage_bps, BPS)
    last = s.pool_price_wad()
    if is_call:
        assert event["hedgeChangeWad"] > 0
        unit_cost = last / (1 - fee)
        assert unit_cost <= spot * (1 + slip) * (1 + Fraction(1, 10**12))
        assert unit_cost >= spot * (1 + slip) * (1 - Fraction(1, 10**6)), "the slice went to the limit"
    else:
        assert event["hedgeChangeWad"] < 0
        unit_gain = last * (1 - fee)
        assert unit_gain >= spot * (1 - slip) * (1 - Fraction(1, 10**12))
        assert unit_gain <= spot * (1 - slip) * (1 + Fraction(1, 10**6)), "the slice went to the limit"


def test_a_second_borrow_tops_the_collateral_up_below_half_the_headroom(suite: Suite, actors: Actors) -> None:
    """After the first short, the collateral is the requirement x 1.25. A later borrow that leaves it under
    the new requirement x 1.125 (but above the requirement) tops it up to the new requirement x 1.25."""
    s = suite
    put = short_hedge(s, actors, 60 * WAD)
    d1 = details(s)
    buy(s, actors.buyer, put, 9 * WAD)  # about 15% more debt
    hedge_until_in_band(s, actors)
    d2 = details(s)
    assert d2["debt"] > d1["debt"] * 110 // 100
    cfg = s.config.hedger
    carry = min(8500 * WAD * WAD // ((WAD + cfg.hf_buffer_wad) * (BPS + SHOCK)), 8000 * WAD // BPS)
    spot = book(s)["spot_wad"]
    needed = d2["debt"] * spot // WAD * WAD // carry // 10**12
    assert needed < d1["collateral"] < needed * (BPS + cfg.collateral_headroom_bps // 2) // BPS, "the case"
    assert abs(d2["collateral"] - needed * (BPS + cfg.collateral_headroom_bps) // BPS) <= 2


def test_the_target_is_the_delta_at_the_current_spot(suite: Suite, actors: Actors) -> None:
    """A feed move inside the cache's spot band but large enough for the book's delta to drift by more than
    half the band re-marks the book before the hedge (event BookMarked in the upkeep)."""
    s = suite
    sell_puts(s, actors, 200 * WAD, deposit_whole=3_000_000)
    hedge_until_in_band(s, actors)
    spot = book(s)["spot_wad"]
    s.move_pool_price(spot * 1006 // 1000, actors.other)
    s.set_feed_price(spot * 1006 // 1000)  # +0.6%: inside the 1% band of the cache
    assert book(s)["cache_fresh"], "a deposit or a trade would not re-mark"
    needed, _ = s.vault.functions.checkUpkeep(b"").call()
    assert needed
    receipt = send(s.w3, s.vault.functions.performUpkeep(b""), actors.keeper)
    assert s.vault.events.BookMarked().process_receipt(receipt, errors=DISCARD), "re-marked for the hedge"
    assert abs(book(s)["net_delta_wad"]) <= s.config.hedge.delta_band_wad


# ----------------------------------------------------------------------------- cash for claims


@pytest.mark.parametrize("offset", [0, 1])
def test_the_claim_reserve_window_at_its_second(suite: Suite, actors: Actors, offset: int) -> None:
    """A series expiring exactly one day from now is in the claims' reserve; one second later it is not."""
    s = suite
    deposit(s, actors.depositor, q(s, 300_000))
    expiry = now(s.w3) + 3 * DAY
    put = list_series(s, expiry, 3200 * WAD, False)
    buy(s, actors.buyer, put, 10 * WAD)
    warp(s.w3, expiry - now(s.w3) - DAY - offset)
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10)
    assert book(s)["claim_reserve"] == (10 * 200 * 10**6 if offset == 0 else 0)


def test_a_trade_in_a_near_series_enters_the_reserve_without_a_re_mark(suite: Suite, actors: Actors) -> None:
    """The reserve skips its loop while the cached book's nearest expiry with open interest is beyond the
    window: a trade that opens interest in a nearer series must lower that bound (no re-mark in between)."""
    s = suite
    deposit(s, actors.depositor, q(s, 300_000))
    far = list_series(s, now(s.w3) + 20 * DAY, 3000 * WAD, True)
    buy(s, actors.buyer, far, 10 * WAD)
    assert book(s)["claim_reserve"] == 0
    near = list_series(s, now(s.w3) + DAY // 2 + 7200, 3200 * WAD, False)
    marked_at = book(s)["marked_at_sec"]
    buy(s, actors.buyer, near, 10 * WAD)
    b = book(s)
    assert b["cache_fresh"] and b["marked_at_sec"] == marked_at, "the trade did not re-mark"
    assert b["claim_reserve"] == 10 * 200 * 10**6


def test_an_itm_expiry_after_all_withdrawals_pays_every_claim(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 300_000))
    expiry = now(s.w3) + 2 * DAY
    call = list_series(s, expiry, 3000 * WAD, True)
    buy(s, actors.buyer, call, 40 * WAD)
    hedge_until_in_band(s, actors)
    # the market rallies into the last day: the call is deep in the money, its hedge long
    for price in (3150, 3300):
        s.move_pool_price(price * WAD, actors.other)
        warp(s.w3, s.config.oracle.twap_window_sec + 1)
        s.set_feed_price(price * WAD)
        hedge_until_in_band(s, actors)
    warp(s.w3, DAY + 3600 - s.config.oracle.twap_window_sec * 2 - 2)
    refresh_feed(s)
    post_vol(s, expiry, 8 * WAD // 10)
    reserve = book(s)["claim_reserve"]
    assert reserve >= 40 * 300 * 10**6, "the intrinsic value is kept for the claims"
    # the depositor takes all that may leave
    max_w = s.vault.functions.maxWithdraw(actors.depositor).call()
    send(s.w3, s.vault.functions.withdraw(max_w, actors.depositor, actors.depositor), actors.depositor)
    b = book(s)
    assert b["quote_balance"] - s.vault.functions.feesOwed().call() >= reserve
    warp(s.w3, expiry - now(s.w3) + 60)
    refresh_feed(s)
    upkeep(s, actors.keeper)  # settles
    payout = s.vault.functions.claim(call, actors.buyer).call({"from": actors.buyer})
    assert payout == 40 * 300 * 10**6
    send(s.w3, s.vault.functions.claim(call, actors.buyer), actors.buyer)


def test_a_claim_short_of_quote_raises_it_from_the_hedge(spot_suite: Suite, actors: Actors) -> None:
    """The vault spent its quote on the hedge of deep in-the-money calls; the market jumps at expiry and
    nobody hedges again: the payouts exceed the quote held, and the claim has the hedger sell the rest."""
    s = spot_suite
    deposit(s, actors.depositor, q(s, 100_000))
    expiry = now(s.w3) + 7 * DAY
    call = list_series(s, expiry, 2500 * WAD, True)
    buy(s, actors.buyer, call, 30 * WAD)
    hedge_until_in_band(s, actors)
    warp(s.w3, expiry - now(s.w3) - 2 * s.config.oracle.twap_window_sec)
    s.move_pool_price(3600 * WAD, actors.other)
    warp(s.w3, 2 * s.config.oracle.twap_window_sec + 60)
    s.set_feed_price(3600 * WAD)
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data, "the settlement comes first"
    send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)
    owed = s.vault.functions.payoutsOwed().call()
    assert owed > s.quote.functions.balanceOf(s.vault.address).call(), "the quote is short of the payouts"
    receipt = send(s.w3, s.vault.functions.claim(call, actors.buyer), actors.buyer)
    (event,) = hedged_events(s, receipt)
    assert event["hedgeChangeWad"] < 0 and event["quoteChange"] >= 0 and event["netDeltaAfterWad"] == 0
    (claimed,) = [dict(e["args"]) for e in s.vault.events.Claimed().process_receipt(receipt, errors=DISCARD)]
    assert claimed["payout"] == 30 * 1100 * 10**6
    assert s.option_token.functions.balanceOf(actors.buyer, call).call() == 0
    assert s.vault.functions.payoutsOwed().call() == owed - claimed["payout"]
    # the raise is an order: the vault records the position it left (VM_HEDGE_RECORD)
    b = book(s)
    p = s.hedger.functions.position(b["spot_wad"], s.config.risk.spot_shock_up_bps).call()
    assert (b["hedge_wad"], b["collateral"]) == (p[0], p[1])


def test_the_claim_reserve_is_out_of_the_withdrawal_room(suite: Suite, actors: Actors) -> None:
    s = suite
    deposit(s, actors.depositor, q(s, 300_000))
    put = list_series(s, now(s.w3) + DAY // 2 + 7200, 3200 * WAD, False)
    buy(s, actors.buyer, put, 30 * WAD)
    b = book(s)
    assert b["claim_reserve"] == 30 * 200 * 10**6
    v = s.vault.functions.valuation().call()
    free = b["quote_balance"] - s.vault.functions.feesOwed().call() - b["payouts_owed"] - b["claim_reserve"]
    assert v[3] <= free
