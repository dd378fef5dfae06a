"""Prepared expiries (``VolatilityOracle.prepareExpiry``, issue 13): the storage a first post of an expiry creates
(its post slot, list node, the slice's second word, the strike set's slots) written with placeholders ahead of the
post, so the post rewrites non-zero slots (2,900 gas each instead of 22,100). Whoever lists an expiry prepares it
(``hedgevault list-series``, the simulator's listing); the keeper's surface poster prepares an expiry it is about
to post for the first time if nobody did. Preparing changes no read, check or result (docs/option-vault.md).
"""

from __future__ import annotations

from typing import Any

#: ``VolatilityOracle.MAX_STRIKES``: the most strikes an expiry's strike set holds.
MAX_STRIKES = 16


def listed_strikes(vault: Any, expiry: int, block: Any = "latest") -> list[int]:
    """The distinct strikes (wad, ascending) of ``vault``'s live series expiring at ``expiry``: the strikes its
    slice posts name (``SlicePost.strikesWad``)."""
    f = vault.functions
    strikes = set()
    for sid in f.liveSeries().call(block_identifier=block):
        series = f.series(sid).call(block_identifier=block)
        if int(series[0]) == expiry:
            strikes.add(int(series[2]))
    return sorted(strikes)


def strikes_to_prepare(vol_oracle: Any, expiry: int, strikes: int, block: Any = "latest") -> int | None:
    """min(strikes, MAX_STRIKES) when ``prepareExpiry(expiry, that)`` would write a slot (``isPrepared`` false), else
    None: the argument of the preparation a post of ``expiry`` with ``strikes`` strikes in its set needs."""
    n = min(strikes, MAX_STRIKES)
    return None if vol_oracle.functions.isPrepared(expiry, n).call(block_identifier=block) else n
