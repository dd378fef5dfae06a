"""The skewed market on the chain (each run its own Anvil, as `hedgevault simulate --market merton`): the real keeper
fits the market's quotes and posts skewed slices (read back with ``sliceOf``), the informed buyer trades only where
the vault is cheaper than the market (its recorded decisions against the chain's option balances), and every token is
accounted for as in the other simulator tests. 8 hours at 2-hour steps (quotes refitted every other step), two
expiries, to stay near 30 s a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simkit import assert_tokens_conserved

from hedgevault.chain import local_node
from hedgevault.chain.abi import Call, artifact_abi
from hedgevault.params import SuiteConfig
from hedgevault.sim.agents import InformedParams
from hedgevault.sim.engine import SeriesSpec, SimConfig, Simulation
from hedgevault.sim.market import SkewParams
from hedgevault.sim.report import figures, results_document
from hedgevault.sim.scenario import merton_scenario
from hedgevault.surface.merton import MertonParams

DAY = 86_400
WAD = 10**18
SPOT = 3000


def _series() -> tuple[SeriesSpec, ...]:
    near = tuple(SeriesSpec(2 * DAY, k * WAD, c) for k in (2700, 3000, 3300) for c in (True, False))
    far = (SeriesSpec(5 * DAY, 2700 * WAD, False), SeriesSpec(5 * DAY, 3300 * WAD, True))
    return near + far


def _run(tmp: Path, *, surface: bool) -> dict[str, Any]:
    scenario = merton_scenario(
        MertonParams(), spot=float(SPOT), drift=0.0, horizon_sec=8 * 3600, step_sec=7200, seed=11
    )
    config = SimConfig(
        scenario=scenario,
        seed=11,
        suite=SuiteConfig(spot_wad=scenario.prices_wad[0]),
        series=_series(),
        agents=None,
        skew=SkewParams(surface=surface, quote_every_steps=2),
        informed=InformedParams(),
        quotes_path=tmp / "quotes.json",
    )
    with local_node(log_dir=tmp) as node:
        sim = Simulation(node.web3(), config)
        sim.setup()
        sim.run()
        oracle = sim.suite.vol_oracle
        expiries = sorted(set(sim.series_expiry.values()))
        slices = {e - sim.t0: [int(x) for x in sim.rpc.call(Call(oracle, "sliceOf", (e,)))] for e in expiries}
        who = sim.informed_address
        token = sim.w3.eth.contract(
            address=sim.suite.vault.functions.optionToken().call(), abi=artifact_abi("OptionToken")
        )
        balances = {sid: int(sim.rpc.call(Call(token, "balanceOf", (who, sid)))) for sid in sim.series_ids}
        doc = results_document(sim, {"description": scenario.description, "steps": scenario.steps})
        # what it holds at the market's prices at the end, from the chain's balances
        assert sim.market is not None
        now = sim.t0 + scenario.times_sec[-1]
        spot = scenario.prices_wad[-1] / WAD
        mark = sum(
            sim.market.price(
                spot, sim.series_meta[sid].strike_wad / WAD, sim.series_expiry[sid] - now, sim.series_meta[sid].is_call
            )
            * amount
            / WAD
            for sid, amount in balances.items()
        )
    return {"doc": doc, "slices": slices, "balances": balances, "mark_end": mark}


@pytest.fixture(scope="module")
def surface_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("skew-surface"), surface=True)


@pytest.fixture(scope="module")
def flat_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("skew-flat"), surface=False)


def test_the_keeper_posts_skewed_slices_on_chain(surface_run: dict[str, Any]) -> None:
    """``sliceOf`` on chain: b > 0 and rho < 0 for both expiries (Merton with a negative mean jump: the put wing
    above); the keeper (not only the setup) posted them (posts at steps >= 1, ``postSlices`` from the keeper's
    account: 'vol update' gas), each within 2 vol points RMSE of the market at the far expiry."""
    for offset, (a36, b, rho, _m, sigma) in surface_run["slices"].items():
        assert b > 0, f"expiry +{offset}s: flat slice on chain"
        assert rho < 0, f"expiry +{offset}s: rho {rho} is not the put skew"
        assert sigma > 0 and a36 >= 0
    posts = surface_run["doc"]["smile_posts"]
    keeper_posts = [p for p in posts if p["step"] >= 1]
    assert keeper_posts, "the keeper never posted a slice"
    assert all(p["slice"]["b"] > 0 and p["slice"]["rho"] < 0 for p in keeper_posts)
    assert surface_run["doc"]["summary"]["gas"]["vol update"]["count"] >= 1
    far = [p["rmse_vol_points"] for p in posts if p["expiry_offset_sec"] == 5 * DAY]
    assert far and max(far) < 2.0, far


def test_the_flat_baseline_posts_flat_at_the_money_vols(flat_run: dict[str, Any]) -> None:
    for offset, (_a36, b, rho, _m, _sigma) in flat_run["slices"].items():
        assert b == 0 and rho == 0, f"expiry +{offset}s: the flat baseline posted a smile"
    near = [p["rmse_vol_points"] for p in flat_run["doc"]["smile_posts"] if p["expiry_offset_sec"] == 2 * DAY]
    assert near and min(near) > 5.0, "a flat vol against a Merton smile should miss it by several points"


@pytest.mark.parametrize("which", ["surface_run", "flat_run"])
def test_informed_buyer_trades_only_where_the_vault_is_cheaper(which: str, request: pytest.FixtureRequest) -> None:
    """Every recorded trade bought below the market's value (or sold above it); every comparison it passed on was
    not in its favour; what it holds on chain (ERC-1155 balances) is exactly what its recorded trades add up to."""
    r = request.getfixturevalue(which)
    decisions = r["doc"]["informed_decisions"]
    assert decisions, "the informed buyer compared nothing"
    held: dict[int, int] = {}
    for d in decisions:
        if d["traded_wad"]:
            if d["side"] == "buy":
                assert d["vault_units"] < d["market_units"], d
            else:
                assert d["vault_units"] > d["market_units"], d
            assert d["edge_units"] > 0
            held[d["series_id"]] = held.get(d["series_id"], 0) + (
                d["traded_wad"] if d["side"] == "buy" else -d["traded_wad"]
            )
        elif d["reason"] == "vault not cheaper":
            assert d["vault_units"] >= d["market_units"], d
        elif d["reason"] == "vault not dearer":
            assert d["vault_units"] <= d["market_units"], d
    for sid, amount in r["balances"].items():
        assert amount == held.get(sid, 0), f"series {sid}: chain {amount}, decisions {held.get(sid, 0)}"
    s = r["doc"]["summary"]["informed"]
    assert s["buys"] == sum(1 for d in decisions if d["traded_wad"] and d["side"] == "buy")
    assert s["edge_at_trade"] == pytest.approx(sum(d["edge_units"] for d in decisions if d["traded_wad"]) / 10**6)
    assert s["mark_end"] == pytest.approx(r["mark_end"], rel=1e-9, abs=1e-9)
    assert s["pnl_end"] == pytest.approx(s["cash_change"] + s["mark_end"])


def test_the_flat_vault_is_picked_off_and_the_surface_much_less(
    surface_run: dict[str, Any], flat_run: dict[str, Any]
) -> None:
    flat = flat_run["doc"]["summary"]["informed"]
    surface = surface_run["doc"]["summary"]["informed"]
    assert flat["buys"] > 0 and flat["edge_at_trade"] > 0, "a flat vol under a skew should be cheap somewhere"
    assert surface["edge_at_trade"] < flat["edge_at_trade"]


@pytest.mark.parametrize("which", ["surface_run", "flat_run"])
def test_every_token_is_accounted_for(which: str, request: pytest.FixtureRequest) -> None:
    """As in tests/sim/test_simulate.py: quote in - out = the balance's change; the hedge and the collateral replay
    from the events; the attribution reconciles to 2 quote units at every step."""
    r = request.getfixturevalue(which)
    s = r["doc"]["summary"]
    assert assert_tokens_conserved(s["tokens"]) == sum(r["balances"].values())
    assert abs(s["pnl"]["residual_quote_units"]) < 2
    for step in r["doc"]["steps"]:
        assert abs(step["residual_quote"]) < 2e-6


def test_the_smile_chart_is_drawn(surface_run: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    doc = dict(surface_run["doc"])
    doc["scenario"] = {
        "description": "Merton",
        "merton": {"spot": SPOT, "sigma": 0.55, "lam": 1.5, "mu_j": -0.12, "delta_j": 0.15, "surface": True},
    }
    figs = figures(doc)
    try:
        fig = figs["smile.png"]
        top, bottom = fig.axes
        assert "posted slice" in " ".join(str(t) for t in top.get_legend_handles_labels()[1])
        assert len(top.collections) >= 1 and len(top.lines) >= 1
        assert len(bottom.lines) == 2, "one RMSE line per expiry"
        assert "Merton" in fig._suptitle.get_text()
    finally:
        for f in figs.values():
            plt.close(f)
