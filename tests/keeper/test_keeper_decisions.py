"""Unit tests of the keeper's pure decision module (no chain)."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode

from hedgevault.chain.sending import FeeCapTooLow, capped_fees
from hedgevault.keeper import decisions as d

GWEI = 10**9


def test_initial_fees_twice_base_plus_tip_under_the_cap() -> None:
    assert d.initial_fees(base_fee_wei=10 * GWEI, priority_fee_wei=GWEI, fee_cap_wei=100 * GWEI) == d.Fees(
        21 * GWEI, GWEI
    )
    # the cap binds: maxFee = cap, the tip still fits
    assert d.initial_fees(base_fee_wei=10 * GWEI, priority_fee_wei=GWEI, fee_cap_wei=15 * GWEI) == d.Fees(
        15 * GWEI, GWEI
    )


@pytest.mark.parametrize("caller", ["keeper", "cli"])
def test_one_fee_rule_at_the_cap_and_one_past(caller: str) -> None:
    """The keeper's ``initial_fees`` and the CLI's ``capped_fees`` are one rule: at 2 x base + tip the cap does
    not bind, one wei below it does; at base + tip the whole tip still fits, one wei below it is refused (the
    tip is never cut: the two used to disagree there, the keeper sending a cut tip at the cap)."""

    def fees(cap: int) -> d.Fees | d.FeeRefusal:
        if caller == "keeper":
            return d.initial_fees(base_fee_wei=10, priority_fee_wei=3, fee_cap_wei=cap)
        try:
            return capped_fees(base_fee_wei=10, priority_fee_wei=3, fee_cap_wei=cap)
        except FeeCapTooLow as refused:
            return d.FeeRefusal(str(refused))

    assert fees(23) == d.Fees(23, 3)  # 2 x base + tip: the cap does not bind
    assert fees(22) == d.Fees(22, 3)  # one past: the cap binds, the whole tip
    assert fees(13) == d.Fees(13, 3)  # base + tip: just enough
    refused = fees(12)  # one past: refused, not a cut tip
    assert isinstance(refused, d.FeeRefusal)
    assert refused.reason == "fee cap 12 wei/gas is below the base fee 10 + tip 3: raise the cap or wait for lower fees"
    # a tip above the cap on an empty base fee is refused too (it used to be cut to the cap)
    assert isinstance(d.initial_fees(base_fee_wei=0, priority_fee_wei=5 * GWEI, fee_cap_wei=3 * GWEI), d.FeeRefusal)


def test_initial_fees_refused_when_the_cap_is_below_the_base_fee() -> None:
    refusal = d.initial_fees(base_fee_wei=50 * GWEI, priority_fee_wei=GWEI, fee_cap_wei=40 * GWEI)
    assert isinstance(refusal, d.FeeRefusal)
    assert "below the base fee" in refusal.reason


def test_bump_raises_both_fees_by_at_least_12_5_percent() -> None:
    old = d.Fees(20 * GWEI, 2 * GWEI)
    new = d.bumped_fees(old, base_fee_wei=GWEI, priority_fee_wei=GWEI, fee_cap_wei=100 * GWEI)
    assert new == d.Fees(22_500_000_000, 2_250_000_000)  # exactly +12.5% (the base fee is low)
    assert isinstance(new, d.Fees)
    assert new.max_fee_per_gas * 8 >= old.max_fee_per_gas * 9
    assert new.max_priority_fee_per_gas * 8 >= old.max_priority_fee_per_gas * 9


def test_bump_follows_a_risen_base_fee_and_rounds_up() -> None:
    old = d.Fees(21 * GWEI + 1, GWEI + 1)
    new = d.bumped_fees(old, base_fee_wei=30 * GWEI, priority_fee_wei=GWEI, fee_cap_wei=100 * GWEI)
    assert new == d.Fees(61 * GWEI, 1_125_000_002)  # 2 x 30 + 1 gwei; the tip's bump rounded up


def test_bump_stops_at_the_cap_and_is_refused_when_the_cap_blocks_it() -> None:
    old = d.Fees(20 * GWEI, GWEI)
    capped = d.bumped_fees(old, base_fee_wei=30 * GWEI, priority_fee_wei=GWEI, fee_cap_wei=23 * GWEI)
    assert capped == d.Fees(23 * GWEI, 1_125_000_000)
    refused = d.bumped_fees(old, base_fee_wei=GWEI, priority_fee_wei=GWEI, fee_cap_wei=22 * GWEI)
    assert isinstance(refused, d.FeeRefusal)
    assert "blocks the 12.5% bump" in refused.reason and "22500000000" in refused.reason


def test_gas_limit_adds_the_margin_rounded_up() -> None:
    assert d.gas_limit(100_000, 2500) == 125_000
    assert d.gas_limit(3, 2500) == 4


def test_perform_data_empty_is_a_hedge_and_encoded_hint_is_a_settlement() -> None:
    assert d.classify_perform_data(b"") == d.Upkeep(d.UpkeepKind.HEDGE)
    data = encode(["uint256", "uint80"], [1_700_000_000, 7])
    assert d.classify_perform_data(data) == d.Upkeep(d.UpkeepKind.SETTLE, 1_700_000_000, 7)
    with pytest.raises(ValueError, match=r"not abi\.encode"):
        d.classify_perform_data(b"\x01\x02")


def _verdict(**kw: object) -> d.PendingVerdict:
    args: dict[str, object] = dict(
        receipt_found=False, tx_known=True, mined_nonce=5, nonce=5, head_block=100, sent_block=99, stuck_blocks=3
    )
    args.update(kw)
    return d.pending_verdict(**args)  # type: ignore[arg-type]


def test_pending_verdicts_in_order_of_precedence() -> None:
    assert _verdict(receipt_found=True, mined_nonce=9) is d.PendingVerdict.MINED
    assert _verdict(mined_nonce=6) is d.PendingVerdict.NONCE_USED
    assert _verdict(mined_nonce=6, tx_known=False) is d.PendingVerdict.NONCE_USED
    assert _verdict(tx_known=False) is d.PendingVerdict.DROPPED
    assert _verdict(head_block=102) is d.PendingVerdict.STUCK
    assert _verdict(head_block=101) is d.PendingVerdict.WAIT


def test_nonces_follow_the_node_and_what_is_in_flight() -> None:
    assert d.next_nonce(4, []) == 4
    assert d.next_nonce(4, [4, 5]) == 6
    assert d.next_nonce(9, [4]) == 9
    assert d.needs_cancel(4, [5]) and not d.needs_cancel(5, [4]) and not d.needs_cancel(4, [])


def test_backoff_doubles_up_to_its_maximum() -> None:
    delays = [d.backoff_sec(i, initial_sec=0.5, max_sec=10) for i in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert d.backoff_sec(10_000, initial_sec=0.5, max_sec=10) == 10.0


@pytest.mark.parametrize(
    ("book_delta", "hedge", "can_short", "target", "gap"),
    [
        (-5 * 10**18, 2 * 10**18, True, 5 * 10**18, 3 * 10**18),  # short calls: long hedge, 3 to buy
        (7 * 10**18, -2 * 10**18, True, -7 * 10**18, 5 * 10**18),  # short puts: short hedge, 5 to sell
        (7 * 10**18, 1 * 10**18, False, 0, 1 * 10**18),  # a long-only hedger's target stops at 0
    ],
)
def test_hedge_target_and_gap(book_delta: int, hedge: int, can_short: bool, target: int, gap: int) -> None:
    assert d.hedge_gap_wad(book_delta, hedge, can_short=can_short) == (target, gap)


def test_waiting_reasons_say_what_the_hedge_waits_for() -> None:
    assert d.hedge_waiting_reason("PoolBeyondLimit", "PoolBeyondLimit(1, 2)").startswith("waiting for arbitrage: ")
    assert "no free quote" in d.hedge_waiting_reason("NothingToHedge", "NothingToHedge(-1, 0)")
    assert {"PoolBeyondLimit", "NothingToHedge"} == d.HEDGE_WAITING_ERRORS
