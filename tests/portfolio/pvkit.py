"""Helpers of the portfolio-vault tests (``tests/portfolio/test_portfolio_*.py``): named actors, funding and
deposits, targets, upkeeps until done, time moves that keep the feeds and the covariance fresh, and custom
error assertions by name.

Amounts: quote in its 6-decimal units (``q(1_000)`` = 1,000 quote), weights in wad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError

from hedgevault.chain import latest_timestamp, warp
from hedgevault.portfolio import mirror
from hedgevault.portfolio.localstack import PortfolioStack
from hedgevault.reverts import decode_error
from hedgevault.txs import send

WAD = 10**18
HOUR = 3600
DAY = 86_400
MAX_UINT = 2**256 - 1
#: The default targets of the tests: 30% / 30% / 20% (ex-ante vol 37.3% with the stack's first covariance).
TARGETS = (3 * WAD // 10, 3 * WAD // 10, 2 * WAD // 10)


def q(whole: int) -> int:
    """Quote units (6 decimals) of ``whole`` quote."""
    return whole * 10**6


@dataclass(frozen=True)
class Actors:
    """Named accounts: admin (every role, the covariance updater), depositor, depositor2, keeper (calls
    upkeeps), attacker, arb (moves pools back to the feed)."""

    admin: str
    depositor: str
    depositor2: str
    keeper: str
    attacker: str
    arb: str


def pv_actors(w3: Web3) -> Actors:
    a = [str(x) for x in w3.eth.accounts]
    return Actors(admin=a[0], depositor=a[1], depositor2=a[2], keeper=a[3], attacker=a[4], arb=a[5])


def fund(stack: PortfolioStack, who: str, amount: int) -> None:
    """Mint ``amount`` quote units to ``who`` and approve the vault for everything."""
    send(stack.w3, stack.quote.functions.mint(who, amount), who)
    send(stack.w3, stack.quote.functions.approve(stack.vault.address, MAX_UINT), who)


def deposit(stack: PortfolioStack, who: str, amount: int) -> int:
    """Fund and deposit ``amount``; returns the shares minted."""
    fund(stack, who, amount)
    before = int(stack.vault.functions.balanceOf(who).call())
    send(stack.w3, stack.vault.functions.deposit(amount, who), who)
    return int(stack.vault.functions.balanceOf(who).call()) - before


def set_targets(stack: PortfolioStack, weights: Sequence[int] = TARGETS) -> None:
    send(stack.w3, stack.vault.functions.setTargets(list(weights)), stack.admin)


def upkeep_error(stack: PortfolioStack, sender: str) -> str | None:
    """The custom error ``performUpkeep`` would revert with now, or None."""
    try:
        stack.vault.functions.performUpkeep(b"").call({"from": sender})
    except ContractCustomError as exc:
        return decode_error(str(exc.data))[0]
    return None


def rebalance_fully(stack: PortfolioStack, who: Actors, max_slices: int = 30) -> int:
    """Upkeeps (with arbitrage of the pools back to the feed after each) until none is needed; returns the
    number of slices."""
    slices = 0
    for _ in range(max_slices):
        ok, _data = stack.vault.functions.checkUpkeep(b"").call()
        if not ok:
            stack.arbitrage(who.arb)
            ok, _data = stack.vault.functions.checkUpkeep(b"").call()
            if not ok:
                return slices
        send(stack.w3, stack.vault.functions.performUpkeep(b""), who.keeper)
        slices += 1
    return slices


def advance(stack: PortfolioStack, seconds: int) -> None:
    """Move the clock ``seconds`` on and refresh the feeds at their answers (the covariance stays: 1 day)."""
    warp(stack.w3, seconds)
    stack.refresh_feeds()


def now(w3: Web3) -> int:
    return latest_timestamp(w3)


def post_cov(stack: PortfolioStack, vols_bp: Sequence[int], corr_bp: int | Sequence[int]) -> None:
    n = len(vols_bp)
    corrs = [corr_bp] * mirror.pair_count(n) if isinstance(corr_bp, int) else list(corr_bp)
    fn = stack.cov_oracle.functions.post(mirror.pack_vols(vols_bp), list(mirror.pack_corrs(corrs)))
    send(stack.w3, fn, stack.admin)


def reverts(fn: Any, sender: str, name: str, *args: Any) -> tuple[Any, ...]:
    """Assert a revert with custom error ``name`` (and ``args`` when given; None matches anything)."""
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": sender})
    got_name, got_args = decode_error(str(info.value.data))
    assert got_name == name, f"expected {name}, got {got_name}{got_args}"
    if args:
        assert len(args) == len(got_args), f"{name}: expected {args}, got {got_args}"
        for want, got in zip(args, got_args, strict=True):
            assert want is None or want == got, f"{name}: expected {args}, got {got_args}"
    return tuple(got_args)


def state(stack: PortfolioStack) -> dict[str, Any]:
    """``state()`` as a dict (assets as a list of dicts)."""
    s = stack.vault.functions.state().call()
    keys = ["balance", "priceWad", "valueQuote", "weightWad", "targetWad", "bandWad"]
    return {
        "nav": s[0],
        "quote": s[1],
        "assets": [dict(zip(keys, a, strict=True)) for a in s[2]],
        "exAnteVol": s[3],
        "targetVol": s[4],
        "te": s[5],
        "budgetAvailable": s[6],
        "budgetCapacity": s[7],
        "targetsSetAt": s[8],
        "covEpoch": s[9],
    }


def mirror_plan(
    stack: PortfolioStack,
    s: dict[str, Any],
    targets: Sequence[int],
    cov: Sequence[int],
    p: mirror.RebalanceParams,
    **kw: Any,
) -> mirror.Slice | None:
    """The mirror's slice (``mirror.plan_slice``) for the vault's ``state()`` ``s`` (quote with 6 decimals)."""
    return mirror.plan_slice(
        [a["valueQuote"] for a in s["assets"]],
        s["quote"],
        [a["priceWad"] for a in s["assets"]],
        [a.decimals for a in stack.config.assets],
        6,
        targets,
        cov,
        p,
        s["budgetAvailable"],
        **kw,
    )


def cov_now(stack: PortfolioStack) -> list[int]:
    return [int(x) for x in stack.cov_oracle.functions.covarianceWad().call()]
