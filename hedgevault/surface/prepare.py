"""Prepared expiries (``VolatilityOracle.prepareExpiry``, issue 13): the storage a first post of an expiry creates
(its post slot, list node, the strike set's slots) written with placeholders ahead of the
post, so the post rewrites non-zero slots (2,900 gas each instead of 22,100). A caller holding ``VOL_UPDATER_ROLE``
also inserts the expiry into the oracle's sorted expiry list (branch svlist), so its first post inserts nothing
(about 19,000 gas less). Whoever lists an expiry prepares it (``hedgevault list-series``, the simulator's listing);
the keeper's surface poster prepares an expiry it is about to post for the first time if nobody did (and lists it:
the keeper is the updater). Preparing changes no read, check or result (docs/option-vault.md).
"""

from __future__ import annotations

from typing import Any

from hedgevault.surface.oracle_rules import MAX_STRIKES

__all__ = ["MAX_STRIKES", "strikes_to_prepare"]


def strikes_to_prepare(vol_oracle: Any, expiry: int, strikes: int, sender: str, block: Any = "latest") -> int | None:
    """min(strikes, MAX_STRIKES) when ``prepareExpiry(expiry, that)`` sent by ``sender`` would write a slot or, for
    an updater, list the expiry (``isPrepared`` answers for its caller: false), else None: the argument of the
    preparation a post of ``expiry`` with ``strikes`` strikes in its set needs."""
    n = min(strikes, MAX_STRIKES)
    prepared = vol_oracle.functions.isPrepared(expiry, n).call({"from": sender}, block_identifier=block)
    return None if prepared else n
