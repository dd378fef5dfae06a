// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RebalanceMath} from "../portfolio/RebalanceMath.sol";

/// @title RebalanceHarness
/// @notice Test-only: exposes `RebalanceMath` to Python (batches for the differential tests against
/// `hedgevault.portfolio.mirror`, and gas measured around one call).
contract RebalanceHarness {
    struct BandInput {
        uint256 varianceWad;
        uint256 costBps;
        uint256 bandScaleBp;
        uint256 minBandWad;
        uint256 maxBandWad;
    }

    struct FormInput {
        int256[] x;
        int256[] covWad;
    }

    struct RcInput {
        int256[] w;
        int256[] covWad;
        uint256[] budgetWad;
        uint256 tolWad;
    }

    struct DeriskInput {
        int256[] w;
        int256[] t;
        int256[] covWad;
        uint256 maxVolWad;
        uint256 marginBps;
        uint256 dustWad;
    }

    /// @notice Each input's `deriskMask` (d = w - t, g = S d, gw = S w and v = w'Sw from `quadForm`, as the engine).
    function batchDeriskMask(DeriskInput[] calldata inputs) external pure returns (uint256[] memory out) {
        out = new uint256[](inputs.length);
        for (uint256 k; k < inputs.length; ++k) {
            DeriskInput calldata x = inputs[k];
            int256[] memory d = new int256[](x.w.length);
            for (uint256 i; i < d.length; ++i) {
                d[i] = x.w[i] - x.t[i];
            }
            (int256[] memory g,) = RebalanceMath.quadForm(d, x.covWad);
            (int256[] memory gw, int256 v) = RebalanceMath.quadForm(x.w, x.covWad);
            out[k] = RebalanceMath.deriskMask(d, g, gw, v, x.covWad, x.maxVolWad, x.marginBps, x.dustWad);
        }
    }

    /// @notice Each input's `riskContributionsOff` (g and v from `quadForm(w, S)`, as the engine).
    function batchRcOff(RcInput[] calldata inputs) external pure returns (bool[] memory out) {
        out = new bool[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            (int256[] memory g, int256 v) = RebalanceMath.quadForm(inputs[i].w, inputs[i].covWad);
            out[i] = RebalanceMath.riskContributionsOff(inputs[i].w, g, v, inputs[i].budgetWad, inputs[i].tolWad);
        }
    }

    function batchCbrt(uint256[] calldata xs) external pure returns (uint256[] memory out) {
        out = new uint256[](xs.length);
        for (uint256 i; i < xs.length; ++i) {
            out[i] = RebalanceMath.cbrt(xs[i]);
        }
    }

    function batchBand(BandInput[] calldata inputs) external pure returns (uint256[] memory out) {
        out = new uint256[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            BandInput calldata b = inputs[i];
            out[i] = RebalanceMath.bandWad(b.varianceWad, b.costBps, b.bandScaleBp, b.minBandWad, b.maxBandWad);
        }
    }

    function batchWeights(uint256[][] calldata values, uint256[] calldata navs)
        external
        pure
        returns (int256[][] memory out)
    {
        out = new int256[][](values.length);
        for (uint256 i; i < values.length; ++i) {
            out[i] = RebalanceMath.weightsWad(values[i], navs[i]);
        }
    }

    /// @notice Each input's (x'Sx in 1e54, its volatility, g = S x).
    function batchForm(FormInput[] calldata inputs)
        external
        pure
        returns (int256[] memory forms, uint256[] memory vols, int256[][] memory gradients)
    {
        forms = new int256[](inputs.length);
        vols = new uint256[](inputs.length);
        gradients = new int256[][](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            (gradients[i], forms[i]) = RebalanceMath.quadForm(inputs[i].x, inputs[i].covWad);
            vols[i] = RebalanceMath.volWad(forms[i]);
        }
    }

    function bandDistance54(int256 variance54, uint256 minVolWad, uint256 maxVolWad) external pure returns (uint256) {
        return RebalanceMath.bandDistance54(variance54, minVolWad, maxVolWad);
    }

    function stepWad(int256 driftWad, int256 gradient36, int256 varianceWad) external pure returns (uint256) {
        return RebalanceMath.stepWad(driftWad, gradient36, varianceWad);
    }

    /// @notice Gas of one `RebalanceMath.cbrt`.
    function gasCbrt(uint256 x) external view returns (uint256) {
        uint256 before = gasleft();
        RebalanceMath.cbrt(x);
        return before - gasleft();
    }
}
