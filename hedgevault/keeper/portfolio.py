"""The keeper's portfolio task: for one ``PortfolioVault``, post the covariance on a schedule, post targets
on a schedule, and trigger rebalancing slices while ``checkUpkeep`` asks for them. ``Keeper`` runs one task
per ``KeeperConfig.portfolios`` entry after the option vaults, sending what the task plans through its usual
path (simulate, estimate, sign, one pending transaction per slot, replacement of stuck ones).

Covariance (slot ``portfolio:<vault>:cov``). Every ``cov_interval_sec`` (and, after a post that was clipped,
as soon as the oracle's ``minIntervalSec`` allows) the task samples each asset's feed on a regular grid
(``sample_sec`` apart, the last ``history_points`` samples: the answer of the last round at or before each
grid time; rounds are read once and cached), estimates the annualised covariance of the log returns (EWMA
with ``ewma_decay``, or Ledoit-Wolf), quantises it to the oracle's basis points
(``optimizer.quantise_post``) and posts it. When a field would move further than the oracle allows now
(``min(maxStep, ratePerHour x elapsed / 1 h)``), the whole post moves toward the estimate by the largest
common fraction t of the way that respects every step (each field's move truncated toward the last post):
a convex combination of two positive semi-definite correlation matrices stays PSD, which clipping each field
on its own would not guarantee. The post is checked with the mirror (``mirror.check_post``) before it is sent.

Targets (slot ``portfolio:<vault>:targets``). When no target is set, the last one is ``targets_interval_sec``
old, or the current targets fail the verification against the oracle's current covariance (their ex-ante
volatility left the band), and the vault's ``minTargetIntervalSec`` has passed: the optimizer's answer for
the rules' mode (``optimizer.target_volatility`` / ``risk_parity`` / ``min_variance``, each verified by the
mirror of ``PortfolioMath.verify``, the inverse-volatility fallback with a logged reason when the solve
fails). A new target within ``min_target_change_wad`` of the current one in every asset is not posted while
the current one still verifies (no churn).

Re-posts for accuracy (risk-parity and minimum-variance modes). The contract accepts targets whose risk
condition holds within its tolerance, a share of the portfolio variance (2% in the demo: ~6% relative to a
one-third budget), so targets that still verify under a newer covariance may sit far from their budgets, and
the vault trades the held weights to them. The targets are also due when their worst relative error under the
newest covariance (``target_error_wad``: max |RC_i / b_i - 1| in risk parity, the KKT gradients' relative
spread in minimum variance) exceeds ``repost_error_wad``; they are then re-posted only when the fresh solve's
error is below 1 / ``REPOST_GAIN`` of it (``repost_for_error``), whatever the weights' change. Churn is
bounded three ways: the threshold (a small covariance move re-posts nothing), the fresh answer's required gain
(a solve that cannot do better, e.g. at a weight bound, is not re-posted every tick), and the vault's own
``minTargetIntervalSec`` and slippage budget, which bound how often targets and trades can follow.

Rebalancing (slot: the vault's address). While ``checkUpkeep`` says so, simulate ``performUpkeep(performData)`` and
send it, each slice after the one before has landed, until ``checkUpkeep`` is false, a simulation reverts (with its
named reason) or ``max_upkeeps_per_pass`` slices have landed in the pass. Reasons for not acting are logged (once per
``REPEAT_LOG_BLOCKS`` for the same reason) as ``portfolio_skip`` events with a ``reason`` key: ``paused``,
``budget_spent``, ``oracle_stale`` (a fail-closed oracle error), ``cov_too_soon``, ``history_short``,
``targets_too_soon``, ``targets_unchanged``, ``targets_no_better`` (due for accuracy, but the fresh solve is not
clearly better), ``would_revert``.

Units: vols and correlations in bp as posted, weights and volatilities in wad, times in unix seconds.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from hedgevault.chain.abi import AbiFunction, artifact_abi
from hedgevault.chain.rpc import Rpc
from hedgevault.portfolio import mirror, optimizer
from hedgevault.portfolio.errors import OptimizerError, PortfolioError
from hedgevault.portfolio.mirror import WAD, CorrWords, CovParams, LastPost, Mode, TargetRules
from hedgevault.reverts import describe, error_name_of

log = logging.getLogger(__name__)

YEAR_SEC = 365 * 86_400
#: Round reads per JSON-RPC batch when filling a feed's history.
HISTORY_BATCH = 64
ESTIMATORS = ("ewma", "ledoit-wolf")
#: The oracles' fail-closed errors: a skip for ``oracle_stale`` rather than a failure of the keeper.
ORACLE_STALE_ERRORS = frozenset(
    {
        "CovStale",
        "CovNotPosted",
        "FeedStale",
        "FeedAnswerNotPositive",
        "FeedRoundIncomplete",
        "SequencerDown",
        "SequencerGracePeriod",
        "TwapDeviation",
        "PoolDeviation",
    }
)
PAUSED_ERRORS = frozenset({"EnforcedPause"})
BUDGET_ERRORS = frozenset({"SlippageBudgetSpent"})


class PortfolioTaskConfigError(ValueError):
    """A portfolio task setting is out of range (the keeper's config turns it into ``KeeperConfigError``)."""


#: The most rebalancing slices one keeper pass may land for a portfolio vault (``max_upkeeps_per_pass``'s bound).
MAX_UPKEEPS_PER_PASS = 100
#: A re-post for accuracy needs the fresh solve's error below the held targets' error / REPOST_GAIN.
REPOST_GAIN = 2
#: ``repost_error_wad``'s default: 3% relative (measured on the chain: bench/RESULTS.md, "Portfolio: risk-parity
#: re-posts (branch prp)"); the vault's risk-parity catch-up acts beyond 5% (``rcToleranceWad``).
DEFAULT_REPOST_ERROR_WAD = 3 * 10**16
#: ``quote_buffer_wad``'s default: 2% of NAV in quote under risk-parity targets (measured on the chain with the
#: re-posts: the risk contributions within 5% at every rebalance, 2 of 2 seeds, against 5.4-7.0% without the
#: re-posts and 9.5-11.5% without the buffer: bench/RESULTS.md, "Portfolio: risk-parity re-posts (branch prp)").
DEFAULT_QUOTE_BUFFER_WAD = 2 * 10**16


@dataclass(frozen=True)
class PortfolioTaskConfig:
    """What the keeper does for one portfolio vault (defaults in docs/keeper.md).

    * ``address`` / ``name``: the vault and its label in logs and metrics.
    * ``cov_interval_sec``: post the covariance this often (6 h); ``targets_interval_sec``: targets (1 day).
    * ``estimator``: ``ewma`` (``ewma_decay`` per sample) or ``ledoit-wolf``.
    * ``ewma_fast_decay``: with ``ewma``, a second, fast EWMA (this decay per sample; 0: none); the post is
      the slow estimate with each volatility raised to the fast one's when that exceeds it by more than
      ``ewma_fast_margin`` (``optimizer.fast_slow_covariance``): fast up, slow down.
    * ``sample_sec`` / ``history_points``: the grid the feeds are sampled on (4 h x 180 = 30 days);
      ``min_history_points``: fewer samples than this and nothing is posted.
    * ``min_target_change_wad``: a new target closer than this to the current one is not posted while the
      current one still verifies (0.5% of NAV), unless ``post_derisking`` and the new target's ex-ante
      variance is below the current one's under the posted covariance (``optimizer.derisks``).
    * ``repost_error_wad``: risk-parity / minimum-variance mode: targets whose worst relative error under the
      newest covariance (``target_error_wad``) exceeds this are due, and re-posted when the fresh solve's error
      is below 1 / ``REPOST_GAIN`` of theirs (``repost_for_error``); 0: off (re-posts only on the schedule or
      when the targets fail the verification). Wad, [0, 1e18].
    * ``quote_buffer_wad``: risk-parity mode: the fresh targets scaled by (1 - this), the rest held in quote (the
      risk contributions' shares are unchanged: the rules compare them with w'Sw, which scales alike). A fully
      invested vault has no quote to buy an under-weight asset with, and the vault sells only what lowers the
      tracking error, so its catch-up can stall (bench/RESULTS.md, "Portfolio: risk-parity re-posts"); default
      2%, 0: off (fully invested). Wad, [0, 0.5e18].
    * ``max_upkeeps_per_pass``: rebalancing slices one pass may land (1..100): the pass lands slices until
      ``checkUpkeep`` is false, a slice's simulation reverts (a named reason: ``budget_spent``, ``would_revert``
      ...) or a slice fails, and at most this many (the simulator sets 40: a step's catch-up in one pass).
    * ``access_lists``: send the task's transactions (slices, covariance posts, targets) with the EIP-2930 access
      list ``eth_createAccessList`` gives when it lowers the gas estimate (``chain.sending.choose_access_list``;
      a slice reads three feeds, the oracles, the pools and the tokens: about -3k a slice); never a reason for a
      send to fail.
    """

    address: str
    name: str = ""
    cov_interval_sec: int = 6 * 3600
    targets_interval_sec: int = 86_400
    estimator: str = "ewma"
    ewma_decay: float = 0.985
    ewma_fast_decay: float = 0.0
    ewma_fast_margin: float = 0.2
    sample_sec: int = 4 * 3600
    history_points: int = 180
    min_history_points: int = 12
    min_target_change_wad: int = 5 * 10**15
    post_derisking: bool = True
    repost_error_wad: int = DEFAULT_REPOST_ERROR_WAD
    quote_buffer_wad: int = DEFAULT_QUOTE_BUFFER_WAD
    max_upkeeps_per_pass: int = 5
    access_lists: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.address, str) or not Web3.is_address(self.address):
            raise PortfolioTaskConfigError(f"portfolio address {self.address!r} is not an address")
        object.__setattr__(self, "address", str(Web3.to_checksum_address(self.address)))
        if not self.name:
            object.__setattr__(self, "name", self.address[:10])
        if self.estimator not in ESTIMATORS:
            raise PortfolioTaskConfigError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {self.estimator!r}")
        if not 0.0 < self.ewma_decay < 1.0:
            raise PortfolioTaskConfigError(f"ewma_decay must be in (0, 1), got {self.ewma_decay}")
        if not 0.0 <= self.ewma_fast_decay < self.ewma_decay:
            raise PortfolioTaskConfigError(
                f"ewma_fast_decay must be 0 (off) or in (0, ewma_decay = {self.ewma_decay}), got {self.ewma_fast_decay}"
            )
        if not 0.0 <= self.ewma_fast_margin <= 10.0:
            raise PortfolioTaskConfigError(f"ewma_fast_margin must be in [0, 10], got {self.ewma_fast_margin}")
        for name in ("cov_interval_sec", "targets_interval_sec", "sample_sec"):
            if getattr(self, name) <= 0:
                raise PortfolioTaskConfigError(f"{name} must be a positive number of seconds")
        if not 3 <= self.min_history_points <= self.history_points:
            raise PortfolioTaskConfigError(
                f"need 3 <= min_history_points ({self.min_history_points}) <= history_points ({self.history_points})"
            )
        if not 1 <= self.max_upkeeps_per_pass <= MAX_UPKEEPS_PER_PASS:
            raise PortfolioTaskConfigError(
                f"max_upkeeps_per_pass must be 1..{MAX_UPKEEPS_PER_PASS}, got {self.max_upkeeps_per_pass}"
            )
        if not 0 <= self.min_target_change_wad <= 10**18:
            raise PortfolioTaskConfigError("min_target_change_wad must be in [0, 1e18]")
        if not 0 <= self.quote_buffer_wad <= WAD // 2:
            raise PortfolioTaskConfigError(f"quote_buffer_wad must be in [0, 0.5e18], got {self.quote_buffer_wad}")
        if not 0 <= self.repost_error_wad <= 10**18:
            raise PortfolioTaskConfigError(
                f"repost_error_wad must be in [0, 1e18] (0: off), got {self.repost_error_wad}"
            )


@dataclass(frozen=True)
class PortfolioCall:
    """One transaction the task wants sent: ``kind`` ``covariance`` | ``targets`` | ``rebalance``; ``note``
    says how it departs from the estimate (clipped post, fallback targets), "" otherwise."""

    slot: str
    to: str
    data: bytes
    kind: str
    description: str
    note: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PortfolioSkip:
    """Why the task sends nothing for ``what`` (``covariance``, ``targets``, ``rebalance``) now."""

    what: str
    reason: str
    text: str


# ----------------------------------------------------------------------------- pure decisions


def step_toward(
    last: LastPost, target: tuple[int, CorrWords], n: int, params: CovParams, now_sec: int
) -> tuple[int, CorrWords, Fraction]:
    """The post that moves from ``last`` toward ``target`` by the largest fraction t in [0, 1] of the way
    that keeps every field within the oracle's allowed step now: field = last + trunc(t x (target - last))
    (toward the last post, so |move| <= step). Returns (vols word, correlation words, t); t = 1 is the
    target itself. The caller holds the post back while ``now_sec`` is inside the minimum interval."""
    vol_step, corr_step = mirror.allowed_steps_bp(params, now_sec - last.updated_at)
    old_vols, old_corrs = mirror.unpack(last.vols_word, last.corr_words, n)
    new_vols, new_corrs = mirror.unpack(target[0], target[1], n)
    t = Fraction(1)
    for old, new, step in [(a, b, vol_step) for a, b in zip(old_vols, new_vols, strict=True)] + [
        (a, b, corr_step) for a, b in zip(old_corrs, new_corrs, strict=True)
    ]:
        if abs(new - old) > step:
            t = min(t, Fraction(step, abs(new - old)))
    if t == 1:
        return target[0], target[1], t
    vols = [old + int((new - old) * t) for old, new in zip(old_vols, new_vols, strict=True)]
    corrs = [old + int((new - old) * t) for old, new in zip(old_corrs, new_corrs, strict=True)]
    return mirror.pack_vols(vols), mirror.pack_corrs(corrs), t


def estimate_covariance(prices: np.ndarray, config: PortfolioTaskConfig) -> np.ndarray:
    """Annualised covariance of the grid's log returns by ``config.estimator``."""
    periods = YEAR_SEC / config.sample_sec
    if config.estimator == "ledoit-wolf":
        cov, _ = optimizer.ledoit_wolf_covariance(prices, periods_per_year=periods)
        return cov
    slow = optimizer.ewma_covariance(prices, decay=config.ewma_decay, periods_per_year=periods)
    if config.ewma_fast_decay == 0.0:
        return slow
    fast = optimizer.ewma_covariance(prices, decay=config.ewma_fast_decay, periods_per_year=periods)
    return optimizer.fast_slow_covariance(slow, fast, margin=config.ewma_fast_margin)


def grid_prices(rounds: Sequence[tuple[int, int]], now_sec: int, sample_sec: int, points: int) -> list[int] | None:
    """The answer of the last round at or before each of ``points`` grid times now - k x sample_sec (oldest
    first), from ``rounds`` as (updatedAt, answer) sorted by time; None when the oldest grid time precedes
    every round."""
    times = [r[0] for r in rounds]
    out = []
    for k in range(points - 1, -1, -1):
        t = now_sec - k * sample_sec
        i = int(np.searchsorted(times, t, side="right")) - 1
        if i < 0:
            return None
        out.append(rounds[i][1])
    return out


def least_slice_cost_quote(nav_quote: int, min_band_wad: int, max_slippage_bps: int) -> int:
    """The worst cost of the least slice the vault trades (``IPortfolioVault``: NAV x minBandWad / 2 at
    maxSlippageBps), quote units; the vault stops rebalancing while the budget left is below it. Rounded
    down: an estimate for the keeper's log, the vault decides."""
    return nav_quote * min_band_wad // 2 // 10**18 * max_slippage_bps // 10_000


def targets_close(new: Sequence[int], old: Sequence[int], tolerance_wad: int) -> bool:
    return len(new) == len(old) and all(abs(a - b) < tolerance_wad for a, b in zip(new, old, strict=True))


def target_error_wad(weights_wad: Sequence[int], cov_wad: Sequence[int], rules: TargetRules) -> int | None:
    """The worst relative error of the rules' risk condition for ``weights_wad`` under ``cov_wad`` (wad, floor;
    exact integers, g = S w and v = w'Sw from ``mirror.risk_terms``):

    * risk parity: max_i |w_i g_i x 1e18 - b_i v| x 1e18 / (b_i v), i.e. max |RC_i / b_i - 1| (the contract
      checks the same difference against tolerance x v, so ~tolerance / b_i relative);
    * minimum variance: max over held assets of |g_i x sum(w) - v| x 1e18 / v (the KKT gradients' spread around
      the multiplier v / sum(w)), and over assets not held of its shortfall only (a gradient above the
      multiplier is optimal there);

    None in target-volatility mode (its condition is the band) or when v <= 0 (the contract refuses such
    targets: ``PmNoRisk``)."""
    if rules.mode == Mode.TARGET_VOL:
        return None
    gradient36, variance54 = mirror.risk_terms(weights_wad, cov_wad)
    if variance54 <= 0:
        return None
    worst = 0
    if rules.mode == Mode.RISK_PARITY:
        for w, g, b in zip(weights_wad, gradient36, rules.budget_wad, strict=True):
            scale = b * variance54
            worst = max(worst, abs(w * g * WAD - scale) * WAD // scale)
        return worst
    total = sum(weights_wad)
    for w, g in zip(weights_wad, gradient36, strict=True):
        off = g * total - variance54
        worst = max(worst, (abs(off) if w > 0 else max(-off, 0)) * WAD // variance54)
    return worst


def with_quote_buffer(
    allocation: optimizer.Allocation, cov_wad: Sequence[int], rules: TargetRules, buffer_wad: int
) -> optimizer.Allocation:
    """Risk-parity targets scaled by (1 - ``buffer_wad``) (floor), the rest in quote, verified again by the mirror;
    the allocation unchanged in the other modes, for a fallback, or when the scaled weights fail the rules (a
    minimum weight)."""
    if buffer_wad == 0 or rules.mode != Mode.RISK_PARITY or allocation.mode != Mode.RISK_PARITY:
        return allocation
    scaled = tuple(w * (WAD - buffer_wad) // WAD for w in allocation.weights_wad)
    try:
        vol_wad = mirror.verify(scaled, cov_wad, rules)
    except PortfolioError:
        return allocation
    return dataclasses.replace(allocation, weights_wad=scaled, vol_wad=vol_wad)


def error_over(error_wad: int | None, threshold_wad: int) -> bool:
    """The held targets' error is past the re-post threshold (0: the rule is off)."""
    return threshold_wad > 0 and error_wad is not None and error_wad > threshold_wad


def repost_for_error(held_error_wad: int | None, fresh_error_wad: int | None, threshold_wad: int) -> bool:
    """Re-post the fresh solve for accuracy: the held targets' error is past the threshold and the fresh one's is
    below 1 / ``REPOST_GAIN`` of it (clearly better, so a solve that cannot improve is not re-posted each tick)."""
    if held_error_wad is None or fresh_error_wad is None or not error_over(held_error_wad, threshold_wad):
        return False
    return fresh_error_wad * REPOST_GAIN < held_error_wad


# ----------------------------------------------------------------------------- chain reads


class FeedHistory:
    """The rounds of Chainlink-style feeds (AggregatorV3, phased round ids), read once and cached: the first
    read goes back until a round older than the window or the phase's first round; later reads fetch only
    the rounds after the newest cached one."""

    def __init__(self, rpc: Rpc, feeds: Sequence[str]) -> None:
        self.rpc = rpc
        self.feeds = [str(Web3.to_checksum_address(f)) for f in feeds]
        abi = artifact_abi("AggregatorV3Interface")
        self._latest = AbiFunction.of(abi, "latestRoundData")
        self._get = AbiFunction.of(abi, "getRoundData")
        #: feed -> {round id: (updatedAt, answer)}
        self.rounds: dict[str, dict[int, tuple[int, int]]] = {f: {} for f in self.feeds}

    def refresh(self, block: int, oldest_sec: int) -> None:
        latest = self.rpc.eth_calls([(f, self._latest.calldata()) for f in self.feeds], block=hex(block))
        for feed, result in zip(self.feeds, latest, strict=True):
            if not result.output:  # reverted, or no code at the address
                continue
            round_id, answer, _, updated_at, _ = self._latest.decode_output(result.output)
            cache = self.rounds[feed]
            cache[int(round_id)] = (int(updated_at), int(answer))
            phase, agg = int(round_id) >> 64, int(round_id) & (2**64 - 1)
            known = [r & (2**64 - 1) for r in cache if r >> 64 == phase and r != int(round_id)]
            newest_known = max(known, default=0)
            wanted = list(range(agg - 1, newest_known, -1))
            if not known:
                wanted = list(range(agg - 1, 0, -1))
            self._fill(feed, phase, wanted, oldest_sec, block, stop_at_old=not known)

    def _fill(self, feed: str, phase: int, aggs: list[int], oldest_sec: int, block: int, *, stop_at_old: bool) -> None:
        cache = self.rounds[feed]
        for start in range(0, len(aggs), HISTORY_BATCH):
            chunk = aggs[start : start + HISTORY_BATCH]
            ids = [(phase << 64) | a for a in chunk]
            results = self.rpc.eth_calls([(feed, self._get.calldata(i)) for i in ids], block=hex(block))
            older = False
            for rid, result in zip(ids, results, strict=True):
                if not result.output:
                    continue
                _, answer, _, updated_at, _ = self._get.decode_output(result.output)
                cache[rid] = (int(updated_at), int(answer))
                older = older or int(updated_at) < oldest_sec
            if stop_at_old and older:
                return

    def series(self, feed: str) -> list[tuple[int, int]]:
        """(updatedAt, answer) of every cached round, by time."""
        return sorted(self.rounds[Web3.to_checksum_address(feed)].values())

    def grid(self, now_sec: int, sample_sec: int, points: int) -> np.ndarray | None:
        """T x n prices on the grid (None when some feed's history is shorter)."""
        columns = []
        for feed in self.feeds:
            column = grid_prices(self.series(feed), now_sec, sample_sec, points)
            if column is None or min(column) <= 0:
                return None
            columns.append(column)
        return np.array(columns, dtype=np.float64).T


def rules_from_chain(raw: Sequence[Any]) -> TargetRules:
    """``IPortfolioMath.TargetRules`` as returned by ``rules()`` -> the mirror's ``TargetRules``."""
    mode, min_w, max_w, min_vol, max_vol, budgets, tol = raw
    return TargetRules(
        mode=Mode(int(mode)),
        min_weight_wad=tuple(int(x) for x in min_w),
        max_weight_wad=tuple(int(x) for x in max_w),
        min_vol_wad=int(min_vol),
        max_vol_wad=int(max_vol),
        budget_wad=tuple(int(x) for x in budgets),
        tolerance_wad=int(tol),
    )


class PortfolioKeeperTask:
    """Plans one portfolio vault's keeper actions at a block (``plan_covariance``, ``plan_targets``,
    ``plan_upkeep``); the ``Keeper`` sends them. Reads the vault's holdings, its oracles and rules once."""

    def __init__(
        self,
        w3: Web3,
        config: PortfolioTaskConfig,
        rpc: Rpc | None = None,
        *,
        cov_oracle: str | None = None,
        feeds: Sequence[str] | None = None,
    ) -> None:
        """The task of the vault at ``config.address``, its covariance oracle and feeds read from it. A task
        without a vault (``cov_oracle`` and ``feeds`` given, ``config.address`` then labels the oracle) only
        posts the covariance."""
        self.w3 = w3
        self.config = config
        self.rpc = rpc or Rpc(w3)
        self.vault: Contract | None = None
        if cov_oracle is None or feeds is None:
            self.vault = w3.eth.contract(
                address=Web3.to_checksum_address(config.address), abi=artifact_abi("PortfolioVault")
            )
            cov_oracle = str(self.vault.functions.covarianceOracle().call())
            holdings = self.vault.functions.holdings().call()
            feeds = [
                str(w3.eth.contract(address=h[1], abi=artifact_abi("PriceOracle")).functions.feed().call())
                for h in holdings
            ]
        self.cov_oracle = w3.eth.contract(
            address=Web3.to_checksum_address(cov_oracle), abi=artifact_abi("CovarianceOracle")
        )
        self.history = FeedHistory(self.rpc, feeds)
        self.n = len(feeds)
        #: The covariance last planned was clipped toward its estimate: post again as soon as allowed.
        self.cov_behind = False
        self.last_allocation: optimizer.Allocation | None = None

    @property
    def cov_slot(self) -> str:
        return f"portfolio:{self.config.address}:cov"

    @property
    def targets_slot(self) -> str:
        return f"portfolio:{self.config.address}:targets"

    # ------------------------------------------------------------------ covariance

    def plan_covariance(self, block: int, now_sec: int) -> PortfolioCall | PortfolioSkip | None:
        """The covariance post due now (None: not due)."""
        params = CovParams(*(int(v) for v in self.cov_oracle.functions.params().call(block_identifier=block)))
        vols_word, corr_words, updated_at = self.cov_oracle.functions.packed().call(block_identifier=block)
        last = LastPost(int(vols_word), (int(corr_words[0]), int(corr_words[1])), int(updated_at))
        age = now_sec - last.updated_at
        due = last.updated_at == 0 or age >= self.config.cov_interval_sec or self.cov_behind
        # a post nearing the oracle's staleness limit is due whatever the schedule
        due = due or age >= params.max_age_sec - params.min_interval_sec
        if not due:
            return None
        if last.updated_at != 0 and age < params.min_interval_sec:
            return PortfolioSkip(
                "covariance",
                "cov_too_soon",
                f"the oracle's minimum interval: {params.min_interval_sec - age} s until the next post may land",
            )
        c = self.config
        self.history.refresh(block, now_sec - c.sample_sec * c.history_points)
        prices = None
        for points in range(c.history_points, c.min_history_points - 1, -1):
            prices = self.history.grid(now_sec, c.sample_sec, points)
            if prices is not None:
                break
        if prices is None:
            return PortfolioSkip(
                "covariance",
                "history_short",
                f"the feeds have fewer than {c.min_history_points} samples {c.sample_sec} s apart; nothing posted",
            )
        try:
            target = optimizer.quantise_post(estimate_covariance(prices, c), params)
        except ValueError as exc:
            return PortfolioSkip("covariance", "estimate_failed", f"no covariance from the feeds' history: {exc}")
        post_vols, post_words, t = (
            (target[0], target[1], Fraction(1))
            if last.updated_at == 0
            else step_toward(last, target, self.n, params, now_sec)
        )
        try:
            mirror.check_post(params, self.n, post_vols, post_words, last, now_sec)
        except PortfolioError as exc:
            return PortfolioSkip("covariance", "would_revert", f"the oracle would refuse the post: {exc}")
        self.cov_behind = t < 1
        vols, corrs = mirror.unpack(post_vols, post_words, self.n)
        note = "" if t == 1 else f"moved {float(t):.1%} of the way to the estimate (the oracle's step limit)"
        data = bytes.fromhex(self.cov_oracle.encode_abi("post", [post_vols, list(post_words)])[2:])
        return PortfolioCall(
            self.cov_slot,
            self.cov_oracle.address,
            data,
            "covariance",
            f"post(vols_bp={vols}, corrs_bp={corrs})",
            note,
            {"samples": int(prices.shape[0]), "clipped": t < 1},
        )

    # ------------------------------------------------------------------ targets

    def plan_targets(self, block: int, now_sec: int) -> PortfolioCall | PortfolioSkip | None:
        """The targets due now (None: not due, or no vault)."""
        if self.vault is None:
            return None
        fns = self.vault.functions
        weights, _vol, set_at = fns.targets().call(block_identifier=block)
        current = [int(w) for w in weights]
        set_at = int(set_at)
        try:
            cov_wad = [int(x) for x in self.cov_oracle.functions.covarianceWad().call(block_identifier=block)]
        except (ContractCustomError, ContractLogicError) as exc:
            return PortfolioSkip("targets", "oracle_stale", f"the covariance oracle fails closed: {describe(exc)}")
        rules = rules_from_chain(fns.rules().call(block_identifier=block))
        still_valid = False
        if set_at != 0:
            try:
                mirror.verify(current, cov_wad, rules)
                still_valid = True
            except PortfolioError:
                still_valid = False
        threshold = self.config.repost_error_wad
        held_error = target_error_wad(current, cov_wad, rules) if still_valid else None
        scheduled = set_at == 0 or not still_valid or now_sec - set_at >= self.config.targets_interval_sec
        if not scheduled and not error_over(held_error, threshold):
            return None
        # RebalanceParams.minTargetIntervalSec, by position (fields were appended after it)
        min_interval = int(fns.rebalanceParams().call(block_identifier=block)[9])
        if set_at != 0 and now_sec - set_at < min_interval:
            return PortfolioSkip(
                "targets",
                "targets_too_soon",
                f"the vault's minTargetIntervalSec: {min_interval - (now_sec - set_at)} s until new targets may land",
            )
        solve = {
            Mode.TARGET_VOL: optimizer.target_volatility,
            Mode.RISK_PARITY: optimizer.risk_parity,
            Mode.MIN_VARIANCE: optimizer.min_variance,
        }[rules.mode]
        try:
            allocation = solve(cov_wad, rules)
        except OptimizerError as exc:
            return PortfolioSkip("targets", "optimizer_failed", str(exc))
        allocation = with_quote_buffer(allocation, cov_wad, rules, self.config.quote_buffer_wad)
        self.last_allocation = allocation
        new = list(allocation.weights_wad)
        fresh_error = target_error_wad(new, cov_wad, rules) if allocation.mode == rules.mode else None
        repost = repost_for_error(held_error, fresh_error, threshold)
        if not scheduled and not repost:
            return PortfolioSkip(
                "targets",
                "targets_no_better",
                f"the targets' risk error under the newest covariance is {_pct(held_error)} (> {_pct(threshold)}) "
                f"but the fresh solve's {_pct(fresh_error)} is not below 1/{REPOST_GAIN} of it; the targets are kept",
            )
        derisking = self.config.post_derisking and optimizer.derisks(new, current, cov_wad)
        if (
            still_valid
            and targets_close(new, current, self.config.min_target_change_wad)
            and not derisking
            and not repost
        ):
            return PortfolioSkip(
                "targets",
                "targets_unchanged",
                f"the new targets are within {self.config.min_target_change_wad / 1e18:.2%} of the current ones, "
                "which still verify",
            )
        note = (
            ""
            if allocation.fallback_reason is None
            else f"fallback to inverse volatility: {allocation.fallback_reason}"
        )
        data = bytes.fromhex(self.vault.encode_abi("setTargets", [new])[2:])
        return PortfolioCall(
            self.targets_slot,
            self.vault.address,
            data,
            "targets",
            f"setTargets({new})",
            note,
            {
                "method": allocation.method,
                "vol": round(allocation.vol_wad / 1e18, 6),
                "was_valid": still_valid,
                "derisking": derisking,
                "held_error": None if held_error is None else round(held_error / WAD, 6),
                "fresh_error": None if fresh_error is None else round(fresh_error / WAD, 6),
                "repost": repost,
            },
        )

    # ------------------------------------------------------------------ rebalancing

    def plan_upkeep(self, block: int) -> PortfolioCall | PortfolioSkip | None:
        """One rebalancing slice when ``checkUpkeep`` asks for it; else None, or the reason the vault cannot
        rebalance although some weight is outside its band (paused, slippage budget spent, oracle stale)."""
        if self.vault is None:
            return None
        fns = self.vault.functions
        try:
            needed, perform_data = fns.checkUpkeep(b"").call(block_identifier=block)
        except (ContractCustomError, ContractLogicError) as exc:
            return PortfolioSkip("rebalance", _skip_reason(error_name_of(exc)), f"checkUpkeep reverts: {describe(exc)}")
        if needed:
            data = bytes.fromhex(self.vault.encode_abi("performUpkeep", [bytes(perform_data)])[2:])
            return PortfolioCall(self.config.address, self.vault.address, data, "rebalance", "performUpkeep")
        return self._why_idle(block)

    def _why_idle(self, block: int) -> PortfolioSkip | None:
        assert self.vault is not None  # plan_upkeep returned earlier without one
        fns = self.vault.functions
        if bool(fns.paused().call(block_identifier=block)):
            return PortfolioSkip("rebalance", "paused", "the vault is paused: no rebalancing")
        try:
            state = fns.state().call(block_identifier=block)
        except (ContractCustomError, ContractLogicError) as exc:
            return PortfolioSkip("rebalance", _skip_reason(error_name_of(exc)), f"state() reverts: {describe(exc)}")
        view = portfolio_state(state)
        drifted = [a for a in view["assets"] if abs(a["weightWad"] - a["targetWad"]) > a["bandWad"]]
        if not drifted or not view["targetsSetAt"]:
            return None
        params = fns.rebalanceParams().call(block_identifier=block)
        needed = least_slice_cost_quote(view["navQuote"], int(params[4]), int(params[0]))
        if view["budgetAvailableQuote"] < needed:
            return PortfolioSkip(
                "rebalance",
                "budget_spent",
                f"{len(drifted)} weight(s) outside their band but the slippage budget left "
                f"({view['budgetAvailableQuote']} quote units of {view['budgetCapacityQuote']}) is below the worst "
                f"cost of the least slice ({needed}); it refills over the budget period",
            )
        return None


def _pct(wad: int | None) -> str:
    return "n/a" if wad is None else f"{wad / WAD:.2%}"


def _skip_reason(name: str) -> str:
    if name in ORACLE_STALE_ERRORS:
        return "oracle_stale"
    if name in PAUSED_ERRORS:
        return "paused"
    if name in BUDGET_ERRORS:
        return "budget_spent"
    return "would_revert"


def skip_reason_of_revert(name: str) -> str:
    """The skip reason of a simulated slice that would revert with custom error ``name``."""
    return _skip_reason(name)


_ASSET_FIELDS = ("balance", "priceWad", "valueQuote", "weightWad", "targetWad", "bandWad")
_STATE_FIELDS = (
    "navQuote",
    "quoteBalance",
    "assets",
    "exAnteVolWad",
    "targetVolWad",
    "trackingErrorWad",
    "budgetAvailableQuote",
    "budgetCapacityQuote",
    "targetsSetAt",
    "covEpoch",
)


def portfolio_state(raw: Sequence[Any]) -> dict[str, Any]:
    """``IPortfolioVault.state()`` as a dict keyed by the API's field names (assets as dicts)."""
    view: dict[str, Any] = {}
    for name, value in zip(_STATE_FIELDS, raw, strict=False):
        if name == "assets":
            view[name] = [{k: int(v) for k, v in zip(_ASSET_FIELDS, a, strict=False)} for a in value]
        else:
            view[name] = int(value)
    return view
