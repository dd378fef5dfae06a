"""Uniswap V3 on a local chain from the canonical npm artifacts (deployed as they are).

* ``deploy_uniswap``: factory, SwapRouter and NonfungiblePositionManager.
* ``create_pool``: create and initialise a pool at a price given as quote per underlying (wad), grow
  its observation history for TWAPs.
* ``add_full_range_liquidity``: mint a full-range position through the position manager.
* ``swap_exact_input``: one swap through the router (what an arbitrageur or attacker does).

Prices: ``price_wad`` is quote per underlying in wad, whatever the tokens' decimals and order; the
pool's own price is token1 raw per token0 raw, ``sqrtPriceX96 = sqrt(price_raw) * 2^96``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.chain.sending import send
from hedgevault.errors import ToolchainError
from hedgevault.toolchain.compiler import Artifact
from hedgevault.toolchain.deploy import deploy
from hedgevault.toolchain.paths import NODE_MODULES

WAD = 10**18
Q96 = 2**96
#: Fee tier (pips) -> tick spacing. 500, 3000 and 10000 are enabled by the factory's constructor; 100 and 0
#: (no swap fee: benchmarks of hedging without costs) are enabled by the factory owner on a local chain.
TICK_SPACING = {0: 1, 100: 1, 500: 10, 3000: 60, 10000: 200}
MAX_TICK = 887272
_ARTIFACTS = {
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
    ),
}
FAR_DEADLINE = 2**63


def npm_artifact(name: str) -> Artifact:
    """A Uniswap V3 artifact from node_modules as an ``Artifact``."""
    path = NODE_MODULES / _ARTIFACTS[name]
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ToolchainError(
            f"{path} is missing: run `npm ci` in the project root to install @uniswap/v3-core and v3-periphery"
        ) from exc
    return Artifact(
        name=name,
        source=str(path),
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
    )


@dataclass(frozen=True)
class Uniswap:
    """The deployed Uniswap V3 contracts."""

    factory: Contract
    router: Contract
    position_manager: Contract


def deploy_uniswap(w3: Web3, weth: str, deployer: str) -> Uniswap:
    """Deploy the factory, SwapRouter and NonfungiblePositionManager.

    ``weth`` is any ERC-20 address: the router only unwraps it for ETH swaps, which the vaults never
    make. The position manager's token descriptor is the zero address (``tokenURI`` is never called).
    """
    factory = deploy(w3, npm_artifact("UniswapV3Factory"), sender=deployer)
    router = deploy(w3, npm_artifact("SwapRouter"), factory.address, weth, sender=deployer)
    manager = deploy(
        w3,
        npm_artifact("NonfungiblePositionManager"),
        factory.address,
        weth,
        "0x0000000000000000000000000000000000000000",
        sender=deployer,
    )
    return Uniswap(factory=factory, router=router, position_manager=manager)


def raw_price(price_wad: int, underlying_decimals: int, quote_decimals: int, underlying_is_token0: bool) -> Fraction:
    """token1 raw per token0 raw for a price of ``price_wad`` quote per underlying."""
    quote_per_underlying_raw = Fraction(price_wad * 10**quote_decimals, WAD * 10**underlying_decimals)
    return quote_per_underlying_raw if underlying_is_token0 else 1 / quote_per_underlying_raw


def sqrt_price_x96(price: Fraction) -> int:
    """floor(sqrt(price) * 2^96) for a token1-per-token0 raw price."""
    return math.isqrt(price.numerator * 2**192 // price.denominator)


def price_wad_from_sqrt(
    sqrt_x96: int, underlying_decimals: int, quote_decimals: int, underlying_is_token0: bool
) -> Fraction:
    """Inverse of ``raw_price`` + ``sqrt_price_x96``: quote per underlying in wad (exact fraction)."""
    raw = Fraction(sqrt_x96 * sqrt_x96, 2**192)
    quote_per_underlying_raw = raw if underlying_is_token0 else 1 / raw
    return Fraction(quote_per_underlying_raw * WAD * 10**underlying_decimals / 10**quote_decimals)


def create_pool(
    w3: Web3,
    uniswap: Uniswap,
    underlying: Contract,
    quote: Contract,
    fee: int,
    price_wad: int,
    deployer: str,
    observation_cardinality: int = 64,
) -> Contract:
    """Create the underlying/quote pool, initialise it at ``price_wad`` and grow its TWAP history."""
    send(w3, uniswap.factory.functions.createPool(underlying.address, quote.address, fee), deployer)
    address = uniswap.factory.functions.getPool(underlying.address, quote.address, fee).call()
    pool: Contract = w3.eth.contract(address=address, abi=npm_artifact("UniswapV3Pool").abi)
    is_token0 = pool.functions.token0().call() == underlying.address
    price = raw_price(price_wad, underlying.functions.decimals().call(), quote.functions.decimals().call(), is_token0)
    send(w3, pool.functions.initialize(sqrt_price_x96(price)), deployer)
    send(w3, pool.functions.increaseObservationCardinalityNext(observation_cardinality), deployer)
    return pool


def swap_exact_input(
    w3: Web3, uniswap: Uniswap, token_in: Contract, token_out: Contract, fee: int, amount_in: int, trader: str
) -> int:
    """Swap exactly ``amount_in`` of ``token_in`` (held by ``trader``) for ``token_out``; return the output."""
    send(w3, token_in.functions.approve(uniswap.router.address, amount_in), trader)
    params = (token_in.address, token_out.address, fee, trader, FAR_DEADLINE, amount_in, 0, 0)
    fn = uniswap.router.functions.exactInputSingle(params)
    out = int(fn.call({"from": trader}))
    send(w3, fn, trader)
    return out


def _erc20_abi() -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": "approve",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
            "outputs": [{"name": "", "type": "bool"}],
        }
    ]
