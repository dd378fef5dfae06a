"""The skewed market (``hedgevault simulate --market merton``): option prices of Merton's jump-diffusion at the
scenario's spot, quoted bid/ask at a fixed set of strikes per listed expiry and written to the quotes file the real
keeper fits (``hedgevault.keeper.oracles.SurfacePoster``), and the same prices as the informed buyer's reference.

Pure (floats, no chain). Units: spot and strikes in quote per underlying, times in seconds, prices in quote per
option (one underlying).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy.optimize import brentq

from hedgevault.surface.merton import MertonParams, bs_call, merton_prices

YEAR_SEC = 365 * 86_400
WAD = 10**18


@dataclass(frozen=True)
class SkewParams:
    """How the skewed market quotes and what the oracle gets.

    * ``strike_sds``: the quoted strikes of an expiry, F e^{z s sqrt(T)} for each z (s the market's total vol, F and
      T the first spot and the time to expiry at the setup), rounded to 3 significant digits, plus the strikes of
      the expiry's listed series; fixed for the run (the oracle's strike set of an expiry only grows, at most 16);
    * ``half_spread``: bid and ask at price x (1 -/+ half_spread), out-of-the-money options only (puts below the
      forward, calls at and above);
    * ``quote_every_steps``: the quotes file is rewritten every so many steps (each rewrite makes the keeper refit
      every quoted expiry: about 2 s of scipy per expiry), and never for an expiry within ``min_quote_sec`` of
      its end (its smile explodes there and trading has stopped);
    * ``surface``: True, the keeper fits and posts slices (``postSlices``); False, the flat baseline: the keeper
      posts the market's at-the-money implied vol of each expiry with ``postVol``;
    * ``walk``: the keeper's partial steps toward a fit the rate limit refuses (``hedgevault.surface.walk``);
      False: such a fit keeps the last good slice (the keeper before branch svwalk);
    * ``jump_at_sec`` / ``jump``: the skew jump: from ``jump_at_sec`` after the start the market prices (its quotes
      and the informed buyer's reference) with the Merton parameters ``jump`` (the path's spot is unchanged)."""

    strike_sds: tuple[float, ...] = (-2.5, -1.75, -1.0, -0.5, 0.0, 0.5, 1.0, 1.75, 2.5)
    half_spread: float = 0.01
    quote_every_steps: int = 1
    min_quote_sec: int = 3600
    surface: bool = True
    walk: bool = True
    jump_at_sec: int | None = None
    jump: MertonParams | None = None

    def __post_init__(self) -> None:
        if (self.jump_at_sec is None) != (self.jump is None):
            raise ValueError("a skew jump needs both jump_at_sec and jump (the Merton parameters after it)")
        if not 5 <= len(self.strike_sds) <= 12:
            raise ValueError(
                f"5 to 12 quoted strikes (SVI has five parameters; listed ones join), got {self.strike_sds}"
            )
        if not 0 <= self.half_spread < 0.5:
            raise ValueError(f"half_spread must be in [0, 0.5), got {self.half_spread}")
        if self.quote_every_steps < 1:
            raise ValueError(f"quote_every_steps must be at least 1, got {self.quote_every_steps}")


class SkewedMarket:
    """Merton prices (``hedgevault.surface.merton.merton_prices``, zero rate as the suite's) at the scenario's
    spot: per option, the at-the-money implied vol per expiry, and the quotes file."""

    def __init__(self, merton: MertonParams, strikes: Mapping[int, Sequence[float]], params: SkewParams) -> None:
        self.merton = merton
        #: The quoted strikes of each expiry (unix s).
        self.strikes = {int(e): tuple(sorted(float(k) for k in ks)) for e, ks in strikes.items()}
        self.params = params

    def price(self, spot: float, strike: float, time_sec: int, is_call: bool) -> float:
        """The market's price of one option (quote per underlying); intrinsic value at or after expiry."""
        if time_sec <= 0:
            return max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
        calls, puts = merton_prices(spot, [strike], time_sec / YEAR_SEC, 0.0, self.merton)
        return float(calls[0] if is_call else puts[0])

    def atm_vol(self, spot: float, time_sec: int) -> float:
        """The Black-Scholes implied vol of the at-the-money (K = F = S at zero rate) market price: what the flat
        baseline posts for the expiry."""
        t = time_sec / YEAR_SEC
        call = self.price(spot, spot, time_sec, True)
        return float(brentq(lambda v: float(bs_call(spot, spot, t, 0.0, v)) - call, 1e-4, 10.0, xtol=1e-12))

    def quotes(self, spot: float, now_sec: int, expiries: Iterable[int]) -> dict[str, Any]:
        """The quotes file's JSON document (``hedgevault.surface.fit.load_quotes``) for the expiries more than
        ``min_quote_sec`` ahead: out-of-the-money options at every strike, bid/ask around the Merton price."""
        h = self.params.half_spread
        rows: list[dict[str, Any]] = []
        for expiry in sorted(set(expiries)):
            time_sec = expiry - now_sec
            if time_sec <= self.params.min_quote_sec:
                continue
            strikes = self.strikes[expiry]
            calls, puts = merton_prices(spot, strikes, time_sec / YEAR_SEC, 0.0, self.merton)
            for strike, call, put in zip(strikes, calls, puts, strict=True):
                is_call = strike >= spot
                mid = float(call if is_call else put)
                if not math.isfinite(mid) or mid <= 0:
                    continue
                rows.append(
                    {
                        "strike": strike,
                        "expiry": expiry,
                        "bid": mid * (1 - h),
                        "ask": mid * (1 + h),
                        "kind": "call" if is_call else "put",
                    }
                )
        return {"spot": spot, "rate": 0.0, "now": now_sec, "quotes": rows}


def quoted_strikes(
    spot: float, total_vol: float, time_sec: int, strike_sds: Sequence[float], listed: Iterable[float]
) -> tuple[float, ...]:
    """An expiry's quoted strikes: spot e^{z total_vol sqrt(T)} for each z in ``strike_sds``, rounded to 3
    significant digits, and the ``listed`` strikes (sorted, no duplicates)."""
    width = total_vol * math.sqrt(time_sec / YEAR_SEC)
    out = {float(f"{spot * math.exp(z * width):.3g}") for z in strike_sds}
    return tuple(sorted(out | {float(k) for k in listed}))


def write_quotes(path: Path, document: dict[str, Any]) -> None:
    """Write the quotes file atomically (a keeper reading it mid-write would see half a file): to a temporary
    file beside it, then renamed over it (a new modification time: the keeper refits)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n")
    os.replace(tmp, path)
