"""The simulation loop: the real suite on a local Anvil driven through a scenario.

Setup: deploy the suite (``hedgevault.suite.deploy_suite``), start the clock at t0 (one hedge interval
after the deployment, so that the first upkeep may hedge), post the first price and volatilities, seed
the depositors, list the series, make the opening trades (if any) and run the keeper once (step 0).

Each step k (at t0 + times[k]):

1. an arbitrageur swaps the Uniswap pool to the step's price, TWAP window + 1 s before the step time
   (so the pool's TWAP has caught up when the feed moves), then the clock moves to the step time;
2. the real keeper (``hedgevault.keeper.Keeper.tick``) posts the step's price and volatilities through
   its ``OracleUpdater`` (our ``ScenarioSource`` is its ``MarketSource``), then runs the vault's upkeep:
   settling a due expiry or hedging;
3. holders claim settled series, option buyers trade (bounded by quoteBuy/quoteSell; what the vault
   would refuse is skipped and its reason counted; puts or calls by the agents' regime), depositors come
   and go (within maxWithdraw), the arbitrageur moves the pool back to the step's price (the hedge's
   slices moved it toward their limit), and the keeper passes again (it watches every block), hedging what
   the trades changed;
4. the step's receipts are read in one batch, the ledger books them (``hedgevault.sim.accounting``; the
   hedger's Aave interest before each feed update and at the step's end) and the book is read (one batch,
   at the head's number) into the step's record.

The skewed market (``SimConfig.skew``, a Merton scenario): before the keeper's pass the market's quotes are
written to the quotes file the keeper fits (``SurfacePoster``; the flat baseline instead gives the keeper the
at-the-money implied vol of each expiry to post with ``postVol``), and after the other agents the informed buyer
(``SimConfig.informed``) trades every series where the vault is cheaper than the market; each post of the oracle
is recorded with its RMSE against the market's implied vols (``smile_posts``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from web3 import Web3

from hedgevault.chain import freeze_clock, latest_timestamp
from hedgevault.chain.abi import Call, decode_log, event_table
from hedgevault.chain.rpc import Revert, Reverted
from hedgevault.chain.sending import send
from hedgevault.keys import anvil_account
from hedgevault.params import SuiteConfig, VolParams
from hedgevault.sim.accounting import Actors, Ledger, gas_kind, other_label
from hedgevault.sim.agents import (
    AgentParams,
    Agents,
    FlowIntent,
    InformedDecision,
    InformedParams,
    TradeIntent,
    informed_wants,
)
from hedgevault.sim.errors import SimulationError
from hedgevault.sim.market import SkewedMarket, SkewParams, quoted_strikes, write_quotes
from hedgevault.sim.rpc import DevRpc
from hedgevault.sim.scenario import Scenario, merton_total_vol, quantise_vol
from hedgevault.suite import Suite, deploy_suite
from hedgevault.uniswap import FAR_DEADLINE, Q96, raw_price, sqrt_price_x96

WAD = 10**18
#: Named actors: Anvil's unlocked accounts by index (0 is the admin, 9 the fee recipient of deploy_suite).
DEPOSITOR_INDEXES = (1, 2, 3)
BUYER_INDEXES = (4, 5, 6)
ARBITRAGEUR_INDEX = 7
KEEPER_INDEX = 8
#: The informed buyer: Anvil's mnemonic account 10 (not among the 10 funded ones), impersonated on the node.
INFORMED_INDEX = 10
_BUYER_FUNDS_WHOLE = 10_000_000
_KEEPER_MIN_ETH_WEI = 10 * WAD

#: (key used here, BookView field)
_BOOK_FIELDS = (
    ("spot_wad", "spotWad"),
    ("quote_balance", "quoteBalance"),
    ("hedge_wad", "hedgeWad"),
    ("collateral", "collateral"),
    ("claim_reserve", "claimReserve"),
    ("assets_value", "assetsValue"),
    ("mark_value", "markValue"),
    ("payouts_owed", "payoutsOwed"),
    ("stress_margin", "stressMargin"),
    ("health_factor_wad", "healthFactorWad"),
    ("book_delta_wad", "bookDeltaWad"),
    ("vega_wad", "vegaWad"),
)


@dataclass(frozen=True)
class SeriesSpec:
    """A series to list: expiry ``expiry_offset_sec`` after t0, strike (quote per underlying, wad), type."""

    expiry_offset_sec: int
    strike_wad: int
    is_call: bool


@dataclass(frozen=True)
class OpeningTrade:
    """At setup, the first buyer buys ``amount_wad`` options of ``series[series_index]``."""

    series_index: int
    amount_wad: int


@dataclass(frozen=True)
class SimConfig:
    """Everything a run depends on (same config, same results)."""

    scenario: Scenario
    seed: int
    suite: SuiteConfig
    series: tuple[SeriesSpec, ...]
    agents: AgentParams | None = field(default_factory=AgentParams)
    initial_deposits_whole: tuple[int, ...] = (250_000, 250_000, 250_000)
    opening_trades: tuple[OpeningTrade, ...] = ()
    #: The skewed market (needs a Merton scenario): quotes for the keeper's fit, or the flat baseline.
    skew: SkewParams | None = None
    #: The informed buyer (needs ``skew``: it compares the vault's quotes with the market's prices).
    informed: InformedParams | None = None
    #: Where the quotes file goes (default: a temporary folder).
    quotes_path: Path | None = None


def rate_caps_ray(suite: SuiteConfig) -> tuple[int, int]:
    """The highest variable borrow rate (ray a year) the Aave market's underlying and quote reserves can
    reach: base + slope1 + slope2, at full utilisation. The quote reserve's also bounds its supply rate
    (borrow rate x utilisation x (1 - reserve factor)). They bound the interest the ledger accepts."""
    caps = []
    for reserve in (suite.aave.underlying, suite.aave.quote):
        st = reserve.strategy
        caps.append(st.base_variable_borrow_rate_ray + st.variable_rate_slope1_ray + st.variable_rate_slope2_ray)
    return caps[0], caps[1]


def nice_strike(x: float) -> int:
    """A strike near ``x`` rounded to 3 significant digits, in wad."""
    magnitude: int = 10 ** max(int(np.floor(np.log10(x))) - 2, 0)
    return round(x / magnitude) * magnitude * WAD


def default_series(spot_wad: int, horizon_sec: int, cutoff_sec: int) -> tuple[SeriesSpec, ...]:
    """Calls and puts at 90%, 100% and 110% of spot for expiries at 40% and 80% of the horizon (on the
    hour; they expire and settle during the run when at least an hour past the trading cutoff) and one
    a week past the horizon (still open at the end)."""
    hour = 3600
    expiries = []
    for fraction in (Fraction(2, 5), Fraction(4, 5)):
        offset = int(horizon_sec * fraction) // hour * hour
        if offset >= cutoff_sec + hour and offset not in expiries:
            expiries.append(offset)
    expiries.append(horizon_sec + 7 * 86_400)
    spot = spot_wad / WAD
    strikes = [nice_strike(spot * m) for m in (0.9, 1.0, 1.1)]
    return tuple(SeriesSpec(e, k, is_call) for e in expiries for k in strikes for is_call in (True, False))


# ---------------------------------------------------------------- records


@dataclass
class StepRecord:
    """The state after a step (after the keeper's last pass). Quote amounts in quote units (ints) unless
    named ``..._quote`` (floats in whole tokens); deltas, the signed hedge (held - owed), its target (the
    vault's: -book delta, not below 0 for a long-only hedger) and the gap between them in underlying
    (floats); vol and HF as plain numbers; ``hedges`` and ``slices`` count the hedge upkeeps and the pool
    swaps of the hedger so far."""

    step: int
    time_sec: int
    price: float
    vol: float
    vol_posted: float
    nav: int
    total_supply: int
    share_price: float
    health_factor: float | None
    net_delta: float
    book_delta: float
    vega: float
    hedge: float
    hedge_target: float
    hedge_gap: float
    collateral: int
    claim_reserve: int
    quote_balance: int
    mark_value: int
    payouts_owed: int
    pnl_premium: int
    pnl_option: int
    pnl_hedge_quote: float
    pnl_swap_cost_quote: float
    pnl_borrow_interest_quote: float
    pnl_supply_interest: int
    flows: int
    residual_quote: float
    hedges: int
    slices: int
    trades: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Counters:
    """Counts of what happened, and why actions were skipped."""

    trades_done: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    #: Gas used per transaction by kind (``accounting.GAS_KINDS``); 'other' itemised by target.function.
    gas: dict[str, list[int]] = field(default_factory=dict)
    gas_other: Counter[str] = field(default_factory=Counter)
    keeper_gas_wei: int = 0
    keeper_failed: int = 0
    #: Keeper passes whose next hedge waited (``PoolBeyondLimit``, ``NothingToHedge``), by error name.
    hedge_waits: Counter[str] = field(default_factory=Counter)
    options_bought_wad: int = 0
    options_sold_wad: int = 0
    options_claimed_wad: int = 0
    claims_paid: int = 0
    quote_in: int = 0
    quote_out: int = 0


# ---------------------------------------------------------------- market source for the keeper


class ScenarioSource:
    """The keeper's ``MarketSource``: the scenario's price and the volatility of every live expiry at the
    current step, given once per step (``arm``); afterwards nothing new until the next step."""

    def __init__(self) -> None:
        self._pending: Any = None

    def arm(self, price_wad: int, vols_wad: Mapping[int, int]) -> None:
        from hedgevault.keeper import MarketQuote

        self._pending = MarketQuote(price_wad=price_wad, vols_wad=dict(vols_wad))

    def quote(self) -> Any:
        quote, self._pending = self._pending, None
        return quote


# ---------------------------------------------------------------- the arbitrageur


class Arbitrageur:
    """Swaps the pool to a target price in one ``exactInputSingle`` with the target as its price limit
    (full-range liquidity is constant, so the input is computed exactly; the limit stops the swap on the
    target and the router takes only what was used). Holds large balances minted at setup."""

    def __init__(self, rpc: DevRpc, suite: Suite, address: str) -> None:
        self.rpc = rpc
        self.suite = suite
        self.address = address
        self.token0 = str(suite.pool.functions.token0().call())
        self.underlying_is_token0 = self.token0 == suite.underlying.address
        self.fee = int(suite.pool.functions.fee().call())

    def fund(self) -> None:
        s = self.suite
        pool_underlying = s.underlying_units(s.config.pool_underlying)
        spot = s.config.spot_wad
        send(s.w3, s.underlying.functions.mint(self.address, 100 * pool_underlying), self.address)
        quote_amount = 100 * pool_underlying * spot // WAD * 10**s.config.quote_decimals
        send(s.w3, s.quote.functions.mint(self.address, quote_amount // 10**s.config.underlying_decimals), self.address)
        for token in (s.underlying, s.quote):
            send(s.w3, token.functions.approve(s.uniswap.router.address, 2**256 - 1), self.address)

    def move_to(self, price_wad: int) -> bool:
        """Send the swap that moves the pool to ``price_wad`` (False if it is already there)."""
        s = self.suite
        slot0, liquidity = self.rpc.calls([Call(s.pool, "slot0"), Call(s.pool, "liquidity")])
        sqrt_now = int(slot0[0])
        liquidity = int(liquidity)
        target = sqrt_price_x96(
            raw_price(price_wad, s.config.underlying_decimals, s.config.quote_decimals, self.underlying_is_token0)
        )
        if target == sqrt_now:
            return False
        zero_for_one = target < sqrt_now
        if zero_for_one:  # token0 in: L * Q96 * (sqrtA - sqrtB) / (sqrtA * sqrtB)
            needed = Fraction(liquidity * Q96 * (sqrt_now - target), sqrt_now * target)
        else:  # token1 in: L * (sqrtB - sqrtA) / Q96
            needed = Fraction(liquidity * (target - sqrt_now), Q96)
        amount_in = int(needed * 10**6 / (10**6 - self.fee)) + 2
        underlying_in = self.underlying_is_token0 == zero_for_one
        token_in, token_out = (s.underlying, s.quote) if underlying_in else (s.quote, s.underlying)
        params = (token_in.address, token_out.address, self.fee, self.address, FAR_DEADLINE, amount_in, 0, target)
        self.rpc.send(self.address, s.uniswap.router, "exactInputSingle", params)
        return True


# ---------------------------------------------------------------- the simulation


def _account_index_address(w3: Web3, index: int) -> str:
    accounts = list(w3.eth.accounts)
    if len(accounts) <= max(index, 9):
        raise SimulationError(
            f"the node has {len(accounts)} unlocked accounts; the simulator needs Anvil's 10 (start Anvil "
            "with its defaults or run without --rpc-url)"
        )
    return str(accounts[index])


class Simulation:
    """One run of a ``SimConfig`` on the chain of ``w3`` (Anvil: the clock is frozen and warped)."""

    def __init__(self, w3: Web3, config: SimConfig, keeper_logger: logging.Logger | None = None) -> None:
        self.w3 = w3
        self.keeper_logger = keeper_logger
        self.config = config
        self.rpc = DevRpc(w3)
        self.scenario = config.scenario
        seq = np.random.SeedSequence(config.seed).spawn(3)
        self._agent_rng = np.random.Generator(np.random.PCG64(seq[2]))
        self.records: list[StepRecord] = []
        self.counters = Counters()
        self.holdings: dict[tuple[str, int], int] = {}
        self.settled: dict[int, int] = {}  # expiry -> settlement price wad (as seen by the claimers)
        self.series_ids: list[int] = []
        self.series_expiry: dict[int, int] = {}
        self.series_meta: dict[int, SeriesSpec] = {}
        self._last_block = 0
        self.t0 = 0
        self.market: SkewedMarket | None = None
        if config.skew is not None:
            if config.scenario.merton is None:
                raise SimulationError("the skewed market needs a Merton scenario (hedgevault simulate --market merton)")
            spot0 = config.scenario.prices_wad[0] / WAD
            total = merton_total_vol(config.scenario.merton)
            # one strike set for every expiry, as wide as the farthest expiry needs: each slice is then fitted over
            # the k range its neighbours' calendar check looks at (a near slice's wing extrapolated past its own
            # strikes can cross the far slice, and the far fit cannot repair that)
            shared = quoted_strikes(
                spot0,
                total,
                max(spec.expiry_offset_sec for spec in config.series),
                config.skew.strike_sds,
                [spec.strike_wad / WAD for spec in config.series],
            )
            if len(shared) > 16:
                raise SimulationError(f"{len(shared)} quoted strikes: the oracle holds 16 per expiry")
            strikes = {spec.expiry_offset_sec: shared for spec in config.series}
            # keyed by expiry offset until the setup knows t0
            self.market = SkewedMarket(config.scenario.merton, strikes, config.skew)
        elif config.informed is not None:
            raise SimulationError("the informed buyer needs the skewed market (its prices are the market's)")
        self.quotes_path = config.quotes_path
        #: Every comparison the informed buyer made, in order.
        self.informed_decisions: list[InformedDecision] = []
        #: Every oracle post seen at a step's end: step, expiry, the slice, and its RMSE against the market's vols.
        self.smile_posts: list[dict[str, Any]] = []
        self._last_post_at: dict[int, int] = {}
        #: Flat first posts on far expiries the setup needed to bridge the first slices' at-the-money vols.
        self.bridges = 0
        #: The informed buyer's quote balance (units) at each step's end, and its holdings' market value.
        self.informed_cash: list[int] = []
        self.informed_mark: list[float] = []
        #: The keeper's fits that kept the last good slice: step, expiry, why.
        self.fallbacks: list[dict[str, Any]] = []
        #: The keeper's partial steps toward a fit the rate limit refused: step, expiry, lambda, largest move left.
        self.walks: list[dict[str, Any]] = []

    # ------------------------------------------------------------ setup
    def setup(self) -> None:
        w3 = self.w3
        try:
            freeze_clock(w3)
        except Exception as exc:  # any failure means the node cannot be driven
            raise SimulationError(f"the simulator needs an Anvil node (it controls the clock): {exc}") from exc
        cfg = self.config
        self.admin = _account_index_address(w3, 0)
        self.depositors = [_account_index_address(w3, i) for i in DEPOSITOR_INDEXES[: len(cfg.initial_deposits_whole)]]
        self.buyers = [_account_index_address(w3, i) for i in BUYER_INDEXES]
        self.arb_address = _account_index_address(w3, ARBITRAGEUR_INDEX)
        self.keeper_account: LocalAccount = anvil_account(KEEPER_INDEX)
        suite_config = cfg.suite
        if suite_config.spot_wad != self.scenario.prices_wad[0]:
            raise SimulationError("the suite's spot must be the scenario's first price")
        self.suite = s = deploy_suite(w3, suite_config, admin=self.admin)
        self.cutoff_sec = suite_config.risk.trading_cutoff_sec
        self.events = event_table(s.vault, s.hedger)
        self.can_short = bool(s.hedger.functions.canShort().call())
        self.arb = Arbitrageur(self.rpc, s, self.arb_address)
        self.arb.fund()
        # the keeper: may post volatilities, has ETH for gas
        role = s.vol_oracle.functions.VOL_UPDATER_ROLE().call()
        send(w3, s.vol_oracle.functions.grantRole(role, self.keeper_account.address), self.admin)
        if w3.eth.get_balance(self.keeper_account.address) < _KEEPER_MIN_ETH_WEI:
            self.rpc.send_value(self.admin, self.keeper_account.address, 100 * WAD)
        # t0: one hedge interval after the deployment, the first price posted there
        self.t0 = latest_timestamp(w3) + suite_config.hedge.hedge_interval_sec + 1
        self.rpc.mine(self.t0)
        s.set_feed_price(self.scenario.prices_wad[0])
        for depositor, whole in zip(self.depositors, cfg.initial_deposits_whole, strict=True):
            extra = cfg.agents.deposit_max * 20 if cfg.agents else 0
            send(w3, s.quote.functions.mint(depositor, s.quote_units(whole + extra)), depositor)
            send(w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), depositor)
            send(w3, s.vault.functions.deposit(s.quote_units(whole), depositor), depositor)
        for buyer in self.buyers:
            send(w3, s.quote.functions.mint(buyer, s.quote_units(_BUYER_FUNDS_WHOLE)), buyer)
            send(w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), buyer)
        for spec in cfg.series:
            fn = s.vault.functions.listSeries(self.t0 + spec.expiry_offset_sec, spec.strike_wad, spec.is_call)
            series_id = int(fn.call({"from": self.admin}))
            send(w3, fn, self.admin)
            self.series_ids.append(series_id)
            self.series_expiry[series_id] = self.t0 + spec.expiry_offset_sec
            self.series_meta[series_id] = spec
        if self.market is not None:
            self.market.strikes = {self.t0 + offset: ks for offset, ks in self.market.strikes.items()}
        self._prepare_expiries()
        if self.market is not None and self.config.skew is not None and self.config.skew.surface:
            self._post_first_slices()
        else:
            for expiry, vol in self._live_vols(0).items():
                send(w3, s.vol_oracle.functions.postVol(expiry, vol), self.admin)
        if cfg.informed is not None:
            self._setup_informed()
        self._make_keeper()
        self._start_books()

    def _prepare_expiries(self) -> None:
        """Prepare each listed expiry in the volatility oracle (``prepareExpiry``, as ``hedgevault list-series``
        does), for the strikes its slice posts will name: the skewed market's quoted strikes, else the listed ones.
        Its first post then rewrites the slots instead of creating them (the oracle reads and checks as before)."""
        from hedgevault.surface.prepare import MAX_STRIKES

        s = self.suite
        listed: dict[int, set[int]] = {}
        for sid, expiry in self.series_expiry.items():
            listed.setdefault(expiry, set()).add(self.series_meta[sid].strike_wad)
        for expiry, strikes in sorted(listed.items()):
            quoted = self.market.strikes.get(expiry) if self.market is not None else None
            n = min(len(quoted) if quoted is not None else len(strikes), MAX_STRIKES)
            send(self.w3, s.vol_oracle.functions.prepareExpiry(expiry, n), self.admin)

    def _post_first_slices(self) -> None:
        """The skewed market's first surface, fitted from the step-0 quotes (``fit_surface``, the keeper's fit)
        and posted by the admin in one ``postSlices``: a first post is only bounded at the money, while the
        keeper's later posts move each strike's vol by the oracle's allowed step at most (from a flat start the
        wings would never get there: a fit that moves too far falls back to the last good slice)."""
        from hedgevault.keeper.oracles import mirror_atm
        from hedgevault.surface.fit import fit_surface, load_quotes, smile_points
        from hedgevault.surface.mirror import Slice

        assert self.market is not None
        path = self._quotes_file()
        write_quotes(path, self.market.quotes(self.scenario.prices_wad[0] / WAD, self.t0, self.series_expiry.values()))
        snapshot = load_quotes(path)
        points = {p.expiry: p for p in smile_points(snapshot)[0]}
        fits = fit_surface(snapshot)
        posts = []
        for expiry, res in sorted(fits.items()):
            if res.slice is None or not res.fitted:
                raise SimulationError(f"the first surface: expiry {expiry} did not fit ({res.reason})")
            pts = points[expiry]
            posts.append((expiry, res.slice.as_tuple(), pts.forward_wad, list(pts.strikes_wad)))
        # a first post must be within the oracle's step of the latest post's at-the-money vol: by at-the-money vol
        # the consecutive gaps are the smallest, and a gap wider than the step is bridged by flat first posts on
        # expiries five years out (no series; stale after a day, when the oracle's neighbour checks skip them)
        oracle = self.suite.vol_oracle
        step = VolParams(*(int(v) for v in oracle.functions.params().call())).max_step_wad - 10**12
        reference = int(oracle.functions.referenceVolWad().call())
        bridge = self.t0 + 5 * 365 * 86_400
        for post in sorted(posts, key=lambda p: mirror_atm(Slice(*p[1]), p[0] - self.t0)):
            atm = mirror_atm(Slice(*post[1]), post[0] - self.t0)
            while reference and abs(atm - reference) > step + 10**12:
                reference += step if atm > reference else -step
                send(self.w3, oracle.functions.postVol(bridge, reference), self.admin)
                self.bridges += 1
                bridge += 1
            send(self.w3, oracle.functions.postSlice(*post), self.admin)
            reference = atm

    def _setup_informed(self) -> None:
        """The informed buyer's account: impersonated on the node, with ETH for gas and quote to trade."""
        s = self.suite
        self.informed_address = anvil_account(INFORMED_INDEX).address
        self.rpc.request("anvil_impersonateAccount", [self.informed_address])
        self.rpc.request("anvil_setBalance", [self.informed_address, hex(1000 * WAD)])
        send(self.w3, s.quote.functions.mint(self.informed_address, s.quote_units(_BUYER_FUNDS_WHOLE)), self.admin)
        send(self.w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), self.informed_address)

    def _quotes_file(self) -> Path:
        if self.quotes_path is None:
            import tempfile

            self.quotes_path = Path(tempfile.mkdtemp(prefix="hedgevault-quotes-")) / "quotes.json"
        return self.quotes_path

    def restart(self, scenario: Scenario, seed: int) -> None:
        """After ``evm_revert`` to a snapshot taken right after ``setup``: run again with another scenario
        (same first price and volatility) and seed, with a fresh keeper (its nonces and pending state)."""
        if scenario.prices_wad[0] != self.scenario.prices_wad[0] or scenario.vols_wad[0] != self.scenario.vols_wad[0]:
            raise SimulationError("a restarted scenario must start at the price and volatility of the setup")
        self.scenario = scenario
        self.config = replace(self.config, scenario=scenario, seed=seed)
        self._agent_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(3)[2]))
        if hasattr(self, "_agents_cache"):
            del self._agents_cache
        self.records = []
        self.counters = Counters()
        self.holdings = {}
        self.settled = {}
        self.informed_decisions = []
        self.smile_posts = []
        self._last_post_at = {}
        self.informed_cash = []
        self.informed_mark = []
        self.fallbacks = []
        self._make_keeper()
        self._start_books()

    def _start_books(self) -> None:
        suite_config = self.config.suite
        head = self.rpc.block_number()
        book = self._read_book(head)
        borrow_cap, supply_cap = rate_caps_ray(suite_config)
        self.ledger = Ledger(
            quote_scale=10**suite_config.quote_decimals,
            spot_wad=book["spot_wad"],
            hedge_wad=book["hedge_wad"],
            collateral=book["collateral"],
            quote=book["quote_balance"],
            liability=book["mark_value"] + book["payouts_owed"],
            time_sec=book["time_sec"],
            borrow_rate_cap_ray=borrow_cap,
            supply_rate_cap_ray=supply_cap,
            fees_owed=book["fees_owed"],
        )
        self.nav0 = book["nav"]
        if self.config.informed is not None:
            self.informed_cash0 = int(self.rpc.call(Call(self.suite.quote, "balanceOf", (self.informed_address,))))
        self.quote0 = book["quote_balance"]
        self.hedge0_wad = book["hedge_wad"]
        self.collateral0 = book["collateral"]
        self._last_block = head

    def _make_keeper(self) -> None:
        from hedgevault.keeper import Keeper, KeeperConfig, OracleUpdater, VaultConfig

        s = self.suite
        self.source = ScenarioSource()
        skew = self.config.skew
        quotes = self._quotes_file() if skew is not None and skew.surface else None
        updater = OracleUpdater(
            self.w3,
            self.keeper_account,
            s.feed.address,
            s.vol_oracle.address,
            self.source,
            quotes_file=quotes,
            surface_walk=skew is None or skew.walk,
        )
        config = KeeperConfig(vaults=[VaultConfig(address=s.vault.address, name="sim")], chain_id=self.rpc.chain_id)
        self.keeper = Keeper(self.w3, self.keeper_account, config, oracle_updater=updater, logger=self.keeper_logger)

    def _live_vols(self, k: int) -> dict[int, int]:
        """The step's volatility for every listed expiry still ahead of the step time."""
        now = self.t0 + self.scenario.times_sec[k]
        live = [e for e in sorted(set(self.series_expiry.values())) if e > now]
        if self.market is not None:
            if self.config.skew is not None and self.config.skew.surface:
                return {}  # the keeper posts the fitted slices of the quoted expiries (SurfacePoster)
            spot = self.scenario.prices_wad[k] / WAD
            return {e: quantise_vol(self.market.atm_vol(spot, e - now)) for e in live}
        vol = self.scenario.vols_wad[k]
        return {e: vol for e in live}

    # ------------------------------------------------------------ reads
    def _posted_vol_wad(self) -> int:
        """The oracle's last post for the latest listed expiry (live throughout; every live expiry gets the
        same targets, so the same posts): the scenario's vol as far as the oracle's rate rule let it move."""
        ((vol_wad, _),) = self.rpc.calls([Call(self.suite.vol_oracle, "lastPost", (max(self.series_expiry.values()),))])
        return int(vol_wad)

    def _read_book(self, block: int) -> dict[str, int]:
        """The vault's book, supply and fees owed after ``block`` (read at that block's number, so that the
        lending market's interest is that of the block's timestamp, ``time_sec``)."""
        s = self.suite
        book, supply, fees = self.rpc.calls(
            [Call(s.vault, "book"), Call(s.vault, "totalSupply"), Call(s.vault, "feesOwed")], block=block
        )
        view = s.book_view(book)
        out = {snake: view[camel] for snake, camel in _BOOK_FIELDS}
        out["total_supply"] = int(supply)
        out["fees_owed"] = int(fees)
        out["time_sec"] = self.rpc.block_timestamp(block)
        # assets_value is net of the fees owed (the fee recipient's quote in the vault)
        out["nav"] = max(out["assets_value"] - out["mark_value"] - out["payouts_owed"], 0)
        return out

    # ------------------------------------------------------------ steps
    def run(self, progress: Callable[[StepRecord], None] | None = None) -> list[StepRecord]:
        """Step 0 (opening trades and the first keeper pass at t0), then every scenario step."""
        self._opening_trades()
        self._keeper_pass(0)
        self._close_step(0, progress)
        for k in range(1, self.scenario.steps + 1):
            self._market_move(k)
            self._keeper_pass(k)
            if self.config.agents is not None or self.config.informed is not None:
                self._claims(k)
                if self.config.agents is not None:
                    self._agents(k)
                if self.config.informed is not None:
                    self._informed(k)
                # arbitrage brings the pool back to the price the keeper's hedge moved it from (a hedge slice
                # stops at the oracle +/- the slippage bound: without it the next slice waits)
                self.arb.move_to(self.scenario.prices_wad[k])
                self._keeper_tick()  # the keeper watches every block: it hedges what the trades changed
            self._close_step(k, progress)
        return self.records

    def _opening_trades(self) -> None:
        for trade in self.config.opening_trades:
            series_id = self.series_ids[trade.series_index]
            self._trade(TradeIntent(self.buyers[0], series_id, trade.amount_wad, True), strict=True)

    def _market_move(self, k: int) -> None:
        now = self.t0 + self.scenario.times_sec[k]
        lag = self.suite.config.oracle.twap_window_sec + 1
        self.rpc.set_next_timestamp(now - lag)
        self.arb.move_to(self.scenario.prices_wad[k])
        self.rpc.mine(now)

    def _keeper_pass(self, k: int) -> None:
        """The keeper's pass at the step time: it posts the step's oracles, waits for them to be mined
        (``Keeper.tick`` does), then settles or hedges on the new prices."""
        # step 0: the setup has just posted the vols (their first posts); posting them again now would be
        # held for the oracle's minimum interval
        skew = self.config.skew
        jumped = skew is not None and skew.jump_at_sec is not None and self.scenario.times_sec[k] >= skew.jump_at_sec
        if self.market is not None and skew is not None and skew.jump is not None and jumped:
            self.market.merton = skew.jump  # the skew jump: the market prices with the new parameters from now
        if self.market is not None and skew is not None and skew.surface and k > 0 and k % skew.quote_every_steps == 0:
            now = self.t0 + self.scenario.times_sec[k]
            spot = self.scenario.prices_wad[k] / WAD
            write_quotes(self._quotes_file(), self.market.quotes(spot, now, self.series_expiry.values()))
            self.source.arm(self.scenario.prices_wad[k], {})
            self._keeper_tick()
            updater = self.keeper.oracle_updater
            poster = updater.surface if updater is not None else None
            for expiry, reason in sorted(poster.fallbacks.items() if poster is not None else ()):
                self.fallbacks.append({"step": k, "expiry_offset_sec": expiry - self.t0, "reason": reason})
            for expiry, step in sorted(poster.walks.items() if poster is not None else ()):
                self.walks.append(
                    {
                        "step": k,
                        "expiry_offset_sec": expiry - self.t0,
                        "lambda": step.lam,
                        "max_left_vol_points": step.max_left_wad / WAD * 100,
                    }
                )
            return
        self.source.arm(self.scenario.prices_wad[k], self._live_vols(k) if k > 0 else {})
        self._keeper_tick()

    def _keeper_tick(self) -> None:
        """One keeper pass, then wait until what it sent is mined (Anvil mines right after answering), so
        that the next action sees it, as on a chain where the keeper's transaction lands in the next block."""
        for record in self.keeper.tick():
            if record.status == "waiting" and record.reason:
                self.counters.hedge_waits[record.reason.split("(", 1)[0]] += 1
            if record.name == "oracle:surface" and record.status != "success":
                # a slice batch the keeper's simulation refused (or that reverted): the surface stays behind
                self.counters.skipped[f"keeper postSlices: {(record.reason or record.status).split('(', 1)[0]}"] += 1
        for _, hashes in self.keeper.pending.values():
            for tx_hash in hashes:
                self.rpc.wait_mined(tx_hash)

    def _claims(self, k: int) -> None:
        now = self.t0 + self.scenario.times_sec[k]
        s = self.suite
        pending = sorted(
            {self.series_expiry[sid] for (_, sid), amount in self.holdings.items() if amount > 0} - set(self.settled)
        )
        pending = [e for e in pending if e <= now]
        if not pending:
            return
        prices = self.rpc.calls([Call(s.vault, "settlementPriceWad", (e,)) for e in pending])
        for expiry, price in zip(pending, prices, strict=True):
            if int(price) != 0:
                self.settled[expiry] = int(price)
        for (holder, sid), amount in sorted(self.holdings.items()):
            expiry = self.series_expiry[sid]
            if amount == 0 or expiry not in self.settled:
                continue
            spec = self.series_meta[sid]
            price = self.settled[expiry]
            intrinsic = max(price - spec.strike_wad, 0) if spec.is_call else max(spec.strike_wad - price, 0)
            if intrinsic > 0:  # a worthless option is not worth the gas of a claim
                self.rpc.send(holder, s.vault, "claim", sid, holder)
                self.counters.trades_done["claim"] += 1
            self.holdings[(holder, sid)] = 0

    def _agents(self, k: int) -> None:
        assert self.config.agents is not None
        agents = self._agents_obj(self.config.agents)
        now = self.t0 + self.scenario.times_sec[k]
        tradable = [sid for sid in self.series_ids if self.series_expiry[sid] > now + self.cutoff_sec]
        is_call = {sid: self.series_meta[sid].is_call for sid in tradable}
        for intent in agents.trades(tradable, self.holdings, step=k, is_call=is_call):
            self._trade(intent, strict=False)
        for flow in agents.flows():
            self._flow(flow)

    def _agents_obj(self, params: AgentParams) -> Agents:
        if not hasattr(self, "_agents_cache"):
            self._agents_cache = Agents(params, self._agent_rng, self.buyers, self.depositors)
        return self._agents_cache

    def _skip(self, kind: str, reason: Reverted | Revert) -> None:
        self.counters.skipped[f"{kind}: {reason.name}"] += 1

    def _trade(self, intent: TradeIntent, *, strict: bool) -> None:
        s = self.suite
        kind = "buy" if intent.buy else "sell"
        try:
            if intent.buy:
                premium, fee = self.rpc.call(Call(s.vault, "quoteBuy", (intent.series_id, intent.amount_wad)))
                args: tuple[Any, ...] = (intent.series_id, intent.amount_wad, int(premium) + int(fee), intent.buyer)
            else:
                proceeds, _ = self.rpc.call(Call(s.vault, "quoteSell", (intent.series_id, intent.amount_wad)))
                args = (intent.series_id, intent.amount_wad, int(proceeds), intent.buyer)
        except Reverted as exc:
            if strict:
                raise SimulationError(f"opening {kind} refused: {exc.detail}") from None
            self._skip(kind, exc)
            return
        refused = self.rpc.simulate(intent.buyer, s.vault, kind, *args)
        if refused is not None:
            if strict:
                raise SimulationError(f"opening {kind} refused: {refused.text}")
            self._skip(kind, refused)
            return
        self.rpc.send(intent.buyer, s.vault, kind, *args)
        key = (intent.buyer, intent.series_id)
        self.holdings[key] = self.holdings.get(key, 0) + (intent.amount_wad if intent.buy else -intent.amount_wad)
        self.counters.trades_done[kind] += 1

    def _informed(self, k: int) -> None:
        """The informed buyer's pass: for each tradable series, the vault's quote against the market's value of a
        lot; a buy where the vault is cheaper, a sale of what it holds where the vault pays more (``informed_wants``),
        halved while the vault refuses it (its limits), every comparison recorded (``informed_decisions``)."""
        assert self.market is not None and self.config.informed is not None
        now = self.t0 + self.scenario.times_sec[k]
        spot = self.scenario.prices_wad[k] / WAD
        who = self.informed_address
        lot = self.config.informed.lot_wad
        for sid in self.series_ids:
            expiry = self.series_expiry[sid]
            if expiry <= now + self.cutoff_sec:
                continue
            spec = self.series_meta[sid]
            value = self.market.price(spot, spec.strike_wad / WAD, expiry - now, spec.is_call)
            self._informed_trade(k, sid, "buy", lot, value)
            held = self.holdings.get((who, sid), 0)
            if held > 0:
                self._informed_trade(k, sid, "sell", min(lot, held), value)

    def _informed_trade(self, k: int, sid: int, side: str, amount: int, value: float) -> None:
        """One comparison of the informed buyer (``value``: the market's price of one option, quote per
        underlying), and the trade when the vault is off, at the largest size it accepts (halving)."""
        assert self.config.informed is not None
        s = self.suite
        who = self.informed_address
        qs = 10**self.suite.config.quote_decimals
        while True:
            market_units = value * amount / WAD * qs
            try:
                if side == "buy":
                    premium, fee = self.rpc.call(Call(s.vault, "quoteBuy", (sid, amount)))
                    vault_units = int(premium) + int(fee)
                else:
                    vault_units, _ = self.rpc.call(Call(s.vault, "quoteSell", (sid, amount)))
                    vault_units = int(vault_units)
            except Reverted as exc:
                self.informed_decisions.append(InformedDecision(k, sid, side, amount, 0, market_units, 0, exc.name))
                return
            if not informed_wants(side, vault_units, market_units):
                reason = "vault not cheaper" if side == "buy" else "vault not dearer"
                self.informed_decisions.append(
                    InformedDecision(k, sid, side, amount, vault_units, market_units, 0, reason)
                )
                return
            refused = self.rpc.simulate(who, s.vault, side, sid, amount, vault_units, who)
            if refused is None:
                self.rpc.send(who, s.vault, side, sid, amount, vault_units, who)
                key = (who, sid)
                self.holdings[key] = self.holdings.get(key, 0) + (amount if side == "buy" else -amount)
                self.counters.trades_done[f"informed {side}"] += 1
                self.informed_decisions.append(
                    InformedDecision(k, sid, side, amount, vault_units, market_units, amount, "")
                )
                return
            if amount // 2 < self.config.informed.min_lot_wad:
                self.informed_decisions.append(
                    InformedDecision(k, sid, side, amount, vault_units, market_units, 0, refused.name)
                )
                self._skip(f"informed {side}", refused)
                return
            amount //= 2

    def _record_market(self, k: int, head: int) -> None:
        """The skewed market at the step's end: each oracle post of the step (a new ``lastPost`` time) with its
        slice and RMSE (vol points) against the market's implied vols at the quoted strikes (the keeper's own
        inversion, ``smile_points``); the informed buyer's quote balance and its holdings at the market's prices."""
        from hedgevault.surface import mirror
        from hedgevault.surface.errors import SviError
        from hedgevault.surface.fit import MarketSnapshot, Quote, smile_points

        assert self.market is not None
        s = self.suite
        now = self.t0 + self.scenario.times_sec[k]
        spot = self.scenario.prices_wad[k] / WAD
        live = [e for e in sorted(set(self.series_expiry.values())) if e > now]
        reads = self.rpc.calls(
            [Call(s.vol_oracle, name, (e,)) for e in live for name in ("lastPost", "sliceOf")], block=head
        )
        for i, expiry in enumerate(live):
            (_, last_at), raw = reads[2 * i], reads[2 * i + 1]
            last_at = int(last_at)
            if last_at == 0 or self._last_post_at.get(expiry) == last_at:
                continue
            self._last_post_at[expiry] = last_at
            sl = mirror.Slice(*(int(x) for x in raw))
            doc = self.market.quotes(spot, now, [expiry])
            quotes = tuple(Quote(q["strike"], q["expiry"], q["bid"], q["ask"], q["kind"]) for q in doc["quotes"])
            points, _ = smile_points(MarketSnapshot(spot, 0.0, now, quotes))
            entry: dict[str, Any] = {
                "step": k,
                "expiry_offset_sec": expiry - self.t0,
                "posted_at_sec": last_at - self.t0,
                "t0_sec": expiry - last_at,
                "spot": spot,
                "slice": {
                    "a": sl.a36 / 10**36,
                    "b": sl.b_wad / WAD,
                    "rho": sl.rho_wad / WAD,
                    "m": sl.m_wad / WAD,
                    "sigma": sl.sigma_wad / WAD,
                },
                "strikes": [],
                "market_vols": [],
                "slice_vols": [],
                "rmse_vol_points": None,
            }
            if points:
                pts = points[0]
                try:
                    vols = [mirror.vol_wad(sl, K, pts.forward_wad, expiry - last_at) / WAD for K in pts.strikes_wad]
                except SviError:
                    vols = []
                if vols:
                    entry["strikes"] = [K / WAD for K in pts.strikes_wad]
                    entry["market_vols"] = [float(v) for v in pts.vol]
                    entry["slice_vols"] = vols
                    entry["rmse_vol_points"] = 100 * float(np.sqrt(np.mean((np.asarray(vols) - pts.vol) ** 2)))
            self.smile_posts.append(entry)
        if self.config.informed is not None:
            who = self.informed_address
            cash = int(self.rpc.calls([Call(s.quote, "balanceOf", (who,))], block=head)[0])
            mark = 0.0
            for (holder, sid), amount in self.holdings.items():
                if holder != who or amount == 0:
                    continue
                spec = self.series_meta[sid]
                expiry = self.series_expiry[sid]
                at = self.settled.get(expiry, self.scenario.prices_wad[k]) / WAD
                value = self.market.price(
                    at if expiry <= now else spot, spec.strike_wad / WAD, expiry - now, spec.is_call
                )
                mark += value * amount / WAD * 10**s.config.quote_decimals
            self.informed_cash.append(cash)
            self.informed_mark.append(mark)

    def _flow(self, flow: FlowIntent) -> None:
        s = self.suite
        who = flow.depositor
        if flow.deposit_whole:
            amount = s.quote_units(flow.deposit_whole)
            refused = self.rpc.simulate(who, s.vault, "deposit", amount, who)
            if refused is not None:
                self._skip("deposit", refused)
                return
            self.rpc.send(who, s.vault, "deposit", amount, who)
            self.counters.trades_done["deposit"] += 1
            return
        try:
            room = int(self.rpc.call(Call(s.vault, "maxWithdraw", (who,))))
        except Reverted as exc:
            self._skip("withdraw", exc)
            return
        amount = room * flow.withdraw_bps // 10_000
        if amount == 0:
            self.counters.skipped["withdraw: maxWithdraw is 0"] += 1
            return
        refused = self.rpc.simulate(who, s.vault, "withdraw", amount, who, who)
        if refused is not None:
            self._skip("withdraw", refused)
            return
        self.rpc.send(who, s.vault, "withdraw", amount, who, who)
        self.counters.trades_done["withdraw"] += 1

    # ------------------------------------------------------------ bookkeeping
    def _book_receipts(self, k: int, head: int) -> None:
        """Book the receipts of the blocks since the last step, block by block. Before a block with a feed
        update, the interest the hedger's debt and collateral accrued up to that block is booked at the old
        spot (``Ledger.accrue``, from the hedger's position after the block less the block's own orders),
        so that the hedge PnL H x dS uses the hedge of that moment."""
        s = self.suite
        receipts = self.rpc.receipts(self._last_block + 1, head)
        self._last_block = head
        feed = s.feed.address.lower()
        keeper = self.keeper_account.address.lower()
        actors = Actors(keeper, self.arb_address, s.feed.address, s.vol_oracle.address, s.vault.address)
        c = self.counters
        blocks: dict[int, list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]]] = {}
        for r in receipts:
            sender = str(r["from"]).lower()
            gas_used = int(r["gasUsed"], 16)
            if sender == keeper:
                c.keeper_gas_wei += gas_used * int(r["effectiveGasPrice"], 16)
            if int(r["status"], 16) != 1:
                if sender == keeper:
                    c.keeper_failed += 1
                    failed = gas_kind(sender, str(r.get("to") or ""), [], actors, succeeded=False)
                    c.gas.setdefault(failed, []).append(gas_used)
                    continue
                raise SimulationError(f"step {k}: transaction {r['transactionHash']} from {r['from']} reverted")
            events = [e for e in (decode_log(self.events, log) for log in r["logs"]) if e is not None]
            blocks.setdefault(int(r["blockNumber"], 16), []).append((r, events))
        feed_blocks = [
            b for b, items in blocks.items() if any(str(r.get("to") or "").lower() == feed for r, _ in items)
        ]
        positions = self._hedger_positions(feed_blocks)
        for block, items in blocks.items():
            if block in positions:
                hedge_wad, collateral, time_sec = positions[block]
                for _, events in items:  # take the block's own orders out of the reading
                    for name, args in events:
                        if name == "Hedged":
                            hedge_wad -= int(args["hedgeChangeWad"])
                            collateral -= int(args["collateralChange"])
                self.ledger.accrue(hedge_wad=hedge_wad, collateral=collateral, time_sec=time_sec)
            for r, events in items:
                to = str(r.get("to") or "").lower()
                names = [name for name, _ in events]
                kind = gas_kind(str(r["from"]), to, names, actors)
                c.gas.setdefault(kind, []).append(int(r["gasUsed"], 16))
                if kind == "other":
                    self._book_other(r, to)
                if to == feed:
                    self.ledger.spot_update(self.scenario.prices_wad[k])
                for name, args in events:
                    self._book_event(name, args, upkeep="Claimed" not in names)

    def _hedger_positions(self, blocks: list[int]) -> dict[int, tuple[int, int, int]]:
        """The hedger's (hedge wad, collateral, block timestamp) after each of ``blocks``."""
        out: dict[int, tuple[int, int, int]] = {}
        for block in blocks:
            (position,) = self.rpc.calls([Call(self.suite.hedger, "position", (self.ledger.spot_wad, 0))], block=block)
            out[block] = (int(position[0]), int(position[1]), self.rpc.block_timestamp(block))
        return out

    def _book_other(self, receipt: dict[str, Any], to: str) -> None:
        """Itemise an 'other' transaction by the contract and function it called (its calldata is not in the
        receipt: one more request, for what should stay rare)."""
        s = self.suite
        if not hasattr(self, "_names"):
            contracts = (s.vault, s.hedger, s.feed, s.vol_oracle, s.quote, s.underlying, s.pool, s.uniswap.router)
            labels = ("vault", "hedger", "feed", "vol oracle", "quote token", "underlying", "pool", "router")
            self._names = {c.address.lower(): label for c, label in zip(contracts, labels, strict=True)}
            self._selectors = {
                "0x" + Web3.keccak(text=fn.signature)[:4].hex(): str(fn.fn_name)
                for c in contracts
                for fn in c.all_functions()
            }
        tx = self.rpc.request("eth_getTransactionByHash", [receipt["transactionHash"]])
        label = other_label(to, str(tx.get("input") or ""), self._names, self._selectors)
        self.counters.gas_other[label] += 1

    def _book_event(self, name: str, args: dict[str, Any], *, upkeep: bool) -> None:
        """One decoded event; ``upkeep``: it came from an upkeep (not a claim), which tells the ledger whose
        ``Hedged`` it is."""
        ledger, c = self.ledger, self.counters
        if name == "Deposit":
            ledger.deposit(int(args["assets"]))
            c.quote_in += int(args["assets"])
        elif name == "Withdraw":
            ledger.withdraw(int(args["assets"]))
            c.quote_out += int(args["assets"])
        elif name == "Bought":
            ledger.bought(int(args["premium"]), int(args["fee"]))
            c.quote_in += int(args["premium"]) + int(args["fee"])
            c.options_bought_wad += int(args["amountWad"])
        elif name == "Sold":
            ledger.sold(int(args["proceeds"]), int(args["fee"]))
            c.quote_out += int(args["proceeds"])
            c.options_sold_wad += int(args["amountWad"])
        elif name == "Claimed":
            ledger.claimed(int(args["payout"]))
            c.quote_out += int(args["payout"])
            c.claims_paid += int(args["payout"])
            c.options_claimed_wad += int(args["amountWad"])
        elif name == "Hedged":
            quote_change = int(args["quoteChange"])
            ledger.hedged(int(args["hedgeChangeWad"]), quote_change, int(args["collateralChange"]), upkeep=upkeep)
            if quote_change >= 0:
                c.quote_in += quote_change
            else:
                c.quote_out -= quote_change
        elif name == "Slice":
            ledger.slice()
        elif name == "ExpirySettled":
            ledger.settled()
        elif name == "FeesCollected":
            ledger.fees_collected(int(args["amount"]))
            c.quote_out += int(args["amount"])

    def _close_step(self, k: int, progress: Callable[[StepRecord], None] | None) -> None:
        head = self.rpc.block_number()
        self._book_receipts(k, head)
        book = self._read_book(head)
        if self.market is not None:
            self._record_market(k, head)
        if book["spot_wad"] != self.scenario.prices_wad[k]:
            raise SimulationError(
                f"step {k}: the oracle's spot {book['spot_wad']} is not the scenario's price "
                f"{self.scenario.prices_wad[k]} (did the keeper post the feed?)"
            )
        ledger = self.ledger
        ledger.close_step(
            quote_balance=book["quote_balance"],
            hedge_wad=book["hedge_wad"],
            collateral=book["collateral"],
            time_sec=book["time_sec"],
            liability=book["mark_value"] + book["payouts_owed"],
            fees_owed=book["fees_owed"],
        )
        qs = 10**self.suite.config.quote_decimals
        residual = Fraction(book["nav"] - self.nav0) - ledger.pnl.explained()
        hf = book["health_factor_wad"]
        # the vault's target (BookMath.hedgeTarget): -book delta, not below 0 for a long-only hedger
        target_wad = -book["book_delta_wad"] if self.can_short else max(-book["book_delta_wad"], 0)
        record = StepRecord(
            step=k,
            time_sec=self.scenario.times_sec[k],
            price=self.scenario.prices_wad[k] / WAD,
            vol=self.scenario.vols_wad[k] / WAD,
            vol_posted=self._posted_vol_wad() / WAD,
            nav=book["nav"],
            total_supply=book["total_supply"],
            # one whole share (quote decimals + 6) in quote tokens: (NAV + 1) x 10^6 / (supply + 10^6)
            share_price=float(Fraction((book["nav"] + 1) * 10**6, book["total_supply"] + 10**6)),
            health_factor=None if hf >= 2**255 else hf / WAD,
            net_delta=(book["book_delta_wad"] + book["hedge_wad"]) / WAD,
            book_delta=book["book_delta_wad"] / WAD,
            vega=book["vega_wad"] / WAD,
            hedge=book["hedge_wad"] / WAD,
            hedge_target=target_wad / WAD,
            hedge_gap=abs(target_wad - book["hedge_wad"]) / WAD,
            collateral=book["collateral"],
            claim_reserve=book["claim_reserve"],
            quote_balance=book["quote_balance"],
            mark_value=book["mark_value"],
            payouts_owed=book["payouts_owed"],
            pnl_premium=ledger.pnl.premium,
            pnl_option=ledger.pnl.option,
            pnl_hedge_quote=float(ledger.pnl.hedge / qs),
            pnl_swap_cost_quote=float(ledger.pnl.swap_cost / qs),
            pnl_borrow_interest_quote=float(ledger.pnl.borrow_interest / qs),
            pnl_supply_interest=ledger.pnl.supply_interest,
            flows=ledger.pnl.flows,
            residual_quote=float(residual / qs),
            hedges=ledger.hedges,
            slices=ledger.slices,
            trades=sum(v for key, v in self.counters.trades_done.items() if key in ("buy", "sell")),
        )
        self.records.append(record)
        if progress is not None:
            progress(record)
