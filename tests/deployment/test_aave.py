"""The Aave v3.0.x market of the infrastructure (``hedgevault.aave``): the published ``@aave/core-v3`` bytecode
deployed by ``deploy_local_infrastructure`` on this module's Anvil (clock frozen, so interest is computed for
exact timestamps), every test between ``evm_snapshot`` and ``evm_revert``; and the same market attached on a
fork through ``configured_infrastructure`` by its PoolAddressesProvider.

Actors: the ``deployer`` (pool admin, lender), a ``borrower`` (an EOA that supplies quote and borrows the
underlying) and an ``outsider`` without any Aave role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError

from hedgevault.aave import (
    BORROW_CAP_EXCEEDED,
    BURN_ADDRESS,
    RAY,
    RESERVE_FROZEN,
    RESERVE_PAUSED,
    AaveError,
    AaveMarket,
    AaveParams,
    aave_abi,
    aave_error_code,
    configure_collateral,
    set_borrow_cap,
    set_reserve_frozen,
    set_reserve_paused,
    user_account_data,
)
from hedgevault.chain import Node, freeze_clock, latest_timestamp, warp
from hedgevault.deployment.config import build_config
from hedgevault.deployment.errors import DeploymentMismatch
from hedgevault.deployment.infrastructure import (
    Infrastructure,
    configured_infrastructure,
    deploy_local_infrastructure,
    load_infrastructure,
)
from hedgevault.deployment.manifest import AAVE_CORE_KEYS, AAVE_KEYS, ChainIdentity, Manifest, bind
from hedgevault.deployment.senders import SignedSender, UnlockedSender
from hedgevault.deployment.steps import DeployContext
from hedgevault.suite import SuiteConfig
from hedgevault.toolchain.compiler import compile_project
from hedgevault.txs import send

SECONDS_PER_YEAR = 365 * 86_400
UINT256_MAX = 2**256 - 1


@dataclass
class Market:
    """This module's deployment: the chain, the infrastructure and the manifest it was recorded in."""

    node: Node
    w3: Web3
    infra: Infrastructure
    manifest: Manifest
    config: SuiteConfig
    deployer: LocalAccount

    def context(self) -> DeployContext:
        return DeployContext(
            w3=self.w3,
            sender=SignedSender(self.w3, self.deployer),
            artifacts=compile_project(),
            manifest=self.manifest,
        )


@pytest.fixture(scope="module")
def market(anvils: Callable[..., Node], deployer: LocalAccount) -> Market:
    node = anvils()
    w3 = node.web3()
    freeze_clock(w3)
    config = SuiteConfig()
    manifest = Manifest(chain=ChainIdentity.read(w3), deployer=deployer.address)
    probe = Market(node, w3, None, manifest, config, deployer)  # type: ignore[arg-type]
    probe.infra = deploy_local_infrastructure(probe.context(), config)
    return probe


@pytest.fixture(autouse=True)
def _isolate(market: Market) -> Iterator[None]:
    snapshot = market.w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    market.w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture
def borrower(market: Market) -> str:
    return str(market.w3.eth.accounts[5])


def _aave(market: Market) -> AaveMarket:
    """The module's market (every local infrastructure has one)."""
    assert market.infra.aave is not None
    return market.infra.aave


# -- the Python mirror of the interest Aave charges (WadRayMath, MathUtils), for exact expectations --------


def ray_mul(a: int, b: int) -> int:
    """WadRayMath.rayMul: (a * b + RAY / 2) / RAY (half up)."""
    return (a * b + RAY // 2) // RAY


def ray_div(a: int, b: int) -> int:
    """WadRayMath.rayDiv: (a * RAY + b / 2) / b (half up)."""
    return (a * RAY + b // 2) // b


def compounded_interest(rate_ray: int, elapsed_sec: int) -> int:
    """MathUtils.calculateCompoundedInterest: the binomial expansion to the third term, Aave's integer steps."""
    if elapsed_sec == 0:
        return RAY
    minus_one, minus_two = elapsed_sec - 1, max(elapsed_sec - 2, 0)
    base_power_two = ray_mul(rate_ray, rate_ray) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base_power_three = ray_mul(base_power_two, rate_ray) // SECONDS_PER_YEAR
    second = elapsed_sec * minus_one * base_power_two // 2
    third = elapsed_sec * minus_one * minus_two * base_power_three // 6
    return RAY + rate_ray * elapsed_sec // SECONDS_PER_YEAR + second + third


# -- tests -----------------------------------------------------------------------------------------------


def test_reserves_are_configured_as_aave_configures_weth_and_usdc(market: Market) -> None:
    aave, params = _aave(market), market.config.aave
    for role, token in (("underlying", market.infra.underlying), ("quote", market.infra.quote)):
        wanted = params.reserve(role)
        got = aave.reserve_configuration(token.address)
        assert (got.ltv_bps, got.liquidation_threshold_bps, got.liquidation_bonus_bps, got.reserve_factor_bps) == (
            wanted.ltv_bps,
            wanted.liquidation_threshold_bps,
            wanted.liquidation_bonus_bps,
            wanted.reserve_factor_bps,
        )
        assert got.decimals == int(token.functions.decimals().call())
        assert got.active and got.borrowing_enabled and got.usage_as_collateral_enabled and got.flash_loan_enabled
        assert not (got.stable_borrow_rate_enabled or got.frozen or got.paused)
        assert (got.borrow_cap_whole, got.supply_cap_whole) == (0, 0)
        strategy_address = aave.data_provider.functions.getInterestRateStrategyAddress(token.address).call()
        strategy = bind(market.w3, strategy_address, aave_abi("DefaultReserveInterestRateStrategy")).functions
        assert int(strategy.OPTIMAL_USAGE_RATIO().call()) == wanted.strategy.optimal_usage_ratio_ray
        assert int(strategy.getBaseVariableBorrowRate().call()) == wanted.strategy.base_variable_borrow_rate_ray
        assert int(strategy.getVariableRateSlope1().call()) == wanted.strategy.variable_rate_slope1_ray
        assert int(strategy.getVariableRateSlope2().call()) == wanted.strategy.variable_rate_slope2_ray
    assert params.underlying.strategy.variable_rate_slope2_ray == 3 * RAY  # 300%: VolatileOne
    assert params.quote.strategy.optimal_usage_ratio_ray == 9 * RAY // 10  # 90%: StableOne
    assert int(aave.pool.functions.FLASHLOAN_PREMIUM_TOTAL().call()) == 9  # 0.09%
    assert int(aave.pool.functions.FLASHLOAN_PREMIUM_TO_PROTOCOL().call()) == 0
    assert set(aave.pool.functions.getReservesList().call()) == {
        market.infra.underlying.address,
        market.infra.quote.address,
    }


def test_every_reserve_keeps_a_seed_at_the_burn_address_and_the_lender_supplies(market: Market) -> None:
    aave, params = _aave(market), market.config.aave
    for token in (market.infra.underlying, market.infra.quote):
        seed = params.seed_whole_tokens * 10 ** int(token.functions.decimals().call())
        a_token = aave.a_token(token.address)
        # no interest accrued yet on the frozen clock: index 1, so the seed is exactly what was supplied
        assert int(a_token.functions.balanceOf(BURN_ADDRESS).call()) == seed
        assert int(a_token.functions.scaledBalanceOf(BURN_ADDRESS).call()) > 0
    lent = aave.a_token(market.infra.underlying.address).functions.balanceOf(market.deployer.address).call()
    assert lent == params.lender_underlying * 10**18
    assert market.manifest.infrastructure is not None
    assert AaveParams.from_json(market.manifest.infrastructure.parameters["aave"]) == params


def test_oracle_prices_follow_the_feed_and_the_quote_is_one_dollar(market: Market) -> None:
    aave, infra = _aave(market), market.infra
    assert int(aave.oracle.functions.BASE_CURRENCY_UNIT().call()) == 10**8
    assert int(aave.oracle.functions.getAssetPrice(infra.underlying.address).call()) == 3000 * 10**8
    assert int(aave.oracle.functions.getAssetPrice(infra.quote.address).call()) == 10**8
    send(market.w3, infra.feed.functions.setAnswer(234_567_890_123), market.deployer.address)
    assert int(infra.feed.functions.latestAnswer().call()) == 234_567_890_123
    assert int(aave.oracle.functions.getAssetPrice(infra.underlying.address).call()) == 234_567_890_123
    assert int(infra.feed.functions.latestTimestamp().call()) == latest_timestamp(market.w3)


def test_supply_borrow_accrue_repay_withdraw_to_the_wei(market: Market, borrower: str) -> None:
    w3, aave, infra = market.w3, _aave(market), market.infra
    pool = aave.pool.functions
    supplied, borrowed = 30_000 * 10**6, 5 * 10**18
    send(w3, infra.quote.functions.mint(borrower, supplied), borrower)
    send(w3, infra.quote.functions.approve(aave.pool.address, supplied), borrower)
    send(w3, pool.supply(infra.quote.address, supplied, borrower, 0), borrower)
    send(w3, pool.borrow(infra.underlying.address, borrowed, 2, 0, borrower), borrower)
    assert int(infra.underlying.functions.balanceOf(borrower).call()) == borrowed
    account = user_account_data(aave, borrower)
    assert account.total_collateral_base == 30_000 * 10**8 and account.total_debt_base == 15_000 * 10**8
    assert account.health_factor_wad == 30_000 * 8500 * 10**18 // 10_000 // 15_000  # LT 85% of the quote

    reserve = pool.getReserveData(infra.underlying.address).call()
    index_ray, rate_ray = int(reserve[3]), int(reserve[4])
    debt_token = aave.variable_debt_token(infra.underlying.address).functions
    scaled = int(debt_token.scaledBalanceOf(borrower).call())
    assert scaled == ray_div(borrowed, index_ray)
    assert rate_ray > 0  # usage 5 / 5,006: on VolatileOne's first slope

    elapsed_sec = 30 * 86_400
    warp(w3, elapsed_sec)
    debt = int(debt_token.balanceOf(borrower).call())
    assert debt == ray_mul(scaled, ray_mul(compounded_interest(rate_ray, elapsed_sec), index_ray))
    assert debt > borrowed

    interest = debt - borrowed
    send(w3, infra.underlying.functions.mint(borrower, interest), borrower)
    send(w3, infra.underlying.functions.approve(aave.pool.address, UINT256_MAX), borrower)
    send(w3, pool.repay(infra.underlying.address, UINT256_MAX, 2, borrower), borrower)  # same timestamp: frozen
    assert int(infra.underlying.functions.balanceOf(borrower).call()) == 0
    assert int(debt_token.balanceOf(borrower).call()) == 0

    send(w3, pool.withdraw(infra.quote.address, UINT256_MAX, borrower), borrower)
    assert int(infra.quote.functions.balanceOf(borrower).call()) == supplied  # nobody borrowed the quote
    assert int(aave.a_token(infra.quote.address).functions.balanceOf(borrower).call()) == 0


def _borrow_error(market: Market, borrower: str, amount: int) -> str | None:
    fn = _aave(market).pool.functions.borrow(market.infra.underlying.address, amount, 2, 0, borrower)
    with pytest.raises(ContractLogicError) as caught:
        fn.call({"from": borrower})
    return aave_error_code(caught.value)


def test_admin_helpers_freeze_pause_and_cap_borrowing_with_aaves_own_errors(market: Market, borrower: str) -> None:
    w3, aave, infra = market.w3, _aave(market), market.infra
    admin = UnlockedSender(w3, market.deployer.address)
    underlying = infra.underlying.address
    send(w3, infra.quote.functions.mint(borrower, 30_000 * 10**6), borrower)
    send(w3, infra.quote.functions.approve(aave.pool.address, 30_000 * 10**6), borrower)
    send(w3, aave.pool.functions.supply(infra.quote.address, 30_000 * 10**6, borrower, 0), borrower)
    one = 10**18

    set_reserve_frozen(aave, underlying, True, admin)
    assert aave.reserve_configuration(underlying).frozen
    assert _borrow_error(market, borrower, one) == RESERVE_FROZEN
    set_reserve_frozen(aave, underlying, False, admin)

    set_reserve_paused(aave, underlying, True, admin)
    assert aave.reserve_configuration(underlying).paused
    assert _borrow_error(market, borrower, one) == RESERVE_PAUSED
    set_reserve_paused(aave, underlying, False, admin)

    set_borrow_cap(aave, underlying, 2, admin)
    assert aave.reserve_configuration(underlying).borrow_cap_whole == 2
    assert _borrow_error(market, borrower, 3 * one) == BORROW_CAP_EXCEEDED
    send(w3, aave.pool.functions.borrow(underlying, 2 * one, 2, 0, borrower), borrower)  # at the cap: fine

    configure_collateral(aave, infra.quote.address, 5000, 6000, 10500, admin)
    assert aave.reserve_configuration(infra.quote.address).ltv_bps == 5000
    assert user_account_data(aave, borrower).ltv_bps == 5000

    outsider = UnlockedSender(w3, str(w3.eth.accounts[7]))
    with pytest.raises(AaveError, match=r"Aave error 4 \(CALLER_NOT_RISK_OR_POOL_ADMIN\)") as refused:
        set_reserve_frozen(aave, underlying, True, outsider)
    assert refused.value.code == "4"


def test_a_rerun_reuses_everything_and_sends_no_transaction(market: Market) -> None:
    nonce = market.w3.eth.get_transaction_count(market.deployer.address)
    ctx = market.context()
    again = deploy_local_infrastructure(ctx, market.config)
    assert ctx.sender.transactions == 0 and ctx.deployed == []
    assert market.w3.eth.get_transaction_count(market.deployer.address) == nonce
    assert set(AAVE_KEYS) <= set(ctx.reused)
    assert again.aave is not None and again.aave.pool.address == _aave(market).pool.address


def _infrastructure_config(market: Market, provider: str) -> dict[str, str]:
    assert market.manifest.infrastructure is not None
    contracts = market.manifest.infrastructure.contracts
    keys = ("quote", "underlying", "feed", "uniswap_factory", "swap_router", "position_manager", "pool")
    return {**{key: contracts[key].address for key in keys}, "aave_addresses_provider": provider}


def test_a_fork_attaches_the_market_by_its_addresses_provider(
    market: Market, anvils: Callable[..., Node], deployer: LocalAccount, tmp_path: Path
) -> None:
    provider = _aave(market).addresses_provider.address
    fork = anvils(fork_url=market.node.url)
    w3 = fork.web3()
    config = build_config({"infrastructure": _infrastructure_config(market, provider)})
    assert config.infrastructure is not None and config.infrastructure.aave_addresses_provider == provider
    ctx = DeployContext(
        w3=w3,
        sender=SignedSender(w3, deployer),
        artifacts=compile_project(),
        manifest=Manifest(chain=ChainIdentity.read(w3), deployer=deployer.address),
    )
    section = configured_infrastructure(ctx, config.infrastructure, "config")
    recorded = market.manifest.infrastructure.contracts  # type: ignore[union-attr]
    assert {key: section.contracts[key].address for key in AAVE_CORE_KEYS} == {
        key: recorded[key].address for key in AAVE_CORE_KEYS
    }
    infra = load_infrastructure(w3, section, ctx.artifacts)
    assert infra.aave is not None
    assert infra.aave.reserve_configuration(infra.underlying.address).borrowing_enabled
    assert int(infra.aave.oracle.functions.getAssetPrice(infra.underlying.address).call()) == 3000 * 10**8


@pytest.mark.parametrize("what", ["no code", "not a provider"])
def test_a_bad_provider_address_is_refused_with_what_to_do(market: Market, what: str) -> None:
    address = "0x00000000000000000000000000000000000A11CE" if what == "no code" else market.infra.quote.address
    config = build_config({"infrastructure": _infrastructure_config(market, Web3.to_checksum_address(address))})
    assert config.infrastructure is not None
    ctx = market.context()
    ctx.manifest = Manifest(chain=market.manifest.chain, deployer=market.deployer.address)
    expected = "no contract there" if what == "no code" else "is not an Aave v3 PoolAddressesProvider"
    with pytest.raises(DeploymentMismatch, match=expected) as refused:
        configured_infrastructure(ctx, config.infrastructure, "config")
    assert "infrastructure.aave_addresses_provider" in str(refused.value)
