"""The keeper re-posts risk-parity targets when the covariance moved them off their budgets (issue 11, branch prp).

The contract accepts risk-parity targets whose risk contributions sit within its tolerance, a share of the
portfolio variance (2%: ~6% relative to a one-third budget). Targets computed on an older covariance may
still verify under a newer one while 4-6% off their budgets, and the vault trades the held weights to them.
The keeper's rule (``PortfolioTaskConfig.repost_error_wad``): the targets are due when their worst relative
error under the newest covariance (``target_error_wad``) exceeds the threshold, and are re-posted when the
fresh solve's error is below half of it (``repost_for_error``).

The chain: a risk-parity stack (``deploy_local_portfolio``, the deployment's first targets on the first post of
60/50/80% volatilities) on the module's frozen-clock Anvil; the covariance is posted by the second keeper
account (``keeper2``) as a test's scenario needs, the keeper under test (``keeper``) only plans targets (its own
covariance schedule is a year, so it posts none). Every test runs between ``evm_snapshot`` and ``evm_revert``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import rpc
from portfoliokeeperkit import portfolio_keeper
from web3 import Web3

from hedgevault.chain import freeze_clock, warp
from hedgevault.chain.sending import send_signed
from hedgevault.deployment.portfolio import PortfolioStack, deploy_local_portfolio
from hedgevault.keeper import Keeper, KeeperMetrics
from hedgevault.keeper.portfolio import (
    DEFAULT_QUOTE_BUFFER_WAD,
    DEFAULT_REPOST_ERROR_WAD,
    REPOST_GAIN,
    PortfolioTaskConfig,
    PortfolioTaskConfigError,
    error_over,
    repost_for_error,
    rules_from_chain,
    target_error_wad,
    with_quote_buffer,
)
from hedgevault.portfolio import mirror, optimizer
from hedgevault.portfolio.config import PortfolioConfig, RulesConfig
from hedgevault.portfolio.mirror import Mode, TargetRules, covariance_wad

WAD = 10**18
#: Deployed volatilities (bp) and correlations (bp, pairs (0,1), (0,2), (1,2)): the default portfolio's.
VOLS_BP = (6000, 5000, 8000)
CORRS_BP = (8000, 7500, 7000)
#: Past the vault's minTargetIntervalSec (1 h) and long enough for the oracle to allow a 10-point move.
HOUR_AND_A_BIT = 3_700


@pytest.fixture(scope="module")
def fw3(cw3: Web3) -> Web3:
    freeze_clock(cw3)
    return cw3


@pytest.fixture(scope="module")
def stack(fw3: Web3, keeper: LocalAccount, keeper2: LocalAccount) -> PortfolioStack:
    config = dataclasses.replace(
        PortfolioConfig(enabled=True),
        rules=RulesConfig(mode="risk-parity", min_vol_wad=WAD // 100, max_vol_wad=3 * WAD, max_weight_wad=(WAD,)),
        keepers=(keeper.address, keeper2.address),
    )
    s = deploy_local_portfolio(fw3, config)
    for who in (keeper, keeper2):
        rpc(fw3, "anvil_setBalance", who.address, hex(100 * WAD))
    return s


@pytest.fixture(autouse=True)
def _isolate(fw3: Web3) -> Iterator[None]:
    snapshot = rpc(fw3, "evm_snapshot")
    yield
    rpc(fw3, "evm_revert", snapshot)


def _keeper(stack: PortfolioStack, account: LocalAccount, **task: object) -> Keeper:
    settings: dict[str, object] = {"cov_interval_sec": 365 * 86_400, "targets_interval_sec": 86_400, **task}
    return portfolio_keeper(stack, account, "rp", KeeperMetrics(), **settings)


def _post(stack: PortfolioStack, poster: LocalAccount, vols_bp: tuple[int, ...]) -> list[int]:
    """An hour and a bit later, ``poster`` posts ``vols_bp`` with the deployed correlations; the covariance (wad)."""
    warp(stack.w3, HOUR_AND_A_BIT)
    fn = stack.cov_oracle.functions.post(mirror.pack_vols(list(vols_bp)), list(mirror.pack_corrs(list(CORRS_BP))))
    send_signed(stack.w3, fn, poster)
    return [int(x) for x in stack.cov_oracle.functions.covarianceWad().call()]


def _targets(stack: PortfolioStack) -> tuple[list[int], int]:
    assert stack.vault is not None
    weights, _, set_at = stack.vault.functions.targets().call()
    return [int(w) for w in weights], int(set_at)


def _rules(stack: PortfolioStack) -> TargetRules:
    assert stack.vault is not None
    return rules_from_chain(stack.vault.functions.rules().call())


def _verifies_on_chain(stack: PortfolioStack, weights: list[int], setter: LocalAccount) -> bool:
    """``setTargets(weights)`` would pass the contract's verification now (a simulated call by a target setter)."""
    assert stack.vault is not None
    data = bytes.fromhex(stack.vault.encode_abi("setTargets", [weights])[2:])
    answer = stack.w3.provider.make_request(
        "eth_call",  # type: ignore[arg-type]
        [{"from": setter.address, "to": stack.vault.address, "data": "0x" + data.hex()}, "latest"],
    )
    return "error" not in answer


def _skips(k: Keeper, reason: str) -> float:
    return (
        k.metrics.registry.get_sample_value(  # type: ignore[union-attr]
            "hedgevault_keeper_portfolio_skips_total",
            {"vault": k.portfolio_tasks[0].config.address, "reason": reason},
        )
        or 0.0
    )


def test_targets_off_their_budgets_under_a_moved_covariance_are_reposted(
    stack: PortfolioStack, keeper: LocalAccount, keeper2: LocalAccount
) -> None:
    """WBTC's volatility 50% -> 53%: the deployed targets still verify on the chain (their largest risk
    contribution is 4.3% off its budget, inside the contract's 2%-of-variance tolerance) but beyond the keeper's
    3%: the keeper posts the optimizer's answer on the new covariance at once (the daily schedule is a day away,
    and the new weights are what a scheduled solve would give: the solve with the keeper's 2% quote buffer);
    later passes on the same covariance send nothing. Without the rule (``repost_error_wad`` 0) the keeper keeps
    the old targets."""
    rules = _rules(stack)
    old, set_at = _targets(stack)
    cov_wad = _post(stack, keeper2, (VOLS_BP[0], VOLS_BP[1] + 300, VOLS_BP[2]))
    held = target_error_wad(old, cov_wad, rules)
    assert held is not None and 4 * WAD // 100 < held < 5 * WAD // 100, held
    assert _verifies_on_chain(stack, old, keeper)

    without = _keeper(stack, keeper, repost_error_wad=0)
    assert [r for r in without.tick() if r.kind == "targets"] == []
    assert _targets(stack) == (old, set_at)

    k = _keeper(stack, keeper)
    assert k.portfolio_tasks[0].config.repost_error_wad == DEFAULT_REPOST_ERROR_WAD
    records = [(r.kind, r.status) for r in k.tick() if r.kind == "targets"]
    assert records == [("targets", "success")]
    new, new_set_at = _targets(stack)
    expected = with_quote_buffer(optimizer.risk_parity(cov_wad, rules), cov_wad, rules, DEFAULT_QUOTE_BUFFER_WAD)
    assert tuple(new) == expected.weights_wad and new_set_at > set_at
    assert WAD - sum(new) >= DEFAULT_QUOTE_BUFFER_WAD  # the keeper's quote buffer
    fresh = target_error_wad(new, cov_wad, rules)
    assert fresh is not None and fresh * REPOST_GAIN < held and fresh < WAD // 10_000

    sent = stack.w3.eth.get_transaction_count(keeper.address)
    for _ in range(5):  # who would gain from churn: nobody gets another post out of the same covariance
        warp(stack.w3, HOUR_AND_A_BIT)
        k.tick()
    assert stack.w3.eth.get_transaction_count(keeper.address) == sent
    assert _targets(stack)[0] == new


def test_a_small_covariance_move_reposts_nothing(
    stack: PortfolioStack, keeper: LocalAccount, keeper2: LocalAccount
) -> None:
    """WBTC's volatility 50% -> 51%: the targets' error (1.5%) stays under the keeper's 3%: no post, no solve's
    skip either (not due)."""
    rules = _rules(stack)
    old, set_at = _targets(stack)
    cov_wad = _post(stack, keeper2, (VOLS_BP[0], VOLS_BP[1] + 100, VOLS_BP[2]))
    held = target_error_wad(old, cov_wad, rules)
    assert held is not None and WAD // 100 < held < DEFAULT_REPOST_ERROR_WAD, held
    k = _keeper(stack, keeper)
    assert [r for r in k.tick() if r.kind == "targets"] == []
    assert _targets(stack) == (old, set_at)
    assert stack.w3.eth.get_transaction_count(keeper.address) == 0
    assert _skips(k, "targets_no_better") == 0.0


def test_past_the_threshold_but_no_better_answer_keeps_the_targets(
    stack: PortfolioStack, keeper: LocalAccount, keeper2: LocalAccount
) -> None:
    """A threshold of 1 wei: the deployed targets' rounding error (a few wei) is past it, but the fresh solve on the
    same covariance is the same answer, not twice as good: the keeper keeps the targets and says why
    (``targets_no_better``), on every pass, without sending anything."""
    rules = _rules(stack)
    old, set_at = _targets(stack)
    cov_wad = [int(x) for x in stack.cov_oracle.functions.covarianceWad().call()]
    held = target_error_wad(old, cov_wad, rules)
    assert held is not None and 1 < held < 10**6, held
    warp(stack.w3, HOUR_AND_A_BIT)
    k = _keeper(stack, keeper, repost_error_wad=1)
    for _ in range(3):
        assert [r for r in k.tick() if r.kind == "targets"] == []
        warp(stack.w3, HOUR_AND_A_BIT)
    assert _targets(stack) == (old, set_at)
    assert stack.w3.eth.get_transaction_count(keeper.address) == 0
    assert _skips(k, "targets_no_better") == 3.0


# ----------------------------------------------------------------------------- the pure rule


def test_repost_rule_boundaries() -> None:
    """Past the threshold means strictly above it; clearly better means strictly below 1/REPOST_GAIN of the held
    error; 0 switches the rule off; no error (target-vol mode, no variance) never re-posts."""
    t = 3 * WAD // 100
    assert not error_over(t, t) and error_over(t + 1, t)
    assert not error_over(WAD, 0) and not error_over(None, t)
    held = t + 1
    assert repost_for_error(held, 0, t)
    assert not repost_for_error(held, (held + REPOST_GAIN - 1) // REPOST_GAIN, t)  # fresh x 2 >= held
    assert repost_for_error(held, (held - 1) // REPOST_GAIN, t)
    assert not repost_for_error(t, 0, t)
    assert not repost_for_error(held, None, t) and not repost_for_error(None, 0, t)
    assert not repost_for_error(2 * held, held, t)  # no better: held x 1/2 exactly
    assert not repost_for_error(held, 2 * held, t)  # worse


def _float_rc_error(w: np.ndarray, cov: np.ndarray, budgets: np.ndarray) -> float:
    rc = w * (cov @ w) / float(w @ cov @ w)
    return float(np.max(np.abs(rc / budgets - 1)))


def test_target_error_is_the_benchmarks_rc_error_and_the_kkt_spread() -> None:
    """Risk parity: the exact integer error equals the benchmark's float |RC_i / b_i - 1| to 1e-12 on random
    inputs; minimum variance: the KKT gradients' relative spread, only the shortfall for an asset not held;
    target-vol: None."""
    rng = np.random.default_rng(7)
    n = 3
    budgets = (WAD // 3 + 1, WAD // 3, WAD // 3)
    rp = TargetRules(Mode.RISK_PARITY, (0,) * n, (WAD,) * n, budget_wad=budgets, tolerance_wad=WAD // 50)
    for _ in range(200):
        a = rng.normal(size=(n, n))
        cov = a @ a.T * 0.1 + np.eye(n) * 0.01
        cov_wad = [round(x * WAD) for x in cov.flatten()]
        w = rng.uniform(0.05, 0.5, size=n)
        w_wad = [round(x * WAD) for x in w]
        exact = target_error_wad(w_wad, cov_wad, rp)
        assert exact is not None
        got = _float_rc_error(np.array(w_wad) / WAD, np.array(cov_wad).reshape(n, n) / WAD, np.array(budgets) / WAD)
        assert abs(exact / WAD - got) < 1e-12, (exact, got)
    # minimum variance, two uncorrelated assets of variance 0.04 and 0.09: the optimum 9/13, 4/13 has equal
    # gradients; 0.6 / 0.4 does not: (Sw) = (0.024, 0.036), w'Sw = 0.0288, sum 1: errors 1/6 and 1/4
    mv = TargetRules(Mode.MIN_VARIANCE, (0, 0), (WAD, WAD), tolerance_wad=WAD // 100)
    s = [4 * WAD // 100, 0, 0, 9 * WAD // 100]
    assert target_error_wad([6 * WAD // 10, 4 * WAD // 10], s, mv) == WAD // 4
    optimum = target_error_wad([9 * WAD // 13, 4 * WAD // 13], s, mv)
    assert optimum is not None and optimum < 10
    # an asset not held whose gradient is above the multiplier is optimal (no error); below it, its shortfall
    assert target_error_wad([WAD, 0], [4 * WAD // 100, 0, 0, 9 * WAD // 100], mv) == WAD  # gradient 0 vs 0.04
    assert target_error_wad([WAD, 0], [4 * WAD // 100, 5 * WAD // 100, 5 * WAD // 100, 9 * WAD // 100], mv) == 0
    tv = TargetRules(Mode.TARGET_VOL, (0, 0), (WAD, WAD), min_vol_wad=1, max_vol_wad=WAD)
    assert target_error_wad([WAD // 2, WAD // 2], s, tv) is None
    no_risk = dataclasses.replace(mv, mode=Mode.RISK_PARITY, budget_wad=(WAD // 2,) * 2)
    assert target_error_wad([0, 0], s, no_risk) is None


def test_repost_error_bounds() -> None:
    address = "0x" + "11" * 20
    assert PortfolioTaskConfig(address, repost_error_wad=0).repost_error_wad == 0
    assert PortfolioTaskConfig(address, repost_error_wad=WAD).repost_error_wad == WAD
    for bad in (-1, WAD + 1):
        with pytest.raises(PortfolioTaskConfigError, match="repost_error_wad"):
            PortfolioTaskConfig(address, repost_error_wad=bad)


def test_quote_buffer_scales_risk_parity_targets_and_keeps_their_shares() -> None:
    """A 2% buffer: every risk-parity weight x 0.98 (floor), the risk contributions' shares unchanged (to 1e-15),
    the scaled targets verified; no buffer, a target-vol allocation or a fallback: unchanged."""
    n = 3
    cov_wad = covariance_wad(mirror.pack_vols(list(VOLS_BP)), mirror.pack_corrs(list(CORRS_BP)), n)
    rules = TargetRules(
        Mode.RISK_PARITY,
        (0,) * n,
        (WAD,) * n,
        min_vol_wad=WAD // 100,
        max_vol_wad=3 * WAD,
        budget_wad=(WAD // 3 + 1, WAD // 3, WAD // 3),
        tolerance_wad=WAD // 50,
    )
    full = optimizer.risk_parity(cov_wad, rules)
    buffered = with_quote_buffer(full, cov_wad, rules, 2 * WAD // 100)
    assert buffered.weights_wad == tuple(w * 98 // 100 for w in full.weights_wad)
    assert WAD - sum(buffered.weights_wad) >= 2 * WAD // 100
    assert mirror.verify(buffered.weights_wad, cov_wad, rules) == buffered.vol_wad < full.vol_wad
    before, after = (
        target_error_wad(full.weights_wad, cov_wad, rules),
        target_error_wad(buffered.weights_wad, cov_wad, rules),
    )
    assert before is not None and after is not None and abs(after - before) < 1_000
    assert with_quote_buffer(full, cov_wad, rules, 0) is full
    fallback = dataclasses.replace(full, mode=Mode.TARGET_VOL, method="inverse-volatility")
    assert with_quote_buffer(fallback, cov_wad, rules, 2 * WAD // 100) is fallback
    with pytest.raises(PortfolioTaskConfigError, match="quote_buffer_wad"):
        PortfolioTaskConfig("0x" + "11" * 20, quote_buffer_wad=WAD // 2 + 1)
