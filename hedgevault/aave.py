"""Aave v3.0.x on a local chain from the published npm artifacts (``@aave/core-v3`` 1.19.3, solc 0.8.10),
deployed as they are, and attached to an existing market by its ``PoolAddressesProvider``.

* ``aave_artifact``: an Aave artifact with its libraries linked at the artifact's ``linkReferences`` offsets.
* ``ensure_aave_market``: deploy (or reuse what the manifest records of) a two-reserve market - the underlying
  (WETH-like) and the quote (USDC-like) - in Aave's own order: the logic libraries; PoolAddressesProvider;
  ACLManager (the deployer is ACL admin and pool admin); Pool and PoolConfigurator implementations, each
  initialised and installed on the provider (which creates the proxies); AaveOracle (the underlying priced by
  the project's feed, the quote by a fixed 1 USD feed); AaveProtocolDataProvider; the token implementations;
  one DefaultReserveInterestRateStrategy per reserve; ``initReserves``; collateral parameters, borrowing,
  reserve factor and flash loans per reserve; the flash-loan premium. Every step is done only when the chain
  shows it is not done yet. Then each reserve gets a permanent seed supply and the lender's underlying.
* ``deploy_aave_market``: the same without a manifest, from an unlocked account (benchmarks, scripts).
* ``market_from_provider``: an existing deployment (a fork, a testnet) from its provider's address.
* Pool-admin helpers: ``set_reserve_frozen``, ``set_reserve_paused``, ``set_borrow_cap``,
  ``configure_collateral``; and ``user_account_data`` (``getUserAccountData`` as a dataclass).

Units follow Aave's: percentages in bps (``8000`` is 80%; the liquidation bonus ``10500`` is 5% over par),
interest rates in ray (1e27 is 100% a year), caps in whole tokens, prices and account values in the oracle's
base currency unit (USD with the feed's decimals: 1e8 by default, as Aave's markets).

Why the seed: the liquidity index of a reserve with almost no supply can be inflated by repeated flash
loans (each premium is spread over that tiny supply), after which the rounding of ``supply`` and ``withdraw``
(in scaled units of the huge index) lets an attacker take what others deposit; Aave forks lost funds this way
on newly listed, empty reserves. A supply made on behalf of the burn address ``0x...dEaD`` can never be
withdrawn (nobody can sign for it), so no reserve is ever nearly empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3Exception
from web3.types import TxReceipt

from hedgevault.deployment.errors import DeploymentError, DeploymentMismatch
from hedgevault.deployment.manifest import (
    AAVE_LIBRARY_ARTIFACTS,
    AAVE_ROLES,
    EMPTY_CODE_HASH,
    ContractRecord,
    bind,
    code_hash,
)
from hedgevault.deployment.steps import DeployContext, verify_record
from hedgevault.errors import HedgevaultError, ToolchainError
from hedgevault.params import RAY as RAY  # re-exported: the market's unit
from hedgevault.params import AaveParams as AaveParams  # re-exported: its old home
from hedgevault.reverts import describe
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.paths import NODE_MODULES

if TYPE_CHECKING:
    from hedgevault.deployment.senders import Sender

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: Where seed supplies go: nobody holds its key, so the seed can never be withdrawn.
BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"
_CORE = "@aave/core-v3/artifacts/contracts/"
_ARTIFACTS = {
    "SupplyLogic": "protocol/libraries/logic/SupplyLogic.sol/SupplyLogic.json",
    "BorrowLogic": "protocol/libraries/logic/BorrowLogic.sol/BorrowLogic.json",
    "LiquidationLogic": "protocol/libraries/logic/LiquidationLogic.sol/LiquidationLogic.json",
    "EModeLogic": "protocol/libraries/logic/EModeLogic.sol/EModeLogic.json",
    "BridgeLogic": "protocol/libraries/logic/BridgeLogic.sol/BridgeLogic.json",
    "PoolLogic": "protocol/libraries/logic/PoolLogic.sol/PoolLogic.json",
    "FlashLoanLogic": "protocol/libraries/logic/FlashLoanLogic.sol/FlashLoanLogic.json",
    "ConfiguratorLogic": "protocol/libraries/logic/ConfiguratorLogic.sol/ConfiguratorLogic.json",
    "PoolAddressesProvider": "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
    "ACLManager": "protocol/configuration/ACLManager.sol/ACLManager.json",
    "Pool": "protocol/pool/Pool.sol/Pool.json",
    "PoolConfigurator": "protocol/pool/PoolConfigurator.sol/PoolConfigurator.json",
    "AaveOracle": "misc/AaveOracle.sol/AaveOracle.json",
    "AaveProtocolDataProvider": "misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json",
    "AToken": "protocol/tokenization/AToken.sol/AToken.json",
    "StableDebtToken": "protocol/tokenization/StableDebtToken.sol/StableDebtToken.json",
    "VariableDebtToken": "protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json",
    "DefaultReserveInterestRateStrategy": (
        "protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json"
    ),
}
_PROXY = "InitializableImmutableAdminUpgradeabilityProxy"
_ALREADY_INITIALIZED = "Contract instance has already been initialized"
#: Aave's error codes (``Errors.sol``) that the helpers and tests meet, by code.
AAVE_ERRORS = {
    "1": "CALLER_NOT_POOL_ADMIN",
    "3": "CALLER_NOT_POOL_OR_EMERGENCY_ADMIN",
    "4": "CALLER_NOT_RISK_OR_POOL_ADMIN",
    "27": "RESERVE_INACTIVE",
    "28": "RESERVE_FROZEN",
    "29": "RESERVE_PAUSED",
    "30": "BORROWING_NOT_ENABLED",
    "36": "COLLATERAL_CANNOT_COVER_NEW_BORROW",
    "50": "BORROW_CAP_EXCEEDED",
}
RESERVE_FROZEN = "28"
RESERVE_PAUSED = "29"
BORROW_CAP_EXCEEDED = "50"


class AaveError(HedgevaultError):
    """An Aave admin call was refused (``code`` is Aave's error code, e.g. ``"4"``, when it gave one)."""

    def __init__(self, message: str, code: str | None) -> None:
        self.code = code
        super().__init__(message)


@cache
def _read(name: str) -> dict[str, Any]:
    path = NODE_MODULES / (_CORE + _ARTIFACTS[name])
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except OSError as exc:
        raise ToolchainError(
            f"{path} is missing: run `npm install` in the project root to install @aave/core-v3"
        ) from exc
    return {**data, "path": str(path)}


def aave_abi(name: str) -> list[dict[str, Any]]:
    """The ABI of the ``@aave/core-v3`` contract ``name`` (to bind a deployed one)."""
    return list(_read(name)["abi"])


def aave_artifact(name: str, libraries: dict[str, str] | None = None) -> Artifact:
    """The ``@aave/core-v3`` artifact ``name`` with the libraries it links (``{"BorrowLogic": address}``, extra
    names ignored) written at the offsets its ``linkReferences`` give; ``ToolchainError`` when one is missing."""
    data = _read(name)
    libraries = libraries or {}
    return Artifact(
        name=name,
        source=data["path"],
        abi=data["abi"],
        bytecode=_link(name, data["bytecode"], data["linkReferences"], libraries),
        deployed_bytecode=_link(name, data["deployedBytecode"], data["deployedLinkReferences"], libraries),
    )


def _link(
    name: str, bytecode: str, references: dict[str, dict[str, list[dict[str, int]]]], libraries: dict[str, str]
) -> str:
    """Write each library's address over its 20-byte placeholders (hardhat ``linkReferences``: byte offsets
    into the code without ``0x``)."""
    code = bytecode.removeprefix("0x")
    for source, by_library in references.items():
        for library, spots in by_library.items():
            address = libraries.get(library)
            if address is None:
                raise ToolchainError(
                    f"{name} links {source}:{library}: deploy {library} first and pass its address "
                    f"(given: {', '.join(sorted(libraries)) or 'none'})"
                )
            for spot in spots:
                start, length = 2 * spot["start"], 2 * spot["length"]
                if length != 40 or not code[start : start + length].startswith("__"):
                    raise ToolchainError(
                        f"{name}: no library placeholder at byte {spot['start']}; the artifact is corrupt"
                    )
                code = code[:start] + address.lower().removeprefix("0x") + code[start + length :]
    if "__$" in code:
        raise ToolchainError(f"{name} still has unlinked library placeholders that its linkReferences do not list")
    return "0x" + code


@dataclass(frozen=True)
class ReserveConfiguration:
    """A reserve's configuration as the data provider reports it (bps; caps in whole tokens, 0 = none)."""

    decimals: int
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    reserve_factor_bps: int
    usage_as_collateral_enabled: bool
    borrowing_enabled: bool
    stable_borrow_rate_enabled: bool
    active: bool
    frozen: bool
    paused: bool
    flash_loan_enabled: bool
    borrow_cap_whole: int
    supply_cap_whole: int


@dataclass(frozen=True)
class UserAccountData:
    """``Pool.getUserAccountData``: values in the oracle's base currency unit, ratios in bps, HF in wad
    (``2**256 - 1`` without debt)."""

    total_collateral_base: int
    total_debt_base: int
    available_borrows_base: int
    current_liquidation_threshold_bps: int
    ltv_bps: int
    health_factor_wad: int


@dataclass(frozen=True)
class AaveMarket:
    """An Aave v3 market as web3 contracts (``pool`` and ``configurator`` are the proxies)."""

    addresses_provider: Contract
    pool: Contract
    configurator: Contract
    acl_manager: Contract
    oracle: Contract
    data_provider: Contract

    @property
    def w3(self) -> Web3:
        return self.pool.w3

    def _tokens(self, asset: str) -> tuple[str, str, str]:
        a_token, stable, variable = self.data_provider.functions.getReserveTokensAddresses(asset).call()
        if a_token == ZERO_ADDRESS:
            raise AaveError(f"{asset} is not a reserve of the Aave market at {self.pool.address}", None)
        return str(a_token), str(stable), str(variable)

    def a_token(self, asset: str) -> Contract:
        """The aToken of reserve ``asset``."""
        return bind(self.w3, self._tokens(asset)[0], aave_abi("AToken"))

    def variable_debt_token(self, asset: str) -> Contract:
        """The variable debt token of reserve ``asset``."""
        return bind(self.w3, self._tokens(asset)[2], aave_abi("VariableDebtToken"))

    def reserve_configuration(self, asset: str) -> ReserveConfiguration:
        """Reserve ``asset``'s configuration, read through the data provider."""
        fns = self.data_provider.functions
        decimals, ltv, threshold, bonus, factor, collateral, borrowing, stable, active, frozen = (
            fns.getReserveConfigurationData(asset).call()
        )
        borrow_cap, supply_cap = fns.getReserveCaps(asset).call()
        return ReserveConfiguration(
            decimals=int(decimals),
            ltv_bps=int(ltv),
            liquidation_threshold_bps=int(threshold),
            liquidation_bonus_bps=int(bonus),
            reserve_factor_bps=int(factor),
            usage_as_collateral_enabled=bool(collateral),
            borrowing_enabled=bool(borrowing),
            stable_borrow_rate_enabled=bool(stable),
            active=bool(active),
            frozen=bool(frozen),
            paused=bool(fns.getPaused(asset).call()),
            flash_loan_enabled=bool(fns.getFlashLoanEnabled(asset).call()),
            borrow_cap_whole=int(borrow_cap),
            supply_cap_whole=int(supply_cap),
        )


def user_account_data(market: AaveMarket, user: str) -> UserAccountData:
    """``user``'s totals across the market (``Pool.getUserAccountData``)."""
    values = [int(v) for v in market.pool.functions.getUserAccountData(user).call()]
    return UserAccountData(*values)


def bind_market(w3: Web3, addresses: dict[str, str]) -> AaveMarket:
    """The market at the given addresses, keyed by ``hedgevault.deployment.manifest.AAVE_CORE_KEYS``."""
    return AaveMarket(
        addresses_provider=bind(w3, addresses["aave_addresses_provider"], aave_abi("PoolAddressesProvider")),
        pool=bind(w3, addresses["aave_pool"], aave_abi("Pool")),
        configurator=bind(w3, addresses["aave_pool_configurator"], aave_abi("PoolConfigurator")),
        acl_manager=bind(w3, addresses["aave_acl_manager"], aave_abi("ACLManager")),
        oracle=bind(w3, addresses["aave_oracle"], aave_abi("AaveOracle")),
        data_provider=bind(w3, addresses["aave_data_provider"], aave_abi("AaveProtocolDataProvider")),
    )


_ATTACH_ADVICE = (
    "Give the address of the market's PoolAddressesProvider in infrastructure.aave_addresses_provider (Aave's "
    "address book lists it per network), and check that --rpc-url is that network."
)


def market_from_provider(w3: Web3, provider_address: str) -> AaveMarket:
    """The market an existing ``PoolAddressesProvider`` points at; ``DeploymentMismatch`` when there is no code
    at the address, it does not answer as a provider, or one of the contracts it names has no code."""
    what = f"infrastructure.aave_addresses_provider {provider_address}"
    if code_hash(w3, provider_address) == EMPTY_CODE_HASH:
        raise DeploymentMismatch(
            "the configured Aave market is not on this chain", [f"{what}: no contract there"], _ATTACH_ADVICE
        )
    provider = bind(w3, provider_address, aave_abi("PoolAddressesProvider"))
    fns = provider.functions
    getters = {
        "aave_pool": fns.getPool,
        "aave_pool_configurator": fns.getPoolConfigurator,
        "aave_acl_manager": fns.getACLManager,
        "aave_oracle": fns.getPriceOracle,
        "aave_data_provider": fns.getPoolDataProvider,
    }
    addresses: dict[str, str] = {"aave_addresses_provider": str(provider.address)}
    try:
        for key, getter in getters.items():
            addresses[key] = str(getter().call())
    except (ContractLogicError, Web3Exception, ValueError) as exc:
        raise DeploymentMismatch(
            "the configured Aave market is not an Aave v3 market",
            [f"{what}: is not an Aave v3 PoolAddressesProvider ({key.removeprefix('aave_')} getter failed: {exc})"],
            _ATTACH_ADVICE,
        ) from None
    missing = [
        f"{key}: the provider names {address}, which has no code"
        for key, address in addresses.items()
        if code_hash(w3, address) == EMPTY_CODE_HASH
    ]
    if missing:
        raise DeploymentMismatch("the configured Aave market is incomplete", missing, _ATTACH_ADVICE)
    return bind_market(w3, addresses)


def market_problems(market: AaveMarket, underlying: str, quote: str) -> list[str]:
    """What keeps the vaults from using ``market``: the quote and underlying must be active reserves and the
    underlying borrowable (empty when usable)."""
    problems = []
    listed = {str(a) for a in market.pool.functions.getReservesList().call()}
    for role, asset in (("underlying", underlying), ("quote", quote)):
        if asset not in listed:
            problems.append(f"aave: the {role} {asset} is not a reserve of the market at {market.pool.address}")
            continue
        config = market.reserve_configuration(asset)
        if not config.active:
            problems.append(f"aave: the {role} reserve {asset} is not active")
        if role == "underlying" and not config.borrowing_enabled:
            problems.append(f"aave: borrowing of the underlying {asset} is disabled, so a vault could not borrow it")
    return problems


# -- pool-admin helpers --------------------------------------------------------------------------------------


def aave_error_code(exc: Exception) -> str | None:
    """Aave's error code (``"28"``) behind a revert, if it gave one."""
    text = str(exc)
    for candidate in (text.rsplit(": ", 1)[-1].strip(" '\"()"), text.strip(" '\"()")):
        if candidate.isdigit():
            return candidate
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x08c379a0"):
        decoded = bytes.fromhex(data[10 + 128 :]).rstrip(b"\0").decode(errors="replace")
        return decoded if decoded.isdigit() else None
    return None


def _admin_call(market: AaveMarket, what: str, fn: Any, sender: Sender) -> TxReceipt:
    try:
        return sender.send(fn)
    except ContractLogicError as exc:
        code = aave_error_code(exc)
        name = AAVE_ERRORS.get(code or "", "unknown")
        raise AaveError(
            f"{what} reverted with Aave error {code} ({name}): send it from an account with the right role on "
            f"the ACL manager {market.acl_manager.address} (pool admin)",
            code,
        ) from None


def set_reserve_frozen(market: AaveMarket, asset: str, frozen: bool, sender: Sender) -> TxReceipt:
    """Freeze (no new supply or borrow; repay, withdraw and liquidations go on) or unfreeze reserve ``asset``."""
    return _admin_call(
        market,
        f"setReserveFreeze({asset}, {frozen})",
        market.configurator.functions.setReserveFreeze(asset, frozen),
        sender,
    )


def set_reserve_paused(market: AaveMarket, asset: str, paused: bool, sender: Sender) -> TxReceipt:
    """Pause (every action on the reserve reverts) or unpause reserve ``asset``."""
    return _admin_call(
        market,
        f"setReservePause({asset}, {paused})",
        market.configurator.functions.setReservePause(asset, paused),
        sender,
    )


def set_borrow_cap(market: AaveMarket, asset: str, cap_whole: int, sender: Sender) -> TxReceipt:
    """Cap the total debt of reserve ``asset`` at ``cap_whole`` whole tokens (0: no cap)."""
    return _admin_call(
        market,
        f"setBorrowCap({asset}, {cap_whole})",
        market.configurator.functions.setBorrowCap(asset, cap_whole),
        sender,
    )


def configure_collateral(
    market: AaveMarket,
    asset: str,
    ltv_bps: int,
    liquidation_threshold_bps: int,
    liquidation_bonus_bps: int,
    sender: Sender,
) -> TxReceipt:
    """``configureReserveAsCollateral``: LTV and liquidation threshold in bps, bonus in bps over par (10500 = 5%)."""
    fn = market.configurator.functions.configureReserveAsCollateral(
        asset, ltv_bps, liquidation_threshold_bps, liquidation_bonus_bps
    )
    return _admin_call(market, f"configureReserveAsCollateral({asset})", fn, sender)


# -- deployment --------------------------------------------------------------------------------------------


@dataclass
class _Tokens:
    """The two reserves' assets and decimals, by role."""

    contracts: dict[str, Contract] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)


def ensure_aave_market(
    ctx: DeployContext,
    records: dict[str, ContractRecord],
    *,
    underlying: Contract,
    quote: Contract,
    underlying_feed: Contract,
    feed_decimals: int,
    params: AaveParams,
) -> AaveMarket:
    """Deploy (or reuse what ``records`` holds of) a market of the underlying and the quote (mintable mock
    tokens), recording every contract under the manifest's ``AAVE_KEYS``. The deployer (``ctx.sender``) owns
    the provider, is ACL admin and pool admin, receives the reserves' treasury share and is the lender of
    ``params.lender_underlying``. The oracle's base currency is USD in ``feed_decimals`` decimals (Aave's
    markets: 8), the unit of the project's feed; the quote is priced by a fixed 1 USD ``MockAggregator``.

    A rerun sends nothing for a step the chain shows done (a role held, a proxy created, a reserve listed or
    configured as asked, a seed or the lender's supply present).
    """
    me = ctx.sender.address
    tokens = _Tokens(
        contracts={"underlying": underlying, "quote": quote},
        decimals={
            role: int(t.functions.decimals().call()) for role, t in (("underlying", underlying), ("quote", quote))
        },
    )
    libraries: dict[str, str] = {}
    for key, name in AAVE_LIBRARY_ARTIFACTS.items():
        libraries[name] = str(ctx.ensure_contract(records, key, aave_artifact(name, libraries)).address)

    provider = ctx.ensure_contract(
        records, "aave_addresses_provider", aave_artifact("PoolAddressesProvider"), params.market_id, me
    )
    pfns = provider.functions
    if pfns.getACLAdmin().call() != me:
        ctx.transact("aave: the deployer is ACL admin", pfns.setACLAdmin(me))
    acl = ctx.ensure_contract(records, "aave_acl_manager", aave_artifact("ACLManager"), provider.address)
    if pfns.getACLManager().call() != acl.address:
        ctx.transact("aave: install the ACL manager", pfns.setACLManager(acl.address))
    if not acl.functions.isPoolAdmin(me).call():
        ctx.transact("aave: the deployer is pool admin", acl.functions.addPoolAdmin(me))

    pool_impl = ctx.ensure_contract(records, "aave_pool_impl", aave_artifact("Pool", libraries), provider.address)
    _initialize_once(ctx, "aave: initialise the Pool implementation", pool_impl.functions.initialize(provider.address))
    pool = _ensure_proxy(
        ctx,
        records,
        "aave_pool",
        "Pool",
        pfns.getPool,
        pfns.setPoolImpl(pool_impl.address),
        "aave: create the Pool proxy",
    )
    configurator_impl = ctx.ensure_contract(
        records, "aave_pool_configurator_impl", aave_artifact("PoolConfigurator", libraries)
    )
    _initialize_once(
        ctx,
        "aave: initialise the PoolConfigurator implementation",
        configurator_impl.functions.initialize(provider.address),
    )
    configurator = _ensure_proxy(
        ctx,
        records,
        "aave_pool_configurator",
        "PoolConfigurator",
        pfns.getPoolConfigurator,
        pfns.setPoolConfiguratorImpl(configurator_impl.address),
        "aave: create the PoolConfigurator proxy",
    )

    usd = 10**feed_decimals
    quote_feed = ctx.ensure_contract(records, "aave_quote_feed", ctx.artifacts["MockAggregator"], feed_decimals, usd)
    oracle = ctx.ensure_contract(
        records,
        "aave_oracle",
        aave_artifact("AaveOracle"),
        provider.address,
        [underlying.address, quote.address],
        [underlying_feed.address, quote_feed.address],
        ZERO_ADDRESS,  # no fallback oracle
        ZERO_ADDRESS,  # base currency: USD
        usd,
    )
    if pfns.getPriceOracle().call() != oracle.address:
        ctx.transact("aave: install the oracle", pfns.setPriceOracle(oracle.address))
    data_provider = ctx.ensure_contract(
        records, "aave_data_provider", aave_artifact("AaveProtocolDataProvider"), provider.address
    )
    if pfns.getPoolDataProvider().call() != data_provider.address:
        ctx.transact("aave: install the data provider", pfns.setPoolDataProvider(data_provider.address))
    market = AaveMarket(provider, pool, configurator, acl, oracle, data_provider)

    implementations = _ensure_token_implementations(ctx, records, pool.address)
    _ensure_reserves(ctx, records, market, tokens, implementations, params)
    fns = pool.functions
    if int(fns.FLASHLOAN_PREMIUM_TOTAL().call()) != params.flash_loan_premium_total_bps:
        total = configurator.functions.updateFlashloanPremiumTotal(params.flash_loan_premium_total_bps)
        ctx.transact(f"aave: flash-loan premium {params.flash_loan_premium_total_bps} bps", total)
    if int(fns.FLASHLOAN_PREMIUM_TO_PROTOCOL().call()) != params.flash_loan_premium_to_protocol_bps:
        to_protocol = configurator.functions.updateFlashloanPremiumToProtocol(params.flash_loan_premium_to_protocol_bps)
        ctx.transact(
            f"aave: flash-loan premium to the protocol {params.flash_loan_premium_to_protocol_bps} bps", to_protocol
        )

    for role in AAVE_ROLES:
        seed = params.seed_whole_tokens * 10 ** tokens.decimals[role]
        if (
            seed
            and int(market.a_token(tokens.contracts[role].address).functions.scaledBalanceOf(BURN_ADDRESS).call()) == 0
        ):
            _supply(
                ctx, market, tokens.contracts[role], seed, BURN_ADDRESS, f"aave: seed the {role} reserve (burn address)"
            )
    lent = params.lender_underlying * 10 ** tokens.decimals["underlying"]
    if lent and int(market.a_token(underlying.address).functions.scaledBalanceOf(me).call()) == 0:
        _supply(ctx, market, underlying, lent, me, f"aave: the lender supplies {params.lender_underlying} underlying")
    return market


def _initialize_once(ctx: DeployContext, what: str, fn: Any) -> None:
    """Send an implementation's ``initialize`` unless an eth_call shows it already ran."""
    try:
        fn.call({"from": ctx.sender.address})
    except Web3Exception as exc:  # Anvil: ContractLogicError; Ganache: Web3RPCError with the reason in it
        if _ALREADY_INITIALIZED in str(exc):
            return
        reason = describe(exc) if isinstance(exc, ContractLogicError) else str(exc)
        raise DeploymentError(f"{what} would revert: {reason}") from None
    ctx.transact(what, fn)


def _ensure_proxy(
    ctx: DeployContext, records: dict[str, ContractRecord], key: str, name: str, getter: Any, install: Any, what: str
) -> Contract:
    """The proxy the provider creates when an implementation is installed: install it unless the provider
    already points at one, then record it."""
    if key not in records:
        receipt = None
        if getter().call() == ZERO_ADDRESS:
            receipt = ctx.transact(what, install)
        _record_created(ctx, records, key, str(getter().call()), receipt)
    return _bind_recorded(ctx, records, key, name)


def _record_created(
    ctx: DeployContext, records: dict[str, ContractRecord], key: str, address: str, receipt: TxReceipt | None
) -> None:
    """Record a proxy that a contract (the provider, the configurator) created, with the creating transaction."""
    records[key] = ContractRecord(
        address=address,
        artifact=_PROXY,
        code_hash=code_hash(ctx.w3, address),
        tx_hash=None if receipt is None else "0x" + bytes(receipt["transactionHash"]).hex(),
        block=None if receipt is None else int(receipt["blockNumber"]),
    )
    ctx.deployed.append(key)
    ctx.log(f"recorded {key:<17} {address}")
    ctx.persist()


def _bind_recorded(ctx: DeployContext, records: dict[str, ContractRecord], key: str, name: str) -> Contract:
    verify_record(ctx.w3, key, records[key])
    if key not in ctx.deployed:
        ctx.reused.append(key)
    return bind(ctx.w3, records[key].address, aave_abi(name))


def _ensure_token_implementations(ctx: DeployContext, records: dict[str, ContractRecord], pool: str) -> dict[str, str]:
    """AToken, StableDebtToken and VariableDebtToken implementations, each initialised with dummy values (as
    Aave's deploy scripts do) so that nobody else can initialise them."""
    implementations = {}
    for key, name in (
        ("aave_a_token_impl", "AToken"),
        ("aave_stable_debt_token_impl", "StableDebtToken"),
        ("aave_variable_debt_token_impl", "VariableDebtToken"),
    ):
        impl = ctx.ensure_contract(records, key, aave_artifact(name), pool)
        label = name.upper() + "_IMPL"
        if name == "AToken":
            fn = impl.functions.initialize(pool, ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS, 0, label, label, b"")
        else:
            fn = impl.functions.initialize(pool, ZERO_ADDRESS, ZERO_ADDRESS, 0, label, label, b"")
        _initialize_once(ctx, f"aave: initialise the {name} implementation", fn)
        implementations[name] = str(impl.address)
    return implementations


def _ensure_reserves(
    ctx: DeployContext,
    records: dict[str, ContractRecord],
    market: AaveMarket,
    tokens: _Tokens,
    implementations: dict[str, str],
    params: AaveParams,
) -> None:
    """List the reserves not yet listed (one ``initReserves``), record their tokens, then set each reserve's
    collateral parameters, borrowing, reserve factor and flash loans where the data provider shows otherwise."""
    me = ctx.sender.address
    inputs = []
    for role in AAVE_ROLES:
        reserve = params.reserve(role)
        strategy = ctx.ensure_contract(
            records,
            f"aave_rate_strategy_{role}",
            aave_artifact("DefaultReserveInterestRateStrategy"),
            market.addresses_provider.address,
            *reserve.strategy.as_tuple(),
        )
        asset = tokens.contracts[role]
        if market.pool.functions.getReserveData(asset.address).call()[8] != ZERO_ADDRESS:
            continue
        symbol = str(asset.functions.symbol().call())
        inputs.append(
            (
                implementations["AToken"],
                implementations["StableDebtToken"],
                implementations["VariableDebtToken"],
                tokens.decimals[role],
                strategy.address,
                asset.address,
                me,  # treasury: the reserve factor's share accrues to the deployer
                ZERO_ADDRESS,  # no incentives controller
                f"Aave hedgevault {symbol}",
                f"ahv{symbol}",
                f"Aave hedgevault Variable Debt {symbol}",
                f"variableDebtHv{symbol}",
                f"Aave hedgevault Stable Debt {symbol}",
                f"stableDebtHv{symbol}",
                b"",
            )
        )
    if inputs:
        receipt = ctx.transact(
            f"aave: list {len(inputs)} reserve(s)", market.configurator.functions.initReserves(inputs)
        )
    else:
        receipt = None
    cfns = market.configurator.functions
    for role in AAVE_ROLES:
        reserve_asset = str(tokens.contracts[role].address)
        data = market.pool.functions.getReserveData(reserve_asset).call()
        for token_key, address in (
            ("a_token", data[8]),
            ("stable_debt_token", data[9]),
            ("variable_debt_token", data[10]),
        ):
            key = f"aave_{token_key}_{role}"
            if key not in records:
                _record_created(ctx, records, key, str(address), receipt)
            else:
                verify_record(ctx.w3, key, records[key])
                ctx.reused.append(key)
        wanted = params.reserve(role)
        now = market.reserve_configuration(reserve_asset)
        collateral = (wanted.ltv_bps, wanted.liquidation_threshold_bps, wanted.liquidation_bonus_bps)
        if (now.ltv_bps, now.liquidation_threshold_bps, now.liquidation_bonus_bps) != collateral:
            ctx.transact(
                f"aave: {role} collateral parameters", cfns.configureReserveAsCollateral(reserve_asset, *collateral)
            )
        if not now.borrowing_enabled:
            ctx.transact(f"aave: enable borrowing of the {role}", cfns.setReserveBorrowing(reserve_asset, True))
        if now.reserve_factor_bps != wanted.reserve_factor_bps:
            ctx.transact(
                f"aave: {role} reserve factor", cfns.setReserveFactor(reserve_asset, wanted.reserve_factor_bps)
            )
        if not now.flash_loan_enabled:
            ctx.transact(f"aave: enable flash loans of the {role}", cfns.setReserveFlashLoaning(reserve_asset, True))


def _supply(ctx: DeployContext, market: AaveMarket, token: Contract, amount: int, on_behalf_of: str, what: str) -> None:
    """Mint ``amount`` of the mock ``token`` to the deployer and supply it on behalf of ``on_behalf_of``."""
    me = ctx.sender.address
    ctx.transact(f"{what}: mint", token.functions.mint(me, amount))
    ctx.transact(f"{what}: approve", token.functions.approve(market.pool.address, amount))
    ctx.transact(what, market.pool.functions.supply(token.address, amount, on_behalf_of, 0))


def deploy_aave_market(
    w3: Web3,
    deployer: str,
    *,
    underlying: Contract,
    quote: Contract,
    underlying_feed: Contract,
    feed_decimals: int = 8,
    params: AaveParams | None = None,
) -> tuple[AaveMarket, dict[str, ContractRecord], int]:
    """``ensure_aave_market`` from the unlocked ``deployer`` without a manifest: the market, what it deployed
    (by manifest key) and the number of transactions sent."""
    ctx = DeployContext.local(w3, deployer)
    records: dict[str, ContractRecord] = {}
    market = ensure_aave_market(
        ctx,
        records,
        underlying=underlying,
        quote=quote,
        underlying_feed=underlying_feed,
        feed_decimals=feed_decimals,
        params=params or AaveParams(),
    )
    return market, records, ctx.sender.transactions
