"""Hypothesis-driven stateful test over deposits, withdrawals, trades, price and volatility moves, hedges,
settlements, claims and donations on the real suite. Invariants, by id (used as assertion messages):

  VM_SOLVENT        while HF >= 1, assets cover liabilities (quote - fees owed + hedge value >= mark
                    + payouts owed).
  VM_NEW_RISK_HF    after every successful buy, HF >= the floor.
  VM_PREVIEW        previews never favour the user: previewDeposit <= convertToShares,
                    previewMint >= convertToAssets, previewWithdraw >= convertToShares,
                    previewRedeem <= convertToAssets (same block; the conversions computed here from
                    totalAssets and totalSupply with OpenZeppelin's virtual-share formula, floor).
  VM_DONATION       a donation of d quote raises the price of 10^decimals shares by at most
                    d x 10^decimals / (supply + 10^6) + 1 and never lowers it.
  VM_MAX_WITHDRAW   a depositor can always withdraw exactly what maxWithdraw says.
  VM_HEDGE_PROGRESS after every successful hedging upkeep |net delta| is smaller than before it (one slice:
                    a large gap closes over several upkeeps) or inside the band; a de-risking order is
                    exempt (it repays debt whatever the target).
  VM_SLICE_BOUND    an order's cost at the oracle spot, -(quote + collateral + hedge x S) changes, is at most
                    the slippage bound of the value it traded (+ 2 units of rounding).
  VM_AAVE_HF        after every hedge that leaves debt (outside de-risking), Aave's health factor of the
                    hedger under the spot-up shock is >= 1 + the hedger's buffer.
  VM_PREVIEW_ACTION previews never favour the user against the action itself (same block, frozen clock):
                    deposit mints >= previewDeposit shares, mint takes <= previewMint assets, withdraw
                    burns <= previewWithdraw shares, redeem pays >= previewRedeem assets.
  VM_OPEN_INTEREST  for every live series, open interest = sum of the option token balances.
  VM_FEES           collecting the fees owed pays the fee recipient all of them but one unit and does
                    not change totalAssets.
  VM_ACCESS         no unprivileged caller changes parameters, lists series, pauses or posts vols.
  VM_CACHE_LOW      the NAV that totalAssets, withdrawals, redemptions and maxWithdraw use (mark upper
                    bound of the cached book) is never above the NAV of a full re-mark: totalAssets <=
                    max(A - ceil(full / scale) - owed, 0), and the book's mark >= ceil(full / scale).
  VM_CACHE_HIGH     the NAV that deposits and mints use (mark lower bound) is never below the NAV of a full
                    re-mark: markLower <= floor(full / scale), and previewDeposit(x) <= the shares the
                    full re-mark's NAV would give.
  VM_NO_ROUNDTRIP_PROFIT  a buy and a sale back of the same amount across a feed move of at most the
                    feed deviation (either way, or none) loses money for the trader.
  VM_NO_PHANTOM_STRESS    a round trip between re-marks leaves the stress margin where it was, to the unit.
  VM_VIEWS_NEVER_REVERT   with the feed stale, totalAssets, convertTo* and max* answer (max* 0).
  VM_EXIT_OUTAGE    an outage reported outageExitDelaySec ago lets a depositor withdraw maxWithdraw, and the
                    stayers' conservative value per share (virtual share and asset included) does not fall.
  VM_LOCK_COST      a buy that lowers what depositors may withdraw (valuation().withdrawRoom) pays at least
                    1% of the amount it locks (the minimum premium).
  VM_SETTLEMENT_VALUE an expired series whose settlement round exists is valued at it (the full re-mark
                    below values it there), so settling moves no value.
  VM_HEDGE_RECORD   the hedge the vault values deposits, withdrawals and trades with (its record of a long
                    hedge, ``BookMarking.hedgePosition``; the hedger's own position while short) equals the
                    hedger's ``position`` after every operation: hedge and collateral (no underlying is given
                    to the hedger here; tests/vault/test_hedge_record.py covers that).
  The full re-mark ("full") is computed here from the pricer: sum over live series of ceil(open x
  markAndDelta(spot, K, T, vol) / 1e18) at the spot the book uses and the block's time (wad), exactly as
  ``BookMarking`` re-marks; an expired series at its settlement price when the feed has the round.

  Every rule names the errors it may legitimately hit (``ALLOWED_*``); any other revert fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from vaultkit import (
    DAY,
    WAD,
    Actors,
    book,
    deposit,
    list_series,
    move_market,
    now,
    post_vol,
    q,
)
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from hedgevault.aave import configure_collateral, set_reserve_frozen
from hedgevault.chain import latest_timestamp, warp
from hedgevault.deployment.senders import UnlockedSender
from hedgevault.errors import HedgevaultError
from hedgevault.greeks import mirror
from hedgevault.reverts import decode_error
from hedgevault.suite import Suite
from hedgevault.txs import send

ALLOWED_BUY_ERRORS = {
    "HealthFactorTooLow",
    "NetDeltaLimit",
    "VegaLimit",
    "OpenInterestCap",
    "TradingCutoff",
    "SeriesExpired",
    "VolStale",
}
ALLOWED_SELL_ERRORS = {"InsufficientLiquidity", "TradingCutoff", "SeriesExpired"}
#: A hedge's bounds working: the NAV loss bound, the pool off the oracle, the pool already at the slice's price
#: limit (arbitrage must come first), a frozen Aave reserve (checked against the model), and HF: moving toward
#: the delta target can pass the hedge that minimises the stress margin, and no order may leave HF below
#: min(floor, HF before).
ALLOWED_UPKEEP_ERRORS = {
    "HedgeNavLoss",
    "PoolPriceDeviation",
    "PoolBeyondLimit",
    "AaveReserveUnavailable",
    "HealthFactorTooLow",
}
ALLOWED_DEPOSIT_ERRORS = {"VaultInsolvent"}


def _try(fn: Any, sender: str) -> str | None:
    """Simulate then send; return None on success or the custom error's name."""
    try:
        fn.call({"from": sender})
    except ContractCustomError as exc:
        return decode_error(str(exc.data))[0]
    except ContractLogicError as exc:
        return f"message:{exc}"
    # simulated above: a fixed gas limit saves the node an estimate (a binary search of executions)
    send(fn.w3, fn, sender, gas=8_000_000)
    return None


def _call_error(fn: Any) -> str | None:
    """The custom error a view call reverts with, or None."""
    try:
        fn.call()
    except ContractCustomError as exc:
        return decode_error(str(exc.data))[0]
    return None


def _mul_div(a: int, b: int, c: int) -> int:
    return a * b // c


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
        self.aave = suite.config.hedger.kind == "aave"
        self.aave_frozen = False

    def setup(self) -> None:
        s = self.suite
        deposit(s, self.actors.depositor, q(s, 300_000))
        t = now(self.w3)
        for days, strike, is_call in ((30, 3000, True), (30, 2800, False), (5, 3200, True)):
            expiry = t + days * DAY
            if any(e == expiry for _, e in self.series):
                warp(self.w3, s.config.vol.min_interval_sec)  # list_series posts the vol: the oracle's interval
            self.series.append((list_series(s, expiry, strike * WAD, is_call), expiry))
        for who in (self.actors.depositor2, self.actors.buyer):
            send(self.w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), who)

    def _mint_quote(self, who: str, amount: int) -> None:
        """Mint quote to ``who`` (every actor approved the vault for everything in ``setup``)."""
        send(self.w3, self.suite.quote.functions.mint(who, amount), who, gas=200_000)

    # ------------------------------------------------------------------ helpers
    def _repost_vols(self, vol_wad: int | None = None) -> None:
        """Re-post each live expiry's vol (or ``vol_wad``) as the oracle's rate rule allows now: nothing when
        the last post is younger than its minimum interval, else clipped to ``maxStepNowWad``."""
        oracle = self.suite.vol_oracle.functions
        for expiry in sorted({e for _, e in self.series}):
            if expiry > now(self.w3) + 60:
                allowed = int(oracle.maxStepNowWad(expiry).call())
                last = int(oracle.lastPost(expiry).call()[0])
                if allowed:
                    target = vol_wad or last
                    post_vol(self.suite, expiry, last + max(-allowed, min(allowed, target - last)))

    # ------------------------------------------------------------------ rules
    def _shares(self, owner: str) -> int:
        return int(self.suite.vault.functions.balanceOf(owner).call())

    def _quote(self, owner: str) -> int:
        return int(self.suite.quote.functions.balanceOf(owner).call())

    def deposit(self, who: int, whole: int) -> None:
        s = self.suite
        owner = self.depositors[who]
        amount = q(s, whole)
        self._mint_quote(owner, amount)
        preview = self._preview(s.vault.functions.previewDeposit(amount), owner)
        before = self._shares(owner)
        error = _try(s.vault.functions.deposit(amount, owner), owner)
        if error is None:
            assert preview is not None, "a deposit went through while previewDeposit said deposits are closed"
            assert self._shares(owner) - before >= preview, "VM_PREVIEW_ACTION: deposit minted fewer than previewed"
        else:
            assert error in ALLOWED_DEPOSIT_ERRORS, error
            assert int(s.vault.functions.maxDeposit(owner).call()) == 0, "maxDeposit must say 0 when deposits revert"

    def _preview(self, fn: Any, owner: str) -> int | None:
        """A deposit-side preview, or None when it reverts `DepositsClosed` (then maxDeposit must say 0)."""
        error = _call_error(fn)
        if error is None:
            return int(fn.call())
        assert error == "DepositsClosed", error
        assert int(self.suite.vault.functions.maxDeposit(owner).call()) == 0, "DepositsClosed with maxDeposit > 0"
        return None

    def mint(self, who: int, shares_units: int) -> None:
        s = self.suite
        owner = self.depositors[who]
        shares = shares_units * 10 ** (s.config.quote_decimals + 6)
        preview = self._preview(s.vault.functions.previewMint(shares), owner)
        if preview is None:
            error = _try(s.vault.functions.mint(shares, owner), owner)
            assert error in ALLOWED_DEPOSIT_ERRORS, error
            return
        self._mint_quote(owner, preview)
        before = self._quote(owner)
        error = _try(s.vault.functions.mint(shares, owner), owner)
        if error is None:
            assert before - self._quote(owner) <= preview, "VM_PREVIEW_ACTION: mint took more than previewed"
        else:
            assert error in ALLOWED_DEPOSIT_ERRORS, error

    def withdraw_max(self, who: int) -> None:
        s = self.suite
        owner = self.depositors[who]
        amount = s.vault.functions.maxWithdraw(owner).call()
        if amount == 0:
            return
        preview = int(s.vault.functions.previewWithdraw(amount).call())
        shares_before, quote_before = self._shares(owner), self._quote(owner)
        error = _try(s.vault.functions.withdraw(amount, owner, owner), owner)
        assert error is None, f"VM_MAX_WITHDRAW: withdraw(maxWithdraw={amount}) failed with {error}"
        assert self._quote(owner) - quote_before == amount, "VM_MAX_WITHDRAW: paid other than maxWithdraw"
        assert shares_before - self._shares(owner) <= preview, "VM_PREVIEW_ACTION: withdraw burned more"

    def redeem_part(self, who: int, pct: int) -> None:
        s = self.suite
        owner = self.depositors[who]
        shares = s.vault.functions.maxRedeem(owner).call() * pct // 100
        if shares:
            preview = int(s.vault.functions.previewRedeem(shares).call())
            before = self._quote(owner)
            error = _try(s.vault.functions.redeem(shares, owner, owner), owner)
            assert error is None, f"VM_MAX_WITHDRAW: redeem within maxRedeem failed with {error}"
            assert self._quote(owner) - before >= preview, "VM_PREVIEW_ACTION: redeem paid less than previewed"

    def buy(self, index: int, amount: int) -> None:
        s = self.suite
        series_id, _ = self.series[index]
        b = self.actors.buyer
        self._mint_quote(b, q(s, 2_000_000))
        room_before, quote_before = self._withdraw_room(), self._quote(b)
        error = _try(s.vault.functions.buy(series_id, amount * WAD, 2**255, b), b)
        if error == "HedgerDeRisking":
            # only puts, and only while the hedger's Aave position is below its buffer under the shock
            assert not s.vault.functions.series(series_id).call()[1], "HedgerDeRisking on a call"
            spot = book(s)["spot_wad"]
            assert s.hedger.functions.position(spot, s.config.risk.spot_shock_up_bps).call()[3], (
                "HedgerDeRisking while the hedger is not de-risking"
            )
            RULES_RUN["derisk_refused_put"] = RULES_RUN.get("derisk_refused_put", 0) + 1
            return
        if error is None:
            RULES_RUN["buy"] = RULES_RUN.get("buy", 0) + 1
            hf = book(s)["health_factor_wad"]
            assert hf >= s.config.risk.hf_floor_wad, f"VM_NEW_RISK_HF: {hf}"
            room_after, paid = self._withdraw_room(), quote_before - self._quote(b)
            if room_before is not None and room_after is not None and room_after < room_before:
                locked = room_before - room_after
                assert paid * 100 >= locked, f"VM_LOCK_COST: paid {paid} to lock {locked}"
        else:
            assert error in ALLOWED_BUY_ERRORS, error

    def _withdraw_room(self) -> int | None:
        """``valuation().withdrawRoom``, or None while the oracles fail closed."""
        try:
            return int(self.suite.vault.functions.valuation().call()[3])
        except ContractCustomError:
            return None

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
        self._repost_vols(vol_pct * WAD // 100)

    def upkeep(self) -> None:
        s = self.suite
        needed, data = s.vault.functions.checkUpkeep(b"").call()
        if not needed:
            return
        hedged_before = int(s.vault.functions.lastHedgeTime().call())
        error = _try(s.vault.functions.performUpkeep(data), self.actors.keeper)
        if error in ("NothingToHedge", "CollateralShort"):
            # a slice cut to a free quote that affords nothing (withdrawals took it), or that cannot
            # collateralise any borrow: the upkeep fails instead of looping
            b = book(s)
            owed = b["payouts_owed"] + int(s.vault.functions.feesOwed().call()) + b["claim_reserve"]
            free_wad = max(b["quote_balance"] - owed, 0) * 10 ** (18 - s.config.quote_decimals)
            assert free_wad < 2 * b["spot_wad"], f"{error} with {free_wad} free quote wad to spend"
            return
        if error is not None:
            assert error in ALLOWED_UPKEEP_ERRORS, error
            if error == "AaveReserveUnavailable":
                assert self.aave_frozen, "AaveReserveUnavailable without a frozen reserve"
            return
        if data:
            RULES_RUN["settle"] = RULES_RUN.get("settle", 0) + 1
            return
        if int(s.vault.functions.lastHedgeTime().call()) == hedged_before and book(s)["cache_fresh"]:
            # a re-mark of the stale cached book (the next upkeep hedges)
            RULES_RUN["remark"] = RULES_RUN.get("remark", 0) + 1
            return
        RULES_RUN["hedge"] = RULES_RUN.get("hedge", 0) + 1
        receipt = s.w3.eth.get_transaction_receipt(s.w3.eth.get_block("latest")["transactions"][-1])
        (event,) = [dict(e["args"]) for e in s.vault.events.Hedged().process_receipt(receipt, errors=DISCARD)]
        self._check_hedge(event, receipt)

    def _check_hedge(self, event: dict[str, Any], receipt: Any) -> None:
        """VM_HEDGE_PROGRESS, VM_SLICE_BOUND and VM_AAVE_HF after a successful hedge order."""
        s = self.suite
        cfg = s.config
        b = book(s)
        band = cfg.hedge.delta_band_wad
        change = int(event["hedgeChangeWad"])
        net_after = int(event["netDeltaAfterWad"])
        # against the book the order saw (its marks): net delta before = net after - the hedge's change
        net_before = net_after - change
        de_risked = bool(s.hedger.events.DeRisked().process_receipt(receipt, errors=DISCARD)) if self.aave else False
        if not de_risked:
            assert abs(net_after) < abs(net_before) or abs(net_after) <= band, (
                f"VM_HEDGE_PROGRESS: |net| {net_before} -> {net_after}"
            )
        # the order's cost at the oracle spot is at most the slippage bound of what it traded (+ rounding)
        qs = 10 ** (18 - cfg.quote_decimals)
        value_change = int(event["quoteChange"]) + int(event["collateralChange"])
        hedge_value = change * b["spot_wad"] // WAD // qs
        cost = -(value_change + hedge_value)
        traded = abs(change) * b["spot_wad"] // WAD // qs
        bound = traded * cfg.hedge.max_slippage_bps // 10_000 + 2
        assert cost <= bound, f"VM_SLICE_BOUND: cost {cost} above {bound} for {traded} traded"
        if self.aave:
            d = s.hedger.functions.details(cfg.risk.spot_shock_up_bps).call()
            debt, hf_shock = int(d[1]), int(d[4])
            minimum = WAD + cfg.hedger.hf_buffer_wad
            if debt > 0 and not de_risked:
                # Aave's own health factor under the shock (its oracle reads the same feed), 1e-9 rounding
                assert hf_shock >= minimum - 10**9, f"VM_AAVE_HF: {hf_shock} below 1 + buffer {minimum}"
                CHECKS_RUN["aave_hf"] = CHECKS_RUN.get("aave_hf", 0) + 1

    def aave_governs(self, which: int) -> None:
        """Aave's governance changes the market under the vault: the quote's liquidation threshold moves
        (toward the position's limit: the vault must de-risk), or the underlying is frozen or unfrozen."""
        s = self.suite
        if not self.aave:
            return
        market = s.aave
        assert market is not None
        sender = UnlockedSender(s.w3, s.admin)
        if which == 0:
            self.aave_frozen = not self.aave_frozen
            set_reserve_frozen(market, s.underlying.address, self.aave_frozen, sender)
        else:
            # LT 85% -> 80%, 75%, 70% (LTV follows below it)
            lt = 8500 - 500 * which
            configure_collateral(market, s.quote.address, lt - 500, lt, 10_500, sender)
        RULES_RUN["aave_governs"] = RULES_RUN.get("aave_governs", 0) + 1

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

    def collect_fees(self) -> None:
        s = self.suite
        v = s.vault.functions
        owed = int(v.feesOwed().call())
        if owed < 2:
            assert _try(v.collectFees(), self.actors.attacker) == "NoFeesToCollect", "VM_FEES"
            return
        try:
            nav = int(v.totalAssets().call())
        except ContractCustomError:
            nav = None  # an oracle fails closed: no valuation to compare, the collection still works
        before = int(s.quote.functions.balanceOf(s.fee_recipient).call())
        send(self.w3, v.collectFees(), self.actors.attacker)
        assert int(s.quote.functions.balanceOf(s.fee_recipient).call()) - before == owed - 1, "VM_FEES"
        assert int(v.feesOwed().call()) == 1, "VM_FEES"
        if nav is not None:
            assert int(v.totalAssets().call()) == nav, "VM_FEES: collecting fees moved the NAV"
        RULES_RUN["collect_fees"] = RULES_RUN.get("collect_fees", 0) + 1

    def round_trip(self, index: int, amount: int, move_bps: int) -> None:
        """VM_NO_ROUNDTRIP_PROFIT / VM_NO_PHANTOM_STRESS: the attacker buys, the feed moves by at most the
        deviation, the attacker sells the same amount back."""
        s = self.suite
        v = s.vault.functions
        series_id, _ = self.series[index]
        a = self.actors.attacker
        dev = s.config.risk.feed_deviation_bps
        move = max(-dev, min(dev, move_bps))
        self._mint_quote(a, q(s, 2_000_000))
        send(self.w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), a)
        before_quote = self._quote(a)
        stress_before = book(s)
        error = _try(v.buy(series_id, amount * WAD, 2**255, a), a)
        if error is not None:
            assert error in ALLOWED_BUY_ERRORS, error
            return
        if move:
            s.set_feed_price(self.spot * (10_000 + move) // 10_000)
        error = _try(v.sell(series_id, amount * WAD, 0, a), a)
        if move:
            s.set_feed_price(self.spot)
        if error is not None:
            assert error in ALLOWED_SELL_ERRORS, error
            return
        RULES_RUN["round_trip"] = RULES_RUN.get("round_trip", 0) + 1
        assert self._quote(a) < before_quote, f"VM_NO_ROUNDTRIP_PROFIT: {self._quote(a) - before_quote}"
        after = book(s)
        if not move and after["marked_at_sec"] == stress_before["marked_at_sec"]:
            assert after["stress_margin"] == stress_before["stress_margin"], "VM_NO_PHANTOM_STRESS"

    def outage(self, extra_hours: int) -> None:
        """VM_VIEWS_NEVER_REVERT / VM_EXIT_OUTAGE: the feed goes stale; the views answer closed; an outage
        is reported; after the delay a depositor leaves at the conservative valuation; the feed returns."""
        s = self.suite
        v = s.vault.functions
        warp(self.w3, s.config.oracle.heartbeat_sec + 1 + extra_hours * 3600)
        d = self.depositors[0]
        v.totalAssets().call()  # answers (no revert)
        v.convertToShares(q(s, 1)).call()
        v.convertToAssets(10**12).call()
        for fn in (v.maxDeposit, v.maxMint, v.maxWithdraw, v.maxRedeem):
            assert int(fn(d).call()) == 0, "VM_VIEWS_NEVER_REVERT: a max* view said open with the feed stale"
        error = _try(v.reportOracleOutage(), self.actors.other)
        assert error is None or error == "OutageAlreadyReported", error
        warp(self.w3, s.config.risk.outage_exit_delay_sec)
        assert v.exitMode().call(), "VM_EXIT_OUTAGE: not in exit mode after the delay"
        nav, supply = int(v.totalAssets().call()), int(v.totalSupply().call())
        most = int(v.maxWithdraw(d).call())
        if most:
            before = self._quote(d)
            error = _try(v.withdraw(most, d, d), d)
            assert error is None, f"VM_EXIT_OUTAGE: withdraw(maxWithdraw={most}) failed with {error}"
            assert self._quote(d) - before == most, "VM_EXIT_OUTAGE"
            nav_after, supply_after = int(v.totalAssets().call()), int(v.totalSupply().call())
            assert (nav_after + 1) * (supply + 10**6) >= (nav + 1) * (supply_after + 10**6), "VM_EXIT_OUTAGE"
            RULES_RUN["outage_exit"] = RULES_RUN.get("outage_exit", 0) + 1
        # the feed comes back; the stale vols are re-posted; a re-mark ends the outage
        s.set_feed_price(self.spot)
        self._repost_vols()
        error = _try(v.remark(), self.actors.other)
        assert error is None, error
        assert not v.exitMode().call()

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
    def check_invariants(self, op: str) -> None:
        """Every invariant on the state after operation ``op`` (the reads are kept few: each is an RPC)."""
        s = self.suite
        v = s.vault.functions
        try:
            b = dict(zip(BOOK_FIELDS, (int(x) for x in v.book().call()), strict=True))
        except ContractCustomError:
            return  # an oracle is failing closed (e.g. an expiry vol not re-posted yet): no valuation at all
        if b["health_factor_wad"] >= WAD:
            assert b["assets_value"] >= b["mark_value"] + b["payouts_owed"], "VM_SOLVENT"
        p = s.hedger.functions.position(b["spot_wad"], s.config.risk.spot_shock_up_bps).call()
        assert (b["hedge_wad"], b["collateral"]) == (int(p[0]), int(p[1])), "VM_HEDGE_RECORD"
        total = int(v.totalAssets().call())
        supply = int(v.totalSupply().call()) + 10**6  # OpenZeppelin's virtual shares (offset 6)
        x = q(s, 54_321) + 3
        sh = 10 ** (s.config.quote_decimals + 6) * 3 + 11
        # convertToShares / convertToAssets (floor, on totalAssets) computed here from the same state
        if _call_error(v.previewDeposit(x)) == "DepositsClosed":  # insolvent: previews revert, maxDeposit 0
            assert int(v.maxDeposit(self.depositors[0]).call()) == 0, "VM_PREVIEW: DepositsClosed, maxDeposit > 0"
            preview_deposit = 0
        else:
            preview_deposit = int(v.previewDeposit(x).call())
            assert preview_deposit <= _mul_div(x, supply, total + 1), "VM_PREVIEW: previewDeposit"
            assert int(v.previewMint(sh).call()) >= _mul_div(sh, total + 1, supply), "VM_PREVIEW: previewMint"
        assert int(v.previewWithdraw(x).call()) >= _mul_div(x, supply, total + 1), "VM_PREVIEW: previewWithdraw"
        assert int(v.previewRedeem(sh).call()) <= _mul_div(sh, total + 1, supply), "VM_PREVIEW: previewRedeem"
        opens = self._check_cache(b, total, supply, x, preview_deposit)
        if op in {"buy", "sell", "claim", "upkeep"}:
            self._check_open_interest(opens)

    def _check_cache(self, b: dict[str, int], total: int, supply: int, x: int, preview_deposit: int) -> dict[int, int]:
        """VM_CACHE_LOW / VM_CACHE_HIGH against a full re-mark; returns the open interest of live series."""
        s = self.suite
        v = s.vault.functions
        t = latest_timestamp(self.w3)
        rate = s.config.risk.rate_wad
        full_wad = 0
        opens: dict[int, int] = {}
        vols: dict[int, int] = {}
        for series_id in v.liveSeries().call():
            expiry, is_call, strike, open_wad = v.series(series_id).call()
            opens[int(series_id)] = int(open_wad)
            if open_wad == 0:
                continue
            if expiry > t:
                if expiry not in vols:
                    vols[expiry] = int(s.vol_oracle.functions.volWad(expiry).call())
                tau, vol = expiry - t, vols[expiry]
            else:
                round_id = int(s.price_oracle.functions.firstRoundAtOrAfter(expiry).call())
                if round_id:  # VM_SETTLEMENT_VALUE: valued at the settlement round, not at the spot
                    settled = int(s.price_oracle.functions.settlementPriceWad(round_id, expiry).call())
                    payoff = max(settled - strike, 0) if is_call else max(strike - settled, 0)
                    full_wad += -(-open_wad * payoff // WAD)
                    continue
                tau, vol = 0, WAD  # at expiry the library ignores volatility (intrinsic value)
            full_wad += -(-open_wad * _mark(s, b["spot_wad"], strike, tau, vol, rate, is_call) // WAD)
        scale = 10 ** (18 - s.config.quote_decimals)
        full_up, full_down = -(-full_wad // scale), full_wad // scale
        # the book's assets are net of the fees owed
        assets, owed = b["assets_value"], b["payouts_owed"]
        assert b["mark_value"] >= full_up, f"VM_CACHE_LOW: mark {b['mark_value']} < full re-mark {full_up}"
        nav_full_low = max(assets - full_up - owed, 0)
        assert total <= nav_full_low, f"VM_CACHE_LOW: totalAssets {total} > full re-mark NAV {nav_full_low}"
        assert b["mark_lower_value"] <= full_down, (
            f"VM_CACHE_HIGH: mark lower bound {b['mark_lower_value']} > full re-mark {full_down}"
        )
        shares_full = _mul_div(x, supply, max(assets - full_down - owed, 0) + 1)
        assert preview_deposit <= shares_full, f"VM_CACHE_HIGH: previewDeposit {preview_deposit} > {shares_full}"
        CHECKS_RUN["cache"] = CHECKS_RUN.get("cache", 0) + 1
        if full_wad:
            CHECKS_RUN["cache_with_options"] = CHECKS_RUN.get("cache_with_options", 0) + 1
        return opens

    def _check_open_interest(self, opens: dict[int, int]) -> None:
        s = self.suite
        for series_id, open_wad in opens.items():
            held = int(s.option_token.functions.balanceOf(self.actors.buyer, series_id).call())
            assert open_wad == held, "VM_OPEN_INTEREST"


def _mark(s: Suite, spot: int, strike: int, tau: int, vol: int, rate: int, is_call: bool) -> int:
    """The pricer's ``markAndDelta`` price: the integer mirror inside the library's domain, else the pricer."""
    try:
        call, put = mirror.price(spot, strike, tau, vol, rate)
    except HedgevaultError:
        return int(s.pricer.functions.markAndDelta(spot, strike, tau, vol, rate, is_call).call()[0])
    return call if is_call else put


#: Operations that did something (the programs must exercise trades, hedges and settlements).
RULES_RUN: dict[str, int] = {}
#: Invariant checks that ran on a valuation (not skipped because an oracle failed closed).
CHECKS_RUN: dict[str, int] = {}
#: ``IOptionVault.book()`` fields in order.
BOOK_FIELDS = (
    "spot_wad",
    "quote_balance",
    "hedge_wad",
    "collateral",
    "assets_value",
    "mark_value",
    "payouts_owed",
    "stress_margin",
    "health_factor_wad",
    "book_delta_wad",
    "vega_wad",
    "mark_lower_value",
    "marked_at_sec",
    "cache_valid_until_sec",
    "cache_fresh",
    "swing",
    "claim_reserve",
)

OPERATIONS = st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 2), st.integers(1, 40)),
    st.tuples(st.just("deposit"), st.integers(0, 1), st.integers(1, 100_000)),
    st.tuples(st.just("mint"), st.integers(0, 1), st.integers(1, 50_000)),
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
    st.tuples(st.just("collect_fees")),
    st.tuples(st.just("attacker_governs"), st.integers(0, 4)),
    st.tuples(st.just("round_trip"), st.integers(0, 2), st.integers(1, 40), st.integers(-60, 60)),
    st.tuples(st.just("outage"), st.integers(0, 6)),
    st.tuples(st.just("aave_governs"), st.integers(0, 3)),
)


@pytest.fixture
def listed(suite: Suite, actors: Actors) -> list[tuple[int, int]]:
    """The common start of every program, done once per test (each example reverts to it): 300,000 quote
    deposited, three series listed (30-day 3000 call, 30-day 2800 put, 5-day 3200 call)."""
    machine = VaultMachine(suite, actors)
    machine.setup()
    return machine.series


# no shrinking: a failure reports the program as drawn (at most 30 steps), and the run stays bounded
@settings(
    max_examples=24,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(program=st.lists(OPERATIONS, min_size=20, max_size=26))
def test_vault_state_machine(
    suite: Suite, actors: Actors, listed: list[tuple[int, int]], program: list[tuple[Any, ...]]
) -> None:
    w3 = suite.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        machine = VaultMachine(suite, actors)
        machine.series = list(listed)
        checked_block = -1
        for name, *args in program:
            getattr(machine, name)(*args)
            RULES_RUN["steps"] = RULES_RUN.get("steps", 0) + 1
            # every state change mines a block (automine): an unchanged block number is an unchanged state
            block = w3.eth.block_number
            if block == checked_block:
                continue
            checked_block = block
            machine.check_invariants(name)
    finally:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def test_state_machine_exercised_trades_and_hedges() -> None:
    """Runs after the machine (file order): the programs bought, hedged and settled."""
    assert RULES_RUN.get("buy", 0) > 0 and RULES_RUN.get("hedge", 0) > 0, RULES_RUN
    assert RULES_RUN.get("aave_governs", 0) > 0 and CHECKS_RUN.get("aave_hf", 0) > 0, (RULES_RUN, CHECKS_RUN)
    assert CHECKS_RUN.get("cache_with_options", 0) > 0, CHECKS_RUN
