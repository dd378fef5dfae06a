"""Structured keeper logs: one JSON object per line, one event per line.

Every event has ``ts`` (UTC ISO 8601), ``level`` and ``event``, plus what applies of ``block``, ``vault``,
``action``, ``reason``, ``tx``, ``gas``, ``nonce``, fees (wei per gas) and so on. The keeper logs through a
standard ``logging.Logger`` (fields in ``extra={"fields": {...}}``); ``JsonLinesFormatter`` renders them.

An event whose ``reason`` (or ``detail``) names a revert in ``EXPLANATIONS`` also carries ``explanation``: what
the error means for the keeper and what, if anything, the operator should do (``explain``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOGGER_NAME = "hedgevault.keeper"

#: The reverts a keeper meets, in words: what each means and what to do (one line each). Keyed by the custom
#: error's name as ``hedgevault.reverts`` decodes it; ``explain`` finds the name in a logged reason.
EXPLANATIONS: dict[str, str] = {
    # hedging
    "NothingToHedge": "the hedge slice traded nothing: the pool sits at the slice's price limit (arbitrage must move "
    "it back), or the vault has no free quote to buy underlying with (withdrawals or payouts emptied its free "
    "cash); the hedge resumes by itself once the pool or the cash is back - `hedgevault status` shows the cash",
    "PoolBeyondLimit": "the pool's price is already beyond the slice's limit (oracle spot +/- the slippage bound): "
    "waiting for arbitrage or the next feed round to bring pool and oracle together; act only if it lasts",
    "PoolPriceDeviation": "the pool's current price is further from the feed than the vault allows: a hedge now "
    "would trade at a stale or manipulated price; it waits for arbitrage or a fresh feed round",
    "CollateralShort": "the lending hedger needs more quote collateral than the vault's free cash can post: the "
    "short waits until premiums, settlements or deposits bring cash back (or the book shrinks)",
    "HedgerDeRisking": "the hedger's lending position is below its health buffer under the shock: no new short puts "
    "until a hedge upkeep de-risks it (the keeper sends it when checkUpkeep asks)",
    "AaveLiquidityShort": "the lending market has too little underlying to lend for the short: it waits for "
    "liquidity; the book stays partly unhedged meanwhile",
    "AaveBorrowCapReached": "the lending market's borrow cap is reached: the short cannot grow until debt is repaid "
    "there; the book stays partly unhedged meanwhile",
    "AaveReserveUnavailable": "the lending market's reserve is frozen, paused or not borrowable: the short leg waits "
    "for the market's governance",
    "AaveOracleDeviation": "the lending market's price and the vault's spot disagree beyond the bound: the short leg "
    "waits until they agree",
    "AaveHealthTooLow": "the borrow would leave the lending position below its health floor under the shock: the "
    "order is cut; check the hedger's collateral (`hedgevault status`)",
    "HedgeOutsideBand": "the hedge could not bring the gap inside the band in one order: retried on a later block",
    "HedgeNavLoss": "the hedge would lose more NAV than the vault allows (fees or a pool far from the oracle): "
    "retried when the pool is back near the oracle; check the pool's liquidity if it lasts",
    "UpkeepNotNeeded": "another caller already did this upkeep (or the gap closed): nothing to do",
    "HealthFactorTooLow": "the upkeep would leave the vault's health factor below its floor: it waits; check the "
    "book with `hedgevault status`",
    "InsufficientLiquidity": "the vault's free cash (balance minus payouts owed) is short for this transfer: it "
    "waits for premiums, settlements or deposits",
    "EnforcedPause": "the vault is paused by its guardian: nothing is done until it is unpaused",
    # oracles: the vault fails closed; the keeper reports the outage (``reportOracleOutage``)
    "FeedStale": "the price feed's last answer is older than its heartbeat: the vault fails closed (no trading, no "
    "hedging) and the keeper reports the outage; it resumes with a fresh feed round (--local-oracles on a dev chain)",
    "FeedAnswerNotPositive": "the price feed answered zero or a negative price: the vault fails closed until a valid "
    "round",
    "FeedRoundIncomplete": "the price feed's latest round is incomplete: the vault fails closed until a complete round",
    "SequencerDown": "the L2 sequencer is down: the vault fails closed until it is back and the grace period passed",
    "SequencerGracePeriod": "the L2 sequencer came back less than the grace period ago: the vault waits it out",
    "TwapUnavailable": "the pool has too little price history for the TWAP window: the vault fails closed until it has",
    "TwapDeviation": "the feed and the pool's TWAP disagree beyond the bound: the vault fails closed until they agree "
    "(the TWAP follows a moved pool within its window)",
    "VolStale": "the expiry's posted volatility is older than its maximum age: the volatility updater must post "
    "(the keeper does with --local-oracles)",
    "VolNotPosted": "no volatility is posted for a live expiry: the volatility updater must post it",
    "VolRateExceeded": "the vol post moves faster than the oracle's rate allows: the updater clips it and walks there",
    "VolPostTooSoon": "the expiry's vol was posted less than the minimum interval ago: the post waits",
    "VolFirstPostTooFar": "an expiry's first vol post is too far from the oracle's latest one: it is clipped toward it",
    "InvalidSettlementRound": "the settlement round hint is not the first round after expiry: checkUpkeep's next hint "
    "is tried",
    "SettlementRoundNotFirst": "an earlier feed phase holds the settlement round: checkUpkeep's next hint is tried",
    "SettlementRoundUnverifiable": "the round before the settlement hint cannot be read: the settlement waits for a "
    "verifiable round",
    "OutageAlreadyReported": "an oracle outage is already reported: withdrawals open at the conservative valuation "
    "once the outage delay has passed",
    "OracleHealthy": "the oracles answer again: there is no outage to report",
    "AccessControlUnauthorizedAccount": "the keeper's account lacks the role this call needs (VOL_UPDATER_ROLE for "
    "vol posts): grant it or sign with the right key",
}

_ERROR_NAME = re.compile(r"\b([A-Z][A-Za-z0-9]*)\(")


def explain(*texts: object) -> str | None:
    """The explanation of the first error in ``EXPLANATIONS`` named (``Name(...)``) in ``texts``, else None."""
    for text in texts:
        if isinstance(text, str):
            for name in _ERROR_NAME.findall(text):
                if name in EXPLANATIONS:
                    return f"{name}: {EXPLANATIONS[name]}"
    return None


class JsonLinesFormatter(logging.Formatter):
    """Render a record as one JSON line: the message is the event name, ``fields`` the rest."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if v is not None})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


def emit(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log one event with its fields (skipped cheaply when the level is off); a ``reason`` or ``detail`` that
    names a known revert adds its ``explanation``."""
    if logger.isEnabledFor(level):
        if "explanation" not in fields:
            explanation = explain(fields.get("reason"), fields.get("detail"))
            if explanation is not None:
                fields["explanation"] = explanation
        logger.log(level, event, extra={"fields": fields})


def configure(level: str, log_file: Path | None) -> logging.Logger:
    """The CLI's logger: JSON lines to ``log_file`` (appended, line-buffered) or stdout."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level.upper())
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    out: logging.Handler
    if log_file is None:
        out = logging.StreamHandler(sys.stdout)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        out = logging.FileHandler(log_file, encoding="utf-8")
    out.setFormatter(JsonLinesFormatter())
    logger.addHandler(out)
    logger.propagate = False
    return logger


# a library logs nothing unless its user configures a handler
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())
