"""Name the custom error behind a revert, from the project's compiled ABIs (vaults, oracles, library,
OpenZeppelin's errors), so that users and logs read ``HealthFactorTooLow(hfAfter=..., floor=...)``
instead of hex."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from hedgevault.chain.abi import abi_type, signature
from hedgevault.toolchain.compiler import compile_project

#: Solidity's Error(string) and Panic(uint256) selectors.
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


@cache
def error_table() -> dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """selector -> (error name, argument types, argument names) over every compiled contract."""
    table: dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for artifact in compile_project().values():
        for item in artifact.abi:
            if item.get("type") != "error":
                continue
            types = tuple(abi_type(i) for i in item["inputs"])
            names = tuple(str(i.get("name", "")) for i in item["inputs"])
            selector = Web3.keccak(text=signature(item))[:4]
            table[selector] = (str(item["name"]), types, names)
    return table


def _raw(data: str | bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    text = data.removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def decode_error(data: str | bytes) -> tuple[str, tuple[Any, ...]]:
    """Custom-error revert data -> (name, args); ``KeyError`` for a selector no compiled ABI declares."""
    raw = _raw(data)
    name, types, _ = error_table()[raw[:4]]
    values = decode(list(types), raw[4:])
    return name, tuple(Web3.to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))


def _readable(typ: str, value: Any) -> Any:
    """For people: a ``bytes32`` that holds a short ASCII name (``"hfFloorWad"``) as text, other bytes (a
    role, an operation id) as 0x-prefixed hex."""
    if typ == "bytes32" and isinstance(value, bytes):
        text = value.rstrip(b"\0")
        if text and all(32 <= c < 127 for c in text) and b"\0" not in text:
            return text.decode()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


#: Custom-error arguments in quote token units, by error (shown as tokens when the quote's decimals are known).
QUOTE_ARGUMENTS: dict[str, frozenset[str]] = {
    "PremiumAboveMax": frozenset(("premiumWithFee", "maxPremium")),
    "ProceedsBelowMin": frozenset(("proceeds", "minProceeds")),
    "InsufficientLiquidity": frozenset(("needed", "available")),
    "VaultInsolvent": frozenset(("assetsValue", "liabilities")),
}


def _in_user_units(error: str, name: str, typ: str, value: Any, quote_decimals: int | None) -> Any:
    """A uint/int argument as the user typed it: quote amounts as tokens, ``...Wad`` values as decimals."""
    if not isinstance(value, int) or isinstance(value, bool) or not typ.startswith(("uint", "int")):
        return value
    from hedgevault.units import from_units, from_wad

    if quote_decimals is not None and name in QUOTE_ARGUMENTS.get(error, ()):
        return from_units(value, quote_decimals)
    if name.endswith("Wad") and abs(value) < 2**200:
        return from_wad(value)
    return value


def error_name(data: str | bytes) -> str:
    """The name of the error behind revert data: a custom error's name, ``"Error"`` (a string reason),
    ``"Panic"``, ``"empty"`` (no data) or ``"unknown"`` (a selector no compiled ABI declares)."""
    raw = _raw(data)
    if not raw:
        return "empty"
    if raw[:4] == _ERROR_STRING:
        return "Error"
    if raw[:4] == _PANIC:
        return "Panic"
    known = error_table().get(raw[:4])
    return known[0] if known is not None else "unknown"


def error_name_of(exc: BaseException) -> str:
    """``error_name`` of a web3 revert exception's data (``"empty"`` when it carries none)."""
    if isinstance(exc, ContractLogicError) and isinstance(exc.data, (str, bytes)):
        return error_name(exc.data)
    return "empty" if isinstance(exc, ContractLogicError) else type(exc).__name__


def describe_data(data: str | bytes, quote_decimals: int | None = None) -> str:
    """Human text for revert data: ``Name(arg=value, ...)``, ``Error("...")``, ``Panic(0x11)`` or hex. With
    ``quote_decimals``, quote amounts read as tokens (``ProceedsBelowMin(proceeds=24.728098, minProceeds=100)``)
    and wad values as decimals."""
    raw = _raw(data)
    if not raw:
        return "reverted without a reason"
    try:
        if raw[:4] == _ERROR_STRING:
            return f"Error({decode(['string'], raw[4:])[0]!r})"
        if raw[:4] == _PANIC:
            return f"Panic({hex(decode(['uint256'], raw[4:])[0])})"
        if raw[:4] in error_table():
            name, args = decode_error(raw)
            _, types, names = error_table()[raw[:4]]
            shown = [
                _readable(t, _in_user_units(name, n, t, v, quote_decimals) if quote_decimals is not None else v)
                for t, v, n in zip(types, args, names, strict=True)
            ]
            return f"{name}(" + ", ".join(f"{n}={v}" if n else str(v) for n, v in zip(names, shown, strict=True)) + ")"
    except DecodingError:
        pass
    return f"unknown revert 0x{raw.hex()}"


def describe(exc: BaseException, quote_decimals: int | None = None) -> str:
    """Human text for a web3 revert exception (custom error, string reason) or any other exception."""
    if isinstance(exc, ContractCustomError):
        return describe_data(str(exc.data), quote_decimals)
    if isinstance(exc, ContractLogicError):
        if isinstance(exc.data, (str, bytes)) and _raw(exc.data)[:4] in (_ERROR_STRING, _PANIC):
            return describe_data(exc.data)
        return str(exc.message or exc)
    return f"{type(exc).__name__}: {exc}"
