"""Exact conversions between decimal text and fixed-point integers (no floats on the way)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

from hedgevault.errors import HedgevaultError

WAD = 10**18
DAY_SECONDS = 86_400


class InputError(HedgevaultError):
    """A value given by the user cannot be used as it is."""


def to_units(text: str, decimals: int, name: str) -> int:
    """'1.5' with 6 decimals -> 1500000. Rejects anything finer than one unit."""
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise InputError(f"{name}: {text!r} is not a number (write it like 3000 or 0.25)") from exc
    if not value.is_finite():
        raise InputError(f"{name}: {text!r} is not a finite number")
    with localcontext() as ctx:  # exact: the default 28 digits would round 0.0426...336 (36 decimals) silently
        ctx.prec = max(ctx.prec, len(value.as_tuple().digits) + decimals + 2)
        try:
            scaled = value.scaleb(decimals)
        except ArithmeticError:  # decimal.Overflow: 1e999999
            raise InputError(f"{name}: {text!r} is out of range") from None
    if scaled != scaled.to_integral_value():
        raise InputError(f"{name}: {text!r} has more than {decimals} decimals")
    return int(scaled)


def from_units(value: int, decimals: int, places: int | None = None) -> str:
    """1500000 with 6 decimals -> '1.5' (exact unless ``places`` cuts it; trailing zeros dropped)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    text = f"{frac:0{decimals}d}"[: decimals if places is None else places].rstrip("0") if decimals else ""
    return f"{sign}{whole}" + (f".{text}" if text else "")


def to_wad(text: str, name: str) -> int:
    """'0.2' -> 200000000000000000. Rejects anything with more than 18 decimals."""
    return to_units(text, 18, name)


def from_wad(value: int, places: int = 18) -> str:
    """200000000000000000 -> '0.2' (exact, trailing zeros dropped)."""
    return from_units(value, 18, places)


def to_seconds(text: str, name: str) -> int:
    """'30d' -> 2592000, '3600' or '3600s' -> 3600, '0.5y' -> 15768000 (a year is 365 days)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY_SECONDS, "y": 365 * DAY_SECONDS}
    unit = text[-1] if text and text[-1] in units else "s"
    number = text[:-1] if text and text[-1] in units else text
    try:
        seconds = Decimal(number) * units[unit]
    except InvalidOperation as exc:
        raise InputError(f"{name}: {text!r} is not a duration (write 3600, 3600s, 45m, 12h, 30d or 0.5y)") from exc
    if seconds != seconds.to_integral_value() or seconds < 0:
        raise InputError(f"{name}: {text!r} is not a whole, non-negative number of seconds")
    return int(seconds)
