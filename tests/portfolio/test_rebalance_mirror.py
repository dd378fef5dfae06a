"""``RebalanceMath`` (through ``RebalanceHarness``) against ``hedgevault.portfolio.mirror`` on random inputs: cube
root, bands, weights, quadratic forms, band distance and step, equal to the unit (tolerance zero); the cube root
also against its definition; and the vault's own figures (``state()``, ``previewRebalance``) against the mirror
computed from the chain's balances and prices."""

from __future__ import annotations

import random

import pytest
from pvkit import TARGETS, WAD, Actors, cov_now, deposit, mirror_plan, q, rebalance_fully, set_targets, state
from web3 import Web3
from web3.contract import Contract

from hedgevault.portfolio import mirror
from hedgevault.portfolio.localstack import PortfolioStack
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy

CALL = {"gas": 900_000_000}
N_RANDOM = 2_000


@pytest.fixture(scope="module")
def rh(w3: Web3, artifacts: dict[str, Artifact]) -> Contract:
    return deploy(w3, artifacts["RebalanceHarness"])


def _random_cov(rng: random.Random, n: int) -> list[int]:
    vols = [rng.randint(100, 50_000) for _ in range(n)]
    corrs = [rng.randint(-9_900, 9_900) for _ in range(mirror.pair_count(n))]
    return mirror.covariance_wad(mirror.pack_vols(vols), mirror.pack_corrs(corrs), n)


def test_cbrt_is_exact(rh: Contract) -> None:
    rng = random.Random(11)
    xs = [0, 1, 7, 8, 9, 26, 27, 28, 2**255, 2**256 - 1]
    xs += [rng.randrange(2 ** rng.randint(1, 256)) for _ in range(N_RANDOM)]
    xs += [k**3 + d for k in (rng.randrange(1, 2**85) for _ in range(200)) for d in (-1, 0, 1)]
    got = rh.functions.batchCbrt(xs).call(CALL)
    for x, z in zip(xs, got, strict=True):
        assert z == mirror.cbrt(x), x
        assert z**3 <= x < (z + 1) ** 3, x


def test_bands_match(rh: Contract) -> None:
    rng = random.Random(12)
    inputs = []
    for _ in range(N_RANDOM):
        vol_bp = rng.randint(100, 50_000)
        lo = rng.randint(10**14, WAD // 2)
        inputs.append(
            (vol_bp * vol_bp * 10**10, rng.randint(1, 1000), rng.randint(1, 100_000), lo, rng.randint(lo, WAD // 2))
        )
    got = rh.functions.batchBand(inputs).call(CALL)
    assert got == [mirror.band_wad(*i) for i in inputs]


def test_weights_and_forms_match(rh: Contract) -> None:
    rng = random.Random(13)
    values, navs, forms = [], [], []
    for _ in range(500):
        n = rng.randint(1, 8)
        v = [rng.randrange(10 ** rng.randint(0, 30)) for _ in range(n)]
        values.append(v)
        navs.append(sum(v) + rng.randrange(10 ** rng.randint(0, 30)))
        cov = _random_cov(rng, n)
        x = [rng.randint(-WAD, WAD) for _ in range(n)]
        forms.append((x, cov))
    got_w = rh.functions.batchWeights(values, navs).call(CALL)
    assert got_w == [mirror.weights_wad(v, nav) for v, nav in zip(values, navs, strict=True)]
    got_f, got_vol, got_g = rh.functions.batchForm(forms).call(CALL)
    for (x, cov), f, vol, g in zip(forms, got_f, got_vol, got_g, strict=True):
        mg, mf = mirror.quad_form(x, cov)
        assert (f, vol, g) == (mf, mirror.vol_wad(mf), mg)


def test_band_distance_and_step_match(rh: Contract) -> None:
    rng = random.Random(14)
    for _ in range(200):
        v = rng.randint(-(10**54), 25 * 10**54)
        lo = rng.randint(0, 2 * WAD)
        hi = rng.randint(lo, 5 * WAD)
        assert rh.functions.bandDistance54(v, lo, hi).call() == mirror.band_distance54(v, lo, hi)
        d, g, s = rng.randint(-WAD, WAD), rng.randint(-(10**38), 10**38), rng.randint(10**14, 25 * WAD)
        assert rh.functions.stepWad(d, g, s).call() == mirror.step_wad(d, g, s)


def test_vault_figures_match_the_mirror(stack: PortfolioStack, pv: Actors) -> None:
    """state() and previewRebalance() from the chain's balances and prices, through the mirror."""
    deposit(stack, pv.depositor, q(1_000_000))
    set_targets(stack)
    s = state(stack)
    cov = cov_now(stack)
    values = [
        mirror.value_quote(a["balance"], a["priceWad"], spec.decimals, 6)
        for a, spec in zip(s["assets"], stack.config.assets, strict=True)
    ]
    assert values == [a["valueQuote"] for a in s["assets"]]
    w = mirror.weights_wad(values, s["nav"])
    assert w == [a["weightWad"] for a in s["assets"]]
    assert s["te"] == mirror.tracking_error_wad(w, TARGETS, cov)
    p = mirror.DEFAULT_REBALANCE_PARAMS
    plan = mirror_plan(stack, s, TARGETS, cov, p)
    assert plan is not None
    asset, sale, units, value = stack.vault.functions.previewRebalance().call()
    # the vault then cuts the slice to the pool's room at the bound (not mirrored: it reads the pool)
    assert (asset, sale) == (plan.asset, plan.sale)
    assert units <= plan.units and value <= plan.value_quote
    # invested (every balance non-zero, each asset's decimals in play): the values and NAV again through the mirror
    rebalance_fully(stack, pv)
    s = state(stack)
    assert all(a["balance"] > 0 for a in s["assets"])
    values = [
        mirror.value_quote(a["balance"], a["priceWad"], spec.decimals, 6)
        for a, spec in zip(s["assets"], stack.config.assets, strict=True)
    ]
    assert values == [a["valueQuote"] for a in s["assets"]]
    assert s["nav"] == s["quote"] + sum(values)
    assert [a["weightWad"] for a in s["assets"]] == mirror.weights_wad(values, s["nav"])


def test_risk_contributions_off_matches(rh: Contract) -> None:
    """RebalanceMath.riskContributionsOff against the mirror on random long-only weights, covariances and
    budgets, half of them with budgets at the weights' own risk contributions (the boundary: tolerances of
    0, 1 wei and the engine's 5%), and the no-variance case."""
    rng = random.Random(15)
    inputs, expected = [], []
    hits = 0
    for k in range(600):
        n = rng.randint(1, 8)
        cov = _random_cov(rng, n)
        cuts = sorted(rng.randrange(WAD) for _ in range(n))
        w = [b - a for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
        if k % 7 == 0:
            w = [0] * n
        g, v = mirror.quad_form(w, cov)
        if k % 2 and v > 0:
            budgets = [max(0, wi * gi * WAD // v) for wi, gi in zip(w, g, strict=True)]
        else:
            raw = [rng.randint(1, 100) for _ in range(n)]
            budgets = [WAD * r // sum(raw) for r in raw]
        tol = rng.choice([0, 1, mirror.RC_TOLERANCE_WAD, rng.randrange(WAD)])
        inputs.append((w, cov, budgets, tol))
        expected.append(mirror.risk_contributions_off(w, g, v, budgets, tol))
        hits += expected[-1]
    assert 0 < hits < len(inputs)
    assert rh.functions.batchRcOff(inputs).call(CALL) == expected


def test_derisk_mask_matches(rh: Contract) -> None:
    """RebalanceMath.deriskMask against the mirror on random long-only weights, targets and covariances, with the
    trigger (maxVol x (1 + margin)) at the held volatility's floor and one unit above it (the variance's
    boundary), the margin at 0, 1 bp and random, and the dust at an asset's step and one below it."""
    rng = random.Random(16)
    inputs, expected = [], []
    for k in range(600):
        n = rng.randint(1, 8)
        cov = _random_cov(rng, n)
        cuts = sorted(rng.randrange(WAD) for _ in range(n))
        w = [b - a for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
        t = [max(0, wi - rng.randrange(WAD // 10)) if rng.random() < 0.7 else rng.randrange(WAD // n) for wi in w]
        d = [wi - ti for wi, ti in zip(w, t, strict=True)]
        g, _ = mirror.quad_form(d, cov)
        gw, v = mirror.quad_form(w, cov)
        vol = mirror.vol_wad(v)
        margin = rng.choice([0, 1, rng.randrange(10_001)])
        if k % 3 == 0:  # the boundary: the trigger at the held volatility's floor, or one unit above it
            margin = 0
            max_vol = max(0, vol + rng.choice([0, 1]))
        else:
            max_vol = rng.randrange(5 * WAD // 10)
        steps = [mirror.step_wad(di, gi, cov[i * n + i]) for i, (di, gi) in enumerate(zip(d, g, strict=True))]
        dust = rng.choice([10**15, max(steps), max(0, max(steps) - 1), rng.randrange(WAD // 20)])
        inputs.append((w, t, cov, max_vol, margin, dust))
        expected.append(mirror.derisk_mask(d, g, gw, v, cov, max_vol, margin, dust))
    # the exact boundary: one asset held whole, S = vol^2 (from basis points: exact), so w'Sw = vol^2 x 1e18: the
    # trigger at vol is not exceeded, one unit below it is
    for vol_bp in (1_000, 2_000, 6_000):
        cov = [vol_bp * vol_bp * 10**10]
        vol = vol_bp * 10**14
        for max_vol, margin, want in ((vol, 0, 0), (vol - 1, 0, 1), (vol * 10_000 // 12_500, 2_500, 0)):
            w, t = [WAD], [WAD // 2]
            g, _ = mirror.quad_form([WAD // 2], cov)
            gw, v = mirror.quad_form(w, cov)
            assert v == vol * vol * WAD
            got = mirror.derisk_mask([WAD // 2], g, gw, v, cov, max_vol, margin, 10**15)
            assert got == want, (vol_bp, max_vol, margin)
            inputs.append((w, t, cov, max_vol, margin, 10**15))
            expected.append(got)
    assert 0 < sum(m != 0 for m in expected) < len(expected)
    assert rh.functions.batchDeriskMask(inputs).call(CALL) == expected
