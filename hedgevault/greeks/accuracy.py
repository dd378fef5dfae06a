"""Error of the fixed-point library (through its bit-identical mirror) against the mpmath reference.

Each output's error is measured in wei (1e-18) and scaled by the output's natural size, so that one
number per output states the accuracy over the whole domain:

=============  ==========================================  ===========================
output         scale (natural units)                       documented bound (wei)
=============  ==========================================  ===========================
call, put      max(S, K e^{-rT})                           2 + 1e-17 x scale
deltas         1                                           2 + 1e-17 x scale
gamma          1 / (S sigma sqrt T)                        2 + 1e-17 x scale
vega           S sqrt T                                    2 + 1e-17 x scale
thetas         S sigma / (2 sqrt T) + |r| K e^{-rT}        4 + 1e-17 x scale
rhos           K T e^{-rT}                                 2 + T + 1e-17 x scale
=============  ==========================================  ===========================

The wei terms are the output quantum: each output is floored once or twice to the wad grid (theta
three times; rho multiplies a floored K e^{-rT} N(d2) by T in years). The relative part is what
the approximations (ln, exp, N, phi) contribute. ``BOUNDS_REL`` holds the
documented relative parts; the tests assert them and ``bench/bench_accuracy.py`` reports the
measured worst case and where it occurs.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
from mpmath import mpf

from hedgevault.greeks import mirror, reference

WAD = 10**18
QUANTUM_WEI = 2
THETA_QUANTUM_WEI = 4
OUTPUTS = (
    "call",
    "put",
    "call_delta",
    "put_delta",
    "gamma",
    "vega",
    "call_theta",
    "put_theta",
    "call_rho",
    "put_rho",
)
#: Documented bound of (|error in wei| - QUANTUM_WEI) / (scale in wei), per output.
BOUNDS_REL: dict[str, mpf] = {name: mpf("1e-17") for name in OUTPUTS}


@dataclass(frozen=True)
class OutputError:
    """One output's error: absolute (natural units), relative to the value, and scaled (see above)."""

    abs_err: mpf
    rel_err: mpf
    scaled: mpf  # (|err| in wei - quantum) / scale in wei; <= BOUNDS_REL[name] when within bound


def quantum_wei(name: str, time_sec: int) -> int:
    """The output quantum of one output (wei), see the table above."""
    if name.endswith("theta"):
        return THETA_QUANTUM_WEI
    if name.endswith("rho"):
        return QUANTUM_WEI + -(-time_sec // mirror.YEAR_SECONDS)
    return QUANTUM_WEI


def scales(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> dict[str, mpf]:
    """The natural size of each output (natural units) for one input with time > 0."""
    with mpmath.workdps(40):
        s = mpf(spot_wad) / WAD
        k = mpf(strike_wad) / WAD
        tau = mpf(time_sec) / mirror.YEAR_SECONDS
        sigma = mpf(vol_wad) / WAD
        r = mpf(rate_wad) / WAD
        kd = k * mpmath.exp(-r * tau)
        price = max(s, kd)
        theta = s * sigma / (2 * mpmath.sqrt(tau)) + abs(r) * kd
        return {
            "call": price,
            "put": price,
            "call_delta": mpf(1),
            "put_delta": mpf(1),
            "gamma": 1 / (s * sigma * mpmath.sqrt(tau)),
            "vega": s * mpmath.sqrt(tau),
            "call_theta": theta,
            "put_theta": theta,
            "call_rho": kd * tau,
            "put_rho": kd * tau,
        }


def greeks_errors(spot_wad: int, strike_wad: int, time_sec: int, vol_wad: int, rate_wad: int) -> dict[str, OutputError]:
    """Errors of every output of ``mirror.greeks`` (= the on-chain library) for one valid input."""
    got = mirror.greeks(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)._asdict()
    ref = reference.greeks(spot_wad, strike_wad, time_sec, vol_wad, rate_wad)
    size = scales(spot_wad, strike_wad, time_sec, vol_wad, rate_wad) if time_sec > 0 else None
    out: dict[str, OutputError] = {}
    with mpmath.workdps(60):
        for name in OUTPUTS:
            exact = getattr(ref, name)
            err_wei = abs(mpf(got[name]) - exact * WAD)
            abs_err = err_wei / WAD
            rel = abs_err / abs(exact) if exact != 0 else (mpf(0) if err_wei == 0 else mpmath.inf)
            scale_wei = size[name] * WAD if size is not None else mpf(WAD)
            out[name] = OutputError(abs_err, rel, (err_wei - quantum_wei(name, time_sec)) / scale_wei)
    return out
