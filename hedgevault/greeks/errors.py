"""Exceptions of the Greeks mirror, one per Solidity custom error of the same name.

Each carries the same arguments as the revert, and ``revert_data()`` gives the exact bytes the
contract reverts with (4-byte selector + ABI-encoded arguments), so tests compare them byte for byte.
The Solidity errors are declared in ``interfaces/IBlackScholes.sol``.
"""

from __future__ import annotations

from hedgevault.errors import ContractError


class GreeksError(ContractError):
    """An input the library rejects; mirrors a Solidity custom error."""


class SpotOutOfRange(GreeksError):
    SIGNATURE = "SpotOutOfRange(uint256)"
    FIELDS = ("spotWad",)
    HINT = "spot must be within [1e-6, 1e12] (1e12..1e30 in wad units)"


class StrikeOutOfRange(GreeksError):
    SIGNATURE = "StrikeOutOfRange(uint256)"
    FIELDS = ("strikeWad",)
    HINT = "strike must be within [1e-6, 1e12] (1e12..1e30 in wad units)"


class MoneynessOutOfRange(GreeksError):
    SIGNATURE = "MoneynessOutOfRange(uint256,uint256)"
    FIELDS = ("spotWad", "strikeWad")
    HINT = "strike / spot must be within [0.01, 100]"


class VolatilityOutOfRange(GreeksError):
    SIGNATURE = "VolatilityOutOfRange(uint256)"
    FIELDS = ("volWad",)
    HINT = "volatility must be within [0.001, 10] (1e15..1e19 in wad units)"


class TimeOutOfRange(GreeksError):
    SIGNATURE = "TimeOutOfRange(uint256)"
    FIELDS = ("timeSec",)
    HINT = "time to expiry must be within [0, 10 years] in seconds (implied volatility needs >= 1 s)"


class RateOutOfRange(GreeksError):
    SIGNATURE = "RateOutOfRange(int256)"
    FIELDS = ("rateWad",)
    HINT = "rate must be within [-1, 1] (-1e18..1e18 in wad units)"


class PriceOutOfBounds(GreeksError):
    SIGNATURE = "PriceOutOfBounds(uint256,uint256,uint256)"
    FIELDS = ("priceWad", "lowerWad", "upperWad")
    HINT = (
        "no volatility fits: the price must lie strictly between the no-arbitrage bounds "
        "(lower = discounted intrinsic value, upper = spot for calls, discounted strike for puts)"
    )


class VolatilityNotInDomain(GreeksError):
    SIGNATURE = "VolatilityNotInDomain(uint256,uint256)"
    FIELDS = ("priceWad", "boundVolWad")
    HINT = "the volatility that fits this price lies outside [0.001, 10]"


class ImpliedVolIllConditioned(GreeksError):
    SIGNATURE = "ImpliedVolIllConditioned(uint256,uint256)"
    FIELDS = ("priceWad", "vegaWad")
    HINT = (
        "the time value is too small for the volatility to be known within 1e-12; "
        "quote a price with more time value (nearer the money or longer expiry)"
    )


class ImpliedVolNotConverged(GreeksError):
    SIGNATURE = "ImpliedVolNotConverged(uint256,uint256)"
    FIELDS = ("priceWad", "lastVolWad")
    HINT = "the solver did not converge within its iteration limit"


ALL_ERRORS: tuple[type[GreeksError], ...] = (
    SpotOutOfRange,
    StrikeOutOfRange,
    MoneynessOutOfRange,
    VolatilityOutOfRange,
    TimeOutOfRange,
    RateOutOfRange,
    PriceOutOfBounds,
    VolatilityNotInDomain,
    ImpliedVolIllConditioned,
    ImpliedVolNotConverged,
)


def decode_revert(data: bytes) -> GreeksError | None:
    """The mirror exception equal to a revert's bytes, or None if it is not one of the library's errors."""
    from eth_abi.abi import decode

    for cls in ALL_ERRORS:
        if data[:4] == cls.selector():
            types = cls.SIGNATURE[cls.SIGNATURE.index("(") + 1 : -1].split(",")
            return cls(*decode(types, data[4:]))
    return None
