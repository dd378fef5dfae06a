"""The portfolio stack on top of an infrastructure (its quote token and Uniswap V3): per risky asset a token,
a Chainlink-style feed, a Uniswap V3 asset/quote pool with full-range liquidity (mocks on a dev chain, or
existing ones attached by address) and the project's fail-closed ``PriceOracle``; the ``CovarianceOracle``
over the assets with its first post; the ``PortfolioVault`` with its first targets; the role grants (keepers:
``COV_UPDATER_ROLE`` and ``TARGET_SETTER_ROLE``; guardians: ``GUARDIAN_ROLE``) and the handover of the admin
role of the oracles and the vault to the timelock (or ``roles.admin`` without one).

Every step is idempotent and recorded in the manifest's ``portfolio`` section as it happens (``DeployContext``),
so a rerun sends nothing and an interrupted run resumes. Entry points:

* ``deploy_portfolio_stack(ctx, infra, config) -> PortfolioStack`` (``hedgevault deploy --stack portfolio|both``);
* ``deploy_local_portfolio(w3, portfolio) -> PortfolioStack``: the whole thing on a local chain from an unlocked
  account without a manifest file (tests, the simulator), like ``hedgevault.suite.deploy_suite``;
* ``attach_portfolio(w3, manifest) -> PortfolioStack``: a deployed stack from its manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from web3 import Web3
from web3.contract import Contract

from hedgevault.chain import warp
from hedgevault.chain.abi import Call
from hedgevault.chain.rpc import Rpc
from hedgevault.chain.sending import send
from hedgevault.deployment.config import DeployConfig, GovernanceConfig
from hedgevault.deployment.errors import DeploymentError, DeploymentMismatch
from hedgevault.deployment.infrastructure import (
    ZERO_ADDRESS,
    Infrastructure,
    deploy_local_infrastructure,
    ensure_pool,
    infrastructure_records,
    load_infrastructure,
    seed_full_range,
)
from hedgevault.deployment.manifest import (
    EMPTY_CODE_HASH,
    GOVERNANCE_ARTIFACTS,
    ChainIdentity,
    ContractRecord,
    Manifest,
    PortfolioSection,
    bind,
    code_hash,
)
from hedgevault.deployment.steps import (
    DEFAULT_ADMIN_ROLE,
    DeployContext,
    grant_roles,
    hand_over_admin,
    verify_record,
    verify_records,
)
from hedgevault.deployment.timelock import deploy_timelock
from hedgevault.params import WAD, OracleParams, SuiteConfig
from hedgevault.portfolio.config import AssetConfig, PortfolioConfig, initial_targets, mock_amounts
from hedgevault.toolchain.deploy import link
from hedgevault.uniswap import Uniswap, npm_artifact, price_wad_from_sqrt, raw_price, sqrt_price_x96, swap_exact_input

#: Fully qualified name of the library the vault links (its targets, valuation and rebalancing).
ENGINE_LIBRARY = "contracts/portfolio/PortfolioEngine.sol:PortfolioEngine"
Q96 = 2**96
#: Role holders per contract: manifest ``roles`` key -> (contract key, role getter).
PORTFOLIO_ROLE_GRANTS = (
    ("keepers", "cov_oracle", "COV_UPDATER_ROLE"),
    ("keepers", "vault", "TARGET_SETTER_ROLE"),
    ("guardians", "vault", "GUARDIAN_ROLE"),
)


@dataclass(frozen=True)
class PortfolioAsset:
    """One risky asset as web3 contracts: ``feed`` has the mock's ABI (settable) when ``mock``."""

    symbol: str
    token: Contract
    feed: Contract
    pool: Contract
    price_oracle: Contract
    decimals: int
    feed_decimals: int
    pool_fee: int
    mock: bool

    @property
    def is_token0(self) -> bool:
        return bool(self.pool.functions.token0().call() == self.token.address)


@dataclass(frozen=True)
class PortfolioStack:
    """The deployed portfolio stack. ``vault`` is None only before the vault is deployed (an interrupted
    run). ``admin`` is the operator (``roles.admin``); ``timelock`` holds the admin role when there is one."""

    w3: Web3
    config: PortfolioConfig
    quote: Contract
    quote_decimals: int
    uniswap: Uniswap
    assets: tuple[PortfolioAsset, ...]
    cov_oracle: Contract
    vault: Contract | None
    admin: str
    keepers: tuple[str, ...]
    timelock: Contract | None = None

    def addresses(self) -> dict[str, str]:
        """Every address by manifest key (``token:<symbol>`` ... ``cov_oracle``, ``vault``, ``quote``)."""
        out = {"quote": str(self.quote.address), "cov_oracle": str(self.cov_oracle.address)}
        for a in self.assets:
            for kind in ("token", "feed", "pool", "price_oracle"):
                out[f"{kind}:{a.symbol}"] = str(getattr(a, kind).address)
        if self.vault is not None:
            out["vault"] = str(self.vault.address)
        return out

    def feed_answer(self, i: int, price_wad: int) -> int:
        return int(price_wad * 10 ** self.assets[i].feed_decimals // WAD)

    def set_feed_price(self, i: int, price_wad: int, sender: str) -> None:
        """A new round of asset ``i``'s mock feed at ``price_wad`` (``sender``: an unlocked account)."""
        send(self.w3, self.assets[i].feed.functions.setAnswer(self.feed_answer(i, price_wad)), sender)

    def pool_price_wad(self, i: int) -> Fraction:
        """Asset ``i``'s pool price, quote per whole asset (wad, exact)."""
        a = self.assets[i]
        sqrt_x96 = int(a.pool.functions.slot0().call()[0])
        return price_wad_from_sqrt(sqrt_x96, a.decimals, self.quote_decimals, a.is_token0)

    def move_pool_price(self, i: int, price_wad: int, trader: str) -> None:
        """Swap on asset ``i``'s pool (minting what ``trader``, an unlocked account, needs: mocks only) until
        its price is ``price_wad`` to a few ppm (one swap: full-range liquidity is constant)."""
        a = self.assets[i]
        liquidity = int(a.pool.functions.liquidity().call())
        sqrt_now = int(a.pool.functions.slot0().call()[0])
        target = sqrt_price_x96(raw_price(price_wad, a.decimals, self.quote_decimals, a.is_token0))
        if target == sqrt_now:
            return
        fee_keep = Fraction(10**6 - a.pool_fee, 10**6)
        zero_for_one = target < sqrt_now
        if zero_for_one:  # amount0 = L Q96 (sqrtA - sqrtB) / (sqrtA sqrtB)
            needed = Fraction(liquidity * Q96 * (sqrt_now - target), sqrt_now * target)
        else:  # amount1 = L (sqrtB - sqrtA) / Q96
            needed = Fraction(liquidity * (target - sqrt_now), Q96)
        amount_in = int(needed / fee_keep) + 1
        asset_in = a.is_token0 == zero_for_one
        token_in, token_out = (a.token, self.quote) if asset_in else (self.quote, a.token)
        send(self.w3, token_in.functions.mint(trader, amount_in), trader)
        swap_exact_input(self.w3, self.uniswap, token_in, token_out, a.pool_fee, amount_in, trader)


def portfolio_roles(config: DeployConfig, deployer: str) -> dict[str, Any]:
    """The portfolio's role holders as recorded in the manifest (``admin``: the operator)."""
    admin = config.roles.resolve(deployer)["admin"]
    return {"admin": admin, **config.portfolio.roles(admin)}


def deploy_portfolio_stack(
    ctx: DeployContext,
    infra: Infrastructure,
    config: DeployConfig,
    *,
    warp_clock: bool = True,
    post_targets: bool = True,
) -> PortfolioStack:
    """Deploy (or reuse what the manifest records of) the portfolio stack of ``config.portfolio`` on ``infra``
    (its quote token and Uniswap V3), behind the timelock ``config.governance`` asks for (the same one as the
    option vault's). ``config.portfolio.problems()`` must be empty (``DeployConfigError`` is raised by
    ``build_config`` before anything is sent; this raises ``DeploymentError`` for a config built in code).

    When a mock pool gets its liquidity in this run and ``warp_clock`` is set (dev chains), the clock moves
    forward by the TWAP window and the feeds are refreshed, so the price oracles answer at once.
    ``post_targets=False`` leaves the first targets to the keeper (``hedgevault deploy`` always posts them:
    ``initial_targets``, the optimizer's answer on the first covariance)."""
    portfolio = config.portfolio
    problems = portfolio.problems()
    if problems:
        raise DeploymentError("the portfolio config cannot be deployed: " + "; ".join(problems))
    timelock = deploy_timelock(ctx, config)
    w3, artifacts, deployer = ctx.w3, ctx.artifacts, ctx.sender.address
    if ctx.manifest.portfolio is None:
        ctx.manifest.portfolio = PortfolioSection(
            parameters=portfolio.to_json(), roles=portfolio_roles(config, deployer)
        )
    section = ctx.manifest.portfolio
    records = section.contracts
    quote_decimals = infra.quote_decimals

    seeded = False
    raw_assets: list[tuple[AssetConfig, Contract, Contract, Contract, bool]] = []
    for asset in portfolio.assets:
        if asset.attached:
            token, feed, pool = _attach_asset(ctx, records, asset, infra)
            raw_assets.append((asset, token, feed, pool, False))
            continue
        token = ctx.ensure_contract(
            records,
            f"token:{asset.symbol}",
            artifacts["MockERC20"],
            f"Test {asset.symbol}",
            asset.symbol,
            asset.decimals,
        )
        answer = asset.price_wad * 10**portfolio.feed_decimals // WAD
        feed = ctx.ensure_contract(
            records, f"feed:{asset.symbol}", artifacts["MockAggregator"], portfolio.feed_decimals, answer
        )
        pool = ensure_pool(
            ctx,
            records,
            f"pool:{asset.symbol}",
            infra.uniswap,
            token,
            infra.quote,
            fee=portfolio.pool_fee,
            price_wad=asset.price_wad,
            token_decimals=asset.decimals,
            quote_decimals=quote_decimals,
        )
        if int(pool.functions.liquidity().call()) == 0:
            asset_units, quote_units = mock_amounts(asset, quote_decimals)
            seed_full_range(
                ctx, infra.uniswap, pool, (token, asset_units), (infra.quote, quote_units), what=asset.symbol
            )
            seeded = True
        raw_assets.append((asset, token, feed, pool, True))
    if seeded and warp_clock:
        warp(w3, config.suite.oracle.twap_window_sec)
        ctx.log(f"warped     the clock by {config.suite.oracle.twap_window_sec} s so the pools have a TWAP")
        for asset, _, feed, _, mock in raw_assets:
            if mock:
                answer = int(feed.functions.latestRoundData().call()[1])
                ctx.transact(
                    f"feed:{asset.symbol}: fresh round after the TWAP warm-up", feed.functions.setAnswer(answer)
                )

    oracle_params = OracleParams(**_oracle_params(config))
    assets: list[PortfolioAsset] = []
    for asset, token, feed, pool, mock in raw_assets:
        price_oracle = ctx.ensure_contract(
            records,
            f"price_oracle:{asset.symbol}",
            artifacts["PriceOracle"],
            deployer,
            feed.address,
            infra.sequencer_feed.address if infra.sequencer_feed is not None else ZERO_ADDRESS,
            pool.address,
            token.address,
            infra.quote.address,
            oracle_params.as_tuple(),
        )
        assets.append(
            PortfolioAsset(
                symbol=asset.symbol,
                token=token,
                feed=feed,
                pool=pool,
                price_oracle=price_oracle,
                decimals=int(token.functions.decimals().call()),
                feed_decimals=int(feed.functions.decimals().call()),
                pool_fee=int(pool.functions.fee().call()),
                mock=mock,
            )
        )

    cov_oracle = ctx.ensure_contract(
        records,
        "cov_oracle",
        artifacts["CovarianceOracle"],
        deployer,
        [a.token.address for a in assets],
        portfolio.cov.as_tuple(),
    )
    if int(cov_oracle.functions.lastUpdate().call()) == 0:
        vols_word, words = portfolio.initial_post()
        _as_role_holder(
            ctx,
            cov_oracle,
            "COV_UPDATER_ROLE",
            "cov_oracle",
            "the first covariance post",
            cov_oracle.functions.post(vols_word, list(words)),
        )

    vault = None
    if "PortfolioVault" in artifacts:
        engine = ctx.ensure_contract(records, "engine", artifacts["PortfolioEngine"])
        vault = ctx.ensure_contract(
            records,
            "vault",
            link(artifacts["PortfolioVault"], {ENGINE_LIBRARY: engine.address}),
            infra.quote.address,
            portfolio.name,
            portfolio.symbol,
            deployer,
            [(a.token.address, a.price_oracle.address, a.pool.address) for a in assets],
            cov_oracle.address,
            portfolio.target_rules().as_tuple(),
            portfolio.rebalance.as_tuple(),
        )
        if post_targets and int(vault.functions.targets().call()[2]) == 0:
            weights = list(initial_targets(portfolio))
            _as_role_holder(
                ctx,
                vault,
                "TARGET_SETTER_ROLE",
                "vault",
                f"the first targets {weights}",
                vault.functions.setTargets(weights),
            )
    else:
        ctx.log("skipped  the portfolio vault: this build has no PortfolioVault contract")

    contracts: dict[str, Contract] = {"cov_oracle": cov_oracle}
    if vault is not None:
        contracts["vault"] = vault
    grant_roles(ctx, contracts, PORTFOLIO_ROLE_GRANTS, section.roles, deployer)
    admin = str(timelock.address) if timelock is not None else section.roles["admin"]
    handed = {f"price_oracle:{a.symbol}": a.price_oracle for a in assets} | contracts
    hand_over_admin(ctx, handed, admin, deployer, timelock=timelock is not None)
    ctx.persist()
    return PortfolioStack(
        w3=w3,
        config=portfolio,
        quote=infra.quote,
        quote_decimals=quote_decimals,
        uniswap=infra.uniswap,
        assets=tuple(assets),
        cov_oracle=cov_oracle,
        vault=vault,
        admin=str(section.roles["admin"]),
        keepers=tuple(section.roles["keepers"]),
        timelock=timelock,
    )


def _oracle_params(config: DeployConfig) -> dict[str, int]:
    o = config.suite.oracle
    return {
        "heartbeat_sec": o.heartbeat_sec,
        "sequencer_grace_sec": o.sequencer_grace_sec,
        "twap_window_sec": o.twap_window_sec,
        "max_twap_deviation_bps": o.max_twap_deviation_bps,
        "max_pool_deviation_bps": o.max_pool_deviation_bps,
    }


def _as_role_holder(ctx: DeployContext, contract: Contract, role_name: str, key: str, what: str, fn: Any) -> None:
    """Send ``fn`` (which needs ``role_name``) from the deployer: it grants itself the role for the call and
    renounces it after, unless it holds it anyway (as a keeper). Skipped, with a log line, once the deployer
    is no longer the admin (``deploy --check`` then reports what is missing)."""
    deployer = ctx.sender.address
    role = getattr(contract.functions, role_name)().call()
    held = bool(contract.functions.hasRole(role, deployer).call())
    if not held and not contract.functions.hasRole(DEFAULT_ADMIN_ROLE, deployer).call():
        ctx.log(f"skipped  {what}: the deployer is no longer admin of {key}")
        return
    if not held:
        ctx.transact(
            f"grant {role_name} on {key} to the deployer for {what}", contract.functions.grantRole(role, deployer)
        )
    ctx.transact(what, fn)
    if not held:
        ctx.transact(f"renounce the deployer's {role_name} on {key}", contract.functions.renounceRole(role, deployer))


def _attach_asset(
    ctx: DeployContext, records: dict[str, ContractRecord], asset: AssetConfig, infra: Infrastructure
) -> tuple[Contract, Contract, Contract]:
    """An existing asset (``token``, ``feed``, ``pool`` by address), recorded after checking that each has
    code and that the pool trades the token against the quote token."""
    w3 = ctx.w3
    addresses = {"token": asset.token, "feed": asset.feed, "pool": asset.pool}
    problems = []
    for kind, address in addresses.items():
        key = f"{kind}:{asset.symbol}"
        if address is None:
            problems.append(f"portfolio.assets ({asset.symbol}).{kind}: not given")
            continue
        recorded = records.get(key)
        if recorded is not None:
            verify_record(w3, key, recorded)
            continue
        found = code_hash(w3, address)
        if found == EMPTY_CODE_HASH:
            problems.append(f"portfolio.assets ({asset.symbol}).{kind}: no contract at {address}")
        records[key] = ContractRecord(address=address, artifact=f"external:{kind}", code_hash=found)
    if problems:
        raise DeploymentMismatch(
            f"the configured asset {asset.symbol} is not on this chain",
            problems,
            "Check the addresses in the config's portfolio.assets and that --rpc-url is the right network.",
        )
    assert asset.token is not None and asset.feed is not None and asset.pool is not None  # problems above
    pool = bind(w3, asset.pool, npm_artifact("UniswapV3Pool").abi)
    tokens = {pool.functions.token0().call(), pool.functions.token1().call()}
    if tokens != {asset.token, infra.quote.address}:
        raise DeploymentMismatch(
            f"the configured pool of {asset.symbol} does not trade it against the quote token",
            [f"pool {asset.pool} trades {sorted(tokens)}, the config gives {asset.token} / {infra.quote.address}"],
            "Give the asset/quote Uniswap V3 pool in portfolio.assets[].pool.",
        )
    ctx.reused += [f"{kind}:{asset.symbol}" for kind in addresses]
    ctx.log(f"attached {asset.symbol} (token {asset.token}, feed {asset.feed}, pool {asset.pool})")
    ctx.persist()
    token = bind(w3, asset.token, ctx.artifacts["MockERC20"].abi)
    feed = bind(w3, asset.feed, ctx.artifacts["AggregatorV3Interface"].abi)
    return token, feed, pool


def portfolio_differences(w3: Web3, manifest: Manifest, artifacts: dict[str, Any], check_admin: Any) -> list[str]:
    """Every way the chain differs from the manifest's portfolio section (code hashes are checked by the
    caller first): each pool trades its token against the quote token; each price oracle reads the recorded
    feed and pool; the covariance oracle's assets and bounds; the vault's holdings, oracle, rules and
    rebalancing parameters; the keepers' and guardians' roles; and the admin role held by the timelock (or
    ``roles.admin``) alone (``check_admin``: ``checks._check_admin_holders``)."""
    section, infra = manifest.portfolio, manifest.infrastructure
    if section is None or infra is None:
        return []
    c = section.contracts
    config = PortfolioConfig.from_json(section.parameters)
    diffs: list[str] = []
    expected_keys = [f"{kind}:{a.symbol}" for a in config.assets for kind in ("token", "feed", "pool", "price_oracle")]
    expected_keys.append("cov_oracle")
    if "PortfolioVault" in artifacts:
        expected_keys += ["engine", "vault"]
    missing = [k for k in expected_keys if k not in c]
    if missing:
        return [f"portfolio.{k}: not deployed yet (run `hedgevault deploy` again to finish)" for k in missing]
    quote = infra.contracts["quote"].address

    def expect(what: str, expected: Any, found: Any) -> None:
        if expected != found:
            diffs.append(f"{what}: expected {expected!r}, the chain has {found!r}")

    for asset in config.assets:
        s = asset.symbol
        pool = bind(w3, c[f"pool:{s}"].address, npm_artifact("UniswapV3Pool").abi)
        expect(
            f"portfolio.pool:{s} tokens",
            sorted([c[f"token:{s}"].address, quote]),
            sorted([pool.functions.token0().call(), pool.functions.token1().call()]),
        )
        po = bind(w3, c[f"price_oracle:{s}"].address, artifacts["PriceOracle"].abi).functions
        expect(f"portfolio.price_oracle:{s}.feed", c[f"feed:{s}"].address, po.feed().call())
        expect(f"portfolio.price_oracle:{s}.pool", c[f"pool:{s}"].address, po.pool().call())
    cov = bind(w3, c["cov_oracle"].address, artifacts["CovarianceOracle"].abi)
    tokens = [c[f"token:{a.symbol}"].address for a in config.assets]
    expect("portfolio.cov_oracle.assets", tokens, list(cov.functions.assets().call()))
    expect("portfolio.cov_oracle.params", list(config.cov.as_tuple()), [int(v) for v in cov.functions.params().call()])
    if int(cov.functions.lastUpdate().call()) == 0:
        diffs.append("portfolio.cov_oracle: nothing posted yet (the first post did not happen)")
    contracts: dict[str, Contract] = {"cov_oracle": cov}
    if "vault" in c:
        vault = bind(w3, c["vault"].address, artifacts["PortfolioVault"].abi)
        contracts["vault"] = vault
        v = vault.functions
        expect("portfolio.vault.asset", quote, v.asset().call())
        expect("portfolio.vault.covarianceOracle", c["cov_oracle"].address, v.covarianceOracle().call())
        holdings = [
            (c[f"token:{a.symbol}"].address, c[f"price_oracle:{a.symbol}"].address, c[f"pool:{a.symbol}"].address)
            for a in config.assets
        ]
        expect("portfolio.vault.holdings", holdings, [tuple(h) for h in v.holdings().call()])
        expect("portfolio.vault.rules", config.target_rules().as_tuple(), _plain(v.rules().call()))
        expect("portfolio.vault.rebalanceParams", config.rebalance.as_tuple(), _plain(v.rebalanceParams().call()))
        if bytes.fromhex(c["engine"].address[2:]) not in bytes(w3.eth.get_code(vault.address)):
            diffs.append(
                f"portfolio.vault: its code does not call the recorded {ENGINE_LIBRARY} at {c['engine'].address}"
            )
        if int(v.targets().call()[2]) == 0:
            diffs.append("portfolio.vault: no targets set yet (the first targets did not happen)")
    roles = section.roles
    for holders_key, contract_key, role_name in PORTFOLIO_ROLE_GRANTS:
        contract = contracts.get(contract_key)
        if contract is None:
            continue
        role = getattr(contract.functions, role_name)().call()
        for holder in roles[holders_key]:
            if not contract.functions.hasRole(role, holder).call():
                diffs.append(f"portfolio.{contract_key}: {holder} lacks {role_name} (portfolio.{holders_key})")
    expected_admin = manifest.admin_holder or roles["admin"]
    admin_contracts = {
        f"price_oracle:{a.symbol}": bind(w3, c[f"price_oracle:{a.symbol}"].address, artifacts["PriceOracle"].abi)
        for a in config.assets
    } | contracts
    for key, contract in admin_contracts.items():
        check_admin(w3, diffs, f"portfolio.{key}", contract, c[key].block, expected_admin, manifest)
    return diffs


def _plain(value: Any) -> Any:
    """A decoded ABI value with tuples and lists as tuples and lists of plain ints/strings (for comparison)."""
    if isinstance(value, list | tuple):
        items = [_plain(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    return int(value) if isinstance(value, int) else value


def deploy_local_portfolio(
    w3: Web3,
    portfolio: PortfolioConfig | None = None,
    *,
    admin: str | None = None,
    suite: SuiteConfig | None = None,
    timelock_delay_sec: int | None = None,
    post_targets: bool = True,
) -> PortfolioStack:
    """Deploy the infrastructure (``suite``'s; its quote token and Uniswap V3 serve the portfolio) and the
    portfolio stack on a local chain from the unlocked account ``admin`` (default: the first account), which
    holds every role (keeper and guardian too unless ``portfolio`` names others) and, without a timelock
    (``timelock_delay_sec=None``, the default), the admin role. No manifest file is written."""
    portfolio = portfolio or PortfolioConfig(enabled=True)
    admin = admin or str(w3.eth.accounts[0])
    ctx = DeployContext.local(w3, admin)
    infra = deploy_local_infrastructure(ctx, suite or SuiteConfig())
    config = DeployConfig(
        suite=suite or SuiteConfig(),
        portfolio=portfolio,
        governance=GovernanceConfig(timelock_delay_sec=timelock_delay_sec),
    )
    return deploy_portfolio_stack(ctx, infra, config, post_targets=post_targets)


def attach_portfolio(w3: Web3, manifest: Manifest) -> PortfolioStack:
    """Web3 contracts of the portfolio stack ``manifest`` records, after checking the chain and every code
    hash (``WrongChainError``, ``DeploymentMismatch``)."""
    from hedgevault.toolchain.compiler import compile_project

    manifest.check_chain(ChainIdentity.read(w3), "the manifest")
    section = manifest.portfolio
    if section is None or manifest.infrastructure is None:
        raise DeploymentError(
            "the manifest records no portfolio stack: deploy one with `hedgevault deploy --stack portfolio` "
            "(or --stack both)"
        )
    # every recorded contract's code, in one round trip; a mismatch names them all
    records = infrastructure_records(manifest.infrastructure)
    records.update({f"portfolio.{key}": record for key, record in section.contracts.items()})
    verify_records(w3, records)
    artifacts = compile_project()
    infra = load_infrastructure(w3, manifest.infrastructure, artifacts, verify=False)
    config = PortfolioConfig.from_json(section.parameters)
    c = section.contracts
    missing = [k for k in ("cov_oracle",) if k not in c]
    if missing:
        raise DeploymentError("the manifest's portfolio stack is unfinished: run `hedgevault deploy` to finish it")
    bound = []
    for asset in config.assets:
        s = asset.symbol
        mock = c[f"token:{s}"].artifact == "MockERC20"
        token = bind(w3, c[f"token:{s}"].address, artifacts["MockERC20"].abi)
        feed = bind(w3, c[f"feed:{s}"].address, artifacts["MockAggregator" if mock else "AggregatorV3Interface"].abi)
        pool = bind(w3, c[f"pool:{s}"].address, npm_artifact("UniswapV3Pool").abi)
        bound.append((s, mock, token, feed, pool))
    # each asset's decimals, feed decimals and pool fee: one batched round trip
    answers = Rpc(w3).calls(
        [
            Call(contract, name)
            for _, _, token, feed, pool in bound
            for contract, name in ((token, "decimals"), (feed, "decimals"), (pool, "fee"))
        ]
    )
    assets = [
        PortfolioAsset(
            symbol=s,
            token=token,
            feed=feed,
            pool=pool,
            price_oracle=bind(w3, c[f"price_oracle:{s}"].address, artifacts["PriceOracle"].abi),
            decimals=int(answers[3 * k]),
            feed_decimals=int(answers[3 * k + 1]),
            pool_fee=int(answers[3 * k + 2]),
            mock=mock,
        )
        for k, (s, mock, token, feed, pool) in enumerate(bound)
    ]
    timelock = None
    if manifest.governance is not None and manifest.governance.timelock_address is not None:
        timelock = bind(w3, manifest.governance.timelock_address, artifacts[GOVERNANCE_ARTIFACTS["timelock"]].abi)
    vault = bind(w3, c["vault"].address, artifacts["PortfolioVault"].abi) if "vault" in c else None
    if vault is None and "PortfolioVault" in artifacts:
        raise DeploymentError(
            "the manifest's portfolio vault is not deployed yet: run `hedgevault deploy` to finish it"
        )
    return PortfolioStack(
        w3=w3,
        config=config,
        quote=infra.quote,
        quote_decimals=infra.quote_decimals,
        uniswap=infra.uniswap,
        assets=tuple(assets),
        cov_oracle=bind(w3, c["cov_oracle"].address, artifacts["CovarianceOracle"].abi),
        vault=vault,
        admin=str(section.roles["admin"]),
        keepers=tuple(section.roles["keepers"]),
        timelock=timelock,
    )
