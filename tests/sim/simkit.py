"""Checks shared by the option simulator's tests."""

from __future__ import annotations

from typing import Any


def assert_tokens_conserved(tokens: dict[str, Any]) -> int:
    """The summary's ``tokens``: what came into the vault = what went out + the change of what it holds (quote);
    the hedge is its start plus the orders' moves less the debt's interest; the collateral its start plus what
    orders put in and took out plus its interest. Returns the options still held (bought - sold - claimed)."""
    t = tokens
    assert t["quote_in_units"] - t["quote_out_units"] == t["quote_balance_end_units"] - t["quote_balance_start_units"]
    assert (
        t["hedge_start_wad"] + t["hedge_up_wad"] - t["hedge_down_wad"] - t["borrow_interest_wad"] == t["hedge_end_wad"]
    )
    assert (
        t["collateral_start_units"] + t["collateral_in_units"] - t["collateral_out_units"] + t["supply_interest_units"]
        == t["collateral_end_units"]
    )
    return int(t["options_bought_wad"] - t["options_sold_wad"] - t["options_claimed_wad"])
