"""The keeper's ``portfolios`` setting: file tables and flags into ``PortfolioTaskConfig``, every bad value a
``KeeperConfigError`` that names it (no chain)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hedgevault.keeper.config import KeeperConfig, KeeperConfigError, load_config
from hedgevault.keeper.portfolio import (
    PortfolioTaskConfig,
    estimate_covariance,
    grid_prices,
    least_slice_cost_quote,
    targets_close,
)
from hedgevault.portfolio import optimizer

VAULT = "0x00000000000000000000000000000000000000a1"
VAULT2 = "0x00000000000000000000000000000000000000a2"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keeper.toml"
    path.write_text(text)
    return path


def test_a_portfolio_alone_is_enough_and_defaults_apply(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, f"[[portfolios]]\naddress = '{VAULT}'\nestimator = 'ledoit-wolf'\n"))
    assert config.vaults == () and len(config.portfolios) == 1
    task = config.portfolios[0]
    assert task.estimator == "ledoit-wolf" and task.cov_interval_sec == 6 * 3600 and task.sample_sec == 4 * 3600
    assert task.name == task.address[:10]
    flags = load_config(None, {"portfolios": [{"address": VAULT2, "name": "p"}], "vaults": [{"address": VAULT}]})
    assert [p.name for p in flags.portfolios] == ["p"] and len(flags.vaults) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"[[portfolios]]\naddress = '{VAULT}'\nestimator = 'sample'\n", "estimator must be one of ewma, ledoit"),
        (f"[[portfolios]]\naddress = '{VAULT}'\newma_decay = 1.0\n", r"ewma_decay must be in \(0, 1\)"),
        (f"[[portfolios]]\naddress = '{VAULT}'\newma_fast_decay = 0.985\n", "ewma_fast_decay must be 0 .off. or in"),
        (f"[[portfolios]]\naddress = '{VAULT}'\newma_fast_decay = -0.1\n", "ewma_fast_decay must be 0 .off. or in"),
        (f"[[portfolios]]\naddress = '{VAULT}'\newma_fast_margin = -0.01\n", r"ewma_fast_margin must be in \[0, 10\]"),
        (f"[[portfolios]]\naddress = '{VAULT}'\nmin_history_points = 2\n", "need 3 <= min_history_points"),
        (f"[[portfolios]]\naddress = '{VAULT}'\nmax_upkeeps_per_pass = 101\n", "max_upkeeps_per_pass must be 1..100"),
        (f"[[portfolios]]\naddress = '{VAULT}'\ncov_interval_sec = 0\n", "cov_interval_sec must be a positive"),
        (f"[[portfolios]]\naddress = '{VAULT}'\ncolour = 1\n", r"unknown keys \['colour'\]"),
        ("[[portfolios]]\nname = 'x'\n", "must be a table with an address"),
        ("[[portfolios]]\naddress = '0x12'\n", "is not an address"),
        (f"[[portfolios]]\naddress = '{VAULT}'\n[[vaults]]\naddress = '{VAULT}'\n", "listed twice"),
    ],
)
def test_bad_portfolio_settings_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(KeeperConfigError, match=message):
        load_config(_write(tmp_path, text))


def test_direct_construction_with_portfolios_only() -> None:
    config = KeeperConfig(portfolios=[PortfolioTaskConfig(VAULT, "p")])
    assert isinstance(config.portfolios, tuple)
    with pytest.raises(KeeperConfigError, match="no vaults to keep"):
        KeeperConfig()


def test_grid_takes_the_last_round_at_or_before_each_time() -> None:
    rounds = [(100, 1), (200, 2), (300, 3)]
    assert grid_prices(rounds, 300, 100, 3) == [1, 2, 3]
    assert grid_prices(rounds, 299, 100, 2) == [1, 2]  # a round at 300 is after the last grid time 299
    assert grid_prices(rounds, 299, 100, 3) is None  # 99 precedes every round
    assert grid_prices(rounds, 350, 100, 3) == [1, 2, 3]  # 150, 250, 350
    assert grid_prices(rounds, 300, 100, 4) is None  # the first grid time (0) precedes every round


def test_targets_close_and_the_least_slice() -> None:
    assert targets_close([10, 20], [14, 16], 5) and not targets_close([10, 20], [15, 20], 5)
    assert not targets_close([10], [10, 0], 5)
    # NAV 1,000,000.000000 quote, minBand 0.5%, maxSlippage 1%: half the least band at 1% = 25 quote
    assert least_slice_cost_quote(10**12, 5 * 10**15, 100) == 25_000_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--portfolio", VAULT], "no node to talk to: set rpc_url"),
        (["--portfolio", VAULT, "--rpc-url", "http://127.0.0.1:1"], "no signing key: set HEDGEVAULT_PRIVATE_KEY"),
        (["--portfolio", "0x12", "--rpc-url", "http://127.0.0.1:1"], "is not an address"),
    ],
)
def test_cli_portfolio_flag_is_validated(tmp_path: Path, args: list[str], message: str) -> None:
    import subprocess
    import sys

    hedgevault = str(Path(sys.executable).with_name("hedgevault"))
    result = subprocess.run(
        [hedgevault, "keeper", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_fast_slow_covariance_rises_with_the_fast_estimate_and_keeps_the_slow_one_otherwise() -> None:
    slow = np.array([[0.36, 0.24], [0.24, 0.25]])
    # fast volatility 0.6 x 2 on asset 0 (above the 20% margin), 0.5 x 1.1 on asset 1 (within it)
    fast = np.array([[1.44, 0.5], [0.5, 0.3025]])
    out = optimizer.fast_slow_covariance(slow, fast, margin=0.2)
    d = np.array([2.0 / 1.2, 1.0])
    assert np.allclose(out, slow * np.outer(d, d))
    corr = out[0, 1] / np.sqrt(out[0, 0] * out[1, 1])
    assert corr == pytest.approx(0.24 / np.sqrt(0.36 * 0.25))  # the slow correlations kept
    assert np.min(np.linalg.eigvalsh(out)) > 0
    assert np.array_equal(optimizer.fast_slow_covariance(slow, slow * 0.5, margin=0.0), slow)  # falls slowly
    with pytest.raises(ValueError, match="margin"):
        optimizer.fast_slow_covariance(slow, fast, margin=-0.1)


def test_estimate_covariance_reacts_to_a_shock_with_the_fast_ewma() -> None:
    rng = np.random.default_rng(5)
    calm = np.exp(np.cumsum(rng.normal(0, 0.01, size=(90, 2)), axis=0))
    shock = calm[-1] * np.exp(np.cumsum(np.full((3, 2), -0.04), axis=0))  # three steps of -4%
    prices = np.vstack([calm, shock])
    slow_only = estimate_covariance(prices, PortfolioTaskConfig(VAULT, ewma_decay=0.94, sample_sec=14_400))
    both = estimate_covariance(
        prices, PortfolioTaskConfig(VAULT, ewma_decay=0.94, ewma_fast_decay=0.8, sample_sec=14_400)
    )
    assert np.all(np.diag(both) > 1.5 * np.diag(slow_only))
    calm_both = estimate_covariance(
        calm, PortfolioTaskConfig(VAULT, ewma_decay=0.94, ewma_fast_decay=0.8, sample_sec=14_400)
    )
    calm_slow = estimate_covariance(calm, PortfolioTaskConfig(VAULT, ewma_decay=0.94, sample_sec=14_400))
    assert np.allclose(np.diag(calm_both), np.diag(calm_slow), rtol=0.5)


def test_derisks_compares_the_exact_variances() -> None:
    cov = [36 * 10**16, 24 * 10**16, 24 * 10**16, 25 * 10**16]
    current = [3 * 10**17, 3 * 10**17]
    assert optimizer.derisks([3 * 10**17 - 1, 3 * 10**17], current, cov)
    assert not optimizer.derisks(current, current, cov)
    assert not optimizer.derisks([3 * 10**17 + 1, 3 * 10**17 - 1], current, cov)  # more of the riskier asset
    assert not optimizer.derisks([1], current, cov)
