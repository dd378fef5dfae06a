"""What the simulator's gas summary says about a transaction none of its kinds describes: it is 'other',
itemised by the contract (by name when it is one of the suite's) and the function it called, read back
from the chain (the receipt has no calldata). One setup on an embedded Anvil, no steps."""

from __future__ import annotations

import logging

from hedgevault.chain import local_node
from hedgevault.sim.engine import Simulation
from hedgevault.sim.report import gas_rows
from hedgevault.sim.run import RunOptions, build_scenario, demo_config
from hedgevault.suite import SuiteConfig
from hedgevault.txs import send


def test_other_transactions_are_itemised_by_contract_and_function() -> None:
    options = RunOptions(seed=3, horizon_sec=86_400, step_sec=4 * 3600)
    config = demo_config(build_scenario(options, SuiteConfig()), 3)
    with local_node() as node:
        w3 = node.web3()
        sim = Simulation(w3, config, keeper_logger=logging.getLogger("hedgevault.test.gas_other"))
        sim.setup()
        s, depositor = sim.suite, sim.depositors[0]
        send(w3, s.quote.functions.approve(s.vault.address, 5), depositor)
        send(w3, s.quote.functions.approve(s.vault.address, 7), depositor)
        send(w3, s.vol_oracle.functions.VOL_UPDATER_ROLE(), depositor)  # a view sent as a transaction
        w3.provider.make_request("eth_sendTransaction", [{"from": depositor, "to": sim.buyers[0], "value": "0x1"}])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        sim._book_receipts(0, sim.rpc.block_number())
    assert list(sim.counters.gas) == ["other"]
    assert sim.counters.gas_other == {
        "quote token.approve": 2,
        "vol oracle.VOL_UPDATER_ROLE": 1,  # not the keeper's: not a vol update
        f"{sim.buyers[0].lower()}.(no call: ether sent)": 1,
    }
    assert len(sim.counters.gas["other"]) == 4 and 21_000 in sim.counters.gas["other"]
    gas = {
        kind: {"count": len(v), "total": sum(v), "mean": round(sum(v) / len(v))} for kind, v in sim.counters.gas.items()
    }
    (row,) = [value for key, value in gas_rows(gas, dict(sim.counters.gas_other)) if key == "gas: other"]
    assert row.startswith("4 tx, mean ")
    assert row.endswith(
        f": quote token.approve x2, {sim.buyers[0].lower()}.(no call: ether sent) x1, vol oracle.VOL_UPDATER_ROLE x1"
    )
