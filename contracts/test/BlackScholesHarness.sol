// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBlackScholes} from "../../interfaces/IBlackScholes.sol";
import {BlackScholes} from "../libraries/BlackScholes.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {NormalDist} from "../libraries/NormalDist.sol";

/// @title BlackScholesHarness
/// @notice Test-only: exposes the library to Python (single calls, batches that capture each
/// revert, and gas measured around the library call alone, excluding ABI decoding and dispatch).
contract BlackScholesHarness is IBlackScholes {
    struct Input {
        uint256 spotWad;
        uint256 strikeWad;
        uint256 timeSec;
        uint256 volWad;
        int256 rateWad;
    }

    struct IvInput {
        uint256 priceWad;
        uint256 spotWad;
        uint256 strikeWad;
        uint256 timeSec;
        int256 rateWad;
        bool isCall;
    }

    /// @inheritdoc IBlackScholes
    function greeks(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        external
        pure
        returns (Greeks memory)
    {
        return BlackScholes.greeks(spotWad, strikeWad, timeSec, volWad, rateWad);
    }

    /// @inheritdoc IBlackScholes
    function price(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        external
        pure
        returns (uint256 callWad, uint256 putWad)
    {
        return BlackScholes.price(spotWad, strikeWad, timeSec, volWad, rateWad);
    }

    /// @inheritdoc IBlackScholes
    function delta(uint256 spotWad, uint256 strikeWad, uint256 timeSec, uint256 volWad, int256 rateWad)
        external
        pure
        returns (uint256 callDeltaWad, int256 putDeltaWad)
    {
        return BlackScholes.delta(spotWad, strikeWad, timeSec, volWad, rateWad);
    }

    /// @inheritdoc IBlackScholes
    function impliedVol(
        uint256 priceWad,
        uint256 spotWad,
        uint256 strikeWad,
        uint256 timeSec,
        int256 rateWad,
        bool isCall
    ) external pure returns (uint256 volWad) {
        return BlackScholes.impliedVol(priceWad, spotWad, strikeWad, timeSec, rateWad, isCall);
    }

    // ------------------------------------------------------------------ batches (revert data kept)

    function batchGreeks(Input[] calldata inputs)
        external
        view
        returns (bytes[] memory reverts, Greeks[] memory results)
    {
        reverts = new bytes[](inputs.length);
        results = new Greeks[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata p = inputs[i];
            try this.greeks(p.spotWad, p.strikeWad, p.timeSec, p.volWad, p.rateWad) returns (Greeks memory g) {
                results[i] = g;
            } catch (bytes memory reason) {
                reverts[i] = reason;
            }
        }
    }

    function batchPrice(Input[] calldata inputs)
        external
        view
        returns (bytes[] memory reverts, uint256[2][] memory results)
    {
        reverts = new bytes[](inputs.length);
        results = new uint256[2][](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata p = inputs[i];
            try this.price(p.spotWad, p.strikeWad, p.timeSec, p.volWad, p.rateWad) returns (uint256 c, uint256 q) {
                results[i] = [c, q];
            } catch (bytes memory reason) {
                reverts[i] = reason;
            }
        }
    }

    function batchDelta(Input[] calldata inputs)
        external
        view
        returns (bytes[] memory reverts, int256[2][] memory results)
    {
        reverts = new bytes[](inputs.length);
        results = new int256[2][](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata p = inputs[i];
            try this.delta(p.spotWad, p.strikeWad, p.timeSec, p.volWad, p.rateWad) returns (uint256 c, int256 q) {
                results[i] = [int256(c), q];
            } catch (bytes memory reason) {
                reverts[i] = reason;
            }
        }
    }

    function batchImpliedVol(IvInput[] calldata inputs)
        external
        view
        returns (bytes[] memory reverts, uint256[] memory results)
    {
        reverts = new bytes[](inputs.length);
        results = new uint256[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            IvInput calldata p = inputs[i];
            try this.impliedVol(p.priceWad, p.spotWad, p.strikeWad, p.timeSec, p.rateWad, p.isCall) returns (
                uint256 v
            ) {
                results[i] = v;
            } catch (bytes memory reason) {
                reverts[i] = reason;
            }
        }
    }

    // ------------------------------------------------------------------ approximations, batched

    function batchCdfQ96(int256[] calldata xs) external pure returns (uint256[] memory out) {
        out = new uint256[](xs.length);
        for (uint256 i; i < xs.length; ++i) out[i] = NormalDist.cdfQ96(xs[i]);
    }

    function batchPdfQ96(int256[] calldata xs) external pure returns (uint256[] memory out) {
        out = new uint256[](xs.length);
        for (uint256 i; i < xs.length; ++i) out[i] = NormalDist.pdfQ96(xs[i]);
    }

    function batchExpQ96(int256[] calldata xs) external pure returns (uint256[] memory out) {
        out = new uint256[](xs.length);
        for (uint256 i; i < xs.length; ++i) out[i] = FixedPointMath.expQ96(xs[i]);
    }

    function batchLnRatioQ96(uint256[2][] calldata xs) external pure returns (int256[] memory out) {
        out = new int256[](xs.length);
        for (uint256 i; i < xs.length; ++i) out[i] = FixedPointMath.lnRatioQ96(xs[i][0], xs[i][1]);
    }

    function batchSqrt(uint256[] calldata xs) external pure returns (uint256[] memory out) {
        out = new uint256[](xs.length);
        for (uint256 i; i < xs.length; ++i) out[i] = FixedPointMath.sqrt(xs[i]);
    }

    // ------------------------------------------------------------------ gas of the library call alone

    function gasGreeks(Input calldata p) external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        BlackScholes.greeks(p.spotWad, p.strikeWad, p.timeSec, p.volWad, p.rateWad);
        gasUsed = before - gasleft();
    }

    function gasPrice(Input calldata p) external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        BlackScholes.price(p.spotWad, p.strikeWad, p.timeSec, p.volWad, p.rateWad);
        gasUsed = before - gasleft();
    }

    function gasDelta(Input calldata p) external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        BlackScholes.delta(p.spotWad, p.strikeWad, p.timeSec, p.volWad, p.rateWad);
        gasUsed = before - gasleft();
    }

    function gasImpliedVol(IvInput calldata p) external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        BlackScholes.impliedVol(p.priceWad, p.spotWad, p.strikeWad, p.timeSec, p.rateWad, p.isCall);
        gasUsed = before - gasleft();
    }
}
