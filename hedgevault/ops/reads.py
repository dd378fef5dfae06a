"""Reads shared by `status`, `series` and `positions`: every listed series with its quote now, dates.

The reads go through the chain layer in a few batched round trips (``hedgevault.chain.rpc.Rpc.results``), not
one web3 call each: a first batch probes the series ids (with whatever else the command needs that does not
depend on them), a second reads what depends on each series (settlement, quotes, posted vol, slice). A revert
is kept per call and turned into the text web3's exception would have given (``revert_text``), so the output
is the same as when every value was read on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hedgevault.chain.abi import Call
from hedgevault.chain.rpc import Revert, Rpc
from hedgevault.errors import HedgevaultError
from hedgevault.suite import Suite
from hedgevault.units import WAD, from_units, from_wad

#: Shares, options and prices are shown to this many decimals.
_PLACES = 6

#: Series ids probed in the first batch (ids run 1..n, ``series(n + 1)`` reverts UnknownSeries): up to this many
#: series are read in that one round trip; past it, one more round trip per doubling. The vault has no count
#: view (``IOptionVault`` offers ``series(id)`` and ``liveSeries()`` only; the count ``_seriesCount`` is
#: internal): a ``seriesCount()`` view would replace the probe by one exact read.
SERIES_PROBE = 32


class ContractRefused(HedgevaultError):
    """A read the command cannot do without reverted (the message says how, as for a web3 revert)."""


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def revert_text(revert: Revert) -> str:
    """The text ``hedgevault.reverts.describe`` gives for the web3 exception of this revert: the decoded error,
    or the node's message for a revert without data. A call the node refused for another reason (not a revert)
    raises ``ContractRefused``: it never was a revert to report."""
    if revert.name == "node_error":
        raise ContractRefused(revert.text)
    if revert.name == "empty":
        return "execution reverted"
    return revert.text


def value(answer: Any) -> Any:
    """A batched answer that must not be a revert (else ``ContractRefused``, the CLI's one-line message)."""
    if isinstance(answer, Revert):
        raise ContractRefused(f"the contract refused: {revert_text(answer)}")
    return answer


@dataclass
class Batch:
    """View calls gathered for one round trip; ``run`` answers them all (decoded values or ``Revert``)."""

    calls: list[Call] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)

    def add(self, contract: Any, name: str, *args: Any) -> int:
        self.calls.append(Call(contract, name, tuple(args)))
        return len(self.calls) - 1

    def run(self, rpc: Rpc, sender: str | None = None, block: int | None = None) -> Batch:
        """Answer every call at ``block`` (None: latest), as ``sender`` when given."""
        self.answers = rpc.results(self.calls, sender, block) if self.calls else []
        return self

    def __getitem__(self, index: int) -> Any:
        return self.answers[index]


def live_series(suite: Suite, rpc: Rpc | None = None) -> list[tuple[int, tuple[Any, ...]]]:
    """(id, (expiry, isCall, strike, openInterest)) of every live series: the live ids, then every series in one
    batch (``Rpc.calls``; a revert raises ``Reverted``)."""
    rpc = rpc or Rpc(suite.w3)
    ids = [int(i) for i in rpc.call(Call(suite.vault, "liveSeries", ()))]
    answers = rpc.calls([Call(suite.vault, "series", (i,)) for i in ids]) if ids else []
    return [(i, tuple(answer)) for i, answer in zip(ids, answers, strict=True)]


def series_probe(batch: Batch, suite: Suite, first: int = 1, count: int | None = None) -> list[int]:
    """Add ``series(first..first + count - 1)`` (by default ``SERIES_PROBE`` ids) to ``batch``: their indexes."""
    count = SERIES_PROBE if count is None else count
    return [batch.add(suite.vault, "series", i) for i in range(first, first + count)]


def listed_series(rpc: Rpc, suite: Suite, batch: Batch, probes: list[int]) -> list[tuple[int, tuple[Any, ...]]]:
    """(id, (expiry, isCall, strike, openInterest)) of every listed series, from the answered probes of ``batch``
    (and further batches of probes while every probed id exists)."""
    out: list[tuple[int, tuple[Any, ...]]] = []
    answers = [batch[i] for i in probes]
    while True:
        for answer in answers:
            if isinstance(answer, Revert):
                if answer.name == "UnknownSeries":  # ids run 1..n
                    return out
                value(answer)
            out.append((len(out) + 1, tuple(answer)))
        more = Batch()
        indexes = series_probe(more, suite, len(out) + 1, max(len(out), SERIES_PROBE))
        more.run(rpc)
        answers = [more[i] for i in indexes]


@dataclass
class SeriesDetails:
    """The second batch's calls of every listed series (indexes into the batch)."""

    settlement: dict[int, int] = field(default_factory=dict)
    quotes: dict[int, tuple[int, int]] = field(default_factory=dict)
    posted: dict[int, int] = field(default_factory=dict)
    slices: dict[int, int] = field(default_factory=dict)


def add_series_details(
    batch: Batch, suite: Suite, listed: Sequence[tuple[int, tuple[Any, ...]]], live: set[int], now: int
) -> SeriesDetails:
    """Add the reads ``series_rows`` makes of each listed series to ``batch`` (quotes are asked as the admin:
    run the batch with ``sender=suite.admin``)."""
    one = WAD // 100  # quote 0.01 option: a price per option that a small trade can get
    details = SeriesDetails()
    for series_id, (expiry, *_) in listed:
        details.settlement[series_id] = batch.add(suite.vault, "settlementPriceWad", int(expiry))
        if series_id in live and int(expiry) > now:
            ask = batch.add(suite.vault, "quoteBuy", series_id, one)
            details.quotes[series_id] = (ask, batch.add(suite.vault, "quoteSell", series_id, one))
            details.posted[series_id] = batch.add(suite.vol_oracle, "lastPost", int(expiry))
            details.slices[series_id] = batch.add(suite.vol_oracle, "sliceOf", int(expiry))
    return details


def _not_trading(revert: Revert) -> str:
    """The reason a live series does not trade now, as the quote pre-check words it (``actions._call``)."""
    return f"live, not trading: quote would revert with {revert_text(revert)}"


@dataclass(frozen=True)
class Market:
    """Values the implied vol of a series needs (answers of the first batch: kept as ``Revert`` until used)."""

    vol_params: Any
    spot: Any


def series_table(
    suite: Suite,
    listed: Sequence[tuple[int, tuple[Any, ...]]],
    live: set[int],
    now: int,
    decimals: int,
    batch: Batch,
    details: SeriesDetails,
    market: Market,
) -> list[dict[str, Any]]:
    """The rows of ``series_rows`` from the answered batches."""
    rows: list[dict[str, Any]] = []
    for series_id, (expiry, is_call, strike, open_interest) in listed:
        row: dict[str, Any] = {
            "id": series_id,
            "expiry": utc_date(int(expiry)),
            "expiry_unix": int(expiry),
            "type": "call" if is_call else "put",
            "strike": from_wad(int(strike), _PLACES),
            "open_interest": from_wad(int(open_interest), _PLACES),
        }
        settlement = int(value(batch[details.settlement[series_id]]))
        if series_id not in live:
            row["state"] = f"settled at {from_wad(settlement, _PLACES)}" if settlement else "removed"
        elif int(expiry) <= now:
            row["state"] = "expired, to settle"
        else:
            row["state"] = "live"
            buy, sell = (batch[i] for i in details.quotes[series_id])
            if isinstance(buy, Revert) or isinstance(sell, Revert):
                row["ask"] = row["bid"] = "-"
                row["state"] = _not_trading(buy if isinstance(buy, Revert) else sell)
            else:
                ask, fee = buy
                row["ask"] = from_units((int(ask) + int(fee)) * 100, decimals, _PLACES)
                row["bid"] = from_units(int(sell[0]) * 100, decimals, _PLACES)
            posted, updated_at = (int(v) for v in value(batch[details.posted[series_id]]))
            if posted:
                slice_ = value(batch[details.slices[series_id]])
                iv = _strike_vol(suite, slice_, market, int(expiry), int(strike), posted, updated_at, now)
            else:
                iv = 0
            row["iv"] = from_wad(iv, 4) if posted else "not posted"
            row["iv_posted_at"] = utc_date(updated_at) if updated_at else "-"
        rows.append(row)
    return rows


def series_rows(suite: Suite, rpc: Rpc | None = None) -> list[dict[str, Any]]:
    """Every series the vault listed (ids 1..n), with its quote now where it trades: three round trips (the
    head, the ids with what does not depend on them, what depends on each series) for up to ``SERIES_PROBE``
    series."""
    rpc = rpc or Rpc(suite.w3)
    now = rpc.head().timestamp
    first = Batch()
    decimals_i = first.add(suite.quote, "decimals")
    live_i = first.add(suite.vault, "liveSeries")
    market_i = (first.add(suite.vol_oracle, "params"), first.add(suite.price_oracle, "feedSpotWad"))
    probes = series_probe(first, suite)
    first.run(rpc)
    live = {int(i) for i in value(first[live_i])}
    listed = listed_series(rpc, suite, first, probes)
    second = Batch()
    details = add_series_details(second, suite, listed, live, now)
    second.run(rpc, suite.admin)
    market = Market(first[market_i[0]], first[market_i[1]])
    return series_table(suite, listed, live, now, int(value(first[decimals_i])), second, details, market)


def _strike_vol(
    suite: Suite, slice_: Any, market: Market, expiry: int, strike_wad: int, atm_wad: int, posted_at: int, now: int
) -> int:
    """The vol the vault prices this strike at now (its expiry's slice at the strike, BookMarking's rule, at the
    oracle's spot and the vault's rate; the posted vol for a flat slice). Display only: the vault evaluates it at
    its cached marks' spot."""
    from hedgevault.surface.mirror import Slice
    from hedgevault.surface.oracle_rules import series_vol_wad

    sl = Slice(*(int(x) for x in slice_))
    if sl.b_wad == 0:
        return atm_wad
    p = value(market.vol_params)
    spot = int(value(market.spot))
    rate = suite.config.risk.rate_wad  # the deployment's rate (the vault has no getter for its parameters)
    return series_vol_wad(sl, atm_wad, strike_wad, spot, rate, expiry - now, expiry - posted_at, int(p[0]), int(p[1]))
