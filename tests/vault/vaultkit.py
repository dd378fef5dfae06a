"""Helpers of the vault tests: actors, custom-error decoding, common flows and chain time.

Amounts: ``q(s, x)`` is x whole quote tokens in quote units; options are in underlying wad.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from hedgevault.chain import latest_timestamp, warp
from hedgevault.reverts import decode_error
from hedgevault.suite import Suite
from hedgevault.txs import send

WAD = 10**18
DAY = 86_400
YEAR = 365 * DAY
ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Actors:
    """Named accounts (Anvil's unlocked ones)."""

    admin: str
    depositor: str
    buyer: str
    keeper: str
    attacker: str
    other: str
    depositor2: str


def actors(w3: Web3) -> Actors:
    a = [str(x) for x in w3.eth.accounts]
    return Actors(admin=a[0], depositor=a[1], buyer=a[2], keeper=a[3], attacker=a[4], other=a[5], depositor2=a[6])


def reverts(fn: Any, sender: str, name: str, *args: Any) -> tuple[Any, ...]:
    """Assert that sending ``fn`` from ``sender`` reverts with custom error ``name`` (and ``args`` when
    given: each ``None`` matches anything); return the decoded arguments."""
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": sender})
    got_name, got_args = decode_error(str(info.value.data))
    assert got_name == name, f"expected {name}, got {got_name}{got_args}"
    if args:
        assert len(args) == len(got_args)
        for want, got in zip(args, got_args, strict=True):
            if want is not None:
                assert want == got, f"{name}: expected {args}, got {got_args}"
    return got_args


def reverts_with_message(fn: Any, sender: str, fragment: str) -> None:
    """Assert a revert with a string reason containing ``fragment`` (Uniswap's require messages)."""
    with pytest.raises(ContractLogicError) as info:
        fn.call({"from": sender})
    assert fragment in str(info.value)


now = latest_timestamp


def q(s: Suite, whole: int) -> int:
    return s.quote_units(whole)


def fund(s: Suite, who: str, amount: int) -> None:
    """Mint ``amount`` quote units to ``who`` and approve the vault for everything."""
    send(s.w3, s.quote.functions.mint(who, amount), who)
    send(s.w3, s.quote.functions.approve(s.vault.address, 2**256 - 1), who)


def deposit(s: Suite, who: str, amount: int) -> int:
    fund(s, who, amount)
    shares = int(s.vault.functions.deposit(amount, who).call({"from": who}))
    send(s.w3, s.vault.functions.deposit(amount, who), who)
    return shares


def post_vol(s: Suite, expiry: int, vol_wad: int) -> None:
    send(s.w3, s.vol_oracle.functions.postVol(expiry, vol_wad), s.admin)


def list_series(s: Suite, expiry: int, strike_wad: int, is_call: bool, vol_wad: int = 8 * WAD // 10) -> int:
    """List a series and post its expiry's volatility (unless the expiry already has that one: a second
    series of an expiry needs no post, and the oracle takes one post per expiry per minimum interval);
    return its id."""
    fn = s.vault.functions.listSeries(expiry, strike_wad, is_call)
    series_id = int(fn.call({"from": s.admin}))
    send(s.w3, fn, s.admin)
    if int(s.vol_oracle.functions.lastPost(expiry).call()[0]) != vol_wad:
        post_vol(s, expiry, vol_wad)
    return series_id


def buy(s: Suite, who: str, series_id: int, amount_wad: int, receiver: str | None = None) -> int:
    """Buy with the quoted cost as the bound; return the premium."""
    premium, fee = s.vault.functions.quoteBuy(series_id, amount_wad).call()
    fund(s, who, premium + fee)
    fn = s.vault.functions.buy(series_id, amount_wad, premium + fee, receiver or who)
    send(s.w3, fn, who)
    return int(premium)


def refresh_feed(s: Suite, price_wad: int | None = None) -> None:
    """A new feed round at ``price_wad`` (default: the current feed price)."""
    if price_wad is None:
        price_wad = int(s.feed.functions.latestRoundData().call()[1]) * WAD // 10**s.config.feed_decimals
    s.set_feed_price(price_wad)


def move_market(s: Suite, price_wad: int, trader: str) -> None:
    """Move the pool and the feed to ``price_wad`` and let the TWAP catch up (window + 1 s)."""
    s.move_pool_price(price_wad, trader)
    warp(s.w3, s.config.oracle.twap_window_sec + 1)
    s.set_feed_price(price_wad)


def set_parameters(s: Suite, risk: Any = None, limits: Any = None, hedge: Any = None) -> Any:
    """``setParameters`` from the admin with the config's values unless given. The vault takes one change per
    hour: when the last one was sooner (``ParametersChangedTooRecently``), warp to the second the next is
    allowed and refresh the feed first."""
    c = s.config
    fn = s.vault.functions.setParameters(
        (risk or c.risk).as_tuple(), (limits or c.limits).as_tuple(), (hedge or c.hedge).as_tuple()
    )
    try:
        fn.call({"from": s.admin})
    except ContractCustomError as exc:
        name, args = decode_error(str(exc.data))
        if name != "ParametersChangedTooRecently":
            raise
        warp(s.w3, int(args[1]) - now(s.w3))
        refresh_feed(s)
    return send(s.w3, fn, s.admin)


def book(s: Suite) -> dict[str, int]:
    """``IOptionVault.book()`` with snake_case names (``health_factor_wad`` ...), plus ``net_delta_wad``."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(): value for name, value in s.book_view().items()}


def perform_upkeep(s: Suite, keeper: str) -> Any:
    needed, data = s.vault.functions.checkUpkeep(b"").call()
    assert needed, "checkUpkeep says nothing to do"
    return send(s.w3, s.vault.functions.performUpkeep(data), keeper)


Snapshot = Callable[[], None]


def calls_to(s: Suite, receipt: Any, target: str, kind: str | None = None) -> int:
    """How many calls the transaction made to ``target`` (Anvil's call tracer), of any kind or only ``kind``
    (e.g. "DELEGATECALL")."""
    tx = Web3.to_hex(receipt["transactionHash"])
    frame = s.w3.provider.make_request("debug_traceTransaction", [tx, {"tracer": "callTracer"}])["result"]  # type: ignore[arg-type]
    stack, n = [frame], 0
    while stack:
        f = stack.pop()
        n += str(f.get("to", "")).lower() == target.lower() and (kind is None or f.get("type") == kind)
        stack.extend(f.get("calls", []))
    return n
