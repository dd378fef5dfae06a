"""The portfolio simulation's charts carry a title, the run's parameters and how its market paths were made
(the off-chain model: seconds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hedgevault.sim.portfolio import report
from hedgevault.sim.portfolio.run import PortfolioOptions, run_portfolio

TITLES = {
    "realised_vol.png": "Realised volatility vs target",
    "weights.png": "Weights over time vs targets",
    "drawdown.png": "Market and drawdown",
    "costs_turnover.png": "Rebalancing cost and turnover",
}


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The figures of a 12-day model run (seed 4, 6 h steps, crash), as ``charts`` saved them."""
    seen: dict[str, Any] = {}
    real = report.figures

    def keep(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen.update(real(*args, **kwargs))
        return seen

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "figures", keep)
        out_dir: Path = tmp_path_factory.mktemp("portfolio-charts")
        output = run_portfolio(
            PortfolioOptions(onchain=False, days=12, step_hours=6, seed=4, out_dir=out_dir, quiet=True)
        )
    assert {p.name for p in output.charts} == set(seen)
    return seen


def test_every_chart_has_a_title_the_runs_parameters_and_the_market(figures: dict[str, Any]) -> None:
    assert set(figures) == set(TITLES)
    for name, fig in figures.items():
        title = fig.get_suptitle()
        lines = title.split("\n")
        assert lines[0] == TITLES[name]
        for part in ("crash scenario", "seed 4", "12 days at 6 h steps", "mode target-vol (target 20%)", "model"):
            assert part in lines[1], (name, part, lines[1])
        market = " ".join(lines[2:])
        for part in ("GBM with a crash", "vols 0.6, 0.5, 0.8", "48 steps of 6 h", "crash -35%"):
            assert part in market, (name, part, market)


def test_the_realised_vol_chart_draws_the_target_and_labels_every_line(figures: dict[str, Any]) -> None:
    ax = figures["realised_vol.png"].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "target 20%" in legend and "vault (model)" in legend and "buy-and-hold" in legend
    target = next(line for line in ax.get_lines() if line.get_label() == "target 20%")
    assert list(target.get_ydata()) == [0.2, 0.2]
