"""Stateful test of the volatility surface (issue 13): the updater posts random valid and invalid slices (single
posts, batches, the legacy flat ``postVol``) between trades and time moves, on the real suite. Invariants, by id
(used as assertion messages), checked after every step with the mirrors (``hedgevault.surface.mirror``,
``hedgevault.surface.oracle_rules``):

  VS_NO_BUTTERFLY  every fresh stored smile passes Gatheral's condition on the oracle's grid over its strike set
                   (at the forward it was posted at).
  VS_NO_CALENDAR   two fresh neighbouring expiries, at least one a smile (two flat ones are the legacy path,
                   not checked: ``IVolatilityOracle``), have total variance non-decreasing in expiry on that grid,
                   both taken as total variance now (``neighbour_now``, rounded against the order).
  VS_RATE          every accepted post moves each strike's vol of the strike set, and the at-the-money vol, by at
                   most the oracle's allowed step (min(maxStep, rate x time since the previous post)) from the
                   previous post's vol there (both at the post's forward).
  VS_PRICED        the vault's buy quote of every live series prices at a vol inside the oracle's bounds
                   (quoteBuy answers, or reverts only with the named trade errors).

Every rule names the errors it may hit (``ALLOWED_*``); any other revert fails the test. As in
``test_stateful.py``, the program of operations is drawn with ``st.lists`` (Hypothesis 6.27's
``RuleBasedStateMachine`` runs a single step per example on Python 3.11 here). Tolerances: none (exact integers).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from vaultkit import DAY, WAD, YEAR, Actors, deposit, now, q
from web3.exceptions import ContractCustomError

from hedgevault.chain import warp
from hedgevault.reverts import decode_error
from hedgevault.suite import Suite
from hedgevault.surface import mirror as M
from hedgevault.surface.oracle_rules import neighbour_now, on_grid, oracle_grid
from hedgevault.txs import send
from hedgevault.volrule import allowed_step_wad

SPOT = 3000 * WAD
STRIKES = [2700 * WAD, 3000 * WAD, 3300 * WAD]
ALLOWED_POST_ERRORS = {
    "VolPostTooSoon",
    "VolRateExceeded",
    "VolOutOfBounds",
    "VolFirstPostTooFar",
    "VolStrikeOutOfBounds",
    "SviVolStepExceeded",
    "SviButterflyArbitrage",
    "SviCalendarArbitrage",
    "SviVarianceNotPositive",
    "SviRhoOutOfRange",
    "SviLeeBoundExceeded",
    "SviMinVarianceNegative",
    "SviParamOutOfDomain",
}
ALLOWED_BUY_ERRORS = {
    "HealthFactorTooLow",
    "NetDeltaLimit",
    "VegaLimit",
    "OpenInterestCap",
    "VolStale",
    "FeedStale",
}
RUN: dict[str, int] = {}


def _error(fn: Any, sender: str) -> str | None:
    try:
        fn.call({"from": sender})
    except ContractCustomError as exc:
        return decode_error(str(exc.data))[0]
    send(fn.w3, fn, sender, gas=3_000_000)
    return None


class SurfaceMachine:
    def __init__(self, suite: Suite, actors: Actors, expiries: list[int], ids: list[int]) -> None:
        self.s = suite
        self.a = actors
        self.w3 = suite.w3
        self.o = suite.vol_oracle.functions
        self.expiries = expiries
        self.ids = ids
        self.points = int(self.o.gridPoints().call())
        self.params = suite.config.vol

    # ------------------------------------------------------------------ helpers
    def _stored(self, expiry: int) -> tuple[M.Slice, int, int]:
        """(slice, post time, time to expiry at the post)."""
        _, at = (int(x) for x in self.o.lastPost(expiry).call())
        return M.Slice(*(int(x) for x in self.o.sliceOf(expiry).call())), at, expiry - at

    def _perturbed(self, expiry: int, d_atm: int, b_pct: int, d_rho: int, sig_pct: int, d_m: int) -> M.Slice:
        """The stored slice moved: at-the-money vol by d_atm vol points / 100, b and sigma by percent, rho and m by
        hundredths; a set so that w(0) gives that at-the-money vol now."""
        sl, _, _ = self._stored(expiry)
        _, b, rho, m, sigma = sl.to_floats()
        t = (expiry - now(self.w3)) / YEAR
        atm = max(0.06, int(self.o.lastPost(expiry).call()[0]) / WAD + d_atm / 100)
        b = max(0.0, (b or 0.05) * b_pct / 100)
        rho = max(-0.95, min(0.95, rho + d_rho / 100))
        sigma = max(0.01, (sigma or 0.1) * sig_pct / 100)
        m = max(-0.5, min(0.5, m + d_m / 100))
        a = atm * atm * t - b * (rho * (-m) + math.sqrt(m * m + sigma * sigma))
        return on_grid(M.Slice.from_floats(a, b, rho, m, sigma))

    def _record(self, name: str, error: str | None, before: dict[int, tuple[M.Slice, int, int]]) -> None:
        RUN[name] = RUN.get(name, 0) + 1
        if error is not None:
            assert error in ALLOWED_POST_ERRORS, f"{name}: {error}"
            RUN["refused"] = RUN.get("refused", 0) + 1
            return
        RUN["accepted"] = RUN.get("accepted", 0) + 1
        for e, (prev, prev_at, prev_t) in before.items():
            new, at, t = self._stored(e)
            if at == prev_at:
                continue
            allowed = allowed_step_wad(self.params, at - prev_at)
            for strike in [*STRIKES, SPOT]:
                k = M.log_moneyness_wad(strike, SPOT)
                was, got = M._vol_at(prev, k, prev_t), M._vol_at(new, k, t)
                assert abs(got - was) <= allowed, f"VS_RATE: expiry {e} strike {strike}: {was} -> {got} > {allowed}"

    def _snapshot_all(self) -> dict[int, tuple[M.Slice, int, int]]:
        return {e: self._stored(e) for e in self.expiries if e > now(self.w3)}

    # ------------------------------------------------------------------ operations
    def post(self, i: int, d_atm: int, b_pct: int, d_rho: int, sig_pct: int, d_m: int) -> None:
        e = self.expiries[i]
        if e <= now(self.w3):
            return
        sl = self._perturbed(e, d_atm, b_pct, d_rho, sig_pct, d_m)
        before = self._snapshot_all()
        self._record("post", _error(self.o.postSlice(e, sl.as_tuple(), SPOT, STRIKES), self.s.admin), before)

    def batch(self, d_atm: int, b_pct: int, d_rho: int) -> None:
        live = [e for e in self.expiries if e > now(self.w3)]
        if not live:
            return
        posts = [(e, self._perturbed(e, d_atm, b_pct, d_rho, 100, 0).as_tuple(), SPOT, STRIKES) for e in live]
        before = self._snapshot_all()
        self._record("batch", _error(self.o.postSlices(posts), self.s.admin), before)

    def post_vol(self, i: int, d_atm: int) -> None:
        e = self.expiries[i]
        if e <= now(self.w3):
            return
        vol = max(self.params.min_vol_wad, int(self.o.lastPost(e).call()[0]) + d_atm * WAD // 100)
        before = self._snapshot_all()
        self._record("post_vol", _error(self.o.postVol(e, vol), self.s.admin), before)

    def bad(self, i: int, kind: int) -> None:
        """Slices that must be refused: rho = 1, a wing past Lee's bound, a negative minimum variance."""
        e = self.expiries[i]
        if e <= now(self.w3):
            return
        good = self._perturbed(e, 0, 100, 0, 100, 0)
        broken = [
            M.Slice(good.a36, good.b_wad, WAD, good.m_wad, good.sigma_wad),
            M.Slice(good.a36, 3 * WAD, WAD // 2, good.m_wad, good.sigma_wad),
            M.Slice(-(10**36), max(good.b_wad, WAD // 10), good.rho_wad, good.m_wad, good.sigma_wad),
        ][kind]
        error = _error(self.o.postSlice(e, broken.as_tuple(), SPOT, STRIKES), self.s.admin)
        assert error in ("SviRhoOutOfRange", "SviLeeBoundExceeded", "SviMinVarianceNegative"), error
        RUN["bad"] = RUN.get("bad", 0) + 1

    def buy(self, i: int, amount: int) -> None:
        sid = self.ids[i % len(self.ids)]
        series = self.s.vault.functions.series(sid).call()
        if int(series[0]) <= now(self.w3) + DAY:
            return
        fn = self.s.vault.functions.buy(sid, amount * WAD // 10, 2**255, self.a.buyer)
        error = _error(fn, self.a.buyer)
        assert error is None or error in ALLOWED_BUY_ERRORS, f"buy: {error}"
        RUN["buy" if error is None else "buy_refused"] = RUN.get("buy" if error is None else "buy_refused", 0) + 1

    def wait(self, minutes: int) -> None:
        warp(self.w3, minutes * 60)
        self.s.set_feed_price(SPOT)

    # ------------------------------------------------------------------ invariants
    def check(self) -> None:
        t_now = now(self.w3)
        p = self.params
        grid = oracle_grid(STRIKES, SPOT, self.points)
        fresh: list[tuple[int, M.Slice]] = []
        for e in self.expiries:
            if e <= t_now:
                continue
            sl, at, _t0 = self._stored(e)
            if t_now - at > p.max_age_sec:
                continue
            if sl.b_wad != 0:
                M.check_arbitrage(sl, grid)  # raises: VS_NO_BUTTERFLY
            fresh.append((e, sl))
        for (e1, s1), (e2, s2) in itertools.pairwise(fresh):
            if s1.b_wad == 0 and s2.b_wad == 0:
                continue
            _, _at1, t1 = self._stored(e1)
            _, _at2, t2 = self._stored(e2)
            near = neighbour_now(s1, t1, e1 - t_now, True)
            far = neighbour_now(s2, t2, e2 - t_now, False)
            for k in grid.ks():
                hi = M.variance_bounds(near, k)[1]
                lo = M.variance_bounds(far, k)[0]
                assert hi <= lo, f"VS_NO_CALENDAR: {e1} / {e2} at k {k}: {hi} > {lo}"
        for sid in self.ids:
            series = self.s.vault.functions.series(sid).call()
            if int(series[0]) <= t_now + DAY:
                continue
            try:
                self.s.vault.functions.quoteBuy(sid, WAD).call()
            except ContractCustomError as exc:
                name = decode_error(str(exc.data))[0]
                assert name in ALLOWED_BUY_ERRORS, f"VS_PRICED: quoteBuy {sid}: {name}"


def _smile(t_sec: int, atm: float) -> M.Slice:
    b, sigma, rho = 0.1, 0.1, -0.4
    return on_grid(M.Slice.from_floats(atm * atm * t_sec / YEAR - b * sigma, b, rho, 0.0, sigma))


@pytest.fixture
def surface_setup(suite: Suite, actors: Actors) -> tuple[list[int], list[int]]:
    """Once per test: a deposit, a put and a call at 2700 / 3300 on a 30- and a 45-day expiry, each expiry's
    first slice posted with the strike set."""
    s = suite
    deposit(s, actors.depositor, q(s, 3_000_000))
    send(s.w3, s.quote.functions.mint(actors.buyer, q(s, 10_000_000)), actors.buyer)
    send(s.w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), actors.buyer)
    t = now(s.w3)
    expiries = [t + 30 * DAY, t + 45 * DAY]
    ids = []
    for e in expiries:
        for strike, is_call in ((2700 * WAD, False), (3300 * WAD, True)):
            fn = s.vault.functions.listSeries(e, strike, is_call)
            ids.append(int(fn.call({"from": s.admin})))
            send(s.w3, fn, s.admin)
    posts = [(e, _smile(e - t, 0.8).as_tuple(), SPOT, STRIKES) for e in expiries]
    send(s.w3, s.vol_oracle.functions.postSlices(posts), s.admin)
    return expiries, ids


OPERATIONS = st.one_of(
    st.tuples(
        st.just("post"),
        st.integers(0, 1),
        st.integers(-8, 8),
        st.integers(50, 200),
        st.integers(-30, 30),
        st.integers(50, 200),
        st.integers(-10, 10),
    ),
    st.tuples(st.just("batch"), st.integers(-6, 6), st.integers(70, 140), st.integers(-20, 20)),
    st.tuples(st.just("post_vol"), st.integers(0, 1), st.integers(-4, 4)),
    st.tuples(st.just("bad"), st.integers(0, 1), st.integers(0, 2)),
    st.tuples(st.just("buy"), st.integers(0, 3), st.integers(1, 30)),
    st.tuples(st.just("wait"), st.integers(1, 180)),
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(program=st.lists(OPERATIONS, min_size=12, max_size=16))
def test_surface_state_machine(
    suite: Suite, actors: Actors, surface_setup: tuple[list[int], list[int]], program: list[tuple[Any, ...]]
) -> None:
    w3 = suite.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        machine = SurfaceMachine(suite, actors, *surface_setup)
        machine.check()
        for name, *args in program:
            getattr(machine, name)(*args)
            machine.check()
    finally:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def test_surface_machine_exercised_accepts_and_refusals() -> None:
    """Runs after the machine (file order): posts were accepted and refused, and trades went through."""
    assert RUN.get("accepted", 0) > 0 and RUN.get("refused", 0) > 0 and RUN.get("buy", 0) > 0, RUN
    assert RUN.get("bad", 0) > 0 and RUN.get("batch", 0) > 0, RUN
