"""What a testnet already has and a local chain needs deployed first: the quote and underlying tokens
(``MockERC20``), a settable price feed (``MockAggregator``), Uniswap V3 (factory, SwapRouter and
NonfungiblePositionManager from the npm artifacts), an underlying/quote pool with full-range liquidity, and an
Aave v3 market of the two tokens (``hedgevault.aave``, from the npm artifacts) with a lender's underlying.

``deploy_local_infrastructure`` deploys it (idempotently, recording each contract); ``configured_infrastructure``
takes the addresses of what exists (config file or another manifest) and records them after checking them;
``load_infrastructure`` binds a recorded section to web3 contracts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.aave import AaveMarket, bind_market, ensure_aave_market, market_from_provider, market_problems
from hedgevault.chain import latest_timestamp, warp
from hedgevault.deployment.config import InfrastructureConfig
from hedgevault.deployment.errors import DeploymentError, DeploymentMismatch
from hedgevault.deployment.manifest import (
    AAVE_CORE_KEYS,
    EMPTY_CODE_HASH,
    ContractRecord,
    InfrastructureSection,
    bind,
    code_hash,
)
from hedgevault.deployment.steps import DeployContext, verify_record, verify_records
from hedgevault.params import WAD, SuiteConfig
from hedgevault.toolchain.compiler import Artifact
from hedgevault.uniswap import FAR_DEADLINE, MAX_TICK, TICK_SPACING, Uniswap, npm_artifact, raw_price, sqrt_price_x96

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: Observations the pool keeps, so that a TWAP over the oracle's window is available.
OBSERVATION_CARDINALITY = 64


@dataclass(frozen=True)
class Infrastructure:
    """The infrastructure as web3 contracts, with the facts the vault stack is built from."""

    quote: Contract
    underlying: Contract
    feed: Contract
    sequencer_feed: Contract | None
    uniswap: Uniswap
    pool: Contract
    quote_decimals: int
    underlying_decimals: int
    feed_decimals: int
    pool_fee: int
    #: True when we deployed it (mock tokens and feeds: mintable and settable).
    mocks: bool
    #: The Aave v3 market of the two tokens (None only for an infrastructure given by addresses without
    #: ``infrastructure.aave_addresses_provider``).
    aave: AaveMarket | None


def local_parameters(config: SuiteConfig) -> dict[str, Any]:
    """The ``SuiteConfig`` fields that shape a locally deployed infrastructure (recorded in the manifest)."""
    return {
        "quote_decimals": config.quote_decimals,
        "underlying_decimals": config.underlying_decimals,
        "feed_decimals": config.feed_decimals,
        "spot_wad": config.spot_wad,
        "pool_fee": config.pool_fee,
        "pool_underlying": config.pool_underlying,
        "with_sequencer_feed": config.with_sequencer_feed,
        "aave": config.aave.to_json(),
    }


def deploy_local_infrastructure(ctx: DeployContext, config: SuiteConfig, *, warp_clock: bool = True) -> Infrastructure:
    """Deploy (or reuse what the manifest records of) the tokens, feeds, Uniswap V3 and the pool with
    ``config.pool_underlying`` whole underlying tokens and the matching quote of full-range liquidity, and the
    Aave v3 market (``hedgevault.aave.ensure_aave_market`` with ``config.aave``: seeded reserves and the
    deployer's ``config.aave.lender_underlying`` whole underlying supplied). Each step only when the chain shows
    it is not done, so a rerun sends nothing.

    When the pool gets its liquidity in this run and ``warp_clock`` is set, the chain's clock moves forward by
    the TWAP window and the feed is refreshed, so the price oracle answers at once (local nodes only).
    """
    w3, artifacts = ctx.w3, ctx.artifacts
    if ctx.manifest.infrastructure is None:
        ctx.manifest.infrastructure = InfrastructureSection(origin="deployed", parameters=local_parameters(config))
    records = ctx.manifest.infrastructure.contracts
    feed_answer = config.spot_wad * 10**config.feed_decimals // WAD

    quote = ctx.ensure_contract(records, "quote", artifacts["MockERC20"], "Test USD", "tUSD", config.quote_decimals)
    underlying = ctx.ensure_contract(
        records, "underlying", artifacts["MockERC20"], "Test Ether", "tETH", config.underlying_decimals
    )
    feed = ctx.ensure_contract(records, "feed", artifacts["MockAggregator"], config.feed_decimals, feed_answer)
    sequencer_feed = None
    if config.with_sequencer_feed:
        sequencer_feed = ctx.ensure_contract(records, "sequencer_feed", artifacts["MockAggregator"], 0, 0)
        # up (answer 0) since well before the grace period
        start = latest_timestamp(w3) - 10 * config.oracle.sequencer_grace_sec - 1
        if int(sequencer_feed.functions.latestRoundData().call()[2]) > start:
            ctx.transact(
                "sequencer feed: up since before the grace period",
                sequencer_feed.functions.setRound(1, 0, start, start, 1),
            )

    # the router and position manager unwrap WETH only for ETH swaps, which the vaults never make
    factory = ctx.ensure_contract(records, "uniswap_factory", npm_artifact("UniswapV3Factory"))
    router = ctx.ensure_contract(
        records, "swap_router", npm_artifact("SwapRouter"), factory.address, underlying.address
    )
    manager = ctx.ensure_contract(
        records,
        "position_manager",
        npm_artifact("NonfungiblePositionManager"),
        factory.address,
        underlying.address,
        ZERO_ADDRESS,
    )
    uniswap = Uniswap(factory=factory, router=router, position_manager=manager)
    pool = ensure_pool(
        ctx,
        records,
        "pool",
        uniswap,
        underlying,
        quote,
        fee=config.pool_fee,
        price_wad=config.spot_wad,
        token_decimals=config.underlying_decimals,
        quote_decimals=config.quote_decimals,
    )

    if int(pool.functions.liquidity().call()) == 0:
        pool_underlying = config.pool_underlying * 10**config.underlying_decimals
        pool_quote = (
            pool_underlying * config.spot_wad // WAD * 10**config.quote_decimals // 10**config.underlying_decimals
        )
        seed_full_range(ctx, uniswap, pool, (underlying, pool_underlying), (quote, pool_quote), what="underlying")
        if warp_clock:
            warp(w3, config.oracle.twap_window_sec)
            ctx.transact("feed: fresh round after the TWAP warm-up", feed.functions.setAnswer(feed_answer))
            ctx.log(f"warped     the clock by {config.oracle.twap_window_sec} s so the pool has a TWAP")
    aave = ensure_aave_market(
        ctx,
        records,
        underlying=underlying,
        quote=quote,
        underlying_feed=feed,
        feed_decimals=config.feed_decimals,
        params=config.aave,
    )
    return Infrastructure(
        quote=quote,
        underlying=underlying,
        feed=feed,
        sequencer_feed=sequencer_feed,
        uniswap=uniswap,
        pool=pool,
        quote_decimals=config.quote_decimals,
        underlying_decimals=config.underlying_decimals,
        feed_decimals=config.feed_decimals,
        pool_fee=config.pool_fee,
        mocks=True,
        aave=aave,
    )


def ensure_pool(
    ctx: DeployContext,
    records: dict[str, ContractRecord],
    key: str,
    uniswap: Uniswap,
    token: Contract,
    quote: Contract,
    *,
    fee: int,
    price_wad: int,
    token_decimals: int,
    quote_decimals: int,
) -> Contract:
    """The ``token``/``quote`` pool of ``fee`` recorded under ``key``: created (enabling the fee tier when the
    factory lacks it), initialised at ``price_wad`` (quote per whole token) and its observation history grown
    to ``OBSERVATION_CARDINALITY``, each step only when the chain shows it is not done. The option vault's pool
    and every portfolio asset's pool come from here."""
    abi = npm_artifact("UniswapV3Pool").abi
    record = records.get(key)
    if record is not None:
        verify_record(ctx.w3, key, record)
        ctx.reused.append(key)
        ctx.log(f"reused   {key:<17} {record.address}")
        pool = bind(ctx.w3, record.address, abi)
    else:
        get_pool = uniswap.factory.functions.getPool(token.address, quote.address, fee)
        receipt = None
        if get_pool.call() == ZERO_ADDRESS:
            if int(uniswap.factory.functions.feeAmountTickSpacing(fee).call()) == 0:
                spacing = TICK_SPACING[fee]
                enable = uniswap.factory.functions.enableFeeAmount(fee, spacing)
                ctx.transact(f"enable the {fee} pips fee tier (tick spacing {spacing})", enable)
            create = uniswap.factory.functions.createPool(token.address, quote.address, fee)
            receipt = ctx.transact(f"create the {key.replace('_', ' ')}", create)
        address = get_pool.call()
        records[key] = ContractRecord(
            address=str(address),
            artifact="UniswapV3Pool",
            code_hash=code_hash(ctx.w3, address),
            tx_hash=None if receipt is None else "0x" + bytes(receipt["transactionHash"]).hex(),
            block=None if receipt is None else int(receipt["blockNumber"]),
        )
        ctx.deployed.append(key)
        ctx.persist()
        pool = bind(ctx.w3, address, abi)
    slot0 = pool.functions.slot0().call()
    if int(slot0[0]) == 0:
        is_token0 = pool.functions.token0().call() == token.address
        price = raw_price(price_wad, token_decimals, quote_decimals, is_token0)
        ctx.transact(f"initialise the {key.replace('_', ' ')}", pool.functions.initialize(sqrt_price_x96(price)))
    if int(slot0[4]) < OBSERVATION_CARDINALITY:
        ctx.transact(
            f"grow the {key.replace('_', ' ')}'s observations to {OBSERVATION_CARDINALITY}",
            pool.functions.increaseObservationCardinalityNext(OBSERVATION_CARDINALITY),
        )
    return pool


def seed_full_range(
    ctx: DeployContext,
    uniswap: Uniswap,
    pool: Contract,
    token: tuple[Contract, int],
    quote: tuple[Contract, int],
    *,
    what: str,
) -> None:
    """Mint ``(token, amount)`` and ``(quote, amount)`` (mocks) to the sender and add them as a full-range
    position of ``pool``; ``what`` names the token in the log."""
    owner = ctx.sender.address
    ctx.transact(f"mint {what} for the pool", token[0].functions.mint(owner, token[1]))
    ctx.transact("mint quote for the pool", quote[0].functions.mint(owner, quote[1]))
    _add_full_range_liquidity(ctx, uniswap, pool, {token[0].address: token[1], quote[0].address: quote[1]})


def _add_full_range_liquidity(ctx: DeployContext, uniswap: Uniswap, pool: Contract, amounts: dict[str, int]) -> None:
    """Mint a full-range position of ``amounts[token]`` (held by the sender) through the position manager."""
    token0 = pool.functions.token0().call()
    token1 = pool.functions.token1().call()
    fee = int(pool.functions.fee().call())
    spacing = int(pool.functions.tickSpacing().call())
    top = MAX_TICK // spacing * spacing
    erc20 = ctx.artifacts["MockERC20"].abi
    for token in (token0, token1):
        contract = bind(ctx.w3, token, erc20)
        ctx.transact(
            "approve the position manager", contract.functions.approve(uniswap.position_manager.address, amounts[token])
        )
    owner = ctx.sender.address
    params = (token0, token1, fee, -top, top, amounts[token0], amounts[token1], 0, 0, owner, FAR_DEADLINE)
    ctx.transact("add full-range liquidity", uniswap.position_manager.functions.mint(params))


def configured_infrastructure(
    ctx: DeployContext, addresses: InfrastructureConfig, source: str
) -> InfrastructureSection:
    """Record infrastructure that exists on the chain (addresses from the config), after checking that
    every address has code and that the pool trades the two tokens; decimals and fee are read from the chain.
    An Aave v3 market is given by its provider (``aave_addresses_provider``): the pool, configurator, ACL
    manager, oracle and data provider are read from it and recorded, after checking that they have code and
    that the quote and underlying are reserves with borrowing of the underlying enabled."""
    w3 = ctx.w3
    erc20 = ctx.artifacts["MockERC20"].abi
    pool = bind(w3, addresses.pool, npm_artifact("UniswapV3Pool").abi)
    problems = []
    records: dict[str, ContractRecord] = {}
    for key, address in dataclasses.asdict(addresses).items():
        if address is None or key == "aave_addresses_provider":
            continue
        found = code_hash(w3, address)
        if found == EMPTY_CODE_HASH:
            problems.append(f"infrastructure.{key}: no contract at {address}")
        records[key] = ContractRecord(address=address, artifact=f"external:{key}", code_hash=found)
    if problems:
        raise DeploymentMismatch(
            "the configured infrastructure is not on this chain",
            problems,
            "Check the addresses in the config's infrastructure section and that --rpc-url is the right network.",
        )
    tokens = {pool.functions.token0().call(), pool.functions.token1().call()}
    if tokens != {addresses.quote, addresses.underlying}:
        raise DeploymentMismatch(
            "the configured pool does not trade the configured tokens",
            [
                f"pool {addresses.pool} trades {sorted(tokens)}, "
                f"the config gives {addresses.underlying} / {addresses.quote}"
            ],
            "Give the pool of the underlying/quote pair in infrastructure.pool.",
        )
    if addresses.aave_addresses_provider is not None:
        records.update(_configured_aave(ctx, addresses))
    feed = bind(w3, addresses.feed, ctx.artifacts["AggregatorV3Interface"].abi)
    parameters = {
        "quote_decimals": int(bind(w3, addresses.quote, erc20).functions.decimals().call()),
        "underlying_decimals": int(bind(w3, addresses.underlying, erc20).functions.decimals().call()),
        "feed_decimals": int(feed.functions.decimals().call()),
        "pool_fee": int(pool.functions.fee().call()),
        "with_sequencer_feed": addresses.sequencer_feed is not None,
    }
    section = InfrastructureSection(origin="external", source=source, parameters=parameters, contracts=records)
    ctx.manifest.infrastructure = section
    ctx.log(f"recorded the infrastructure from {source}")
    ctx.persist()
    return section


def _configured_aave(ctx: DeployContext, addresses: InfrastructureConfig) -> dict[str, ContractRecord]:
    """The records of an existing Aave v3 market given by its PoolAddressesProvider, after checking that the
    provider and what it points at have code and that the tokens are usable reserves."""
    if addresses.aave_addresses_provider is None:
        raise DeploymentError("no infrastructure.aave_addresses_provider is configured")
    market = market_from_provider(ctx.w3, addresses.aave_addresses_provider)
    problems = market_problems(market, addresses.underlying, addresses.quote)
    if problems:
        raise DeploymentMismatch(
            "the configured Aave market cannot serve the vaults",
            problems,
            "Give the PoolAddressesProvider of a market that lists the quote and the underlying with borrowing of "
            "the underlying enabled (infrastructure.aave_addresses_provider), or the tokens that market lists.",
        )
    contracts = {
        "aave_addresses_provider": market.addresses_provider,
        "aave_pool": market.pool,
        "aave_pool_configurator": market.configurator,
        "aave_acl_manager": market.acl_manager,
        "aave_oracle": market.oracle,
        "aave_data_provider": market.data_provider,
    }
    return {
        key: ContractRecord(
            address=str(contract.address), artifact=f"external:{key}", code_hash=code_hash(ctx.w3, contract.address)
        )
        for key, contract in contracts.items()
    }


def infrastructure_records(section: InfrastructureSection) -> dict[str, ContractRecord]:
    """The section's contract records, keyed as mismatches name them (``infrastructure.<key>``)."""
    return {f"infrastructure.{key}": record for key, record in section.contracts.items()}


def load_infrastructure(
    w3: Web3, section: InfrastructureSection, artifacts: dict[str, Artifact], *, verify: bool = True
) -> Infrastructure:
    """Bind a recorded infrastructure section to web3 contracts, checking every recorded code hash (in one
    round trip; ``verify=False`` when the caller checks them together with its own records)."""
    if verify:
        verify_records(w3, infrastructure_records(section), "the manifest's infrastructure")
    contracts = section.contracts
    mocks = section.origin == "deployed"
    token_abi = artifacts["MockERC20"].abi
    feed_abi = artifacts["MockAggregator" if mocks else "AggregatorV3Interface"].abi

    def at(key: str, abi: list[dict[str, Any]]) -> Contract:
        return bind(w3, contracts[key].address, abi)

    params = section.parameters
    return Infrastructure(
        quote=at("quote", token_abi),
        underlying=at("underlying", token_abi),
        feed=at("feed", feed_abi),
        sequencer_feed=at("sequencer_feed", feed_abi) if "sequencer_feed" in contracts else None,
        uniswap=Uniswap(
            factory=at("uniswap_factory", npm_artifact("UniswapV3Factory").abi),
            router=at("swap_router", npm_artifact("SwapRouter").abi),
            position_manager=at("position_manager", npm_artifact("NonfungiblePositionManager").abi),
        ),
        pool=at("pool", npm_artifact("UniswapV3Pool").abi),
        quote_decimals=int(params["quote_decimals"]),
        underlying_decimals=int(params["underlying_decimals"]),
        feed_decimals=int(params["feed_decimals"]),
        pool_fee=int(params["pool_fee"]),
        mocks=mocks,
        aave=bind_market(w3, {key: contracts[key].address for key in AAVE_CORE_KEYS})
        if "aave_addresses_provider" in contracts
        else None,
    )
