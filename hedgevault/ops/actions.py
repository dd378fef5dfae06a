"""What a depositor or an option buyer does with a deployed vault: deposit, withdraw, buy, sell, claim (and the
lister's ``list_series``, which also prepares the expiry in the volatility oracle).

Each action checks what the vault will accept first (``maxWithdraw``, ``quoteBuy`` ...), sends locally
signed transactions (``hedgevault.chain.sending.send_signed``) and returns what happened, read from the receipt's
events. A call the vault would refuse raises ``ActionError`` naming the custom error and what to do;
nothing is sent then. Amounts: quote token units for assets, premiums and proceeds; underlying wad for
option amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from hedgevault.chain.sending import Buildable, send_signed
from hedgevault.errors import HedgevaultError
from hedgevault.hints import for_user, revert_message
from hedgevault.ops.reads import live_series
from hedgevault.reverts import describe
from hedgevault.suite import Suite

BPS = 10_000


class ActionError(HedgevaultError):
    """The vault would refuse the action (nothing was sent), or the input cannot be used."""


@dataclass(frozen=True)
class Outcome:
    """What an action did: the event's values by name, the transaction hash and the gas it used."""

    action: str
    values: dict[str, Any]
    tx_hash: str
    gas_used: int
    #: True for a preview (``dry_run``): nothing was sent, ``tx_hash`` is empty and ``gas_used`` 0.
    dry_run: bool = False


def _preview(action: str, values: dict[str, Any]) -> Outcome:
    return Outcome(action, values, "", 0, dry_run=True)


def _tokens(suite: Suite, units: int) -> str:
    """Quote units as whole tokens with the symbol, for messages: ``12.5 tUSD``."""
    from hedgevault.units import from_units

    decimals = int(suite.quote.functions.decimals().call())
    return f"{from_units(units, decimals)} {suite.quote.functions.symbol().call()}"


def _explain(action: str, exc: Exception, quote_decimals: int | None = None) -> ActionError:
    """The one-line refusal: the decoded error, what it means and what to do (``hedgevault.hints``)."""
    return ActionError(revert_message(action, describe(exc, quote_decimals)))


def _send(suite: Suite, action: str, fn: Buildable, account: LocalAccount) -> TxReceipt:
    try:
        return send_signed(suite.w3, fn, account)
    except (ContractCustomError, ContractLogicError) as exc:
        raise _explain(action, exc, int(suite.quote.functions.decimals().call())) from None


def _call(action: str, fn: Any, sender: str) -> Any:
    try:
        return fn.call({"from": sender})
    except (ContractCustomError, ContractLogicError) as exc:
        raise _explain(action, exc) from None


def _event(suite: Suite, receipt: TxReceipt, name: str) -> dict[str, Any]:
    events = getattr(suite.vault.events, name)().process_receipt(receipt, errors=DISCARD)
    if not events:
        raise ActionError(f"transaction 0x{bytes(receipt['transactionHash']).hex()} emitted no {name} event")
    return dict(events[-1]["args"])


def _outcome(suite: Suite, action: str, receipt: TxReceipt, event: str) -> Outcome:
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    return Outcome(action, _event(suite, receipt, event), tx_hash, int(receipt["gasUsed"]))


def _ensure_allowance(suite: Suite, account: LocalAccount, amount: int) -> None:
    token = suite.quote
    if int(token.functions.allowance(account.address, suite.vault.address).call()) < amount:
        _send(suite, "approve", token.functions.approve(suite.vault.address, amount), account)


def _positive(value: int, what: str) -> None:
    if value <= 0:
        raise ActionError(f"{what} must be positive, got {value}")


def deposit(
    suite: Suite, account: LocalAccount, assets: int, receiver: str | None = None, *, dry_run: bool = False
) -> Outcome:
    """Deposit ``assets`` quote units; the shares go to ``receiver`` (default: the depositor). ``dry_run``:
    the shares it would mint now (``previewDeposit``), nothing sent."""
    _positive(assets, "the amount to deposit")
    balance = int(suite.quote.functions.balanceOf(account.address).call())
    if balance < assets:
        raise ActionError(
            f"{account.address} holds {_tokens(suite, balance)}, less than the {_tokens(suite, assets)} to deposit"
            + (" (dev chains: `hedgevault faucet --quote AMOUNT`)" if balance == 0 else "")
        )
    room = int(_call("maxDeposit", suite.vault.functions.maxDeposit(receiver or account.address), account.address))
    if assets > room:
        raise ActionError(f"the vault takes at most {_tokens(suite, room)} now (paused, insolvent or oracle down?)")
    if dry_run:
        shares = int(_call("previewDeposit", suite.vault.functions.previewDeposit(assets), account.address))
        return _preview("deposit", {"assets": assets, "shares": shares})
    _ensure_allowance(suite, account, assets)
    fn = suite.vault.functions.deposit(assets, receiver or account.address)
    return _outcome(suite, "deposit", _send(suite, "deposit", fn, account), "Deposit")


def _why_closed(suite: Suite) -> str:
    """Why withdrawals take nothing now: the oracles refusing (fail closed), a pause, or the floor."""
    try:
        suite.vault.functions.book().call()
    except (ContractCustomError, ContractLogicError) as exc:
        text = describe(exc)
        hint = for_user(text.split("(", 1)[0])
        return f"the vault cannot value itself ({text}{': ' + hint if hint else ''}); try again later"
    if suite.vault.functions.paused().call():
        return "the vault is paused (withdrawals reopen at the conservative valuation after maxPauseSec)"
    return "the health-factor floor or the free cash leaves no room: see `hedgevault status`"


def withdraw(
    suite: Suite, account: LocalAccount, assets: int | None, receiver: str | None = None, *, dry_run: bool = False
) -> Outcome:
    """Withdraw ``assets`` quote units, or (``None``) redeem every share that may leave now (``maxRedeem``).
    ``dry_run``: the shares and assets it would move now, nothing sent."""
    vault, owner = suite.vault, account.address
    if assets is None:
        shares = int(_call("maxRedeem", vault.functions.maxRedeem(owner), owner))
        if shares == 0:
            held = int(vault.functions.balanceOf(owner).call())
            if held == 0:
                raise ActionError(f"{owner} holds no shares of this vault")
            raise ActionError(f"nothing can be redeemed by {owner} now: {_why_closed(suite)}")
        worth = int(_call("previewRedeem", vault.functions.previewRedeem(shares), owner))
        if worth == 0:
            raise ActionError(f"the shares {owner} may redeem now are worth 0 quote units: nothing was sent")
        if dry_run:
            return _preview("withdraw", {"assets": worth, "shares": shares})
        fn = vault.functions.redeem(shares, receiver or owner, owner)
    else:
        _positive(assets, "the amount to withdraw")
        room = int(_call("maxWithdraw", vault.functions.maxWithdraw(owner), owner))
        if assets > room:
            raise ActionError(
                f"at most {_tokens(suite, room)} can be withdrawn by {owner} now (limited by the shares, the free "
                "cash and the health-factor floor): ask for less or use --all"
            )
        if dry_run:
            shares = int(_call("previewWithdraw", vault.functions.previewWithdraw(assets), owner))
            return _preview("withdraw", {"assets": assets, "shares": shares})
        fn = vault.functions.withdraw(assets, receiver or owner, owner)
    return _outcome(suite, "withdraw", _send(suite, "withdraw", fn, account), "Withdraw")


def _with_slippage(amount: int, slippage_bps: int, up: bool) -> int:
    if not 0 <= slippage_bps <= 5_000:
        raise ActionError(f"slippage must be within 0..5000 bps, got {slippage_bps}")
    return amount * (BPS + slippage_bps) // BPS if up else amount * (BPS - slippage_bps) // BPS


def buy(
    suite: Suite,
    account: LocalAccount,
    series_id: int,
    amount_wad: int,
    *,
    max_premium: int | None = None,
    slippage_bps: int = 50,
    receiver: str | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Buy ``amount_wad`` options of ``series_id``; pay at most ``max_premium`` (premium + fee, quote
    units), by default the current quote plus ``slippage_bps``."""
    _positive(amount_wad, "the option amount")
    premium, fee = _call("quote", suite.vault.functions.quoteBuy(series_id, amount_wad), account.address)
    limit = max_premium if max_premium is not None else _with_slippage(int(premium) + int(fee), slippage_bps, True)
    if dry_run:
        values = {"seriesId": series_id, "amountWad": amount_wad, "premium": int(premium), "fee": int(fee)}
        return _preview("buy", values | {"maxPremium": limit})
    _ensure_allowance(suite, account, limit)
    fn = suite.vault.functions.buy(series_id, amount_wad, limit, receiver or account.address)
    return _outcome(suite, "buy", _send(suite, "buy", fn, account), "Bought")


def sell(
    suite: Suite,
    account: LocalAccount,
    series_id: int,
    amount_wad: int,
    *,
    min_proceeds: int | None = None,
    slippage_bps: int = 50,
    receiver: str | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Sell back ``amount_wad`` options of ``series_id`` for at least ``min_proceeds`` quote units, by
    default the current quote minus ``slippage_bps``."""
    _positive(amount_wad, "the option amount")
    proceeds, _fee = _call("quote", suite.vault.functions.quoteSell(series_id, amount_wad), account.address)
    limit = min_proceeds if min_proceeds is not None else _with_slippage(int(proceeds), slippage_bps, False)
    if dry_run:
        values = {"seriesId": series_id, "amountWad": amount_wad, "proceeds": int(proceeds), "fee": int(_fee)}
        return _preview("sell", values | {"minProceeds": limit})
    fn = suite.vault.functions.sell(series_id, amount_wad, limit, receiver or account.address)
    return _outcome(suite, "sell", _send(suite, "sell", fn, account), "Sold")


def collect_fees(suite: Suite, account: LocalAccount) -> Outcome:
    """Send the trading fees the vault owes (but one unit) to its fee recipient; anyone may do it."""
    fn = suite.vault.functions.collectFees()
    return _outcome(suite, "collect fees", _send(suite, "collect fees", fn, account), "FeesCollected")


def remark(suite: Suite, account: LocalAccount) -> Outcome:
    """Re-mark the vault's cached book now (anyone may, paying the gas); ends a reported oracle outage."""
    fn = suite.vault.functions.remark()
    return _outcome(suite, "re-mark", _send(suite, "re-mark", fn, account), "BookMarked")


def report_outage(suite: Suite, account: LocalAccount) -> Outcome:
    """Record that the vault's oracles are down (anyone may): the outage delay starts, after which
    withdrawals open at the conservative valuation."""
    fn = suite.vault.functions.reportOracleOutage()
    return _outcome(suite, "report outage", _send(suite, "report outage", fn, account), "OracleOutageReported")


def list_series(suite: Suite, account: LocalAccount, expiry: int, strike_wad: int, is_call: bool) -> Outcome:
    """List a series (lister role) and prepare its expiry in the volatility oracle for the strikes now listed there
    (``VolatilityOracle.prepareExpiry``, anyone may: the first post of the expiry then rewrites its slots instead of
    creating them; a signer holding the oracle's ``VOL_UPDATER_ROLE`` also lists the expiry, so its first post
    inserts nothing, unless the oracle's run of listed expiries never posted is full). Values: the
    ``SeriesListed`` event's, plus ``preparedStrikes`` and the preparation's ``prepareTx`` and ``prepareGas`` (""
    and 0 when nothing was to do)."""
    from hedgevault.surface.prepare import MAX_STRIKES, strikes_to_prepare

    _positive(strike_wad, "the strike")
    fn = suite.vault.functions.listSeries(expiry, strike_wad, is_call)
    _call("list-series", fn, account.address)
    listed = _outcome(suite, "list-series", _send(suite, "list-series", fn, account), "SeriesListed")
    strikes = min(len(_listed_strikes(suite, expiry)), MAX_STRIKES)
    values = dict(listed.values) | {"preparedStrikes": strikes, "prepareTx": "", "prepareGas": 0}
    if strikes_to_prepare(suite.vol_oracle, expiry, strikes, account.address) is not None:
        prepare = suite.vol_oracle.functions.prepareExpiry(expiry, strikes)
        receipt = _send(suite, "prepare the expiry", prepare, account)
        values |= {"prepareTx": "0x" + bytes(receipt["transactionHash"]).hex(), "prepareGas": int(receipt["gasUsed"])}
    return Outcome("list-series", values, listed.tx_hash, listed.gas_used)


def _listed_strikes(suite: Suite, expiry: int) -> set[int]:
    """The distinct strikes (wad) of the vault's live series expiring at ``expiry`` (the strikes its slice posts
    name)."""
    return {int(s[2]) for _, s in live_series(suite) if int(s[0]) == expiry}


def claim(suite: Suite, account: LocalAccount, series_id: int, receiver: str | None = None) -> Outcome:
    """Claim the payout of the caller's whole balance of a settled series."""
    fn = suite.vault.functions.claim(series_id, receiver or account.address)
    return _outcome(suite, "claim", _send(suite, "claim", fn, account), "Claimed")
