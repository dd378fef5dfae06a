"""PnL attribution of the vault, from its events and its book (pure: no chain I/O).

NAV = Q + C + H S - M - O - F (the vault's quote balance Q, the hedger's collateral C with the lending market
(quote units), the signed hedge H = underlying held - underlying owed with interest (underlying wad), oracle
spot S, mark M of open options, payouts owed O, trading fees owed F; ``IOptionVault``). Over any stretch of
blocks, in quote units:

    dNAV = flows + premium + option + hedge - swap costs - borrow interest + supply interest + residual

* flows      = deposits - withdrawals (not PnL: money the depositors bring or take)
* premium    = premiums received on buys - gross paid on buy-backs (proceeds + fee); the fees are quote the
               vault holds for the fee recipient (F), so they move Q and F alike
* option     = -(dM + dO) - claims paid: the change of the book's liability (a claim lowers O and Q equally)
* hedge      = sum over feed updates of H x (S_new - S_old): the delta PnL of the hedge at oracle prices (a
               short hedge, H < 0, gains when the spot falls)
* swap cost  = sum over ``Hedged`` events of -(dQ + dC + dH x S) at the oracle spot S: pool fee, price impact
               and any pool/oracle gap (``IOptionVault.Hedged``; the hedger's Aave legs move C and H at par)
* borrow interest = growth of the debt between events x S at the time it is booked (no event: the debt
               token's balance grows with time, so H falls)
* supply interest = growth of the collateral between events (the aToken's balance grows with time)
* residual   = what is left: the vault rounds H S toward its assets' disadvantage and the mark up, so the
               residual is below one quote unit at each end of the stretch (it telescopes over steps).

Keeper gas is paid by the keeper in ETH, not by the vault: it is reported beside, not in, the NAV.

Conservation: the ledger replays Q, C, H and F from the events and is told the chain's values at points
where every event up to then has been booked (``accrue``, ``close_step``). Q and F must match to the unit.
H may only have fallen (the debt grew) and C only risen (the collateral earned), each by no more than the
reserve's highest possible rate could produce on the largest debt / collateral of the stretch (the bound is
in ``accrue``); anything else (a liquidation, a token movement the events do not show) is a
``ConservationError``, which stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from hedgevault.sim.errors import SimulationError

WAD = 10**18
RAY = 10**27
#: Seconds per year in Aave's rate arithmetic (``MathUtils.SECONDS_PER_YEAR``).
SECONDS_PER_YEAR = 365 * 86_400


class ConservationError(SimulationError):
    """The vault's balances (or its hedge) differ from what its events and the lending market's interest
    account for."""


@dataclass
class PnL:
    """Attribution components in quote units (exact fractions where prices multiply balances). Costs are
    positive numbers: ``swap_cost`` and ``borrow_interest`` are subtracted in ``explained``."""

    flows: int = 0
    premium: int = 0
    option: int = 0
    hedge: Fraction = Fraction(0)
    swap_cost: Fraction = Fraction(0)
    borrow_interest: Fraction = Fraction(0)
    supply_interest: int = 0

    def explained(self) -> Fraction:
        """flows + premium + option + hedge - swap cost - borrow interest + supply interest."""
        return (
            self.flows
            + self.premium
            + self.option
            + self.hedge
            - self.swap_cost
            - self.borrow_interest
            + self.supply_interest
        )


def interest_bound(principal: int, rate_cap_ray: int, elapsed_sec: int) -> Fraction | None:
    """The most a balance whose largest value over ``elapsed_sec`` seconds, before the interest of that
    stretch, was ``principal`` can grow at a rate of at most ``rate_cap_ray`` a year (ray), compounded in
    any way up to continuously; None when the stretch is too long for the bound (x >= 1/2).

    With x = rate x elapsed / year the interest of the stretch is at most P' (e^x - 1), where P' <= P + the
    interest itself is the balance's peak; e^x <= 1 / (1 - x) gives interest <= P x / (1 - 2x).
    Aave compounds debt with a 3-term expansion of e^x (below e^x) and supply linearly (below e^x)."""
    x = Fraction(rate_cap_ray * elapsed_sec, RAY * SECONDS_PER_YEAR)
    if x >= Fraction(1, 2):
        return None
    return principal * x / (1 - 2 * x)


@dataclass
class Ledger:
    """Replays the vault's events in block order.

    ``quote_scale`` is 10^quote decimals; ``spot_wad`` the oracle spot, ``hedge_wad`` the signed hedge
    (underlying wad), ``collateral`` and ``quote`` (quote units) the positions when the ledger starts at chain
    time ``time_sec``; ``liability`` is M + O at the start (quote units). ``borrow_rate_cap_ray`` and
    ``supply_rate_cap_ray`` bound the lending market's rates (ray a year: the underlying reserve's variable
    borrow rate at full utilisation, and the quote reserve's, which its supply rate cannot exceed)."""

    quote_scale: int
    spot_wad: int
    hedge_wad: int
    collateral: int
    quote: int
    liability: int
    time_sec: int
    borrow_rate_cap_ray: int
    supply_rate_cap_ray: int
    pnl: PnL = field(default_factory=PnL)
    claims_in_step: int = 0
    #: Hedged events of upkeeps, of claims that raised quote from the hedge, and the hedger's swaps.
    hedges: int = 0
    raises: int = 0
    slices: int = 0
    settlements: int = 0
    #: Sums of the hedge's moves by orders (underlying wad, each >= 0) and of the interest (wad / quote units).
    hedge_up_wad: int = 0
    hedge_down_wad: int = 0
    borrow_interest_wad: int = 0
    collateral_in: int = 0
    collateral_out: int = 0
    fees_owed: int = 0
    #: The largest debt and collateral replayed since the last ``accrue`` (for the interest bound).
    _peak_debt_wad: int = 0
    _peak_collateral: int = 0

    def __post_init__(self) -> None:
        self._reset_peaks()

    def value(self, amount_wad: int, spot_wad: int) -> Fraction:
        """``amount_wad`` of the underlying (signed wad) at ``spot_wad``, in quote units (exact)."""
        return Fraction(amount_wad * spot_wad * self.quote_scale, WAD * WAD)

    def _reset_peaks(self) -> None:
        self._peak_debt_wad = max(-self.hedge_wad, 0)
        self._peak_collateral = self.collateral

    def _note_peaks(self) -> None:
        self._peak_debt_wad = max(self._peak_debt_wad, -self.hedge_wad)
        self._peak_collateral = max(self._peak_collateral, self.collateral)

    # ------------------------------------------------------------ events
    def spot_update(self, spot_wad: int) -> None:
        """The oracle spot changed (a feed round): the hedge gains H x dS. Book the interest accrued up to
        this block first (``accrue``), or it is valued at a later spot."""
        self.pnl.hedge += self.value(self.hedge_wad, spot_wad - self.spot_wad)
        self.spot_wad = spot_wad

    def deposit(self, assets: int) -> None:
        self.pnl.flows += assets
        self.quote += assets

    def withdraw(self, assets: int) -> None:
        self.pnl.flows -= assets
        self.quote -= assets

    def bought(self, premium: int, fee: int) -> None:
        """A buyer paid ``premium`` + ``fee`` to the vault; the fee is owed to the fee recipient."""
        self.pnl.premium += premium
        self.quote += premium + fee
        self.fees_owed += fee

    def sold(self, proceeds: int, fee: int) -> None:
        """A holder sold back: the vault paid ``proceeds`` to them and owes ``fee`` to the fee recipient."""
        self.pnl.premium -= proceeds + fee
        self.quote -= proceeds
        self.fees_owed += fee

    def fees_collected(self, amount: int) -> None:
        """The fee recipient was paid ``amount`` of the fees owed (no NAV change)."""
        self.quote -= amount
        self.fees_owed -= amount

    def claimed(self, payout: int) -> None:
        self.claims_in_step += payout
        self.quote -= payout

    def hedged(self, hedge_change_wad: int, quote_change: int, collateral_change: int, *, upkeep: bool) -> None:
        """``IOptionVault.Hedged`` at the current oracle spot S: the order cost -(dQ + dC + dH x S) (quote
        units). ``upkeep``: an upkeep's order (else a claim's quote raised from the hedge)."""
        self.pnl.swap_cost -= quote_change + collateral_change + self.value(hedge_change_wad, self.spot_wad)
        self.hedge_wad += hedge_change_wad
        self.quote += quote_change
        self.collateral += collateral_change
        if hedge_change_wad >= 0:
            self.hedge_up_wad += hedge_change_wad
        else:
            self.hedge_down_wad -= hedge_change_wad
        if collateral_change >= 0:
            self.collateral_in += collateral_change
        else:
            self.collateral_out -= collateral_change
        if upkeep:
            self.hedges += 1
        else:
            self.raises += 1
        self._note_peaks()

    def slice(self) -> None:
        """The hedger swapped one slice on the pool (``IHedger.Slice``)."""
        self.slices += 1

    def settled(self) -> None:
        self.settlements += 1

    # ------------------------------------------------------------ interest
    def accrue(self, *, hedge_wad: int, collateral: int, time_sec: int) -> None:
        """The hedger's position on chain at ``time_sec``, with every event up to then booked: book what
        changed since as interest (borrow interest at the current spot, supply interest at par).

        Raises ``ConservationError`` when the hedge rose or the collateral fell (interest cannot do that),
        when time went back, or when either grew by more than ``interest_bound`` allows for the stretch."""
        elapsed = time_sec - self.time_sec
        debt_growth = self.hedge_wad - hedge_wad
        supply_growth = collateral - self.collateral
        where = f"at t={time_sec} (after {elapsed} s)"
        if elapsed < 0:
            raise ConservationError(f"the hedge was read {where}: before the previous reading at t={self.time_sec}")
        if debt_growth < 0 or supply_growth < 0:
            raise ConservationError(
                f"the hedger's position changed without an event {where}: hedge {hedge_wad} wad on chain vs "
                f"{self.hedge_wad} replayed, collateral {collateral} vs {self.collateral} quote units; interest "
                "only lowers the hedge (debt grows) and raises the collateral: something else moved them "
                "(a liquidation, a transfer to the hedger, or an event the simulator does not book)"
            )
        for name, growth, peak, cap in (
            ("debt", debt_growth, self._peak_debt_wad, self.borrow_rate_cap_ray),
            ("collateral", supply_growth, self._peak_collateral, self.supply_rate_cap_ray),
        ):
            bound = interest_bound(peak, cap, elapsed)
            if growth and bound is not None and growth > bound:
                raise ConservationError(
                    f"the {name} grew by {growth} {where}, more than {float(bound):.0f}, the most a peak of "
                    f"{peak} can earn at the reserve's highest rate ({cap / RAY:.2%} a year): not interest"
                )
        self.pnl.borrow_interest += self.value(debt_growth, self.spot_wad)
        self.pnl.supply_interest += supply_growth
        self.borrow_interest_wad += debt_growth
        self.hedge_wad = hedge_wad
        self.collateral = collateral
        self.time_sec = time_sec
        self._reset_peaks()

    # ------------------------------------------------------------ step end
    def close_step(
        self, *, quote_balance: int, hedge_wad: int, collateral: int, time_sec: int, liability: int, fees_owed: int
    ) -> None:
        """Book the interest up to ``time_sec`` (``accrue``), check the replayed quote balance and fees owed
        against the chain's, and book the option component of the step from the book's liability (mark +
        payouts owed, quote units)."""
        self.accrue(hedge_wad=hedge_wad, collateral=collateral, time_sec=time_sec)
        if quote_balance != self.quote or fees_owed != self.fees_owed:
            raise ConservationError(
                f"vault balances differ from its events: quote {quote_balance} on chain vs {self.quote} "
                f"replayed, fees owed {fees_owed} vs {self.fees_owed}"
            )
        self.pnl.option -= liability - self.liability + self.claims_in_step
        self.liability = liability
        self.claims_in_step = 0


# ---------------------------------------------------------------- gas categories

#: What each gas category of the summary holds (short: the table prints it beside the figures; docs/simulator.md
#: says more), in the order the table lists them. Every transaction of the run's steps (setup excluded) is in
#: exactly one, picked by ``gas_kind``.
GAS_KINDS: dict[str, str] = {
    "hedge": "keeper upkeeps that moved the hedge a slice on the cached book",
    "re-mark + hedge": "keeper upkeeps that re-priced the stale book, then moved the hedge a slice",
    "re-mark": "keeper upkeeps that only re-priced the stale cached book (BookMarked, no hedge)",
    "settle": "keeper upkeeps that settled an expiry",
    "feed update": "the keeper's price rounds on the feed",
    "vol update": "the keeper's volatility posts",
    "arbitrage swap": "the arbitrageur moving the pool to the step's price",
    "buy": "option purchases (re-marking a stale book first)",
    "sell": "option sales back to the vault",
    "claim": "claims of settled options (may raise quote from the hedge)",
    "deposit": "deposits",
    "withdraw": "withdrawals",
    "fee collection": "trading fees paid to the fee recipient",
    "keeper reverted": "keeper transactions that reverted (gas paid, nothing done)",
    "other": "none of the above: itemised by target and function",
}

#: The vault's events that name a transaction's kind, by precedence (a claim may raise quote from the hedge,
#: so Claimed comes before Hedged; any action may re-mark first, so BookMarked comes last).
_VAULT_EVENT_KINDS = (
    ("Claimed", "claim"),
    ("Hedged", "hedge"),
    ("ExpirySettled", "settle"),
    ("Bought", "buy"),
    ("Sold", "sell"),
    ("Deposit", "deposit"),
    ("Withdraw", "withdraw"),
    ("FeesCollected", "fee collection"),
)


@dataclass(frozen=True)
class Actors:
    """The addresses ``gas_kind`` tells transactions apart by (any case)."""

    keeper: str
    arbitrageur: str
    feed: str
    vol_oracle: str
    vault: str

    def __post_init__(self) -> None:
        for name in ("keeper", "arbitrageur", "feed", "vol_oracle", "vault"):
            object.__setattr__(self, name, getattr(self, name).lower())


def gas_kind(sender: str, to: str, events: list[str], actors: Actors, *, succeeded: bool = True) -> str:
    """The ``GAS_KINDS`` category of a transaction from ``sender`` to ``to`` (addresses, any case) whose logs
    decoded to the event names ``events``; ``succeeded``: its receipt's status."""
    sender, to = sender.lower(), to.lower()
    if not succeeded:
        return "keeper reverted" if sender == actors.keeper else "other"
    if sender == actors.arbitrageur:
        return "arbitrage swap"
    if sender == actors.keeper and to == actors.feed:
        return "feed update"
    if sender == actors.keeper and to == actors.vol_oracle:
        return "vol update"
    if to == actors.vault:
        for name, kind in _VAULT_EVENT_KINDS:
            if name in events:
                return "re-mark + hedge" if kind == "hedge" and "BookMarked" in events else kind
        if sender == actors.keeper and "BookMarked" in events:
            return "re-mark"
    return "other"


def other_label(to: str, input_data: str, contracts: dict[str, str], functions: dict[str, str]) -> str:
    """How the summary itemises an 'other' transaction: its target (by name when ``contracts`` maps its
    lowercase address to one) and the function it called (by name when ``functions`` maps its 4-byte selector,
    lowercase hex with 0x, to one; ``input_data``: the calldata, hex)."""
    target = contracts.get(to.lower(), to.lower()) if to else "contract creation"
    selector = input_data[:10].lower() if input_data.startswith("0x") and len(input_data) >= 10 else ""
    return f"{target}.{functions.get(selector, selector or '(no call: ether sent)')}"
