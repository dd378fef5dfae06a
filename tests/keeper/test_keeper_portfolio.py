"""The real keeper (``hedgevault.keeper.Keeper`` with a ``KeeperConfig.portfolios`` entry, in-process, signing
locally) against the portfolio stack deployed on Anvil by ``deploy_local_portfolio``: covariance posts estimated
from the feeds' round history, clipped toward the estimate within the oracle's step limit, held for the minimum
interval, refused without enough history; a manipulated feed round moves the posted covariance by at most one
step.

The module's chain has a frozen clock (time moves only by ``warp``); the stack and a 30-day history of
4-hour rounds are set up once, and every test runs between ``evm_snapshot`` and ``evm_revert``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import rpc
from portfoliokeeperkit import (
    STEP_SEC,
    WAD,
    History,
    align_pools,
    deposit,
    gbm_prices,
    portfolio_keeper,
    write_history,
)
from web3 import Web3

from hedgevault.chain import freeze_clock, warp
from hedgevault.deployment.portfolio import PortfolioStack, deploy_local_portfolio
from hedgevault.keeper import Keeper, KeeperMetrics
from hedgevault.keeper.portfolio import (
    PortfolioTaskConfig,
    estimate_covariance,
    portfolio_state,
    rules_from_chain,
    step_toward,
)
from hedgevault.portfolio import mirror, optimizer
from hedgevault.portfolio.config import AssetConfig, PortfolioConfig, vols_and_corr
from hedgevault.portfolio.mirror import LastPost

HISTORY_STEPS = 180
SEED = 11


@pytest.fixture(scope="module")
def fw3(cw3: Web3) -> Web3:
    freeze_clock(cw3)
    return cw3


def _portfolio(keeper: LocalAccount, vols_bp: tuple[int, ...] = (6000, 5000, 8000)) -> PortfolioConfig:
    base = PortfolioConfig(enabled=True)
    assets = tuple(dataclasses.replace(a, vol_bp=v) for a, v in zip(base.assets, vols_bp, strict=True))
    return dataclasses.replace(base, assets=assets, keepers=(keeper.address,))


@pytest.fixture(scope="module")
def stack(fw3: Web3, keeper: LocalAccount) -> PortfolioStack:
    """The stack whose first post is the true vols (60/50/80%), keeper = Anvil account 3 (funded)."""
    s = deploy_local_portfolio(fw3, _portfolio(keeper), post_targets=False)
    rpc(fw3, "anvil_setBalance", keeper.address, hex(100 * WAD))
    return s


@pytest.fixture(scope="module")
def history(stack: PortfolioStack) -> History:
    vols, corr = vols_and_corr(stack.config)
    prices = gbm_prices([a.price_wad for a in stack.config.assets], list(vols), corr, HISTORY_STEPS, SEED)
    return write_history(stack, prices, stack.admin)


@pytest.fixture(autouse=True)
def _isolate(fw3: Web3) -> Iterator[None]:
    snapshot = rpc(fw3, "evm_snapshot")
    yield
    rpc(fw3, "evm_revert", snapshot)


def _keeper(stack: PortfolioStack, account: LocalAccount, **task: object) -> Keeper:
    return portfolio_keeper(stack, account, "p1", KeeperMetrics(), **task)


def _last_post(stack: PortfolioStack) -> LastPost:
    vols, words, at = stack.cov_oracle.functions.packed().call()
    return LastPost(int(vols), (int(words[0]), int(words[1])), int(at))


def _estimate(history: History, config: PortfolioTaskConfig, params: mirror.CovParams) -> tuple[int, mirror.CorrWords]:
    """What the keeper should estimate: one written round per grid sample (the grid ends at the last round)."""
    prices = np.array(history.answers, dtype=np.float64).T[-config.history_points :]
    return optimizer.quantise_post(estimate_covariance(prices, config), params)


def test_covariance_post_is_the_estimate_from_the_feed_history(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    k = _keeper(stack, keeper)
    before = _last_post(stack)
    epoch = stack.cov_oracle.functions.epoch().call()
    records = k.tick()
    assert [(r.kind, r.status) for r in records if r.kind == "covariance"] == [("covariance", "success")], records
    after = _last_post(stack)
    task_config = k.portfolio_tasks[0].config
    target = _estimate(history, task_config, stack.config.cov)
    expected_vols, expected_words, t = step_toward(before, target, 3, stack.config.cov, after.updated_at)
    assert (after.vols_word, after.corr_words) == (expected_vols, expected_words)
    vols, corrs = mirror.unpack(after.vols_word, after.corr_words, 3)
    # the estimate of 180 four-hour returns is near the true vols (EWMA: about 130 effective samples, so a
    # standard error near 6% relative; 30% is five of them) and the correlations near 0.7..0.8
    for got, true in zip(vols, (6000, 5000, 8000), strict=True):
        assert abs(got - true) <= 0.30 * true, (vols, t)
    assert all(4000 <= c <= 9500 for c in corrs), corrs
    assert stack.cov_oracle.functions.epoch().call() == epoch + 1


def test_a_far_estimate_is_approached_in_steps_the_oracle_accepts(
    fw3: Web3, keeper: LocalAccount, keeper2: LocalAccount
) -> None:
    """Deployed with a first post of 20% for every asset while the market moves at 60/50/80%: the keeper's
    first post moves every field by the same fraction t of the way, the largest move exactly the oracle's step;
    the next posts follow as soon as the minimum interval allows, until the estimate is reached."""
    s = deploy_local_portfolio(fw3, _portfolio(keeper2, (2000, 2000, 2000)), post_targets=False)
    rpc(fw3, "anvil_setBalance", keeper2.address, hex(100 * WAD))
    vols, corr = vols_and_corr(PortfolioConfig())
    write_history(s, gbm_prices([a.price_wad for a in s.config.assets], list(vols), corr, 60, SEED), s.admin)
    k = _keeper(s, keeper2, history_points=60)
    params = s.config.cov
    before = _last_post(s)
    records = k.tick()
    assert ("covariance", "success") in [(r.kind, r.status) for r in records]
    after = _last_post(s)
    vol_step, _ = mirror.allowed_steps_bp(params, after.updated_at - before.updated_at)
    assert vol_step == params.max_vol_step_bp  # 10 days after the first post: the cap
    old, _ = mirror.unpack(before.vols_word, before.corr_words, 3)
    new, _ = mirror.unpack(after.vols_word, after.corr_words, 3)
    moves = [b - a for a, b in zip(old, new, strict=True)]
    assert max(moves) == vol_step and all(m > 0 for m in moves), moves
    assert k.portfolio_tasks[0].cov_behind
    clipped = k.metrics.registry.get_sample_value(  # type: ignore[union-attr]
        "hedgevault_keeper_portfolio_cov_clipped_total", {"vault": k.portfolio_tasks[0].config.address}
    )
    assert clipped == 1.0
    # the next post as soon as the minimum interval allows (5 min: 83 bp), then hourly (the full 10 points);
    # each within the step the oracle allows then
    posts = 1
    while k.portfolio_tasks[0].cov_behind and posts < 12:
        warp(fw3, params.min_interval_sec if posts == 1 else 3600)
        previous = _last_post(s)
        assert ("covariance", "success") in [(r.kind, r.status) for r in k.tick()]
        current = _last_post(s)
        step, _ = mirror.allowed_steps_bp(params, current.updated_at - previous.updated_at)
        a, _ = mirror.unpack(previous.vols_word, previous.corr_words, 3)
        b, _ = mirror.unpack(current.vols_word, current.corr_words, 3)
        assert max(abs(y - x) for x, y in zip(a, b, strict=True)) <= step
        posts += 1
    assert not k.portfolio_tasks[0].cov_behind, "the estimate was never reached"
    final, _ = mirror.unpack(_last_post(s).vols_word, _last_post(s).corr_words, 3)
    for got, true in zip(final, (6000, 5000, 8000), strict=True):
        assert abs(got - true) <= 0.35 * true, final


def test_a_post_too_soon_is_held_and_logged_once(
    stack: PortfolioStack, history: History, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    k = _keeper(stack, keeper, cov_interval_sec=60)
    k.tick()
    sent = stack.w3.eth.get_transaction_count(keeper.address)
    warp(stack.w3, 61)  # due by the schedule, inside the oracle's 300 s minimum interval
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        k.tick()
        rpc(stack.w3, "evm_mine")
        k.tick()
    skips = [r for r in caplog.records if r.getMessage() == "portfolio_skip"]
    assert len(skips) == 1, [r.__dict__.get("fields") for r in skips]
    assert skips[0].__dict__["fields"]["reason"] == "cov_too_soon"
    assert stack.w3.eth.get_transaction_count(keeper.address) == sent
    counted = k.metrics.registry.get_sample_value(  # type: ignore[union-attr]
        "hedgevault_keeper_portfolio_skips_total",
        {"vault": k.portfolio_tasks[0].config.address, "reason": "cov_too_soon"},
    )
    assert counted == 2.0


def test_without_enough_history_nothing_is_posted(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    """A grid of 12 samples 30 days apart needs 330 days of rounds; the feeds have 30: no estimate, no post
    (the deployment's post stands)."""
    k = _keeper(stack, keeper, min_history_points=12, history_points=12, sample_sec=30 * 86_400)
    epoch = stack.cov_oracle.functions.epoch().call()
    k.tick()
    assert stack.cov_oracle.functions.epoch().call() == epoch
    assert stack.w3.eth.get_transaction_count(keeper.address) == 0
    counted = k.metrics.registry.get_sample_value(  # type: ignore[union-attr]
        "hedgevault_keeper_portfolio_skips_total",
        {"vault": k.portfolio_tasks[0].config.address, "reason": "history_short"},
    )
    assert counted == 1.0


def test_attack_a_spiked_feed_round_moves_the_post_by_at_most_one_step(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    """Whoever can move one feed round (a manipulated or faulty feed) plants a tenfold spike: the estimated
    volatility explodes, but the keeper's post moves each field by at most the oracle's step (never a post the
    oracle would refuse), and the keeper walks back as the spike leaves the estimate."""
    k = _keeper(stack, keeper)
    k.tick()
    params = stack.config.cov
    spike = stack.assets[2]
    warp(stack.w3, STEP_SEC)
    answer = int(spike.feed.functions.latestRoundData().call()[1])
    stack.set_feed_price(2, answer * 10 * WAD // 10**spike.feed_decimals, stack.admin)
    warp(stack.w3, STEP_SEC)
    stack.set_feed_price(2, answer * WAD // 10**spike.feed_decimals, stack.admin)
    warp(stack.w3, k.portfolio_tasks[0].config.cov_interval_sec)
    before = _last_post(stack)
    records = k.tick()
    assert ("covariance", "success") in [(r.kind, r.status) for r in records]
    after = _last_post(stack)
    step, _ = mirror.allowed_steps_bp(params, after.updated_at - before.updated_at)
    old, _ = mirror.unpack(before.vols_word, before.corr_words, 3)
    new, _ = mirror.unpack(after.vols_word, after.corr_words, 3)
    assert new[2] - old[2] == step == params.max_vol_step_bp  # pulled up by the spike, by one step only
    assert all(abs(b - a) <= step for a, b in zip(old, new, strict=True))


def _invested(stack: PortfolioStack, keeper: LocalAccount, depositor: str, **task: object) -> Keeper:
    """Targets posted by the keeper, pools at the feeds' prices, 1,000,000 quote deposited."""
    k = _keeper(stack, keeper, **task)
    records = k.tick()
    assert ("targets", "success") in [(r.kind, r.status) for r in records], records
    accounts = [str(a) for a in stack.w3.eth.accounts]
    align_pools(stack, accounts[5], stack.admin)
    deposit(stack, depositor, 1_000_000 * 10**stack.quote_decimals)
    return k


def test_first_targets_are_the_optimizers_on_the_new_covariance(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    assert stack.vault is not None
    k = _keeper(stack, keeper)
    records = k.tick()
    kinds = [(r.kind, r.status) for r in records if r.kind in ("covariance", "targets")]
    assert kinds == [("covariance", "success"), ("targets", "success")], records
    cov_wad = [int(x) for x in stack.cov_oracle.functions.covarianceWad().call()]
    rules = rules_from_chain(stack.vault.functions.rules().call())
    expected = optimizer.target_volatility(cov_wad, rules)
    weights, vol_wad, _ = stack.vault.functions.targets().call()
    assert tuple(weights) == expected.weights_wad and vol_wad == expected.vol_wad
    assert rules.min_vol_wad <= vol_wad <= rules.max_vol_wad
    # the next pass: the targets still verify and are not due: nothing more is sent
    sent = stack.w3.eth.get_transaction_count(keeper.address)
    warp(stack.w3, 60)
    k.tick()
    assert stack.w3.eth.get_transaction_count(keeper.address) == sent


def test_targets_follow_a_covariance_that_moves_them_out_of_the_band(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    """Every vol up 10 points: the standing targets' ex-ante volatility leaves the 18-22% band, so the keeper
    posts new ones at once (long before the daily schedule) that verify on the new covariance; a pass after
    that sends nothing."""
    assert stack.vault is not None
    k = _keeper(stack, keeper)
    k.tick()
    old = [int(w) for w in stack.vault.functions.targets().call()[0]]
    warp(stack.w3, 3600)  # the oracle allows 10 points now, the vault's minimum target interval has passed
    last = _last_post(stack)
    vols, corrs = mirror.unpack(last.vols_word, last.corr_words, 3)
    bumped = stack.cov_oracle.functions.post(mirror.pack_vols([v + 1000 for v in vols]), list(mirror.pack_corrs(corrs)))
    stack.w3.eth.wait_for_transaction_receipt(bumped.transact({"from": keeper.address}))
    cov_wad = [int(x) for x in stack.cov_oracle.functions.covarianceWad().call()]
    rules = rules_from_chain(stack.vault.functions.rules().call())
    with pytest.raises(mirror.PmVolOutOfBand):
        mirror.verify(old, cov_wad, rules)
    records = k.tick()
    assert [(r.kind, r.status) for r in records] == [("targets", "success")], records
    new, vol_wad, _ = stack.vault.functions.targets().call()
    assert mirror.verify(new, cov_wad, rules) == vol_wad and sum(new) < sum(old)
    sent = stack.w3.eth.get_transaction_count(keeper.address)
    warp(stack.w3, 60)
    k.tick()
    assert stack.w3.eth.get_transaction_count(keeper.address) == sent


def test_a_deposit_is_invested_in_bounded_slices_toward_the_targets(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    assert stack.vault is not None
    depositor = str(stack.w3.eth.accounts[1])
    k = _invested(stack, keeper, depositor, max_upkeeps_per_pass=3)
    before = portfolio_state(stack.vault.functions.state().call())
    assert stack.vault.functions.checkUpkeep(b"").call()[0]
    block = stack.w3.eth.block_number
    records = k.tick()
    slices = [r for r in records if r.kind == "rebalance"]
    assert 1 <= len(slices) <= 3 and all(r.status == "success" for r in slices), records
    events = stack.vault.events.Rebalanced().get_logs(from_block=block + 1)
    assert len(events) == len(slices)
    after = portfolio_state(stack.vault.functions.state().call())
    assert after["trackingErrorWad"] < before["trackingErrorWad"]
    for b, a in zip(before["assets"], after["assets"], strict=True):
        assert abs(a["weightWad"] - a["targetWad"]) <= abs(b["weightWad"] - b["targetWad"])
    # keep ticking: the slices go on until every weight is inside its band
    for _ in range(10):
        if not stack.vault.functions.checkUpkeep(b"").call()[0]:
            break
        k.tick()
    final = portfolio_state(stack.vault.functions.state().call())
    assert final["trackingErrorWad"] <= after["trackingErrorWad"]
    assert all(abs(a["weightWad"] - a["targetWad"]) <= a["bandWad"] for a in final["assets"]), final
    assert not stack.vault.functions.checkUpkeep(b"").call()[0]


def test_a_pass_lands_slices_until_check_upkeep_is_false_or_the_cap(
    stack: PortfolioStack, history: History, keeper: LocalAccount
) -> None:
    """One pass with a cap high enough (40, the simulator's) lands slices one after the other until
    ``checkUpkeep`` is false (the deposit invested within the bands, or a pool at its limit until arbitrage);
    with a cap of 2 it lands exactly 2 while ``checkUpkeep`` still asks for more."""
    assert stack.vault is not None
    depositor = str(stack.w3.eth.accounts[1])
    snapshot = rpc(stack.w3, "evm_snapshot")
    k = _invested(stack, keeper, depositor, max_upkeeps_per_pass=2)
    records = k.tick()
    slices = [r for r in records if r.kind == "rebalance"]
    assert [r.status for r in slices] == ["success", "success"], records
    assert stack.vault.functions.checkUpkeep(b"").call()[0]
    rpc(stack.w3, "evm_revert", snapshot)
    k = _invested(stack, keeper, depositor, max_upkeeps_per_pass=40)
    records = k.tick()
    slices = [r for r in records if r.kind == "rebalance"]
    assert len(slices) > 2 and all(r.status == "success" for r in slices), records
    assert len(slices) < 40
    assert not stack.vault.functions.checkUpkeep(b"").call()[0]


def test_a_pass_stops_on_a_named_revert(stack: PortfolioStack, history: History, keeper: LocalAccount) -> None:
    """``checkUpkeep`` true but the slice's simulation reverts (rules whose volatility band, 1-2%, the first buy
    would overshoot: ``VolMovedAwayFromBand``): the pass records the skip with the error's name, sends nothing
    and stops there, far below its cap."""
    assert stack.vault is not None
    depositor = str(stack.w3.eth.accounts[1])
    k = _invested(stack, keeper, depositor, max_upkeeps_per_pass=40)
    narrow = mirror.TargetRules(mirror.Mode.TARGET_VOL, (0,) * 3, (WAD,) * 3, WAD // 100, WAD // 50)
    stack.w3.eth.wait_for_transaction_receipt(
        stack.vault.functions.setRules(narrow.as_tuple()).transact({"from": stack.admin})
    )
    assert stack.vault.functions.checkUpkeep(b"").call()[0]
    sent = stack.w3.eth.get_transaction_count(keeper.address)
    records = k.tick()
    upkeeps = [r for r in records if r.kind in ("rebalance", "skip")]
    assert len(upkeeps) == 1 and upkeeps[0].kind == "skip", records
    assert "VolMovedAwayFromBand" in str(upkeeps[0].reason), upkeeps[0]
    assert stack.w3.eth.get_transaction_count(keeper.address) == sent


def test_paused_vault_and_stale_oracles_are_skips_with_reasons(
    stack: PortfolioStack, history: History, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    assert stack.vault is not None
    depositor = str(stack.w3.eth.accounts[1])
    k = _invested(stack, keeper, depositor)
    send_from = stack.admin  # the guardian
    stack.w3.eth.wait_for_transaction_receipt(stack.vault.functions.pause().transact({"from": send_from}))
    sent = stack.w3.eth.get_transaction_count(keeper.address)
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        k.tick()
        warp(stack.w3, 2 * 3600)  # the feeds' heartbeat passes: the price oracles fail closed
        stack.w3.eth.wait_for_transaction_receipt(stack.vault.functions.unpause().transact({"from": send_from}))
        k.tick()
    reasons = [r.__dict__["fields"]["reason"] for r in caplog.records if r.getMessage() == "portfolio_skip"]
    assert "paused" in reasons and "oracle_stale" in reasons, reasons
    assert not any(
        r.getMessage() == "sent" and r.__dict__["fields"].get("action") == "rebalance" for r in caplog.records
    )
    assert stack.w3.eth.get_transaction_count(keeper.address) - sent <= 1  # at most a covariance post


def test_a_spent_budget_stops_the_slices_with_a_reason(
    stack: PortfolioStack, history: History, keeper: LocalAccount, caplog: pytest.LogCaptureFixture
) -> None:
    assert stack.vault is not None
    depositor = str(stack.w3.eth.accounts[1])
    k = _invested(stack, keeper, depositor, max_upkeeps_per_pass=10)
    tight = dataclasses.replace(stack.config.rebalance, budget_bps=1)
    fn = stack.vault.functions.setRebalanceParams(tight.as_tuple())
    stack.w3.eth.wait_for_transaction_receipt(fn.transact({"from": stack.admin}))
    with caplog.at_level(logging.INFO, logger="hedgevault.keeper"):
        records = k.tick()
        k.tick()
    slices = [r for r in records if r.kind == "rebalance" and r.status == "success"]
    assert len(slices) < 10
    view = portfolio_state(stack.vault.functions.state().call())
    assert any(abs(a["weightWad"] - a["targetWad"]) > a["bandWad"] for a in view["assets"])
    reasons = [r.__dict__["fields"]["reason"] for r in caplog.records if r.getMessage() == "portfolio_skip"]
    assert "budget_spent" in reasons, reasons


def test_step_toward_is_exact_and_truncates_toward_the_last_post() -> None:
    params = mirror.DEFAULT_COV_PARAMS
    last = LastPost(mirror.pack_vols([2000, 3000]), mirror.pack_corrs([1000]), 1_000_000)
    target = (mirror.pack_vols([5000, 3300]), mirror.pack_corrs([-500]))
    vols, words, t = step_toward(last, target, 2, params, 1_000_000 + 1800)  # half an hour: 500 bp allowed
    assert t == Fraction(500, 3000)
    assert mirror.unpack(vols, words, 2) == ([2500, 3050], [750])  # 1000 - 1500/6 = 750 exactly
    vols, words, t = step_toward(last, target, 2, params, 1_000_000 + 1799)  # 499 bp: 3000 x 499/3000
    assert mirror.unpack(vols, words, 2) == ([2499, 3049], [751])  # truncated toward the last post
    assert step_toward(last, target, 2, params, 1_000_000 + 86_400)[2] == Fraction(1000, 3000)
    near = (mirror.pack_vols([2100, 2950]), mirror.pack_corrs([1200]))
    assert step_toward(last, near, 2, params, 1_000_000 + 3600) == (*near, Fraction(1))


def test_asset_configs_stay_as_deployed(stack: PortfolioStack) -> None:
    assert [a.symbol for a in stack.assets] == ["tWETH", "tWBTC", "tSOL"]
    assert [a.decimals for a in stack.assets] == [18, 8, 9]
    assert isinstance(stack.config.assets[0], AssetConfig)
