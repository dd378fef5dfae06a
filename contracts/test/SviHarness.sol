// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISviMath} from "../../interfaces/ISviMath.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SviMath} from "../libraries/SviMath.sol";

/// @title SviHarness
/// @notice Test-only: exposes `SviMath` to Python (single calls, batches that keep each revert's bytes, and gas
/// measured around the library call alone, inputs already in memory).
contract SviHarness {
    /// @notice One expiry's post, as the oracle would check it: the slice, its grid and neighbours, and the
    /// rate limit against the previous slice of the same expiry at the listed strikes.
    struct PostInput {
        ISviMath.SviSlice slice;
        ISviMath.SviGrid grid;
        ISviMath.SviSlice nearer;
        bool hasNearer;
        ISviMath.SviSlice farther;
        bool hasFarther;
        ISviMath.SviSlice previous;
        uint256 previousTimeSec;
        uint256 timeSec;
        uint256[] strikesWad;
        uint256 forwardWad;
        uint256 maxStepWad;
    }

    struct VolInput {
        ISviMath.SviSlice slice;
        uint256 strikeWad;
        uint256 forwardWad;
        uint256 timeSec;
    }

    function varianceDown(ISviMath.SviSlice memory s, int256 kWad) public pure returns (int256) {
        return SviMath.varianceDown(s, kWad);
    }

    function logMoneynessWad(uint256 strikeWad, uint256 forwardWad) public pure returns (int256) {
        return SviMath.logMoneynessWad(strikeWad, forwardWad);
    }

    function volWad(ISviMath.SviSlice memory s, uint256 strikeWad, uint256 forwardWad, uint256 timeSec)
        public
        pure
        returns (uint256)
    {
        return SviMath.volWad(s, strikeWad, forwardWad, timeSec);
    }

    function flatSlice(uint256 volWad_, uint256 timeSec) public pure returns (ISviMath.SviSlice memory) {
        return SviMath.flatSlice(volWad_, timeSec);
    }

    function checkParams(ISviMath.SviSlice memory s) public pure {
        SviMath.checkParams(s);
    }

    function checkArbitrage(
        ISviMath.SviSlice memory s,
        ISviMath.SviGrid memory grid,
        ISviMath.SviSlice memory nearer,
        bool hasNearer,
        ISviMath.SviSlice memory farther,
        bool hasFarther
    ) public pure {
        SviMath.checkArbitrage(s, grid, nearer, hasNearer, farther, hasFarther);
    }

    function checkRateLimit(
        ISviMath.SviSlice memory previous,
        uint256 previousTimeSec,
        ISviMath.SviSlice memory s,
        uint256 timeSec,
        uint256[] memory strikesWad,
        uint256 forwardWad,
        uint256 maxStepWad
    ) public pure {
        SviMath.checkRateLimit(previous, previousTimeSec, s, timeSec, strikesWad, forwardWad, maxStepWad);
    }

    /// @notice The post's checks in the oracle's order: parameters, arbitrage on the grid, rate limit.
    function checkPost(PostInput memory p) public pure {
        _checkPost(p);
    }

    // ------------------------------------------------------------------ batches (revert data kept)

    /// @notice Each input's volatility, or its revert data.
    function batchVol(VolInput[] calldata inputs)
        external
        view
        returns (bytes[] memory reverts, uint256[] memory vols)
    {
        reverts = new bytes[](inputs.length);
        vols = new uint256[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            VolInput calldata v = inputs[i];
            try this.volWad(v.slice, v.strikeWad, v.forwardWad, v.timeSec) returns (uint256 vol) {
                vols[i] = vol;
            } catch (bytes memory data) {
                reverts[i] = data;
            }
        }
    }

    /// @notice `FixedPointMath.sqrt` (the square root `SviMath` uses) of each input.
    function batchSqrt(uint256[] calldata xs) external pure returns (uint256[] memory roots) {
        roots = new uint256[](xs.length);
        for (uint256 i; i < xs.length; ++i) {
            roots[i] = FixedPointMath.sqrt(xs[i]);
        }
    }

    /// @notice floor(sqrt(d^2 + sigma^2)) of each pair (d, sigma), as `SviMath.varianceDown` computes it: w of
    /// the slice a = rho = m = 0, b = 1e-18 at k = d is the root itself.
    function batchHypot(int256[] calldata ds, int256[] calldata sigmas) external pure returns (uint256[] memory roots) {
        roots = new uint256[](ds.length);
        for (uint256 i; i < ds.length; ++i) {
            roots[i] = uint256(SviMath.varianceDown(ISviMath.SviSlice(0, 1, 0, 0, sigmas[i]), ds[i]));
        }
    }

    /// @notice Each slice's w at each k (rounded down, 1e36 units); slices and ks pair up by index.
    function batchVariance(ISviMath.SviSlice[] calldata slices, int256[] calldata ksWad)
        external
        pure
        returns (int256[] memory w36)
    {
        w36 = new int256[](slices.length);
        for (uint256 i; i < slices.length; ++i) {
            w36[i] = SviMath.varianceDown(slices[i], ksWad[i]);
        }
    }

    /// @notice Each slice's `checkParams` revert data (empty when it passed).
    function batchCheckParams(ISviMath.SviSlice[] calldata slices) external view returns (bytes[] memory reverts) {
        reverts = new bytes[](slices.length);
        for (uint256 i; i < slices.length; ++i) {
            try this.checkParams(slices[i]) {}
            catch (bytes memory data) {
                reverts[i] = data;
            }
        }
    }

    /// @notice Each post's revert data (empty when it passed).
    function batchCheckPost(PostInput[] calldata inputs) external view returns (bytes[] memory reverts) {
        reverts = new bytes[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            try this.checkPost(inputs[i]) {}
            catch (bytes memory data) {
                reverts[i] = data;
            }
        }
    }

    // ------------------------------------------------------------------ gas of the library calls alone

    /// @notice Gas of `SviMath.volWad` alone.
    function gasVol(ISviMath.SviSlice memory s, uint256 strikeWad, uint256 forwardWad, uint256 timeSec)
        external
        view
        returns (uint256 gasUsed)
    {
        uint256 before = gasleft();
        SviMath.volWad(s, strikeWad, forwardWad, timeSec);
        gasUsed = before - gasleft();
    }

    /// @notice Gas of `SviMath.volAtLogMoneyness` alone (k given: the logarithm shared with the pricer).
    function gasVolAtK(ISviMath.SviSlice memory s, int256 kWad, uint256 timeSec)
        external
        view
        returns (uint256 gasUsed)
    {
        uint256 before = gasleft();
        SviMath.volAtLogMoneyness(s, kWad, timeSec);
        gasUsed = before - gasleft();
    }

    /// @notice Gas of a post's checks alone (`checkParams` + `checkArbitrage` + `checkRateLimit`).
    function gasCheckPost(PostInput memory p) external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        _checkPost(p);
        gasUsed = before - gasleft();
    }

    /// @notice Gas of each part: params, arbitrage, rate limit.
    function gasCheckPostParts(PostInput memory p)
        external
        view
        returns (uint256 paramsGas, uint256 arbitrageGas, uint256 rateGas)
    {
        uint256 before = gasleft();
        SviMath.checkParams(p.slice);
        paramsGas = before - gasleft();
        before = gasleft();
        SviMath.checkArbitrage(p.slice, p.grid, p.nearer, p.hasNearer, p.farther, p.hasFarther);
        arbitrageGas = before - gasleft();
        before = gasleft();
        SviMath.checkRateLimit(
            p.previous, p.previousTimeSec, p.slice, p.timeSec, p.strikesWad, p.forwardWad, p.maxStepWad
        );
        rateGas = before - gasleft();
    }

    function _checkPost(PostInput memory p) private pure {
        SviMath.checkParams(p.slice);
        SviMath.checkArbitrage(p.slice, p.grid, p.nearer, p.hasNearer, p.farther, p.hasFarther);
        SviMath.checkRateLimit(
            p.previous, p.previousTimeSec, p.slice, p.timeSec, p.strikesWad, p.forwardWad, p.maxStepWad
        );
    }
}
