"""The portfolio run's outputs: the comparison table (text), ``results.json`` and PNG charts (matplotlib,
Agg backend), each chart titled with the run's parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from hedgevault.sim.portfolio.baselines import StrategyRun
from hedgevault.sim.portfolio.market import DAY_SEC, Paths
from hedgevault.sim.portfolio.metrics import Metrics, drawdown, rolling_vol

#: Rolling window of the realised-volatility chart: 7 days.
ROLLING_DAYS = 7


def _pct(x: float, places: int = 1) -> str:
    return f"{100 * x:.{places}f}%"


def table(metrics: list[Metrics], header: str, target_vol: float | None) -> str:
    """Strategies as columns, figures as rows."""
    names = [m.name for m in metrics]
    rows: list[tuple[str, list[str]]] = [
        ("realised vol (annual)", [_pct(m.realised_vol) for m in metrics]),
        ("max drawdown", [_pct(m.max_drawdown) for m in metrics]),
        ("return", [_pct(m.total_return, 2) for m in metrics]),
        ("turnover (x NAV / year)", [f"{m.turnover_per_year:.2f}" for m in metrics]),
        ("cost (bps / year)", [f"{m.cost_bps_per_year:.1f}" for m in metrics]),
        ("  fees", [f"{m.fee_bps_per_year:.1f}" for m in metrics]),
        ("  price impact", [f"{m.impact_bps_per_year:.2f}" for m in metrics]),
        ("  gas", [f"{m.gas_bps_per_year:.2f}" for m in metrics]),
        ("tracking error (realised)", [_pct(m.tracking_error, 2) for m in metrics]),
        ("tracking error (ex ante, mean)", [_pct(m.tracking_error_ex_ante, 2) for m in metrics]),
        ("average risky weights", ["/".join(f"{100 * w:.0f}" for w in m.average_weights) for m in metrics]),
        ("trades", [str(m.trades) for m in metrics]),
    ]
    if target_vol is not None:
        rows.insert(1, ("  vs target", [f"{m.realised_vol / target_vol - 1:+.1%}" for m in metrics]))
    label_w = max(len(r[0]) for r in rows)
    col_w = [max(len(n), *(len(r[1][j]) for r in rows)) for j, n in enumerate(names)]
    lines = [header, ""]
    lines.append(" " * label_w + "  " + "  ".join(n.rjust(w) for n, w in zip(names, col_w, strict=True)))
    for label, cells in rows:
        lines.append(label.ljust(label_w) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, col_w, strict=True)))
    return "\n".join(lines)


def run_document(run: StrategyRun) -> dict[str, Any]:
    """A run's per-step series as JSON-ready lists."""
    return {
        "name": run.name,
        "nav": run.nav.tolist(),
        "weights": run.weights.tolist(),
        "targets": run.targets.tolist(),
        "traded": run.traded.tolist(),
        "fee": run.fee.tolist(),
        "impact": run.impact.tolist(),
        "gas": run.gas.tolist(),
        "trades": run.trades.astype(int).tolist(),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


def charts(
    paths: Paths,
    runs: list[StrategyRun],
    metrics: list[Metrics],
    out_dir: Path,
    subtitle: str,
    target_vol: float | None,
    bands: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> list[Path]:
    """The four PNGs of ``figures`` under ``out_dir``; returns their paths."""
    import matplotlib.pyplot as plt

    out: list[Path] = []
    for name, fig in figures(paths, runs, metrics, subtitle, target_vol, bands, values).items():
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        out.append(path)
    return out


def figures(
    paths: Paths,
    runs: list[StrategyRun],
    metrics: list[Metrics],
    subtitle: str,
    target_vol: float | None,
    bands: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> dict[str, Any]:
    """Four matplotlib Figures by file name (the caller saves and closes them): realised vol vs target, weights
    vs targets (the first run), drawdowns with the market, costs and turnover; each titled, with the run's
    parameters (``subtitle``) and how its market paths were made (``paths.description``: assets, vols, crash)
    under the title. ``values``: the first run's per-share NAV (default its NAV)."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = np.array(paths.times_sec) / DAY_SEC
    step_sec = paths.step_sec
    window = max(2, round(ROLLING_DAYS * DAY_SEC / step_sec))
    out: dict[str, Any] = {}
    main = runs[0]
    market = textwrap.fill(paths.description, 130)
    series = [values if (values is not None and j == 0) else r.nav for j, r in enumerate(runs)]

    def shade_crash(ax: Any) -> None:
        if paths.crash_steps is not None:
            a, b = paths.crash_steps
            ax.axvspan(days[a], days[b], color="tab:red", alpha=0.08, label="crash")

    def save(fig: Any, name: str, title: str) -> None:
        fig.suptitle(f"{title}\n{subtitle}\n{market}", fontsize=9)
        out[name] = fig

    fig, ax = plt.subplots(figsize=(10, 5))
    for run, v in zip(runs, series, strict=True):
        ax.plot(days, rolling_vol(v, step_sec, window), label=run.name, linewidth=1.6 if run is main else 0.9)
    if target_vol is not None:
        ax.axhline(target_vol, color="black", linestyle="--", linewidth=1, label=f"target {target_vol:.0%}")
        ax.axhspan(0.9 * target_vol, 1.1 * target_vol, color="tab:green", alpha=0.1, label="target +-10%")
    shade_crash(ax)
    ax.set_xlabel("days")
    ax.set_ylabel(f"realised vol, rolling {ROLLING_DAYS} days (annual)")
    ax.legend(fontsize=8, loc="best")
    save(fig, "realised_vol.png", "Realised volatility vs target")

    n = paths.n
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.4 * n + 1), sharex=True, squeeze=False)
    for i in range(n):
        ax = axes[i][0]
        ax.plot(days, main.weights[:, i], label=f"{main.name} weight")
        ax.plot(days, main.targets[:, i], linestyle="--", color="black", linewidth=1, label="target")
        if bands is not None:
            ax.fill_between(
                days,
                main.targets[:, i] - bands[:, i],
                main.targets[:, i] + bands[:, i],
                color="tab:green",
                alpha=0.12,
                label="no-trade band",
            )
        shade_crash(ax)
        ax.set_ylabel(f"{paths.symbols[i]} weight")
        if i == 0:
            ax.legend(fontsize=8, loc="best")
    axes[-1][0].set_xlabel("days")
    save(fig, "weights.png", "Weights over time vs targets")

    fig, axes2 = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    prices = paths.prices()
    for i in range(n):
        axes2[0].plot(days, prices[:, i] / prices[0, i], label=paths.symbols[i], linewidth=0.9)
    axes2[0].set_ylabel("price / start")
    axes2[0].legend(fontsize=8)
    shade_crash(axes2[0])
    for run, v in zip(runs, series, strict=True):
        axes2[1].plot(days, -100 * drawdown(v), label=run.name, linewidth=1.6 if run is main else 0.9)
    axes2[1].set_ylabel("drawdown (%)")
    axes2[1].set_xlabel("days")
    axes2[1].legend(fontsize=8, loc="lower left")
    save(fig, "drawdown.png", "Market and drawdown")

    fig, axes3 = plt.subplots(1, 2, figsize=(11, 4.5))
    names = [m.name for m in metrics]
    x = np.arange(len(metrics))
    bottom = np.zeros(len(metrics))
    for label, key in (
        ("fees", "fee_bps_per_year"),
        ("price impact", "impact_bps_per_year"),
        ("gas", "gas_bps_per_year"),
    ):
        vals = np.array([getattr(m, key) for m in metrics])
        axes3[0].bar(x, vals, bottom=bottom, label=label)
        bottom += vals
    axes3[0].set_xticks(x, names, rotation=20, fontsize=8)
    axes3[0].set_ylabel("rebalancing cost (bps of NAV / year)")
    axes3[0].legend(fontsize=8)
    for run in runs:
        axes3[1].plot(days, np.cumsum(run.traded) / np.mean(run.nav), label=run.name)
    axes3[1].set_xlabel("days")
    axes3[1].set_ylabel("cumulative turnover (x NAV)")
    axes3[1].legend(fontsize=8)
    save(fig, "costs_turnover.png", "Rebalancing cost and turnover")
    return out
