"""`hedgevault surface` through the real CLI against the session Anvil (frozen clock): a suite deployed by
`hedgevault deploy`, a put-skewed SVI slice posted through the oracle for one expiry (its strike set and two listed
series), a flat `postVol` for a second, a listed expiry never posted. The command's vols are checked against the
contract's own `strikeVolWad` and the mirror at every row (tolerance: none, exact integers), its JSON shape, the
market points and residuals of a quotes file against an independent computation, the PNG, the bad inputs (one line,
exit 2), a stale post (not compared, said so) and, with the mirror broken on purpose, the disagreement message.

The module deploys inside an evm_snapshot reverted at its end, and every test runs in its own snapshot: deploys and
warps move the shared session clock."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

from hedgevault.chain import Node, latest_timestamp, warp
from hedgevault.cli import main
from hedgevault.deployment import attach_suite, load_manifest
from hedgevault.greeks import mirror as greeks_mirror
from hedgevault.ops import surface_cli
from hedgevault.suite import Suite
from hedgevault.surface import mirror as M
from hedgevault.surface.oracle_rules import on_grid
from hedgevault.txs import send
from hedgevault.units import to_units

WAD = 10**18
DAY = 86_400
YEAR = 365 * DAY
SPOT = 3000 * WAD
STRIKES = [2400 * WAD, 2700 * WAD, 3000 * WAD, 3300 * WAD, 3600 * WAD]


@dataclass(frozen=True)
class Deployed:
    manifest: Path
    suite: Suite
    smile_expiry: int
    smile: M.Slice
    flat_expiry: int
    bare_expiry: int
    forward: int


def _skew(time_sec: int, atm: float = 0.8, b: float = 0.1, rho: float = -0.5, sigma: float = 0.1) -> M.Slice:
    w0 = atm * atm * time_sec / YEAR
    return on_grid(M.Slice.from_floats(w0 - b * sigma, b, rho, 0.0, sigma))


@pytest.fixture(scope="module")
def deployed(node: Node, w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The suite with a smile (30 days), a flat expiry (60 days) and a listed expiry never posted (90 days);
    the session chain (its clock too) is reverted after the module."""
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    manifest = tmp_path_factory.mktemp("surface-cli") / "manifest.json"
    assert main(["deploy", "--rpc-url", node.url, "--manifest", str(manifest), "--anvil-account", "0"]) == 0
    suite = attach_suite(w3, load_manifest(manifest))
    updater = str(w3.eth.accounts[0])  # the deployer holds the volatility updater and lister roles on a dev chain
    now = latest_timestamp(w3)
    e1, e2, e3 = now + 30 * DAY, now + 60 * DAY, now + 90 * DAY
    smile = _skew(e1 - now)
    forward = 3010 * WAD  # the keeper's forward, not the spot: the command must take the posted one
    v = suite.vol_oracle.functions
    send(w3, v.postSlice(e1, smile.as_tuple(), forward, STRIKES), updater)
    send(w3, v.postVol(e2, 8 * WAD // 10), updater)
    for expiry, strike, is_call in ((e1, 2700, False), (e1, 3300, True), (e2, 3000, True), (e3, 3000, False)):
        send(w3, suite.vault.functions.listSeries(expiry, strike * WAD, is_call), updater)
    yield Deployed(manifest, suite, e1, smile, e2, e3, forward)
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def isolated(w3: Web3, deployed: Deployed) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


def _surface(node: Node, d: Deployed, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["surface", "--rpc-url", node.url, "--manifest", str(d.manifest), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _json(node: Node, d: Deployed, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    code, out, err = _surface(node, d, capsys, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def _by_expiry(doc: dict, expiry: int) -> dict:
    (e,) = [x for x in doc["expiries"] if x["expiry"] == expiry]
    return e


def test_json_vols_equal_strike_vol_wad_and_the_mirror_at_every_row(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deployed
    v = d.suite.vol_oracle.functions
    doc = _json(node, d, capsys)
    assert [e["expiry"] for e in doc["expiries"]] == [d.smile_expiry, d.flat_expiry, d.bare_expiry]
    assert doc["disagreements"] == 0 and doc["spot"] == "3000" and doc["grid_points"] == 24
    e = _by_expiry(doc, d.smile_expiry)
    posted_at = int(v.lastPost(d.smile_expiry).call()[1])
    t0 = d.smile_expiry - posted_at
    assert e["kind"] == "smile" and e["state"] == "fresh" and e["post_time_sec"] == t0
    assert e["slice_raw"] == dict(zip(("a36", "bWad", "rhoWad", "mWad", "sigmaWad"), d.smile.as_tuple(), strict=True))
    assert e["slice"] == {"a": e["slice"]["a"], "b": "0.1", "rho": "-0.5", "m": "0", "sigma": "0.1"}
    assert to_units(e["slice"]["a"], 36, "a") == d.smile.a36  # a in total variance, exact (as greeks --svi reads it)
    until = v.sliceUntil(d.smile_expiry).call()
    # a smile's at-the-money vol is computed by lastPost (sliceUntil leaves it 0: the vault prices the slice)
    assert until[0] == 0 and (e["atm_vol_wad"], e["fresh_until"]) == (v.lastPost(d.smile_expiry).call()[0], until[1])
    assert e["forward_wad"] == d.forward and e["forward_source"].startswith("posted with the slice")
    rows = e["smile"]
    strikes = [r["strike_wad"] for r in rows]
    assert set(STRIKES) <= set(strikes) and strikes == sorted(strikes)
    assert {r["source"] for r in rows if r["strike_wad"] == 2700 * WAD} == {"series, strike set"}
    assert sum(r["source"] == "grid" for r in rows) >= 3  # a few points of log-moneyness besides the strikes
    for r in rows:
        onchain = int(v.strikeVolWad(d.smile_expiry, r["strike_wad"], d.forward).call())
        assert r["contract"]["vol_wad"] == onchain == r["mirror"]["vol_wad"], r
        assert r["mirror"]["vol_wad"] == M.vol_wad(d.smile, r["strike_wad"], d.forward, t0)
        assert r["k_wad"] == M.log_moneyness_wad(r["strike_wad"], d.forward) and r["agree"] is True
    vols = {r["strike_wad"]: r["contract"]["vol_wad"] for r in rows}
    assert vols[2400 * WAD] > vols[3600 * WAD] > vols[3000 * WAD]  # a real smile, steeper on the put side
    assert e["agree"] is True
    flat = _by_expiry(doc, d.flat_expiry)
    assert flat["kind"] == "flat" and {r["contract"]["vol_wad"] for r in flat["smile"]} == {8 * WAD // 10}
    assert flat["forward_source"].startswith("spot now")  # a flat post carries no forward
    bare = _by_expiry(doc, d.bare_expiry)
    assert bare["state"] == "not posted" and bare["kind"] is None and "smile" not in bare


def test_text_prints_the_slice_window_forward_and_each_rows_vols(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deployed
    v = d.suite.vol_oracle.functions
    code, out, err = _surface(node, d, capsys, "--expiry", str(d.smile_expiry))
    assert (code, err) == (0, "")
    assert "slice   a 0.0" in out and "b 0.1  rho -0.5  m 0  sigma 0.1" in out
    assert "forward 3010 (posted with the slice at block" in out and "fresh until" in out
    assert "contract and mirror agree to the wei at all" in out
    lines = out.splitlines()
    for strike in STRIKES:
        onchain = int(v.strikeVolWad(d.smile_expiry, strike, d.forward).call())
        shown = f"{onchain / WAD:.6f}"
        (row,) = [ln for ln in lines if ln.split()[1:2] == [str(strike // WAD)]]
        assert row.split()[2:4] == [shown, shown], row
    assert str(d.flat_expiry) not in out  # --expiry shows that expiry only


def test_quotes_add_market_points_and_residuals(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Prices of calls and puts at a known smile: each mid inverted by the project's implied-vol mirror, against
    the slice's vol at the quote's strike and forward (the quotes' spot, the chain's time) over T0."""
    d = deployed
    warp(d.suite.w3, DAY // 4)  # the quotes are read now; the slice is over T0, its time to expiry at the post
    now = latest_timestamp(d.suite.w3)
    t = d.smile_expiry - now
    t0 = d.smile_expiry - int(d.suite.vol_oracle.functions.lastPost(d.smile_expiry).call()[1])
    quotes = []
    for strike in range(2400, 3700, 150):
        vol = 0.8 - 0.1 * math.log(strike / 3000) + 0.4 * math.log(strike / 3000) ** 2
        is_call = strike >= 3000
        price = greeks_mirror.price(SPOT, strike * WAD, t, round(vol * WAD), 0)[0 if is_call else 1] / WAD
        quotes.append(
            {
                "strike": strike,
                "expiry": d.smile_expiry,
                "bid": price * 0.999,
                "ask": price * 1.001,
                "kind": "call" if is_call else "put",
            }
        )
    quotes.append({"strike": 3000, "expiry": d.smile_expiry, "bid": 0, "ask": 1, "kind": "put"})  # dropped
    path = tmp_path / "quotes.json"
    path.write_text(json.dumps({"spot": 3000.0, "rate": 0.0, "now": 0, "quotes": quotes}))
    doc = _json(node, d, capsys, "--quotes", str(path))
    e = _by_expiry(doc, d.smile_expiry)
    market = e["market"]
    assert len(market) == len(quotes) - 1 and len(doc["quotes"]["dropped"]) == 1
    squares = []
    for m, q in zip(market, quotes, strict=False):
        strike_wad = q["strike"] * WAD
        mid = (q["bid"] + q["ask"]) / 2
        iv = greeks_mirror.implied_vol(round(mid * WAD), SPOT, strike_wad, t, 0, q["kind"] == "call") / WAD
        fitted = M.vol_wad(d.smile, strike_wad, SPOT, t0) / WAD  # the quotes' forward: spot, rate 0
        assert m["market_vol"] == iv and m["slice_vol"] == fitted
        assert m["residual_vol_points"] == pytest.approx((iv - fitted) * 100, abs=1e-12)
        squares.append(m["residual_vol_points"] ** 2)
    assert e["rmse_vol_points"] == pytest.approx(math.sqrt(sum(squares) / len(squares)), rel=1e-12)
    code, out, _ = _surface(node, d, capsys, "--quotes", str(path))
    assert code == 0 and "residual" in out and "fit RMSE" in out and "1 dropped" in out


def test_a_csv_takes_the_oracles_spot(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = deployed
    path = tmp_path / "quotes.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["strike", "expiry", "bid", "ask", "kind"])
        for strike in range(2400, 3700, 300):
            writer.writerow([strike, d.smile_expiry, 0.79, 0.81, "iv"])
    doc = _json(node, d, capsys, "--quotes", str(path))
    assert doc["quotes"]["spot"] == 3000.0
    assert [m["market_vol"] for m in _by_expiry(doc, d.smile_expiry)["market"]] == pytest.approx([0.8] * 5)


def test_png_is_written(node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = deployed
    png = tmp_path / "charts" / "smile.png"
    code, _, err = _surface(node, d, capsys, "--png", str(png))
    assert code == 0, err
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_png_with_nothing_to_chart_is_refused(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = deployed
    png = tmp_path / "none.png"
    code, out, err = _surface(node, d, capsys, "--expiry", str(d.bare_expiry), "--png", str(png))
    assert (code, out) == (2, "") and "nothing to chart" in err and not png.exists()


def test_half_a_day_later_the_smile_reads_as_posted(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    """sigma(k) = sqrt(w(k) / T0), T0 the time to expiry at the post, not now: the rows still agree."""
    d = deployed
    warp(d.suite.w3, DAY // 2)
    v = d.suite.vol_oracle.functions
    e = _json(node, d, capsys, "--expiry", str(d.smile_expiry))["expiries"][0]
    assert e["state"] == "fresh" and e["agree"] is True
    t0 = d.smile_expiry - int(v.lastPost(d.smile_expiry).call()[1])
    assert e["post_time_sec"] == t0 == d.smile_expiry - (latest_timestamp(d.suite.w3) - DAY // 2)
    for r in e["smile"]:
        assert r["contract"]["vol_wad"] == int(v.strikeVolWad(d.smile_expiry, r["strike_wad"], d.forward).call())
        assert r["mirror"]["vol_wad"] == M.vol_wad(d.smile, r["strike_wad"], d.forward, t0)


def test_a_stale_post_is_shown_from_the_mirror_and_not_compared(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deployed
    warp(d.suite.w3, d.suite.config.vol.max_age_sec + 1)
    doc = _json(node, d, capsys, "--expiry", str(d.smile_expiry))
    e = doc["expiries"][0]
    assert e["state"].startswith("VolStale(") and e["agree"] is None and doc["disagreements"] == 0
    assert all(r["contract"]["error"].startswith("VolStale(") and r["mirror"]["vol_wad"] for r in e["smile"])
    code, out, _ = _surface(node, d, capsys, "--expiry", str(d.smile_expiry))
    assert code == 0 and "not compared: the contract refuses without a fresh post" in out


def test_a_disagreement_is_flagged_and_exits_2(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mirror off by one wei at every strike (on purpose): the rows say so and the command fails."""
    d = deployed
    real = M.vol_wad
    monkeypatch.setattr(M, "vol_wad", lambda *a: real(*a) + 1)
    code, out, err = _surface(node, d, capsys, "--expiry", str(d.smile_expiry))
    assert code == 2 and "DIFFERS" in out and "CONTRACT AND MIRROR DISAGREE" in out
    assert "the contract and the mirror disagree at" in err


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no-manifest", "does not exist: run `hedgevault deploy` first"),
        ("unknown-expiry", "is neither listed by the vault nor posted to the oracle; known expiries: "),
        ("bad-expiry", "--expiry 'soon' is not a time"),
        ("bad-json", "cannot read quotes from"),
        ("no-columns", "cannot read quotes from"),
        ("no-file", "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, message: str
) -> None:
    d = deployed
    argv = ["surface", "--rpc-url", node.url, "--manifest", str(d.manifest)]
    if case == "no-manifest":
        argv[-1] = str(tmp_path / "missing.json")
    elif case == "unknown-expiry":
        argv += ["--expiry", str(d.smile_expiry + 1)]
    elif case == "bad-expiry":
        argv += ["--expiry", "soon"]
    elif case == "bad-json":
        (tmp_path / "q.json").write_text("{not json")
        argv += ["--quotes", str(tmp_path / "q.json")]
    elif case == "no-columns":
        (tmp_path / "q.csv").write_text("strike,price\n3000,12\n")
        argv += ["--quotes", str(tmp_path / "q.csv")]
    else:
        argv += ["--quotes", str(tmp_path / "absent.json")]
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_read_surface_points_zero_shows_only_the_strikes(deployed: Deployed) -> None:
    d = deployed
    doc = surface_cli.read_surface(d.suite, expiries=[d.smile_expiry], points=0)
    assert [r["strike_wad"] for r in doc["expiries"][0]["smile"]] == STRIKES


def test_agreement_compares_values_and_revert_bytes() -> None:
    """Same vol, or the same revert byte for byte: agree; a freshness revert: not compared (None)."""
    from hedgevault.chain.rpc import Revert
    from hedgevault.surface.errors import SviMoneynessOutOfRange, SviTimeOutOfRange

    refused = SviMoneynessOutOfRange(20 * WAD, SPOT)
    row = surface_cli._Row(0, 20 * WAD, "series", refused)
    row.contract = Revert.of_data(refused.revert_data())
    assert surface_cli._agreement(row) is True
    row.contract = Revert.of_data(SviMoneynessOutOfRange(21 * WAD, SPOT).revert_data())
    assert surface_cli._agreement(row) is False
    row.contract = Revert.of_data(SviTimeOutOfRange(0).revert_data())
    assert surface_cli._agreement(row) is False
    stale = Revert(bytes(4), "VolStale", "VolStale(expiry=1, updatedAt=0, maxAgeSec=1)")
    row.contract = stale
    assert surface_cli._agreement(row) is None
    row.mirror, row.contract = 5, 5
    assert surface_cli._agreement(row) is True
    row.contract = 6
    assert surface_cli._agreement(row) is False
    row.contract = Revert.of_data(refused.revert_data())
    assert surface_cli._agreement(row) is False  # the contract refused what the mirror evaluates


def test_without_the_posts_log_the_vaults_forward_is_used_and_said(
    node: Node, deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node that refuses eth_getLogs: the smile is read at spot x e^(r tau) (rate 0 here: the spot), still
    contract beside mirror, and the source says why."""
    from hedgevault.chain.rpc import RpcError

    def refuse(*_: object) -> dict:
        raise RpcError("eth_getLogs", "block range too large")

    monkeypatch.setattr(surface_cli, "_posted_forwards", refuse)
    e = _json(node, deployed, capsys, "--expiry", str(deployed.smile_expiry))["expiries"][0]
    assert e["forward_wad"] == SPOT and e["agree"] is True
    assert "log was not found (eth_getLogs: block range too large)" in e["forward_source"]
