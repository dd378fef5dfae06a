"""The keeper's decisions as pure functions over plain values: no chain I/O, so every rule is unit-tested
(``tests/keeper/test_decisions.py``) and the chain adapter only fetches and sends.

Units: fees are wei per gas; gas in gas units; blocks are block numbers; ``..._bps`` is 1/10,000.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

from hedgevault.chain.sending import FeeCapTooLow, Fees, capped_fees

#: Replacement transactions raise both fees by at least this much (geth and Anvil require 10%).
BUMP_BPS = 1250
_BPS = 10_000


def _ceil_bps(value: int, bps: int) -> int:
    """ceil(value x bps / 10,000)."""
    return -(-value * bps // _BPS)


@dataclass(frozen=True)
class FeeRefusal:
    """Why no fees were chosen (the fee cap is in the way); the keeper logs it and tries again later."""

    reason: str


def initial_fees(*, base_fee_wei: int, priority_fee_wei: int, fee_cap_wei: int) -> Fees | FeeRefusal:
    """Fees of a new transaction: ``hedgevault.chain.sending.capped_fees``, the rule every sender uses (maxFee =
    min(cap, 2 x base fee + tip), the whole tip), as a value: refused while the cap is below base fee + tip."""
    try:
        return capped_fees(base_fee_wei=base_fee_wei, priority_fee_wei=priority_fee_wei, fee_cap_wei=fee_cap_wei)
    except FeeCapTooLow as refused:
        return FeeRefusal(str(refused))


def bumped_fees(
    old: Fees, *, base_fee_wei: int, priority_fee_wei: int, fee_cap_wei: int, bump_bps: int = BUMP_BPS
) -> Fees | FeeRefusal:
    """Fees of a replacement (same nonce): both fees at least ``bump_bps`` above the old ones, the max fee
    also at least 2 x the current base fee + tip, never above the cap. Refused when the cap leaves no room
    for the bump (the old transaction stays; the keeper logs it)."""
    min_max_fee = _ceil_bps(old.max_fee_per_gas, _BPS + bump_bps)
    min_tip = _ceil_bps(old.max_priority_fee_per_gas, _BPS + bump_bps)
    if min_max_fee > fee_cap_wei:
        return FeeRefusal(
            f"fee cap {fee_cap_wei} wei/gas blocks the {bump_bps / 100:g}% bump of maxFeePerGas "
            f"{old.max_fee_per_gas} to {min_max_fee}: raise max_fee_per_gas to replace it"
        )
    max_fee = min(fee_cap_wei, max(min_max_fee, 2 * base_fee_wei + priority_fee_wei))
    tip = min(max(min_tip, priority_fee_wei), max_fee)
    if tip < min_tip:
        return FeeRefusal(f"fee cap {fee_cap_wei} wei/gas leaves no room to bump the tip to {min_tip}")
    return Fees(max_fee, tip)


def gas_limit(estimate: int, margin_bps: int) -> int:
    """The gas limit sent: the estimate plus ``margin_bps`` (state may change before mining)."""
    return _ceil_bps(estimate, _BPS + margin_bps)


class UpkeepKind(enum.Enum):
    HEDGE = "hedge"
    SETTLE = "settle"
    #: ``reportOracleOutage()``: the vault's valuation reverts with an oracle error (``ORACLE_DOWN_ERRORS``).
    REPORT_OUTAGE = "report_outage"


#: The oracles' fail-closed errors: when checkUpkeep reverts with one, the oracles are down, and the keeper
#: reports the outage (``reportOracleOutage``) so that the vault's exit clock starts; its withdrawals open at
#: the conservative valuation ``outageExitDelaySec`` later unless a re-mark succeeds first.
ORACLE_DOWN_ERRORS = frozenset(
    {
        "FeedStale",
        "FeedAnswerNotPositive",
        "FeedRoundIncomplete",
        "SequencerDown",
        "SequencerGracePeriod",
        "TwapDeviation",
        "TwapUnavailable",
        "VolStale",
        "VolNotPosted",
    }
)


#: A hedge upkeep that reverts with one of these is waiting for arbitrage, not failing: the hedger's slice
#: cannot trade because the pool already sits at the slice's price limit (oracle spot +/- the slippage
#: bound, ``PoolBeyondLimit``) or nothing could trade (``NothingToHedge``). The keeper logs the gap left and
#: tries again on a later block; no failure is counted.
HEDGE_WAITING_ERRORS = frozenset({"PoolBeyondLimit", "NothingToHedge"})


def hedge_waiting_reason(name: str, text: str) -> str:
    """What a waiting hedge waits for, for the log: arbitrage (the pool at the slice's limit), or, for
    ``NothingToHedge`` (the order traded nothing: pool at the limit, or no quote to spend), either."""
    if name == "PoolBeyondLimit":
        return f"waiting for arbitrage: {text}"
    return f"nothing could trade (the pool at the slice's limit, or no free quote): {text}"


def hedge_gap_wad(book_delta_wad: int, hedge_wad: int, *, can_short: bool) -> tuple[int, int]:
    """The vault's hedge target and the gap to it (``BookMath.hedgeTarget``), underlying wad: target =
    -book delta (not below 0 for a hedger that cannot short); gap = |target - hedge|."""
    target = -book_delta_wad
    if target < 0 and not can_short:
        target = 0
    return target, abs(target - hedge_wad)


@dataclass(frozen=True)
class Upkeep:
    """What ``performUpkeep(performData)`` would do: settle ``expiry`` with feed round ``round_id`` (when
    ``performData = abi.encode(expiry, roundId)``), or hedge (empty performData)."""

    kind: UpkeepKind
    expiry: int = 0
    round_id: int = 0


def classify_perform_data(perform_data: bytes) -> Upkeep:
    """Read checkUpkeep's performData; ``ValueError`` when it is neither empty nor (uint256, uint80)."""
    if not perform_data:
        return Upkeep(UpkeepKind.HEDGE)
    try:
        expiry, round_id = decode(["uint256", "uint80"], perform_data)
    except DecodingError as exc:
        raise ValueError(f"performData 0x{perform_data.hex()} is not abi.encode(expiry, roundId)") from exc
    return Upkeep(UpkeepKind.SETTLE, int(expiry), int(round_id))


class PendingVerdict(enum.Enum):
    """What to do about a transaction the keeper sent and has not seen mined."""

    MINED = "mined"  # a receipt exists for one of its hashes: record the outcome
    NONCE_USED = "nonce_used"  # its nonce was used by a transaction we do not know: forget it, recheck
    DROPPED = "dropped"  # the node no longer knows it (dropped, or lost in a restart): recheck and resend
    STUCK = "stuck"  # waiting for ``stuck_blocks`` or more: replace it with higher fees
    WAIT = "wait"


def pending_verdict(
    *,
    receipt_found: bool,
    tx_known: bool,
    mined_nonce: int,
    nonce: int,
    head_block: int,
    sent_block: int,
    stuck_blocks: int,
) -> PendingVerdict:
    """Reconcile a pending transaction by receipt and nonce. ``mined_nonce`` is the account's transaction
    count at the latest block (every nonce below it is used); ``sent_block`` the head when it was last
    (re)broadcast."""
    if receipt_found:
        return PendingVerdict.MINED
    if mined_nonce > nonce:
        return PendingVerdict.NONCE_USED
    if not tx_known:
        return PendingVerdict.DROPPED
    if head_block - sent_block >= stuck_blocks:
        return PendingVerdict.STUCK
    return PendingVerdict.WAIT


def next_nonce(chain_pending_nonce: int, in_flight: Iterable[int]) -> int:
    """The nonce of a new transaction: after the node's pending count and after everything in flight."""
    return max([chain_pending_nonce, *(n + 1 for n in in_flight)])


def needs_cancel(nonce: int, in_flight: Iterable[int]) -> bool:
    """An abandoned nonce must still be used (by a cancel) when later nonces wait behind it."""
    return any(n > nonce for n in in_flight)


def backoff_sec(attempt: int, *, initial_sec: float, max_sec: float) -> float:
    """Delay before retry ``attempt`` (0, 1, ...) of an unreachable node: doubling from ``initial_sec``."""
    return float(min(max_sec, initial_sec * 2 ** min(attempt, 32)))


def failure_label(stage: str, reason_name: str) -> str:
    """Metric label of a failure: ``stage:ErrorName`` (bounded: stages and error names are finite sets)."""
    return f"{stage}:{reason_name}"
