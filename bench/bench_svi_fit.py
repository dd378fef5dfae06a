"""The keeper-side SVI fit (``hedgevault.surface.fit``): parameter recovery on synthetic smiles from known slices plus
noise, RMSE on smiles from Merton jump-diffusion prices (inverted with the project's implied-vol solver), time per
fit, and the share of fits the mirror's checks accepted as fitted (the rest: flattened wings or the last good slice).

Usage: python bench/bench_svi_fit.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _common import machine

from hedgevault.surface import fit, mirror
from hedgevault.surface.merton import MertonParams, merton_prices
from hedgevault.surface.mirror import WAD

DAY = 86_400
F = 3000.0
TRUE = {
    14: (0.006, 0.08, -0.55, 0.02, 0.12),
    60: (0.02, 0.15, -0.5, 0.05, 0.2),
    180: (0.07, 0.2, -0.35, 0.1, 0.35),
}
NAMES = ("a", "b", "rho", "m", "sigma")


def _points(
    days: int, params: tuple[float, ...], noise: float, rng: np.random.Generator, n: int = 21
) -> fit.SmilePoints:
    t_sec = days * DAY
    t = t_sec / mirror.YEAR_SEC
    ks = np.linspace(-0.5, 0.35, n) * max(1.0, math.sqrt(days / 30))
    vols = np.sqrt(fit.svi_w(params, ks) / t) + rng.normal(0, noise, n)
    strikes = tuple(round(F * math.exp(k) * WAD) for k in ks)
    return fit.SmilePoints(days, t_sec, round(F * WAD), ks, vols, np.ones(n), strikes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    times: list[float] = []
    print("recovery: 21 strikes, true slice + N(0, noise) on each vol; max over seeds of |fitted - true|")
    for noise in (0.0, 0.003):
        for days, true in TRUE.items():
            errs = np.zeros(5)
            vol_err = 0.0
            repaired = 0
            for seed in range(args.seeds):
                rng = np.random.default_rng(1000 * days + seed)
                pts = _points(days, true, noise, rng)
                start = time.perf_counter()
                res = fit.fit_expiry(pts)
                times.append(time.perf_counter() - start)
                assert res.fitted and res.params is not None and res.slice is not None, res.reason
                repaired += res.repaired > 0
                errs = np.maximum(errs, np.abs(np.array(res.params) - np.array(true)))
                truth = np.sqrt(fit.svi_w(true, pts.k) / pts.t_years)
                fitted = [mirror.vol_wad(res.slice, k, pts.forward_wad, pts.time_sec) / WAD for k in pts.strikes_wad]
                vol_err = max(vol_err, float(np.max(np.abs(np.array(fitted) - truth))))
            rel = ", ".join(f"{n} {e:.2g}" for n, e in zip(NAMES, errs, strict=True))
            print(
                f"  noise {noise * 100:.1f} vp, {days:>3} d: {rel}; b {errs[1] / true[1]:.0%} sigma "
                f"{errs[4] / true[4]:.0%} relative; max vol error {vol_err * 100:.3f} vp; repaired {repaired}"
            )
    print(
        "\nMerton jump-diffusion (sigma 55%, 1.5 jumps / yr, log jump N(-0.12, 0.15^2)), r = 3%, 15 strikes, "
        "puts below F / calls above, mid of a 0.2% spread:"
    )
    p = MertonParams()
    for days in (7, 30, 90, 180, 365):
        t = days / 365
        strikes = F * np.exp(np.linspace(-0.5, 0.35, 15) * max(math.sqrt(t), 0.28) * 2)
        calls, puts = merton_prices(F, strikes, t, 0.03, p)
        quotes = tuple(
            fit.Quote(float(k), days * DAY, float(m) * 0.999, float(m) * 1.001, kind)
            for k, c, pp in zip(strikes, calls, puts, strict=True)
            for m, kind in ((pp, "put") if k < F else (c, "call"),)
        )
        start = time.perf_counter()
        res = fit.fit_surface(fit.MarketSnapshot(F, 0.03, 0, quotes))[days * DAY]
        times.append(time.perf_counter() - start)
        pts, _ = fit.smile_points(fit.MarketSnapshot(F, 0.03, 0, quotes))
        vols = pts[0].vol
        print(
            f"  {days:>3} d: RMSE {res.rmse_vol_points:.3f} vol points (market vols {vols.min() * 100:.1f}%.."
            f"{vols.max() * 100:.1f}%), repaired {res.repaired}, params "
            + ", ".join(f"{n} {x:.4g}" for n, x in zip(NAMES, res.params or (), strict=False))
        )
    print(f"\ntime per fit: median {np.median(times):.2f} s, max {np.max(times):.2f} s ({len(times)} fits)")


if __name__ == "__main__":
    main()
