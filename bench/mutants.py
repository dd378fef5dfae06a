"""Mutation check of the economic-safety defences (issue 9, M*), the hedging module (issue 10, H*), the portfolio vault
(issue 11, P*), the portfolio keeper, deployment and config (issue 11, K*), the volatility surface's checks (issue
13, S*), the keeper's metrics and log explanations (issue 12, KM*), the simulator's gas kinds and charts, the
manifest writer and the greeks CLI (issue 12, C*), the chain layer (issue 12, CL*), `hedgevault surface` / `greeks
--svi` (issue 13, SC*), the simulator's skewed market and informed buyer (issue 13, SK*), the option vault's record
of a long hedge (branch vgas, VG*), the oracle's prepared expiries (issue 13, SP*) and the updater's listing of them
(branch svlist, SL*), the keeper's walk toward a fit the rate limit refuses (branch svwalk, SW*), the vault's buy,
smile and short-slice gas paths (branch vbuy, VB*), the buy's pricer evaluations sharing their strike, time and rate
terms (branch vbuy3, VD*), the portfolio simulator's follow-up ticks (branch pcrash, PC*), the one hint table, fee
rule and live-series read (branch tidy, TD*), the oracle's one-word slice with its storage grid (branch svone, SO*)
and the keeper's risk-parity re-posts and access lists (branch prp, RP*): each mutant flips a rounding direction,
moves a bound by one or drops a check, runs the tests that should catch it, and prints KILLED or SURVIVED; the source
is restored after each. `python bench/mutants.py [M1 H4 ...]`. About 12 minutes.
A mutant that survives is a missing test. Results: bench/RESULTS.md.
"""

import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[1]
T = "tests/vault/test_economic_safety.py"
E = "tests/vault/test_vault_entry_points.py"
H = "tests/vault/test_hedger.py"
S = "tests/surface/test_svi_math.py"
SVI = "contracts/libraries/SviMath.sol"
VOL = "contracts/oracles/VolatilityOracle.sol"
VS = "tests/vault/test_vol_surface.py"
VSS = "tests/vault/test_surface_stateful.py::test_surface_state_machine"
VSG = "tests/vault/test_vol_surface_storage.py"
PR = "tests/vault/test_vol_surface_prepare.py"
KP = "tests/keeper/test_keeper_portfolio.py"
KC = "tests/keeper/test_keeper_portfolio_config.py"
KM = "tests/keeper/test_keeper_metrics.py"
PD = "tests/deployment/test_portfolio_deploy.py"
PC = "tests/deployment/test_portfolio_config.py"
PV = "tests/portfolio/test_portfolio_vault.py"
PS = "tests/portfolio/test_portfolio_slice_paths.py"
PM = "tests/portfolio/test_rebalance_mirror.py"
CO = "tests/portfolio/test_covariance_oracle.py"
ENGINE = "contracts/portfolio/PortfolioEngine.sol"
VAULT = "contracts/portfolio/PortfolioVault.sol"
CL = "tests/integration/test_chain_layer.py"
SC = "tests/ops/test_surface_cli.py"
HR = "tests/vault/test_hedge_record.py"
BM = "contracts/vaults/BookMarking.sol"
HX = "contracts/vaults/HedgeExecution.sol"
GP = "tests/vault/test_vault_gas_paths.py"
OV = "contracts/vaults/OptionVault.sol"
BS = "contracts/libraries/BlackScholes.sol"
ST = "tests/greeks/test_shared_terms.py"
SIMO = (
    "tests/sim/test_portfolio_offchain.py::test_model_posts_are_clipped_as_the_oracle_clips_them_and_followed_up_hourly"
)
SIMC = "tests/sim/test_portfolio_chain.py::test_clipped_covariance_posts_are_followed_up_within_the_step"
KR = "tests/keeper/test_keeper_portfolio_repost.py"
KA = "tests/keeper/test_keeper_portfolio_access_list.py"
KPY = "hedgevault/keeper/portfolio.py"
mutants = [
    # ---- the keeper's risk-parity re-posts and access lists (branch prp, RP*)
    (
        "RP1 the re-post threshold reached at equality (an error equal to the threshold re-posts)",
        KPY,
        "return threshold_wad > 0 and error_wad is not None and error_wad > threshold_wad",
        "return threshold_wad > 0 and error_wad is not None and error_wad >= threshold_wad",
        [KR],
    ),
    (
        "RP2 the fresh solve's gain the wrong way (re-posted when it is worse, not when clearly better)",
        KPY,
        "return fresh_error_wad * REPOST_GAIN < held_error_wad",
        "return fresh_error_wad * REPOST_GAIN > held_error_wad",
        [KR],
    ),
    (
        "RP3 the re-post without the gain (any fresh solve re-posted once past the threshold)",
        KPY,
        "return fresh_error_wad * REPOST_GAIN < held_error_wad",
        "return fresh_error_wad <= held_error_wad",
        [KR],
    ),
    (
        "RP4 targets never due for their error (only the schedule and the verification)",
        KPY,
        "if not scheduled and not error_over(held_error, threshold):",
        "if not scheduled:",
        [KR],
    ),
    (
        "RP5 the access list kept when it does not lower the estimate (the check dropped)",
        "hedgevault/chain/sending.py",
        "    if listed < plain_gas:\n        return AccessListChoice(entries, listed)",
        "    if True:\n        return AccessListChoice(entries, listed)",
        [KA],
    ),
    (
        "RP6 the access list kept only when it does not lower the estimate (the check the wrong way)",
        "hedgevault/chain/sending.py",
        "    if listed < plain_gas:\n        return AccessListChoice(entries, listed)",
        "    if listed > plain_gas:\n        return AccessListChoice(entries, listed)",
        [KA],
    ),
    # ---- the buy, smile and short-slice gas work (branch vbuy, VB*)
    (
        "VB1 the vault's reserve window check not strict (the bound equal to the window's end skips the loop)",
        OV,
        "                    > block.timestamp + BookMarking.CLAIM_RESERVE_WINDOW_SEC",
        "                    >= block.timestamp + BookMarking.CLAIM_RESERVE_WINDOW_SEC",
        [GP],
    ),
    (
        "VB2 the vault's reserve window check without the window (the reserve skipped a day early)",
        OV,
        "                    > block.timestamp + BookMarking.CLAIM_RESERVE_WINDOW_SEC",
        "                    > block.timestamp",
        [GP],
    ),
    (
        "VB3 the vault's reserve window check from the marks' time alone (the stored bound ignored)",
        OV,
        "uint256(h.markedAt) + uint256(h.nearestExpiryHours) * 1 hours",
        "uint256(h.markedAt)",
        [GP],
    ),
    (
        "VB4 the record's slot left without its in-use bit (a short hedge and no payouts clear it)",
        BM,
        "uint256 fields = (known ? (uint256(h) << 128) | (1 << 240) : 0) | (1 << 248);",
        "uint256 fields = known ? (uint256(h) << 128) | (1 << 240) : 0;",
        [GP],
    ),
    (
        "VB5 the record's known long written without its amount",
        BM,
        "uint256 fields = (known ? (uint256(h) << 128) | (1 << 240) : 0) | (1 << 248);",
        "uint256 fields = (known ? (1 << 240) : 0) | (1 << 248);",
        [GP],
    ),
    (
        "VB6 _up (unchecked) rounds down",
        BM,
        "            return (a * b + WAD - 1) / WAD;",
        "            return (a * b) / WAD;",
        [GP + "::test_a_remark_stores_the_series_mark_rounded_up"],
    ),
    (
        "VB7 _value (unchecked) without the time since the mark (no decay, no rate term)",
        BM,
        "            uint256 dt = block.timestamp - m.markedAt;",
        "            uint256 dt = 0;",
        ["tests/vault/test_cached_book.py"],
    ),
    (
        "VB8 the stress spots (unchecked) with the down shock added",
        BM,
        "            downWad = m.spotWad * (BPS - env.shockDownBps) / BPS;",
        "            downWad = m.spotWad * (BPS + env.shockDownBps) / BPS;",
        ["tests/vault/test_cached_book.py", "tests/vault/test_stress_margin.py"],
    ),
    # ---- the buy's pricer evaluations sharing their strike, time and rate terms (branch vbuy3, VD*)
    (
        "VD1 the shared terms' K e^{-r tau} (unchecked) discounted the wrong way",
        BS,
        "                t.kdx = (strikeWad * FixedPointMath.expQ96(-rTau)) >> 64;",
        "                t.kdx = (strikeWad * FixedPointMath.expQ96(rTau)) >> 64;",
        [ST],
    ),
    (
        "VD2 the shared evaluations' N(d2) (unchecked) from d1 + sigma sqrt tau",
        BS,
        "            n2 = NormalCdfTable.cdfQ96(d1 - int256(vst));\n        }\n    }\n\n"
        "    /// @dev What `greeks` needs",
        "            n2 = NormalCdfTable.cdfQ96(d1 + int256(vst));\n        }\n    }\n\n"
        "    /// @dev What `greeks` needs",
        [ST],
    ),
    (
        "VD3 the shared sqrt(tau) one Babylonian step short",
        BS,
        "                z := shr(1, add(z, div(u, z)))\n                sqrtTau := sub(z, lt(div(u, z), z))\n"
        "            }\n            // |rate| <= 1e18, T < 2^29: the product < 2^89\n"
        "            rTau := sdiv(shl(96, mul(rateWad, timeSec)), 31536000000000000000000000)\n        }\n    }",
        "                sqrtTau := sub(z, lt(div(u, z), z))\n"
        "            }\n            // |rate| <= 1e18, T < 2^29: the product < 2^89\n"
        "            rTau := sdiv(shl(96, mul(rateWad, timeSec)), 31536000000000000000000000)\n        }\n    }",
        [ST],
    ),
    (
        "VD4 tradePrices' stress scenarios at the trade's volatility (the shock dropped)",
        "contracts/pricing/OptionPricer.sol",
        "        uint256 stressVolWad = q.stressVolWad;",
        "        uint256 stressVolWad = q.volWad;",
        [ST],
    ),
    (
        "VD5 the strike's lower domain edge rounded down (a spot at floor(K / 100) priced instead of continued)",
        "contracts/pricing/OptionPricer.sol",
        "        loWad = (strikeWad + MONEYNESS - 1) / MONEYNESS;",
        "        loWad = strikeWad / MONEYNESS;",
        [ST],
    ),
    # ---- the simulator's follow-up ticks after a clipped covariance post (branch pcrash, PC*)
    (
        "PC1 no follow-up tick after a clipped covariance post",
        "hedgevault/sim/portfolio/onchain.py",
        "while at < end and any(task.cov_behind for task in self.keeper.portfolio_tasks):",
        "while False and any(task.cov_behind for task in self.keeper.portfolio_tasks):",
        [SIMC],
    ),
    (
        "PC4 the model's posts not clipped by the oracle's step limits",
        "hedgevault/sim/portfolio/model.py",
        "        if keeper.clip_posts:\n",
        "        if False:\n",
        [SIMO],
    ),
    (
        "PC5 the model's follow-ups stop after one post a step",
        "hedgevault/sim/portfolio/model.py",
        "if t == 1 or keeper.follow_up_sec <= 0 or at >= end:",
        "if True:",
        [SIMO],
    ),
    (
        "PC6 the model's follow-ups run one hour into the next step",
        "hedgevault/sim/portfolio/model.py",
        "if t == 1 or keeper.follow_up_sec <= 0 or at >= end:",
        "if t == 1 or keeper.follow_up_sec <= 0 or at > end + keeper.follow_up_sec:",
        [SIMO],
    ),
    (
        "PC2 follow-up ticks without the feeds' heartbeat round",
        "hedgevault/sim/portfolio/onchain.py",
        "self._post_feeds(prices_wad, block_timestamp=at)",
        "self.rpc.mine(at)",
        [SIMC],
    ),
    (
        "PC3 follow-up ticks past the next step's arbitrage",
        "hedgevault/sim/portfolio/onchain.py",
        "while at < end and any(",
        "while at <= end + every and any(",
        [SIMC],
    ),
    # ---- the vault's record of a long hedge (branch vgas, VG*)
    (
        "VG1 a short position recorded as a known long (the 112-bit bound dropped)",
        BM,
        "bool known = h >= 0 && p.collateral == 0 && uint256(h) <= type(uint112).max;",
        "bool known = p.collateral == 0;",
        [HR],
    ),
    (
        "VG2 the upkeep values the hedge from the record too",
        BM,
        "env.shockUpBps, env.maxDeltaDriftWad != 0);",
        "env.shockUpBps, false);",
        [HR],
    ),
    (
        "VG3 an order's position not recorded",
        HX,
        "p.collateral, p.deRisking);\n        BookMarking.recordHedge(st, p);",
        "p.collateral, p.deRisking);",
        [HR],
    ),
    (
        "VG4 a claim's raise not recorded",
        HX,
        "        BookMarking.recordHedge(st, p);\n        emit",
        "        emit",
        [H + "::test_a_claim_short_of_quote_raises_it_from_the_hedge"],
    ),
    (
        "VG5 the record read from the wrong bit (known flag)",
        BM,
        "if (!readHedger && (record >> 240) & 1 == 1) {",
        "if (!readHedger && (record >> 241) & 1 == 1) {",
        [HR],
    ),
    (
        "VG6 an order's record overwrites the payouts owed",
        BM,
        "let next := or(and(word, 0xffffffffffffffffffffffffffffffff), fields)",
        "let next := fields",
        [H + "::test_a_claim_short_of_quote_raises_it_from_the_hedge"],
    ),
    (
        "VG7 a claim leaves the payouts owed as they were",
        HX,
        "st.payoutsOwed = uint128(st.payoutsOwed - payout);",
        "st.payoutsOwed = uint128(st.payoutsOwed);",
        [H + "::test_a_claim_short_of_quote_raises_it_from_the_hedge"],
    ),
    # VG8 (the record's canShort bit read as false) is gone with the bit (branch vbuy: the record keeps no copy)
    # ---- the chain layer (issue 12, CL*)
    (
        "CL1 fee cap one wei too strict",
        "hedgevault/chain/sending.py",
        "if fee_cap_wei < base_fee_wei + priority_fee_wei:",
        "if fee_cap_wei <= base_fee_wei + priority_fee_wei:",
        [CL + "::test_fee_cap_rule"],
    ),
    (
        "CL2 a mined revert replayed on the latest state",
        "hedgevault/chain/rpc.py",
        "before = hex(max(block - 1, 0))",
        'before = "latest"',
        [CL + "::test_signed_send_and_receipts_single_and_batched"],
    ),
    (
        "CL6 replay reads the block from the node's record even when the receipt gave it",
        "hedgevault/chain/rpc.py",
        "        if block is None:\n            if tx.get",
        "        if True:\n            if tx.get",
        [CL + "::test_replay_of_a_transaction_still_in_the_pool_says_so"],
    ),
    (
        "CL7 replay of a transaction still in the pool fails on its missing block number",
        "hedgevault/chain/rpc.py",
        'if tx.get("blockNumber") is None:',
        "if False:",
        [CL + "::test_replay_of_a_transaction_still_in_the_pool_says_so"],
    ),
    (
        "CL3 web3's retries kept",
        "hedgevault/chain/rpc.py",
        "self.provider: Any = _without_retries(w3.provider)",
        "self.provider: Any = w3.provider",
        [CL + "::test_silent_node_is_unavailable_after_one_timeout"],
    ),
    (
        "CL4 revert arguments not in user units",
        "hedgevault/chain/rpc.py",
        "return describe_data(self.data, quote_decimals)",
        "return describe_data(self.data)",
        [CL + "::test_quote_amounts_read_as_tokens"],
    ),
    (
        "CL5 a mined revert passes as a receipt",
        "hedgevault/chain/sending.py",
        'if receipt["status"] != 1:',
        'if receipt["status"] == 2:',
        [CL + "::test_reverted_send_raises_with_the_decoded_reason"],
    ),
    # ---- the portfolio vault (issue 11 E, P*)
    (
        "P1 band without the 1e18 of the cube root's units",
        "contracts/portfolio/RebalanceMath.sol",
        "band = bandScaleBp * cbrt(costBps * BP_TO_WAD * varianceWad * WAD) / BPS;",
        "band = bandScaleBp * cbrt(costBps * BP_TO_WAD * varianceWad) / BPS;",
        [PV + "::test_bands_follow_the_cube_root_rule"],
    ),
    (
        "P2 cube root starts below the root",
        "contracts/portfolio/RebalanceMath.sol",
        "z = uint256(1) << (FixedPointMath.msb(x) / 3 + 1);",
        "z = uint256(1) << (FixedPointMath.msb(x) / 3);",
        [PM + "::test_cbrt_is_exact"],
    ),
    (
        "P3 target interval off by one",
        VAULT,
        "if (setAt != 0 && block.timestamp < setAt + minInterval) {",
        "if (setAt != 0 && block.timestamp <= setAt + minInterval) {",
        [PV + "::test_min_target_interval_at_its_second"],
    ),
    (
        "P4 the planner overshoots (the post-trade checks must stop it)",
        "contracts/portfolio/RebalanceMath.sol",
        "step = gap < toMinimum ? gap : toMinimum;",
        "step = 3 * (gap < toMinimum ? gap : toMinimum);",
        [PV + "::test_a_small_slice_is_the_planners_step_and_does_not_overshoot"],
    ),
    (
        "P5 slice not cut to the budget",
        ENGINE,
        "value = Math.min(value, pl.budgetAvailable > 2 ? (pl.budgetAvailable - 2) * BPS / slip : 0);",
        "",
        [PV + "::test_budget_spent_and_refilled_at_its_second"],
    ),
    (
        "P6 the bucket never drains",
        ENGINE,
        "level = h.budgetLevelQuote > drained ? h.budgetLevelQuote - drained : 0;",
        "level = h.budgetLevelQuote;",
        [PV + "::test_budget_spent_and_refilled_at_its_second"],
    ),
    (
        "P7 budget threshold dropped",
        ENGINE,
        "if (available < needed || available <= 2) revert",
        "if (available <= 2) revert",
        [PV + "::test_budget_spent_and_refilled_at_its_second"],
    ),
    (
        "P8 swing rounded down",
        VAULT,
        "return Math.mulDiv(v.risky, _s.params.feedDeviationBps, 10_000, Math.Rounding.Ceil);",
        "return Math.mulDiv(v.risky, _s.params.feedDeviationBps, 10_000, Math.Rounding.Floor);",
        [PV + "::test_deposit_at_nav_plus_swing"],
    ),
    (
        "P9 withdraw burns floor",
        VAULT,
        "shares = _toShares(assets + cost, navW, Math.Rounding.Ceil);",
        "shares = _toShares(assets + cost, navW, Math.Rounding.Floor);",
        [PV + "::test_withdraw_from_the_buffer"],
    ),
    (
        "P10 withdraw does not burn for the sales' cost",
        VAULT,
        "shares = _toShares(assets + cost, navW, Math.Rounding.Ceil);",
        "shares = _toShares(assets, navW, Math.Rounding.Ceil);",
        [PV + "::test_withdraw_beyond_the_buffer_burns_for_the_cost"],
    ),
    (
        "P11 redeem does not charge the sales' cost",
        VAULT,
        "assets = gross - cost;",
        "assets = gross;",
        [PV + "::test_redeem_beyond_the_buffer_sells_pro_rata_and_charges_the_leaver"],
    ),
    (
        "P20 risk-parity upkeeps only within the bands (the held-RC rule dropped)",
        ENGINE,
        "rcOff = mode == IPortfolioMath.Mode.RiskParity",
        "rcOff = mode == IPortfolioMath.Mode.MinVariance",
        [PV + "::test_risk_parity_upkeep_trades_every_asset_off_its_risk_budget"],
    ),
    (
        "P21 the RC tolerance compared without the budget",
        "contracts/portfolio/RebalanceMath.sol",
        "if (err > Math.mulDiv(tolWad * b, uint256(variance54), WAD)) return true;",
        "if (err > Math.mulDiv(tolWad, uint256(variance54), 1)) return true;",
        [PM + "::test_risk_contributions_off_matches"],
    ),
    (
        "P22 a dust step still counts in risk-parity mode",
        ENGINE,
        "t[i] = RebalanceMath.stepWad(d[i], g[i], pl.cov[i * n + i]) > dust ? dust : type(uint256).max;",
        "t[i] = dust;",
        [PV + "::test_risk_parity_upkeep_trades_every_asset_off_its_risk_budget"],
    ),
    # ---- de-risking exempt from the bands, the keeper's slices per pass (branch pderisk, PD*)
    (
        "PD1 the de-risking trigger reached at equality (v >= trigger^2 instead of >)",
        "contracts/portfolio/RebalanceMath.sol",
        "if (variance54 <= int256(trigger * trigger * WAD)) return 0;",
        "if (variance54 < int256(trigger * trigger * WAD)) return 0;",
        [PM + "::test_derisk_mask_matches"],
    ),
    (
        "PD2 the de-risking margin ignored (the trigger at maxVol)",
        "contracts/portfolio/RebalanceMath.sol",
        "uint256 trigger = maxVolWad * (BPS + marginBps) / BPS;",
        "uint256 trigger = maxVolWad;",
        [PM + "::test_derisk_mask_matches"],
    ),
    (
        "PD3 a de-risking sale stops half its threshold short of the target",
        ENGINE,
        "if (pl.keepWad != 0) pl.keepWad = (pl.deriskMask >> i) & 1 == 1 ? 0 : th[i] / 2;",
        "if (pl.keepWad != 0) pl.keepWad = th[i] / 2;",
        [PV + "::test_derisking_sale_is_exempt_from_its_band_at_the_margin"],
    ),
    (
        "PD4 the exemption's threshold dropped (the band for every asset)",
        ENGINE,
        "if ((mask >> i) & 1 == 1) {",
        "if ((mask >> i) & 1 == 2) {",
        [PV + "::test_derisking_sale_is_exempt_from_its_band_at_the_margin"],
    ),
    (
        "PD5 a buy counts as de-risking (d_i > 0 dropped)",
        "contracts/portfolio/RebalanceMath.sol",
        "if (d[i] > 0 && g[i] > 0 && gw[i] > 0 &&",
        "if (d[i] != 0 && g[i] > 0 && gw[i] > 0 &&",
        [PM + "::test_derisk_mask_matches"],
    ),
    (
        "PD6 deriskMarginBps's upper bound one too high",
        VAULT,
        '_bound("deriskMarginBps", p.deriskMarginBps, 0, 10_000);',
        '_bound("deriskMarginBps", p.deriskMarginBps, 0, 10_001);',
        [PV + "::test_derisk_margin_bounds"],
    ),
    (
        "PD7 the exemption in every mode (TargetVol's check dropped)",
        ENGINE,
        "            if (mode == IPortfolioMath.Mode.TargetVol) {\n                pl.deriskMask",
        "            if (true) {\n                pl.deriskMask",
        [PV + "::test_not_derisking_keeps_the_bands"],
    ),
    (
        "PD8 the keeper lands one slice more than its cap",
        "hedgevault/keeper/keeper.py",
        "for _ in range(task.config.max_upkeeps_per_pass):",
        "for _ in range(task.config.max_upkeeps_per_pass + 1):",
        [KP + "::test_a_pass_lands_slices_until_check_upkeep_is_false_or_the_cap"],
    ),
    (
        "PD9 the model's trigger on the volatility, not the variance",
        "hedgevault/sim/portfolio/baselines.py",
        "if float(w @ cov @ w) <= max_vol * max_vol:",
        "if float(w @ cov @ w) <= max_vol:",
        ["tests/sim/test_portfolio_offchain.py::test_model_derisking_assets_are_the_vaults_rule"],
    ),
    (
        "PD10 the mirror's de-risking sale to half the band",
        "hedgevault/portfolio/mirror.py",
        "keep = 0 if rc_off or (derisk >> i) & 1 else",
        "keep = 0 if rc_off else",
        [PV + "::test_derisking_sale_is_exempt_from_its_band_at_the_margin"],
    ),
    # ---- the portfolio vault's gas work and the catch-up parameters (branch pgas, PG*)
    (
        "PG1 quadForm's gradient multiplies x_i instead of x_j",
        "contracts/portfolio/RebalanceMath.sol",
        "g := add(g, mul(mload(s), mload(add(xs, shl(5, j)))))",
        "g := add(g, mul(mload(s), mload(add(xs, shl(5, i)))))",
        [PM + "::test_weights_and_forms_match"],
    ),
    (
        "PG2 the unpacked covariance misses its lower triangle",
        "contracts/oracles/CovarianceMath.sol",
        "cov[j * n + i] = s;",
        "cov[j * n + i] = 0;",
        [CO + "::test_post_and_views_match_the_mirror"],
    ),
    (
        "PG3 the second correlation word never read",
        "contracts/oracles/CovarianceOracle.sol",
        "CovarianceMath.pairCount(assetCount) > 16 ? _corrsBp[1] : 0",
        "CovarianceMath.pairCount(assetCount) > 28 ? _corrsBp[1] : 0",
        [CO + "::test_packing_of_eight_assets_uses_the_second_word"],
    ),
    (
        "PG4 a holding's token0 flag inverted",
        ENGINE,
        "(cfg >> 224) & 1 == 1,",
        "(cfg >> 224) & 1 == 0,",
        [PV + "::test_rebalances_to_the_bands_and_stops"],
    ),
    (
        "PG5 a holding's scale read one bit off",
        ENGINE,
        "uint256 value = _value(balance, price, uint64(cfg >> 160), e.quoteScale);",
        "uint256 value = _value(balance, price, uint64(cfg >> 161), e.quoteScale);",
        [PM + "::test_vault_figures_match_the_mirror"],
    ),
    (
        "PG6 the vault's holdings 2 and 3 swapped",
        VAULT,
        ": (i == 2 ? (_cfg2, _oracle2, _pool2) : (_cfg3, _oracle3, _pool3)))",
        ": (i == 2 ? (_cfg3, _oracle3, _pool3) : (_cfg2, _oracle2, _pool2)))",
        [PM + "::test_vault_figures_match_the_mirror"],
    ),
    (
        "PG7 rcToleranceWad's lower bound one too high",
        VAULT,
        '_bound("rcToleranceWad", p.rcToleranceWad, 1e15, WAD / 2);',
        '_bound("rcToleranceWad", p.rcToleranceWad, 1e15 + 1, WAD / 2);',
        [PV + "::test_risk_parity_catch_up_bounds"],
    ),
    (
        "PG8 rcDustWad's upper bound one too high",
        VAULT,
        '_bound("rcDustWad", p.rcDustWad, 1e14, WAD / 20);',
        '_bound("rcDustWad", p.rcDustWad, 1e14, WAD / 20 + 1);',
        [PV + "::test_risk_parity_catch_up_bounds"],
    ),
    (
        "PG9 the catch-up's dust the former constant, not the parameter",
        ENGINE,
        "uint256 dust = p.rcDustWad;",
        "uint256 dust = 1e15;",
        [PV + "::test_risk_parity_upkeep_trades_every_asset_off_its_risk_budget"],
    ),
    (
        "PG10 the catch-up's tolerance the former constant, not the parameter",
        ENGINE,
        "pl.weights, gw, pl.variance54, _widen(s.rules.budgetWad), p.rcToleranceWad",
        "pl.weights, gw, pl.variance54, _widen(s.rules.budgetWad), 5e16",
        [PV + "::test_risk_parity_upkeep_trades_every_asset_off_its_risk_budget"],
    ),
    (
        "PG11 w'Sw skipped in target-vol mode too (the vol-band check against 0)",
        ENGINE,
        "if (mode != IPortfolioMath.Mode.MinVariance) {",
        "if (mode == IPortfolioMath.Mode.RiskParity) {",
        [PV + "::test_vol_band_check_stops_a_slice_leaving_the_band"],
    ),
    # ---- the one-asset slice's gas paths (branch pgas2, PV*)
    (
        "PV1 the slice's TWAP cross-check dropped",
        ENGINE,
        "IPriceOracle(a.oracle).checkTwap(price);",
        "",
        [PS + "::test_a_wrong_feed_stops_the_slice_at_the_twap_check"],
    ),
    (
        "PV2 checkTwap's bound one bp too strict",
        "contracts/oracles/PriceOracle.sol",
        "if (_deviationBps(priceWad, twap) > p.maxTwapDeviationBps) {",
        "if (_deviationBps(priceWad, twap) >= p.maxTwapDeviationBps) {",
        [PS + "::test_check_twap_is_spot_wads_cross_check"],
    ),
    (
        "PV3 spotWad without the cross-check (checkTwap split out of it)",
        "contracts/oracles/PriceOracle.sol",
        "        priceWad = _checkedFeed(p);\n        _checkTwap(priceWad, p);",
        "        priceWad = _checkedFeed(p);",
        [PS + "::test_check_twap_is_spot_wads_cross_check"],
    ),
    (
        "PV4 the quote balance after a slice not moved by the swap",
        ENGINE,
        "v.quoteBalance = uint256(int256(v.quoteBalance) + quoteDelta);",
        "v.quoteBalance = v.quoteBalance;",
        [PS + "::test_a_donation_before_a_slice_is_counted_and_gains_nobody"],
    ),
    (
        "PV5 the asset balance after a slice moved the wrong way",
        ENGINE,
        "v.balances[i] = uint256(int256(v.balances[i]) + assetDelta);",
        "v.balances[i] = uint256(int256(v.balances[i]) - assetDelta / 2);",
        [PS + "::test_balances_after_a_slice_equal_the_tokens"],
    ),
    (
        "PV6 bands skipped up to the largest band (assets beyond their band left untraded)",
        ENGINE,
        "if ((di < 0 ? uint256(-di) : uint256(di)) <= minBand) {",
        "if ((di < 0 ? uint256(-di) : uint256(di)) <= maxBand) {",
        [PV + "::test_rebalances_to_the_bands_and_stops"],
    ),
    (
        "PV7 bands skipped up to twice the least band",
        ENGINE,
        "if ((di < 0 ? uint256(-di) : uint256(di)) <= minBand) {",
        "if ((di < 0 ? uint256(-di) : uint256(di)) <= 2 * minBand) {",
        [PV + "::test_rebalances_to_the_bands_and_stops", PS + "::test_a_band_skip_keeps_the_mirrors_choice"],
    ),
    (
        "P12 pro-rata shares miss the remainder",
        ENGINE,
        "shares[last] = shortfall - allocated;",
        "shares[last] = Math.mulDiv(shortfall, v.values[last], v.risky);",
        [PV + "::test_withdraw_beyond_the_buffer_burns_for_the_cost"],
    ),
    (
        "P13 callback without the lock",
        VAULT,
        "if (_s.head.lock != LOCKED || i >= _n) revert NotOwnPool(msg.sender);",
        "if (i >= _n) revert NotOwnPool(msg.sender);",
        [PV + "::test_callback_pays_only_the_vaults_own_swap"],
    ),
    (
        "P14 buys before sales",
        ENGINE,
        "if (!found || (sale && !bestSale) || (sale == bestSale && gap * bestBand > bestGap * band)) {",
        "if (!found || gap * bestBand > bestGap * band) {",
        [PV + "::test_sales_come_before_buys"],
    ),
    (
        "P15 exit mode one second late",
        VAULT,
        "return _s.head.paused && block.timestamp >= uint256(_s.head.pausedAt) + MAX_PAUSE_SEC;",
        "return _s.head.paused && block.timestamp > uint256(_s.head.pausedAt) + MAX_PAUSE_SEC;",
        [PV + "::test_paused_stops_upkeeps_deposits_and_withdrawals_until_exit_mode"],
    ),
    (
        "P16 slice not cut to the pool's room",
        ENGINE,
        "if (pl.units > room) {",
        "if (false) {",
        [PV + "::test_one_slice_toward_the_targets"],
    ),
    (
        "P17 no band: every drift trades",
        ENGINE,
        "if (gap <= band) continue;",
        "if (gap == 0) continue;",
        [PV + "::test_rebalances_to_the_bands_and_stops"],
    ),
    (
        "P18 the vol-band check dropped",
        ENGINE,
        "if (r.mode != IPortfolioMath.Mode.TargetVol) return;",
        "return;",
        [PV + "::test_vol_band_check_stops_a_slice_leaving_the_band"],
    ),
    (
        "P19 previewRedeem without the worst sale cost",
        VAULT,
        "return gross > worst ? gross - worst : 0;",
        "return gross;",
        [PV + "::test_redeem_beyond_the_buffer_sells_pro_rata_and_charges_the_leaver"],
    ),
    (
        "M1 withdraw burns floor",
        "contracts/vaults/OptionVault.sol",
        "shares = _toShares(assets, nav, Math.Rounding.Ceil);",
        "shares = _toShares(assets, nav, Math.Rounding.Floor);",
        [T + "::test_withdraw_burns_the_ceiling_of_the_shares"],
    ),
    (
        "M2 sell fee floor",
        "contracts/vaults/OptionVault.sol",
        "fee = (gross * _risk.feeBps).divUp(BPS);",
        "fee = (gross * _risk.feeBps) / BPS;",
        [T + "::test_sell_fee_is_rounded_up_against_the_seller"],
        # written when the vault was 5 bytes under EIP-170: room for the longer code, in a view the test does not read
        (
            "function exitMode() external view returns (bool) {\n        return _exitMode();",
            "function exitMode() external view returns (bool) {\n        return false;",
        ),
    ),
    (
        "M3 cutoff off by one",
        "contracts/vaults/OptionVault.sol",
        "if (block.timestamp + cutoff >= s.expiry)",
        "if (block.timestamp + cutoff > s.expiry)",
        [T + "::test_trading_cutoff_at_its_second"],
    ),
    (
        "M3B cutoff off by one in the buy's own copy of the checks (BookMarking._tradable, branch vbuy2)",
        BM,
        "if (block.timestamp + cutoff >= s.expiry) revert IOptionVault.TradingCutoff(",
        "if (block.timestamp + cutoff > s.expiry) revert IOptionVault.TradingCutoff(",
        [T + "::test_trading_cutoff_at_its_second"],
    ),
    (
        "M3C the buy's own copy of the checks lets an expired series trade (BookMarking._tradable)",
        BM,
        "if (block.timestamp >= s.expiry) revert IOptionVault.SeriesExpired(o.seriesId, s.expiry);",
        "",
        [T + "::test_trading_cutoff_at_its_second", E],
    ),
    (
        "M4 trade spot floor",
        "contracts/vaults/BookMarking.sol",
        "if (isCall == isBuy) return (spotWad * (BPS + deviationBps)).divUp(BPS);",
        "if (isCall == isBuy) return (spotWad * (BPS + deviationBps)) / BPS;",
        [T + "::test_trade_spot_boundary_is_the_deviation"],
    ),
    (
        "M5 pause bound",
        "contracts/vaults/OptionVault.sol",
        "block.timestamp >= uint256(h.pausedAt) + h.maxPauseSec",
        "block.timestamp > uint256(h.pausedAt) + h.maxPauseSec",
        [T + "::test_a_pause_stops_withdrawals_for_at_most_max_pause"],
    ),
    (
        "M6 outage bound",
        "contracts/vaults/OptionVault.sol",
        "block.timestamp >= uint256(h.outageSince) + h.outageExitDelaySec",
        "block.timestamp > uint256(h.outageSince) + h.outageExitDelaySec",
        [T + "::test_views_never_revert_and_exits_open_after_a_reported_outage"],
    ),
    (
        "M7 step bound",
        "contracts/vaults/BookMarking.sol",
        "if (diff > maxStep) revert",
        "if (diff >= maxStep) revert",
        [T + "::test_parameter_changes_are_bounded_in_size_and_rate"],
    ),
    (
        "M8 interval",
        "contracts/vaults/BookMarking.sol",
        "if (block.timestamp < next) revert",
        "if (block.timestamp <= next) revert",
        [T + "::test_parameter_changes_are_bounded_in_size_and_rate"],
    ),
    (
        "M9 payouts in room",
        "contracts/vaults/BookMath.sol",
        "a = a > c.payoutsOwed ? a - c.payoutsOwed : 0;\n        uint256 needed",
        "a = a > c.payoutsOwed ? a - c.feesOwed : 0;\n        uint256 needed",
        [T + "::test_withdraw_room_leaves_reserved_payouts_out_of_both_sides"],
    ),
    (
        "M10 no min premium",
        BM,
        "if (minimum > perOption) perOption = minimum;",
        "",
        [
            T + "::test_minimum_premium_binds_only_where_the_stress_exceeds_the_price",
            T + "::test_locking_withdrawals_costs_the_locker",
        ],
    ),
    (
        "M11 swing without vega",
        "contracts/vaults/BookMath.sol",
        "return (deltaWad + gammaWad + vegaWad).divUp(c.quoteScale);",
        "return (deltaWad + gammaWad).divUp(c.quoteScale);",
        [
            T + "::test_swing_is_what_a_feed_round_and_a_vol_post_can_move",
            T + "::test_jit_deposit_around_a_maximal_vol_post_does_not_profit",
        ],
    ),
    (
        "M12 no HF on withdraw",
        "contracts/vaults/OptionVault.sol",
        "if (hfAfter < c.hfFloorWad) revert HealthFactorTooLow(hfAfter, c.hfFloorWad);\n    }\n\n    // ===",
        "\n    }\n\n    // ===",
        [E + "::test_withdraw_that_would_break_the_floor_reports_the_hf"],
    ),
    (
        "M13 stress bound not exact (sell keeps)",
        "contracts/vaults/BookMarking.sol",
        "m.stressUpWad = m.stressUpWad + _up(newOpenWad, p.stressUpWad) - _up(oldOpenWad, p.stressUpWad);",
        "m.stressUpWad = newOpenWad > oldOpenWad ? m.stressUpWad + _up(newOpenWad, p.stressUpWad)"
        " - _up(oldOpenWad, p.stressUpWad) : m.stressUpWad;",
        [T + "::test_round_trips_leave_no_phantom_stress"],
    ),
    (
        "M14 insolvency check",
        "contracts/vaults/OptionVault.sol",
        "v.depositsOpen = !paused_ && (l == 0 || b.assetsValue(c) > l);",
        "v.depositsOpen = !paused_;",
        [T + "::test_deposits_refused_while_insolvent"],
    ),
    (
        "M15 settlement value at spot",
        "contracts/vaults/BookMarking.sol",
        "e.settlementPriceWad = roundId == 0 ? 0 : env.priceOracle.settlementPriceWad(roundId, expiry);",
        "e.settlementPriceWad = 0;",
        [T + "::test_redeeming_before_settle_gains_nothing"],
    ),
    (
        "M16 zero assets redeem",
        "contracts/vaults/OptionVault.sol",
        "if (assets == 0) revert ZeroAssets(shares);",
        "",
        [T + "::test_redeeming_for_zero_assets_reverts"],
    ),
    # the hedging module (issue 10)
    (
        "H1 buy limit ignores the pool fee",
        "contracts/hedging/HedgerBase.sol",
        "uint256 limitWad = spotWad * (BPS + slippageBps) * (PIPS - _poolFee) / (BPS * PIPS);",
        "uint256 limitWad = spotWad * (BPS + slippageBps) / BPS;",
        [H + "::test_every_unit_of_a_slice_is_within_the_bound"],
    ),
    (
        "H2 callback pays anyone",
        "contracts/hedging/HedgerBase.sol",
        "if (msg.sender != address(uniswapPool)) revert NotPool(msg.sender);",
        "",
        [H + "::test_the_swap_callback_pays_only_the_pool"],
    ),
    (
        "H3 no Aave oracle check",
        "contracts/hedging/AaveHedger.sol",
        "        _checkAaveOracle(o.spotWad);\n",
        "",
        [H + "::test_the_aave_oracle_must_agree_before_a_borrow"],
    ),
    (
        "H4 paused quote reserve ignored",
        "contracts/hedging/AaveHedger.sol",
        "bool quoteOpen = !_bit(quoteConfig, FROZEN_BIT) && !_bit(quoteConfig, PAUSED_BIT);",
        "bool quoteOpen = !_bit(quoteConfig, FROZEN_BIT);",
        [H + "::test_a_frozen_or_paused_reserve_refuses_the_borrow"],
    ),
    (
        "H5 borrow cap off by one token",
        "contracts/hedging/AaveHedger.sol",
        "uint256 capUnits = cap * 10 ** IERC20Metadata(address(underlying)).decimals();",
        "uint256 capUnits = (cap + 1) * 10 ** IERC20Metadata(address(underlying)).decimals();",
        [H + "::test_the_borrow_cap_cuts_then_refuses"],
    ),
    (
        "H6 de-risking repays half",
        "contracts/hedging/AaveHedger.sol",
        "uint256 repay = debt > carried ? debt - carried : 0;",
        "uint256 repay = debt > carried ? (debt - carried) / 2 : 0;",
        [H + "::test_de_risking_reduces_the_short"],
    ),
    (
        "H7 no top-up below half the headroom",
        "contracts/hedging/AaveHedger.sol",
        "if (collateral >= needed.mulDivUp(BPS + headroom / 2, BPS)) return amount;",
        "if (collateral >= needed) return amount;",
        [H + "::test_a_second_borrow_tops_the_collateral_up_below_half_the_headroom"],
    ),
    (
        "H8 puts sold while de-risking",
        BM,
        "if (b.deRisking && !s.isCall) revert IOptionVault.HedgerDeRisking(o.seriesId);",
        "",
        [H + "::test_de_risking_stops_puts_and_restores_the_buffer"],
    ),
    (
        "H9 overshoot unchecked",
        "contracts/vaults/HedgeExecution.sol",
        "if (gapBefore != 0 && (gap > 0) != (gapBefore > 0) && gap != 0 && _abs(gap) > h.deltaBandWad) {",
        "if (false) {",
        [H + "::test_hedge_outside_band_when_the_underlying_is_coarser_than_the_band"],
    ),
    (
        "H10 short hedge's loss rounded down",
        "contracts/vaults/BookMath.sol",
        "return -int256((uint256(-hedgeWad) * moveWad).divUp(WAD));",
        "return -int256(uint256(-hedgeWad) * moveWad / WAD);",
        ["tests/vault/test_book_math.py::test_stress_margin_rounds_each_hedge_term_against_the_vault"],
    ),
    (
        "H15 the borrow ignores the slice's capacity",
        "contracts/hedging/AaveHedger.sol",
        "uint256 room = capacity > fromHeld ? capacity - fromHeld : 0;",
        "uint256 room = rest;",
        [H + "::test_a_large_gap_closes_in_bounded_slices"],
    ),
    (
        "H16 a trade does not lower the nearest expiry",
        "contracts/vaults/BookMarking.sol",
        "if (newOpenWad != 0 && s.expiry < m.nearestExpiry) m.nearestExpiry = s.expiry;",
        "",
        [H + "::test_a_trade_in_a_near_series_enters_the_reserve_without_a_re_mark"],
    ),
    (
        "H14 a short's value rounded down in A",
        "contracts/vaults/BookMath.sol",
        "uint256 owed = uint256(-b.hedgeWad).mulDivUp(b.spotWad, WAD * c.quoteScale);",
        "uint256 owed = uint256(-b.hedgeWad).mulDivDown(b.spotWad, WAD * c.quoteScale);",
        ["tests/vault/test_book_math.py::test_assets_count_the_collateral_and_a_short_rounded_up"],
    ),
    (
        "H11 claim reserve window one second short",
        "contracts/vaults/BookMarking.sol",
        "if (s.expiry > horizon || s.openInterestWad == 0) continue;",
        "if (s.expiry >= horizon || s.openInterestWad == 0) continue;",
        [H + "::test_the_claim_reserve_window_at_its_second"],
    ),
    (
        "H12 no re-mark on delta drift",
        "contracts/vaults/BookMarking.sol",
        "if (m.gammaCoefWad.mulDivUp(diff, sMin) > env.maxDeltaDriftWad) return true;",
        "",
        [H + "::test_the_target_is_the_delta_at_the_current_spot"],
    ),
    (
        "H13 long-only hedger targets a short",
        "contracts/vaults/BookMath.sol",
        "if (targetWad < 0 && !b.canShort) targetWad = 0;",
        "",
        [H + "::test_a_long_only_hedger_leaves_a_positive_book_delta_unhedged"],
    ),
    # the volatility surface's checks (issue 13): SviMath
    (
        "S1 Lee bound admits equality only one way",
        SVI,
        "if (slope36 > LEE_BOUND_36) revert",
        "if (slope36 >= LEE_BOUND_36) revert",
        [S + "::test_each_parameter_error_with_its_figure"],
    ),
    (
        "S2 Lee bound moved by 1e-18",
        SVI,
        "int256 internal constant LEE_BOUND_36 = 2e36;",
        "int256 internal constant LEE_BOUND_36 = 2e36 + 1e18;",
        [S + "::test_each_parameter_error_with_its_figure"],
    ),
    (
        "S3 no rho check",
        SVI,
        "if (s.rhoWad <= -WAD || s.rhoWad >= WAD) revert ISviMath.SviRhoOutOfRange(s.rhoWad);",
        "",
        [S + "::test_each_parameter_error_with_its_figure"],
    ),
    (
        "S4 minimum variance rounded up",
        SVI,
        "int256 minVar36 = s.a36 + (s.bWad * s.sigmaWad * int256(root)) / WAD;",
        "int256 minVar36 = s.a36 + _ceilDiv(s.bWad * s.sigmaWad * int256(root), WAD);",
        [S + "::test_mirror_matches_on_random_posts"],
    ),
    (
        "S5 no butterfly check",
        SVI,
        "                if slt(g36, 0) {",
        "                if 0 {",
        [S + "::test_butterfly_arbitrage_constructed_and_refused"],
    ),
    (
        "S6 calendar against the nearer compares w rounded up",
        SVI,
        "                        if sgt(nHi, wLo36) {",
        "                        if sgt(nHi, wHi36) {",
        [S + "::test_calendar_arbitrage_against_each_neighbour"],
    ),
    (
        "S7 no calendar check against the farther",
        SVI,
        "                        if sgt(wHi36, fLo) {",
        "                        if 0 {",
        [S + "::test_calendar_arbitrage_against_each_neighbour"],
    ),
    (
        "S8 w's upper bound rounded down",
        SVI,
        # the neighbour's (`wAt`; a leading newline and its indent tell it from the slice's own)
        "\n                    wHi36 := add(wHi36, div(add(mul(b, add(rd, mul(rHi, WAD))), 999999999999999999), WAD))",
        "\n                    wHi36 := add(wHi36, div(mul(b, add(rd, mul(rHi, WAD))), WAD))",
        [S + "::test_calendar_arbitrage_against_each_neighbour", S + "::test_mirror_matches_on_random_posts"],
    ),
    (
        "S9 (2w - k w')^2 from the far end",
        SVI,
        "if sgt(xLo, 0) { xSq := mul(xLo, xLo) }",
        "if sgt(xLo, 0) { xSq := mul(xHi, xHi) }",
        [S + "::test_mirror_matches_on_random_posts"],
    ),
    (
        "S10 the grid's last point skipped",
        SVI,
        "for { let i := 0 } iszero(gt(i, last)) { i := add(i, 1) } {",
        "for { let i := 0 } lt(i, last) { i := add(i, 1) } {",
        [S + "::test_mirror_matches_on_random_posts"],
    ),
    (
        "S11 rate limit admits the step only strictly",
        SVI,
        "if ((next > before ? next - before : before - next) > maxStepWad) {",
        "if ((next > before ? next - before : before - next) >= maxStepWad) {",
        [S + "::test_rate_limit_at_every_listed_strike"],
    ),
    (
        "S12 flat slice's a rounded down",
        SVI,
        "s.a36 = int256(FixedPointMath.divUp(volWad_ * volWad_ * timeSec, YEAR_SEC));",
        "s.a36 = int256(volWad_ * volWad_ * timeSec / YEAR_SEC);",
        [S + "::test_flat_slice_gives_exactly_the_flat_vol"],
    ),
    (
        "S13 the nearer's cheap bound from max(|d|, sigma) (below its w: a calendar arbitrage let through)",
        SVI,
        "if sgt(wCheap(pn, kk, 1), wLo36) {",
        "if sgt(wCheap(pn, kk, 0), wLo36) {",
        [S + "::test_calendar_arbitrage_against_each_neighbour", S + "::test_mirror_matches_on_random_posts"],
    ),
    (
        "S14 the farther's cheap bound from |d| + sigma (above its w: a calendar arbitrage let through)",
        SVI,
        "if sgt(wHi36, wCheap(pf, kk, 0)) {",
        "if sgt(wHi36, wCheap(pf, kk, 1)) {",
        [S + "::test_calendar_arbitrage_against_each_neighbour", S + "::test_mirror_matches_on_random_posts"],
    ),
    (
        "S15 the nearer's cheap bound rounded down",
        SVI,
        "mul(r, WAD))), mul(up, 999999999999999999)), WAD))",
        "mul(r, WAD))), 0), WAD))",
        [
            S + "::test_calendar_arbitrage_against_each_neighbour",
            S + "::test_calendar_bound_without_the_root_rounds_up_next_to_m",
            S + "::test_mirror_matches_on_random_posts",
        ],
    ),
    # the volatility surface in the oracle and the vault (issue 13 integration): VolatilityOracle, BookMarking
    (
        "V1 no per-strike rate limit",
        VOL,
        "if ((next > before ? next - before : before - next) > c.allowedStepWad) {",
        "if (false) {",
        [VS + "::test_the_rate_limit_holds_at_every_strike_not_only_at_the_money"],
    ),
    (
        "V2 per-strike rate limit skipped after a flat post",
        VOL,
        "if (strikes.length != 0 && (s.bWad != 0 || last.slice.bWad != 0)) {",
        "if (strikes.length != 0 && s.bWad != 0) {",
        [VS + "::test_the_rate_limit_holds_at_every_strike_not_only_at_the_money"],
    ),
    (
        "V3 strike bounds one wei wider",
        VOL,
        "if (next < p.minVolWad || next > p.maxVolWad) {",
        "if (next < p.minVolWad || next > p.maxVolWad + 1e17) {",
        [VS + "::test_a_strike_outside_the_bounds_is_refused_with_its_vol"],
    ),
    (
        "V4 no butterfly or calendar check of a slice post",
        VOL,
        "        _checkArbitrage(expiry, slice, forwardWad, false, grid, known, p);\n    }",
        "    }",
        [VS + "::test_butterfly_arbitrage_is_refused_through_the_oracle"],
    ),
    (
        "V5 a batch checked before the whole batch is stored",
        VOL,
        "posts[i].strikesWad, p);\n        }\n        for (uint256 i; i < n; ++i) {\n            _checkArbitrage",
        "posts[i].strikesWad, p);\n            _checkArbitrage(posts[i].expiry, posts[i].slice, posts[i].forwardWad, "
        "false, grids[i], known[i], p);\n        }\n        for (uint256 i; i < 0; ++i) {\n            _checkArbitrage",
        [VS + "::test_a_batch_moves_the_surface_in_any_order"],
    ),
    (
        "V6 the nearer neighbour's variance scaled down (rounded for the post)",
        VOL,
        "(ISviMath.SviSlice memory nearer, bool hasNearer) = _neighbour(node.prev, p, true);",
        "(ISviMath.SviSlice memory nearer, bool hasNearer) = _neighbour(node.prev, p, false);",
        [
            VS + "::test_calendar_arbitrage_is_refused_against_either_neighbour",
            VS + "::test_calendar_against_the_nearer_neighbour_rounds_its_variance_up",
        ],
    ),
    (
        "V13 the farther neighbour's variance scaled up (rounded for the post)",
        VOL,
        "(ISviMath.SviSlice memory farther, bool hasFarther) = _neighbour(node.next, p, false);",
        "(ISviMath.SviSlice memory farther, bool hasFarther) = _neighbour(node.next, p, true);",
        [VS + "::test_calendar_against_the_farther_neighbour_rounds_its_variance_down"],
    ),
    (
        "V7 no calendar check of postVol against a smile",
        VOL,
        "            if (!hasNearer && !hasFarther) return;\n",
        "            return;\n",
        [VS + "::test_calendar_arbitrage_is_refused_against_either_neighbour"],
    ),
    (
        "V8 the grid not widened to the strikes",
        VOL,
        "        if (k < g.kLoWad) g.kLoWad = k < -MAX_ABS_K_WAD ? -MAX_ABS_K_WAD : k;",
        "",
        [VS + "::test_butterfly_arbitrage_is_refused_through_the_oracle"],
    ),
    (
        "V9 a strike set that forgets its strikes",
        VOL,
        "            stored[n] = uint128(strikeWad);",
        "",
        [VS + "::test_a_slice_post_reads_back_and_each_strike_has_the_mirrors_vol"],
    ),
    (
        "V10 the series priced at the at-the-money vol (no per-strike vol)",
        "contracts/vaults/BookMarking.sol",
        "        if (e.slice.bWad == 0) {\n            e.volWad = e.atmVolWad;",
        "        if (true) {\n            e.volWad = e.atmVolWad;",
        [VS + "::test_a_skewed_slice_prices_each_series_at_its_strikes_vol"],
    ),
    (
        "V11 the forward without the rate term's sign",
        "contracts/vaults/BookMarking.sol",
        "SviMath.logMoneynessInRangeWad(strikeWad, spotWad) - env.rateWad",
        "-SviMath.logMoneynessInRangeWad(strikeWad, spotWad) - env.rateWad",
        [VS + "::test_a_skewed_slice_prices_each_series_at_its_strikes_vol"],
    ),
    (
        "V12 the series vol not clamped to the bounds",
        "contracts/vaults/BookMarking.sol",
        "e.volWad = v < e.minVolWad ? e.minVolWad : (v > e.maxVolWad ? e.maxVolWad : v);",
        "e.volWad = v;",
        [VS + "::test_a_series_outside_the_strike_set_is_priced_at_the_clamped_vol"],
    ),
    (
        "V14 a post without a forward checks the strikes' grid at the stored forward",
        VOL,
        "            known = forwardWad != 0;",
        "            known = true;",
        [VSG + "::test_a_post_without_a_forward_checks_the_default_grid"],
    ),
    (
        "V15 a strike beyond 128 bits stored truncated",
        VOL,
        "            if (strikeWad > type(uint128).max) revert ISviMath.SviMoneynessOutOfRange(strikeWad, "
        "forwardWad);\n",
        "",
        [VSG + "::test_a_strike_beyond_128_bits_is_refused_and_the_largest_below_is_kept"],
    ),
    (
        "V16 a post forgets the stored strikes (the set restarts)",
        VOL,
        "            strikes[j] = stored[j];",
        "",
        [VSG + "::test_the_strike_set_keeps_every_strike_in_order_across_posts"],
    ),
    (
        "V17 the set's size not stored",
        VOL,
        "        _posts[expiry] = _encode(atm, strikes.length, s);",
        "        _posts[expiry] = _encode(atm, last.strikeCount, s);",
        [VSG + "::test_the_strike_set_keeps_every_strike_in_order_across_posts"],
    ),
]
# ---- the oracle's prepared expiries (issue 13, branch svipre: SP*)
mutants += [
    (
        "SP1 prepare over a posted expiry's post slot",
        VOL,
        "if (postWord == 0) mask = PREPARE_POST;",
        "mask = PREPARE_POST;",
        [PR + "::test_preparing_a_posted_expiry_writes_none_of_its_data"],
    ),
    (
        # since svlist a lone expiry's zero node is also kept by the head guard (alone: SL4), so both go
        "SP3 prepare over a posted expiry's list node (a lone expiry's is all zero; the head guard dropped too)",
        VOL,
        "        if (post.updatedAt == 0) {\n            Node storage node",
        "        if (true) {\n            Node storage node",
        [PR + "::test_preparing_a_posted_expiry_writes_none_of_its_data"],
        ("if (nodeWord == 0 && _head != expiry) mask |= PREPARE_NODE;", "if (nodeWord == 0) mask |= PREPARE_NODE;"),
    ),
    (
        "SP4 prepare from the half-filled strike slot (a zero strike overwritten)",
        VOL,
        "for (uint256 j = (post.strikeCount + 1) / 2; 2 * j < strikes; ++j)",
        "for (uint256 j = post.strikeCount / 2; 2 * j < strikes; ++j)",
        [PR + "::test_preparing_a_posted_expiry_writes_none_of_its_data"],
    ),
    (
        "SP5 prepare every strike slot whatever the set's size",
        VOL,
        "for (uint256 j = (post.strikeCount + 1) / 2; 2 * j < strikes; ++j)",
        "for (uint256 j = 0; 2 * j < strikes; ++j)",
        [PR + "::test_preparing_a_posted_expiry_writes_none_of_its_data"],
    ),
    (
        "SP6 one strike slot too few prepared",
        VOL,
        "for (uint256 j = (post.strikeCount + 1) / 2; 2 * j < strikes; ++j)",
        "for (uint256 j = (post.strikeCount + 1) / 2; 2 * j + 1 < strikes; ++j)",
        [PR + "::test_a_prepared_expiry_reads_as_one_never_posted"],
    ),
    (
        "SP7 the placeholder in the post's time (read as a post)",
        VOL,
        "_posts[expiry] = (uint256(PREPARED_RHO_NANO) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT;",
        "_posts[expiry] = ((uint256(PREPARED_RHO_NANO) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT) | 1;",
        [PR + "::test_a_prepared_expiry_reads_as_one_never_posted"],
    ),
    (
        "SP8 the placeholder in the node's forward (read by a post without a forward)",
        VOL,
        "_nodes[expiry] = Node(PREPARED_LINK, PREPARED_LINK, 0);",
        "_nodes[expiry] = Node(PREPARED_LINK, PREPARED_LINK, 1);",
        [PR + "::test_posts_with_an_attacker_preparing_everything_match_posts_without"],
    ),
    (
        "SP9 the placeholder in the flat slice's vol field (read by lastPost)",
        VOL,
        "_posts[expiry] = (uint256(PREPARED_RHO_NANO) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT;",
        "_posts[expiry] = ((uint256(PREPARED_RHO_NANO) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT) | (1 << A_SHIFT);",
        [PR + "::test_a_prepared_expiry_reads_as_one_never_posted"],
    ),
    (
        "SP10 a passed expiry prepared",
        VOL,
        "    function prepareExpiry(uint256 expiry, uint256 strikes) external {\n"
        "        if (expiry <= block.timestamp) revert VolExpiryPassed(expiry);\n",
        "    function prepareExpiry(uint256 expiry, uint256 strikes) external {\n",
        [PR + "::test_prepare_bounds"],
    ),
    (
        "SP11 the strike bound moved by one (a slot beyond the set written)",
        VOL,
        "if (strikes > MAX_STRIKES) revert VolTooManyStrikes(expiry, strikes, MAX_STRIKES);",
        "if (strikes > MAX_STRIKES + 1) revert VolTooManyStrikes(expiry, strikes, MAX_STRIKES);",
        [PR + "::test_prepare_bounds"],
    ),
    (
        "SP12 prepare moves the epoch (every vault re-marks after an attacker's call)",
        VOL,
        "        if (slots != 0) emit ExpiryPrepared(expiry, strikes, slots);",
        "        ++_epoch;\n        if (slots != 0) emit ExpiryPrepared(expiry, strikes, slots);",
        [PR + "::test_an_attackers_preparations_leave_the_vault_and_its_cache_alone"],
    ),
    (
        "SP13 isPrepared looks at the base slots only",
        VOL,
        "return _unprepared(expiry, strikes) == 0;",
        "return _unprepared(expiry, 0) == 0;",
        [PR + "::test_a_prepared_expiry_reads_as_one_never_posted"],
    ),
    (
        "SP14 the keeper posts a first smile without preparing",
        "hedgevault/keeper/oracles.py",
        '        data = bytes.fromhex(self.vol_oracle.encode_abi("prepareExpiry", [expiry, n])[2:])\n',
        "        return\n",
        ["tests/keeper/test_keeper_surface.py::test_the_keeper_fits_checks_and_posts_a_slice"],
    ),
    (
        "SP15 list-series does not prepare the expiry",
        "hedgevault/ops/actions.py",
        "    if strikes_to_prepare(suite.vol_oracle, expiry, strikes, account.address) is not None:",
        "    if False:",
        ["tests/ops/test_journey.py::test_the_whole_journey_with_hedgevault_commands_only"],
    ),
    (
        "SP16 the preparation asked for one strike fewer than the set",
        "hedgevault/surface/prepare.py",
        "    n = min(strikes, MAX_STRIKES)",
        "    n = min(strikes - 1, MAX_STRIKES)",
        ["tests/keeper/test_keeper_surface.py::test_the_keeper_fits_checks_and_posts_a_slice"],
    ),
]
# ---- the updater's listing of prepared expiries (branch svlist: SL*)
mutants += [
    (
        "SL1 a node holding anyone's placeholder read as listed (its first post inserts nothing)",
        VOL,
        "        if (prev == PREPARED_LINK) return false;\n",
        "",
        [PR + "::test_posts_with_an_attacker_preparing_everything_match_posts_without"],
    ),
    (
        "SL2 a node never written (zero links) read as listed",
        VOL,
        "        return _head == expiry;\n    }",
        "        return true;\n    }",
        [PR + "::test_the_updaters_listing_makes_the_first_post_insert_nothing"],
    ),
    (
        "SL3 a lone listed expiry (the head, zero links) read as not listed: inserted twice",
        VOL,
        "        return _head == expiry;\n    }",
        "        return false;\n    }",
        [PR + "::test_a_lone_listed_expiry_is_the_head_and_stays_listed"],
    ),
    (
        "SL4 anyone's preparation writes its placeholder over a lone listed expiry's zero node",
        VOL,
        "if (nodeWord == 0 && _head != expiry) mask |= PREPARE_NODE;",
        "if (nodeWord == 0) mask |= PREPARE_NODE;",
        [PR + "::test_a_lone_listed_expiry_is_the_head_and_stays_listed"],
    ),
    (
        "SL5 the run bound moved by one",
        VOL,
        "        return run <= MAX_UNPOSTED_RUN;",
        "        return run <= MAX_UNPOSTED_RUN + 1;",
        [PR + "::test_a_hot_updater_key_listing_many_expiries_cannot_make_posts_walk_far"],
    ),
    (
        "SL6 the run counted forward only (the listed expiries before it not seen)",
        VOL,
        "        while (prev > block.timestamp && _postedAt(prev) == 0) {",
        "        while (false && prev > block.timestamp && _postedAt(prev) == 0) {",
        [PR + "::test_a_hot_updater_key_listing_many_expiries_cannot_make_posts_walk_far"],
    ),
    (
        "SL7 the run counted backward only (the listed expiries after it not seen)",
        VOL,
        "        while (next != 0 && _postedAt(next) == 0) {",
        "        while (false && next != 0 && _postedAt(next) == 0) {",
        [PR + "::test_a_hot_updater_key_listing_many_expiries_cannot_make_posts_walk_far"],
    ),
    (
        "SL8 a listed expiry never posted is a missing neighbour (it hides the next one out)",
        VOL,
        "            if (post.updatedAt != 0) return (s, false);\n            Node storage node = _nodes[expiry];\n"
        "            return _neighbour(up ? node.prev : node.next, p, up);",
        "            return (s, false);",
        [PR + "::test_a_listed_expiry_never_posted_cannot_hide_a_neighbour_from_the_calendar_check"],
    ),
    (
        "SL9 the walk past a listed expiry turns back (the nearer's next, the farther's prev)",
        VOL,
        "            return _neighbour(up ? node.prev : node.next, p, up);",
        "            return _neighbour(up ? node.next : node.prev, p, up);",
        [PR + "::test_a_listed_expiry_never_posted_cannot_hide_a_neighbour_from_the_calendar_check"],
    ),
    (
        "SL10 the first post inserts a listed expiry again",
        VOL,
        "            if (!_listed(expiry)) _insert(expiry);",
        "            _insert(expiry);",
        [PR + "::test_posts_with_the_updater_listing_everything_match_posts_without"],
    ),
    (
        "SL11 anyone's preparation lists (not only the updater's)",
        VOL,
        "if (!_listed(expiry) && hasRole(VOL_UPDATER_ROLE, msg.sender)) {",
        "if (!_listed(expiry)) {",
        [PR + "::test_posts_with_an_attacker_preparing_everything_match_posts_without"],
    ),
    (
        "SL12 the keeper asks isPrepared as nobody (it never lists before a first post)",
        "hedgevault/keeper/oracles.py",
        "        n = strikes_to_prepare(self.vol_oracle, expiry, strike_count, self.sender, block)",
        '        n = strikes_to_prepare(self.vol_oracle, expiry, strike_count, "0x" + "00" * 20, block)',
        ["tests/keeper/test_keeper_surface.py::test_the_keepers_first_post_of_a_new_expiry_inserts_nothing"],
    ),
    (
        "SL13 a passed listed expiry counted in the run after it",
        VOL,
        "        while (prev > block.timestamp && _postedAt(prev) == 0) {",
        "        while (prev != 0 && _postedAt(prev) == 0) {",
        [PR + "::test_an_expired_listed_expiry_ends_a_run"],
    ),
]
mutants += [
    (
        "K1 a clipped post rounds instead of truncating toward the last post",
        "hedgevault/keeper/portfolio.py",
        "vols = [old + int((new - old) * t) for old, new in zip(old_vols, new_vols, strict=True)]",
        "vols = [old + round((new - old) * t) for old, new in zip(old_vols, new_vols, strict=True)]",
        [KP + "::test_step_toward_is_exact_and_truncates_toward_the_last_post"],
    ),
    (
        "K2 a clipped post is not followed up before the schedule",
        "hedgevault/keeper/portfolio.py",
        "self.cov_behind = t < 1",
        "self.cov_behind = False",
        [KP + "::test_a_far_estimate_is_approached_in_steps_the_oracle_accepts"],
    ),
    (
        "K3 targets that fail the check wait for the schedule",
        "hedgevault/keeper/portfolio.py",
        "scheduled = set_at == 0 or not still_valid or now_sec - set_at >= self.config.targets_interval_sec",
        "scheduled = set_at == 0 or now_sec - set_at >= self.config.targets_interval_sec",
        [KP + "::test_targets_follow_a_covariance_that_moves_them_out_of_the_band"],
    ),
    (
        "K4 the grid takes a round after the grid time",
        "hedgevault/keeper/portfolio.py",
        'i = int(np.searchsorted(times, t, side="right")) - 1',
        'i = min(int(np.searchsorted(times, t, side="right")), len(times) - 1)',
        [KC + "::test_grid_takes_the_last_round_at_or_before_each_time"],
    ),
    (
        "K5 the budget reason only at an empty budget",
        "hedgevault/keeper/portfolio.py",
        'if view["budgetAvailableQuote"] < needed:',
        'if view["budgetAvailableQuote"] == 0:',
        [KP + "::test_a_spent_budget_stops_the_slices_with_a_reason"],
    ),
    (
        "K6 the deployer keeps the temporary updater role",
        "hedgevault/deployment/portfolio.py",
        'ctx.transact(f"renounce the deployer\'s {role_name} on {key}", '
        "contract.functions.renounceRole(role, deployer))",
        "pass",
        [PD + "::test_both_stacks_on_one_infrastructure"],
    ),
    (
        "K7 no PSD check of the configured correlations",
        "hedgevault/portfolio/config.py",
        "if not out and not mirror.is_psd(self.initial_post()[1], n, self.cov.psd_tol_bp):",
        "if False:",
        [PC + "::test_bad_portfolio_values_say_what_is_wrong"],
    ),
    (
        "K8 deploy --check ignores the keepers' roles",
        "hedgevault/deployment/portfolio.py",
        'diffs.append(f"portfolio.{contract_key}: {holder} lacks {role_name} (portfolio.{holders_key})")',
        "pass",
        [PD + "::test_a_lost_role_is_reported_by_check"],
    ),
    (
        "K9 the vault bound on max_slippage_bps moved by one",
        "hedgevault/portfolio/config.py",
        '"max_slippage_bps": (1, 500),',
        '"max_slippage_bps": (1, 501),',
        [PC + "::test_bad_portfolio_values_say_what_is_wrong"],
    ),
    # ---- the keeper's metrics and log explanations (issue 12, KM*)
    (
        "KM1 rpc_up not lowered while the node is down",
        "hedgevault/keeper/keeper.py",
        "self.metrics.rpc_up.set(0)",
        "self.metrics.rpc_up.set(1)",
        [KM + "::test_rpc_up_falls_to_zero_when_the_node_stops"],
    ),
    (
        "KM2 a mined transaction stays counted as pending",
        "hedgevault/keeper/metrics.py",
        "for target in self._pending_seen:",
        "for target in counts:",
        [KM + "::test_pending_transactions_count_a_sent_transaction_until_it_is_mined"],
    ),
    (
        "KM3 last hedge as seconds-since again",
        "hedgevault/keeper/metrics.py",
        "self.last_hedge.labels(vault).set(last_hedge_sec)",
        "self.last_hedge.labels(vault).set(time.time() - last_hedge_sec)",
        [KM + "::test_pending_transactions_count_a_sent_transaction_until_it_is_mined"],
    ),
    (
        "KM4 failures counted without their vault",
        "hedgevault/keeper/keeper.py",
        'self._count_failure(label, str(fields.get("vault") or NO_VAULT))',
        "self._count_failure(label)",
        ["tests/keeper/test_keeper_inprocess.py::test_reverting_check_is_logged_and_counted_never_raised"],
    ),
    (
        "KM5 the explanation read from detail only",
        "hedgevault/keeper/logs.py",
        'explanation = explain(fields.get("reason"), fields.get("detail"))',
        'explanation = explain(fields.get("detail"))',
        [KM + "::test_a_hedge_that_cannot_buy_after_withdrawals_is_explained"],
    ),
    (
        "KM6 the endpoint serves _created series",
        "hedgevault/keeper/metrics.py",
        "        disable_created_metrics()  # type: ignore[no-untyped-call]\n",
        "",
        [KM + "::test_the_endpoint_follows_the_naming_conventions"],
    ),
    (
        "KM7 tick durations not observed",
        "hedgevault/keeper/metrics.py",
        "self.tick_duration.observe(duration_sec)",
        "pass",
        [KM + "::test_the_endpoint_follows_the_naming_conventions"],
    ),
]
# ---- the simulator's gas kinds and charts, the manifest writer, the greeks CLI (issue 12, C*)
SR = "tests/unit/test_sim_report.py"
MA = "tests/deployment/test_manifest_atomic.py"
GC = "tests/unit/test_greeks_cli.py"
mutants += [
    (
        "C1 a hedge upkeep that re-marked is booked as a plain hedge",
        "hedgevault/sim/accounting.py",
        'return "re-mark + hedge" if kind == "hedge" and "BookMarked" in events else kind',
        "return kind",
        [SR + "::test_gas_kind"],
    ),
    (
        "C2 anyone's re-mark is the keeper's",
        "hedgevault/sim/accounting.py",
        'if sender == actors.keeper and "BookMarked" in events:',
        'if "BookMarked" in events:',
        [SR + "::test_gas_kind"],
    ),
    (
        "C3 HF on a linear scale",
        "hedgevault/sim/report.py",
        'axes[1].set_yscale("log")',
        'axes[1].set_yscale("linear")',
        [SR + "::test_figures_of_a_hand_made_run"],
    ),
    (
        "C4 the floor line drawn at the default floor, not the run's",
        "hedgevault/sim/report.py",
        'floor = suite["risk"]["hf_floor_wad"] / WAD',
        "floor = 1.2",
        [SR + "::test_figures_of_a_hand_made_run"],
    ),
    (
        "C5 the manifest written in place (truncate, then write)",
        "hedgevault/deployment/manifest.py",
        "        os.replace(tmp, path)\n",
        "        path.write_text(text)\n        Path(tmp).unlink()\n",
        [MA + "::test_a_writer_read_meanwhile_and_killed_at_random_moments_never_shows_a_partial_manifest"],
    ),
    (
        "C6 the temporary file left behind on a failed write",
        "hedgevault/deployment/manifest.py",
        "        Path(tmp).unlink(missing_ok=True)\n        raise",
        "        raise",
        [MA + "::test_a_crash_before_the_rename_keeps_the_old_manifest"],
    ),
    (
        "C7 greeks --onchain ignores --price",
        "hedgevault/cli.py",
        "            if iv_inputs is not None:\n                onchain_vol",
        "            if False:\n                onchain_vol",
        [GC + "::test_onchain_compares_the_implied_vol_too"],
    ),
    (
        "C9 'other' named by the selector's hex without 0x (no function names)",
        "hedgevault/sim/engine.py",
        '"0x" + Web3.keccak(text=fn.signature)[:4].hex(): str(fn.fn_name)',
        "Web3.keccak(text=fn.signature)[:4].hex(): str(fn.fn_name)",
        ["tests/sim/test_sim_gas_other.py"],
    ),
    (
        "C10 anyone's feed round is a feed update",
        "hedgevault/sim/accounting.py",
        "if sender == actors.keeper and to == actors.feed:",
        "if to == actors.feed:",
        [SR + "::test_gas_kind"],
    ),
    (
        "C8 greeks refusals in wad",
        "hedgevault/cli.py",
        "raise InputError(_greeks_error_in_user_units(exc)) from None",
        "raise InputError(str(exc)) from None",
        [GC],
    ),
    # ---- `hedgevault surface` and `greeks --svi` (issue 13, SC*)
    (
        "SC1 the slice read over the time to expiry now, not T0",
        "hedgevault/ops/surface_cli.py",
        "smile.slice, smile.post_time_sec = sl, e - at",
        "smile.slice, smile.post_time_sec = sl, e - now",
        [SC],
    ),
    (
        "SC2 the smile at the vault's forward now, not the posted one",
        "hedgevault/ops/surface_cli.py",
        "forward, source = forwards[e][0],",
        "forward, source = _forward_now(spot_wad or 0, rate_wad, e - now),",
        [SC],
    ),
    (
        "SC3 any two vols agree",
        "hedgevault/ops/surface_cli.py",
        "return isinstance(m, int) and c == m",
        "return isinstance(m, int)",
        [SC],
    ),
    (
        "SC4 every contract refusal left uncompared",
        "hedgevault/ops/surface_cli.py",
        "if c.name in _FRESHNESS_ERRORS:",
        "if True:",
        [SC],
    ),
    (
        "SC5 a disagreement exits 0",
        "hedgevault/ops/surface_cli.py",
        'if doc["disagreements"]:',
        "if False:",
        [SC],
    ),
    (
        "SC6 market vols at the quotes file's own time",
        "hedgevault/ops/surface_cli.py",
        "snapshot = replace(load_quotes(quotes, spot=csv_spot, now=now), now=now)",
        "snapshot = load_quotes(quotes, spot=csv_spot, now=now)",
        [SC],
    ),
    (
        "SC7 greeks --svi evaluates an unchecked slice",
        "hedgevault/greeks/slice_vol.py",
        "        mirror.check_params(s)\n",
        "",
        [GC],
    ),
    (
        "SC8 greeks --svi forward defaults to the strike",
        "hedgevault/cli.py",
        'forward = spot if args.forward is None else to_wad(args.forward, "--forward")',
        'forward = strike if args.forward is None else to_wad(args.forward, "--forward")',
        [GC],
    ),
    (
        "SC9 decimals parsed at decimal's default 28 digits",
        "hedgevault/units.py",
        "ctx.prec = max(ctx.prec, len(value.as_tuple().digits) + decimals + 2)",
        "pass",
        [GC],
    ),
]
SKM = "tests/sim/test_skew_market.py"
SKC = "tests/sim/test_skew_chain.py"
mutants += [
    # ---- the skewed market and the informed buyer (issue 13, SK*)
    (
        "SK1 the informed buyer buys at a tie",
        "hedgevault/sim/agents.py",
        "return vault_units < market_units",
        "return vault_units <= market_units",
        [SKM + "::test_informed_rule_trades_only_against_a_mispriced_vault"],
    ),
    (
        "SK2 the informed buyer trades without comparing",
        "hedgevault/sim/engine.py",
        "if not informed_wants(side, vault_units, market_units):",
        "if side == 'never':",
        [SKC + "::test_informed_buyer_trades_only_where_the_vault_is_cheaper"],
    ),
    (
        "SK3 in-the-money options quoted",
        "hedgevault/sim/market.py",
        "is_call = strike >= spot",
        "is_call = strike <= spot",
        [SKM + "::test_quotes_are_out_of_the_money_around_merton_prices_and_stop_near_expiry"],
    ),
    (
        "SK4 the jumps' compensator dropped from the path",
        "hedgevault/sim/scenario.py",
        "drift_dt = (drift - merton.lam * kappa - merton.sigma**2 / 2) * dt",
        "drift_dt = (drift - merton.sigma**2 / 2) * dt",
        [SKM + "::test_merton_path_is_seeded_and_jumps_as_its_parameters_say"],
    ),
    (
        "SK5 the informed buyer's buys not booked in its holdings (its mark)",
        "hedgevault/sim/engine.py",
        'self.holdings[key] = self.holdings.get(key, 0) + (amount if side == "buy" else -amount)',
        'self.holdings[key] = self.holdings.get(key, 0) + (0 if side == "buy" else -amount)',
        [SKC + "::test_informed_buyer_trades_only_where_the_vault_is_cheaper"],
    ),
    (
        "SK6 the keeper re-posts its last good slice unscaled",
        "hedgevault/keeper/oracles.py",
        "candidate = refreshed(on_chain, pts.expiry - last_at, pts.time_sec)",
        "candidate = on_chain",
        ["tests/sim/test_skew_keeper_refresh.py"],
    ),
    # ---- one source of truth (branch tidy, TD*)
    (
        "TD1 the fee rule cuts the tip at the cap instead of refusing (the keeper's old rule)",
        "hedgevault/chain/sending.py",
        "if fee_cap_wei < base_fee_wei + priority_fee_wei:",
        "if fee_cap_wei < base_fee_wei:",
        ["tests/keeper/test_keeper_decisions.py::test_one_fee_rule_at_the_cap_and_one_past"],
    ),
    (
        "TD2 the keeper's explanation takes the user's next step",
        "hedgevault/hints.py",
        "return None if hint is None else _joined(hint.means, hint.keeper)",
        "return None if hint is None else _joined(hint.means, hint.user)",
        ["tests/unit/test_hints.py"],
    ),
    (
        "TD3 a mirrored error worded a second time in the table",
        "hedgevault/hints.py",
        "_WRITTEN: dict[str, Hint] = {",
        '_WRITTEN: dict[str, Hint] = {\n    "SviBNegative": Hint("the slice\'s b is negative"),',
        ["tests/unit/test_hints.py"],
    ),
    (
        "TD4 the live series read misses the newest",
        "hedgevault/ops/reads.py",
        'ids = [int(i) for i in rpc.call(Call(suite.vault, "liveSeries", ()))]',
        'ids = [int(i) for i in rpc.call(Call(suite.vault, "liveSeries", ()))][:-1]',
        ["tests/ops/test_read_round_trips.py::test_live_series_are_read_in_one_batch_however_many"],
    ),
]
SWU = "tests/surface/test_svi_walk.py"
SWK = "tests/keeper/test_keeper_surface_walk.py"
WALK = "hedgevault/surface/walk.py"
mutants += [
    # ---- the keeper's walk toward a fit the rate limit refuses (branch svwalk, SW*)
    (
        "SW1 the blend rounds a down",
        WALK,
        "a36=_ceil_div(exact(start.a36, target.a36), den * A_UNIT_36) * A_UNIT_36,",
        "a36=exact(start.a36, target.a36) // (den * A_UNIT_36) * A_UNIT_36,",
        [SWU + "::test_blend_rounds_each_parameter_to_the_safe_side_and_keeps_the_ends"],
    ),
    (
        "SW2 the blend rounds b up",
        WALK,
        "b_wad=max(0, exact(start.b_wad, target.b_wad) // nano) * NANO_WAD,",
        "b_wad=max(0, _ceil_div(exact(start.b_wad, target.b_wad), nano)) * NANO_WAD,",
        [SWU + "::test_blend_rounds_each_parameter_to_the_safe_side_and_keeps_the_ends"],
    ),
    (
        "SW3 the blend floors rho (away from zero below it)",
        WALK,
        "rho_wad=_trunc_div(exact(start.rho_wad, target.rho_wad), nano) * NANO_WAD,",
        "rho_wad=exact(start.rho_wad, target.rho_wad) // nano * NANO_WAD,",
        [SWU + "::test_blend_rounds_each_parameter_to_the_safe_side_and_keeps_the_ends"],
    ),
    (
        "SW4 the bisection stops one halving early (lambda short of the limit)",
        WALK,
        "while hi - lo > 1:",
        "while hi - lo > 2:",
        [SWU + "::test_the_walk_stops_exactly_at_the_limit_and_one_quantum_further_is_refused"],
    ),
    (
        "SW5 the walk does not ask the rules about a candidate (moves faster than the limit)",
        WALK,
        "why = rules.refusal(candidate)",
        "why = None",
        [SWU + "::test_the_walk_stops_exactly_at_the_limit_and_one_quantum_further_is_refused"],
    ),
    (
        "SW6 a fit refused for arbitrage counted as refused only for the rate limit",
        WALK,
        "return replace(self, allowed_step_wad=self.max_vol_wad).refusal(s) is None",
        "return True",
        [SWU + "::test_a_target_refused_for_arbitrage_is_not_walked_toward"],
    ),
    (
        "SW7 the walk's rules lose the farther expiry (calendar arbitrage walked toward)",
        "hedgevault/keeper/oracles.py",
        "rules = replace(rules, farther=farther)",
        "rules = replace(rules, farther=None)",
        [SWK + "::test_a_fit_refused_for_calendar_arbitrage_is_not_walked_toward_a_lagging_farther_slice_is"],
    ),
    (
        "SW8 blend_shape blends rho instead of b rho (the variance no longer the blend's)",
        WALK,
        "rho = 0 if b == 0 else _trunc_div(c_td, den * b * NANO_WAD) * NANO_WAD",
        "rho = _trunc_div(start.rho_wad * den + (target.rho_wad - start.rho_wad) * num, den * NANO_WAD) * NANO_WAD",
        [SWU + "::test_blend_shape_is_the_blend_of_the_total_variances_and_moves_every_vol_monotonically"],
    ),
    (
        "SW9 an unreached fit waits for the quotes file to change",
        "hedgevault/keeper/oracles.py",
        "if mtime != self._mtime or self._unreached:",
        "if mtime != self._mtime:",
        [SWK + "::test_a_skew_jump_beyond_the_limit_is_walked_to_in_steps_within_the_limit"],
    ),
    (
        "SW11 a fit crossing only the lagging on-chain farther slice not walked toward",
        "hedgevault/keeper/oracles.py",
        "if not replace(rules, farther=far_fit.slice).refused_only_for_rate(target):",
        "if True:",
        [SWK + "::test_a_fit_refused_for_calendar_arbitrage_is_not_walked_toward_a_lagging_farther_slice_is"],
    ),
    (
        "SW12 a fit crossing the quotes' own farther smile walked toward",
        "hedgevault/keeper/oracles.py",
        "if not replace(rules, farther=far_fit.slice).refused_only_for_rate(target):",
        "if False:",
        [SWK + "::test_a_fit_refused_for_calendar_arbitrage_is_not_walked_toward_a_lagging_farther_slice_is"],
    ),
    (
        "SW10 the keeper walks the parameters' blend only (vols not monotone per strike)",
        "hedgevault/keeper/oracles.py",
        "walk_toward(reshape(start, target, rules.strikes_wad, pts.forward_wad), target, rules, path=blend_shape)",
        "walk_toward(start, target, rules)",
        [SWK + "::test_a_skew_jump_beyond_the_limit_is_walked_to_in_steps_within_the_limit"],
    ),
]
# ---- the oracle's one-word post and slice on the storage grid (branch svone: SO*)
SOT = "tests/vault/test_vol_surface_storage.py::"
mutants += [
    (
        "SO1 a smile off the storage grid stored (its parameters cut to the grid's steps)",
        VOL,
        "        if (s.bWad != 0) _checkGrid(s);\n",
        "",
        [SOT + "test_a_smile_off_the_storage_grid_is_refused_naming_the_field"],
    ),
    (
        "SO2 no grid check of rho (a negative remainder)",
        VOL,
        '        if (s.rhoWad % NANO_WAD != 0) revert VolSliceOffGrid("rhoWad", s.rhoWad, NANO_WAD);\n',
        "",
        [SOT + "test_a_smile_off_the_storage_grid_is_refused_naming_the_field"],
    ),
    (
        "SO3 a's field read one bit narrower",
        VOL,
        "mstore(s, mul(sar(188, shl(11, w)), A_UNIT_36))",
        "mstore(s, mul(sar(189, shl(12, w)), A_UNIT_36))",
        [SOT + "test_slices_at_the_edges_of_their_fields_read_back_whole"],
    ),
    (
        "SO4 rho's field read one bit narrower",
        VOL,
        "mstore(add(s, 0x40), mul(sar(225, shl(146, w)), NANO_WAD))",
        "mstore(add(s, 0x40), mul(sar(226, shl(147, w)), NANO_WAD))",
        [SOT + "test_slices_at_the_edges_of_their_fields_read_back_whole"],
    ),
    (
        "SO5 m's field read one bit narrower",
        VOL,
        "mstore(add(s, 0x60), mul(sar(222, shl(112, w)), NANO_WAD))",
        "mstore(add(s, 0x60), mul(sar(223, shl(113, w)), NANO_WAD))",
        [SOT + "test_slices_at_the_edges_of_their_fields_read_back_whole"],
    ),
    (
        "SO6 sigma's field read one bit narrower",
        VOL,
        "mul(and(shr(SIGMA_SHIFT, w), 0x1ffffffff), NANO_WAD)",
        "mul(and(shr(SIGMA_SHIFT, w), 0xffffffff), NANO_WAD)",
        [SOT + "test_slices_at_the_edges_of_their_fields_read_back_whole"],
    ),
    (
        "SO7 b's field read one bit narrower (Lee's bound: b <= 2)",
        VOL,
        "let b := and(shr(B_SHIFT, w), 0x7fffffff)",
        "let b := and(shr(B_SHIFT, w), 0x3fffffff)",
        [SOT + "test_slices_at_the_edges_of_their_fields_read_back_whole"],
    ),
    (
        "SO8 a negative rho stored without its field's mask (it spills into m)",
        VOL,
        "| ((uint256(s.rhoWad / NANO_WAD) & ((1 << RHO_BITS) - 1)) << RHO_SHIFT)",
        "| (uint256(s.rhoWad / NANO_WAD) << RHO_SHIFT)",
        [VS + "::test_a_slice_post_reads_back_and_each_strike_has_the_mirrors_vol"],
    ),
    (
        "SO9 the rate limit after a smile from the word's empty vol field (its at-the-money vol not computed)",
        VOL,
        "uint256 previous = last.slice.bWad == 0 ? last.volWad : _atmOf(expiry, last);",
        "uint256 previous = last.volWad;",
        [SOT + "test_the_strike_set_keeps_every_strike_in_order_across_posts"],
    ),
    (
        "SO10 lastPost answers a smile's empty vol field",
        VOL,
        "return (_volOf(expiry, post), post.updatedAt);",
        "return (post.volWad, post.updatedAt);",
        [VS + "::test_a_slice_post_reads_back_and_each_strike_has_the_mirrors_vol"],
    ),
    (
        "SO11 the keeper's quantisation rounds a down",
        "hedgevault/surface/fit.py",
        "a36=math.ceil(a * 10**18) * A_UNIT_36,",
        "a36=math.floor(a * 10**18) * A_UNIT_36,",
        ["tests/unit/test_svi_fit.py::test_quantise_puts_a_fit_on_the_oracles_storage_grid_toward_the_safe_side"],
    ),
    (
        "SO12 the check mirror without the grid (the keeper would send a post the oracle refuses)",
        "hedgevault/surface/oracle_rules.py",
        "    mirror.check_params(s)\n    check_on_grid(s)\n",
        "    mirror.check_params(s)\n",
        [SOT + "test_a_smile_off_the_storage_grid_is_refused_naming_the_field"],
    ),
]
only = sys.argv[1:]
for name, f, old, new, tests, *extra in mutants:
    if only and name.split()[0] not in only:
        continue
    p = root / f
    src = p.read_text()
    if src.count(old) != 1:
        # the code moved under the mutant: it tests nothing until its pattern is brought up to date
        # (tests/unit/test_mutant_patterns.py fails on it too)
        print(f"{name}: STALE (pattern found {src.count(old)} times in {f}, need exactly 1)", flush=True)
        continue
    mutated = src.replace(old, new)
    for extra_old, extra_new in extra:
        mutated = mutated.replace(extra_old, extra_new)
    p.write_text(mutated)
    try:
        r = subprocess.run(
            [str(root / ".venv/bin/pytest"), "-q", "-x", "-p", "no:cacheprovider", *tests],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=900,
        )
        lines = [line for line in r.stdout.splitlines() if line.strip()]
        tail = lines[-1] if lines else r.stderr.strip()[-200:]
        # a mutant that does not compile (or a test that errors) proves nothing: only failed tests kill
        verdict = "KILLED" if " failed" in tail else ("SURVIVED" if r.returncode == 0 else "BROKEN")
        print(f"{name}: {verdict} ({tail})", flush=True)
    finally:
        p.write_text(src)
