"""Settlement rounds (issue 9, item 9): the one true first feed round at or after an expiry, across the
feed proxy's phases, found by timestamp however many rounds came after it, and a settlement that cannot
succeed never hides a needed hedge.

The feed is ``MockAggregator``, shaped like Chainlink's proxy: round ids ``(phaseId << 64) | aggregator
round``; ``startPhase`` switches to a new aggregator whose rounds count from 1 again. Its first phase is 0.

"Before" figures come from ``_old_first_round`` / ``_old_accepts``: the removed ``PriceOracle`` logic (main
at 4996950) replayed in Python against the same feed, so each test prints what the hole would have let
through beside what the contract does now (``pytest -s`` shows them).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from vaultkit import DAY, WAD, Actors, book, buy, deposit, list_series, now, post_vol, q, reverts
from web3.exceptions import ContractCustomError

from hedgevault.chain import warp
from hedgevault.suite import Suite
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.txs import send

PHASE_OFFSET = 64


def rid(phase: int, aggregator_round: int) -> int:
    """A proxy round id."""
    return (phase << PHASE_OFFSET) | aggregator_round


def answer(s: Suite, price_wad: int) -> int:
    return s.feed_answer(price_wad)


def _round_or_none(s: Suite, round_id: int) -> tuple[int, int, int, int, int] | None:
    try:
        r = s.feed.functions.getRoundData(round_id).call()
    except ContractCustomError:  # the feed reverts NoDataPresent for a round that does not exist
        return None
    return int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])


def _old_first_round(s: Suite, not_before: int) -> int:
    """The removed ``firstRoundAtOrAfter``: from the latest round, walk back at most 256 rounds while the
    round before is at or after ``not_before``; stop where the round before does not exist."""
    latest, _, _, updated_at, _ = s.feed.functions.latestRoundData().call()
    if updated_at < not_before:
        return 0
    round_id = int(latest)
    for _ in range(256):
        if round_id <= 1:
            break
        previous = _round_or_none(s, round_id - 1)
        if previous is None or previous[3] < not_before:
            return round_id
        round_id -= 1
    return round_id


def _old_accepts(s: Suite, round_id: int, not_before: int) -> bool:
    """The removed ``settlementPriceWad`` checks: a missing previous round (a new phase) passed."""
    r = _round_or_none(s, round_id)
    if r is None or r[1] <= 0 or r[3] == 0 or r[4] < round_id or r[3] < not_before:
        return False
    previous = _round_or_none(s, round_id - 1) if round_id > 0 else None
    return previous is None or previous[3] < not_before


def _set_round(s: Suite, round_id: int, price_wad: int, updated_at: int) -> None:
    send(s.w3, s.feed.functions.setRound(round_id, answer(s, price_wad), updated_at, updated_at, round_id), s.admin)


def _start_phase(s: Suite) -> int:
    fn = s.feed.functions.startPhase()
    phase = int(fn.call({"from": s.admin}))
    send(s.w3, fn, s.admin)
    return phase


def _latest(s: Suite) -> int:
    return int(s.feed.functions.latestRound().call())


def _payouts(s: Suite) -> int:
    return int(s.vault.functions.payoutsOwed().call())


@dataclass(frozen=True)
class Expiring:
    """300 calls struck at 3000 expiring in 2 days, bought by the buyer from a 1,000,000 quote vault."""

    expiry: int
    call_id: int
    amount_wad: int


@pytest.fixture
def expiring(suite: Suite, actors: Actors) -> Expiring:
    deposit(suite, actors.depositor, q(suite, 1_000_000))
    expiry = now(suite.w3) + 2 * DAY
    call_id = list_series(suite, expiry, 3000 * WAD, True)
    amount = 300 * WAD
    buy(suite, actors.buyer, call_id, amount)
    return Expiring(expiry, call_id, amount)


def test_phase_change_cannot_pick_a_later_settlement_round(suite: Suite, actors: Actors, expiring: Expiring) -> None:
    s, e = suite, expiring
    warp(s.w3, e.expiry - now(s.w3) + 5)
    s.set_feed_price(3100 * WAD)  # the true settlement round, in phase 0
    true_round = _latest(s)
    t_true = now(s.w3)
    warp(s.w3, 600)
    assert _start_phase(s) == 1  # Chainlink upgrades the aggregator: rounds count from 1 again
    s.set_feed_price(3300 * WAD)
    late_round = _latest(s)
    assert late_round == rid(1, 1)

    # before: both rounds passed settlement, and the keeper's hint was the later one
    old_hint = _old_first_round(s, e.expiry)
    assert old_hint == late_round
    assert _old_accepts(s, true_round, e.expiry) and _old_accepts(s, late_round, e.expiry)
    old_payout = e.amount_wad * (3300 - 3000) * 10**s.config.quote_decimals // WAD

    # now: the round that opens phase 1 is refused because phase 0 already crossed the expiry
    o = s.price_oracle.functions
    args = (late_round, true_round, t_true, e.expiry)
    reverts(o.settlementPriceWad(late_round, e.expiry), actors.other, "SettlementRoundNotFirst", *args)
    reverts(s.vault.functions.settle(e.expiry, late_round), actors.attacker, "SettlementRoundNotFirst")
    assert o.settlementPriceWad(true_round, e.expiry).call() == 3100 * WAD
    assert o.firstRoundAtOrAfter(e.expiry).call() == true_round
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data == s.w3.codec.encode(["uint256", "uint80"], [e.expiry, true_round])
    send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)
    assert s.vault.functions.settlementPriceWad(e.expiry).call() == 3100 * WAD
    payout = _payouts(s)
    assert payout == e.amount_wad * 100 * 10**s.config.quote_decimals // WAD
    print(
        f"\nphase-change settlement: before, hint {old_hint:#x} (phase 1) at 3300 paid "
        f"{old_payout / 10**s.config.quote_decimals:,.0f}; now the hint is {true_round} at 3100 and pays "
        f"{payout / 10**s.config.quote_decimals:,.0f} (the later round reverts SettlementRoundNotFirst)"
    )


def test_hint_found_300_rounds_after_expiry_settles(suite: Suite, actors: Actors, expiring: Expiring) -> None:
    s, e = suite, expiring
    warp(s.w3, e.expiry - now(s.w3) + 5)
    s.set_feed_price(3100 * WAD)
    true_round = _latest(s)
    warp(s.w3, 300 * 60)
    send(s.w3, s.feed.functions.appendRounds(answer(s, 3200 * WAD), 299, now(s.w3) - 299 * 60, 60), s.admin)
    assert _latest(s) == true_round + 299

    old_hint = _old_first_round(s, e.expiry)
    assert old_hint == _latest(s) - 256 and not _old_accepts(s, old_hint, e.expiry)
    stale = s.w3.codec.encode(["uint256", "uint80"], [e.expiry, old_hint])
    reverts(s.vault.functions.performUpkeep(stale), actors.keeper, "InvalidSettlementRound", old_hint, None, e.expiry)

    assert s.price_oracle.functions.firstRoundAtOrAfter(e.expiry).call() == true_round
    gas = s.w3.eth.estimate_gas({"to": s.vault.address, "data": s.vault.encode_abi("checkUpkeep", [b""])})
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data == s.w3.codec.encode(["uint256", "uint80"], [e.expiry, true_round])
    send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)
    assert s.vault.functions.settlementPriceWad(e.expiry).call() == 3100 * WAD
    print(
        f"\n300 rounds after expiry: before, checkUpkeep hinted round {old_hint} (256 back from the latest), "
        f"which settle rejects; now it hints round {true_round}, the first after expiry "
        f"(checkUpkeep {gas:,} gas), and performUpkeep settles at 3100"
    )


def test_invalid_round_at_expiry_does_not_hide_the_hedge(suite: Suite, actors: Actors) -> None:
    """A 2-day expiry (10 calls) whose first round after expiry answers 0, and 50 unhedged 30-day calls."""
    s = suite
    deposit(s, actors.depositor, q(s, 1_000_000))
    expiry = now(s.w3) + 2 * DAY
    buy(s, actors.buyer, list_series(s, expiry, 3000 * WAD, True), 10 * WAD)
    later = now(s.w3) + 30 * DAY
    buy(s, actors.buyer, list_series(s, later, 3000 * WAD, True), 50 * WAD)
    warp(s.w3, expiry - now(s.w3) + 5)
    t = now(s.w3)
    bad = _latest(s) + 1
    _set_round(s, bad, 0, t)  # the first round at or after expiry answers 0
    warp(s.w3, 60)
    s.set_feed_price(3000 * WAD)  # a good round after it: the feed is fresh again
    post_vol(s, later, 8 * WAD // 10)
    reverts(s.price_oracle.functions.settlementPriceWad(bad, expiry), actors.other, "FeedAnswerNotPositive", bad, 0)
    reverts(s.price_oracle.functions.settlementPriceWad(bad + 1, expiry), actors.other, "InvalidSettlementRound")

    old_hint = _old_first_round(s, expiry)
    assert old_hint == bad
    hint = s.w3.codec.encode(["uint256", "uint80"], [expiry, bad])
    reverts(s.vault.functions.performUpkeep(hint), actors.keeper, "FeedAnswerNotPositive", bad, 0)
    assert s.price_oracle.functions.firstRoundAtOrAfter(expiry).call() == 0
    before = book(s)
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed and data == b""  # the hedge is reported instead of a hint
    send(s.w3, s.vault.functions.performUpkeep(data), actors.keeper)
    after = book(s)
    assert abs(after["net_delta_wad"]) < abs(before["net_delta_wad"])
    assert abs(after["net_delta_wad"]) <= s.config.hedge.delta_band_wad
    print(
        f"\ninvalid round at expiry: before, checkUpkeep hinted round {old_hint} (answer 0), performUpkeep "
        f"reverted FeedAnswerNotPositive and no hedge was reported; now firstRoundAtOrAfter is 0, checkUpkeep "
        f"asks for the hedge: net delta {before['net_delta_wad'] / WAD:+.4f} -> {after['net_delta_wad'] / WAD:+.4f} "
        f"underlying (band {s.config.hedge.delta_band_wad / WAD:.4f})"
    )


def test_incomplete_round_at_expiry_gives_no_hint(suite: Suite, actors: Actors) -> None:
    s = suite
    not_before = now(s.w3) + 100
    warp(s.w3, 200)
    incomplete = _latest(s) + 1
    t = now(s.w3)
    send(s.w3, s.feed.functions.setRound(incomplete, answer(s, 3000 * WAD), t, t, incomplete - 1), s.admin)
    args = (incomplete, t, incomplete - 1)
    reverts(
        s.price_oracle.functions.settlementPriceWad(incomplete, not_before), actors.other, "FeedRoundIncomplete", *args
    )
    assert s.price_oracle.functions.firstRoundAtOrAfter(not_before).call() == 0


def test_boundaries_within_a_phase(suite: Suite, actors: Actors) -> None:
    """Rounds at notBefore - 1, notBefore and notBefore + 1: only the one at notBefore settles."""
    s = suite
    o = s.price_oracle.functions
    nb = now(s.w3) + 1000
    warp(s.w3, 2000)
    first = _latest(s) + 1
    for k, t in enumerate((nb - 1, nb, nb + 1)):
        _set_round(s, first + k, (3000 + k) * WAD, t)
    at_before, at, after = first, first + 1, first + 2
    assert o.settlementPriceWad(at, nb).call() == 3001 * WAD
    reverts(o.settlementPriceWad(at_before, nb), actors.other, "InvalidSettlementRound", at_before, nb - 1, nb)
    reverts(o.settlementPriceWad(after, nb), actors.other, "InvalidSettlementRound", after, nb + 1, nb)
    assert o.firstRoundAtOrAfter(nb).call() == at
    assert o.firstRoundAtOrAfter(nb - 1).call() == at_before
    assert o.settlementPriceWad(at_before, nb - 1).call() == 3000 * WAD
    assert o.firstRoundAtOrAfter(nb + 1).call() == after
    assert o.firstRoundAtOrAfter(nb + 2).call() == 0


def test_boundaries_across_phases(suite: Suite, actors: Actors) -> None:
    """A phase's first round at notBefore settles when the previous phase ended at notBefore - 1, not when
    it ended at notBefore; empty phases in between are skipped."""
    s = suite
    o = s.price_oracle.functions
    nb = now(s.w3) + 1000
    warp(s.w3, 2000)
    last0 = _latest(s) + 1
    _set_round(s, last0, 3000 * WAD, nb - 1)
    assert _start_phase(s) == 1
    # an empty current phase: the search looks further back
    assert o.firstRoundAtOrAfter(nb - 1).call() == last0
    assert o.firstRoundAtOrAfter(nb).call() == 0
    assert _start_phase(s) == 2
    first2 = rid(2, 1)
    _set_round(s, first2, 3300 * WAD, nb)
    assert o.settlementPriceWad(first2, nb).call() == 3300 * WAD  # phase 1 is empty, phase 0 ended at nb - 1
    assert o.firstRoundAtOrAfter(nb).call() == first2
    assert _old_accepts(s, first2, nb - 1)  # the hole: a phase's first round passed on its own
    reverts(
        o.settlementPriceWad(first2, nb - 1), actors.other, "SettlementRoundNotFirst", first2, last0, nb - 1, nb - 1
    )
    assert o.firstRoundAtOrAfter(nb - 1).call() == last0
    # the previous phase's latest exactly at notBefore: it is the settlement round, not the new phase's first
    _set_round(s, last0, 3000 * WAD, nb)
    reverts(o.settlementPriceWad(first2, nb), actors.other, "SettlementRoundNotFirst", first2, last0, nb, nb)
    assert o.firstRoundAtOrAfter(nb).call() == last0
    # a later round of phase 2 is checked against its own predecessor
    _set_round(s, rid(2, 2), 3400 * WAD, nb + 1)
    reverts(o.settlementPriceWad(rid(2, 2), nb), actors.other, "InvalidSettlementRound", rid(2, 2), nb + 1, nb)
    assert o.firstRoundAtOrAfter(nb + 1).call() == rid(2, 2)


def _all_rounds(s: Suite) -> list[tuple[int, int]]:
    """Every round of every phase in order, as (proxy round id, updatedAt): the slow reference."""
    out: list[tuple[int, int]] = []
    for phase in range(int(s.feed.functions.phaseId().call()) + 1):
        k = 1
        while (r := _round_or_none(s, rid(phase, k))) is not None:
            out.append((rid(phase, k), int(r[3])))
            k += 1
    return out


def test_search_matches_a_linear_scan_over_phases(suite: Suite, actors: Actors) -> None:
    """firstRoundAtOrAfter against the obviously correct scan (first round of all phases in order with
    updatedAt >= notBefore) for every notBefore from before the feed's first round to after its latest.
    Phases of 1, 0 (empty), 37 and 5 rounds, some rounds sharing a timestamp."""
    s = suite
    t0 = now(s.w3)
    warp(s.w3, 10_000)
    send(s.w3, s.feed.functions.appendRounds(answer(s, 3000 * WAD), 1, t0 + 10, 0), s.admin)
    _start_phase(s)
    _start_phase(s)
    send(s.w3, s.feed.functions.appendRounds(answer(s, 3000 * WAD), 37, t0 + 20, 7), s.admin)
    send(s.w3, s.feed.functions.appendRounds(answer(s, 3000 * WAD), 3, t0 + 300, 0), s.admin)
    _start_phase(s)
    send(s.w3, s.feed.functions.appendRounds(answer(s, 3000 * WAD), 5, t0 + 400, 50), s.admin)
    rounds = _all_rounds(s)
    times = sorted({t for _, t in rounds})
    probes = sorted({t + d for t in times for d in (-1, 0, 1)})
    o = s.price_oracle.functions
    for nb in probes:
        want = next((r for r, t in rounds if t >= nb), 0)
        assert o.firstRoundAtOrAfter(nb).call() == want, f"notBefore {nb}"
        if want:
            o.settlementPriceWad(want, nb).call()


def test_feed_without_phases(suite: Suite, actors: Actors, artifacts: dict[str, Artifact]) -> None:
    """A plain aggregator (no phaseId) is its own single phase: the same search and checks."""
    s = suite
    plain = deploy(s.w3, artifacts["MockPhaseAggregator"], s.config.feed_decimals, sender=actors.admin)
    oracle = deploy(
        s.w3,
        artifacts["PriceOracle"],
        actors.admin,
        plain.address,
        "0x0000000000000000000000000000000000000000",
        s.pool.address,
        s.underlying.address,
        s.quote.address,
        s.config.oracle.as_tuple(),
    )
    t = now(s.w3)
    for k, when in enumerate(range(t - 600, t, 10), start=1):
        send(s.w3, plain.functions.write(k, answer(s, (3000 + k) * WAD), when, when, k), actors.admin)
    nb = t - 600 + 10 * 24 - 5  # between rounds 24 and 25
    assert oracle.functions.firstRoundAtOrAfter(nb).call() == 25
    assert oracle.functions.settlementPriceWad(25, nb).call() == 3025 * WAD
    reverts(oracle.functions.settlementPriceWad(26, nb), actors.other, "InvalidSettlementRound", 26, None, nb)
