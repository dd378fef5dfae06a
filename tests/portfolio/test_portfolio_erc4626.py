"""ERC-4626 properties of PortfolioVault in the spirit of a16z's property tests (written here, not copied), on a
rebalanced portfolio (assets held, a quote buffer) so that withdrawals below and beyond the buffer are both
exercised: round trips never profit, previews never favour the user against the actions (same block), max*
honoured, zero cases, views independent of the caller. Each hypothesis example runs between its own
evm_snapshot / evm_revert."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pvkit import Actors, deposit, fund, q, rebalance_fully, reverts, set_targets, state
from web3 import Web3

from hedgevault.portfolio.localstack import PortfolioStack
from hedgevault.txs import send

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
#: Amounts from dust to beyond the quote buffer (which is about 200,000 quote after the setup).
AMOUNTS = st.integers(min_value=1, max_value=q(450_000))


@contextmanager
def isolated(w3: Web3) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    try:
        yield
    finally:
        w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture
def held(stack: PortfolioStack, pv: Actors) -> PortfolioStack:
    """1,000,000 from depositor and 500,000 from depositor2, rebalanced to the targets, pools arbitraged."""
    deposit(stack, pv.depositor, q(1_000_000))
    deposit(stack, pv.depositor2, q(500_000))
    set_targets(stack)
    rebalance_fully(stack, pv)
    stack.arbitrage(pv.arb)
    assert 0 < state(stack)["quote"] < q(450_000)
    return stack


def _quote(stack: PortfolioStack, who: str) -> int:
    return int(stack.quote.functions.balanceOf(who).call())


@SETTINGS
@given(amount=AMOUNTS)
def test_round_trip_deposit_redeem_never_profits(held: PortfolioStack, pv: Actors, amount: int) -> None:
    v = held.vault.functions
    with isolated(held.w3):
        fund(held, pv.attacker, amount)
        send(held.w3, v.deposit(amount, pv.attacker), pv.attacker)
        shares = v.balanceOf(pv.attacker).call()
        if v.previewRedeem(shares).call() == 0:
            return
        send(held.w3, v.redeem(shares, pv.attacker, pv.attacker), pv.attacker)
        assert _quote(held, pv.attacker) <= amount, "RT_DEPOSIT_REDEEM"


@SETTINGS
@given(amount=AMOUNTS)
def test_round_trip_deposit_withdraw_burns_at_least_the_minted_shares(
    held: PortfolioStack, pv: Actors, amount: int
) -> None:
    v = held.vault.functions
    with isolated(held.w3):
        fund(held, pv.attacker, amount)
        send(held.w3, v.deposit(amount, pv.attacker), pv.attacker)
        shares = v.balanceOf(pv.attacker).call()
        # withdrawing the deposit back costs at least the shares it minted (or is refused)
        assert v.previewWithdraw(amount).call() >= shares, "RT_DEPOSIT_WITHDRAW"


@SETTINGS
@given(amount=AMOUNTS)
def test_round_trip_mint_redeem_never_profits(held: PortfolioStack, pv: Actors, amount: int) -> None:
    v = held.vault.functions
    with isolated(held.w3):
        shares = v.previewDeposit(amount).call()
        if shares == 0:
            return
        fund(held, pv.attacker, 2 * amount + q(1))
        start = _quote(held, pv.attacker)
        send(held.w3, v.mint(shares, pv.attacker), pv.attacker)
        paid = start - _quote(held, pv.attacker)
        if v.previewRedeem(shares).call() == 0:
            return
        send(held.w3, v.redeem(shares, pv.attacker, pv.attacker), pv.attacker)
        assert _quote(held, pv.attacker) - (start - paid) <= paid, "RT_MINT_REDEEM"


@SETTINGS
@given(amount=AMOUNTS)
@example(amount=q(400_000))  # beyond the buffer: withdrawals sell
def test_previews_never_favour_the_user(held: PortfolioStack, pv: Actors, amount: int) -> None:
    v = held.vault.functions
    with isolated(held.w3):
        fund(held, pv.attacker, 4 * amount)
        p_dep = v.previewDeposit(amount).call()
        send(held.w3, v.deposit(amount, pv.attacker), pv.attacker)
        assert v.balanceOf(pv.attacker).call() >= p_dep, "PV_PREVIEW deposit"
        if p_dep == 0:
            return
        p_mint = v.previewMint(p_dep).call()
        before = _quote(held, pv.attacker)
        send(held.w3, v.mint(p_dep, pv.attacker), pv.attacker)
        assert before - _quote(held, pv.attacker) <= p_mint, "PV_PREVIEW mint"
    with isolated(held.w3):
        # the depositor's withdrawals, below and beyond the buffer
        p_wd = v.previewWithdraw(amount).call()
        shares0 = v.balanceOf(pv.depositor).call()
        send(held.w3, v.withdraw(amount, pv.depositor, pv.depositor), pv.depositor)
        assert shares0 - v.balanceOf(pv.depositor).call() <= p_wd, "PV_PREVIEW withdraw"
    with isolated(held.w3):
        shares = v.convertToShares(amount).call()
        p_rd = v.previewRedeem(shares).call()
        if p_rd == 0:
            # worth nothing at NAV - swing: refused rather than burned for nothing
            reverts(v.redeem(shares, pv.depositor, pv.depositor), pv.depositor, "ZeroAssets")
            return
        before = _quote(held, pv.depositor)
        send(held.w3, v.redeem(shares, pv.depositor, pv.depositor), pv.depositor)
        assert _quote(held, pv.depositor) - before >= p_rd, "PV_PREVIEW redeem"


def test_max_withdraw_and_max_redeem_are_honoured(held: PortfolioStack, pv: Actors) -> None:
    v = held.vault.functions
    for who in (pv.depositor, pv.depositor2):
        with isolated(held.w3):
            m = v.maxWithdraw(who).call()
            assert m > state(held)["quote"], "beyond the buffer"
            send(held.w3, v.withdraw(m, who, who), who)
        with isolated(held.w3):
            m = v.maxRedeem(who).call()
            assert m > 0
            send(held.w3, v.redeem(m, who, who), who)


def test_max_withdraw_is_tight_within_the_worst_cost(held: PortfolioStack, pv: Actors) -> None:
    """maxWithdraw is the owner's value at NAV - swing less the worst sale cost: at most 1% below what redeeming
    everything pays."""
    v = held.vault.functions
    m = v.maxWithdraw(pv.depositor2).call()
    assert m <= v.previewRedeem(v.balanceOf(pv.depositor2).call()).call() * 10_100 // 10_000
    assert m >= v.previewRedeem(v.balanceOf(pv.depositor2).call()).call() * 9_850 // 10_000


def test_zero_cases(held: PortfolioStack, pv: Actors) -> None:
    v = held.vault.functions
    assert v.convertToShares(0).call() == 0 and v.convertToAssets(0).call() == 0
    assert v.previewDeposit(0).call() == 0 and v.previewRedeem(0).call() == 0 and v.previewMint(0).call() == 0
    assert v.previewWithdraw(0).call() == 0
    assert v.maxWithdraw(pv.attacker).call() == 0 and v.maxRedeem(pv.attacker).call() == 0
    assert v.maxDeposit(pv.attacker).call() == 2**256 - 1 and v.maxMint(pv.attacker).call() == 2**256 - 1


def test_views_do_not_depend_on_the_caller(held: PortfolioStack, pv: Actors) -> None:
    v = held.vault.functions
    for fn in (v.totalAssets(), v.convertToShares(q(1_000)), v.previewDeposit(q(1_000)), v.previewRedeem(10**15)):
        assert fn.call({"from": pv.attacker}) == fn.call({"from": pv.depositor})


def test_total_assets_is_the_nav(held: PortfolioStack) -> None:
    assert held.vault.functions.totalAssets().call() == state(held)["nav"]
    assert held.vault.functions.asset().call() == held.quote.address
