"""Structured keeper logs: one JSON object per line, one event per line.

Every event has ``ts`` (UTC ISO 8601), ``level`` and ``event``, plus what applies of ``block``, ``vault``,
``action``, ``reason``, ``tx``, ``gas``, ``nonce``, fees (wei per gas) and so on. The keeper logs through a
standard ``logging.Logger`` (fields in ``extra={"fields": {...}}``); ``JsonLinesFormatter`` renders them.

An event whose ``reason`` (or ``detail``) names a custom error also carries ``explanation``: what the error means
and what the keeper does, and its operator should do, about it (``explain``; the meanings are
``hedgevault.hints``', shared with the CLI).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hedgevault.hints import for_keeper, named_error

LOGGER_NAME = "hedgevault.keeper"


def explain(*texts: object) -> str | None:
    """``Name: what it means: what the keeper does`` for the first error of ``hedgevault.hints`` named
    (``Name(...)``) in ``texts``, else None."""
    name = named_error(*texts)
    return None if name is None else f"{name}: {for_keeper(name)}"


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
