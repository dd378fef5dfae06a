"""Gas of the portfolio contracts on Anvil, with the optimizer settings the project ships.

* ``CovarianceOracle.post`` as whole transactions (21,000 base and calldata included), for n = 3 and n = 8:
  the first post (fresh storage slots) and later posts (slots already set), each with the PSD check; the PSD
  check alone (inside the harness, around the library call).
* ``PortfolioMath.verify`` for n = 8 in each mode: the library call alone (inputs already in memory), and a
  whole harness transaction for context (its calldata carries the 64 covariance entries a vault would read
  from the oracle instead).
Targets (issue 11): post n = 3 <= 120,000; n = 8 <= 400,000; verification n = 8 <= 150,000.

Usage: python bench/bench_portfolio_gas.py
"""

from __future__ import annotations

import numpy as np
from _common import machine

from hedgevault.chain import local_node, warp
from hedgevault.chain.sending import send
from hedgevault.portfolio import mirror, sampling
from hedgevault.portfolio.mirror import DEFAULT_COV_PARAMS, WAD, Mode, TargetRules
from hedgevault.portfolio.onchain import PortfolioHarness
from hedgevault.portfolio.optimizer import min_variance_weights, risk_budget_weights, to_wad
from hedgevault.toolchain.compiler import compile_project, load_settings
from hedgevault.toolchain.deploy import deploy


def _post_gas(w3, oracle, keeper: str, vols_word: int, words: tuple[int, int]) -> int:  # type: ignore[no-untyped-def]
    return int(send(w3, oracle.functions.post(vols_word, list(words)), keeper)["gasUsed"])


def main() -> None:
    settings = load_settings()
    print(f"machine: {machine()}")
    print(
        f"solc {settings.version}, evm {settings.evm_version}, optimizer "
        f"{'on' if settings.optimizer_enabled else 'off'} with {settings.optimizer_runs} runs\n"
    )
    artifacts = compile_project()
    rng = np.random.default_rng(1)
    with local_node() as node:
        w3 = node.web3()
        admin, keeper = w3.eth.accounts[0], w3.eth.accounts[3]
        harness = PortfolioHarness.deploy(w3)
        print(f"{'CovarianceOracle.post (whole transaction)':<52} {'first':>8} {'later':>8}  target")
        for n, target in ((3, 120_000), (8, 400_000)):
            assets = [w3.to_checksum_address(f"0x{0xA55E7 + i:040x}") for i in range(n)]
            oracle = deploy(w3, artifacts["CovarianceOracle"], admin, assets, DEFAULT_COV_PARAMS.as_tuple())
            send(w3, oracle.functions.grantRole(oracle.functions.COV_UPDATER_ROLE().call(), keeper), admin)
            vols_word, words, _ = sampling.random_covariance(rng, n)
            first = _post_gas(w3, oracle, keeper, vols_word, words)
            later = []
            vols, corrs = mirror.unpack(vols_word, words, n)
            for step in range(5):
                warp(w3, 3600)
                moved_vols = [v + 10 * (step + 1) for v in vols]
                moved_corrs = [c - (step + 1) if c > -9000 else c for c in corrs]
                new_words = mirror.pack_corrs(moved_corrs)
                if not mirror.is_psd(new_words, n, DEFAULT_COV_PARAMS.psd_tol_bp):
                    new_words = words
                later.append(_post_gas(w3, oracle, keeper, mirror.pack_vols(moved_vols), new_words))
            verdict = "met" if max(first, *later) <= target else "MISSED"
            print(f"{'n = ' + str(n):<52} {first:>8,} {max(later):>8,}  <= {target:,}: {verdict}")
            psd = harness.gas_check_psd(words, n, DEFAULT_COV_PARAMS.psd_tol_bp)
            print(f"{'  of which the PSD check alone (library call)':<52} {psd:>8,}")
        print()
        print(f"{'PortfolioMath.verify, n = 8':<40} {'library':>8} {'whole tx':>9}  target (library) <= 150,000")
        n = 8
        _, _, cov_wad = sampling.random_covariance(rng, n)
        cov = np.array(cov_wad, dtype=np.float64).reshape(n, n) / WAD
        budgets = (WAD // n,) * n
        lo, hi = (0,) * n, (WAD,) * n
        free = TargetRules(Mode.TARGET_VOL, lo, hi, max_vol_wad=10 * WAD)
        cases = [
            ("TargetVol", to_wad(np.full(n, 1 / n), free), replace_rules(free, Mode.TARGET_VOL)),
            (
                "RiskParity",
                to_wad(risk_budget_weights(cov, np.full(n, 1 / n)), free),
                replace_rules(free, Mode.RISK_PARITY, budgets),
            ),
            ("MinVariance", to_wad(min_variance_weights(cov), free), replace_rules(free, Mode.MIN_VARIANCE)),
        ]
        worst = 0
        for label, weights, rules in cases:
            mirror.verify(weights, cov_wad, rules)
            gas = harness.gas_verify(weights, cov_wad, rules)
            tx = int(harness.contract.functions.verify(list(weights), cov_wad, rules.as_tuple()).estimate_gas())
            worst = max(worst, gas)
            print(f"{label:<40} {gas:>8,} {tx:>9,}")
        print(f"worst library call {worst:,}: {'met' if worst <= 150_000 else 'MISSED'}")


def replace_rules(rules: TargetRules, mode: Mode, budgets: tuple[int, ...] = ()) -> TargetRules:
    return TargetRules(
        mode, rules.min_weight_wad, rules.max_weight_wad, 0, rules.max_vol_wad, budgets, tolerance_wad=10**12
    )


if __name__ == "__main__":
    main()
