"""A portfolio vault on a local chain, for tests and benchmarks: a mock quote token, N mock assets with their
settable Chainlink-style feeds (``MockAggregator``), the real Uniswap V3 factory and one full-range pool per
asset against the quote (npm artifacts), a fail-closed ``PriceOracle`` per asset, a ``CovarianceOracle`` over
the assets, and the ``PortfolioVault`` linked to its ``PortfolioEngine`` library.

``deploy_portfolio_vault`` is the one place that knows the vault's constructor and its linked library (the
deployment of ``hedgevault deploy`` can call it with its own addresses). Units: prices quote per asset in wad,
token amounts in the token's own units, ``*_bps`` 1/10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.chain import warp
from hedgevault.chain.sending import send
from hedgevault.params import OracleParams
from hedgevault.portfolio import mirror
from hedgevault.portfolio.mirror import CovParams, RebalanceParams, TargetRules
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy, link
from hedgevault.uniswap import (
    FAR_DEADLINE,
    MAX_TICK,
    Uniswap,
    create_pool,
    deploy_uniswap,
    price_wad_from_sqrt,
    raw_price,
    sqrt_price_x96,
    swap_exact_input,
)

WAD = 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: Fully qualified name of the library the vault links.
ENGINE_LIBRARY = "contracts/portfolio/PortfolioEngine.sol:PortfolioEngine"


@dataclass(frozen=True)
class AssetSpec:
    """One mock asset: its decimals, price (quote per asset, wad), the whole tokens of the pool's full-range
    liquidity and its annualised volatility (bp) for the first covariance post."""

    symbol: str
    decimals: int
    price_wad: int
    pool_tokens: int
    vol_bp: int


#: WETH-, WBTC- and SOL-like assets (18, 8 and 9 decimals), pools of 60,000,000 quote a side: a slice at the
#: default 1% bound (0.3% fee, 0.7% price move) trades about 210,000 quote.
DEFAULT_ASSETS = (
    AssetSpec("tETH", 18, 3_000 * WAD, 20_000, 6_000),
    AssetSpec("tBTC", 8, 60_000 * WAD, 1_000, 5_000),
    AssetSpec("tSOL", 9, 150 * WAD, 400_000, 9_000),
)


def default_rules(n: int) -> TargetRules:
    """TargetVol mode, weights in [0, 1], ex-ante volatility in [10%, 40%]."""
    return TargetRules(
        mode=mirror.Mode.TARGET_VOL,
        min_weight_wad=(0,) * n,
        max_weight_wad=(WAD,) * n,
        min_vol_wad=WAD // 10,
        max_vol_wad=4 * WAD // 10,
    )


@dataclass(frozen=True)
class StackConfig:
    """What to deploy: the assets, the quote's decimals, the feeds' decimals, the pools' fee, the first
    covariance post (the assets' vols and one correlation for every pair, bp), the oracles' and the vault's
    parameters."""

    assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS
    quote_decimals: int = 6
    feed_decimals: int = 8
    pool_fee: int = 3000
    corr_bp: int = 3_000
    oracle: OracleParams = field(default_factory=OracleParams)
    cov: CovParams = mirror.DEFAULT_COV_PARAMS
    params: RebalanceParams = mirror.DEFAULT_REBALANCE_PARAMS
    rules: TargetRules | None = None


@dataclass
class PortfolioStack:
    """The deployed stack (web3 contracts) and its config."""

    w3: Web3
    config: StackConfig
    admin: str
    quote: Contract
    tokens: list[Contract]
    feeds: list[Contract]
    pools: list[Contract]
    price_oracles: list[Contract]
    uniswap: Uniswap
    cov_oracle: Contract
    engine: Contract
    vault: Contract

    def feed_answer(self, price_wad: int) -> int:
        scale: int = 10**self.config.feed_decimals
        return price_wad * scale // WAD

    def set_price(self, i: int, price_wad: int) -> None:
        """A new feed round for asset i at ``price_wad`` (the pool is not moved)."""
        send(self.w3, self.feeds[i].functions.setAnswer(self.feed_answer(price_wad)), self.admin)

    def pool_price_wad(self, i: int) -> Fraction:
        """Asset i's pool price (slot0), quote per asset in wad."""
        spec = self.config.assets[i]
        sqrt_x96 = int(self.pools[i].functions.slot0().call()[0])
        return price_wad_from_sqrt(sqrt_x96, spec.decimals, self.config.quote_decimals, self._asset_is_token0(i))

    def _asset_is_token0(self, i: int) -> bool:
        return bool(self.pools[i].functions.token0().call() == self.tokens[i].address)

    def move_pool_price(self, i: int, price_wad: int, trader: str) -> None:
        """Swap on asset i's pool (minting what ``trader`` needs) until its price is ``price_wad`` to within a
        few ppm (full-range liquidity is constant: one swap of the computed size gets there)."""
        pool = self.pools[i]
        liquidity = int(pool.functions.liquidity().call())
        sqrt_now = int(pool.functions.slot0().call()[0])
        spec = self.config.assets[i]
        is_token0 = self._asset_is_token0(i)
        target = sqrt_price_x96(raw_price(price_wad, spec.decimals, self.config.quote_decimals, is_token0))
        if target == sqrt_now:
            return
        keep = Fraction(10**6 - self.config.pool_fee, 10**6)
        zero_for_one = target < sqrt_now
        q96 = 2**96
        if zero_for_one:
            needed = Fraction(liquidity * q96 * (sqrt_now - target), sqrt_now * target)
        else:
            needed = Fraction(liquidity * (target - sqrt_now), q96)
        amount_in = int(needed / keep) + 1
        asset_in = is_token0 == zero_for_one
        token_in, token_out = (self.tokens[i], self.quote) if asset_in else (self.quote, self.tokens[i])
        send(self.w3, token_in.functions.mint(trader, amount_in), trader)
        swap_exact_input(self.w3, self.uniswap, token_in, token_out, self.config.pool_fee, amount_in, trader)

    def arbitrage(self, trader: str) -> None:
        """Move every pool back to its feed's price (what arbitrageurs do between upkeeps)."""
        for i, feed in enumerate(self.feeds):
            answer = int(feed.functions.latestRoundData().call()[1])
            self.move_pool_price(i, answer * WAD // 10**self.config.feed_decimals, trader)

    def reprice(self, i: int, price_wad: int, trader: str, wait_sec: int = 600) -> None:
        """Asset i's feed to ``price_wad`` with its pool following, then ``wait_sec`` (the TWAP window by default)
        and a fresh round of every feed: the market a slice of asset i meets next."""
        self.set_price(i, price_wad)
        self.move_pool_price(i, price_wad, trader)
        warp(self.w3, wait_sec)
        self.refresh_feeds()

    def refresh_feeds(self) -> None:
        """A fresh round at each feed's current answer (after a warp beyond the heartbeat)."""
        for feed in self.feeds:
            answer = int(feed.functions.latestRoundData().call()[1])
            send(self.w3, feed.functions.setAnswer(answer), self.admin)


def deploy_portfolio_vault(
    w3: Web3,
    artifacts: dict[str, Artifact],
    deployer: str,
    *,
    quote: str,
    admin: str,
    holdings: Sequence[tuple[str, str, str]],
    cov_oracle: str,
    rules: TargetRules,
    params: RebalanceParams,
    name: str = "hedgevault portfolio",
    symbol: str = "hvPORT",
) -> tuple[Contract, Contract]:
    """Deploy ``PortfolioEngine`` and the ``PortfolioVault`` linked to it; ``holdings`` are (token, price oracle,
    pool) in the covariance oracle's asset order. Returns (vault, engine)."""
    engine = deploy(w3, artifacts["PortfolioEngine"], sender=deployer)
    vault_artifact = link(artifacts["PortfolioVault"], {ENGINE_LIBRARY: engine.address})
    vault = deploy(
        w3,
        vault_artifact,
        quote,
        name,
        symbol,
        admin,
        [list(h) for h in holdings],
        cov_oracle,
        rules.as_tuple(),
        params.as_tuple(),
        sender=deployer,
    )
    return vault, engine


def _full_range(w3: Web3, uniswap: Uniswap, pool: Contract, amounts: dict[str, int], owner: str, erc20: Any) -> None:
    token0 = pool.functions.token0().call()
    token1 = pool.functions.token1().call()
    spacing = int(pool.functions.tickSpacing().call())
    top = MAX_TICK // spacing * spacing
    for token in (token0, token1):
        send(
            w3,
            w3.eth.contract(address=token, abi=erc20).functions.approve(
                uniswap.position_manager.address, amounts[token]
            ),
            owner,
        )
    fee = int(pool.functions.fee().call())
    params = (token0, token1, fee, -top, top, amounts[token0], amounts[token1], 0, 0, owner, FAR_DEADLINE)
    send(w3, uniswap.position_manager.functions.mint(params), owner)


def deploy_local_stack(
    w3: Web3, artifacts: dict[str, Artifact], admin: str, config: StackConfig | None = None
) -> PortfolioStack:
    """Deploy the whole stack from the unlocked ``admin`` (who gets every role of the vault and is the
    covariance oracle's updater), post the first covariance (``config``'s vols, one correlation for all
    pairs), and warp the clock by the TWAP window so that the price oracles answer at once."""
    config = config or StackConfig()
    erc20 = artifacts["MockERC20"].abi
    quote = deploy(w3, artifacts["MockERC20"], "Test USD", "tUSD", config.quote_decimals, sender=admin)
    tokens = [
        deploy(w3, artifacts["MockERC20"], f"Test {a.symbol}", a.symbol, a.decimals, sender=admin)
        for a in config.assets
    ]
    feeds = [
        deploy(
            w3,
            artifacts["MockAggregator"],
            config.feed_decimals,
            a.price_wad * 10**config.feed_decimals // WAD,
            sender=admin,
        )
        for a in config.assets
    ]
    uniswap = deploy_uniswap(w3, tokens[0].address, admin)
    pools: list[Contract] = []
    oracles: list[Contract] = []
    for spec, token, feed in zip(config.assets, tokens, feeds, strict=True):
        pool = create_pool(w3, uniswap, token, quote, config.pool_fee, spec.price_wad, admin)
        amount = spec.pool_tokens * 10**spec.decimals
        quote_amount = amount * spec.price_wad // WAD * 10**config.quote_decimals // 10**spec.decimals
        send(w3, token.functions.mint(admin, amount), admin)
        send(w3, quote.functions.mint(admin, quote_amount), admin)
        _full_range(w3, uniswap, pool, {token.address: amount, quote.address: quote_amount}, admin, erc20)
        pools.append(pool)
        oracle = deploy(
            w3,
            artifacts["PriceOracle"],
            admin,
            feed.address,
            ZERO_ADDRESS,
            pool.address,
            token.address,
            quote.address,
            config.oracle.as_tuple(),
            sender=admin,
        )
        oracles.append(oracle)
    n = len(config.assets)
    cov = deploy(
        w3, artifacts["CovarianceOracle"], admin, [t.address for t in tokens], config.cov.as_tuple(), sender=admin
    )
    send(w3, cov.functions.grantRole(cov.functions.COV_UPDATER_ROLE().call(), admin), admin)
    vols = [a.vol_bp for a in config.assets]
    corrs = [config.corr_bp] * mirror.pair_count(n)
    send(w3, cov.functions.post(mirror.pack_vols(vols), list(mirror.pack_corrs(corrs))), admin)
    vault, engine = deploy_portfolio_vault(
        w3,
        artifacts,
        admin,
        quote=quote.address,
        admin=admin,
        holdings=[(t.address, o.address, p.address) for t, o, p in zip(tokens, oracles, pools, strict=True)],
        cov_oracle=cov.address,
        rules=config.rules or default_rules(n),
        params=config.params,
    )
    for role in ("GUARDIAN_ROLE", "TARGET_SETTER_ROLE"):
        send(w3, vault.functions.grantRole(getattr(vault.functions, role)().call(), admin), admin)
    warp(w3, config.oracle.twap_window_sec)
    stack = PortfolioStack(
        w3=w3,
        config=config,
        admin=admin,
        quote=quote,
        tokens=tokens,
        feeds=feeds,
        pools=pools,
        price_oracles=oracles,
        uniswap=uniswap,
        cov_oracle=cov,
        engine=engine,
        vault=vault,
    )
    stack.refresh_feeds()
    return stack
