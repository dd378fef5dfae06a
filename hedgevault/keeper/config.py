"""Keeper configuration: a TOML or YAML file plus command-line overrides, validated into frozen
dataclasses. Every mistake is a ``KeeperConfigError`` that says what is wrong and how to fix it.

Units: fees in wei per gas (the file may write ``"30 gwei"``), times in seconds, blocks as counts.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from web3 import Web3

from hedgevault.errors import HedgevaultError
from hedgevault.keeper.portfolio import PortfolioTaskConfig, PortfolioTaskConfigError
from hedgevault.keys import DEFAULT_KEY_ENV, DEFAULT_PASSWORD_ENV
from hedgevault.toolchain.paths import PROJECT_ROOT

GWEI = 10**9
_FEE_UNITS = {"wei": 0, "gwei": 9, "ether": 18, "eth": 18}
_LOG_LEVELS = ("debug", "info", "warning")
#: The most hedge upkeeps a pass may send per vault: each is one slice, and a slice that stopped at the
#: price limit leaves nothing for the next until arbitrage moves the pool, so more would only wait.
MAX_HEDGES_PER_PASS = 10


class KeeperConfigError(HedgevaultError):
    """The keeper's configuration cannot be used as it is."""


def _checksum(value: object, where: str) -> str:
    if not isinstance(value, str) or not Web3.is_address(value):
        raise KeeperConfigError(f"{where}: {value!r} is not an address (write it as 0x followed by 40 hex digits)")
    return str(Web3.to_checksum_address(value))


@dataclass(frozen=True)
class VaultConfig:
    """One vault to keep: its address and a short name used in logs and metric labels."""

    address: str
    name: str = ""

    def __post_init__(self) -> None:
        address = _checksum(self.address, "vault address")
        object.__setattr__(self, "address", address)
        if not self.name:
            object.__setattr__(self, "name", address[:10])


@dataclass(frozen=True, kw_only=True)
class KeeperConfig:
    """What the keeper does and how. Defaults are the documented values of ``docs/keeper.md``.

    * ``rpc_url``: the node (the CLI needs it; an in-process ``Keeper`` uses the ``Web3`` it is given).
    * ``vaults``: the option vaults to keep (no duplicates).
    * ``portfolios``: the portfolio vaults to keep (``PortfolioTaskConfig``: covariance and target posts on a
      schedule, rebalancing slices); at least one vault or portfolio in all.
    * ``chain_id``: when set, refuse to run against another chain.
    * ``poll_interval_sec``: how often the loop looks for a new block.
    * ``stuck_blocks``: a transaction not mined after this many blocks is replaced (same nonce, fees +12.5%).
    * ``max_hedges_per_pass``: hedge upkeeps one pass may land per vault: after a hedge that landed, while
      ``checkUpkeep`` still asks for a hedge (a gap larger than one slice), the keeper sends another, up to
      this many in all (1: one per pass).
    * ``max_fee_per_gas_wei``: the fee cap; ``priority_fee_wei``: the tip.
    * ``gas_margin_bps``: added to each gas estimate.
    * ``metrics_port``: Prometheus endpoint port (None: off). ``metrics_host``: its address.
    * ``dry_run``: check and simulate, log what would be sent, never send.
    * ``local_oracles``: also post feed and volatility updates (local chains: the pool's TWAP, current vols).
    * ``feed_address`` / ``vol_oracle_address``: the oracles to post to (default: read from the vaults).
    * ``quotes_file``: option quotes (JSON or CSV, ``hedgevault.surface.fit.load_quotes``) to fit and post one
      SVI slice per quoted expiry from (``keeper.oracles.SurfacePoster``); None: flat vols only.
    * ``keystore`` / ``key_env`` / ``password_env``: where the signing key comes from (never the repository).
    * ``backoff_initial_sec`` / ``backoff_max_sec``: retry delays while the node is unreachable.
    * ``log_file`` (None: stdout) and ``log_level``: JSON-lines logs.
    """

    rpc_url: str | None = None
    vaults: Sequence[VaultConfig] = ()
    portfolios: Sequence[PortfolioTaskConfig] = ()
    chain_id: int | None = None
    poll_interval_sec: float = 1.0
    stuck_blocks: int = 3
    max_hedges_per_pass: int = 3
    max_fee_per_gas_wei: int = 100 * GWEI
    priority_fee_wei: int = 1 * GWEI
    gas_margin_bps: int = 2500
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    dry_run: bool = False
    local_oracles: bool = False
    feed_address: str | None = None
    vol_oracle_address: str | None = None
    quotes_file: Path | None = None
    keystore: Path | None = None
    key_env: str = DEFAULT_KEY_ENV
    password_env: str = DEFAULT_PASSWORD_ENV
    backoff_initial_sec: float = 0.5
    backoff_max_sec: float = 10.0
    log_file: Path | None = None
    log_level: str = "info"

    def __post_init__(self) -> None:
        vaults = tuple(self.vaults)
        object.__setattr__(self, "vaults", vaults)
        portfolios = tuple(self.portfolios)
        object.__setattr__(self, "portfolios", portfolios)
        if not vaults and not portfolios:
            raise KeeperConfigError(
                'no vaults to keep: add [[vaults]] entries (address = "0x...", name = "...") or [[portfolios]] '
                "entries to the config file, or pass --vault ADDRESS / --portfolio ADDRESS"
            )
        seen: set[str] = set()
        names: set[str] = set()
        keeps: tuple[VaultConfig | PortfolioTaskConfig, ...] = (*vaults, *portfolios)
        for vault in keeps:
            if vault.address in seen:
                raise KeeperConfigError(f"vault {vault.address} is listed twice: keep one entry")
            if vault.name in names:
                raise KeeperConfigError(
                    f"two vaults are named {vault.name!r}: names label logs and metrics, make them unique"
                )
            seen.add(vault.address)
            names.add(vault.name)
        if self.rpc_url is not None and not self.rpc_url.startswith(("http://", "https://")):
            raise KeeperConfigError(f"rpc_url {self.rpc_url!r} must be an http:// or https:// URL")
        _positive("poll_interval_sec", self.poll_interval_sec)
        _positive("backoff_initial_sec", self.backoff_initial_sec)
        if self.backoff_max_sec < self.backoff_initial_sec:
            raise KeeperConfigError("backoff_max_sec must be at least backoff_initial_sec")
        if self.stuck_blocks < 1:
            raise KeeperConfigError(
                f"stuck_blocks must be 1 or more (blocks before a replacement), got {self.stuck_blocks}"
            )
        if not 1 <= self.max_hedges_per_pass <= MAX_HEDGES_PER_PASS:
            raise KeeperConfigError(
                f"max_hedges_per_pass must be 1..{MAX_HEDGES_PER_PASS} (hedge upkeeps per vault in one pass), "
                f"got {self.max_hedges_per_pass}"
            )
        if self.max_fee_per_gas_wei <= 0:
            raise KeeperConfigError('max_fee_per_gas must be positive, e.g. "50 gwei"')
        if not 0 <= self.priority_fee_wei <= self.max_fee_per_gas_wei:
            raise KeeperConfigError(
                f"priority_fee ({self.priority_fee_wei} wei) must be between 0 and max_fee_per_gas "
                f"({self.max_fee_per_gas_wei} wei)"
            )
        if not 0 <= self.gas_margin_bps <= 50_000:
            raise KeeperConfigError(f"gas_margin_bps must be in 0..50000 (0% to 500%), got {self.gas_margin_bps}")
        if self.metrics_port is not None and not 1 <= self.metrics_port <= 65535:
            raise KeeperConfigError(f"metrics_port must be a TCP port 1..65535, got {self.metrics_port}")
        if self.chain_id is not None and self.chain_id <= 0:
            raise KeeperConfigError(f"chain_id must be positive, got {self.chain_id}")
        for name in ("feed_address", "vol_oracle_address"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _checksum(value, name))
        if self.log_level not in _LOG_LEVELS:
            raise KeeperConfigError(f"log_level must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}")
        if self.keystore is not None:
            keystore = Path(self.keystore).expanduser()
            if keystore.resolve().is_relative_to(PROJECT_ROOT):
                raise KeeperConfigError(
                    f"keystore {keystore} is inside the repository ({PROJECT_ROOT}): move it outside the checkout "
                    "(e.g. ~/.hedgevault/keeper.json) so it can never be committed"
                )
            object.__setattr__(self, "keystore", keystore)
        for name in ("key_env", "password_env"):
            value = getattr(self, name)
            if not value or not value.replace("_", "").isalnum():
                raise KeeperConfigError(f"{name} must name an environment variable, got {value!r}")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise KeeperConfigError(f"{name} must be a positive number of seconds, got {value}")


def parse_fee(value: object, where: str) -> int:
    """A fee in wei per gas: an integer (wei) or a string "<number> <wei|gwei|ether>", e.g. "1.5 gwei"."""
    if isinstance(value, bool):
        raise KeeperConfigError(f'{where}: {value!r} is not a fee; write e.g. "30 gwei" or 30000000000')
    if isinstance(value, int):
        if value < 0:
            raise KeeperConfigError(f"{where}: a fee cannot be negative ({value})")
        return value
    if isinstance(value, str):
        parts = value.strip().split()
        unit = parts[1].lower() if len(parts) == 2 else "wei"
        if len(parts) in (1, 2) and unit in _FEE_UNITS:
            try:
                scaled = Decimal(parts[0]).scaleb(_FEE_UNITS[unit])
            except InvalidOperation:
                scaled = Decimal(-1)
            if scaled.is_finite() and scaled >= 0 and scaled == scaled.to_integral_value():
                return int(scaled)
    raise KeeperConfigError(
        f'{where}: {value!r} is not a fee; write an amount and a unit (wei, gwei, ether), e.g. "30 gwei"'
    )


#: File keys (and override names) -> KeeperConfig field.
_KEYS = {
    "rpc_url": "rpc_url",
    "vaults": "vaults",
    "portfolios": "portfolios",
    "chain_id": "chain_id",
    "poll_interval_sec": "poll_interval_sec",
    "stuck_blocks": "stuck_blocks",
    "max_hedges_per_pass": "max_hedges_per_pass",
    "max_fee_per_gas": "max_fee_per_gas_wei",
    "priority_fee": "priority_fee_wei",
    "gas_margin_bps": "gas_margin_bps",
    "metrics_port": "metrics_port",
    "metrics_host": "metrics_host",
    "dry_run": "dry_run",
    "local_oracles": "local_oracles",
    "feed_address": "feed_address",
    "vol_oracle_address": "vol_oracle_address",
    "quotes_file": "quotes_file",
    "keystore": "keystore",
    "key_env": "key_env",
    "password_env": "password_env",
    "backoff_initial_sec": "backoff_initial_sec",
    "backoff_max_sec": "backoff_max_sec",
    "log_file": "log_file",
    "log_level": "log_level",
}
_SECRET_KEYS = {"private_key", "privatekey", "key", "secret", "mnemonic", "password", "keystore_password"}


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise KeeperConfigError(f"config file {path} does not exist (see examples/keeper.toml for one to copy)")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            data: object = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise KeeperConfigError(f"config file {path} must end in .toml, .yaml or .yml")
    except tomllib.TOMLDecodeError as exc:
        raise KeeperConfigError(f"{path} is not valid TOML: {exc}") from None
    except yaml.YAMLError as exc:
        raise KeeperConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise KeeperConfigError(f"{path} must hold a table of settings (key = value), not {type(data).__name__}")
    return data


def _typed(key: str, value: object, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        kinds = {int: "whole number", float: "number", bool: "true or false", str: "string"}
        raise KeeperConfigError(f"{where}: {key} must be a {kinds.get(kind, kind.__name__)}, got {value!r}")
    return value


def _vaults(value: object, where: str) -> tuple[VaultConfig, ...]:
    if not isinstance(value, list):
        raise KeeperConfigError(f"{where}: vaults must be a list of {{address, name}} tables ([[vaults]] in TOML)")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, VaultConfig):
            out.append(item)
            continue
        if not isinstance(item, dict):
            raise KeeperConfigError(f"{where}: vaults[{i}] must be a table with address and name, got {item!r}")
        unknown = set(item) - {"address", "name"}
        if unknown:
            raise KeeperConfigError(f"{where}: vaults[{i}] has unknown keys {sorted(unknown)}; it takes address, name")
        if "address" not in item:
            raise KeeperConfigError(f"{where}: vaults[{i}] needs an address")
        out.append(VaultConfig(_checksum(item["address"], f"{where}: vaults[{i}].address"), str(item.get("name", ""))))
    return tuple(out)


_PORTFOLIO_KEYS = tuple(f.name for f in dataclasses.fields(PortfolioTaskConfig))


def _portfolios(value: object, where: str) -> tuple[PortfolioTaskConfig, ...]:
    if not isinstance(value, list):
        raise KeeperConfigError(f"{where}: portfolios must be a list of tables ([[portfolios]] in TOML)")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, PortfolioTaskConfig):
            out.append(item)
            continue
        if not isinstance(item, dict) or "address" not in item:
            raise KeeperConfigError(f"{where}: portfolios[{i}] must be a table with an address, got {item!r}")
        unknown = set(item) - set(_PORTFOLIO_KEYS)
        if unknown:
            raise KeeperConfigError(
                f"{where}: portfolios[{i}] has unknown keys {sorted(unknown)}; it takes {', '.join(_PORTFOLIO_KEYS)}"
            )
        try:
            out.append(PortfolioTaskConfig(**item))
        except (PortfolioTaskConfigError, TypeError) as exc:
            raise KeeperConfigError(f"{where}: portfolios[{i}]: {exc}") from None
    return tuple(out)


def _convert(key: str, value: object, where: str) -> Any:
    """One file or override value -> the KeeperConfig field's type."""
    if value is None and key in (
        "chain_id",
        "metrics_port",
        "feed_address",
        "vol_oracle_address",
        "keystore",
        "quotes_file",
    ):
        return None
    if key == "vaults":
        return _vaults(value, where)
    if key == "portfolios":
        return _portfolios(value, where)
    if key in ("max_fee_per_gas", "priority_fee"):
        return parse_fee(value, f"{where}: {key}")
    if key in ("chain_id", "stuck_blocks", "max_hedges_per_pass", "gas_margin_bps", "metrics_port"):
        return _typed(key, value, int, where)
    if key in ("poll_interval_sec", "backoff_initial_sec", "backoff_max_sec"):
        return _typed(key, value, float, where)
    if key in ("dry_run", "local_oracles"):
        return _typed(key, value, bool, where)
    if key in ("keystore", "log_file", "quotes_file"):
        if isinstance(value, Path):
            return value
        return Path(_typed(key, value, str, where)).expanduser()
    return _typed(key, value, str, where)


def _check_key(key: str, where: str) -> None:
    if key.lower() in _SECRET_KEYS:
        raise KeeperConfigError(
            f"{where}: {key!r} looks like a secret; keys never go in a config file: use an encrypted keystore "
            "(keystore = PATH outside the repository, password in the variable named by password_env) or the "
            "environment variable named by key_env (default HEDGEVAULT_PRIVATE_KEY)"
        )
    if key not in _KEYS:
        close = difflib.get_close_matches(key, list(_KEYS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise KeeperConfigError(f"{where}: unknown setting {key!r}; {hint}valid settings: {', '.join(_KEYS)}")


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> KeeperConfig:
    """Read ``path`` (TOML or YAML; None: no file), apply ``overrides`` (same names as the file's keys,
    None values ignored: flags that were not given), validate. Raises ``KeeperConfigError``."""
    values: dict[str, Any] = {}
    if path is not None:
        where = str(path)
        for key, value in _read_file(path).items():
            _check_key(str(key), where)
            values[_KEYS[str(key)]] = _convert(str(key), value, where)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        _check_key(key, "command line")
        values[_KEYS[key]] = _convert(key, value, "command line")
    return KeeperConfig(**values)
