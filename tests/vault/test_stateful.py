"""Hypothesis-driven stateful test over deposits, withdrawals, trades, price and volatility moves, hedges,
settlements, claims and donations on the real suite. Invariants, by id (used as assertion messages):

  VM_SOLVENT        while HF >= 1, assets cover liabilities (quote + hedge value >= mark + payouts owed).
  VM_NEW_RISK_HF    after every successful buy, HF >= the floor.
  VM_PREVIEW        previews never favour the user: previewDeposit <= convertToShares,
                    previewMint >= convertToAssets, previewWithdraw >= convertToShares,
                    previewRedeem <= convertToAssets (same block).
  VM_DONATION       a donation of d quote raises the price of 10^decimals shares by at most
                    d x 10^decimals / (supply + 10^6) + 1 and never lowers it.
  VM_MAX_WITHDRAW   a depositor can always withdraw exactly what maxWithdraw says.
  VM_BAND           after every successful hedging upkeep the gap to the hedge target is inside the band,
                    unless the buy was cut to the vault's free cash (an upkeep that only re-marked the
                    stale cached book is not a hedge).
  VM_OPEN_INTEREST  for every live series, open interest = sum of the option token balances.
  VM_ACCESS         no unprivileged caller changes parameters, lists series, pauses or posts vols.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaultkit import (
    DAY,
    WAD,
    Actors,
    book,
    decode_error,
    deposit,
    fund,
    list_series,
    move_market,
    now,
    post_vol,
    q,
    warp,
)
from web3.exceptions import ContractCustomError, ContractLogicError

from hedgevault.suite import Suite
from hedgevault.txs import send

ALLOWED_BUY_ERRORS = {
    "HealthFactorTooLow",
    "NetDeltaLimit",
    "VegaLimit",
    "OpenInterestCap",
    "TradingCutoff",
    "SeriesExpired",
}
ALLOWED_SELL_ERRORS = {"InsufficientLiquidity", "TradingCutoff", "SeriesExpired"}
ALLOWED_UPKEEP_ERRORS = {"HedgeNavLoss", "PoolPriceDeviation"}


def _try(fn: Any, sender: str) -> str | None:
    """Simulate then send; return None on success or the custom error's name."""
    try:
        fn.call({"from": sender})
    except ContractCustomError as exc:
        return decode_error(str(exc.data))[0]
    except ContractLogicError as exc:
        return f"message:{exc}"
    send(fn.w3, fn, sender)
    return None


class VaultMachine:
    """The model: the suite plus what the test listed. Each public method is one operation; the
    ``check_*`` methods are the invariants, run after every operation.

    (Hypothesis's ``RuleBasedStateMachine`` in the pinned 6.27 runs a single step per example on
    Python 3.11 here, so the program of operations is drawn explicitly with ``st.lists``.)
    """

    def __init__(self, suite: Suite, actors: Actors) -> None:
        self.suite = suite
        self.actors = actors
        self.w3 = suite.w3
        self.series: list[tuple[int, int]] = []  # (id, expiry)
        self.depositors = [actors.depositor, actors.depositor2]
        self.spot = 3000 * WAD

    def setup(self) -> None:
        s = self.suite
        deposit(s, self.actors.depositor, q(s, 300_000))
        t = now(self.w3)
        for days, strike, is_call in ((30, 3000, True), (30, 2800, False), (5, 3200, True)):
            expiry = t + days * DAY
            self.series.append((list_series(s, expiry, strike * WAD, is_call), expiry))

    # ------------------------------------------------------------------ helpers
    def _repost_vols(self, vol_wad: int | None = None) -> None:
        for _, expiry in self.series:
            if expiry > now(self.w3) + 60:
                last = int(self.suite.vol_oracle.functions.lastPost(expiry).call()[0])
                post_vol(self.suite, expiry, vol_wad or last)

    # ------------------------------------------------------------------ rules
    def deposit(self, who: int, whole: int) -> None:
        deposit(self.suite, self.depositors[who], q(self.suite, whole))

    def withdraw_max(self, who: int) -> None:
        s = self.suite
        owner = self.depositors[who]
        amount = s.vault.functions.maxWithdraw(owner).call()
        if amount == 0:
            return
        error = _try(s.vault.functions.withdraw(amount, owner, owner), owner)
        assert error is None, f"VM_MAX_WITHDRAW: withdraw(maxWithdraw={amount}) failed with {error}"

    def redeem_part(self, who: int, pct: int) -> None:
        s = self.suite
        owner = self.depositors[who]
        shares = s.vault.functions.maxRedeem(owner).call() * pct // 100
        if shares:
            error = _try(s.vault.functions.redeem(shares, owner, owner), owner)
            assert error is None, f"VM_MAX_WITHDRAW: redeem within maxRedeem failed with {error}"

    def buy(self, index: int, amount: int) -> None:
        s = self.suite
        series_id, _ = self.series[index]
        b = self.actors.buyer
        fund(s, b, q(s, 2_000_000))
        error = _try(s.vault.functions.buy(series_id, amount * WAD, 2**255, b), b)
        if error is None:
            RULES_RUN["buy"] = RULES_RUN.get("buy", 0) + 1
            hf = book(s)["health_factor_wad"]
            assert hf >= s.config.risk.hf_floor_wad, f"VM_NEW_RISK_HF: {hf}"
        else:
            assert error in ALLOWED_BUY_ERRORS or error.startswith("Vol"), error

    def sell(self, index: int, pct: int) -> None:
        s = self.suite
        series_id, _ = self.series[index]
        b = self.actors.buyer
        held = s.option_token.functions.balanceOf(b, series_id).call() * pct // 100
        if held:
            error = _try(s.vault.functions.sell(series_id, held, 0, b), b)
            assert error is None or error in ALLOWED_SELL_ERRORS, error

    def move_price(self, move_bps: int) -> None:
        self.spot = self.spot * (10_000 + move_bps) // 10_000
        move_market(self.suite, self.spot, self.actors.attacker)
        self._repost_vols()

    def time_passes(self, hours: int) -> None:
        warp(self.w3, hours * 3600)
        self.suite.set_feed_price(self.spot)
        self._repost_vols()

    def vol_moves(self, vol_pct: int) -> None:
        for _, expiry in self.series:
            if expiry > now(self.w3) + 60:
                last = int(self.suite.vol_oracle.functions.lastPost(expiry).call()[0])
                target = vol_pct * WAD // 100
                step = max(-WAD // 2, min(WAD // 2, target - last))
                post_vol(self.suite, expiry, last + step)

    def upkeep(self) -> None:
        s = self.suite
        try:
            needed, data = s.vault.functions.checkUpkeep(b"").call()
        except ContractCustomError:
            return
        if not needed:
            return
        hedged_before = int(s.vault.functions.lastHedgeTime().call())
        error = _try(s.vault.functions.performUpkeep(data), self.actors.keeper)
        if error is not None:
            assert error in ALLOWED_UPKEEP_ERRORS or error.startswith("message:"), error
            return
        if data:
            RULES_RUN["settle"] = RULES_RUN.get("settle", 0) + 1
            return
        if int(s.vault.functions.lastHedgeTime().call()) == hedged_before and book(s)["cache_fresh"]:
            # a re-mark of the stale cached book (the next upkeep hedges)
            RULES_RUN["remark"] = RULES_RUN.get("remark", 0) + 1
            return
        RULES_RUN["hedge"] = RULES_RUN.get("hedge", 0) + 1
        b = book(s)
        target = max(-b["book_delta_wad"], 0)
        gap = abs(target - b["hedge_balance"])
        free_wad = (b["quote_balance"] - b["payouts_owed"]) * 10 ** (18 - s.config.quote_decimals)
        cost_wad = gap * b["spot_wad"] // WAD * (10_000 + s.config.hedge.max_slippage_bps) // 10_000
        cash_limited = target > b["hedge_balance"] and free_wad < cost_wad
        assert gap <= s.config.hedge.delta_band_wad or cash_limited, f"VM_BAND: gap {gap}"

    def claim(self, index: int) -> None:
        s = self.suite
        series_id, expiry = self.series[index]
        b = self.actors.buyer
        if (
            s.vault.functions.settlementPriceWad(expiry).call()
            and s.option_token.functions.balanceOf(b, series_id).call()
        ):
            send(self.w3, s.vault.functions.claim(series_id, b), b)

    def donate(self, whole: int) -> None:
        s = self.suite
        v = s.vault.functions
        unit = 10 ** v.decimals().call()
        try:
            before = v.convertToAssets(unit).call()
        except ContractCustomError:
            return
        supply = v.totalSupply().call()
        amount = q(s, whole)
        send(self.w3, s.quote.functions.mint(self.actors.attacker, amount), self.actors.attacker)
        send(self.w3, s.quote.functions.transfer(s.vault.address, amount), self.actors.attacker)
        after = v.convertToAssets(unit).call()
        assert after >= before, "VM_DONATION: a donation lowered the share price"
        assert after - before <= amount * unit // (supply + 10**6) + 2, "VM_DONATION: moved more than epsilon"

    def attacker_governs(self, which: int) -> None:
        s = self.suite
        c = s.config
        a = self.actors.attacker
        calls = [
            s.vault.functions.setParameters(c.risk.as_tuple(), c.limits.as_tuple(), c.hedge.as_tuple()),
            s.vault.functions.listSeries(now(self.w3) + 10 * DAY, 3000 * WAD, True),
            s.vault.functions.pause(),
            s.vol_oracle.functions.postVol(self.series[0][1], WAD),
            s.price_oracle.functions.setParams(c.oracle.as_tuple()),
        ]
        assert _try(calls[which], a) == "AccessControlUnauthorizedAccount", "VM_ACCESS"

    # ------------------------------------------------------------------ invariants
    def check_solvent_and_previews(self) -> None:
        s = self.suite
        v = s.vault.functions
        try:
            b = book(s)
        except ContractCustomError:
            return  # an oracle is failing closed (e.g. an expiry vol not re-posted yet)
        if b["health_factor_wad"] >= WAD:
            assert b["assets_value"] >= b["mark_value"] + b["payouts_owed"], "VM_SOLVENT"
        block = s.w3.eth.block_number
        x = q(s, 12_345) + 7
        sh = 10 ** (s.config.quote_decimals + 6) * 3 + 11
        assert v.previewDeposit(x).call(block_identifier=block) <= v.convertToShares(x).call(block_identifier=block), (
            "VM_PREVIEW"
        )
        assert v.previewMint(sh).call(block_identifier=block) >= v.convertToAssets(sh).call(block_identifier=block), (
            "VM_PREVIEW"
        )
        assert v.previewWithdraw(x).call(block_identifier=block) >= v.convertToShares(x).call(block_identifier=block), (
            "VM_PREVIEW"
        )
        assert v.previewRedeem(sh).call(block_identifier=block) <= v.convertToAssets(sh).call(block_identifier=block), (
            "VM_PREVIEW"
        )

    def check_open_interest(self) -> None:
        s = self.suite
        live = set(s.vault.functions.liveSeries().call())
        holders = [self.actors.buyer]
        for series_id, _ in self.series:
            if series_id in live:
                total = sum(s.option_token.functions.balanceOf(h, series_id).call() for h in holders)
                assert s.vault.functions.series(series_id).call()[3] == total, "VM_OPEN_INTEREST"


#: Operations that did something (the programs must exercise trades, hedges and settlements).
RULES_RUN: dict[str, int] = {}

OPERATIONS = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 1), st.integers(1, 100_000)),
    st.tuples(st.just("withdraw_max"), st.integers(0, 1)),
    st.tuples(st.just("redeem_part"), st.integers(0, 1), st.integers(1, 100)),
    st.tuples(st.just("buy"), st.integers(0, 2), st.integers(1, 40)),
    st.tuples(st.just("buy"), st.integers(0, 2), st.integers(1, 40)),
    st.tuples(st.just("sell"), st.integers(0, 2), st.integers(1, 100)),
    st.tuples(st.just("move_price"), st.integers(-600, 600)),
    st.tuples(st.just("time_passes"), st.integers(1, 72)),
    st.tuples(st.just("vol_moves"), st.integers(40, 120)),
    st.tuples(st.just("upkeep")),
    st.tuples(st.just("upkeep")),
    st.tuples(st.just("claim"), st.integers(0, 2)),
    st.tuples(st.just("donate"), st.integers(1, 50_000)),
    st.tuples(st.just("attacker_governs"), st.integers(0, 4)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(program=st.lists(OPERATIONS, min_size=8, max_size=20))
def test_vault_state_machine(suite: Suite, actors: Actors, program: list[tuple[Any, ...]]) -> None:
    w3 = suite.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        machine = VaultMachine(suite, actors)
        machine.setup()
        for name, *args in program:
            getattr(machine, name)(*args)
            machine.check_solvent_and_previews()
            machine.check_open_interest()
    finally:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def test_state_machine_exercised_trades_and_hedges() -> None:
    """Runs after the machine (file order): the programs bought, hedged and settled."""
    assert RULES_RUN.get("buy", 0) > 0 and RULES_RUN.get("hedge", 0) > 0, RULES_RUN
