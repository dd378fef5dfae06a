"""The covariance oracle (issue 11, part A) on Anvil: construction, parameters, posts and their checks, reads
that fail closed, and the mirror of ``post`` (``hedgevault.portfolio.mirror.check_post``) against the
contract on random post sequences.

Each revert is compared byte for byte with the mirror's exception (its figures included); boundaries are
tested at the second / basis point. The clock is frozen (``tests/conftest.py``): time moves only through
``warp``. Tolerances: none (exact integers).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from portfoliokit import ASSETS, HOUR, WAD, Actors, deploy_oracle, packed, post_fn, reverts, reverts_exactly
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from hedgevault.chain import latest_timestamp, warp
from hedgevault.portfolio import errors as E
from hedgevault.portfolio import mirror
from hedgevault.portfolio.mirror import DEFAULT_COV_PARAMS as P
from hedgevault.portfolio.mirror import LastPost
from hedgevault.reverts import decode_error
from hedgevault.toolchain.compiler import Artifact
from hedgevault.txs import send

VOLS3 = (8000, 6000, 10000)  # 80%, 60%, 100%
CORRS3 = (7000, 3000, 2500)  # (0,1), (0,2), (1,2)


def _post(w3: Web3, oracle: Contract, who: Actors, vols: tuple[int, ...], corrs: tuple[int, ...]) -> int:
    """Post and return the block time of the post."""
    receipt = send(w3, post_fn(oracle, vols, corrs), who.keeper)
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


# ----------------------------------------------------------------------------- construction and parameters


@pytest.mark.parametrize(
    ("assets", "error", "args"),
    [
        ([], "CovAssetCountOutOfRange", (0, 8)),
        ([*ASSETS, ASSETS[0].replace("A", "B")], "CovAssetCountOutOfRange", (9, 8)),
        ([ASSETS[0], "0x" + "00" * 20], "CovAssetInvalid", (1, "0x" + "00" * 20)),
        ([ASSETS[0], ASSETS[1], ASSETS[0]], "CovAssetInvalid", (2, ASSETS[0])),
    ],
    ids=["empty", "nine", "zero-address", "duplicate"],
)
def test_constructor_refuses_bad_asset_lists(
    w3: Web3, artifacts: dict[str, Artifact], who: Actors, assets: list[str], error: str, args: tuple[object, ...]
) -> None:
    artifact = artifacts["CovarianceOracle"]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with pytest.raises(ContractCustomError) as info:
        factory.constructor(who.admin, assets, P.as_tuple()).estimate_gas({"from": who.admin})
    name, got = decode_error(str(info.value.data))
    assert name == error
    assert tuple(str(x).lower() if isinstance(x, str) else x for x in got) == tuple(
        str(x).lower() if isinstance(x, str) else x for x in args
    )


def test_views_before_the_first_post_fail_closed(oracle3: Contract, who: Actors) -> None:
    f = oracle3.functions
    assert f.assetCount().call() == 3
    assert f.assets().call() == list(ASSETS[:3])
    assert tuple(f.params().call()) == P.as_tuple()
    assert f.epoch().call() == 1  # the constructor's setParams
    assert f.lastUpdate().call() == 0
    assert f.packed().call() == [0, [0, 0], 0]
    for view in (f.covarianceWad(), f.volsWad(), f.correlationsWad(), f.freshPacked()):
        reverts_exactly(view, who.admin, E.CovNotPosted())
    assert f.allowedStepsNowBp().call() == [P.max_vol_bp - P.min_vol_bp, P.max_corr_bp - P.min_corr_bp]


@pytest.mark.parametrize(
    ("field", "value", "low", "high"),
    [
        ("min_vol_bp", 99, 100, 50_000),
        ("max_vol_bp", 50_001, 100, 50_000),
        ("min_corr_bp", -10_001, -10_000, 10_000),
        ("max_corr_bp", -9_901, -9_900, 10_000),
        ("max_vol_step_bp", 9, 10, 10_000),
        ("max_vol_rate_per_hour_bp", 10_001, 10, 10_000),
        ("max_corr_step_bp", 20_001, 10, 20_000),
        ("max_corr_rate_per_hour_bp", 9, 10, 20_000),
        ("psd_tol_bp", 0, 1, 100),
        ("psd_tol_bp", 101, 1, 100),
        ("max_age_sec", 59, 60, 604_800),
        ("min_interval_sec", 86_401, 60, 86_400),
    ],
)
def test_set_params_hard_bounds(oracle3: Contract, who: Actors, field: str, value: int, low: int, high: int) -> None:
    bad = replace(P, **{field: value})
    reverts(oracle3.functions.setParams(bad.as_tuple()), who.admin, "CovParamOutOfBounds", None, value, low, high)


def test_set_params_needs_the_admin_and_bumps_the_epoch(w3: Web3, oracle3: Contract, who: Actors) -> None:
    new = replace(P, psd_tol_bp=10, min_interval_sec=600)
    reverts(oracle3.functions.setParams(new.as_tuple()), who.keeper, "AccessControlUnauthorizedAccount")
    send(w3, oracle3.functions.setParams(new.as_tuple()), who.admin)
    assert tuple(oracle3.functions.params().call()) == new.as_tuple()
    assert oracle3.functions.epoch().call() == 2


def test_min_interval_at_most_max_age(oracle3: Contract, who: Actors) -> None:
    bad = replace(P, max_age_sec=600, min_interval_sec=601)
    reverts(oracle3.functions.setParams(bad.as_tuple()), who.admin, "CovParamOutOfBounds", None, 601, 60, 600)


# ----------------------------------------------------------------------------- posts


def test_post_and_views_match_the_mirror(w3: Web3, oracle3: Contract, who: Actors) -> None:
    f = oracle3.functions
    reverts(post_fn(oracle3, VOLS3, CORRS3), who.attacker, "AccessControlUnauthorizedAccount")
    posted_at = _post(w3, oracle3, who, VOLS3, CORRS3)
    vols_word, words = packed(VOLS3, CORRS3)
    assert f.covarianceWad().call() == mirror.covariance_wad(vols_word, words, 3)
    assert f.covarianceWad().call()[1] == 8000 * 6000 * 7000 * 10**6  # 0.8 x 0.6 x 0.7 = 0.336 wad
    assert f.volsWad().call() == [v * 10**14 for v in VOLS3]
    corr = f.correlationsWad().call()
    assert corr[0] == WAD and corr[1] == corr[3] == 7000 * 10**14 and corr[5] == corr[7] == 2500 * 10**14
    assert f.packed().call() == [vols_word, list(words), posted_at]
    assert f.freshPacked().call() == [vols_word, list(words)]
    assert f.lastUpdate().call() == posted_at
    assert f.epoch().call() == 2
    logs = oracle3.events.CovariancePosted().get_logs(from_block=w3.eth.block_number)
    assert [(e.args.epoch, e.args.volsBp, e.args.updater) for e in logs] == [(2, vols_word, who.keeper)]


def test_one_asset_oracle(w3: Web3, artifacts: dict[str, Artifact], who: Actors) -> None:
    oracle = deploy_oracle(w3, artifacts["CovarianceOracle"], who, 1)
    _post(w3, oracle, who, (5000,), ())
    assert oracle.functions.covarianceWad().call() == [WAD // 4]


@pytest.mark.parametrize(
    ("vols_word", "words", "error"),
    [
        (
            mirror.pack_vols((*VOLS3, 1)),
            mirror.pack_corrs(CORRS3),
            E.CovPackingInvalid(0, mirror.pack_vols((*VOLS3, 1))),
        ),
        (
            mirror.pack_vols(VOLS3),
            mirror.pack_corrs((*CORRS3, 5)),
            E.CovPackingInvalid(1, mirror.pack_corrs((*CORRS3, 5))[0]),
        ),
        (mirror.pack_vols(VOLS3), (mirror.pack_corrs(CORRS3)[0], 1), E.CovPackingInvalid(2, 1)),
    ],
    ids=["fourth-vol", "fourth-corr", "second-word"],
)
def test_packing_beyond_n_is_refused(
    oracle3: Contract, who: Actors, vols_word: int, words: tuple[int, int], error: E.PortfolioError
) -> None:
    reverts_exactly(oracle3.functions.post(vols_word, list(words)), who.keeper, error)


def test_packing_of_eight_assets_uses_the_second_word(w3: Web3, oracle8: Contract, who: Actors) -> None:
    vols = tuple(3000 + 1000 * i for i in range(8))
    corrs = tuple([2000] * 28)
    vols_word, words = packed(vols, corrs)
    assert words[1] >> (12 * 16) == 0 and words[1] != 0
    bad = (words[0], words[1] | (1 << (12 * 16)))
    reverts_exactly(oracle8.functions.post(vols_word, list(bad)), who.keeper, E.CovPackingInvalid(2, bad[1]))
    _post(w3, oracle8, who, vols, corrs)
    assert oracle8.functions.covarianceWad().call() == mirror.covariance_wad(vols_word, words, 8)
    assert oracle8.functions.freshPacked().call() == [vols_word, list(words)]  # the second word read for n = 8


@pytest.mark.parametrize(
    ("vols", "corrs", "error"),
    [
        ((99, 6000, 10000), CORRS3, E.CovVolOutOfBounds(0, 99, 100, 50_000)),
        ((8000, 50_001, 10000), CORRS3, E.CovVolOutOfBounds(1, 50_001, 100, 50_000)),
        (VOLS3, (7000, 9901, 2500), E.CovCorrOutOfBounds(0, 2, 9901, -9900, 9900)),
        (VOLS3, (7000, 3000, -9901), E.CovCorrOutOfBounds(1, 2, -9901, -9900, 9900)),
    ],
    ids=["vol-low", "vol-high", "corr-high", "corr-low"],
)
def test_bounds_per_field(
    oracle3: Contract, who: Actors, vols: tuple[int, ...], corrs: tuple[int, ...], error: E.PortfolioError
) -> None:
    reverts_exactly(post_fn(oracle3, vols, corrs), who.keeper, error)


def test_post_too_soon_at_the_boundary_second(w3: Web3, oracle3: Contract, who: Actors) -> None:
    posted_at = _post(w3, oracle3, who, VOLS3, CORRS3)
    interval = P.min_interval_sec
    reverts_exactly(post_fn(oracle3, VOLS3, CORRS3), who.keeper, E.CovPostTooSoon(posted_at, interval, posted_at))
    warp(w3, interval - 1)
    assert oracle3.functions.allowedStepsNowBp().call() == [0, 0]
    now = latest_timestamp(w3)
    reverts_exactly(post_fn(oracle3, VOLS3, CORRS3), who.keeper, E.CovPostTooSoon(posted_at, interval, now))
    warp(w3, 1)
    _post(w3, oracle3, who, VOLS3, CORRS3)
    assert oracle3.functions.epoch().call() == 3


@pytest.mark.parametrize("elapsed_sec", [300, 1799, 3600, 4 * HOUR])
def test_steps_at_the_boundary(w3: Web3, oracle3: Contract, who: Actors, elapsed_sec: int) -> None:
    """allowed = min(maxStep, rate x elapsed / 3600) (rounded down), for vols and correlations alike: exactly
    allowed passes, one bp more reverts with the figures."""
    _post(w3, oracle3, who, VOLS3, CORRS3)
    warp(w3, elapsed_sec)
    vol_step, corr_step = mirror.allowed_steps_bp(P, elapsed_sec)
    assert oracle3.functions.allowedStepsNowBp().call() == [vol_step, corr_step]
    up = (VOLS3[0], VOLS3[1] + vol_step + 1, VOLS3[2])
    reverts_exactly(post_fn(oracle3, up, CORRS3), who.keeper, E.CovVolStepExceeded(1, VOLS3[1], up[1], vol_step))
    down = (CORRS3[0], CORRS3[1], CORRS3[2] - corr_step - 1)
    error = E.CovCorrStepExceeded(1, 2, CORRS3[2], down[2], corr_step)
    reverts_exactly(post_fn(oracle3, VOLS3, down), who.keeper, error)
    ok_corr = min(CORRS3[2] + corr_step, 5000)  # stay PSD
    _post(w3, oracle3, who, (VOLS3[0] - vol_step, VOLS3[1], VOLS3[2]), (CORRS3[0], CORRS3[1], ok_corr))


def test_not_psd_is_refused_with_the_pivot(oracle3: Contract, who: Actors) -> None:
    """rho = (0.9, 0.9, -0.9) has a negative eigenvalue (-0.8): the third pivot is far below -tau."""
    corrs = (9000, 9000, -9000)
    words = mirror.pack_corrs(corrs)
    with pytest.raises(E.CovNotPsd) as info:
        mirror.check_psd(words, 3, P.psd_tol_bp)
    assert info.value.values[0] == 2 and info.value.values[1] < -WAD // 2
    reverts_exactly(post_fn(oracle3, VOLS3, corrs), who.keeper, info.value)


def _corr_words_with_min_eigenvalue(n: int, rho: float) -> tuple[int, int]:
    """Equal correlations rho: eigenvalues 1 + (n - 1) rho and 1 - rho; rho = -1/(n-1) is singular."""
    return mirror.pack_corrs([round(rho * 1e4)] * mirror.pair_count(n))


def test_psd_tolerance_singular_and_slightly_negative(w3: Web3, oracle3: Contract, who: Actors) -> None:
    """Equal correlations -0.5 (n = 3) are singular (lambda_min = 0): PSD, accepted at the least tolerance.
    -0.5001 has lambda_min = -2 bp and a last pivot of (1 + 2 rho)(1 - rho)/(1 + rho) = -6.0 bp: accepted
    with a 10 bp tolerance, refused with 5 bp (the pivot and the tolerance in the error)."""
    assert mirror.is_psd(_corr_words_with_min_eigenvalue(3, -0.5), 3, 1)
    assert mirror.is_psd(_corr_words_with_min_eigenvalue(3, -0.5001), 3, 10)
    _post(w3, oracle3, who, VOLS3, (-5000, -5000, -5000))
    warp(w3, HOUR)
    words = _corr_words_with_min_eigenvalue(3, -0.5001)
    with pytest.raises(E.CovNotPsd) as info:
        mirror.check_psd(words, 3, P.psd_tol_bp)
    pivot_wad = info.value.values[1]
    assert isinstance(pivot_wad, int) and -61 * 10**13 < pivot_wad < -59 * 10**13
    assert info.value.values[2] == P.psd_tol_bp * 10**14
    reverts_exactly(oracle3.functions.post(mirror.pack_vols(VOLS3), list(words)), who.keeper, info.value)
    send(w3, oracle3.functions.setParams(replace(P, psd_tol_bp=10).as_tuple()), who.admin)
    _post(w3, oracle3, who, VOLS3, (-5001, -5001, -5001))


def test_perfect_correlation_is_psd(w3: Web3, oracle3: Contract, who: Actors) -> None:
    send(w3, oracle3.functions.setParams(replace(P, max_corr_bp=10_000).as_tuple()), who.admin)
    _post(w3, oracle3, who, VOLS3, (10_000, 10_000, 10_000))
    assert oracle3.functions.correlationsWad().call()[1] == WAD


def test_reads_go_stale_after_max_age(w3: Web3, oracle3: Contract, who: Actors) -> None:
    posted_at = _post(w3, oracle3, who, VOLS3, CORRS3)
    warp(w3, P.max_age_sec)
    assert len(oracle3.functions.covarianceWad().call()) == 9  # exactly max age: fresh
    warp(w3, 1)
    now = latest_timestamp(w3)
    f = oracle3.functions
    for view in (f.covarianceWad(), f.volsWad(), f.correlationsWad(), f.freshPacked()):
        reverts_exactly(view, who.admin, E.CovStale(posted_at, P.max_age_sec, now))
    assert oracle3.functions.lastUpdate().call() == posted_at  # never reverts
    _post(w3, oracle3, who, VOLS3, CORRS3)  # a fresh post revives the reads
    assert len(oracle3.functions.volsWad().call()) == 3


def test_random_post_sequences_agree_with_the_mirror(w3: Web3, oracle8: Contract, who: Actors) -> None:
    """60 posts of random size and timing on the 8-asset oracle: each outcome (accepted, or the exact revert
    bytes) is the mirror's ``check_post`` outcome, and accepted posts leave the same packed state."""
    rng = np.random.default_rng(11)
    last: LastPost | None = None
    vols = rng.integers(2000, 9000, 8)
    corrs = np.full(28, 2000)
    outcomes = {"accepted": 0, "refused": 0}
    for _ in range(60):
        warp(w3, int(rng.choice([10, 200, 300, 900, 3600, 7200])))
        new_vols = np.clip(vols + rng.integers(-1200, 1201, 8) * (rng.random(8) < 0.4), 50, 60_000)
        new_corrs = np.clip(corrs + rng.integers(-2500, 2501, 28) * (rng.random(28) < 0.1), -10_000, 10_000)
        vols_word, words = packed([int(v) for v in new_vols], [int(c) for c in new_corrs])
        now = latest_timestamp(w3)
        try:
            mirror.check_post(P, 8, vols_word, words, last, now)
            want: bytes | None = None
        except E.PortfolioError as exc:
            want = exc.revert_data()
        fn = oracle8.functions.post(vols_word, list(words))
        if want is None:
            send(w3, fn, who.keeper)
            last = LastPost(vols_word, words, now)
            vols, corrs = new_vols, new_corrs
            outcomes["accepted"] += 1
            assert oracle8.functions.packed().call() == [vols_word, list(words), now]
        else:
            with pytest.raises(ContractCustomError) as info:
                fn.call({"from": who.keeper})
            assert bytes.fromhex(str(info.value.data)[2:]) == want
            outcomes["refused"] += 1
    assert outcomes["accepted"] >= 5 and outcomes["refused"] >= 5
