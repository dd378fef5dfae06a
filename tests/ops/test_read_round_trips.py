"""`status`, `series` and `positions` read the chain in a few batched round trips, however many series the
vault lists: counted at a tiny HTTP proxy in front of the session Anvil (every POST is one round trip)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rpccount import CountingProxy
from web3 import HTTPProvider, Web3

from hedgevault.chain import Node, latest_timestamp
from hedgevault.cli import main
from hedgevault.deployment import attach_suite, load_manifest
from hedgevault.keys import anvil_account
from hedgevault.ops import reads
from hedgevault.ops.journey_cli import positions
from hedgevault.ops.reads import series_rows
from hedgevault.ops.status import vault_status
from hedgevault.suite import Suite
from hedgevault.txs import send

WAD = 10**18
DAY = 86_400


@pytest.fixture(scope="module")
def proxy(node: Node) -> Iterator[CountingProxy]:
    counting = CountingProxy(node.url)
    yield counting
    counting.close()


@pytest.fixture(scope="module")
def deployed(node: Node, w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Suite]:
    manifest = tmp_path_factory.mktemp("round-trips") / "manifest.json"
    assert main(["deploy", "--rpc-url", node.url, "--manifest", str(manifest), "--anvil-account", "0"]) == 0
    suite = attach_suite(w3, load_manifest(manifest))
    send(w3, suite.quote.functions.mint(anvil_account(3).address, suite.quote_units(10_000)), suite.admin)
    return manifest, suite


def _cli_round_trips(proxy: CountingProxy, manifest: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    capsys.readouterr()
    proxy.count = 0
    assert main([*argv, "--rpc-url", proxy.url, "--manifest", str(manifest)]) == 0
    assert capsys.readouterr().out
    return proxy.count


def _list(suite: Suite, expiry: int, strike: int, is_call: bool) -> None:
    send(suite.w3, suite.vault.functions.listSeries(expiry, strike * WAD, is_call), suite.admin)


def test_status_series_positions_take_the_same_round_trips_for_1_and_4_series(
    proxy: CountingProxy, deployed: tuple[Path, Suite], capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, suite = deployed
    w3 = suite.w3
    holder = anvil_account(3).address
    expiry = latest_timestamp(w3) + 7 * DAY
    send(w3, suite.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), suite.admin)
    _list(suite, expiry, 3000, True)
    commands = (
        ("status", "--json", "--account", holder),
        ("status",),
        ("series", "--json"),
        ("positions", "--account", holder, "--json"),
    )
    one = [_cli_round_trips(proxy, manifest, capsys, *argv) for argv in commands]
    # the whole command, attach included: the chain's identity in one batch, every recorded contract's code in
    # one more (it was one request per contract: 52 round trips for `status`), then the command's own reads
    assert one == [7, 7, 6, 6]
    # in process, on a suite attached through the proxy: only the command's own reads
    suite_via_proxy = attach_suite(Web3(HTTPProvider(proxy.url)), load_manifest(manifest))
    proxy.count = 0
    status = vault_status(suite_via_proxy, holder)
    assert proxy.count == 4  # chain id + head, the ParametersSet logs, two batches of view calls
    assert [row["id"] for row in status["series"]] == [1]

    _list(suite, expiry, 2800, False)
    _list(suite, expiry + 7 * DAY, 3500, True)  # no vol posted for this expiry: listed, but not trading
    _list(suite, expiry, 3200, True)
    four = [_cli_round_trips(proxy, manifest, capsys, *argv) for argv in commands]
    assert four == one
    proxy.count = 0
    status = vault_status(suite_via_proxy, holder)
    assert proxy.count == 4
    assert [row["id"] for row in status["series"]] == [1, 2, 3, 4]
    assert status["series"][2]["state"].startswith("live, not trading: quote would revert with ")
    proxy.count = 0
    rows = series_rows(suite_via_proxy)
    assert proxy.count == 3 and [r["id"] for r in rows] == [1, 2, 3, 4]
    proxy.count = 0
    positions(suite_via_proxy, holder)
    assert proxy.count == 3


def test_more_series_than_one_probe_holds_take_more_batches(
    proxy: CountingProxy, deployed: tuple[Path, Suite], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``SERIES_PROBE`` listed ids, each doubling of the probe is one more round trip, and no series is
    lost or invented at the boundary."""
    _, suite = deployed
    expiry = latest_timestamp(suite.w3) + 21 * DAY
    while len(suite.vault.functions.liveSeries().call()) < 4:
        _list(suite, expiry, 2500 + 100 * len(suite.vault.functions.liveSeries().call()), True)
    count = len(series_rows(suite))
    suite_via_proxy = attach_suite(Web3(HTTPProvider(proxy.url)), load_manifest(deployed[0]))
    expected = series_rows(suite_via_proxy)
    for probe, extra in ((count, 1), (count + 1, 0), (count - 1, 1), (2, 2), (1, 3)):
        monkeypatch.setattr(reads, "SERIES_PROBE", probe)
        proxy.count = 0
        rows = series_rows(suite_via_proxy)
        assert json.dumps(rows) == json.dumps(expected), probe
        assert proxy.count == 3 + extra, (probe, proxy.count)


def test_live_series_are_read_in_one_batch_however_many(
    proxy: CountingProxy, deployed: tuple[Path, Suite], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`settle` and `list-series` read the live series through ``reads.live_series``: the ids, then every
    series in one batch (two round trips for 1 or for 5 series), the same values as one call each."""
    _, suite = deployed
    via_proxy = attach_suite(Web3(HTTPProvider(proxy.url)), load_manifest(deployed[0]))
    expiry = latest_timestamp(suite.w3) + 28 * DAY
    counts = []
    for strike in (2000, 2100, 2200, 2300, 2400):
        _list(suite, expiry, strike, False)
        proxy.count = 0
        live = reads.live_series(via_proxy)
        counts.append(proxy.count)
        ids = [int(i) for i in suite.vault.functions.liveSeries().call()]
        assert live == [(i, tuple(suite.vault.functions.series(i).call())) for i in ids]
    assert counts == [2] * 5
