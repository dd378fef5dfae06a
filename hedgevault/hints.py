"""What each custom error means, written once, and what the reader should do next.

One table (``HINTS``) keyed by the error's name as ``hedgevault.reverts`` decodes it. Each entry holds the
meaning of the error (``means``) and the next step of each kind of reader: a person at the command line
(``user``: the CLI's one-line messages, governance's too) and the keeper (``keeper``: what the keeper does
about it and what, if anything, its operator should do; the ``explanation`` of its log lines). A reader
that has nothing to add shows the meaning alone. A reader may word its own next step on top (governance
says which timelock role does what), never the meaning.

``UNREACHABLE`` names the errors declared in ``contracts/`` and ``interfaces/`` that no user command and no
keeper transaction can meet, each with the reason; ``tests/unit/test_hints.py`` checks that every other
declared error has an entry and that no entry names an error the compiled ABIs no longer declare.

The errors the off-chain mirrors raise (Black-Scholes, SVI, portfolio math and covariance) already say what they
mean in their exception's ``HINT``: the table takes that text, it does not write a second one. Otherwise no
imports from the rest of the package: the CLI, the keeper and governance all read this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    """What a revert means (``means``) and what to do next, for a user and for the keeper ("": nothing to add)."""

    means: str
    user: str = ""
    keeper: str = ""


_STATUS = "see `hedgevault status`"
_POSTER = "the volatility updater (a keeper) must post it"
_SKIPPED_POST = "the post is skipped (the last posted one stays) and tried again on a later tick; act if it lasts"

#: The meaning of every custom error a user or the keeper can meet that no off-chain mirror states (below), and
#: the next step of each.
_WRITTEN: dict[str, Hint] = {
    # ---------------------------------------------------------------- vault: trading, shares, listing
    "ZeroAmount": Hint("an amount of zero", "give a positive amount"),
    "ZeroAddress": Hint("a zero address where one is needed", "give the receiver (or the account) explicitly"),
    "UnknownSeries": Hint("no series has that id", "see `hedgevault series`"),
    "SeriesExpired": Hint("the series has expired", "claim it after settlement instead"),
    "TradingCutoff": Hint("the series is too close to expiry to trade", "trade a later expiry (`hedgevault series`)"),
    "PremiumAboveMax": Hint(
        "the price moved above the limit", "quote again, or allow more with --slippage-bps / --max-premium"
    ),
    "ProceedsBelowMin": Hint(
        "the price moved below the limit", "quote again, or accept less with --slippage-bps / --min-proceeds"
    ),
    "HealthFactorTooLow": Hint(
        "the vault's health factor would fall below its floor",
        f"take less ({_STATUS})",
        "the upkeep waits; check the book with `hedgevault status`",
    ),
    "OpenInterestCap": Hint("the series is at its open-interest cap", "buy less"),
    "NetDeltaLimit": Hint("the vault's delta limit is reached", "buy less, or the other side"),
    "VegaLimit": Hint("the vault's vega limit is reached", "buy less"),
    "InsufficientLiquidity": Hint(
        "the vault's free cash (balance minus payouts owed) is short for this transfer",
        "take less, or wait for settlements and hedges",
        "it waits for premiums, settlements or deposits",
    ),
    "LiveSeriesCap": Hint(
        "the vault lists as many live series as it may", "wait until an expiry settles (or raise maxLiveSeries)"
    ),
    "BadExpiry": Hint(
        "the expiry is too close (inside the trading cutoff) or too far", "pick an expiry inside the bounds shown"
    ),
    "BadStrike": Hint("the strike is outside [spot / 10, 10 x spot]", "pick a strike nearer the spot"),
    "SeriesAlreadyListed": Hint("that series (expiry, strike, type) is listed already", "see `hedgevault series`"),
    "NotExpired": Hint("the expiry has not passed yet", "settle after it"),
    "AlreadySettled": Hint("the expiry is settled already", "claim instead", "nothing to do"),
    "NothingToSettle": Hint("no live series expires at that time", "see `hedgevault series`", "nothing to do"),
    "NotSettled": Hint("the expiry is not settled yet", "a keeper (or `settle`) must settle it first"),
    "NothingToClaim": Hint("this account holds none of that series"),
    "NoFeesToCollect": Hint("no trading fees are owed yet (one unit always stays owed)"),
    "BookTooLarge": Hint(
        "a cached aggregate of the book does not fit its storage field (a book far beyond any realistic size)",
        "trade less",
        "report it: the vault cannot record this book",
    ),
    "EnforcedPause": Hint("the vault is paused by its guardian", "", "nothing is done until it is unpaused"),
    "ExpectedPause": Hint("the vault is not paused", "nothing to unpause"),
    "BadConfiguration": Hint(
        "a constructor argument is inconsistent (the argument is named)", "fix the deployment config"
    ),
    "VaultInsolvent": Hint(
        "the vault's assets do not cover its liabilities", "a deposit would pay the deficit", "report it now"
    ),
    "DepositsClosed": Hint("deposits are closed (paused, in exit mode or insolvent)", _STATUS),
    "ZeroAssets": Hint("those shares are worth 0 quote units", "redeem more shares"),
    "OracleHealthy": Hint("the oracles answer: there is no outage to report"),
    "OutageAlreadyReported": Hint(
        "an oracle outage is already reported: withdrawals open at the conservative valuation once the outage "
        "delay has passed"
    ),
    "ParamOutOfBounds": Hint(
        "a parameter is outside its hard bound (name, value and bounds shown)", "choose a value inside the bounds"
    ),
    "ParamStepTooLarge": Hint("the change is larger than one step", "queue it as several changes an hour apart"),
    "ParametersChangedTooRecently": Hint("the parameters changed less than an hour ago", "execute later"),
    # OpenZeppelin's ERC-4626 / ERC-20 errors the vault's share and quote paths revert with
    "ERC4626ExceededMaxWithdraw": Hint("that is more than your shares are worth", "see `hedgevault status --account`"),
    "ERC4626ExceededMaxRedeem": Hint("that is more shares than you hold"),
    "ERC4626ExceededMaxDeposit": Hint(
        "that is more than the vault takes now", "deposit less (paused, insolvent or oracle down?)"
    ),
    "ERC4626ExceededMaxMint": Hint("that is more shares than the vault mints now", "mint less"),
    "ERC20InsufficientBalance": Hint("the account holds fewer tokens than the transfer", "transfer less"),
    "ERC20InsufficientAllowance": Hint("the vault may not take that many tokens", "approve more first"),
    # ---------------------------------------------------------------- hedging
    "UpkeepNotNeeded": Hint(
        "another caller already did this upkeep (or the gap closed)", "nothing to do", "nothing to do"
    ),
    "HedgeOutsideBand": Hint(
        "the hedge could not bring the gap inside the band in one order", "", "retried on a later block"
    ),
    "HedgeNavLoss": Hint(
        "the hedge would lose more NAV than the vault allows (fees or a pool far from the oracle)",
        "",
        "retried when the pool is back near the oracle; check the pool's liquidity if it lasts",
    ),
    "HedgerDeRisking": Hint(
        "the hedger's lending position is below its health buffer under the shock: no new short puts until a hedge "
        "upkeep de-risks it",
        "buy later (or a call)",
        "the keeper sends that upkeep when checkUpkeep asks",
    ),
    "NothingToHedge": Hint(
        "the hedge slice traded nothing: the pool sits at the slice's price limit (arbitrage must move it back), "
        "or the vault has no free quote to buy underlying with (withdrawals or payouts emptied its free cash)",
        "",
        "the hedge resumes by itself once the pool or the cash is back - `hedgevault status` shows the cash",
    ),
    "PoolBeyondLimit": Hint(
        "the pool's price is already beyond the slice's limit (oracle spot +/- the slippage bound)",
        "",
        "waiting for arbitrage or the next feed round to bring pool and oracle together; act only if it lasts",
    ),
    "SliceOutsideBound": Hint(
        "a slice traded at an average price outside the oracle bound (a defence in depth behind the price limit)",
        "",
        "report it: the price limit should have stopped the slice",
    ),
    "HedgerParamOutOfBounds": Hint(
        "a hedger parameter is outside its hard bound (name, value and bounds shown)", "choose a value inside them"
    ),
    "CollateralShort": Hint(
        "the lending hedger needs more quote collateral than the vault's free cash can post",
        "",
        "the short waits until premiums, settlements or deposits bring cash back (or the book shrinks)",
    ),
    "AaveLiquidityShort": Hint(
        "the lending market has too little underlying to lend for the short",
        "",
        "it waits for liquidity; the book stays partly unhedged meanwhile",
    ),
    "AaveBorrowCapReached": Hint(
        "the lending market's borrow cap is reached: the short cannot grow until debt is repaid there",
        "",
        "the book stays partly unhedged meanwhile",
    ),
    "AaveReserveUnavailable": Hint(
        "the lending market's reserve is frozen, paused or not borrowable",
        "",
        "the short leg waits for the market's governance",
    ),
    "AaveOracleDeviation": Hint(
        "the lending market's price and the vault's spot disagree beyond the bound",
        "",
        "the short leg waits until they agree",
    ),
    "AaveHealthTooLow": Hint(
        "the borrow would leave the lending position below its health floor under the shock",
        "",
        "the order is cut; check the hedger's collateral (`hedgevault status`)",
    ),
    # ---------------------------------------------------------------- price oracle (the vault fails closed)
    "FeedStale": Hint(
        "the price feed's last answer is older than its heartbeat: the vault fails closed (no trading, no hedging)",
        "wait for a fresh round",
        "the keeper reports the outage; it resumes with a fresh feed round (--local-oracles on a dev chain)",
    ),
    "FeedAnswerNotPositive": Hint(
        "the price feed answered zero or a negative price: the vault fails closed until a valid round"
    ),
    "FeedRoundIncomplete": Hint(
        "the price feed's latest round is incomplete: the vault fails closed until a complete round"
    ),
    "SequencerDown": Hint(
        "the L2 sequencer is down: the vault fails closed until it is back and the grace period passed"
    ),
    "SequencerGracePeriod": Hint("the L2 sequencer came back less than the grace period ago: the vault waits it out"),
    "TwapUnavailable": Hint(
        "the pool has too little price history for the TWAP window: the vault fails closed until it has"
    ),
    "TwapDeviation": Hint(
        "the feed and the pool's TWAP disagree beyond the bound: the vault fails closed until they agree (the TWAP "
        "follows a moved pool within its window, 10 minutes by default)"
    ),
    "PoolPriceDeviation": Hint(
        "the pool's current price is further from the feed than the vault allows: a hedge now would trade at a "
        "stale or manipulated price",
        "wait for arbitrage or a fresh feed round",
        "it waits for arbitrage or a fresh feed round",
    ),
    "InvalidSettlementRound": Hint(
        "the settlement round hint is not the first round after expiry",
        "give the first round at or after the expiry",
        "checkUpkeep's next hint is tried",
    ),
    "SettlementRoundNotFirst": Hint(
        "an earlier feed phase holds the settlement round",
        "give that phase's round",
        "checkUpkeep's next hint is tried",
    ),
    "SettlementRoundUnverifiable": Hint(
        "the round before the settlement hint cannot be read",
        "",
        "the settlement waits for a verifiable round",
    ),
    "OracleParamOutOfBounds": Hint(
        "a price-oracle parameter is outside its hard bound (name, value and bounds shown)", "choose a value inside"
    ),
    "PoolTokenMismatch": Hint(
        "the pool does not hold exactly the underlying and the quote token", "fix the deployment config's pool"
    ),
    # ---------------------------------------------------------------- volatility oracle
    "VolStale": Hint(
        "the expiry's posted volatility is older than its maximum age",
        "the volatility updater (a keeper) must post first",
        "the volatility updater must post (the keeper does with --local-oracles)",
    ),
    "VolNotPosted": Hint("no volatility is posted for that expiry yet", _POSTER, _POSTER),
    "VolOutOfBounds": Hint("the posted vol is outside the oracle's [minVol, maxVol]", "post a vol inside them"),
    "VolRateExceeded": Hint(
        "the vol post moves faster than the oracle's rate allows",
        "post nearer the last vol",
        "the updater clips it and walks there",
    ),
    "VolPostTooSoon": Hint(
        "the expiry's vol was posted less than the minimum interval ago", "post later", "the post waits"
    ),
    "VolFirstPostTooFar": Hint(
        "an expiry's first vol post is too far from the oracle's latest one",
        "post nearer the curve",
        "it is clipped toward it",
    ),
    "VolExpiryPassed": Hint("the expiry is in the past: nothing to post for it", "", "the post is dropped"),
    "VolParamOutOfBounds": Hint(
        "a volatility-oracle parameter is outside its hard bound (name, value and bounds shown)",
        "choose a value inside",
    ),
    "VolStrikeOutOfBounds": Hint(
        "the slice gives a listed strike a vol outside the oracle's [minVol, maxVol]",
        "fit the slice again",
        "the slice is not posted; the posted one stays",
    ),
    "VolTooManyStrikes": Hint(
        "the expiry would name more strikes than the oracle keeps", "list fewer strikes for that expiry"
    ),
    "VolBatchInvalid": Hint("a batch of slice posts is empty or names an expiry twice"),
    # ---------------------------------------------------------------- governance (the timelock)
    "AccessControlUnauthorizedAccount": Hint(
        "the signing account lacks the role this call needs",
        "sign with an account that holds it (list-series needs LISTER_ROLE)",
        "grant it (VOL_UPDATER_ROLE for vol posts) or sign with the right key",
    ),
    "DelayBelowMinimum": Hint("the delay is below the timelock's hard minimum", "give at least the minimum"),
    "TimelockInsufficientDelay": Hint("the delay is below the timelock's delay", "leave --delay out or give more"),
    "TimelockUnexpectedOperationState": Hint(
        "the operation is not in the state this needs (already queued with this salt, executed, cancelled, or not "
        "ready yet)",
        "see `hedgevault governance pending`",
    ),
    "TimelockUnauthorizedCaller": Hint(
        "only the timelock itself may make this call", "queue it through the timelock (`hedgevault governance`)"
    ),
    "TimelockUnexecutedPredecessor": Hint("the operation's predecessor is not executed yet", "execute that first"),
    # ---------------------------------------------------------------- portfolio vault and its oracles
    "HoldingInvalid": Hint(
        "a holding does not match the covariance oracle's asset, repeats a token, or its pool holds other tokens",
        "fix the deployment config's holdings",
    ),
    "TargetsNotSet": Hint("no target weights were ever posted", "", "the keeper posts them once the covariance is"),
    "TargetsTooSoon": Hint("targets were posted less than the minimum interval ago", "post later", "the post waits"),
    "NoRebalanceNeeded": Hint(
        "no asset is outside its band with a trade that would lower the tracking error",
        "nothing to do",
        "nothing to do",
    ),
    "SlippageBudgetSpent": Hint(
        "the rebalance's slippage budget left is below the worst cost of the least slice",
        "",
        "the rebalance waits for the budget to refill",
    ),
    "TradeIncreasesTrackingError": Hint(
        "the slice would raise (or keep) the tracking error", "", "retried when prices or targets move"
    ),
    "WeightNotTowardTarget": Hint(
        "the traded asset's weight did not move toward its target", "", "retried when the pool is back near the oracle"
    ),
    "NavLossTooLarge": Hint(
        "the slice would lose more NAV than the vault allows (fees or a pool far from the oracle)",
        "",
        "retried when the pool is back near the oracle; check the pool's liquidity if it lasts",
    ),
    "VolMovedAwayFromBand": Hint(
        "the slice would move the ex-ante volatility farther from its band", "", "retried when prices or targets move"
    ),
    "SaleIncomplete": Hint(
        "a withdrawal's sale of a holding filled only part within the price bound (the pool is thin or far from "
        "the oracle)",
        "withdraw less, or redeem in kind",
    ),
    "CovAssetCountOutOfRange": Hint("the covariance oracle's asset list is empty or too long", "fix the config"),
    "CovAssetInvalid": Hint("an asset of the covariance oracle's list is zero or repeated", "fix the config"),
    "CovParamOutOfBounds": Hint(
        "a covariance-oracle parameter is outside its hard bound (name, value and bounds shown)", "choose one inside"
    ),
}


def mirrored_meanings() -> dict[str, str]:
    """The errors the off-chain mirrors raise as exceptions (``hedgevault.greeks``, ``.surface``, ``.portfolio``
    errors), by name: each class's ``HINT`` is that error's meaning, said once, there."""
    from hedgevault.greeks.errors import ALL_ERRORS as GREEKS
    from hedgevault.portfolio.errors import ALL_ERRORS as PORTFOLIO
    from hedgevault.surface.errors import ALL_ERRORS as SURFACE

    return {cls.__name__: cls.HINT for cls in (*GREEKS, *SURFACE, *PORTFOLIO)}


#: The keeper's step for the mirrored errors it can meet in its posts (slices, covariances, targets).
_MIRRORED_KEEPER_STEPS: dict[str, str] = {
    "SviButterflyArbitrage": _SKIPPED_POST,
    "SviCalendarArbitrage": _SKIPPED_POST,
    "SviVolStepExceeded": "it walks there in steps",
    "VolSliceOffGrid": "its fits are quantised to the grid before the post: a slice made by hand must be too",
    "CovNotPosted": "the keeper posts one from the feeds' history",
    "CovStale": "the keeper must post a fresh one",
    "CovPostTooSoon": "the post waits",
    "CovVolStepExceeded": "it walks there in steps",
    "CovCorrStepExceeded": "it walks there in steps",
} | dict.fromkeys(
    (
        "CovPackingInvalid",
        "CovVolOutOfBounds",
        "CovCorrOutOfBounds",
        "CovNotPsd",
        "PmWeightNegative",
        "PmWeightOutOfBounds",
        "PmWeightSumAboveOne",
        "PmVolOutOfBand",
        "PmNoRisk",
        "PmRiskContributionOff",
        "PmKktGradientOff",
        "PmKktGradientBelow",
    ),
    _SKIPPED_POST,
)

#: What every custom error a user or the keeper can meet means, and the next step of each reader: the table
#: above, and the mirrored errors with their mirror's ``HINT`` as the meaning.
HINTS: dict[str, Hint] = _WRITTEN | {
    name: Hint(means, "", _MIRRORED_KEEPER_STEPS.get(name, "")) for name, means in mirrored_meanings().items()
}

#: Errors declared in contracts/ and interfaces/ that no user command or keeper transaction can meet.
UNREACHABLE: dict[str, str] = {
    "NotVault": "the option token's mint/burn and the hedger's orders take calls from the bound vault only",
    "NotPool": "the hedger's swap callback takes calls from its pool only",
    "NotOwnPool": "the portfolio vault's swap callback takes calls from its swap's pool only",
    "BadBinding": "the hedger is bound once, by its deployer, inside `hedgevault deploy`",
    "BindRefused": "the option token is bound once, by its deployer, inside `hedgevault deploy`",
    "ReentrancyGuardReentrantCall": "only a contract re-entering the vault (an attacker) meets it",
    "CovLengthMismatch": "RebalanceMath is called by the portfolio vault with its own state's sizes",
}


def _joined(means: str, step: str) -> str:
    return f"{means}: {step}" if step else means


def for_user(name: str, step: str | None = None) -> str | None:
    """What error ``name`` means and what a user does next (``step`` instead of the table's), else None."""
    hint = HINTS.get(name)
    return None if hint is None else _joined(hint.means, hint.user if step is None else step)


def for_keeper(name: str) -> str | None:
    """What error ``name`` means and what the keeper does (and its operator should do), else None."""
    hint = HINTS.get(name)
    return None if hint is None else _joined(hint.means, hint.keeper)


def revert_message(action: str, text: str, step: str | None = None) -> str:
    """The CLI's one line for a call that would revert with ``text`` (``describe``'s ``Name(args)``): ``{action}
    would revert with {text}: {meaning}: {next step}``."""
    hint = for_user(text.split("(", 1)[0], step)
    return f"{action} would revert with {text}" + (f": {hint}" if hint else "")


_ERROR_NAME = re.compile(r"\b([A-Z][A-Za-z0-9]*)\(")


def named_error(*texts: object) -> str | None:
    """The first error of ``HINTS`` named (``Name(...)``) in ``texts`` (strings; others are skipped), else None."""
    for text in texts:
        if isinstance(text, str):
            for match in _ERROR_NAME.finditer(text):
                if match.group(1) in HINTS:
                    return match.group(1)
    return None
