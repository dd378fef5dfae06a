"""`hedgevault greeks --svi a,b,rho,m,sigma`: the option's volatility from a raw SVI slice, through the bit-exact
mirror of ``SviMath`` (``hedgevault.surface.mirror``) and, with ``--onchain``, through the compiled library
(``SviHarness``).

The slice is the expiry's total implied variance w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)) at
log-moneyness k = ln(K / F); the vol is floor(sqrt(floor(w x year / T))) in wad, T the time the variance is over
(the option's time to expiry unless ``--svi-time`` says otherwise: the oracle's slice is over T0, its time to expiry
at the post, shown by `hedgevault surface`). Parameters are read exactly: a in 1e36 units (36 decimals at most),
the others in wad (18). The slice must pass ``SviMath.checkParams`` (the library evaluates only checked slices).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hedgevault.errors import ContractError
from hedgevault.units import InputError, from_units, from_wad, to_units

if TYPE_CHECKING:
    from web3 import Web3

    from hedgevault.surface.mirror import Slice

_NAMES = ("a", "b", "rho", "m", "sigma")


def parse_svi(text: str, flag: str = "--svi") -> Slice:
    """``a,b,rho,m,sigma`` (plain decimals; a in total variance) -> the slice in the library's units."""
    from hedgevault.surface.mirror import Slice

    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(_NAMES):
        raise InputError(
            f"{flag} {text!r}: give five numbers a,b,rho,m,sigma (total variance; e.g. 0.0426,0.1,-0.5,0,0.1)"
        )
    a36 = to_units(parts[0], 36, f"{flag} a")
    b, rho, m, sigma = (to_units(p, 18, f"{flag} {name}") for p, name in zip(parts[1:], _NAMES[1:], strict=True))
    return Slice(a36, b, rho, m, sigma)


def _user_units(exc: ContractError) -> str:
    """The mirror's refusal with its figures as the user typed them (``rho=1.2``, not ``rhoWad=12e17``)."""
    from hedgevault.surface.errors import SviParamOutOfDomain

    if isinstance(exc, SviParamOutOfDomain):  # (bytes32 name, value, min, max) in that parameter's units
        raw_name, *figures = exc.values
        field = bytes(raw_name).rstrip(bytes(1)).decode(errors="replace")
        decimals = 36 if field.endswith("36") else 18
        shown_value, low, high = (from_units(int(x), decimals) for x in figures)
        name = field.removesuffix("36").removesuffix("Wad")
        return f"{type(exc).__name__}({name}={shown_value}, min={low}, max={high}): {exc.HINT}"
    shown = []
    for name, value in zip(exc.FIELDS, exc.values, strict=True):
        if name.endswith("Wad") and isinstance(value, int):
            shown.append(f"{name.removesuffix('Wad')}={from_wad(value)}")
        elif name.endswith("36") and isinstance(value, int):
            shown.append(f"{name.removesuffix('36')}={from_units(value, 36)}")
        else:
            shown.append(f"{name}={value!r}")
    return f"{type(exc).__name__}({', '.join(shown)}): {exc.HINT}"


def slice_vol_wad(s: Slice, strike_wad: int, forward_wad: int, time_sec: int) -> int:
    """``SviMath.checkParams`` then ``SviMath.volWad`` in the mirror; a refusal is an ``InputError`` in user units."""
    from hedgevault.surface import mirror

    try:
        mirror.check_params(s)
        return mirror.vol_wad(s, strike_wad, forward_wad, time_sec)
    except ContractError as exc:
        raise InputError(f"--svi: {_user_units(exc)}") from None


def onchain_slice_vol(w3: Web3, s: Slice, strike_wad: int, forward_wad: int, time_sec: int) -> int | bytes:
    """The same through the compiled library on ``w3`` (``SviHarness``, deployed here): the vol, or the revert
    data of ``checkParams`` / ``volWad``."""
    from hedgevault.surface.onchain import SviHarness

    harness = SviHarness.deploy(w3)
    refused = harness.check_params([s])[0]
    if refused:
        return refused
    return harness.vol([(s, strike_wad, forward_wad, time_sec)])[0]
