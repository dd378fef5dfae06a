"""What a portfolio vault is deployed with (the ``portfolio`` section of ``hedgevault deploy``'s config):
its risky assets, the covariance oracle's bounds, the target rules and the rebalancing parameters, each
validated against the bounds the contracts enforce before anything is sent (``PortfolioConfig.problems``).

Units are in the names: ``_wad`` 1e18 fixed point, ``_bp``/``_bps`` 1e-4, ``_sec`` seconds; prices are quote
per whole asset token (wad), volatilities annualised. An asset either is deployed as a mock on a dev chain
(``MockERC20`` with ``decimals``, a ``MockAggregator`` at ``price_wad``, a Uniswap V3 pool against the quote
token seeded at that price with ``pool_value_quote`` whole quote tokens' worth of full-range liquidity each
side) or exists already (``token``, ``feed`` and ``pool`` given by address: attached after checks; its
decimals and fee are read from the chain).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hedgevault.portfolio import mirror
from hedgevault.portfolio.mirror import DEFAULT_COV_PARAMS, WAD, CovParams, Mode, TargetRules

#: Rules mode names in the config file -> ``IPortfolioMath.Mode``.
MODES = {"target-vol": Mode.TARGET_VOL, "risk-parity": Mode.RISK_PARITY, "min-variance": Mode.MIN_VARIANCE}
#: ``CovarianceOracle``'s hard bounds (its HARD_* constants), for the checks before deployment.
COV_HARD_BOUNDS = {
    "min_vol_bp": (100, 50_000),
    "max_vol_bp": (100, 50_000),
    "min_corr_bp": (-10_000, 10_000),
    "max_corr_bp": (-10_000, 10_000),
    "max_vol_step_bp": (10, 10_000),
    "max_vol_rate_per_hour_bp": (10, 10_000),
    "max_corr_step_bp": (10, 20_000),
    "max_corr_rate_per_hour_bp": (10, 20_000),
    "psd_tol_bp": (1, 100),
    "max_age_sec": (60, 7 * 86_400),
    "min_interval_sec": (60, 86_400),
}
#: ``CovarianceMath.MAX_ASSETS``.
MAX_ASSETS = mirror.MAX_ASSETS
DAY_SEC = 86_400


@dataclass(frozen=True)
class AssetConfig:
    """One risky asset. Mock fields (dev chains): ``decimals``, ``price_wad`` (initial feed and pool price),
    ``vol_bp`` (annualised volatility: the initial covariance post, and the simulator's default),
    ``pool_value_quote`` (whole quote tokens of liquidity on each side of the full-range position).
    Attach fields (all three or none): ``token``, ``feed`` (Chainlink AggregatorV3 of asset/quote), ``pool``
    (the Uniswap V3 asset/quote pool)."""

    symbol: str
    decimals: int = 18
    price_wad: int = 3000 * WAD
    vol_bp: int = 6000
    pool_value_quote: int = 50_000_000
    token: str | None = None
    feed: str | None = None
    pool: str | None = None

    @property
    def attached(self) -> bool:
        return self.token is not None


@dataclass(frozen=True)
class RebalanceParams:
    """``IPortfolioVault.RebalanceParams`` (field order as the Solidity struct; defaults from the API): a slice's price
    limit 1% from the oracle, a slice loses at most 0.25% of NAV, 0.40% one-way cost for the band rule, band scale
    0.35 (``mirror.DEFAULT_REBALANCE_PARAMS``'s), bands within [0.5%, 10%] of NAV, a slippage budget of 1% of NAV
    that drains over 30 days, a 0.5% swing for deposits and withdrawals, targets at most hourly; in risk-parity mode,
    upkeeps catch up every asset more than 0.1% of NAV off its target while a held risk contribution is more than 5%
    off its budget; in target-vol mode, de-risking sales go to their targets past the bands while the held ex-ante
    volatility is more than 25% above the rules' band."""

    max_slippage_bps: int = 100
    max_nav_loss_bps: int = 25
    cost_bps: int = 40
    band_scale_bp: int = 3_500
    min_band_wad: int = WAD // 200
    max_band_wad: int = WAD // 10
    budget_bps: int = 100
    budget_period_sec: int = 30 * DAY_SEC
    feed_deviation_bps: int = 50
    min_target_interval_sec: int = 3600
    rc_tolerance_wad: int = 5 * WAD // 100
    rc_dust_wad: int = WAD // 1000
    derisk_margin_bps: int = 2_500

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(int(getattr(self, f.name)) for f in dataclasses.fields(self))

    #: ``PortfolioVault._setParams``'s hard bounds (``ParamOutOfBounds``); ``min_band_wad``'s upper bound is
    #: ``max_band_wad``.
    HARD_BOUNDS: ClassVar[dict[str, tuple[int, int]]] = {
        "max_slippage_bps": (1, 500),
        "max_nav_loss_bps": (1, 500),
        "cost_bps": (1, 1000),
        "band_scale_bp": (1, 100_000),
        "max_band_wad": (10**14, WAD // 2),
        "min_band_wad": (10**14, WAD // 2),
        "budget_bps": (1, 2000),
        "budget_period_sec": (3600, 365 * DAY_SEC),
        "feed_deviation_bps": (0, 500),
        "min_target_interval_sec": (60, 7 * DAY_SEC),
        "rc_tolerance_wad": (WAD // 1000, WAD // 2),
        "rc_dust_wad": (10**14, WAD // 20),
        "derisk_margin_bps": (0, 10_000),
    }

    def problems(self) -> list[str]:
        """What the vault would refuse (``ParamOutOfBounds``), one message per field; empty when valid."""
        out = []
        for name, (lo, hi) in self.HARD_BOUNDS.items():
            if name == "min_band_wad":
                hi = self.max_band_wad
            value = getattr(self, name)
            if not lo <= value <= hi:
                out.append(
                    f"portfolio.rebalance.{name} {value} is outside [{lo}, {hi}] (the vault's hard bounds; it would "
                    "revert ParamOutOfBounds)"
                )
        return out


@dataclass(frozen=True)
class RulesConfig:
    """``IPortfolioMath.TargetRules`` as written in the config: ``mode`` (``target-vol`` by default,
    ``risk-parity``, ``min-variance``), the ex-ante volatility band (default 18%-22%: a 20% target +-10%
    relative), per-asset weight bounds (one value for every asset, or one per asset), risk budgets (default
    equal) and the tolerance of the risk-parity / minimum-variance conditions."""

    mode: str = "target-vol"
    min_vol_wad: int = 18 * WAD // 100
    max_vol_wad: int = 22 * WAD // 100
    min_weight_wad: tuple[int, ...] = (0,)
    max_weight_wad: tuple[int, ...] = (WAD * 6 // 10,)
    budget_wad: tuple[int, ...] = ()
    tolerance_wad: int = WAD // 50

    def for_assets(self, n: int) -> TargetRules:
        """The contract's rules for ``n`` assets (a one-value bound repeated; budgets equal when not given:
        1e18 / n each, the remainder on the first)."""
        budgets = self.budget_wad
        if not budgets and self.mode == "risk-parity":
            budgets = tuple([WAD // n + WAD % n] + [WAD // n] * (n - 1))
        return TargetRules(
            mode=MODES[self.mode],
            min_weight_wad=_per_asset(self.min_weight_wad, n),
            max_weight_wad=_per_asset(self.max_weight_wad, n),
            min_vol_wad=self.min_vol_wad,
            max_vol_wad=self.max_vol_wad,
            budget_wad=tuple(budgets),
            tolerance_wad=self.tolerance_wad,
        )


def _per_asset(values: tuple[int, ...], n: int) -> tuple[int, ...]:
    return values * n if len(values) == 1 else values


DEFAULT_ASSETS = (
    AssetConfig("tWETH", decimals=18, price_wad=3_000 * WAD, vol_bp=6_000),
    AssetConfig("tWBTC", decimals=8, price_wad=60_000 * WAD, vol_bp=5_000),
    AssetConfig("tSOL", decimals=9, price_wad=150 * WAD, vol_bp=8_000),
)
#: ETH-BTC 0.80, ETH-SOL 0.75, BTC-SOL 0.70 (pairs in the oracle's order: (0,1), (0,2), (1,2)).
DEFAULT_CORRELATIONS_BP = (8_000, 7_500, 7_000)


@dataclass(frozen=True)
class PortfolioConfig:
    """The portfolio stack. ``enabled``: ``hedgevault deploy`` deploys it beside the option vault without
    ``--stack``. ``correlations_bp``: the initial correlations (pairs (0,1), (0,2), ... as the oracle packs
    them; one value for every pair, or n (n - 1) / 2 values). ``keepers`` get COV_UPDATER_ROLE and
    TARGET_SETTER_ROLE, ``guardians`` GUARDIAN_ROLE (default: ``[roles.admin]`` both). ``feed_decimals`` and
    ``pool_fee`` (pips) apply to the mocks."""

    enabled: bool = False
    name: str = "hedgevault portfolio vault"
    symbol: str = "hvPORT"
    assets: tuple[AssetConfig, ...] = DEFAULT_ASSETS
    correlations_bp: tuple[int, ...] = DEFAULT_CORRELATIONS_BP
    feed_decimals: int = 8
    pool_fee: int = 3000
    cov: CovParams = DEFAULT_COV_PARAMS
    rules: RulesConfig = field(default_factory=RulesConfig)
    rebalance: RebalanceParams = field(default_factory=RebalanceParams)
    keepers: tuple[str, ...] | None = None
    guardians: tuple[str, ...] | None = None

    @property
    def n(self) -> int:
        return len(self.assets)

    def target_rules(self) -> TargetRules:
        return self.rules.for_assets(self.n)

    def correlations(self) -> tuple[int, ...]:
        pairs = mirror.pair_count(self.n)
        return self.correlations_bp * pairs if len(self.correlations_bp) == 1 else self.correlations_bp

    def initial_post(self) -> tuple[int, mirror.CorrWords]:
        """The covariance oracle's first post: the assets' ``vol_bp`` and ``correlations_bp`` as packed."""
        return mirror.pack_vols([a.vol_bp for a in self.assets]), mirror.pack_corrs(list(self.correlations()))

    def initial_covariance_wad(self) -> list[int]:
        vols_word, words = self.initial_post()
        return mirror.covariance_wad(vols_word, words, self.n)

    def roles(self, admin: str) -> dict[str, Any]:
        """The role holders as recorded in the manifest."""
        return {
            "keepers": list(self.keepers if self.keepers is not None else (admin,)),
            "guardians": list(self.guardians if self.guardians is not None else (admin,)),
        }

    def to_json(self) -> dict[str, Any]:
        """The parameters as recorded in the manifest (and compared on a rerun)."""
        return {
            "name": self.name,
            "symbol": self.symbol,
            "assets": [dataclasses.asdict(a) for a in self.assets],
            "correlations_bp": list(self.correlations()),
            "feed_decimals": self.feed_decimals,
            "pool_fee": self.pool_fee,
            "cov": dataclasses.asdict(self.cov),
            "rules": {
                **dataclasses.asdict(self.rules),
                "min_weight_wad": list(self.target_rules().min_weight_wad),
                "max_weight_wad": list(self.target_rules().max_weight_wad),
                "budget_wad": list(self.target_rules().budget_wad),
            },
            "rebalance": dataclasses.asdict(self.rebalance),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, enabled: bool = True) -> PortfolioConfig:
        """The config a manifest records (``to_json``)."""
        rules = dict(data["rules"])
        for key in ("min_weight_wad", "max_weight_wad", "budget_wad"):
            rules[key] = tuple(int(v) for v in rules[key])
        return cls(
            enabled=enabled,
            name=str(data["name"]),
            symbol=str(data["symbol"]),
            assets=tuple(AssetConfig(**a) for a in data["assets"]),
            correlations_bp=tuple(int(c) for c in data["correlations_bp"]),
            feed_decimals=int(data["feed_decimals"]),
            pool_fee=int(data["pool_fee"]),
            cov=CovParams(**data["cov"]),
            rules=RulesConfig(**rules),
            rebalance=RebalanceParams(**data["rebalance"]),
        )

    def problems(self) -> list[str]:
        """Every reason the contracts would refuse this config (or the first post or targets), one line each;
        empty when the portfolio can be deployed as configured."""
        out: list[str] = []
        n = self.n
        if not 1 <= n <= MAX_ASSETS:
            return [f"portfolio.assets: {n} assets; the covariance oracle takes 1 to {MAX_ASSETS}"]
        symbols = [a.symbol for a in self.assets]
        if len(set(symbols)) != n:
            out.append(f"portfolio.assets: symbols must be unique, got {symbols}")
        for i, a in enumerate(self.assets):
            where = f"portfolio.assets[{i}] ({a.symbol})"
            given = [a.token is not None, a.feed is not None, a.pool is not None]
            if any(given) and not all(given):
                out.append(f"{where}: give token, feed and pool together (an existing asset), or none (a mock)")
            if not 0 <= a.decimals <= 18:
                out.append(f"{where}: decimals {a.decimals} outside [0, 18] (the vault's bound)")
            if a.price_wad <= 0:
                out.append(f"{where}: price_wad must be positive")
            if a.pool_value_quote <= 0:
                out.append(f"{where}: pool_value_quote must be positive (whole quote tokens each side)")
        out += _cov_problems(self.cov)
        for i, a in enumerate(self.assets):
            if not self.cov.min_vol_bp <= a.vol_bp <= self.cov.max_vol_bp:
                out.append(
                    f"portfolio.assets[{i}] ({a.symbol}): vol_bp {a.vol_bp} outside the oracle's "
                    f"[cov.min_vol_bp {self.cov.min_vol_bp}, cov.max_vol_bp {self.cov.max_vol_bp}]"
                )
        pairs = mirror.pair_count(n)
        if len(self.correlations_bp) not in (1, pairs):
            out.append(
                f"portfolio.correlations_bp: {len(self.correlations_bp)} values; give one for every pair or {pairs} "
                "(pairs (0,1), (0,2), ... (n-2,n-1))"
            )
        else:
            for k, c in enumerate(self.correlations()):
                if not self.cov.min_corr_bp <= c <= self.cov.max_corr_bp:
                    out.append(
                        f"portfolio.correlations_bp[{k}] {c} outside [cov.min_corr_bp {self.cov.min_corr_bp}, "
                        f"cov.max_corr_bp {self.cov.max_corr_bp}]"
                    )
            if not out and not mirror.is_psd(self.initial_post()[1], n, self.cov.psd_tol_bp):
                out.append(
                    "portfolio.correlations_bp: the correlation matrix is not positive semi-definite (the oracle "
                    "would revert CovNotPsd); lower the correlations that contradict each other"
                )
        if self.feed_decimals > 18:
            out.append(f"portfolio.feed_decimals {self.feed_decimals} above 18 (the price oracle scales to wad)")
        out += self._rules_problems()
        out += self.rebalance.problems()
        return out

    def _rules_problems(self) -> list[str]:
        n, r = self.n, self.rules
        out: list[str] = []
        if r.mode not in MODES:
            return [f"portfolio.rules.mode {r.mode!r}: use one of {', '.join(MODES)}"]
        for name in ("min_weight_wad", "max_weight_wad"):
            if len(getattr(r, name)) not in (1, n):
                out.append(f"portfolio.rules.{name}: give one value or {n} (one per asset)")
        if r.budget_wad and len(r.budget_wad) != n:
            out.append(f"portfolio.rules.budget_wad: {len(r.budget_wad)} values for {n} assets")
        if out:
            return out
        rules = self.target_rules()
        for i, (lo, hi) in enumerate(zip(rules.min_weight_wad, rules.max_weight_wad, strict=True)):
            if not 0 <= lo <= hi <= WAD:
                out.append(
                    f"portfolio.rules: asset {i} needs 0 <= min_weight_wad ({lo}) <= max_weight_wad ({hi}) <= 1e18"
                )
        if sum(rules.min_weight_wad) > WAD:
            out.append(f"portfolio.rules.min_weight_wad sum to {sum(rules.min_weight_wad)} > 1e18: no target can pass")
        if not 0 < r.min_vol_wad <= r.max_vol_wad <= 5 * WAD:
            out.append(
                f"portfolio.rules: the volatility band needs 0 < min_vol_wad ({r.min_vol_wad}) <= max_vol_wad "
                f"({r.max_vol_wad}) <= 5e18 (the inverse-volatility fallback scales into it in every mode)"
            )
        if not 0 <= r.tolerance_wad <= WAD:
            out.append(f"portfolio.rules.tolerance_wad {r.tolerance_wad} outside [0, 1e18]")
        if rules.mode == Mode.RISK_PARITY and (any(b <= 0 for b in rules.budget_wad) or sum(rules.budget_wad) != WAD):
            out.append(f"portfolio.rules.budget_wad must be positive and sum to exactly 1e18, got {rules.budget_wad}")
        return out


def _cov_problems(p: CovParams) -> list[str]:
    out = []
    bounds = dict(COV_HARD_BOUNDS)
    bounds["max_vol_bp"] = (p.min_vol_bp, 50_000)
    bounds["max_corr_bp"] = (p.min_corr_bp, 10_000)
    bounds["min_interval_sec"] = (60, min(86_400, p.max_age_sec))
    for name, (lo, hi) in bounds.items():
        value = getattr(p, name)
        if not lo <= value <= hi:
            out.append(
                f"portfolio.cov.{name} {value} is outside [{lo}, {hi}] (the covariance oracle's hard bounds; it "
                "would revert CovParamOutOfBounds)"
            )
    return out


def initial_targets(config: PortfolioConfig) -> tuple[int, ...]:
    """The targets posted at deployment: the optimizer's answer for the rules' mode on the initial covariance
    (verified by the mirror; the inverse-volatility fallback when the mode's solve fails)."""
    from hedgevault.portfolio import optimizer

    cov_wad = config.initial_covariance_wad()
    rules = config.target_rules()
    solve = {
        Mode.TARGET_VOL: optimizer.target_volatility,
        Mode.RISK_PARITY: optimizer.risk_parity,
        Mode.MIN_VARIANCE: optimizer.min_variance,
    }[rules.mode]
    return solve(cov_wad, rules).weights_wad


def mock_amounts(asset: AssetConfig, quote_decimals: int) -> tuple[int, int]:
    """(asset units, quote units) of the mock pool's full-range position at ``price_wad``."""
    quote_units = asset.pool_value_quote * 10**quote_decimals
    asset_units = asset.pool_value_quote * WAD * 10**asset.decimals // asset.price_wad
    return asset_units, quote_units


def vols_and_corr(config: PortfolioConfig) -> tuple[np.ndarray, np.ndarray]:
    """The configured volatilities (floats) and correlation matrix (for the simulator's default paths)."""
    n = config.n
    vols = np.array([a.vol_bp / 1e4 for a in config.assets])
    corr = np.eye(n)
    for k, c in enumerate(config.correlations()):
        i, j = _pair(k, n)
        corr[i, j] = corr[j, i] = c / 1e4
    return vols, corr


def _pair(k: int, n: int) -> tuple[int, int]:
    for i in range(n):
        for j in range(i + 1, n):
            if mirror.pair_index(i, j, n) == k:
                return i, j
    raise ValueError(f"pair index {k} out of range for {n} assets")
