"""A 500-underlying hedge gap closed slice by slice: the vault sells deep in-the-money options (7 days; calls
for a long gap, puts for a short one: the put's hedge is borrowed on the suite's Aave v3 market and sold)
until its hedge target is 500 underlying away from its hedge, then the keeper's upkeeps close the gap, with
an arbitrageur moving the pool back to the oracle price between upkeeps (``Suite.move_pool_price``). Each
upkeep trades one slice whose swap stops at the oracle spot +/- ``maxSlippageBps`` (1%), pool fee included.

Printed: per upkeep, the slice (underlying, quote), the Aave legs (collateral supplied, borrowed, repaid,
withdrawn), its average price against the oracle and the bound (the
bench fails if a slice's average is outside it), the hedge and the gap after, the gas; the number of
upkeeps against what the bound implies for the default pool (20,000 underlying full range at 3000, 0.3%
fee, 1% slippage) by constant-product math:

    a buy stops where the pool's (pre-fee) price P1 = S (1 + s)(1 - f), a sale where P1 = S (1 - s) / (1 - f);
    a full-range pool at S with virtual reserve x0 = 20,000 underlying (x = L / sqrt(P)) trades
    |dx| = x0 |1 - sqrt(S / P1)| before P1 (a sale pays the fee in underlying: it sells |dx| / (1 - f)), so
    ceil((gap - band) / slice) upkeeps close the gap to the band.

Also checked once per direction: without the arbitrage, the next upkeep would revert (``PoolBeyondLimit``).

Usage: python bench/bench_hedge_gap.py [--gap 500] [--direction long short] [--out bench/results/hedge_gap.txt]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from hedgevault.chain import latest_timestamp, local_node
from hedgevault.chain.sending import send
from hedgevault.reverts import describe
from hedgevault.suite import Suite, SuiteConfig, deploy_suite

WAD = 10**18
DAY = 86_400
BLOCK_SEC = 2
MAX_UPKEEPS = 60


def implied_slice(config: SuiteConfig, buy: bool) -> float:
    """Underlying one slice trades from the oracle price to the bound, full-range constant product."""
    s = config.hedge.max_slippage_bps / 10_000
    f = config.pool_fee / 1_000_000
    ratio = (1 + s) * (1 - f) if buy else (1 - s) / (1 - f)  # P1 / S
    moved = config.pool_underlying * abs(1 - math.sqrt(1 / ratio))  # out of the pool, or into it after the fee
    return moved if buy else moved / (1 - f)  # a sale pays the fee in underlying, on top


def close_gap(direction: str, gap_whole: int) -> list[str]:
    """Open a ``gap_whole`` gap on a fresh suite and close it; the printed lines."""
    lines: list[str] = []
    with local_node() as node:
        w3 = node.web3()
        s: Suite = deploy_suite(w3)
        w3.provider.make_request("anvil_setBlockTimestampInterval", [BLOCK_SEC])
        a = [str(x) for x in w3.eth.accounts]
        admin, depositor, buyer, keeper, arbitrageur = a[0], a[1], a[2], a[3], a[8]
        v = s.vault.functions
        for who in (depositor, buyer):
            send(w3, s.quote.functions.mint(who, s.quote_units(50_000_000)), who)
            send(w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), who)
        send(w3, v.deposit(s.quote_units(20_000_000), depositor), depositor)
        is_call = direction == "long"
        expiry = latest_timestamp(w3) + 7 * DAY
        strike = (2400 if is_call else 3600) * WAD  # deep in the money: delta ~ +-0.95, little vega
        fn = v.listSeries(expiry, strike, is_call)
        series_id = int(fn.call({"from": admin}))
        send(w3, fn, admin)
        send(w3, s.vol_oracle.functions.postVol(expiry, 8 * WAD // 10), admin)
        # one option measures the delta, then enough for the gap
        send(w3, v.buy(series_id, WAD, 2**255, buyer), buyer)
        per_option = abs(s.book_view()["bookDeltaWad"])
        amount = -(-(gap_whole * WAD - per_option) * WAD // per_option)
        send(w3, v.buy(series_id, amount, 2**255, buyer), buyer)
        book = s.book_view()
        spot = book["spotWad"]
        target = -book["bookDeltaWad"]
        band = s.config.hedge.delta_band_wad
        lines.append(
            f"{direction}: {(amount + WAD) / WAD:,.1f} {'calls' if is_call else 'puts'} (strike {strike // WAD}, "
            f"7 days) sold; hedge {book['hedgeWad'] / WAD:+.2f}, target {target / WAD:+.2f}, "
            f"gap {abs(target - book['hedgeWad']) / WAD:.2f}; oracle {spot / WAD:,.2f}"
        )
        bound_bps = s.config.hedge.max_slippage_bps
        upkeeps = 0
        probed = False
        total_gas = 0
        while v.checkUpkeep(b"").call()[0]:
            if upkeeps >= MAX_UPKEEPS:
                raise RuntimeError(f"{direction}: the gap is still open after {MAX_UPKEEPS} upkeeps")
            receipt = send(w3, v.performUpkeep(b""), keeper)
            upkeeps += 1
            total_gas += int(receipt["gasUsed"])
            slices = s.hedger.events.Slice().process_receipt(receipt, errors=DISCARD)
            parts = []
            for ev in slices:
                u, q = int(ev["args"]["underlyingAmount"]), int(ev["args"]["quoteAmount"])
                avg = q * 10**s.config.underlying_decimals * WAD // (u * 10**s.config.quote_decimals)
                off_bps = (avg - spot) * 10_000 / spot
                within = off_bps <= bound_bps if ev["args"]["bought"] else off_bps >= -bound_bps
                if not within:
                    raise RuntimeError(f"{direction}: upkeep {upkeeps}: average {avg / WAD} outside the bound")
                parts.append(
                    f"{'bought' if ev['args']['bought'] else 'sold'} {u / 10**s.config.underlying_decimals:7.2f} "
                    f"at {avg / WAD:,.2f} ({off_bps:+.1f} bps vs the oracle, bound {bound_bps} bps)"
                )
            aave = []
            for name in ("CollateralSupplied", "Borrowed", "Repaid", "CollateralWithdrawn"):
                for ev in getattr(s.hedger.events, name)().process_receipt(receipt, errors=DISCARD):
                    scale = 10 ** (s.config.quote_decimals if "Collateral" in name else s.config.underlying_decimals)
                    aave.append(f"{name} {int(ev['args']['amount']) / scale:,.2f}")
            if aave:
                parts.append("Aave: " + ", ".join(aave))
            hedge = s.book_view()["hedgeWad"]
            lines.append(
                f"  upkeep {upkeeps:2d}: {'; '.join(parts) or 'no swap'}; hedge {hedge / WAD:+8.2f}, gap "
                f"{abs(target - hedge) / WAD:7.2f}; gas {int(receipt['gasUsed']):,}"
            )
            if not probed and v.checkUpkeep(b"").call()[0]:
                probed = True
                try:
                    v.performUpkeep(b"").call({"from": keeper})
                    lines.append("  (without arbitrage the next upkeep would still trade)")
                except ContractLogicError as exc:
                    lines.append(f"  (without arbitrage the next upkeep reverts: {describe(exc)})")
            s.move_pool_price(spot, arbitrageur)
        implied = implied_slice(s.config, buy=is_call)
        expected = math.ceil((gap_whole * WAD - band) / WAD / implied)
        lines.append(
            f"  {upkeeps} upkeeps (gas {total_gas:,}, {total_gas // max(upkeeps, 1):,} each); the bound implies "
            f"{implied:.2f} underlying per slice from the oracle price: ceil(({gap_whole} - "
            f"{band / WAD:g}) / {implied:.2f}) = {expected}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gap", type=int, default=500, help="whole underlying")
    parser.add_argument("--direction", nargs="+", choices=("long", "short"), default=["long", "short"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    config = SuiteConfig()
    lines = [
        f"A {args.gap}-underlying hedge gap closed by the keeper's upkeeps with arbitrage between them",
        f"machine: {machine()}",
        f"pool: {config.pool_underlying:,} underlying full range at {config.spot_wad / WAD:,.0f}, fee "
        f"{config.pool_fee / 10_000:g}%, slippage bound {config.hedge.max_slippage_bps / 100:g}% (fee included): "
        f"implied slice {implied_slice(config, True):.2f} underlying bought, {implied_slice(config, False):.2f} sold",
    ]
    for direction in args.direction:
        lines += close_gap(direction, args.gap)
    lines.append(f"wall time {time.perf_counter() - started:.0f} s")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
