"""The keeper's refresh of a last good slice, found by the skewed market (a 2-day `--market merton` run stopped on
``VolStale``): when a fit keeps failing the rate limit, ``SurfacePoster`` re-posts the last good slice every
``refresh_sec`` so that it stays fresh. The oracle reads a slice as sqrt(w(k) / T) with T the time to expiry at the
post, so the same five numbers re-posted 13 hours later raised every vol by sqrt(T_post / T_now) (35 points at the
money in that run), broke the rate limit and reverted the whole ``postSlices`` batch: the expiry went stale. The
re-post now scales a and b by T_now / T_post (the oracle's neighbour rule): every strike's vol stays where it was.
One Anvil, the real suite and the keeper's own poster; about 20 s."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from hedgevault.chain import freeze_clock, latest_timestamp, local_node, warp
from hedgevault.keeper.oracles import NoMarketSource, OracleUpdater
from hedgevault.keys import anvil_account
from hedgevault.params import SuiteConfig
from hedgevault.sim.market import SkewedMarket, SkewParams, quoted_strikes, write_quotes
from hedgevault.suite import deploy_suite
from hedgevault.surface.merton import MertonParams

WAD = 10**18
DAY = 86_400


def _post(w3: Web3, updater: OracleUpdater, sender: str) -> int:
    """Plan the poster's calls at the head and send them; the number of calls (each must succeed)."""
    head = w3.eth.get_block("latest")
    plan = updater.plan(block=int(head["number"]), now_sec=int(head["timestamp"]))
    for call in plan.calls:
        tx = w3.eth.send_transaction({"from": sender, "to": call.to, "data": "0x" + call.data.hex(), "gas": 3_000_000})
        receipt = w3.eth.wait_for_transaction_receipt(tx)
        assert receipt["status"] == 1, f"{call.description} reverted"
    return len(plan.calls)


def test_a_refreshed_last_good_slice_keeps_every_strikes_vol(tmp_path: Path) -> None:
    with local_node(log_dir=tmp_path) as node:
        w3 = node.web3()
        freeze_clock(w3)
        admin = str(w3.eth.accounts[0])
        keeper = anvil_account(8)
        suite = deploy_suite(w3, SuiteConfig(), admin=admin)
        oracle = suite.vol_oracle
        role = oracle.functions.VOL_UPDATER_ROLE().call()
        oracle.functions.grantRole(role, keeper.address).transact({"from": admin})
        now = latest_timestamp(w3)
        expiry = now + 3 * DAY
        strikes = quoted_strikes(3000.0, 0.6, 3 * DAY, SkewParams().strike_sds, [2700.0, 3300.0])
        path = tmp_path / "quotes.json"
        # without the walk (branch svwalk), whose partial steps would replace the re-post here: the re-post path
        # stays the walk's fallback (no step passes) and the poster's with a fit refused for more than the rate limit
        updater = OracleUpdater(
            w3, keeper, suite.feed.address, oracle.address, NoMarketSource(), quotes_file=path, surface_walk=False
        )
        market = SkewedMarket(MertonParams(), {expiry: strikes}, SkewParams())
        write_quotes(path, market.quotes(3000.0, now, [expiry]))
        # prepared as a listing prepares it: the poster's first post is then its only call
        oracle.functions.prepareExpiry(expiry, len(strikes)).transact({"from": admin})
        assert _post(w3, updater, keeper.address) == 1
        first = [int(x) for x in oracle.functions.sliceOf(expiry).call()]
        assert first[1] > 0 and first[2] < 0, "a skewed first slice"

        def vols() -> list[int]:
            return [int(oracle.functions.strikeVolWad(expiry, round(k * WAD), 3000 * WAD).call()) for k in strikes]

        before = vols()
        # 13 hours later (past refresh_sec, 12 h) the market's jumps are four times as frequent: every wing moves
        # more than the 5-point step, so the fit falls back and the last good slice is re-posted
        warp(w3, 13 * 3600)
        wild = SkewedMarket(MertonParams(lam=6.0), {expiry: strikes}, SkewParams())
        write_quotes(path, wild.quotes(3000.0, latest_timestamp(w3), [expiry]))
        assert _post(w3, updater, keeper.address) == 1, "the last good slice is re-posted when it is 12 hours old"
        assert updater.surface is not None and expiry in updater.surface.fallbacks
        assert int(oracle.functions.lastPost(expiry).call()[1]) == latest_timestamp(w3)
        after = vols()
        assert [int(x) for x in oracle.functions.sliceOf(expiry).call()] != first, "scaled to the time left"
        # within the storage grid's rounding of the scaled a and b (oracle_rules.refreshed: down, by at most 1e-18
        # and 1e-9 (rho d + r) in total variance, some 1e-7 in vol at 2.5 days to expiry)
        for strike, b, a in zip(strikes, before, after, strict=True):
            assert -(10**11) <= a - b <= 10**6, f"strike {strike}: vol {b} -> {a}"
