"""Fixtures of the surface tests (on top of ``tests/conftest.py``'s session Anvil ``w3``).

* ``svi`` - ``SviHarness`` (the compiled ``SviMath`` behind batched eth_calls, ``hedgevault.surface.onchain``),
  deployed once per module.
"""

from __future__ import annotations

import pytest
from web3 import Web3

from hedgevault.surface.onchain import SviHarness


@pytest.fixture(scope="module")
def svi(w3: Web3) -> SviHarness:
    return SviHarness.deploy(w3)
