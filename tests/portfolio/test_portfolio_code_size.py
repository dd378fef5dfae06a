"""The portfolio vault and its linked engine fit the EIP-170 code size limit (24,576 bytes)."""

from __future__ import annotations

import pytest

from hedgevault.toolchain.compiler import Artifact

EIP170_LIMIT_BYTES = 24_576


@pytest.mark.parametrize("name", ["PortfolioVault", "PortfolioEngine", "CovarianceOracle"])
def test_fits_the_code_size_limit(artifacts: dict[str, Artifact], name: str) -> None:
    size = len(artifacts[name].deployed_bytecode) // 2
    assert size <= EIP170_LIMIT_BYTES, f"{name} is {size} bytes, above the {EIP170_LIMIT_BYTES}-byte limit"
