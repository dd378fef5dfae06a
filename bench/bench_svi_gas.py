"""Gas of ``SviMath`` on Anvil (project optimizer settings), measured inside ``SviHarness`` around the library call
alone (gasleft() before and after; inputs already in memory). Targets (issue 13):
* a slice post's checks for one expiry <= 150,000 (parameters + butterfly and calendar on the grid against both
  neighbours + the rate limit at the listed strikes);
* pricing a strike from a slice adds <= 1,500 gas to today's price: the evaluation (vol at a strike) from the
  strike itself (with its own logarithm) and from k (the logarithm shared with the pricer, whose
  ln(S / K) + r T is -k). Today's price (``BlackScholes.price``) is printed for scale.

Usage: python bench/bench_svi_gas.py
"""

from __future__ import annotations

import math

from _common import machine, percentiles

from hedgevault.chain import local_node
from hedgevault.greeks.onchain import GreeksHarness
from hedgevault.surface import mirror
from hedgevault.surface.mirror import WAD, Grid, Post, Slice
from hedgevault.surface.onchain import SviHarness

DAY = 86_400
F = 3000 * WAD
T = 30 * DAY
SMILE = Slice.from_floats(0.018, 0.12, -0.45, 0.02, 0.15)


def main() -> None:
    print(f"machine: {machine()}\n")
    strikes = tuple(int(F * x) for x in (0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5))
    with local_node() as node:
        w3 = node.web3()
        h = SviHarness.deploy(w3)
        g = GreeksHarness.deploy(w3)
        flat = mirror.flat_slice(6 * WAD // 10, T)
        smile_gas = [h.gas_vol(SMILE, k, F, T) for k in strikes]
        flat_gas = [h.gas_vol(flat, k, F, T) for k in strikes]
        k_gas = [h.gas_vol_at_k(SMILE, mirror.log_moneyness_wad(k, F), T) for k in strikes]
        price_gas = [g.gas("price", (F, k, T, mirror.vol_wad(SMILE, k, F, T), 0)) for k in strikes]
        print("evaluation, 10 strikes 0.6F..1.5F, 30 days (target: <= 1,500 over today's price):")
        print(f"  today's BlackScholes.price      {percentiles(price_gas)}")
        print(f"  volWad, smile (own logarithm)   {percentiles(smile_gas)}")
        print(f"  volAtLogMoneyness, smile (k)    {percentiles(k_gas)}")
        print(f"  volWad, flat slice (b = 0)      {percentiles(flat_gas)}")
        print("\npost checks, one expiry, 10 listed strikes, both neighbours (target: <= 150,000):")
        near = Slice(SMILE.a36 // 3, SMILE.b_wad // 3, SMILE.rho_wad, SMILE.m_wad, SMILE.sigma_wad)
        far = Slice(SMILE.a36 * 3, SMILE.b_wad, SMILE.rho_wad, SMILE.m_wad, SMILE.sigma_wad)
        k_lo = mirror.log_moneyness_wad(strikes[0], F)
        k_hi = mirror.log_moneyness_wad(strikes[-1], F) + 1
        for points in (16, 24, 32, 48, 64):
            post = Post(SMILE, Grid(k_lo, k_hi, points), near, far, SMILE, T + 3600, T, strikes, F, WAD // 20)
            mirror.check_post(post)
            total, params, arb, rate = h.gas_check_post(post)
            print(
                f"  grid {points:>2} points: total {total:>7,}  (params {params:,}, butterfly + calendar {arb:,}, "
                f"rate limit {rate:,}; {arb / points:,.0f} per point)"
            )
        one = Post(SMILE, Grid(k_lo, k_hi, 32), None, None, SMILE, T + 3600, T, strikes, F, WAD // 20)
        print(f"  grid 32 points, no neighbours: total {h.gas_check_post(one)[0]:,}")
        print(f"\nmean |k| of the strikes: {sum(abs(math.log(k / F)) for k in strikes) / len(strikes):.3f}")


if __name__ == "__main__":
    main()
