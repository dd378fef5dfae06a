"""The deployment manifest: what is deployed where, with which code and parameters, on which chain.

One JSON file per chain (``deployments/<chain id>.json``; dev chains under ``deployments/local/``)::

    {
      "format": 1,
      "chain": {"chain_id": 31337, "genesis_hash": "0x..."},
      "deployer": "0x...",
      "infrastructure": {
        "origin": "deployed" | "external",
        "source": null | "config" | "<path of the infrastructure manifest>",
        "parameters": {"quote_decimals": 6, "underlying_decimals": 18, "feed_decimals": 8, "pool_fee": 3000, ...},
        "contracts": {"quote": CONTRACT, "underlying": ..., "feed": ..., "uniswap_factory": ..., "swap_router": ...,
                      "position_manager": ..., "pool": ..., "aave_addresses_provider": ..., "aave_pool": ..., ...}
      },
      "vault_stack": null | {
        "parameters": {"vault_name": ..., "vault_symbol": ..., "fee_recipient": "0x...",
                       "risk": {...}, "limits": {...}, "hedge": {...}, "oracle": {...}, "vol": {...}},
        "roles": {"admin": "0x...", "guardians": [...], "listers": [...], "vol_updaters": [...]},
        "contracts": {"price_oracle": ..., "vol_oracle": ..., "pricer": ..., "hedge_library": ...,
                      "book_library": ..., "option_token": ...,
                      "vault": ...}
      },
      "governance": null | {
        "parameters": {"timelock_delay_sec": 86400, "proposers": [...], "executors": [...]},
        "contracts": {"timelock": CONTRACT}
      },
      "portfolio": null | {
        "parameters": {"name": ..., "symbol": ..., "assets": [...], "cov": {...}, "rules": {...}, "rebalance": {...},
                       ...} (hedgevault.portfolio.config.PortfolioConfig.to_json),
        "roles": {"admin": "0x...", "keepers": [...], "guardians": [...]},
        "contracts": {"token:<SYMBOL>": ..., "feed:<SYMBOL>": ..., "pool:<SYMBOL>": ..., "price_oracle:<SYMBOL>": ...
                      (per asset), "cov_oracle": ..., "engine": ..., "vault": ...}
      }
    }

where CONTRACT is ``{"address", "artifact", "code_hash" (keccak of eth_getCode), "init_code_hash" (keccak of the
creation code without constructor arguments, null for contracts not deployed by us), "tx_hash", "block"}``.
Parameter names are the ``hedgevault.suite`` dataclass fields, with their units (``_wad`` 1e18 fixed point,
``_bps``, ``_sec``); integers are JSON numbers (exact in Python; read them as big integers elsewhere).

The infrastructure's ``aave_*`` keys are the Aave v3 market (``AAVE_KEYS``): deployed by us, every library,
implementation, proxy, feed and reserve token, and ``parameters.aave`` (``hedgevault.aave.AaveParams``); attached
by its provider's address, the provider and what it points at (``AAVE_CORE_KEYS``).

``governance`` records the timelock that holds ``DEFAULT_ADMIN_ROLE`` of the vault and the oracles (null
or absent: no timelock; ``roles.admin`` holds the admin role then).

The genesis block hash tells two chains with the same id apart (every fresh Anvil is chain 31337 with a
new genesis hash).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.chain.rpc import Rpc, RpcError
from hedgevault.deployment.errors import ManifestError, WrongChainError
from hedgevault.keys import DEV_CHAIN_IDS
from hedgevault.toolchain.paths import PROJECT_ROOT

FORMAT = 1
#: Where manifests live by default.
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"

#: The Aave v3 market in the infrastructure section (``hedgevault.aave``).
#: The logic libraries in deployment order (manifest key -> artifact). FlashLoanLogic links BorrowLogic, so
#: BorrowLogic comes first; Pool links the first seven, PoolConfigurator links ConfiguratorLogic.
AAVE_LIBRARY_ARTIFACTS = {
    "aave_supply_logic": "SupplyLogic",
    "aave_borrow_logic": "BorrowLogic",
    "aave_liquidation_logic": "LiquidationLogic",
    "aave_emode_logic": "EModeLogic",
    "aave_bridge_logic": "BridgeLogic",
    "aave_pool_logic": "PoolLogic",
    "aave_flash_loan_logic": "FlashLoanLogic",
    "aave_configurator_logic": "ConfiguratorLogic",
}
#: Every manifest key a locally deployed market records (``AAVE_ROLES`` are the two reserves: underlying, quote).
AAVE_ROLES = ("underlying", "quote")
AAVE_KEYS = (
    *AAVE_LIBRARY_ARTIFACTS,
    "aave_addresses_provider",
    "aave_acl_manager",
    "aave_pool_impl",
    "aave_pool",
    "aave_pool_configurator_impl",
    "aave_pool_configurator",
    "aave_quote_feed",
    "aave_oracle",
    "aave_data_provider",
    "aave_a_token_impl",
    "aave_stable_debt_token_impl",
    "aave_variable_debt_token_impl",
    *(f"aave_rate_strategy_{role}" for role in AAVE_ROLES),
    *(
        f"aave_{token}_{role}"
        for role in AAVE_ROLES
        for token in ("a_token", "stable_debt_token", "variable_debt_token")
    ),
)
#: The keys an attached market records: the provider and what it points at.
AAVE_CORE_KEYS = (
    "aave_addresses_provider",
    "aave_pool",
    "aave_pool_configurator",
    "aave_acl_manager",
    "aave_oracle",
    "aave_data_provider",
)
INFRASTRUCTURE_KEYS = (
    "quote",
    "underlying",
    "feed",
    "sequencer_feed",
    "uniswap_factory",
    "swap_router",
    "position_manager",
    "pool",
    *AAVE_KEYS,
)
#: The vault stack's manifest keys and the compiled artifact each one is.
VAULT_STACK_ARTIFACTS = {
    "price_oracle": "PriceOracle",
    "vol_oracle": "VolatilityOracle",
    "pricer": "OptionPricer",
    "hedge_library": "HedgeExecution",
    #: ``AaveHedger`` or ``SpotHedger`` (``HedgerParams.kind``): the record's own artifact (``stack_artifact``)
    "hedger": "AaveHedger",
    "book_library": "BookMarking",
    "option_token": "OptionToken",
    "vault": "OptionVault",
}
VAULT_STACK_KEYS = tuple(VAULT_STACK_ARTIFACTS)


def stack_artifact(key: str, record: ContractRecord) -> str:
    """The artifact a vault-stack record binds to: the hedger's is the one it was deployed from."""
    return record.artifact if key == "hedger" else VAULT_STACK_ARTIFACTS[key]


#: The portfolio section's per-asset keys (``<kind>:<symbol>``) and its own contracts, with their artifacts
#: (an attached asset's token, feed and pool are recorded as ``external:<kind>``).
PORTFOLIO_ASSET_KINDS = ("token", "feed", "pool", "price_oracle")
PORTFOLIO_ARTIFACTS = {
    "token": "MockERC20",
    "feed": "MockAggregator",
    "pool": "UniswapV3Pool",
    "price_oracle": "PriceOracle",
    "cov_oracle": "CovarianceOracle",
    "engine": "PortfolioEngine",
    "vault": "PortfolioVault",
}


def portfolio_key_kind(key: str) -> str:
    """``token:tWETH`` -> ``token``; ``cov_oracle`` -> ``cov_oracle``; ``ValueError`` for another key."""
    kind, sep, symbol = key.partition(":")
    if (sep and kind in PORTFOLIO_ASSET_KINDS and symbol) or (not sep and kind in ("cov_oracle", "engine", "vault")):
        return kind
    raise ValueError(f"portfolio.contracts.{key} (expected <token|feed|pool|price_oracle>:<symbol>, cov_oracle, vault)")


#: The governance section's manifest keys and artifacts.
GOVERNANCE_ARTIFACTS = {"timelock": "HedgevaultTimelock"}


@dataclass(frozen=True)
class ChainIdentity:
    """A chain: its id and the hash of its block 0."""

    chain_id: int
    genesis_hash: str
    #: The parent chain's block this chain forks from, when the node is an Anvil fork (``anvil_nodeInfo``
    #: reports its fork configuration); a fork keeps its parent's chain id and genesis, so only this tells
    #: them apart.
    fork_block: int | None = field(default=None, compare=False)

    @classmethod
    def read(cls, w3: Web3) -> ChainIdentity:
        """The node's identity, in one batched round trip (block 0, chain id, Anvil's fork configuration)."""
        genesis, chain_id, node_info = Rpc(w3).batch(
            [("eth_getBlockByNumber", ["0x0", False]), ("eth_chainId", []), ("anvil_nodeInfo", [])]
        )
        for method, answer in (("eth_getBlockByNumber", genesis), ("eth_chainId", chain_id)):
            if "error" in answer or answer.get("result") is None:
                error = answer.get("error") or {"message": "no result"}
                raise RpcError(method, str(error.get("message", error) if isinstance(error, dict) else error))
        return cls(
            chain_id=int(str(chain_id["result"]), 16),
            genesis_hash=_hex(genesis["result"]["hash"]),
            fork_block=_fork_block_of(node_info.get("result")),
        )

    @property
    def parent(self) -> ChainIdentity:
        """The chain a fork was taken from (itself when not a fork)."""
        return ChainIdentity(self.chain_id, self.genesis_hash)

    @property
    def is_dev(self) -> bool:
        return self.chain_id in DEV_CHAIN_IDS

    def describe(self) -> str:
        return f"chain id {self.chain_id}, genesis {self.genesis_hash[:10]}..."


@dataclass
class ContractRecord:
    """One deployed (or configured) contract."""

    address: str
    artifact: str
    code_hash: str
    init_code_hash: str | None = None
    tx_hash: str | None = None
    block: int | None = None


@dataclass
class InfrastructureSection:
    """Tokens, feeds and Uniswap V3: deployed by us (``origin="deployed"``, local chains) or given
    (``"external"``: from the config or another manifest, as on a testnet)."""

    origin: str
    source: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    contracts: dict[str, ContractRecord] = field(default_factory=dict)


@dataclass
class VaultStackSection:
    """Oracles, pricer, swap library, option token and vault, with their parameters and roles."""

    parameters: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    contracts: dict[str, ContractRecord] = field(default_factory=dict)


@dataclass
class GovernanceSection:
    """The timelock (``contracts["timelock"]``) and the parameters it was deployed with."""

    parameters: dict[str, Any] = field(default_factory=dict)
    contracts: dict[str, ContractRecord] = field(default_factory=dict)

    @property
    def timelock_address(self) -> str | None:
        record = self.contracts.get("timelock")
        return None if record is None else record.address


@dataclass
class PortfolioSection:
    """The portfolio stack: its assets (deployed mocks or attached), their price oracles, the covariance
    oracle and the vault, with the parameters and role holders it was deployed with."""

    parameters: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    contracts: dict[str, ContractRecord] = field(default_factory=dict)


@dataclass
class Manifest:
    """A deployment on one chain (see the module docstring for the file format)."""

    chain: ChainIdentity
    deployer: str
    infrastructure: InfrastructureSection | None = None
    vault_stack: VaultStackSection | None = None
    governance: GovernanceSection | None = None
    portfolio: PortfolioSection | None = None

    @property
    def admin_holder(self) -> str | None:
        """Who must hold ``DEFAULT_ADMIN_ROLE`` of the vault and the oracles: the timelock when there is one,
        else ``roles.admin`` (None before the vault stack is recorded)."""
        if self.governance is not None:
            return self.governance.timelock_address
        return None if self.vault_stack is None else str(self.vault_stack.roles["admin"])

    def check_chain(self, identity: ChainIdentity, where: str) -> None:
        """Raise ``WrongChainError`` unless the manifest is for ``identity``."""
        if identity != self.chain:
            raise WrongChainError(
                f"{where} is for {self.chain.describe()} but the node is {identity.describe()}: the manifest "
                "belongs to another chain (an earlier Anvil, another network). Point --rpc-url at the chain it "
                "describes, or deploy anew with --fresh (replaces the manifest) or --manifest PATH (another file)"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "chain": {"chain_id": self.chain.chain_id, "genesis_hash": self.chain.genesis_hash},
            "deployer": self.deployer,
            "infrastructure": None
            if self.infrastructure is None
            else {
                "origin": self.infrastructure.origin,
                "source": self.infrastructure.source,
                "parameters": self.infrastructure.parameters,
                "contracts": {k: _record_json(r) for k, r in self.infrastructure.contracts.items()},
            },
            "vault_stack": None
            if self.vault_stack is None
            else {
                "parameters": self.vault_stack.parameters,
                "roles": self.vault_stack.roles,
                "contracts": {k: _record_json(r) for k, r in self.vault_stack.contracts.items()},
            },
            "governance": None
            if self.governance is None
            else {
                "parameters": self.governance.parameters,
                "contracts": {k: _record_json(r) for k, r in self.governance.contracts.items()},
            },
            "portfolio": None
            if self.portfolio is None
            else {
                "parameters": self.portfolio.parameters,
                "roles": self.portfolio.roles,
                "contracts": {k: _record_json(r) for k, r in self.portfolio.contracts.items()},
            },
        }


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return text if text.startswith("0x") else "0x" + text


def _record_json(record: ContractRecord) -> dict[str, Any]:
    return {
        "address": record.address,
        "artifact": record.artifact,
        "code_hash": record.code_hash,
        "init_code_hash": record.init_code_hash,
        "tx_hash": record.tx_hash,
        "block": record.block,
    }


#: The manifest's file mode: readable by all (addresses and parameters, no secrets), written by its owner.
MANIFEST_MODE = 0o644


def save_manifest(manifest: Manifest, path: Path) -> None:
    """Write ``manifest`` to ``path`` atomically: the whole text goes to a temporary file in the same folder,
    is flushed to the disk, and takes the manifest's name in one ``os.replace`` (a rename: readers see the old
    manifest or the new one, never part of one, whenever the process dies - killed, its pipe closed, the disk
    full - and, with the fsyncs, whenever the machine does). The file is 0644 (it holds public addresses;
    ``mkstemp`` would leave it 0600). A process killed between the two steps leaves only a hidden
    ``.NAME.*.tmp`` beside the manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest.to_json(), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), MANIFEST_MODE)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse to fsync a folder: the rename is still atomic there
        pass
    finally:
        os.close(fd)


def load_manifest(path: Path) -> Manifest:
    """Read a manifest written by ``hedgevault deploy``; ``ManifestError`` saying what is wrong otherwise."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"manifest {path} does not exist: run `hedgevault deploy` first or give its path") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"manifest {path} is not readable JSON: {exc}") from None
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(
            f"manifest {path} is not a hedgevault deployment manifest (format {FORMAT}): bad or missing {exc}; "
            "write a new one with `hedgevault deploy --fresh`"
        ) from None


def _parse(data: dict[str, Any]) -> Manifest:
    if data["format"] != FORMAT:
        raise ValueError(f"format {data['format']!r}")
    chain = ChainIdentity(chain_id=int(data["chain"]["chain_id"]), genesis_hash=str(data["chain"]["genesis_hash"]))
    infra = data.get("infrastructure")
    stack = data.get("vault_stack")
    governance = data.get("governance")
    portfolio = data.get("portfolio")
    if portfolio is not None:
        for key in portfolio["contracts"]:
            portfolio_key_kind(key)
    return Manifest(
        chain=chain,
        deployer=Web3.to_checksum_address(data["deployer"]),
        infrastructure=None
        if infra is None
        else InfrastructureSection(
            origin=_one_of(infra["origin"], ("deployed", "external"), "infrastructure.origin"),
            source=infra.get("source"),
            parameters=dict(infra["parameters"]),
            contracts=_records(infra["contracts"], INFRASTRUCTURE_KEYS, "infrastructure"),
        ),
        vault_stack=None
        if stack is None
        else VaultStackSection(
            parameters=dict(stack["parameters"]),
            roles=dict(stack["roles"]),
            contracts=_records(stack["contracts"], VAULT_STACK_KEYS, "vault_stack"),
        ),
        governance=None
        if governance is None
        else GovernanceSection(
            parameters=dict(governance["parameters"]),
            contracts=_records(governance["contracts"], tuple(GOVERNANCE_ARTIFACTS), "governance"),
        ),
        portfolio=None
        if portfolio is None
        else PortfolioSection(
            parameters=dict(portfolio["parameters"]),
            roles=dict(portfolio["roles"]),
            contracts=_records(portfolio["contracts"], tuple(portfolio["contracts"]), "portfolio"),
        ),
    )


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} (expected one of {', '.join(allowed)})")
    return str(value)


def _records(data: dict[str, Any], allowed: tuple[str, ...], section: str) -> dict[str, ContractRecord]:
    records = {}
    for key, raw in data.items():
        if key not in allowed:
            raise ValueError(f"{section}.contracts.{key} (expected keys: {', '.join(allowed)})")
        records[key] = ContractRecord(
            address=Web3.to_checksum_address(raw["address"]),
            artifact=str(raw["artifact"]),
            code_hash=str(raw["code_hash"]),
            init_code_hash=raw.get("init_code_hash"),
            tx_hash=raw.get("tx_hash"),
            block=None if raw.get("block") is None else int(raw["block"]),
        )
    return records


def _fork_block_of(node_info: Any) -> int | None:
    """The fork block in an ``anvil_nodeInfo`` answer; None for a node that is not an Anvil fork (or has no
    such method: its answer is an error, passed here as None)."""
    fork = node_info.get("forkConfig") if isinstance(node_info, dict) else None
    block = fork.get("forkBlockNumber") if isinstance(fork, dict) else None
    return int(block) if block is not None else None


def default_manifest_path(identity: ChainIdentity, deployments_dir: Path = DEPLOYMENTS_DIR) -> Path:
    """``deployments/<chain id>.json``; dev chains (a new one per Anvil start) ``deployments/local/<chain
    id>-<first 8 hex digits of the genesis hash>.json``; an Anvil fork (of any chain) its own
    ``default_fork_manifest_path``, never its parent's."""
    if identity.fork_block is not None:
        return default_fork_manifest_path(identity, deployments_dir)
    if identity.is_dev:
        return deployments_dir / "local" / f"{identity.chain_id}-{identity.genesis_hash[2:10]}.json"
    return deployments_dir / f"{identity.chain_id}.json"


def default_fork_manifest_path(identity: ChainIdentity, deployments_dir: Path = DEPLOYMENTS_DIR) -> Path:
    """Where a deployment onto a fork goes: never the forked chain's own manifest; forks taken at different
    blocks apart."""
    at = f"-at{identity.fork_block}" if identity.fork_block is not None else ""
    return deployments_dir / "local" / f"fork-{identity.chain_id}-{identity.genesis_hash[2:10]}{at}.json"


def code_hash(w3: Web3, address: str) -> str:
    """keccak256 of the runtime code at ``address`` (``eth_getCode``); the empty-code hash when there is none."""
    return _hex(Web3.keccak(bytes(w3.eth.get_code(Web3.to_checksum_address(address)))))


#: keccak256 of empty code: an address without a contract.
EMPTY_CODE_HASH = _hex(Web3.keccak(b""))


def bind(w3: Web3, address: str, abi: list[dict[str, Any]]) -> Contract:
    """The web3 contract at ``address`` (any case) with ``abi``."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
