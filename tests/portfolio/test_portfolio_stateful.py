"""Hypothesis-driven stateful test of PortfolioVault on the real stack: programs of deposits, withdrawals,
redemptions (cash and in kind), upkeeps, arbitrage, feed moves, pool pushes, target posts and time. Invariants, by
id (used as assertion messages):

  PV_NAV_CONSERVED     an upkeep changes NAV by exactly minus the cost it records (to the unit: same prices,
                       only the traded asset and the quote move), and that cost is at most the slippage bound of
                       the value traded + 2 units.
  PV_TE_NONINCREASING  no upkeep raises the tracking error: the event's after < before, and state() agrees.
  PV_TOWARD_TARGET     the traded weight is closer to its target after the slice.
  PV_BUDGET            a slice's cost is at most the budget available before it, the bucket's level never exceeds
                       its capacity, and the costs charged over the run are at most the largest capacity seen plus
                       its linear refill over the time elapsed.
  PV_PREVIEW           previews never favour the user against the action in the same block: deposit mints >=
                       previewDeposit, withdraw burns <= previewWithdraw, redeem pays >= previewRedeem.
  PV_EXIT_FAIR         a withdrawal or redemption lowers the stayers' NAV by exactly the leaver's value at
                       NAV - swing (sales' cost borne by the leaver), so NAV per share never falls.
  PV_VIEWS             totalAssets, maxDeposit, maxWithdraw and maxRedeem never revert.
  PV_DERISK_ONLY_SALES an upkeep trades an asset within its band (past the band rule) only as a de-risking sale:
                       TargetVol, the held ex-ante volatility above maxVol x (1 + deriskMarginBps), the asset in
                       the mirror's de-risking mask (``mirror.derisk_mask``), units sold.
  PV_DERISK_TO_TARGET  a de-risking sale never takes its weight below the target.

Every rule names the errors it may hit (``ALLOWED``); any other revert fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pvkit import HOUR, TARGETS, WAD, Actors, fund, now, post_cov, q, state
from web3.exceptions import ContractCustomError

from hedgevault.chain import warp
from hedgevault.portfolio import mirror
from hedgevault.portfolio.localstack import PortfolioStack
from hedgevault.reverts import decode_error
from hedgevault.txs import send

P = mirror.DEFAULT_REBALANCE_PARAMS
ALLOWED = {
    "deposit": set[str](),
    # a sale the pool cannot fill within the bound, a pool past the limit, shares worth nothing after the swing
    "withdraw": {"SaleIncomplete", "PoolBeyondLimit", "ZeroAssets", "ERC4626ExceededMaxWithdraw"},
    "redeem": {"SaleIncomplete", "PoolBeyondLimit", "ZeroAssets"},
    "redeem_in_kind": {"ZeroAssets"},
    # nothing out of band, the pool at the limit (arbitrage first), the budget spent, a TargetVol slice that
    # would leave the band, nothing posted yet
    "upkeep": {"NoRebalanceNeeded", "PoolBeyondLimit", "SlippageBudgetSpent", "VolMovedAwayFromBand", "TargetsNotSet"},
    "targets": {"TargetsTooSoon", "PmVolOutOfBand"},
    "rules": set[str](),
}
#: The rules' maximum volatility the machine switches between (TargetVol, 10% minimum): 40% (the default: the
#: targets' 37% is near it), 30% and 25% (the held volatility above the de-risking trigger).
MAX_VOLS = (4 * WAD // 10, 3 * WAD // 10, WAD // 4)
TARGET_CHOICES = [TARGETS, (WAD // 10, WAD // 10, 3 * WAD // 10), (WAD // 2, WAD // 5, WAD // 10)]
RUN: dict[str, int] = {}


class Machine:
    def __init__(self, stack: PortfolioStack, who: Actors) -> None:
        self.s = stack
        self.v = stack.vault.functions
        self.who = who
        self.users = [who.depositor, who.depositor2, who.attacker]
        self.start = now(stack.w3)
        self.cost_total = 0
        self.max_capacity = 0
        self.cov_posted_at = now(stack.w3)
        self.max_vol = MAX_VOLS[0]
        for u in self.users:
            fund(stack, u, q(10_000_000))

    def _try(self, rule: str, fn: Any, sender: str) -> Any:
        try:
            result = fn.call({"from": sender})
        except ContractCustomError as exc:
            name = decode_error(str(exc.data))[0]
            assert name in ALLOWED[rule], f"{rule}: unexpected {name}"
            RUN[f"{rule}:{name}"] = RUN.get(f"{rule}:{name}", 0) + 1
            return None
        receipt = send(self.s.w3, fn, sender, gas=8_000_000)
        RUN[rule] = RUN.get(rule, 0) + 1
        return result, receipt

    # ------------------------------------------------------------------------- rules

    def deposit(self, user: int, amount: int) -> None:
        who = self.users[user]
        preview = self.v.previewDeposit(amount).call()
        got = self._try("deposit", self.v.deposit(amount, who), who)
        if got is not None:
            assert got[0] >= preview, "PV_PREVIEW deposit"

    def withdraw(self, user: int, frac_bp: int) -> None:
        who = self.users[user]
        amount = self.v.maxWithdraw(who).call() * frac_bp // 10_000
        if amount == 0:
            return
        preview = self.v.previewWithdraw(amount).call()
        before = self._per_share()
        got = self._try("withdraw", self.v.withdraw(amount, who, who), who)
        if got is not None:
            assert got[0] <= preview, "PV_PREVIEW withdraw"
            self._check_exit(before)

    def redeem(self, user: int, frac_bp: int) -> None:
        who = self.users[user]
        shares = self.v.balanceOf(who).call() * frac_bp // 10_000
        if shares == 0:
            return
        preview = self.v.previewRedeem(shares).call()
        before = self._per_share()
        got = self._try("redeem", self.v.redeem(shares, who, who), who)
        if got is not None:
            assert got[0] >= preview, "PV_PREVIEW redeem"
            self._check_exit(before)

    def redeem_in_kind(self, user: int, frac_bp: int) -> None:
        who = self.users[user]
        shares = self.v.balanceOf(who).call() * frac_bp // 10_000
        if shares:
            self._try("redeem_in_kind", self.v.redeemInKind(shares, who, who), who)

    def upkeep(self) -> None:
        before = state(self.s)
        mask = self._derisk_mask(before)
        got = self._try("upkeep", self.v.performUpkeep(b""), self.who.keeper)
        if got is None:
            return
        ev = self.s.vault.events.Rebalanced().process_receipt(got[1])[0]["args"]
        after = state(self.s)
        i = ev["asset"]
        a0 = before["assets"][i]
        if abs(a0["weightWad"] - a0["targetWad"]) <= a0["bandWad"]:
            assert (mask >> i) & 1 and ev["assetDelta"] < 0, "PV_DERISK_ONLY_SALES"
            RUN["upkeep:derisk"] = RUN.get("upkeep:derisk", 0) + 1
        if (mask >> i) & 1:
            assert after["assets"][i]["weightWad"] >= after["assets"][i]["targetWad"], "PV_DERISK_TO_TARGET"
        spec = self.s.config.assets[i]
        traded = mirror.value_quote(abs(ev["assetDelta"]), before["assets"][i]["priceWad"], spec.decimals, 6)
        assert after["nav"] == before["nav"] - ev["costQuote"], "PV_NAV_CONSERVED"
        assert ev["costQuote"] <= traded * P.max_slippage_bps // 10_000 + 2, "PV_NAV_CONSERVED cost bound"
        assert ev["trackingErrorAfterWad"] < ev["trackingErrorBeforeWad"], "PV_TE_NONINCREASING"
        assert ev["trackingErrorBeforeWad"] == before["te"] and ev["trackingErrorAfterWad"] == after["te"], (
            "PV_TE_NONINCREASING state"
        )
        t = after["assets"][i]["targetWad"]
        assert abs(after["assets"][i]["weightWad"] - t) < abs(before["assets"][i]["weightWad"] - t), "PV_TOWARD_TARGET"
        assert ev["costQuote"] <= before["budgetAvailable"], "PV_BUDGET slice"
        self.cost_total += ev["costQuote"]

    def _derisk_mask(self, s: dict[str, Any]) -> int:
        """The mirror's de-risking mask of the held weights now (0 before targets or outside TargetVol)."""
        if not s["targetsSetAt"]:
            return 0
        cov = [int(x) for x in self.s.cov_oracle.functions.covarianceWad().call()]
        w = [a["weightWad"] for a in s["assets"]]
        d = [a["weightWad"] - a["targetWad"] for a in s["assets"]]
        g, _ = mirror.quad_form(d, cov)
        gw, v = mirror.quad_form(w, cov)
        return mirror.derisk_mask(d, g, gw, v, cov, self.max_vol, P.derisk_margin_bps, P.rc_dust_wad)

    def targets_below(self) -> None:
        s = state(self.s)
        t = [a["weightWad"] - a["bandWad"] // 4 for a in s["assets"]]
        self._try("targets", self.v.setTargets(t), self.who.admin)

    def rules(self, choice: int) -> None:
        self.max_vol = MAX_VOLS[choice]
        r = mirror.TargetRules(mirror.Mode.TARGET_VOL, (0,) * 3, (WAD,) * 3, WAD // 10, self.max_vol)
        self._try("rules", self.v.setRules(r.as_tuple()), self.who.admin)

    def arbitrage(self) -> None:
        self.s.arbitrage(self.who.arb)

    def feed_move(self, i: int, bps: int) -> None:
        price = int(self.s.feeds[i].functions.latestRoundData().call()[1]) * WAD // 10**8
        self.s.set_price(i, price * (10_000 + bps) // 10_000)

    def pool_push(self, i: int, bps: int) -> None:
        self.s.move_pool_price(i, int(self.s.pool_price_wad(i)) * (10_000 + bps) // 10_000, self.who.arb)

    def targets(self, choice: int) -> None:
        self._try("targets", self.v.setTargets(list(TARGET_CHOICES[choice])), self.who.admin)

    def time(self, seconds: int) -> None:
        warp(self.s.w3, seconds)
        self.s.refresh_feeds()
        if now(self.s.w3) - self.cov_posted_at > 12 * HOUR:
            post_cov(self.s, [a.vol_bp for a in self.s.config.assets], self.s.config.corr_bp)
            self.cov_posted_at = now(self.s.w3)

    # ------------------------------------------------------------------------- checks

    def _per_share(self) -> tuple[int, int]:
        return state(self.s)["nav"], self.v.totalSupply().call()

    def _check_exit(self, before: tuple[int, int]) -> None:
        nav0, supply0 = before
        nav1, supply1 = self._per_share()
        # (nav1 + 1) / (supply1 + 1e6) >= (nav0 + 1) / (supply0 + 1e6), cross-multiplied
        assert (nav1 + 1) * (supply0 + 10**6) >= (nav0 + 1) * (supply1 + 10**6), "PV_EXIT_FAIR"

    def check(self) -> None:
        for fn in (self.v.totalAssets(), self.v.maxDeposit(self.who.depositor)):
            fn.call()
        for u in self.users:
            self.v.maxWithdraw(u).call()
            self.v.maxRedeem(u).call()
        s = state(self.s)
        assert s["budgetAvailable"] <= s["budgetCapacity"], "PV_BUDGET level"
        self.max_capacity = max(self.max_capacity, s["budgetCapacity"])
        elapsed = now(self.s.w3) - self.start
        bound = self.max_capacity + self.max_capacity * elapsed // P.budget_period_sec + 1
        assert self.cost_total <= bound, "PV_BUDGET cumulative"


USER = st.integers(0, 2)
FRAC = st.integers(1, 10_000)
STEP = st.one_of(
    st.tuples(st.just("deposit"), USER, st.integers(1, q(2_000_000))),
    st.tuples(st.just("withdraw"), USER, FRAC),
    st.tuples(st.just("redeem"), USER, FRAC),
    st.tuples(st.just("redeem_in_kind"), USER, st.integers(1, 3_000)),
    st.tuples(st.just("upkeep")),
    st.tuples(st.just("upkeep")),
    st.tuples(st.just("arbitrage")),
    st.tuples(st.just("feed_move"), st.integers(0, 2), st.integers(-300, 300)),
    st.tuples(st.just("pool_push"), st.integers(0, 2), st.integers(-150, 150)),
    st.tuples(st.just("targets"), st.integers(0, 2)),
    st.tuples(st.just("rules"), st.integers(0, 2)),
    st.tuples(st.just("time"), st.integers(60, 3 * HOUR)),
)
#: Every program starts with deposits and targets, so that upkeeps have work.
PRELUDE = [("deposit", 0, q(1_000_000)), ("deposit", 1, q(400_000)), ("targets", 0), ("upkeep",), ("arbitrage",)]
#: Half the programs then invest, post targets a quarter band below every held weight (each asset held above
#: its target, within its band) and narrow the rules' maximum volatility to 25% (the de-risking trigger 31.25%,
#: below the held 35%): the next upkeep is a de-risking sale past the band.
DERISK_PRELUDE = [
    *[("upkeep",), ("arbitrage",)] * 8,
    ("time", HOUR),
    ("targets_below",),
    ("rules", 2),
    ("upkeep",),
]


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(program=st.lists(STEP, min_size=6, max_size=22), derisk=st.booleans())
def test_portfolio_state_machine(
    stack: PortfolioStack, pv: Actors, program: list[tuple[Any, ...]], derisk: bool
) -> None:
    """``derisk``: after the prelude the rules' maximum volatility is 25% (the de-risking trigger 31.25%, below the
    targets' 37%): the exemption is active in the program's upkeeps."""
    w3 = stack.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        machine = Machine(stack, pv)
        for name, *args in PRELUDE + (DERISK_PRELUDE if derisk else []) + program:
            getattr(machine, name)(*args)
            machine.check()
    finally:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def test_state_machine_exercised_the_rules() -> None:
    """Runs after the machine (file order): upkeeps traded and withdrawals sold."""
    if not RUN:
        pytest.skip("the state machine did not run in this process")
    print("state machine rules run:", dict(sorted(RUN.items())))
    assert RUN.get("upkeep", 0) > 0 and RUN.get("redeem", 0) + RUN.get("withdraw", 0) > 0, RUN
    assert RUN.get("upkeep:derisk", 0) > 0, RUN
