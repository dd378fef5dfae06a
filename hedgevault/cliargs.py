"""Argument types and the parser of every `hedgevault` command: a bad value is refused while the command line
is read, in one line that names the flag and says what is expected (exit 2), before anything is sent."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import NoReturn

UINT256_MAX = 2**256 - 1
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: `hedgevault buy: --series: ... (see hedgevault buy --help)`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def uint(name: str, maximum: int = UINT256_MAX) -> Callable[[str], int]:
    """A whole number in [0, maximum] (decimal digits, optionally 0x hex)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{text} is negative; {name} is a whole number >= 0")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"{text} is above the largest {name} ({maximum})")
        return value

    return parse


def positive_decimal(name: str, allow_zero: bool = False) -> Callable[[str], str]:
    """A finite decimal number > 0 (or >= 0), kept as the text the user typed (amounts are scaled later, exactly)."""

    def parse(text: str) -> str:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number (write it like 1000 or 12.5)") from None
        if not value.is_finite():
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"{text} is not allowed: {name} must be {'>= 0' if allow_zero else '> 0'}")
        return text

    return parse


def finite_float(name: str, minimum: float, maximum: float) -> Callable[[str], float]:
    """A float in [minimum, maximum] (no nan, no inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text} is outside [{minimum:g}, {maximum:g}], the range of {name}")
        return value

    return parse


def address(text: str) -> str:
    """An Ethereum address: checksummed (EIP-55) or all one case; a mixed-case address with a wrong checksum is a
    typo and refused. Names (ENS) are refused: give the address."""
    from web3 import Web3

    if "." in text and not text.startswith("0x"):
        raise argparse.ArgumentTypeError(
            f"{text!r} looks like a name; names are not resolved here, give the 0x address"
        )
    if not _HEX_ADDRESS.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (0x followed by 40 hex digits)")
    body = text[2:]
    if body != body.lower() and body != body.upper() and not Web3.is_checksum_address(text):
        raise argparse.ArgumentTypeError(f"{text} has a wrong checksum (mixed case): check it for a typo")
    return str(Web3.to_checksum_address(text))


def quiet_broken_pipe() -> None:
    """After stdout's reader went away (`hedgevault status | head`): send the rest to /dev/null, no traceback."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
