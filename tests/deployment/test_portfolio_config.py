"""The deployment config's portfolio section: the shipped examples state the defaults, nested ``--set`` keys,
and every bound the contracts enforce refused before anything is sent with one clear message (no chain)."""

from __future__ import annotations

import dataclasses

import pytest

from hedgevault.deployment.config import load_deploy_config
from hedgevault.deployment.errors import DeployConfigError
from hedgevault.portfolio import mirror
from hedgevault.portfolio.config import PortfolioConfig, RulesConfig, initial_targets
from hedgevault.portfolio.mirror import Mode
from hedgevault.toolchain.paths import PROJECT_ROOT

WAD = 10**18
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize("name", ["example.yaml", "example.toml"])
def test_shipped_examples_state_the_portfolio_defaults(name: str) -> None:
    assert load_deploy_config(PROJECT_ROOT / "deployments" / name).portfolio == PortfolioConfig()


def test_nested_overrides_and_per_asset_bounds() -> None:
    config = load_deploy_config(
        None,
        [
            "portfolio.enabled=true",
            "portfolio.rules.min_vol_wad=0.15e18",
            "portfolio.rules.max_weight_wad=[0.5e18, 0.4e18, 0.3e18]",
            "portfolio.rebalance.budget_bps=200",
            "portfolio.cov.max_vol_step_bp=500",
            f"portfolio.keepers=[{ADDRESS}]",
        ],
    ).portfolio
    assert config.enabled and config.keepers == (ADDRESS,)
    rules = config.target_rules()
    assert rules.mode == Mode.TARGET_VOL and rules.min_vol_wad == 15 * WAD // 100
    assert rules.max_weight_wad == (WAD // 2, 4 * WAD // 10, 3 * WAD // 10)
    assert rules.min_weight_wad == (0, 0, 0)
    assert config.rebalance.budget_bps == 200 and config.cov.max_vol_step_bp == 500
    # the other rebalancing fields keep their defaults
    assert config.rebalance.max_slippage_bps == 100


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["portfolio.colour=red"], "unknown key portfolio.colour"),
        (["portfolio.rules.mode=max-sharpe"], "portfolio.rules.mode 'max-sharpe': use one of target-vol"),
        (["portfolio.rules.spread=1"], "unknown key portfolio.rules.spread"),
        (["portfolio.cov.min_vol_bp=50"], "portfolio.cov.min_vol_bp 50 is outside [100, 50000]"),
        (["portfolio.cov.psd_tol_bp=101"], "portfolio.cov.psd_tol_bp 101 is outside [1, 100]"),
        (["portfolio.cov.min_interval_sec=90000"], "portfolio.cov.min_interval_sec 90000 is outside [60, 86400]"),
        (["portfolio.cov.max_age_sec=600", "portfolio.cov.min_interval_sec=601"], "min_interval_sec 601 is outside"),
        (["portfolio.cov.max_vol_bp=7000"], "(tSOL): vol_bp 8000 outside the oracle's"),
        (["portfolio.correlations_bp=[9000, 9000, -9000]"], "not positive semi-definite"),
        (["portfolio.correlations_bp=[9950]"], "portfolio.correlations_bp[0] 9950 outside"),
        (["portfolio.correlations_bp=[1, 2]"], "2 values; give one for every pair or 3"),
        (["portfolio.rules.min_vol_wad=0.3e18"], "min_vol_wad (300000000000000000) <= max_vol_wad"),
        (["portfolio.rules.max_weight_wad=[1.1e18]"], "max_weight_wad (1100000000000000000) <= 1e18"),
        (["portfolio.rules.min_weight_wad=[0.4e18]"], "min_weight_wad sum to 1200000000000000000 > 1e18"),
        (["portfolio.rules.max_weight_wad=[1, 2]"], "max_weight_wad: give one value or 3"),
        (
            ["portfolio.rules.mode=risk-parity", "portfolio.rules.budget_wad=[0.5e18, 0.5e18, 0.1e18]"],
            "budget_wad must be positive and sum to exactly 1e18",
        ),
        (["portfolio.rebalance.max_slippage_bps=0"], "rebalance.max_slippage_bps 0 is outside [1, 500]"),
        (["portfolio.rebalance.max_slippage_bps=501"], "rebalance.max_slippage_bps 501 is outside [1, 500]"),
        (
            ["portfolio.rebalance.min_band_wad=0.2e18"],
            "min_band_wad 200000000000000000 is outside [100000000000000, 100",
        ),
        (["portfolio.rebalance.budget_period_sec=3599"], "budget_period_sec 3599 is outside [3600, 31536000]"),
        (["portfolio.rebalance.min_target_interval_sec=59"], "min_target_interval_sec 59 is outside [60, 604800]"),
        (
            ["portfolio.assets=[{symbol: A, decimals: 19}]", "portfolio.correlations_bp=[]"],
            "decimals 19 outside [0, 18]",
        ),
        (["portfolio.assets=[]"], "portfolio.assets must be a non-empty list"),
        (["portfolio.assets=[{symbol: A}, {symbol: B}]"], "portfolio.correlations_bp is needed for 2 assets"),
        (
            ["portfolio.assets=[{symbol: A}, {symbol: A}]", "portfolio.correlations_bp=[0]"],
            "symbols must be unique",
        ),
        (
            [f"portfolio.assets=[{{symbol: A, token: '{ADDRESS}'}}]", "portfolio.correlations_bp=[]"],
            "give token, feed and pool together",
        ),
        (["portfolio.feed_decimals=19"], "portfolio.feed_decimals 19 above 18"),
    ],
)
def test_bad_portfolio_values_say_what_is_wrong(overrides: list[str], message: str) -> None:
    with pytest.raises(DeployConfigError) as info:
        load_deploy_config(None, overrides)
    assert message in str(info.value), str(info.value)


def test_nine_assets_are_refused() -> None:
    assets = ", ".join(f"{{symbol: A{i}}}" for i in range(9))
    with pytest.raises(DeployConfigError, match="9 assets; the covariance oracle takes 1 to 8"):
        load_deploy_config(None, [f"portfolio.assets=[{assets}]", "portfolio.correlations_bp=[0]"])


@pytest.mark.parametrize("mode", ["target-vol", "risk-parity", "min-variance"])
def test_initial_targets_pass_the_mirror_of_the_vaults_check(mode: str) -> None:
    config = dataclasses.replace(
        PortfolioConfig(), rules=dataclasses.replace(RulesConfig(), mode=mode, max_weight_wad=(WAD,))
    )
    weights = initial_targets(config)
    vol = mirror.verify(weights, config.initial_covariance_wad(), config.target_rules())
    assert vol > 0 and sum(weights) <= WAD
    if mode == "target-vol":
        assert 18 * WAD // 100 <= vol <= 22 * WAD // 100


def test_manifest_form_round_trips() -> None:
    config = load_deploy_config(None, ["portfolio.rules.mode=risk-parity"]).portfolio
    again = PortfolioConfig.from_json(config.to_json(), enabled=config.enabled)
    assert again.to_json() == config.to_json() and again.target_rules() == config.target_rules()
