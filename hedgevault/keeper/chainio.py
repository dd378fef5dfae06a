"""The keeper's own view of the option vault: the calls it makes, encoded and decoded from the compiled ABI
(by field name, never by position). Reading, signing and sending go through ``hedgevault.chain``.

Nothing here decides anything; ``decisions.py`` does.
"""

from __future__ import annotations

from web3 import Web3

from hedgevault.chain.abi import AbiFunction, artifact_abi


class VaultAbi:
    """The OptionVault calls the keeper makes, from the compiled ABI."""

    def __init__(self) -> None:
        abi = artifact_abi("OptionVault")
        self.check_upkeep = AbiFunction.of(abi, "checkUpkeep")
        self.perform_upkeep = AbiFunction.of(abi, "performUpkeep")
        self.book = AbiFunction.of(abi, "book")
        self.last_hedge_time = AbiFunction.of(abi, "lastHedgeTime")
        self.underlying = AbiFunction.of(abi, "underlying")
        self.price_oracle = AbiFunction.of(abi, "priceOracle")
        self.vol_oracle = AbiFunction.of(abi, "volOracle")
        self.live_series = AbiFunction.of(abi, "liveSeries")
        self.series = AbiFunction.of(abi, "series")
        self.report_outage = AbiFunction.of(abi, "reportOracleOutage")
        self.hedger = AbiFunction.of(abi, "hedger")
        self.can_short = AbiFunction.of(artifact_abi("AaveHedger"), "canShort")  # IHedger.canShort()
        self.check_upkeep_data = self.check_upkeep.calldata(b"")
        self.report_outage_data = self.report_outage.calldata()
        self.book_data = self.book.calldata()
        self.last_hedge_time_data = self.last_hedge_time.calldata()
        self._book_names = tuple(str(c["name"]) for c in self.book.outputs[0]["components"])

    def decode_check(self, data: bytes) -> tuple[bool, bytes]:
        needed, perform_data = self.check_upkeep.decode_output(data)
        return bool(needed), bytes(perform_data)

    def decode_book(self, data: bytes) -> dict[str, int]:
        """``book()`` as {ABI field name: value} (fields appended later by the contract are kept too)."""
        (values,) = self.book.decode_output(data)
        return {name: int(v) for name, v in zip(self._book_names, values, strict=True)}

    def decode_address(self, fn: AbiFunction, data: bytes) -> str:
        return str(Web3.to_checksum_address(fn.decode_output(data)[0]))
