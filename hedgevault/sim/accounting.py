"""PnL attribution of the vault, from its events and its book (pure: no chain I/O).

NAV = Q + H S - M - O - F (quote balance Q, hedge H, oracle spot S, mark M of open options, payouts
owed O, trading fees owed F; ``IOptionVault``). Over any stretch of blocks, in quote units:

    dNAV = flows + premium + option + hedge - swap costs + residual

* flows     = deposits - withdrawals (not PnL: money the depositors bring or take)
* premium   = premiums received on buys - gross paid on buy-backs (proceeds + fee); the fees are
              quote the vault holds for the fee recipient (F), so they move Q and F alike
* option    = -(dM + dO) - claims paid: the change of the book's liability (a claim lowers O and Q equally)
* hedge     = sum over feed updates of H x (S_new - S_old): the delta PnL of the hedge at oracle prices
* swap cost = sum over hedges of (quote paid - a x S) for buys and (a x S - quote received) for sells:
              pool fee, price impact and any pool/oracle gap, measured against the oracle spot S
* residual  = what is left: the vault rounds H S down to a quote unit and the mark up, so the residual
              is below one quote unit at each end of the stretch (it telescopes over steps).

Keeper gas is paid by the keeper in ETH, not by the vault: it is reported beside, not in, the NAV.
The ledger also replays the vault's quote and underlying balances from the events, so that a mismatch
with the chain (a token movement the attribution missed) is caught (``ConservationError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from hedgevault.sim.errors import SimulationError

WAD = 10**18


class ConservationError(SimulationError):
    """The vault's balances differ from what its events account for."""


@dataclass
class PnL:
    """Attribution components in quote units (exact fractions where prices multiply balances)."""

    flows: int = 0
    premium: int = 0
    option: int = 0
    hedge: Fraction = Fraction(0)
    swap_cost: Fraction = Fraction(0)

    def explained(self) -> Fraction:
        """flows + premium + option + hedge - swap cost."""
        return self.flows + self.premium + self.option + self.hedge - self.swap_cost


@dataclass
class Ledger:
    """Replays the vault's events in block order.

    ``quote_scale``/``underlying_scale`` are 10^decimals of the tokens; ``spot_wad`` the oracle spot and
    ``hedge``/``quote`` the vault's balances (token units) when the ledger starts; ``liability`` is
    M + O at the start (quote units)."""

    quote_scale: int
    underlying_scale: int
    spot_wad: int
    hedge: int
    quote: int
    liability: int
    pnl: PnL = field(default_factory=PnL)
    claims_in_step: int = 0
    hedges: int = 0
    settlements: int = 0
    hedge_bought: int = 0
    hedge_sold: int = 0
    fees_owed: int = 0

    def value(self, underlying: int, spot_wad: int) -> Fraction:
        """``underlying`` token units at ``spot_wad``, in quote units (exact)."""
        return Fraction(underlying * spot_wad * self.quote_scale, self.underlying_scale * WAD)

    # ------------------------------------------------------------ events
    def spot_update(self, spot_wad: int) -> None:
        """The oracle spot changed (a feed round): the hedge gains H x dS."""
        self.pnl.hedge += self.value(self.hedge, spot_wad - self.spot_wad)
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

    def hedged(self, bought: bool, underlying_amount: int, quote_amount: int) -> None:
        """A hedge swap at the current oracle spot."""
        at_oracle = self.value(underlying_amount, self.spot_wad)
        self.hedges += 1
        if bought:
            self.hedge += underlying_amount
            self.quote -= quote_amount
            self.hedge_bought += underlying_amount
            self.pnl.swap_cost += quote_amount - at_oracle
        else:
            self.hedge -= underlying_amount
            self.quote += quote_amount
            self.hedge_sold += underlying_amount
            self.pnl.swap_cost += at_oracle - quote_amount

    def settled(self) -> None:
        self.settlements += 1

    # ------------------------------------------------------------ step end
    def close_step(self, *, quote_balance: int, hedge_balance: int, liability: int, fees_owed: int) -> None:
        """Book the option component of the step from the book's liability (mark + payouts owed, quote
        units) and check the replayed balances and fees owed against the chain's."""
        if quote_balance != self.quote or hedge_balance != self.hedge or fees_owed != self.fees_owed:
            raise ConservationError(
                f"vault balances differ from its events: quote {quote_balance} on chain vs {self.quote} "
                f"replayed, underlying {hedge_balance} vs {self.hedge}, fees owed {fees_owed} vs {self.fees_owed}"
            )
        self.pnl.option -= liability - self.liability + self.claims_in_step
        self.liability = liability
        self.claims_in_step = 0
