"""Merton's jump-diffusion (1976): European prices as a Poisson-weighted series of Black-Scholes prices.

Log-normal jumps J with ln J ~ N(mu_j, delta_j^2) arriving at rate lam; kappa = E[J] - 1 = e^{mu_j + delta_j^2 / 2} - 1.
With lam' = lam (1 + kappa), the call is

    C = sum_{n >= 0} e^{-lam' T} (lam' T)^n / n! * C_BS(S, K, T, r_n, sigma_n),
    sigma_n^2 = sigma^2 + n delta_j^2 / T,   r_n = r - lam kappa + n ln(1 + kappa) / T,

(Hull, Options, Futures and Other Derivatives, ch. 27) and the put follows by parity P = C - S + K e^{-r T}. Negative
mean jumps make the smile skewed like ETH's and BTC's: out-of-the-money puts above at-the-money. The series is summed
until its Poisson weights have covered all but 1e-16 of the mass. Floats (numpy), for the keeper-side fit's tests,
benches and the simulator's skewed market.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class MertonParams:
    """Diffusion vol, jump intensity (per year), mean and standard deviation of the log jump."""

    sigma: float = 0.55
    lam: float = 1.5
    mu_j: float = -0.12
    delta_j: float = 0.15


def bs_call(spot: ArrayLike, strike: ArrayLike, t_years: float, rate: ArrayLike, vol: ArrayLike) -> F64:
    """Black-Scholes call (no dividends), floats."""
    s = np.asarray(spot, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    r = np.asarray(rate, dtype=np.float64)
    v = np.asarray(vol, dtype=np.float64)
    st = v * np.sqrt(t_years)
    d1 = (np.log(s / k) + r * t_years) / st + st / 2
    return np.asarray(s * ndtr(d1) - k * np.exp(-r * t_years) * ndtr(d1 - st), dtype=np.float64)


def merton_prices(
    spot: float, strikes: ArrayLike, t_years: float, rate: float, p: MertonParams = MertonParams()
) -> tuple[F64, F64]:
    """(calls, puts) of the strikes at t_years."""
    k = np.asarray(strikes, dtype=np.float64)
    kappa = np.exp(p.mu_j + p.delta_j**2 / 2) - 1
    lam_t = p.lam * (1 + kappa) * t_years
    call = np.zeros_like(k)
    weight = np.exp(-lam_t)
    covered = 0.0
    n = 0
    while covered < 1 - 1e-16 and n < 200:
        sigma_n = np.sqrt(p.sigma**2 + n * p.delta_j**2 / t_years)
        r_n = rate - p.lam * kappa + n * np.log1p(kappa) / t_years
        call += weight * bs_call(spot, k, t_years, r_n, sigma_n)
        covered += weight
        n += 1
        weight *= lam_t / n
    put = call - spot + k * np.exp(-rate * t_years)
    return call, put
