"""Exceptions of the surface mirror, one per Solidity custom error of ``interfaces/ISviMath.sol`` (same name,
same arguments; ``revert_data()`` gives the exact bytes the library reverts with), and :class:`SurfaceFitError`
for the keeper-side fit (no Solidity counterpart)."""

from __future__ import annotations

from hedgevault.errors import ContractError, HedgevaultError


class SviError(ContractError):
    """A slice, grid or input the library rejects; mirrors a Solidity custom error."""


class SviBNegative(SviError):
    SIGNATURE = "SviBNegative(int256)"
    FIELDS = ("bWad",)
    HINT = "b must be >= 0 (the wings' slope)"


class SviRhoOutOfRange(SviError):
    SIGNATURE = "SviRhoOutOfRange(int256)"
    FIELDS = ("rhoWad",)
    HINT = "rho must be strictly within (-1, 1)"


class SviSigmaNotPositive(SviError):
    SIGNATURE = "SviSigmaNotPositive(int256)"
    FIELDS = ("sigmaWad",)
    HINT = "sigma must be > 0"


class SviParamOutOfDomain(SviError):
    SIGNATURE = "SviParamOutOfDomain(bytes32,int256,int256,int256)"
    FIELDS = ("name", "value", "min", "max")
    HINT = "keep |a| <= 100, b <= 10, |m| <= 5 and sigma in [1e-9, 5] (the library's exact domain)"


class SviLeeBoundExceeded(SviError):
    SIGNATURE = "SviLeeBoundExceeded(int256,int256,int256)"
    FIELDS = ("bWad", "rhoWad", "slopeWad")
    HINT = "a wing is steeper than Lee's bound b (1 + |rho|) <= 2: lower b or |rho|"


class SviMinVarianceNegative(SviError):
    SIGNATURE = "SviMinVarianceNegative(int256)"
    FIELDS = ("minVariance36",)
    HINT = "a + b sigma sqrt(1 - rho^2) must be >= 0: raise a"


class SviGridInvalid(SviError):
    SIGNATURE = "SviGridInvalid(int256,int256,uint256)"
    FIELDS = ("kLoWad", "kHiWad", "points")
    HINT = "the grid needs 2..64 points over kLo < kHi within |k| <= 5"


class SviVarianceNotPositive(SviError):
    SIGNATURE = "SviVarianceNotPositive(int256,int256)"
    FIELDS = ("kWad", "variance36")
    HINT = "the total variance must be positive at every strike: raise a"


class SviButterflyArbitrage(SviError):
    SIGNATURE = "SviButterflyArbitrage(int256,int256)"
    FIELDS = ("kWad", "gWad")
    HINT = "Gatheral's g(k) < 0 there (a free butterfly): refit with the density constraint"


class SviCalendarArbitrage(SviError):
    SIGNATURE = "SviCalendarArbitrage(int256,int256,int256)"
    FIELDS = ("kWad", "nearerVariance36", "fartherVariance36")
    HINT = "total variance must not decrease with expiry at any k: refit against the neighbouring slices"


class SviVolStepExceeded(SviError):
    SIGNATURE = "SviVolStepExceeded(uint256,uint256,uint256,uint256)"
    FIELDS = ("strikeIndex", "previousVolWad", "newVolWad", "maxStepWad")
    HINT = "move each listed strike's volatility by at most the step: post a slice between the two, or wait"


class SviMoneynessOutOfRange(SviError):
    SIGNATURE = "SviMoneynessOutOfRange(uint256,uint256)"
    FIELDS = ("strikeWad", "forwardWad")
    HINT = "strike and forward must be in [1e-6, 1e12] with strike / forward in [0.01, 100]"


class SviTimeOutOfRange(SviError):
    SIGNATURE = "SviTimeOutOfRange(uint256)"
    FIELDS = ("timeSec",)
    HINT = "time to expiry must be within [1 s, 10 years]"


class SviFlatVolOutOfRange(SviError):
    SIGNATURE = "SviFlatVolOutOfRange(uint256)"
    FIELDS = ("volWad",)
    HINT = "a flat slice's volatility must be in (0, 10]"


class VolSliceOffGrid(SviError):
    """``IVolatilityOracle.VolSliceOffGrid``: the oracle's own rule (not SviMath's), beside the library's errors since
    the keeper's check mirror raises it with theirs (``hedgevault.surface.oracle_rules.check_on_grid``)."""

    SIGNATURE = "VolSliceOffGrid(bytes32,int256,int256)"
    FIELDS = ("name", "value", "unit")
    HINT = "a smile's parameter is off the oracle's storage grid (a in steps of 1e-18; b, rho, m, sigma of 1e-9)"


ALL_ERRORS: tuple[type[SviError], ...] = (
    SviBNegative,
    SviRhoOutOfRange,
    SviSigmaNotPositive,
    SviParamOutOfDomain,
    SviLeeBoundExceeded,
    SviMinVarianceNegative,
    SviGridInvalid,
    SviVarianceNotPositive,
    SviButterflyArbitrage,
    SviCalendarArbitrage,
    SviVolStepExceeded,
    SviMoneynessOutOfRange,
    SviTimeOutOfRange,
    SviFlatVolOutOfRange,
    VolSliceOffGrid,
)


class SurfaceFitError(HedgevaultError):
    """The keeper-side fit found no slice to post (bad quotes, or no fit the checks accept)."""
