"""The simulator end to end on real Anvil processes (each run starts its own, as `hedgevault simulate`
does): hedges, settlement and claims, determinism, CSV scenarios and their errors, PnL attribution (Aave
interest included) and token conservation, a put-heavy book hedged short. Scenarios are short (1-2 days at
2-4 h steps) to keep the module near a minute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from simkit import assert_tokens_conserved

from hedgevault.cli import main
from hedgevault.sim.accounting import GAS_KINDS
from hedgevault.sim.agents import AgentParams
from hedgevault.sim.engine import OpeningTrade, SimConfig, default_series
from hedgevault.sim.errors import ScenarioError
from hedgevault.sim.report import CHART_TITLES, figures
from hedgevault.sim.run import RunOptions, build_scenario, run
from hedgevault.sim.scenario import load_csv
from hedgevault.suite import SuiteConfig

DAY = 86_400
WAD = 10**18


@pytest.fixture(scope="module")
def gbm_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two days at 2 h steps, seed 7: the default market (calls and puts, expiries at 19 h and 38 h)."""
    out = tmp_path_factory.mktemp("sim-a")
    output = run(RunOptions(seed=7, horizon_sec=2 * DAY, step_sec=7200, out_dir=out, quiet=True))
    return {"out": out, "doc": json.loads((out / "results.json").read_text()), "charts": output.charts}


def test_runs_end_to_end_with_hedges_settlements_and_claims(gbm_run: dict[str, Any]) -> None:
    s = gbm_run["doc"]["summary"]
    assert s["steps"] == 24
    assert s["hedges"] >= 1, "the keeper never hedged"
    assert s["settlements"] == 2, "both expiries inside the horizon must settle"
    assert s["trades"].get("claim", 0) >= 1, "no holder claimed a settled series"
    assert s["trades"].get("buy", 0) >= 1
    hedge_upkeeps = sum(s["gas"].get(k, {"count": 0})["count"] for k in ("hedge", "re-mark + hedge"))
    assert hedge_upkeeps == s["hedges"]
    # an order swaps at most one slice (an upkeep's, or a claim's quote raised from the hedge)
    assert 1 <= s["slices"] <= s["hedges"] + s["claim_raises"]
    assert s["hedger"] == "aave"
    assert s["gas"]["settle"]["count"] == 2
    assert {p.name for p in gbm_run["charts"]} == {
        "market_and_greeks.png",
        "pnl_attribution.png",
        "share_price_and_hf.png",
    }
    assert all(p.stat().st_size > 10_000 for p in gbm_run["charts"])


def test_pnl_components_reconcile_to_nav_change(gbm_run: dict[str, Any]) -> None:
    """dNAV = flows + premium + option + hedge - swap costs - borrow interest + supply interest + residual;
    the vault rounds H x S against itself to a quote unit and the mark up, so the residual (it telescopes
    over the steps) is below 2 quote units."""
    p = gbm_run["doc"]["summary"]["pnl"]
    assert abs(p["residual_quote_units"]) < 2
    explained = (
        p["flows"]
        + p["premium"]
        + p["option_mark"]
        + p["hedge"]
        - p["swap_costs"]
        - p["borrow_interest"]
        + p["supply_interest"]
    )
    assert explained == pytest.approx(p["nav_change"], abs=2e-6)
    for step in gbm_run["doc"]["steps"]:
        assert abs(step["residual_quote"]) < 2e-6, f"step {step['step']} does not reconcile"
    assert p["swap_costs"] > 0, "hedges on a 0.3% pool cost something"


def test_tokens_are_conserved(gbm_run: dict[str, Any]) -> None:
    """What came into the vault = what went out + the change of what it holds (quote), the hedge is its
    start plus the orders' moves less the debt's interest, the collateral its start plus what orders put in
    and took out plus its interest, and every option bought is sold back, claimed or still held."""
    t = gbm_run["doc"]["summary"]["tokens"]
    held = assert_tokens_conserved(t)
    assert held >= 0
    assert t["options_claimed_wad"] > 0


@pytest.fixture(scope="module")
def put_heavy_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A day at 3 h steps, seed 5: 40 at-the-money puts of the last expiry bought at the start, and buyers
    who buy only puts: the book's delta is positive, so the hedge is a short (borrowed on Aave)."""
    out = tmp_path_factory.mktemp("sim-puts")
    options = RunOptions(seed=5, horizon_sec=DAY, step_sec=3 * 3600, out_dir=out, quiet=True, charts=False)
    suite = SuiteConfig()
    scenario = build_scenario(options, suite)
    series = default_series(scenario.prices_wad[0], scenario.horizon_sec, suite.risk.trading_cutoff_sec)
    atm_put = next(
        i
        for i, spec in enumerate(series)
        if not spec.is_call and spec.strike_wad == suite.spot_wad and spec.expiry_offset_sec > DAY
    )
    config = SimConfig(
        scenario=scenario,
        seed=5,
        suite=suite,
        series=series,
        agents=AgentParams(put_share=(1.0,), buy_probability=1.0),
        opening_trades=(OpeningTrade(atm_put, 40 * WAD),),
    )
    run(options, config)
    return json.loads((out / "results.json").read_text())


def test_put_heavy_book_is_hedged_short_and_conserves(put_heavy_run: dict[str, Any]) -> None:
    """The hedge goes and ends negative with debt on Aave against collateral; the debt's interest is booked
    (no ConservationError stopped the run) and the attribution still reconciles to 2 quote units."""
    s = put_heavy_run["summary"]
    steps = put_heavy_run["steps"]
    assert s["hedge_end"] < -10, "40 short ATM puts (delta ~ +20) should be hedged by a short of the underlying"
    assert all(step["book_delta"] > 0 for step in steps)
    assert steps[-1]["collateral"] > 0
    assert s["pnl"]["borrow_interest"] > 0, "a short hedge held for a day pays interest on its debt"
    assert s["tokens"]["borrow_interest_wad"] > 0
    assert abs(s["pnl"]["residual_quote_units"]) < 2
    assert s["neutrality"]["share_in_band"] >= 0.5
    # the target line is the true target: -book delta (negative here)
    assert all(step["hedge_target"] == pytest.approx(-step["book_delta"]) for step in steps)


def test_same_seed_same_results(gbm_run: dict[str, Any], tmp_path: Path) -> None:
    run(RunOptions(seed=7, horizon_sec=2 * DAY, step_sec=7200, out_dir=tmp_path, quiet=True, charts=False))
    assert (tmp_path / "results.json").read_bytes() == (gbm_run["out"] / "results.json").read_bytes()


def test_csv_scenario(tmp_path: Path) -> None:
    csv = tmp_path / "prices.csv"
    rows = ["step,price,vol"] + [
        f"{i},{p},{v}"
        for i, (p, v) in enumerate(
            [(3000, 0.8), (3050, 0.8), (2990.5, 0.85), (2900, 0.9), (2950, 0.9), (3010, 0.85), (3100, 0.8)]
        )
    ]
    csv.write_text("\n".join(rows) + "\n")
    assert (
        main(
            [
                "simulate",
                "--prices",
                str(csv),
                "--step",
                "4h",
                "--out",
                str(tmp_path / "o"),
                "--quiet",
                "--no-charts",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert [s["price"] for s in doc["steps"]] == [3000, 3050, 2990.5, 2900, 2950, 3010, 3100]
    assert [s["vol"] for s in doc["steps"]][:3] == [0.8, 0.8, 0.85]
    # 5 vol points per 4 h step is within the oracle's rate rule: posted as the scenario says
    assert [s["vol_posted"] for s in doc["steps"]] == [s["vol"] for s in doc["steps"]]
    assert doc["summary"]["vol_posts"]["clipped"] == 0
    assert doc["steps"][-1]["time_sec"] == 6 * 4 * 3600
    assert abs(doc["summary"]["pnl"]["residual_quote_units"]) < 2


def test_csv_vol_jump_is_posted_clipped_to_the_oracle_rate(tmp_path: Path) -> None:
    """0.8 -> 1.5 in one hourly step: the keeper walks the posted vol toward it at the oracle's rate
    (min(max step 0.05, 0.05 per hour) per hourly post) instead of refusing the scenario."""
    csv = tmp_path / "jump.csv"
    csv.write_text("step,price,vol\n0,3000,0.8\n1,3000,1.5\n2,3010,1.5\n3,3000,1.5\n")
    out = tmp_path / "o"
    argv = ["simulate", "--prices", str(csv), "--step", "1h", "--out", str(out), "--quiet", "--no-charts"]
    assert main(argv) == 0
    doc = json.loads((out / "results.json").read_text())
    assert [s["vol"] for s in doc["steps"]] == [0.8, 1.5, 1.5, 1.5]
    assert [s["vol_posted"] for s in doc["steps"]] == [0.8, 0.85, 0.9, 0.95]
    vol_posts = doc["summary"]["vol_posts"]
    assert vol_posts["clipped"] == vol_posts["posted"] > 0
    assert vol_posts["steps_off_scenario"] == 3
    assert vol_posts["max_gap"] == pytest.approx(0.65)  # 1.5 - 0.85, floats of exact wad values


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("step,price\n0,3000\n1,abc\n", "line 3: price 'abc' is not a number"),
        ("step,price\n0,3000\n0,3100\n", "line 3: step 0 is not after the previous row's 0"),
        ("step,price,vol\n0,3000,0.8\n1,3000,7\n", "line 3: vol 7 is outside the oracle's bounds"),
        ("step,price\n0,3000\n1,-5\n", "line 3: price '-5' must be positive"),
        ("time,price\n0,3000\n", "line 1: header 'time,price' is not one of"),
        ("step,price\n0,3000\n1,3000,9\n", "line 3: expected 2 fields"),
    ],
)
def test_bad_csv_says_which_line_and_what(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        load_csv(path, step_sec=3600, default_vol=0.8, min_step_sec=660)


def test_bad_csv_from_the_cli_is_a_message_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,price\n1700000000,3000\n1700000100,3010\n")
    assert main(["simulate", "--prices", str(path), "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "line 3: 100 s after the previous row; steps must be at least 660 s" in err
    assert "Traceback" not in err


def test_conflicting_flags_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("timestamp,price\n1700000000,3000\n1700003600,3010\n")
    assert main(["simulate", "--prices", str(path), "--days", "2", "--quiet", "--out", str(tmp_path / "o")]) == 2
    assert "--days does not apply to --prices" in capsys.readouterr().err
    assert main(["simulate", "--step", "5m", "--quiet", "--out", str(tmp_path / "o")]) == 2
    assert "--step 300 s is too short" in capsys.readouterr().err


# ---------------------------------------------------------------- gas categories and charts of the run


def test_every_transaction_has_a_named_gas_category(gbm_run: dict[str, Any]) -> None:
    """Nothing is 'other': each kind is one of ``GAS_KINDS`` with its description, and the counts agree with
    what the simulator counted independently (the agents' trades, the keeper's posts, the ledger's hedges)."""
    s = gbm_run["doc"]["summary"]
    gas = s["gas"]
    assert set(gas) <= set(GAS_KINDS), set(gas) - set(GAS_KINDS)
    assert "other" not in gas and s["gas_other"] == {}
    for kind, g in gas.items():
        assert g["what"] == GAS_KINDS[kind]
        assert g["count"] > 0 and g["mean"] == round(g["total"] / g["count"])
    for trade in ("buy", "sell", "claim", "deposit", "withdraw"):
        assert gas.get(trade, {"count": 0})["count"] == s["trades"].get(trade, 0), trade
    assert gas["feed update"]["count"] == s["steps"] + 1, "the keeper posts the price once a step (and at step 0)"
    assert gas["vol update"]["count"] == s["vol_posts"]["posted"]
    assert gas.get("keeper reverted", {"count": 0})["count"] == s["keeper_failed_tx"]
    assert gas["re-mark + hedge"]["count"] >= 1, "the first hedge of the run finds the book stale"
    # a re-mark prices every live series: an upkeep that re-marks costs more than one that hedges on the cache
    if "hedge" in gas:
        assert gas["re-mark + hedge"]["mean"] > gas["hedge"]["mean"]


def test_table_lists_gas_kinds_largest_first_with_what_they_hold(gbm_run: dict[str, Any]) -> None:
    text = (gbm_run["out"] / "summary.txt").read_text()
    lines = [line for line in text.splitlines() if line.startswith("gas: ")]
    assert len(lines) == len(gbm_run["doc"]["summary"]["gas"])
    totals = [int(line.split("total ")[1].split(":")[0].replace(",", "")) for line in lines]
    assert totals == sorted(totals, reverse=True)
    for line in lines:
        kind = line.removeprefix("gas: ").split("  ")[0].strip()
        assert line.endswith(": " + GAS_KINDS[kind]), line


@pytest.fixture(scope="module")
def gbm_figures(gbm_run: dict[str, Any]) -> Iterator[dict[str, Any]]:
    import matplotlib.pyplot as plt

    figs = figures(gbm_run["doc"])
    yield figs
    for fig in figs.values():
        plt.close(fig)


def test_every_chart_has_a_title_and_the_runs_parameters(gbm_figures: dict[str, Any]) -> None:
    assert set(gbm_figures) == set(CHART_TITLES)
    for name, fig in gbm_figures.items():
        title = fig.get_suptitle()
        assert title.startswith(CHART_TITLES[name] + "\n"), title
        for part in ("seed 7", "2 days in 24 steps of 2 h", "drift 0", "vol 0.8", "constant vol model", "aave hedger"):
            assert part in title, (name, part, title)
        assert all(ax.get_title() for ax in fig.axes if ax.get_ylabel() != "implied vol (annual)"), name


def test_hf_is_on_a_log_scale_with_the_floor_drawn(gbm_figures: dict[str, Any], gbm_run: dict[str, Any]) -> None:
    floor = gbm_run["doc"]["suite"]["risk"]["hf_floor_wad"] / WAD
    ax = next(a for a in gbm_figures["share_price_and_hf.png"].axes if "health factor" in a.get_ylabel())
    assert ax.get_yscale() == "log"
    lines = {str(line.get_label()): line for line in ax.get_lines()}
    floor_line = next(line for label, line in lines.items() if label.startswith("HF floor"))
    assert list(floor_line.get_ydata()) == [floor, floor] and f"{floor:g}" in floor_line.get_label()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.startswith("HF floor 1.2") for text in legend)
    hf = [s["health_factor"] for s in gbm_run["doc"]["steps"] if s["health_factor"] is not None]
    plotted = [y for y in lines["health factor"].get_ydata() if y == y]
    assert plotted == hf


def test_implied_vol_lines_are_in_the_legend(gbm_figures: dict[str, Any]) -> None:
    ax = gbm_figures["market_and_greeks.png"].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("spot")
    assert [t for t in legend if t.startswith("implied vol")] == [
        "implied vol, scenario (right)",
        "implied vol, posted to the oracle (right)",
    ]
