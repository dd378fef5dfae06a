"""The keeper's fit of one raw SVI slice per expiry from market quotes, checked by the bit-exact mirror before it is
returned.

Pipeline (per expiry, nearest first):
1. quotes -> implied vols: bid/ask prices are inverted at their mid with the project's own implied-volatility
   function (:func:`hedgevault.greeks.mirror.implied_vol`, the on-chain solver's mirror, in wad); quotes given as
   implied vols are used at their mid. A quote the solver refuses (price outside its no-arbitrage bounds, ill
   conditioned) is dropped and logged.
2. the fit, Zeliade's quasi-explicit method (Zeliade Systems, "Quasi-explicit calibration of Gatheral's SVI model",
   2009): with y = (k - m) / sigma, w = a + d y + c sqrt(y^2 + 1), c = b sigma, d = rho b sigma. For fixed
   (m, sigma) the inner problem in (a, d, c) is a linear least squares; in u = c + d, v = c - d its constraints are
   a box: c >= |d| (|rho| <= 1) is u, v >= 0, Lee's b (1 + |rho|) <= 2 is u, v <= 2 sigma, and 0 <= a <= max w keeps
   the minimum variance a + b sigma sqrt(1 - rho^2) >= 0 (Zeliade's domain; a < 0 slices are not searched). So it
   is a bounded-variable least squares (scipy's ``lsq_linear``), exact. The outer problem over (m, sigma) is
   Nelder-Mead from a few starts, its objective the inner residual plus penalties for Gatheral's g < 0 on the check
   grid and for total variance below the nearer expiry's (calendar), so the optimum is sought among arbitrage-free
   slices.
3. quantise to the on-chain units (``ISviMath``), each rounding toward the safe side: a up, b down, |rho| toward 0;
   then the mirror's checks (parameters, butterfly on the grid, calendar against the nearer slice, and the rate
   limit against the previous slice when one is given). If the quantised slice fails the butterfly or calendar check,
   the wings are flattened step by step (b x 0.9^n with a re-set to keep the at-the-money variance; a flat slice
   is always free of butterfly arbitrage) until the mirror accepts; if nothing passes, or the quotes are unusable,
   the last good slice is returned with the logged reason.

The fit never returns a slice the mirror rejects (``FitResult.slice`` always passed ``mirror`` checks, or is the
caller's last good slice, returned unchanged).
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import lsq_linear, minimize

from hedgevault.greeks import mirror as greeks_mirror
from hedgevault.greeks.errors import GreeksError
from hedgevault.surface import mirror
from hedgevault.surface.errors import SurfaceFitError, SviError
from hedgevault.surface.mirror import WAD, Grid, Slice
from hedgevault.surface.oracle_rules import A_UNIT_36, NANO_WAD

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
YEAR_SEC = mirror.YEAR_SEC
#: Grid points of the on-chain checks the fit is made for (over the quoted strikes' range).
DEFAULT_GRID_POINTS = 24
_PENALTY = 1e4
_MAX_REPAIRS = 60


@dataclass(frozen=True)
class Quote:
    """One market quote: strike (quote units per underlying), expiry (unix s), and either bid/ask prices of a
    call or put (``kind`` "call" / "put", quote units) or bid/ask implied vols (``kind`` "iv", annual, 0.6 = 60%)."""

    strike: float
    expiry: int
    bid: float
    ask: float
    kind: str


@dataclass(frozen=True)
class MarketSnapshot:
    """Quotes with the spot, the continuously compounded rate and the time they were taken (unix s)."""

    spot: float
    rate: float
    now: int
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class SmilePoints:
    """One expiry's market smile: log-moneyness k = ln(K / F), implied vols, weights, the strikes (wad)."""

    expiry: int
    time_sec: int
    forward_wad: int
    k: F64
    vol: F64
    weight: F64
    strikes_wad: tuple[int, ...]

    @property
    def t_years(self) -> float:
        return self.time_sec / YEAR_SEC

    @property
    def total_variance(self) -> F64:
        return np.asarray(self.vol**2 * self.t_years, dtype=np.float64)


@dataclass
class FitResult:
    """The slice for one expiry and how it was found. ``fitted`` is False when ``slice`` is the caller's last good
    slice (``reason`` says why); ``repaired`` counts the wing-flattening steps the checks needed."""

    expiry: int
    slice: Slice | None
    fitted: bool
    reason: str = ""
    params: tuple[float, float, float, float, float] | None = None
    rmse_vol_points: float | None = None
    repaired: int = 0
    dropped_quotes: list[str] = field(default_factory=list)
    #: The fitted slice the rate limit refused (``slice`` is then the last good one): what the keeper walks toward
    #: (``hedgevault.surface.walk``). None otherwise.
    refused: Slice | None = None


# ----------------------------------------------------------------------------- quotes


def load_quotes(
    path: str | Path, *, spot: float | None = None, rate: float = 0.0, now: int | None = None
) -> MarketSnapshot:
    """A snapshot from a JSON file ({"spot", "rate", "now", "quotes": [{strike, expiry, bid, ask, kind}]}) or a CSV
    (columns strike, expiry, bid, ask, kind; spot / rate / now given as arguments)."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".json":
            doc = json.loads(p.read_text())
            rows = doc["quotes"]
            spot = float(doc.get("spot", spot))
            rate = float(doc.get("rate", rate))
            now = int(doc.get("now", now))
        else:
            with p.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
        quotes = tuple(
            Quote(float(r["strike"]), int(r["expiry"]), float(r["bid"]), float(r["ask"]), str(r["kind"]).lower())
            for r in rows
        )
    except (OSError, KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
        raise SurfaceFitError(
            f"cannot read quotes from {p}: {exc!r}; expected JSON {{spot, rate, now, quotes: [...]}} or a CSV with "
            "columns strike, expiry, bid, ask, kind (call, put or iv)"
        ) from exc
    if spot is None or now is None:
        raise SurfaceFitError(f"{p}: the spot and the quote time (now) are needed: pass them or put them in the JSON")
    return MarketSnapshot(spot=spot, rate=rate, now=now, quotes=quotes)


def _wad(x: float) -> int:
    return round(x * WAD)


def smile_points(snapshot: MarketSnapshot) -> tuple[list[SmilePoints], list[str]]:
    """Each expiry's implied vols (nearest expiry first) and the quotes dropped, with reasons."""
    by_expiry: dict[int, list[Quote]] = {}
    for q in snapshot.quotes:
        by_expiry.setdefault(q.expiry, []).append(q)
    out: list[SmilePoints] = []
    dropped: list[str] = []
    spot_wad = _wad(snapshot.spot)
    rate_wad = _wad(snapshot.rate)
    for expiry in sorted(by_expiry):
        time_sec = expiry - snapshot.now
        if time_sec <= 0:
            dropped.append(f"expiry {expiry}: already passed")
            continue
        t = time_sec / YEAR_SEC
        forward = snapshot.spot * math.exp(snapshot.rate * t)
        ks, vols, weights, strikes = [], [], [], []
        for q in by_expiry[expiry]:
            if not (q.bid > 0 and q.ask >= q.bid):
                dropped.append(f"{q}: bid must be > 0 and ask >= bid")
                continue
            mid = (q.bid + q.ask) / 2
            strike_wad = _wad(q.strike)
            if q.kind == "iv":
                vol = mid
                weight = 1.0 / max(q.ask - q.bid, 0.002) ** 2
            elif q.kind in ("call", "put"):
                try:
                    vol = (
                        greeks_mirror.implied_vol(_wad(mid), spot_wad, strike_wad, time_sec, rate_wad, q.kind == "call")
                        / WAD
                    )
                except GreeksError as exc:
                    dropped.append(f"{q}: {exc}")
                    continue
                weight = 1.0
            else:
                dropped.append(f"{q}: kind must be call, put or iv")
                continue
            ks.append(math.log(q.strike / forward))
            vols.append(vol)
            weights.append(weight)
            strikes.append(strike_wad)
        if len(ks) < 5:
            dropped.append(f"expiry {expiry}: {len(ks)} usable quotes, at least 5 are needed for five parameters")
            continue
        order = np.argsort(ks)
        out.append(
            SmilePoints(
                expiry=expiry,
                time_sec=time_sec,
                forward_wad=_wad(forward),
                k=np.asarray(ks, dtype=np.float64)[order],
                vol=np.asarray(vols, dtype=np.float64)[order],
                weight=np.asarray(weights, dtype=np.float64)[order] / max(weights),
                strikes_wad=tuple(strikes[i] for i in order),
            )
        )
    for reason in dropped:
        log.info("quote dropped: %s", reason)
    return out, dropped


# ----------------------------------------------------------------------------- the fit (floats)


def svi_w(params: Sequence[float], k: F64) -> F64:
    a, b, rho, m, sig = params
    d = k - m
    return np.asarray(a + b * (rho * d + np.sqrt(d * d + sig * sig)), dtype=np.float64)


def gatheral_g(params: Sequence[float], k: F64) -> F64:
    """g(k) = (1 - k w' / (2 w))^2 - w'^2 / 4 (1 / w + 1 / 4) + w'' / 2 (float)."""
    a, b, rho, m, sig = params
    d = k - m
    r = np.sqrt(d * d + sig * sig)
    w = a + b * (rho * d + r)
    w1 = b * (rho + d / r)
    w2 = b * sig * sig / r**3
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1 - k * w1 / (2 * w)) ** 2 - w1 * w1 / 4 * (1 / w + 0.25) + w2 / 2
    return np.asarray(np.where(w > 0, g, -1.0), dtype=np.float64)


def _inner(k: F64, w: F64, sw: F64, m: float, sig: float) -> tuple[tuple[float, float, float, float, float], float]:
    """Zeliade's inner problem for fixed (m, sigma): bounded least squares in (a, u, v); returns the raw parameters and
    the weighted residual sum of squares."""
    y = (k - m) / sig
    z = np.sqrt(y * y + 1)
    design = np.column_stack([np.ones_like(y), (z + y) / 2, (z - y) / 2]) * sw[:, None]
    upper = [max(float(w.max()), 1e-12), 2 * sig, 2 * sig]
    sol = lsq_linear(design, w * sw, bounds=([0.0, 0.0, 0.0], upper), method="bvls")
    a, u, v = (float(x) for x in sol.x)
    c, d = (u + v) / 2, (u - v) / 2
    b = c / sig
    rho = d / c if c > 0 else 0.0
    return (a, b, rho, m, sig), float(np.sum((design @ sol.x - w * sw) ** 2))


def _penalty(params: Sequence[float], grid_k: F64, nearer: Slice | None) -> float:
    g = gatheral_g(params, grid_k)
    pen = float(np.sum(np.minimum(g, 0.0) ** 2))
    if nearer is not None:
        gap = svi_w(params, grid_k) - svi_w(nearer.to_floats(), grid_k)
        pen += float(np.sum(np.minimum(gap, 0.0) ** 2)) * 1e4
    return pen


def fit_raw(
    pts: SmilePoints, grid_k: F64, nearer: Slice | None = None
) -> tuple[tuple[float, float, float, float, float], float]:
    """The float slice minimising the weighted total-variance residual with the arbitrage penalties, and that
    residual's RMSE in total variance."""
    w = pts.total_variance
    sw = np.sqrt(pts.weight)
    scale = float(np.mean(w)) ** 2 + 1e-30

    def objective(x: F64) -> float:
        m, log_sig = float(x[0]), float(x[1])
        params, sse = _inner(pts.k, w, sw, m, math.exp(log_sig))
        return sse / scale + _PENALTY * _penalty(params, grid_k, nearer)

    k_lo, k_hi = float(pts.k.min()), float(pts.k.max())
    best: tuple[float, F64] | None = None
    for m0 in (float(pts.k[np.argmin(w)]), 0.0, (k_lo + k_hi) / 2):
        for sig0 in (0.05, 0.2, 0.6):
            res = minimize(
                objective,
                np.array([m0, math.log(sig0)]),
                method="Nelder-Mead",
                bounds=[(k_lo - 1.0, k_hi + 1.0), (math.log(1e-3), math.log(3.0))],
                options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 600},
            )
            if best is None or res.fun < best[0]:
                best = (float(res.fun), np.asarray(res.x, dtype=np.float64))
    assert best is not None
    params, sse = _inner(pts.k, w, sw, float(best[1][0]), math.exp(float(best[1][1])))
    return params, math.sqrt(sse / max(float(np.sum(sw * sw)), 1e-30))


# ----------------------------------------------------------------------------- quantise and check


def quantise(params: Sequence[float]) -> Slice:
    """On-chain units on the oracle's storage grid (``oracle_rules.A_UNIT_36``, ``NANO_WAD``: a in steps of 1e-18,
    the others of 1e-9), each rounded from the float's exact value toward the safe side: a up, b down, |rho| toward 0
    (below 1), m and sigma to the nearest (sigma at least one step)."""
    a, b, rho, m, sig = (Fraction(x) for x in params)
    rho_nano = max(-(10**9) + 1, min(10**9 - 1, math.trunc(rho * 10**9)))
    return Slice(
        a36=math.ceil(a * 10**18) * A_UNIT_36,
        b_wad=max(0, math.floor(b * 10**9)) * NANO_WAD,
        rho_wad=rho_nano * NANO_WAD,
        m_wad=round(m * 10**9) * NANO_WAD,
        sigma_wad=max(1, round(sig * 10**9)) * NANO_WAD,
    )


def fit_with_shape(k: F64, w: F64, shape: Slice) -> Slice:
    """The slice of ``shape``'s m and sigma nearest to the total variances ``w`` at log-moneyness ``k`` (Zeliade's
    inner problem alone: a bounded linear least squares in a, b, b rho, equal weights), quantised as :func:`quantise`
    with m and sigma kept to the wei. Unchecked: the caller's rules decide. With m and sigma shared, a blend of this
    slice and ``shape`` in (a, b, b rho) has at every k the same blend of their total variances
    (``hedgevault.surface.walk.blend_shape``)."""
    m, sig = shape.m_wad / WAD, shape.sigma_wad / WAD
    params, _ = _inner(k, w, np.ones_like(k), m, sig)
    q = quantise(params)
    return Slice(q.a36, q.b_wad, q.rho_wad, shape.m_wad, shape.sigma_wad)


def _checks(s: Slice, grid: Grid, nearer: Slice | None) -> None:
    mirror.check_params(s)
    mirror.check_arbitrage(s, grid, nearer, None)


def _flattened(s: Slice, factor: float, k_atm: int) -> Slice:
    """b scaled by ``factor`` (down) and a re-set (up) so the variance at k_atm is not lower than before, both on
    the storage grid (b down to a step of 1e-9, the lift up to one of 1e-18)."""
    b = int(s.b_wad * factor) // NANO_WAD * NANO_WAD
    base = Slice(s.a36, b, s.rho_wad, s.m_wad, s.sigma_wad)
    lift = max(mirror.variance_down(s, k_atm) - mirror.variance_down(base, k_atm), 0)
    return Slice(s.a36 - (-lift // A_UNIT_36) * A_UNIT_36, b, s.rho_wad, s.m_wad, s.sigma_wad)


def fit_expiry(
    pts: SmilePoints,
    *,
    nearer: Slice | None = None,
    last_good: Slice | None = None,
    previous: tuple[Slice, int] | None = None,
    max_step_wad: int | None = None,
    grid_points: int = DEFAULT_GRID_POINTS,
) -> FitResult:
    """One expiry's slice. ``nearer``: the nearer expiry's accepted slice (calendar); ``last_good``: returned with a
    logged reason when no fit passes; ``previous`` = (slice, its time to expiry at its post) and ``max_step_wad``:
    the rate limit at the quoted strikes."""
    grid = mirror.grid_for_strikes(pts.strikes_wad, pts.forward_wad, grid_points)
    grid_k = np.asarray(grid.ks(), dtype=np.float64) / WAD

    def fallback(reason: str) -> FitResult:
        log.warning("expiry %d: %s; keeping the last good slice", pts.expiry, reason)
        return FitResult(pts.expiry, last_good, False, reason)

    try:
        params, _ = fit_raw(pts, grid_k, nearer)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return fallback(f"the optimiser failed: {exc!r}")
    s = quantise(params)
    k_atm = min(max(0, grid.k_lo_wad), grid.k_hi_wad)
    repaired = 0
    while True:
        try:
            _checks(s, grid, nearer)
            break
        except SviError as exc:
            if repaired >= _MAX_REPAIRS:
                return fallback(f"no slice passed the checks: {exc}")
            if s.b_wad == 0:
                return fallback(f"even the flat slice fails the checks: {exc}")
            repaired += 1
            s = _flattened(s, 0.9, k_atm) if repaired < _MAX_REPAIRS else _flattened(s, 0.0, k_atm)
    if previous is not None and max_step_wad is not None:
        try:
            mirror.check_rate_limit(
                previous[0], previous[1], s, pts.time_sec, pts.strikes_wad, pts.forward_wad, max_step_wad
            )
        except SviError as exc:
            # not a warning here: the keeper may walk toward the refused fit (hedgevault.surface.walk), and says so
            reason = f"the fit moves too far for the rate limit: {exc}"
            log.info("expiry %d: %s", pts.expiry, reason)
            return FitResult(pts.expiry, last_good, False, reason, refused=s)
    fitted = np.array(
        [mirror.vol_wad(s, k, pts.forward_wad, pts.time_sec) / WAD for k in pts.strikes_wad], dtype=np.float64
    )
    rmse = float(np.sqrt(np.mean((fitted - pts.vol) ** 2))) * 100
    if repaired:
        log.info("expiry %d: the wings were flattened %d times to pass the checks", pts.expiry, repaired)
    return FitResult(pts.expiry, s, True, "", tuple(params), rmse, repaired)  # type: ignore[arg-type]


def fit_surface(
    snapshot: MarketSnapshot,
    *,
    last_good: Mapping[int, Slice] | None = None,
    grid_points: int = DEFAULT_GRID_POINTS,
) -> dict[int, FitResult]:
    """A slice per quoted expiry, nearest first, each checked against the nearer accepted one."""
    points, dropped = smile_points(snapshot)
    good = dict(last_good or {})
    out: dict[int, FitResult] = {}
    nearer: Slice | None = None
    for pts in points:
        res = fit_expiry(pts, nearer=nearer, last_good=good.get(pts.expiry), grid_points=grid_points)
        res.dropped_quotes = [d for d in dropped if str(pts.expiry) in d]
        out[pts.expiry] = res
        if res.slice is not None:
            nearer = res.slice
    for expiry, s in good.items():
        if expiry not in out and expiry > snapshot.now:
            out[expiry] = FitResult(expiry, s, False, "no usable quotes for this expiry")
            log.warning("expiry %d: no usable quotes; keeping the last good slice", expiry)
    if not out:
        raise SurfaceFitError("no expiry could be fitted and there is no last good slice: " + "; ".join(dropped))
    return out
