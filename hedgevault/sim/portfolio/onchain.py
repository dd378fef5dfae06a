"""The portfolio vault on a local Anvil driven through the paths, with the real keeper.

Setup: the portfolio stack (``hedgevault.deployment.portfolio.deploy_local_portfolio``: tokens, feeds, pools
with full-range liquidity, price oracles, the covariance oracle with its first post, the vault with its first
targets) with the keeper account holding the keeper roles; the feeds get ``history`` rounds of the market's
past (the same model, an independent seed, ending at the first price) so that the keeper has the history its
covariance estimate needs at t0; the depositors deposit; the keeper posts the covariance and the targets and
invests the deposits (its upkeeps, as many passes as it takes; their cost is reported as the initial
investment, not as rebalancing; the arbitrageur moves the pools back between the passes). Step 0 is the
state then.

Each step k (at t0 + times[k]):

1. an arbitrageur swaps every pool to the step's price, TWAP window + 1 s before the step time (so the pool's
   TWAP has caught up when the feeds move), then the clock moves to the step time and the feeds post the
   step's prices (the oracle network; not the keeper's job);
2. depositors come and go (seeded; withdrawals within ``maxWithdraw``, beyond the quote buffer the vault
   sells assets);
3. the real keeper (``hedgevault.keeper.Keeper.tick`` with a ``PortfolioKeeperTask``) posts the covariance
   and the targets when due and sends rebalancing slices while ``checkUpkeep`` asks for them (the market's
   moves and the depositors' flows of the step); while its last covariance post was clipped by the oracle's
   step limits (``PortfolioKeeperTask.cov_behind``), the keeper ticks again every ``follow_up_sec`` (an hour:
   the oracle's per-hour rate) within the step, before the next step's arbitrage, as a deployed keeper that
   ticks every block would: without these follow-ups a crash's estimate reaches the chain at one clipped post
   per 4-hour step, a quarter of the rate the oracle allows (the feeds repeat the step's prices at each: the
   oracle network's heartbeat; the estimate is the step's);
4. the step's receipts are read in one batch and booked; the state is read at the head into the record.

Accounting (quote units, exact): with the vault's valuation v(b, p) (floored per asset),
``NAV_k - NAV_(k-1) = holdings PnL + flows - costs`` where holdings PnL = sum_i v(b_i, p_k) - v(b_i, p_(k-1))
over the balances b at the end of step k - 1, flows = deposits - withdrawals - the withdrawers' sale costs,
and costs = the NAV effect of the rebalancing slices at the step's price (the sum of their ``costQuote``,
each ``NAV before - NAV after``). The ledger replays every balance from the events and checks it against
the chain at each step's end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from web3 import Web3

from hedgevault.chain import freeze_clock, latest_timestamp, local_node
from hedgevault.chain.abi import Call, decode_log, event_table
from hedgevault.chain.rpc import Reverted
from hedgevault.keeper.portfolio import DEFAULT_QUOTE_BUFFER_WAD, DEFAULT_REPOST_ERROR_WAD
from hedgevault.keys import anvil_account
from hedgevault.portfolio.mirror import DEFAULT_REBALANCE_PARAMS
from hedgevault.sim.errors import SimulationError
from hedgevault.sim.portfolio import baselines as bl
from hedgevault.sim.portfolio.baselines import VaultRun
from hedgevault.sim.portfolio.costs import FEE_UNIT_PIPS, GasModel, PoolModel
from hedgevault.sim.portfolio.market import (
    HOUR_SEC,
    AssetSpec,
    MarketParams,
    Paths,
    simulate_paths,
)
from hedgevault.sim.rpc import DevRpc
from hedgevault.uniswap import FAR_DEADLINE, Q96, raw_price, sqrt_price_x96

WAD = 10**18
ADMIN_INDEX = 0
DEPOSITOR_INDEXES = (1, 2, 3)
ARBITRAGEUR_INDEX = 7
KEEPER_INDEX = 8
#: Whole quote tokens each depositor puts in at the start, and holds besides for later deposits.
INITIAL_DEPOSIT_WHOLE = 250_000
DEPOSITOR_RESERVE_WHOLE = 2_000_000
#: Keeper passes allowed to invest the first deposits before step 0.
MAX_SETUP_PASSES = 20


@dataclass(frozen=True)
class FlowParams:
    """Seeded depositors: each step, each depositor deposits with ``deposit_prob`` (uniform in
    [deposit_min, deposit_max] whole quote) or withdraws with ``withdraw_prob`` a uniform
    [withdraw_min, withdraw_max] share of what ``maxWithdraw`` allows."""

    deposit_prob: float = 0.02
    withdraw_prob: float = 0.02
    deposit_min: int = 5_000
    deposit_max: int = 50_000
    withdraw_min: float = 0.02
    withdraw_max: float = 0.25


@dataclass(frozen=True)
class ChainOptions:
    """Keeper settings for the run (``PortfolioTaskConfig``): covariance and targets every step, EWMA with
    ``ewma_decay`` per step-long sample over ``history_steps`` samples, raised to a fast EWMA's volatilities
    (``ewma_fast_decay``, 0: off) beyond ``ewma_fast_margin``; the vault's band scale
    (``RebalanceParams.bandScaleBp``) and risk-parity catch-up (``rcToleranceWad``, ``rcDustWad``, as
    fractions); the keeper's slices per step (``max_upkeeps_per_pass``: high enough that a step's slices run
    until ``checkUpkeep`` is false, so the step's end is after its rebalance); flows. The off-chain model uses
    the same decay, band scale and catch-up."""

    ewma_decay: float = 0.94
    ewma_fast_decay: float = 0.8
    ewma_fast_margin: float = 0.2
    history_steps: int = 90
    band_scale_bp: int = DEFAULT_REBALANCE_PARAMS.band_scale_bp
    rc_tolerance: float = 0.05
    rc_dust: float = 0.001
    max_upkeeps_per_pass: int = 40
    #: The keeper's follow-up ticks within a step while its covariance post is clipped (s apart; 0: none).
    follow_up_sec: int = HOUR_SEC
    derisk_margin: float = DEFAULT_REBALANCE_PARAMS.derisk_margin_bps / 10_000
    #: The keeper's re-post threshold for risk-parity / min-variance targets (``PortfolioTaskConfig.repost_error_wad``
    #: as a fraction; 0: off); the model's keeper applies the same rule.
    repost_error: float = DEFAULT_REPOST_ERROR_WAD / WAD
    #: Risk-parity targets scaled by (1 - this), the rest in quote (``PortfolioTaskConfig.quote_buffer_wad``).
    quote_buffer: float = DEFAULT_QUOTE_BUFFER_WAD / WAD
    flows: FlowParams | None = field(default_factory=FlowParams)


@dataclass
class StepRecord:
    """The state after step k: NAV and balances (units), weights, targets, bands (floats), ex-ante vol and
    tracking error, budget, and what happened during the step."""

    step: int
    time_sec: int
    nav: int
    quote_balance: int
    total_supply: int
    balances: list[int]
    prices_wad: list[int]
    weights: list[float]
    targets: list[float]
    bands: list[float]
    ex_ante_vol: float
    target_vol: float
    tracking_error: float
    budget_available: int
    budget_capacity: int
    cov_vols: list[float]
    cov_corrs: list[float]
    slices: int
    traded_quote: int
    cost_quote: int
    fee_quote: float
    rebalance_gas: int
    keeper_gas: int
    deposits: int
    withdrawals: int
    withdrawal_costs: int
    holdings_pnl: int
    residual: int
    cov_posts: int
    target_posts: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def market_from_config(config: Any) -> MarketParams:
    """The deployed portfolio's assets (symbols, decimals, prices) with the volatilities and correlations of
    its first covariance post (``hedgevault.portfolio.config.vols_and_corr``)."""
    from hedgevault.portfolio.config import vols_and_corr

    vols, corr = vols_and_corr(config)
    assets = tuple(
        AssetSpec(a.symbol, a.decimals, a.price_wad / WAD, float(v)) for a, v in zip(config.assets, vols, strict=True)
    )
    return MarketParams(assets=assets, correlation=tuple(tuple(float(x) for x in row) for row in corr))


class PoolArbitrageur:
    """Moves each pool to a price in one ``exactInputSingle`` with the target as its price limit (full-range
    liquidity is constant, so the input is exact; the router takes only what is used). Funded at setup."""

    def __init__(self, rpc: DevRpc, stack: Any, address: str) -> None:
        self.rpc = rpc
        self.stack = stack
        self.address = address

    def fund(self) -> None:
        s = self.stack
        for a in s.assets:
            pool_assets = int(a.token.functions.balanceOf(a.pool.address).call())
            self.rpc.send(self.address, a.token, "mint", self.address, 100 * pool_assets)
            self.rpc.send(self.address, a.token, "approve", s.uniswap.router.address, 2**256 - 1)
        pool_quote = sum(int(s.quote.functions.balanceOf(a.pool.address).call()) for a in s.assets)
        self.rpc.send(self.address, s.quote, "mint", self.address, 100 * pool_quote)
        self.rpc.send(self.address, s.quote, "approve", s.uniswap.router.address, 2**256 - 1)

    def move_all(self, prices_wad: list[int] | tuple[int, ...], block_timestamp: int | None = None) -> None:
        """One batch of reads, then one batch of swaps (one per pool away from its price; all in one block at
        ``block_timestamp`` when given)."""
        s = self.stack
        reads = self.rpc.calls([Call(a.pool, name) for a in s.assets for name in ("slot0", "liquidity")])
        swaps: list[tuple[Any, str, tuple[Any, ...]]] = []
        for i, a in enumerate(s.assets):
            sqrt_now, liquidity = int(reads[2 * i][0]), int(reads[2 * i + 1])
            target = sqrt_price_x96(raw_price(prices_wad[i], a.decimals, s.quote_decimals, a.is_token0))
            if target == sqrt_now:
                continue
            zero_for_one = target < sqrt_now
            if zero_for_one:
                needed = liquidity * Q96 * (sqrt_now - target) / (sqrt_now * target)
            else:
                needed = liquidity * (target - sqrt_now) / Q96
            amount_in = int(needed * FEE_UNIT_PIPS / (FEE_UNIT_PIPS - a.pool_fee)) + 2
            asset_in = a.is_token0 == zero_for_one
            token_in, token_out = (a.token, s.quote) if asset_in else (s.quote, a.token)
            params = (token_in.address, token_out.address, a.pool_fee, self.address, FAR_DEADLINE, amount_in, 0, target)
            swaps.append((s.uniswap.router, "exactInputSingle", (params,)))
        self.rpc.send_many(self.address, swaps, block_timestamp=block_timestamp)


def _address(w3: Web3, index: int) -> str:
    accounts = list(w3.eth.accounts)
    if len(accounts) <= index:
        raise SimulationError(f"the node has {len(accounts)} unlocked accounts; the simulator needs Anvil's 10")
    return str(accounts[index])


class PortfolioChainRun:
    """One run of the paths on the chain of ``w3`` (Anvil: the clock is frozen and warped)."""

    def __init__(
        self,
        w3: Web3,
        paths: Paths,
        *,
        mode: str,
        target_vol: float,
        seed: int,
        chain: ChainOptions,
        market: MarketParams,
        keeper_logger: logging.Logger | None = None,
    ) -> None:
        self.w3 = w3
        self.rpc = DevRpc(w3)
        self.paths = paths
        self.mode = mode
        self.target_vol = target_vol
        self.chain = chain
        self.market = market
        self.keeper_logger = keeper_logger
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(3)[2]))
        self.history_seed = int(np.random.SeedSequence(seed).spawn(3)[1].generate_state(1)[0])
        self.records: list[StepRecord] = []
        self.setup_cost = 0
        self.setup_slices = 0
        self.skips: dict[str, int] = {}
        self.gas: dict[str, list[int]] = {}
        #: Wall time of the step loop's parts (s): market (arbitrage, feeds), keeper, depositors, bookkeeping.
        self.timing: dict[str, float] = {}
        #: Keeper ticks within steps after a clipped covariance post (``_follow_ups``).
        self.follow_ups = 0
        self._last_block = 0

    # ------------------------------------------------------------ setup
    def portfolio_config(self) -> Any:
        from hedgevault.portfolio.config import PortfolioConfig, RebalanceParams, RulesConfig

        keeper = anvil_account(KEEPER_INDEX).address
        if self.mode == "target-vol":
            lo = round((self.target_vol * 0.9) * 100) * WAD // 100
            hi = round((self.target_vol * 1.1) * 100) * WAD // 100
            rules = RulesConfig(mode="target-vol", min_vol_wad=lo, max_vol_wad=hi)
        elif self.mode == "risk-parity":
            rules = RulesConfig(mode="risk-parity", min_vol_wad=WAD // 100, max_vol_wad=3 * WAD, max_weight_wad=(WAD,))
        else:
            rules = RulesConfig(
                mode="min-variance",
                min_vol_wad=WAD // 100,
                max_vol_wad=3 * WAD,
                max_weight_wad=(WAD,),
                tolerance_wad=WAD // 100,
            )
        return PortfolioConfig(
            enabled=True,
            rules=rules,
            rebalance=RebalanceParams(
                band_scale_bp=self.chain.band_scale_bp,
                rc_tolerance_wad=round(self.chain.rc_tolerance * WAD),
                rc_dust_wad=round(self.chain.rc_dust * WAD),
                derisk_margin_bps=round(self.chain.derisk_margin * 10_000),
            ),
            keepers=(keeper,),
        )

    def setup(self) -> None:
        from hedgevault.deployment.portfolio import deploy_local_portfolio

        w3 = self.w3
        try:
            freeze_clock(w3)
        except Exception as exc:
            raise SimulationError(f"the simulator needs an Anvil node (it controls the clock): {exc}") from exc
        self.admin = _address(w3, ADMIN_INDEX)
        self.depositors = [_address(w3, i) for i in DEPOSITOR_INDEXES]
        self.arb_address = _address(w3, ARBITRAGEUR_INDEX)
        self.keeper_account: LocalAccount = anvil_account(KEEPER_INDEX)
        config = self.portfolio_config()
        self.stack = s = deploy_local_portfolio(w3, config, admin=self.admin)
        if s.vault is None:
            raise SimulationError("this build has no PortfolioVault contract: the portfolio simulation needs it")
        self.vault = s.vault
        self.n = len(s.assets)
        if self.n != self.paths.n:
            raise SimulationError(f"the paths have {self.paths.n} assets, the deployed portfolio {self.n}")
        self.qs = 10**s.quote_decimals
        # the assets' Transfer events book a withdrawal's sales (WithdrawalSales has no per-asset amounts)
        self.events = event_table(s.vault, s.cov_oracle, *(a.token for a in s.assets))
        self._tokens = {a.token.address.lower(): i for i, a in enumerate(s.assets)}
        self._feeds = {a.feed.address.lower() for a in s.assets}
        self.arb = PoolArbitrageur(self.rpc, s, self.arb_address)
        self.arb.fund()
        if w3.eth.get_balance(self.keeper_account.address) < 10 * WAD:
            self.rpc.send_value(self.admin, self.keeper_account.address, 100 * WAD)
        self._write_history()
        for who in self.depositors:
            self.rpc.send(who, s.quote, "mint", who, (INITIAL_DEPOSIT_WHOLE + DEPOSITOR_RESERVE_WHOLE) * self.qs)
            self.rpc.send(who, s.quote, "approve", s.vault.address, 2**256 - 1)
            self.rpc.send(who, s.vault, "deposit", INITIAL_DEPOSIT_WHOLE * self.qs, who)
        self._make_keeper()
        self._last_block = self.rpc.block_number()
        passes = 0
        while True:
            self._keeper_tick()
            passes += 1
            # a slice leaves its pool at up to the slippage bound from the oracle: arbitrage brings it back, so
            # that the next slice of a large first investment is not held at the limit
            self.arb.move_all(self.paths.prices_wad[0])
            needed, _ = self.rpc.call(Call(self.vault, "checkUpkeep", (b"",)))
            if not needed:
                break
            if passes >= MAX_SETUP_PASSES:
                raise SimulationError(f"the keeper has not invested the deposits after {passes} passes")
        head = self.rpc.block_number()
        booked = self._book(head)
        self.setup_cost = booked["cost"]
        self.setup_slices = booked["slices"]
        self.state0 = self._state(head)
        self.balances = list(self.state0["balances"])
        self.quote_balance = self.state0["quote"]

    def _write_history(self) -> None:
        """Feed rounds of the market's past, one step apart, ending at t0 with the first price; t0 is then."""
        steps = self.chain.history_steps
        step = self.paths.step_sec
        past = simulate_paths(self.market, horizon_sec=steps * step, step_sec=step, seed=self.history_seed)
        # rescale the past so that it ends at the first price of the run
        p0 = np.array(self.paths.prices_wad[0], dtype=object)
        end = np.array(past.prices_wad[-1], dtype=object)
        deploy_time = latest_timestamp(self.w3)
        self.t0 = deploy_time + steps * step + HOUR_SEC
        s = self.stack
        requests: list[tuple[Any, str, tuple[Any, ...]]] = []
        first_round = [int(a.feed.functions.latestRound().call()) for a in s.assets]
        for k in range(steps):
            when = self.t0 - (steps - k) * step
            for i, a in enumerate(s.assets):
                price = int(past.prices_wad[k][i] * p0[i] // end[i])
                answer = s.feed_answer(i, price)
                round_id = first_round[i] + 1 + k
                requests.append((a.feed, "setRound", (round_id, answer, when, when, round_id)))
        # 100 rounds a block (each ~70k gas), in blocks a second apart just before t0, then the first price at t0
        chunks = [requests[start : start + 100] for start in range(0, len(requests), 100)]
        for j, chunk in enumerate(chunks):
            self.rpc.send_many(self.admin, chunk, block_timestamp=self.t0 - len(chunks) + j)
        self._post_feeds(self.paths.prices_wad[0], block_timestamp=self.t0)

    def _post_feeds(self, prices_wad: tuple[int, ...] | list[int], block_timestamp: int | None = None) -> None:
        """A new round of every feed at the step's prices (the oracle network's job, not the keeper's), in one
        block at ``block_timestamp`` when given."""
        s = self.stack
        self.rpc.send_many(
            self.admin,
            [(a.feed, "setAnswer", (s.feed_answer(i, prices_wad[i]),)) for i, a in enumerate(s.assets)],
            block_timestamp=block_timestamp,
        )

    def _make_keeper(self) -> None:
        from hedgevault.keeper import Keeper, KeeperConfig
        from hedgevault.keeper.portfolio import PortfolioTaskConfig

        step = self.paths.step_sec
        task = PortfolioTaskConfig(
            address=self.vault.address,
            name="sim",
            cov_interval_sec=step,
            targets_interval_sec=step,
            ewma_decay=self.chain.ewma_decay,
            ewma_fast_decay=self.chain.ewma_fast_decay,
            ewma_fast_margin=self.chain.ewma_fast_margin,
            sample_sec=step,
            history_points=self.chain.history_steps,
            max_upkeeps_per_pass=self.chain.max_upkeeps_per_pass,
            repost_error_wad=round(self.chain.repost_error * WAD),
            quote_buffer_wad=round(self.chain.quote_buffer * WAD),
        )
        config = KeeperConfig(vaults=[], portfolios=[task], chain_id=self.rpc.chain_id)
        self.keeper = Keeper(self.w3, self.keeper_account, config, logger=self.keeper_logger)

    def _keeper_tick(self) -> None:
        for record in self.keeper.tick():
            if record.kind == "skip" or record.status in ("skipped", "waiting"):
                reason = (record.reason or record.status).split("(", 1)[0]
                self.skips[reason] = self.skips.get(reason, 0) + 1
        for _, hashes in self.keeper.pending.values():
            for tx_hash in hashes:
                self.rpc.wait_mined(tx_hash)

    # ------------------------------------------------------------ reads
    def _state(self, block: int) -> dict[str, Any]:
        from hedgevault.keeper.portfolio import portfolio_state

        raw, supply, cov = self.rpc.calls(
            [Call(self.vault, "state"), Call(self.vault, "totalSupply"), Call(self.stack.cov_oracle, "covarianceWad")],
            block=block,
        )
        view = portfolio_state(raw)
        n = self.n
        cov_m = np.array([int(x) for x in cov], dtype=np.float64).reshape(n, n) / WAD
        return {
            "nav": view["navQuote"],
            "quote": view["quoteBalance"],
            "supply": int(supply),
            "balances": [a["balance"] for a in view["assets"]],
            "prices": [a["priceWad"] for a in view["assets"]],
            "weights": [a["weightWad"] / WAD for a in view["assets"]],
            "targets": [a["targetWad"] / WAD for a in view["assets"]],
            "bands": [a["bandWad"] / WAD for a in view["assets"]],
            "ex_ante_vol": view["exAnteVolWad"] / WAD,
            "target_vol": view["targetVolWad"] / WAD,
            "tracking_error": view["trackingErrorWad"] / WAD,
            "budget_available": view["budgetAvailableQuote"],
            "budget_capacity": view["budgetCapacityQuote"],
            "cov": cov_m,
        }

    def value(self, i: int, balance: int, price_wad: int) -> int:
        """The vault's valuation of ``balance`` units of asset i at ``price_wad`` (quote units, floor)."""
        a = self.stack.assets[i]
        return int(balance * price_wad * self.qs // (WAD * 10**a.decimals))

    def _empty_booking(self) -> dict[str, Any]:
        """A step's booking before any receipt: no cost, trade, flow, post or gas."""
        return {
            "cost": 0,
            "slices": 0,
            "traded": 0,
            "fee": 0.0,
            "rebalance_gas": 0,
            "keeper_gas": 0,
            "deposits": 0,
            "withdrawals": 0,
            "withdrawal_costs": 0,
            "cov_posts": 0,
            "target_posts": 0,
            "asset_deltas": [0] * self.n,
            "quote_delta": 0,
        }

    def _book(self, head: int) -> dict[str, Any]:
        """The receipts since the last booking: balances replayed from the events, costs, flows, gas."""
        receipts = self.rpc.receipts(self._last_block + 1, head)
        self._last_block = head
        vault = self.vault.address.lower()
        cov = self.stack.cov_oracle.address.lower()
        keeper = self.keeper_account.address.lower()
        out = self._empty_booking()
        for r in receipts:
            sender = str(r["from"]).lower()
            to = str(r.get("to") or "").lower()
            gas_used = int(r["gasUsed"], 16)
            if int(r["status"], 16) != 1:
                if sender == keeper:
                    self.skips["reverted"] = self.skips.get("reverted", 0) + 1
                    out["keeper_gas"] += gas_used
                    continue
                raise SimulationError(f"transaction {r['transactionHash']} from {r['from']} reverted")
            events = [e for e in (decode_log(self.events, log) for log in r["logs"]) if e is not None]
            names = [name for name, _ in events]
            if sender == keeper:
                out["keeper_gas"] += gas_used
            kind = "other"
            if sender == self.arb_address.lower():
                kind = "arbitrage swap"
            elif to in self._feeds:
                kind = "feed round"
            elif to == cov:
                kind = "covariance post"
                out["cov_posts"] += 1
            elif to == vault:
                kind = next(
                    (
                        k
                        for name, k in (
                            ("Rebalanced", "rebalance slice"),
                            ("TargetsSet", "targets"),
                            ("WithdrawalSales", "withdraw (with sales)"),
                            ("Withdraw", "withdraw"),
                            ("Deposit", "deposit"),
                        )
                        if name in names
                    ),
                    "vault other",
                )
            self.gas.setdefault(kind, []).append(gas_used)
            if kind == "rebalance slice":
                out["rebalance_gas"] += gas_used
            if "WithdrawalSales" in names:
                for log in r["logs"]:
                    i = self._tokens.get(str(log["address"]).lower())
                    decoded = decode_log(self.events, log) if i is not None else None
                    if i is None or decoded is None or decoded[0] != "Transfer":
                        continue
                    moved = int(decoded[1]["value"])
                    if str(decoded[1]["from"]).lower() == vault:
                        out["asset_deltas"][i] -= moved
                    if str(decoded[1]["to"]).lower() == vault:
                        out["asset_deltas"][i] += moved
            for name, args in events:
                if name == "Rebalanced":
                    i = int(args["asset"])
                    asset_delta, quote_delta = int(args["assetDelta"]), int(args["quoteDelta"])
                    out["asset_deltas"][i] += asset_delta
                    out["quote_delta"] += quote_delta
                    out["cost"] += int(args["costQuote"])
                    out["slices"] += 1
                    out["traded"] += abs(quote_delta)
                    fee = self.stack.assets[i].pool_fee / FEE_UNIT_PIPS
                    # the fee is taken from the input: quote paid on a buy, the asset's oracle value on a sale
                    if quote_delta < 0:
                        out["fee"] += fee * -quote_delta
                    else:
                        price = self.paths.prices_wad[min(self._step, self.paths.steps)][i]
                        out["fee"] += fee * self.value(i, -asset_delta, price)
                elif name == "TargetsSet":
                    out["target_posts"] += 1
                elif name == "Deposit":
                    out["deposits"] += int(args["assets"])
                    out["quote_delta"] += int(args["assets"])
                elif name == "Withdraw":
                    out["withdrawals"] += int(args["assets"])
                    out["quote_delta"] -= int(args["assets"])
                elif name == "WithdrawalSales":
                    out["withdrawal_costs"] += int(args["costQuote"])
                    out["quote_delta"] += int(args["raisedQuote"])
        return out

    # ------------------------------------------------------------ steps
    _step = 0

    def run(self, progress: Any = None) -> list[StepRecord]:
        self._step = 0
        self._record(0, self.state0, None, progress)
        for k in range(1, self.paths.steps + 1):
            self._step = k
            prices = self.paths.prices_wad[k]
            now = self.t0 + self.paths.times_sec[k]
            t = time.perf_counter()
            self.arb.move_all(prices, block_timestamp=now - self._twap_lag())
            self._post_feeds(prices, block_timestamp=now)
            t = self._lap("market", t)
            if self.chain.flows is not None:
                self._flows(self.chain.flows)
            t = self._lap("depositors", t)
            self._keeper_tick()
            self._follow_ups(now, prices)
            t = self._lap("keeper", t)
            head = self.rpc.block_number()
            booked = self._book(head)
            self._record(k, self._state(head), booked, progress)
            self._lap("bookkeeping", t)
        return self.records

    def _follow_ups(self, now: int, prices_wad: tuple[int, ...] | list[int]) -> None:
        """While the keeper's last covariance post was clipped (``cov_behind``), a keeper tick every
        ``follow_up_sec`` after ``now``, up to the next step's arbitrage; before each, the feeds post the step's
        prices again at that time (the oracle network's heartbeat: the feeds are stale an hour after a round);
        each tick counts in ``follow_ups``."""
        every = self.chain.follow_up_sec
        if every <= 0:
            return
        end = now + self.paths.step_sec - self._twap_lag()
        at = now + every
        while at < end and any(task.cov_behind for task in self.keeper.portfolio_tasks):
            self._post_feeds(prices_wad, block_timestamp=at)
            self._keeper_tick()
            self.follow_ups += 1
            at += every

    def _lap(self, what: str, since: float) -> float:
        now = time.perf_counter()
        self.timing[what] = self.timing.get(what, 0.0) + now - since
        return now

    def _twap_lag(self) -> int:
        if not hasattr(self, "_lag"):
            from hedgevault.deployment.config import DeployConfig

            self._lag = int(DeployConfig().suite.oracle.twap_window_sec) + 1
        return self._lag

    def _flows(self, p: FlowParams) -> None:
        for who in self.depositors:
            u = float(self.rng.random())
            if u < p.deposit_prob:
                amount = int(self.rng.integers(p.deposit_min, p.deposit_max + 1)) * self.qs
                refused = self.rpc.simulate(who, self.vault, "deposit", amount, who)
                if refused is None:
                    self.rpc.send(who, self.vault, "deposit", amount, who)
                else:
                    self.skips[f"deposit: {refused.name}"] = self.skips.get(f"deposit: {refused.name}", 0) + 1
            elif u < p.deposit_prob + p.withdraw_prob:
                share = float(self.rng.uniform(p.withdraw_min, p.withdraw_max))
                try:
                    room = int(self.rpc.call(Call(self.vault, "maxWithdraw", (who,))))
                except Reverted as exc:
                    self.skips[f"withdraw: {exc.name}"] = self.skips.get(f"withdraw: {exc.name}", 0) + 1
                    continue
                amount = int(room * share)
                if amount == 0:
                    continue
                refused = self.rpc.simulate(who, self.vault, "withdraw", amount, who, who)
                if refused is None:
                    self.rpc.send(who, self.vault, "withdraw", amount, who, who)
                else:
                    self.skips[f"withdraw: {refused.name}"] = self.skips.get(f"withdraw: {refused.name}", 0) + 1

    def _record(self, k: int, st: dict[str, Any], booked: dict[str, Any] | None, progress: Any) -> None:
        prices = [int(p) for p in st["prices"]]
        if prices != list(self.paths.prices_wad[k]):
            raise SimulationError(f"step {k}: the oracles' prices {prices} are not the scenario's")
        b = booked or self._empty_booking()
        holdings_pnl = 0
        residual = 0
        if k > 0:
            before = self.records[-1]
            new_balances = [x + d for x, d in zip(self.balances, b["asset_deltas"], strict=True)]
            new_quote = self.quote_balance + b["quote_delta"]
            if new_balances != st["balances"] or new_quote != st["quote"]:
                raise SimulationError(
                    f"step {k}: the balances replayed from the events ({new_quote}, {new_balances}) are not the "
                    f"vault's ({st['quote']}, {st['balances']}): an event the simulator does not book?"
                )
            holdings_pnl = sum(
                self.value(i, self.balances[i], prices[i]) - self.value(i, self.balances[i], before.prices_wad[i])
                for i in range(self.n)
            )
            flows = b["deposits"] - b["withdrawals"] - b["withdrawal_costs"]
            residual = st["nav"] - before.nav - holdings_pnl - flows + b["cost"]
            self.balances, self.quote_balance = new_balances, new_quote
        cov = st["cov"]
        vols = np.sqrt(np.diag(cov))
        corr = cov / np.outer(vols, vols)
        record = StepRecord(
            step=k,
            time_sec=self.paths.times_sec[k],
            nav=st["nav"],
            quote_balance=st["quote"],
            total_supply=st["supply"],
            balances=list(st["balances"]),
            prices_wad=prices,
            weights=st["weights"],
            targets=st["targets"],
            bands=st["bands"],
            ex_ante_vol=st["ex_ante_vol"],
            target_vol=st["target_vol"],
            tracking_error=st["tracking_error"],
            budget_available=st["budget_available"],
            budget_capacity=st["budget_capacity"],
            cov_vols=[float(v) for v in vols],
            cov_corrs=[float(corr[i, j]) for i in range(self.n) for j in range(i + 1, self.n)],
            slices=b["slices"],
            traded_quote=b["traded"],
            cost_quote=b["cost"],
            fee_quote=b["fee"],
            rebalance_gas=b["rebalance_gas"],
            keeper_gas=b["keeper_gas"],
            deposits=b["deposits"],
            withdrawals=b["withdrawals"],
            withdrawal_costs=b["withdrawal_costs"],
            holdings_pnl=holdings_pnl,
            residual=residual,
            cov_posts=b["cov_posts"],
            target_posts=b["target_posts"],
        )
        self.records.append(record)
        self._covs = [*getattr(self, "_covs", []), cov]
        if progress is not None:
            progress(record)

    # ------------------------------------------------------------ as a strategy
    def strategy_run(self, gas: GasModel) -> tuple[bl.StrategyRun, list[np.ndarray], np.ndarray, np.ndarray]:
        """(the run as a ``StrategyRun`` in whole quote, posted covariances, bands, per-share NAV)."""
        recs = self.records
        qs = self.qs
        n = self.n
        run = bl.StrategyRun(
            name="vault (on-chain)",
            times_sec=np.array([r.time_sec for r in recs], dtype=np.float64),
            nav=np.array([r.nav / qs for r in recs]),
            weights=np.array([r.weights for r in recs]),
            targets=np.array([r.targets for r in recs]),
            traded=np.array([r.traded_quote / qs for r in recs]),
            fee=np.array([r.fee_quote / qs for r in recs]),
            impact=np.array([(r.cost_quote - r.fee_quote) / qs for r in recs]),
            gas=np.array([gas.quote_of(r.rebalance_gas) for r in recs]),
            trades=np.array([r.slices for r in recs], dtype=np.float64),
            balances=np.array([r.balances for r in recs], dtype=np.float64)
            / np.array([10**a.decimals for a in self.stack.assets]),
            quote=np.array([r.quote_balance / qs for r in recs]),
        )
        per_share = np.array([(r.nav + 1) / (r.total_supply + 1) for r in recs], dtype=np.float64)
        bands = np.array([r.bands for r in recs]).reshape(len(recs), n)
        return run, list(self._covs), bands, per_share

    def pools(self) -> list[PoolModel]:
        s = self.stack
        out = []
        for a in s.assets:
            liquidity = int(a.pool.functions.liquidity().call())
            out.append(PoolModel.from_liquidity(liquidity, a.decimals, s.quote_decimals, a.pool_fee))
        return out


def onchain_vault_run(paths: Paths, options: Any, out_dir: Path) -> Any:
    """The vault's run on the embedded Anvil (or ``options.rpc_url``) as a ``VaultRun``."""
    from hedgevault.sim.run import _keeper_logger

    with local_node(rpc_url=options.rpc_url, log_dir=out_dir) as node:
        w3 = node.web3()
        sim = PortfolioChainRun(
            w3,
            paths,
            mode=options.mode,
            target_vol=options.target_vol,
            seed=options.seed,
            chain=options.chain,
            market=options.market,
            keeper_logger=_keeper_logger(out_dir / "keeper.log"),
        )
        started = time.perf_counter()
        sim.setup()
        sim.timing["setup"] = time.perf_counter() - started
        from tqdm import tqdm

        bar = tqdm(total=paths.steps + 1, desc="simulating", unit="step", disable=options.quiet)

        def progress(record: StepRecord) -> None:
            bar.update(1)
            bar.set_postfix_str(
                f"NAV {record.nav / sim.qs:,.0f} vol {record.ex_ante_vol:.1%} TE {record.tracking_error:.2%}"
            )

        try:
            sim.run(progress)
        finally:
            bar.close()
        run, covs, bands, per_share = sim.strategy_run(options.gas)
        pools = sim.pools()
    mean_gas = [g for g in sim.gas.get("rebalance slice", [])]
    extra = {
        "records": [r.as_dict() for r in sim.records],
        "setup_cost_quote": sim.setup_cost / sim.qs,
        "setup_slices": sim.setup_slices,
        "keeper_skips": dict(sorted(sim.skips.items())),
        "gas": {
            k: {"count": len(v), "mean": round(sum(v) / len(v)), "total": sum(v)} for k, v in sorted(sim.gas.items())
        },
        "mean_slice_gas": round(sum(mean_gas) / len(mean_gas)) if mean_gas else None,
        "max_abs_residual_units": max((abs(r.residual) for r in sim.records), default=0),
        "follow_ups": sim.follow_ups,
        "wall_sec": {k: round(v, 2) for k, v in sim.timing.items()},
    }
    extra["table_lines"] = onchain_lines(sim, extra)
    return VaultRun(
        run=run,
        covariances=covs,
        bands=bands,
        values=per_share,
        pools=pools,
        source="on-chain (embedded Anvil, real keeper)",
        extra=extra,
    )


def onchain_lines(sim: PortfolioChainRun, extra: dict[str, Any]) -> list[str]:
    """The on-chain run's own lines under the comparison table."""
    recs = sim.records
    qs = sim.qs
    last = recs[-1]
    skips = ", ".join(f"{k} x{v}" for k, v in extra["keeper_skips"].items()) or "none"
    posts = (sum(r.cov_posts for r in recs), sum(r.target_posts for r in recs), sum(r.slices for r in recs))
    least_budget = min(r.budget_available for r in recs) / qs
    deposits, withdrawals = sum(r.deposits for r in recs) / qs, sum(r.withdrawals for r in recs) / qs
    sale_costs = sum(r.withdrawal_costs for r in recs) / qs
    lines = [
        "On-chain run",
        f"  initial investment: {extra['setup_slices']} slices, cost {extra['setup_cost_quote']:,.2f} quote "
        "(not in the rebalancing cost)",
        f"  keeper: {posts[0]} covariance posts, {posts[1]} target posts, {posts[2]} rebalancing slices; "
        f"skips: {skips}; {extra['follow_ups']} follow-up ticks after clipped covariance posts",
        f"  ex-ante vol end {last.ex_ante_vol:.2%} (targets {last.target_vol:.2%}), tracking error end "
        f"{last.tracking_error:.2%}, max {max(r.tracking_error for r in recs):.2%}",
        f"  slippage budget: available {last.budget_available / qs:,.0f} of {last.budget_capacity / qs:,.0f} "
        f"quote at the end, least {least_budget:,.0f}",
        f"  flows: deposits {deposits:,.0f}, withdrawals {withdrawals:,.0f} (their sale costs {sale_costs:,.2f}, "
        "borne by the withdrawers)",
        "  accounting: NAV change = holdings PnL + flows - costs, largest residual "
        f"{extra['max_abs_residual_units']} quote units",
    ]
    for kind, g in extra["gas"].items():
        lines.append(f"  gas: {kind}: {g['count']} tx, mean {g['mean']:,}")
    return lines
