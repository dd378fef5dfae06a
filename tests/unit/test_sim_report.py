"""The simulator's gas categories (``accounting.gas_kind``) and the report's table rows and chart captions, on
hand-made inputs (pure: no chain). The same rules on a real run are in ``tests/sim/test_simulate.py``."""

from __future__ import annotations

from typing import Any

import pytest

from hedgevault.sim.accounting import GAS_KINDS, Actors, gas_kind, other_label
from hedgevault.sim.report import CHART_TITLES, caption, figures, gas_rows

KEEPER = "0x" + "aa" * 20
ARB = "0x" + "bb" * 20
FEED = "0x" + "cc" * 20
VOL = "0x" + "dd" * 20
VAULT = "0x" + "ee" * 20
USER = "0x" + "11" * 20
TOKEN = "0x" + "22" * 20
# checksummed spellings are the same actors
ACTORS = Actors(KEEPER.upper().replace("0X", "0x"), ARB, FEED, VOL, VAULT)


@pytest.mark.parametrize(
    ("sender", "to", "events", "kind"),
    [
        (ARB, "0x" + "99" * 20, ["Swap"], "arbitrage swap"),  # whatever the arbitrageur calls
        (KEEPER, FEED, [], "feed update"),
        (KEEPER, VOL, [], "vol update"),
        (USER, FEED, [], "other"),  # only the keeper's posts are its updates
        (USER, VOL, [], "other"),
        (KEEPER, VAULT, ["Hedged", "Slice"], "hedge"),
        (KEEPER, VAULT, ["BookMarked", "Hedged", "Slice"], "re-mark + hedge"),
        (KEEPER, VAULT, ["BookMarked"], "re-mark"),
        (KEEPER, VAULT, ["ExpirySettled"], "settle"),
        (USER, VAULT, ["BookMarked", "Bought"], "buy"),
        (USER, VAULT, ["Sold"], "sell"),
        (USER, VAULT, ["Claimed", "Hedged", "Slice"], "claim"),  # a claim that raised quote from the hedge
        (USER, VAULT, ["Deposit"], "deposit"),
        (USER, VAULT, ["Withdraw"], "withdraw"),
        (USER, VAULT, ["FeesCollected"], "fee collection"),
        (USER, VAULT, ["BookMarked"], "other"),  # anyone may re-mark; the keeper's re-marks are its own kind
        (KEEPER, VAULT, [], "other"),  # an upkeep with no event is not a re-mark
        (USER, TOKEN, ["Approval"], "other"),
        (KEEPER, "", [], "other"),  # a contract creation
    ],
)
def test_gas_kind(sender: str, to: str, events: list[str], kind: str) -> None:
    assert gas_kind(sender, to, events, ACTORS) == kind
    assert gas_kind(sender.upper().replace("0X", "0x"), to.upper().replace("0X", "0x"), events, ACTORS) == kind
    assert kind in GAS_KINDS


def test_reverted_transactions() -> None:
    assert gas_kind(KEEPER, VAULT, [], ACTORS, succeeded=False) == "keeper reverted"
    assert gas_kind(USER, VAULT, [], ACTORS, succeeded=False) == "other"


def test_other_is_labelled_by_contract_and_function() -> None:
    contracts = {TOKEN: "quote token"}
    functions = {"0x095ea7b3": "approve"}
    assert other_label(TOKEN.upper().replace("0X", "0x"), "0x095EA7B3" + "00" * 64, contracts, functions) == (
        "quote token.approve"
    )
    assert other_label(USER, "0xdeadbeef", contracts, functions) == f"{USER}.0xdeadbeef"
    assert other_label(USER, "0x", contracts, functions) == f"{USER}.(no call: ether sent)"
    assert other_label("", "0x6080", contracts, functions) == "contract creation.(no call: ether sent)"


def _gas(count: int, mean: int, kind: str) -> dict[str, Any]:
    return {"count": count, "mean": mean, "total": count * mean, "what": GAS_KINDS[kind]}


def test_gas_rows_largest_first_with_what_each_holds() -> None:
    gas = {
        "feed update": _gas(10, 80_000, "feed update"),
        "re-mark + hedge": _gas(5, 700_000, "re-mark + hedge"),
        "other": _gas(3, 50_000, "other"),
    }
    rows = gas_rows(gas, {"quote token.approve": 1, "vault.collectFees": 2})
    assert [k for k, _ in rows] == ["gas: re-mark + hedge", "gas: feed update", "gas: other"]
    assert rows[0][1] == f"5 tx, mean 700,000, total 3,500,000: {GAS_KINDS['re-mark + hedge']}"
    # what 'other' holds, the most frequent first
    assert rows[2][1] == "3 tx, mean 50,000, total 150,000: vault.collectFees x2, quote token.approve x1"


def _document(scenario: dict[str, Any], steps: int = 168, horizon_sec: int = 7 * 86_400) -> dict[str, Any]:
    return {"seed": 3, "scenario": scenario, "summary": {"steps": steps, "horizon_sec": horizon_sec, "hedger": "aave"}}


def test_caption_of_a_gbm_run() -> None:
    gbm = {"spot": 3000.0, "drift": 0.1, "vol": 0.6, "vol_model": "mean-reverting", "kappa": 52.0, "xi": 1.0}
    assert caption(_document({"description": "GBM ...", "steps": 168, "gbm": gbm})) == (
        "seed 3, 7 days in 168 steps of 1 h; GBM spot 3000, drift 0.1, vol 0.6, mean-reverting vol model "
        "(kappa 52, xi 1); aave hedger"
    )


def test_caption_of_a_csv_run() -> None:
    doc = _document({"description": "CSV prices.csv: 6 steps over 10800 s", "steps": 6}, 6, 10_800)
    assert caption(doc) == "seed 3, 0.125 days in 6 steps of 30 min; CSV prices.csv; aave hedger"


def _step(k: int, hf: float | None) -> dict[str, Any]:
    return {
        "time_sec": 3600 * k,
        "price": 3000.0 + k,
        "vol": 0.8,
        "vol_posted": 0.75,
        "hedge": 0.1 * k,
        "hedge_target": 0.1 * k,
        "net_delta": 0.0,
        "vega": 10.0 * k,
        "share_price": 1.0,
        "health_factor": hf,
        "pnl_premium": 10**6 * k,
        "pnl_option": -(10**6) * k,
        "pnl_hedge_quote": 0.0,
        "pnl_swap_cost_quote": 0.1 * k,
        "pnl_supply_interest": 0,
        "pnl_borrow_interest_quote": 0.0,
    }


def test_figures_of_a_hand_made_run() -> None:
    """Titles with the caption, HF on a log scale with the floor (1.5 here) and 1 drawn and labelled, the IV
    lines in the legend, a missing HF (no liabilities) not plotted."""
    import matplotlib.pyplot as plt

    gbm = {"spot": 3000.0, "drift": 0.0, "vol": 0.8, "vol_model": "constant", "kappa": 52.0, "xi": 1.0}
    doc = _document({"description": "GBM", "steps": 3, "gbm": gbm}, 3, 3 * 3600)
    doc["suite"] = {"quote_decimals": 6, "hedge": {"delta_band_wad": 5 * 10**17}, "risk": {"hf_floor_wad": 15 * 10**17}}
    doc["steps"] = [_step(0, None), _step(1, 5000.0), _step(2, 40.0), _step(3, 2.5)]
    figs = figures(doc)
    try:
        assert list(figs) == list(CHART_TITLES)
        for name, fig in figs.items():
            assert fig.get_suptitle() == f"{CHART_TITLES[name]}\n{caption(doc)}"
            assert all(ax.get_title() for ax in fig.axes if ax.get_ylabel() != "implied vol (annual)")
        hf_ax = figs["share_price_and_hf.png"].axes[1]
        assert hf_ax.get_yscale() == "log"
        lines = {str(line.get_label()): list(line.get_ydata()) for line in hf_ax.get_lines()}
        assert lines["HF floor 1.5 (new risk refused below)"] == [1.5, 1.5]
        assert lines["1 (de-risking only below)"] == [1, 1]
        assert (
            lines["health factor"][1:] == [5000.0, 40.0, 2.5] and lines["health factor"][0] != lines["health factor"][0]
        )
        assert [t.get_text() for t in hf_ax.get_legend().get_texts()] == list(lines)
        market = figs["market_and_greeks.png"].axes[0]
        assert [t.get_text() for t in market.get_legend().get_texts()] == [
            "spot (oracle, left)",
            "implied vol, scenario (right)",
            "implied vol, posted to the oracle (right)",
        ]
        band = figs["market_and_greeks.png"].axes[1]
        assert f"band +/-{0.5:g}" in [t.get_text() for t in band.get_legend().get_texts()]
    finally:
        for fig in figs.values():
            plt.close(fig)
