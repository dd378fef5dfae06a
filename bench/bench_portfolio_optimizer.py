"""Speed of the keeper-side optimizer per solve, n = 8, each mode including its mirror check (the time a
keeper spends before posting): 200 random covariances (factor model, quantised through the oracle's
post). Target (issue 11): <= 50 ms per solve.

Usage: python bench/bench_portfolio_optimizer.py [--n 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import machine

from hedgevault.portfolio import optimizer as opt
from hedgevault.portfolio import sampling
from hedgevault.portfolio.mirror import WAD, Mode, TargetRules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}, numpy {np.__version__}\n")
    rng = np.random.default_rng(3)
    n = 8
    covs = [sampling.random_covariance(rng, n)[2] for _ in range(args.n)]
    lo, hi = (0,) * n, (WAD,) * n
    band = {"min_vol_wad": WAD // 100, "max_vol_wad": WAD // 2}

    def rules(mode: Mode, **kw: object) -> TargetRules:
        return TargetRules(mode, lo, hi, tolerance_wad=10**12, **band, **kw)  # type: ignore[arg-type]

    modes = {
        "min-variance": lambda c: opt.min_variance(c, rules(Mode.MIN_VARIANCE)),
        "risk-parity (Spinu)": lambda c: opt.risk_parity(c, rules(Mode.RISK_PARITY, budget_wad=(WAD // n,) * n)),
        "target-volatility": lambda c: opt.target_volatility(c, rules(Mode.TARGET_VOL)),
        "mean-variance + turnover": lambda c: opt.mean_variance(
            c, rules(Mode.TARGET_VOL), np.linspace(0.02, 0.3, n), np.full(n, 0.1)
        ),
    }
    print(f"{'mode':<28} {'median ms':>10} {'p90 ms':>8} {'max ms':>8} {'fallbacks':>10}  target <= 50 ms")
    for label, solve in modes.items():
        times, fallbacks = [], 0
        for c in covs:
            start = time.perf_counter()
            allocation = solve(c)
            times.append((time.perf_counter() - start) * 1000)
            fallbacks += allocation.fallback_reason is not None
        t = np.array(times)
        verdict = "met" if np.percentile(t, 90) <= 50 else "MISSED"
        print(
            f"{label:<28} {np.median(t):>10.2f} {np.percentile(t, 90):>8.2f} {t.max():>8.2f} {fallbacks:>10}  {verdict}"
        )


if __name__ == "__main__":
    main()
