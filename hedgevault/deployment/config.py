"""What ``hedgevault deploy`` deploys: a YAML or TOML file plus ``--set section.key=value`` flags, on top
of ``SuiteConfig``'s defaults.

Sections (every key optional; unknown ones are refused; ``deployments/example.yaml`` lists them all):

* ``vault``: ``name``, ``symbol``, ``fee_recipient`` (default: the admin).
* ``roles``: ``admin`` (the operator; default: the deployer), ``guardians``, ``listers``, ``vol_updaters``
  (lists of addresses; default: ``[admin]``). With the timelock (the default) ``DEFAULT_ADMIN_ROLE`` of the
  vault and the oracles goes to the timelock and ``admin`` is its default proposer and executor; without
  one (``hedgevault.suite.deploy_suite``'s default) ``admin`` holds it, and when ``admin`` is not the
  deployer the deployer hands it over and renounces it.
* ``governance``: ``timelock_delay_sec`` (default 86,400 s = 24 h, at least 3,600 s = 1 h, the
  contract's hard floor), ``proposers`` and ``executors`` of the timelock (lists; default ``[roles.admin]``).
* ``local``: the infrastructure deployed on a dev chain: ``quote_decimals``, ``underlying_decimals``,
  ``feed_decimals``, ``spot_wad``, ``pool_fee``, ``pool_underlying`` (whole tokens of full-range
  liquidity), ``with_sequencer_feed``.
* ``infrastructure``: addresses that already exist (a testnet): ``quote``, ``underlying``, ``feed``,
  ``sequencer_feed`` (optional), ``uniswap_factory``, ``swap_router``, ``position_manager``, ``pool``,
  ``aave_addresses_provider`` (optional: an Aave v3 market's PoolAddressesProvider; its pool, configurator,
  ACL manager, oracle and data provider are read from it and checked).
* ``risk``, ``limits``, ``hedge``, ``hedger``, ``oracle``, ``vol``: the fields of ``RiskParams``,
  ``ExposureLimits``, ``HedgeParams``, ``HedgerParams`` (``kind``: ``aave`` or ``spot``), ``OracleParams``,
  ``VolParams`` (integers in the unit their name says; a string such as
  ``"1.2e18"`` is read exactly). The ``vol`` fields are checked against the volatility oracle's hard bounds
  (``VolParams.hard_bounds``) before anything is sent.
* ``portfolio``: the portfolio stack (``hedgevault.portfolio.config.PortfolioConfig``): ``enabled`` (deploy it
  beside the option vault by default), ``name``, ``symbol``, ``assets`` (a list of ``symbol``, ``decimals``,
  ``price_wad``, ``vol_bp``, ``pool_value_quote``, or ``token``/``feed``/``pool`` addresses of an existing
  asset), ``correlations_bp``, ``feed_decimals``, ``pool_fee``, ``keepers``, ``guardians`` and the tables
  ``cov`` (``CovParams``), ``rules`` (``mode``: target-vol, risk-parity or min-variance; the volatility band,
  weight bounds, budgets, tolerance) and ``rebalance`` (``RebalanceParams``). Nested keys may be set with
  ``--set portfolio.rules.min_vol_wad=0.15e18``. Everything is checked against the bounds the contracts
  enforce before anything is sent (``PortfolioConfig.problems``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from web3 import Web3

from hedgevault.deployment.errors import DeployConfigError
from hedgevault.params import PARAM_SECTIONS, SuiteConfig
from hedgevault.portfolio.config import MODES, AssetConfig, PortfolioConfig, RebalanceParams, RulesConfig
from hedgevault.portfolio.mirror import CovParams
from hedgevault.uniswap import TICK_SPACING

_LOCAL_KEYS = (
    "quote_decimals",
    "underlying_decimals",
    "feed_decimals",
    "spot_wad",
    "pool_fee",
    "pool_underlying",
    "with_sequencer_feed",
)
#: The timelock's default delay (24 h) and the floor ``HedgevaultTimelock`` enforces (1 h, its
#: ``MINIMUM_DELAY_SEC``), both in seconds.
DEFAULT_TIMELOCK_DELAY_SEC = 86_400
MINIMUM_TIMELOCK_DELAY_SEC = 3_600
_INFRA_REQUIRED = ("quote", "underlying", "feed", "uniswap_factory", "swap_router", "position_manager", "pool")
_INFRA_KEYS = (*_INFRA_REQUIRED, "sequencer_feed", "aave_addresses_provider")
_PORTFOLIO_KEYS = (
    "enabled",
    "name",
    "symbol",
    "assets",
    "correlations_bp",
    "feed_decimals",
    "pool_fee",
    "cov",
    "rules",
    "rebalance",
    "keepers",
    "guardians",
)
_ASSET_KEYS = tuple(f.name for f in dataclasses.fields(AssetConfig))
_SECTIONS: dict[str, tuple[str, ...]] = {
    "vault": ("name", "symbol", "fee_recipient"),
    "roles": ("admin", "guardians", "listers", "vol_updaters"),
    "governance": ("timelock_delay_sec", "proposers", "executors"),
    "local": _LOCAL_KEYS,
    "infrastructure": _INFRA_KEYS,
    **{name: tuple(f.name for f in dataclasses.fields(cls)) for name, cls in PARAM_SECTIONS.items()},
    "portfolio": _PORTFOLIO_KEYS,
}


class _YamlLoader(yaml.SafeLoader):
    """YAML that keeps ``0x...`` scalars as written (addresses) instead of reading hexadecimal integers."""


def _int_or_hex_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    text = str(loader.construct_scalar(node))
    if text.lstrip("+-").lower().startswith("0x"):
        return text
    return int(yaml.SafeLoader.construct_yaml_int(loader, node))


_YamlLoader.add_constructor("tag:yaml.org,2002:int", _int_or_hex_text)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader subclass: safe


@dataclass(frozen=True)
class InfrastructureConfig:
    """Addresses of infrastructure that already exists (checksummed)."""

    quote: str
    underlying: str
    feed: str
    uniswap_factory: str
    swap_router: str
    position_manager: str
    pool: str
    sequencer_feed: str | None = None
    #: An Aave v3 market's PoolAddressesProvider (the rest of the market is read from it).
    aave_addresses_provider: str | None = None


@dataclass(frozen=True)
class RolesConfig:
    """Role holders; ``None`` means the default (the deployer for ``admin``, ``[admin]`` for the others)."""

    admin: str | None = None
    guardians: tuple[str, ...] | None = None
    listers: tuple[str, ...] | None = None
    vol_updaters: tuple[str, ...] | None = None

    def resolve(self, deployer: str) -> dict[str, Any]:
        """The role holders as recorded in the manifest."""
        admin = self.admin or deployer
        return {
            "admin": admin,
            "guardians": list(self.guardians if self.guardians is not None else (admin,)),
            "listers": list(self.listers if self.listers is not None else (admin,)),
            "vol_updaters": list(self.vol_updaters if self.vol_updaters is not None else (admin,)),
        }


@dataclass(frozen=True)
class GovernanceConfig:
    """The timelock that holds ``DEFAULT_ADMIN_ROLE`` of the suite's access-controlled contracts.

    ``timelock_delay_sec=None`` deploys no timelock (``roles.admin`` then holds the admin role directly):
    what ``hedgevault.suite.deploy_suite`` does by default for the tests; ``hedgevault deploy`` always
    deploys one. ``proposers`` / ``executors`` default to ``[roles.admin]`` (the deployer by default).
    """

    timelock_delay_sec: int | None = DEFAULT_TIMELOCK_DELAY_SEC
    proposers: tuple[str, ...] | None = None
    executors: tuple[str, ...] | None = None

    def resolve(self, operator: str) -> dict[str, Any] | None:
        """The timelock's parameters as recorded in the manifest (None: no timelock)."""
        if self.timelock_delay_sec is None:
            return None
        return {
            "timelock_delay_sec": self.timelock_delay_sec,
            "proposers": list(self.proposers if self.proposers is not None else (operator,)),
            "executors": list(self.executors if self.executors is not None else (operator,)),
        }


def check_timelock_delay(delay_sec: int, what: str) -> None:
    """``DeployConfigError`` unless ``delay_sec`` is at least the contract's 1 h floor."""
    if delay_sec < MINIMUM_TIMELOCK_DELAY_SEC:
        raise DeployConfigError(
            f"{what}: {delay_sec} s is below the timelock's hard minimum of {MINIMUM_TIMELOCK_DELAY_SEC} s (1 h); "
            f"depositors need time to see a queued change and leave (default {DEFAULT_TIMELOCK_DELAY_SEC} s = 24 h)"
        )


@dataclass(frozen=True)
class DeployConfig:
    """Everything ``hedgevault deploy`` needs besides the chain and the key."""

    suite: SuiteConfig = field(default_factory=SuiteConfig)
    vault_name: str = "hedgevault option vault"
    vault_symbol: str = "hvOPT"
    fee_recipient: str | None = None
    roles: RolesConfig = field(default_factory=RolesConfig)
    governance: GovernanceConfig = field(default_factory=GovernanceConfig)
    infrastructure: InfrastructureConfig | None = None
    #: ``local`` keys given explicitly (refused together with ``infrastructure``).
    local_keys_given: frozenset[str] = frozenset()
    #: The portfolio stack (deployed with ``--stack portfolio|both``, or by default when ``enabled``).
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw sections of a ``.yaml``/``.yml`` or ``.toml`` file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise DeployConfigError(f"cannot read the deployment config {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = _yaml(text) or {}
        else:
            raise DeployConfigError(f"deployment config {path}: use a .yaml, .yml or .toml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise DeployConfigError(f"deployment config {path} does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise DeployConfigError(f"deployment config {path}: expected sections ({', '.join(_SECTIONS)}) at the top")
    return data


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``--set section.key=value`` flags on top of the file's values (values parsed as YAML scalars)."""
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise DeployConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. --set risk.spread_bps=150")
        try:
            parsed = _yaml(value) if value.strip() else None
        except yaml.YAMLError:
            parsed = value
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise DeployConfigError(f"--set {item!r}: section {section!r} is not a table in the config file")
        target[name] = parsed
    return merged


def load_deploy_config(path: Path | None = None, overrides: Sequence[str] = ()) -> DeployConfig:
    """The config from ``path`` (optional) and ``overrides``; ``DeployConfigError`` naming what is wrong."""
    raw = read_config_file(path) if path is not None else {}
    where = str(path) if path is not None else "--set"
    return build_config(apply_overrides(raw, overrides), where)


def build_config(raw: dict[str, Any], where: str = "config") -> DeployConfig:
    """Validate the raw sections and build a ``DeployConfig``."""
    raw = {section: {} if values is None else values for section, values in raw.items()}  # a section of comments
    if isinstance(raw.get("portfolio"), dict):
        raw["portfolio"] = _nest_dotted(raw["portfolio"])
    for section, values in raw.items():
        if section not in _SECTIONS:
            raise DeployConfigError(f"{where}: unknown section {section!r}; the sections are {', '.join(_SECTIONS)}")
        if not isinstance(values, dict):
            raise DeployConfigError(f"{where}: section {section!r} must be a table of keys")
        for key in values:
            if key not in _SECTIONS[section]:
                raise DeployConfigError(
                    f"{where}: unknown key {section}.{key}; {section} takes {', '.join(_SECTIONS[section])}"
                )
    try:
        params = {
            name: cls(
                **{
                    k: _str(v, f"{name}.{k}") if k == "kind" else _int(v, f"{name}.{k}")
                    for k, v in raw.get(name, {}).items()
                }
            )
            for name, cls in PARAM_SECTIONS.items()
        }
    except ValueError as exc:
        raise DeployConfigError(f"{where}: {exc}") from None
    local = raw.get("local", {})
    local_values: dict[str, Any] = {
        k: (_bool(v, f"local.{k}") if k == "with_sequencer_feed" else _int(v, f"local.{k}")) for k, v in local.items()
    }
    suite = SuiteConfig(**local_values, **params)
    from hedgevault.bounds import out_of_bounds

    bound_errors = out_of_bounds(suite)
    if bound_errors:
        raise DeployConfigError(
            f"{where}: {'; '.join(bound_errors)} (the contracts' hard bounds: they would refuse it, so nothing "
            "was sent): change the value"
        )
    if suite.pool_fee not in TICK_SPACING:
        raise DeployConfigError(
            f"{where}: local.pool_fee {suite.pool_fee} is not a Uniswap V3 fee tier we can create; use one of "
            f"{', '.join(str(f) for f in sorted(TICK_SPACING))} (pips: 3000 is 0.3%)"
        )
    vault = raw.get("vault", {})
    roles = raw.get("roles", {})
    governance = raw.get("governance", {})
    delay_sec = _int(governance.get("timelock_delay_sec", DEFAULT_TIMELOCK_DELAY_SEC), "governance.timelock_delay_sec")
    check_timelock_delay(delay_sec, f"{where}: governance.timelock_delay_sec")
    for key in ("proposers", "executors"):
        if governance.get(key) == []:
            raise DeployConfigError(
                f"{where}: governance.{key} is empty: nobody could {'queue' if key == 'proposers' else 'execute'} "
                "admin changes, so the suite's parameters could never change again; name at least one address"
            )
    infra_raw = raw.get("infrastructure")
    infrastructure = None
    if infra_raw:
        missing = [k for k in _INFRA_REQUIRED if not infra_raw.get(k)]
        if missing:
            raise DeployConfigError(
                f"{where}: infrastructure is missing {', '.join(missing)}; give every address of what exists on "
                "the chain, or leave the section out on a dev chain to deploy mocks and Uniswap V3"
            )
        if local:
            raise DeployConfigError(
                f"{where}: local.{', local.'.join(local)} only applies when the infrastructure is deployed; with "
                "an infrastructure section the decimals and pool fee are read from the chain: remove them"
            )
        infrastructure = InfrastructureConfig(
            **{k: _address(v, f"infrastructure.{k}") for k, v in infra_raw.items() if v is not None}
        )
    return DeployConfig(
        suite=suite,
        vault_name=_str(vault.get("name", DeployConfig.vault_name), "vault.name"),
        vault_symbol=_str(vault.get("symbol", DeployConfig.vault_symbol), "vault.symbol"),
        fee_recipient=None
        if vault.get("fee_recipient") is None
        else _address(vault["fee_recipient"], "vault.fee_recipient"),
        roles=RolesConfig(
            admin=None if roles.get("admin") is None else _address(roles["admin"], "roles.admin"),
            guardians=_addresses(roles.get("guardians"), "roles.guardians"),
            listers=_addresses(roles.get("listers"), "roles.listers"),
            vol_updaters=_addresses(roles.get("vol_updaters"), "roles.vol_updaters"),
        ),
        governance=GovernanceConfig(
            timelock_delay_sec=delay_sec,
            proposers=_addresses(governance.get("proposers"), "governance.proposers"),
            executors=_addresses(governance.get("executors"), "governance.executors"),
        ),
        infrastructure=infrastructure,
        local_keys_given=frozenset(local),
        portfolio=_portfolio(raw.get("portfolio", {}), where),
    )


def _nest_dotted(section: dict[str, Any]) -> dict[str, Any]:
    """``{"rules.min_vol_wad": v}`` (a ``--set portfolio.rules.min_vol_wad=v``) -> ``{"rules": {"min_vol_wad": v}}``."""
    out: dict[str, Any] = {}
    for key, value in section.items():
        head, dot, rest = str(key).partition(".")
        if not dot:
            out[key] = value
            continue
        inner = out.setdefault(head, {})
        if not isinstance(inner, dict):
            raise DeployConfigError(f"--set portfolio.{key}: portfolio.{head} is not a table")
        inner[rest] = value
    return out


def _table(value: Any, what: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeployConfigError(f"{what}: expected a table of keys ({', '.join(allowed)})")
    for key in value:
        if key not in allowed:
            raise DeployConfigError(f"unknown key {what}.{key}; {what} takes {', '.join(allowed)}")
    return value


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        value = [value]
    return tuple(_int(v, f"{what}[{i}]") for i, v in enumerate(value))


def _portfolio(raw: dict[str, Any], where: str) -> PortfolioConfig:
    """The ``portfolio`` section, checked against the contracts' bounds (``PortfolioConfig.problems``)."""
    defaults = PortfolioConfig()
    values: dict[str, Any] = {}
    if "enabled" in raw:
        values["enabled"] = _bool(raw["enabled"], "portfolio.enabled")
    for key in ("name", "symbol"):
        if key in raw:
            values[key] = _str(raw[key], f"portfolio.{key}")
    for key in ("feed_decimals", "pool_fee"):
        if key in raw:
            values[key] = _int(raw[key], f"portfolio.{key}")
    if "correlations_bp" in raw:
        values["correlations_bp"] = _ints(raw["correlations_bp"], "portfolio.correlations_bp")
    for key in ("keepers", "guardians"):
        if key in raw:
            values[key] = _addresses(raw[key], f"portfolio.{key}")
    if "assets" in raw:
        if not isinstance(raw["assets"], list) or not raw["assets"]:
            raise DeployConfigError(f"{where}: portfolio.assets must be a non-empty list of assets (symbol, ...)")
        assets = []
        for i, item in enumerate(raw["assets"]):
            what = f"portfolio.assets[{i}]"
            item = _table(item, what, _ASSET_KEYS)
            if "symbol" not in item:
                raise DeployConfigError(f"{where}: {what} needs a symbol")
            fields: dict[str, Any] = {"symbol": _str(item["symbol"], f"{what}.symbol")}
            for key in ("decimals", "price_wad", "vol_bp", "pool_value_quote"):
                if key in item:
                    fields[key] = _int(item[key], f"{what}.{key}")
            for key in ("token", "feed", "pool"):
                if item.get(key) is not None:
                    fields[key] = _address(item[key], f"{what}.{key}")
            assets.append(AssetConfig(**fields))
        values["assets"] = tuple(assets)
        if "correlations_bp" not in raw and len(assets) != len(defaults.assets):
            raise DeployConfigError(
                f"{where}: portfolio.correlations_bp is needed for {len(assets)} assets (the default has "
                f"{len(defaults.assets)}): one value for every pair, or one per pair (0,1), (0,2), ..."
            )
    cov = _table(raw.get("cov"), "portfolio.cov", tuple(f.name for f in dataclasses.fields(CovParams)))
    if cov:
        values["cov"] = dataclasses.replace(defaults.cov, **{k: _int(v, f"portfolio.cov.{k}") for k, v in cov.items()})
    rules_keys = tuple(f.name for f in dataclasses.fields(RulesConfig))
    rules = _table(raw.get("rules"), "portfolio.rules", rules_keys)
    if rules:
        fields = {}
        for k, v in rules.items():
            if k == "mode":
                if v not in MODES:
                    raise DeployConfigError(f"{where}: portfolio.rules.mode {v!r}: use one of {', '.join(MODES)}")
                fields[k] = v
            elif k in ("min_weight_wad", "max_weight_wad", "budget_wad"):
                fields[k] = _ints(v, f"portfolio.rules.{k}")
            else:
                fields[k] = _int(v, f"portfolio.rules.{k}")
        values["rules"] = dataclasses.replace(defaults.rules, **fields)
    rebalance_keys = tuple(f.name for f in dataclasses.fields(RebalanceParams))
    rebalance = _table(raw.get("rebalance"), "portfolio.rebalance", rebalance_keys)
    if rebalance:
        values["rebalance"] = RebalanceParams(**{k: _int(v, f"portfolio.rebalance.{k}") for k, v in rebalance.items()})
    config = dataclasses.replace(defaults, **values)
    problems = config.problems()
    if problems:
        raise DeployConfigError(f"{where}: " + "; ".join(problems))
    return config


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise DeployConfigError(f"{what}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise DeployConfigError(
            f"{what}: got the float {value!r}; write an integer in the unit of the name (wad = 1e18), or a "
            f'string read exactly, e.g. "1.2e18"'
        )
    if isinstance(value, str):
        try:
            number = Decimal(value.replace("_", "").strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    raise DeployConfigError(f'{what}: expected an integer (e.g. 1200000000000000000 or "1.2e18"), got {value!r}')


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise DeployConfigError(f"{what}: expected true or false, got {value!r}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise DeployConfigError(f"{what}: expected a non-empty string, got {value!r}")
    return value


def _address(value: Any, what: str) -> str:
    if not isinstance(value, str) or not Web3.is_address(value):
        raise DeployConfigError(f"{what}: {value!r} is not an address (0x followed by 40 hex digits)")
    if value != value.lower() and not Web3.is_checksum_address(value):
        raise DeployConfigError(f"{what}: {value} has a wrong checksum (mixed case); check for a typo")
    return str(Web3.to_checksum_address(value))


def _addresses(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise DeployConfigError(f"{what}: expected a list of addresses, got {value!r}")
    return tuple(_address(v, f"{what}[{i}]") for i, v in enumerate(value))
