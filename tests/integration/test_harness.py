"""Single calls to the compiled library: results, and custom errors with their context."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractCustomError

from hedgevault.greeks import errors as E
from hedgevault.greeks import mirror as m
from hedgevault.greeks.onchain import GreeksHarness

WAD = m.WAD


def test_hull_on_chain(harness: GreeksHarness) -> None:
    g = harness.contract.functions.greeks(42 * WAD, 40 * WAD, m.YEAR_SECONDS // 2, WAD // 5, WAD // 10).call()
    assert round(g[0] / WAD, 2) == 4.76 and round(g[1] / WAD, 2) == 0.81
    assert tuple(g) == m.greeks(42 * WAD, 40 * WAD, m.YEAR_SECONDS // 2, WAD // 5, WAD // 10)


@pytest.mark.parametrize(
    ("fn", "args", "error"),
    [
        ("greeks", (WAD, WAD, m.YEAR_SECONDS, 20 * WAD, 0), E.VolatilityOutOfRange(20 * WAD)),
        ("price", (0, WAD, m.YEAR_SECONDS, WAD, 0), E.SpotOutOfRange(0)),
        ("delta", (WAD, 1000 * WAD, m.YEAR_SECONDS, WAD, 0), E.MoneynessOutOfRange(WAD, 1000 * WAD)),
        ("greeks", (WAD, WAD, m.MAX_TIME_SEC + 1, WAD, 0), E.TimeOutOfRange(m.MAX_TIME_SEC + 1)),
        ("price", (WAD, WAD, 1, WAD, -2 * WAD), E.RateOutOfRange(-2 * WAD)),
        ("impliedVol", (WAD, WAD, WAD, m.YEAR_SECONDS, 0, True), E.PriceOutOfBounds(WAD, 0, WAD)),
        ("impliedVol", (WAD // 10, WAD, WAD, 0, 0, True), E.TimeOutOfRange(0)),
    ],
)
def test_reverts_with_custom_error_and_context(
    harness: GreeksHarness, fn: str, args: tuple, error: E.GreeksError
) -> None:  # type: ignore[type-arg]
    with pytest.raises(ContractCustomError) as info:
        getattr(harness.contract.functions, fn)(*args).call()
    assert bytes.fromhex(str(info.value.data)[2:]) == error.revert_data()


def test_gas_of_the_whole_set_is_reported(harness: GreeksHarness) -> None:
    gas = harness.gas("greeks", (3000 * WAD, 3000 * WAD, 30 * 86_400, 8 * WAD // 10, WAD // 20))
    assert 0 < gas < 100_000  # the figures against the targets are measured by bench/bench_gas.py
