"""Prepared expiries (``VolatilityOracle.prepareExpiry``, issue 13): the storage a first post of an expiry creates
(its post slot, list node, the strike set's slots) written with placeholders ahead of the
post, so the post rewrites non-zero slots (2,900 gas each instead of 22,100). Whoever lists an expiry prepares it
(``hedgevault list-series``, the simulator's listing); the keeper's surface poster prepares an expiry it is about
to post for the first time if nobody did. Preparing changes no read, check or result (docs/option-vault.md).
"""

from __future__ import annotations

from typing import Any

from hedgevault.surface.oracle_rules import MAX_STRIKES

__all__ = ["MAX_STRIKES", "strikes_to_prepare"]


def strikes_to_prepare(vol_oracle: Any, expiry: int, strikes: int, block: Any = "latest") -> int | None:
    """min(strikes, MAX_STRIKES) when ``prepareExpiry(expiry, that)`` would write a slot (``isPrepared`` false), else
    None: the argument of the preparation a post of ``expiry`` with ``strikes`` strikes in its set needs."""
    n = min(strikes, MAX_STRIKES)
    return None if vol_oracle.functions.isPrepared(expiry, n).call(block_identifier=block) else n
