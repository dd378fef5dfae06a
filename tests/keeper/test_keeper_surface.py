"""The keeper posts a fitted SVI slice per expiry from a quotes file (keeper setting ``quotes_file``, issue 13):
the fit (``hedgevault.surface.fit``) is checked with the oracle's rules in the mirror
(``hedgevault.surface.oracle_rules``) before one ``postSlices`` goes out; a fit the rules refuse only for the rate
limit is walked toward (a partial step, ``hedgevault.surface.walk``), any other refusal keeps the last good slice on
chain, with the reason logged. Tolerance: the on-chain vols at the quoted strikes within 0.5 vol points of the quotes
(the fit's error on a smooth smile; the exact figures are the mirror's, checked elsewhere).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from keeperkit import WAD, Market
from web3 import Web3

from hedgevault.chain import freeze_clock, latest_timestamp, warp
from hedgevault.keeper import Keeper, KeeperConfig, OracleUpdater, VaultConfig
from hedgevault.keeper.oracles import NoMarketSource
from hedgevault.txs import send

STRIKES = [2400 + 150 * i for i in range(9)]


@pytest.fixture(scope="module", autouse=True)
def _frozen_clock(cw3: Web3, market: Market) -> Iterator[None]:
    freeze_clock(cw3)
    yield


def _smile(k: float, atm: float) -> float:
    return atm - 0.1 * k + 0.2 * k * k


def _write(path: Path, market: Market, atm: float) -> None:
    quotes = [
        {
            "strike": k,
            "expiry": market.expiry,
            "bid": _smile(math.log(k / 3000), atm) - 0.002,
            "ask": _smile(math.log(k / 3000), atm) + 0.002,
            "kind": "iv",
        }
        for k in STRIKES
    ]
    path.write_text(json.dumps({"spot": 3000.0, "rate": 0.0, "now": 0, "quotes": quotes}))


def _setup(market: Market, account: LocalAccount, path: Path) -> tuple[Keeper, OracleUpdater]:
    s = market.suite
    updater = OracleUpdater(
        market.w3, account, s.feed.address, s.vol_oracle.address, NoMarketSource(), quotes_file=path
    )
    config = KeeperConfig(vaults=[VaultConfig(s.vault.address, "v1")], quotes_file=path)
    return Keeper(market.w3, account, config, oracle_updater=updater), updater


def _surface(records: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(r.kind, r.status) for r in records if r.name == "oracle:surface"]


def test_the_keeper_fits_checks_and_posts_a_slice(
    market: Market, keeper: LocalAccount, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = market.suite
    o = s.vol_oracle.functions
    path = tmp_path / "quotes.json"
    _write(path, market, 0.8)
    k, updater = _setup(market, keeper, path)
    warp(market.w3, 3600)
    # the expiry was listed without preparation (posted flat): the first smile would create the strike slots (the
    # slice shares the post's word), so the keeper prepares them first, in their own transaction
    assert not o.isPrepared(market.expiry, len(STRIKES)).call()
    first_block = market.w3.eth.block_number + 1
    records = k.tick()
    assert _surface(records) == [("oracle", "success")]
    prepared = [(r.kind, r.status) for r in records if r.name == f"oracle:prepare:{market.expiry}"]
    assert prepared == [("oracle", "success")]
    # for the whole set of 9: the strike slots 0..4 (the post and node hold the flat post)
    logs = s.vol_oracle.events.ExpiryPrepared().get_logs(from_block=first_block)
    assert [tuple(x["args"].values()) for x in logs] == [(market.expiry, len(STRIKES), 5)]
    assert o.isPrepared(market.expiry, len(STRIKES)).call()
    sl = o.sliceOf(market.expiry).call()
    assert sl[1] > 0, "a smile, not a flat slice"
    assert o.strikesOf(market.expiry).call() == [x * WAD for x in STRIKES]
    for strike in STRIKES:
        got = int(o.strikeVolWad(market.expiry, strike * WAD, 3000 * WAD).call()) / WAD
        assert abs(got - _smile(math.log(strike / 3000), 0.8)) < 0.005
    # the vault prices from it (a buy quote at the slice's vol: no revert; the feed refreshed after the warp)
    s.set_feed_price(3000 * WAD)
    assert s.vault.functions.quoteBuy(market.series_id, WAD).call()[0] > 0
    # the file unchanged and the post fresh: nothing to do
    warp(market.w3, 600)
    assert _surface(k.tick()) == []
    # a smile 10 points up 10 minutes later: beyond the rate limit (0.83 points in 10 minutes), so the keeper posts
    # a partial step toward it (hedgevault.surface.walk; tests/keeper/test_keeper_surface_walk.py), logged
    _write(path, market, 0.9)
    with caplog.at_level(logging.INFO, logger="hedgevault"):
        assert _surface(k.tick()) == [("oracle", "success")]
    assert updater.surface is not None
    step = updater.surface.walks[market.expiry]
    assert 0 < step.num < step.den and not updater.surface.fallbacks
    assert list(o.sliceOf(market.expiry).call()) != list(sl)
    assert any("partial step toward the refused fit" in r.getMessage() for r in caplog.records)
    # a day later the same smile is within reach again
    warp(market.w3, 2 * 3600)
    path.write_text(path.read_text())  # touch
    _write(path, market, 0.84)
    records = k.tick()
    assert _surface(records) == [("oracle", "success")]
    assert not [r for r in records if r.name.startswith("oracle:prepare")]  # prepared already: the post alone
    assert latest_timestamp(market.w3) == int(o.lastPost(market.expiry).call()[1])


def test_the_keepers_first_post_of_a_new_expiry_inserts_nothing(
    market: Market, keeper: LocalAccount, tmp_path: Path
) -> None:
    """The quotes name an expiry never posted, a week after the listed one, whose slots a lister without the updater
    role prepared already (its preparation lists nothing): the keeper (the updater; ``isPrepared`` asked as the
    keeper says "list it") still prepares it in its own transaction, which lists it (``ExpiryListed`` after the
    listed expiry, before none), and the post that follows inserts nothing; then nothing is left to prepare."""
    s = market.suite
    o = s.vol_oracle.functions
    far = market.expiry + 7 * 86_400
    lister = market.w3.eth.accounts[9]
    assert not o.hasRole(o.VOL_UPDATER_ROLE().call(), lister).call()
    send(market.w3, o.prepareExpiry(far, len(STRIKES)), lister)
    assert o.isPrepared(far, len(STRIKES)).call({"from": lister})
    assert not o.isPrepared(far, len(STRIKES)).call({"from": keeper.address})
    path = tmp_path / "quotes.json"
    quotes = [
        {
            "strike": k,
            "expiry": e,
            "bid": _smile(math.log(k / 3000), 0.8) - 0.002,
            "kind": "iv",
            "ask": _smile(math.log(k / 3000), 0.8) + 0.002,
        }
        for e in (market.expiry, far)
        for k in STRIKES
    ]
    path.write_text(json.dumps({"spot": 3000.0, "rate": 0.0, "now": 0, "quotes": quotes}))
    k, _ = _setup(market, keeper, path)
    warp(market.w3, 3600)
    first_block = market.w3.eth.block_number + 1
    records = k.tick()
    assert _surface(records) == [("oracle", "success")]
    assert [(r.kind, r.status) for r in records if r.name == f"oracle:prepare:{far}"] == [("oracle", "success")]
    logs = s.vol_oracle.events.ExpiryListed().get_logs(from_block=first_block)
    assert [(x["args"]["expiry"], x["args"]["prev"], x["args"]["next"]) for x in logs] == [(far, market.expiry, 0)]
    assert int(o.lastPost(far).call()[1]) == latest_timestamp(market.w3)
    assert o.isPrepared(far, len(STRIKES)).call({"from": keeper.address})
