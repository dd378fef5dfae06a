// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPortfolioMath} from "../../interfaces/IPortfolioMath.sol";
import {CovarianceMath} from "../oracles/CovarianceMath.sol";
import {PortfolioMath} from "../portfolio/PortfolioMath.sol";

/// @title PortfolioHarness
/// @notice Test-only: exposes `CovarianceMath.checkPsd` and `PortfolioMath.verify` to Python (single calls,
/// batches that keep each revert's bytes, and gas measured around the library call alone).
contract PortfolioHarness {
    struct PsdInput {
        uint256[2] corrsBp;
        uint256 n;
        uint256 tolBp;
    }

    struct VerifyInput {
        int256[] weightsWad;
        int256[] covWad;
        IPortfolioMath.TargetRules rules;
    }

    function checkPsd(uint256[2] memory corrsBp, uint256 n, uint256 tolBp) public pure {
        CovarianceMath.checkPsd(corrsBp, n, tolBp);
    }

    function verify(int256[] memory weightsWad, int256[] memory covWad, IPortfolioMath.TargetRules memory rules)
        public
        pure
        returns (uint256 volWad)
    {
        return PortfolioMath.verify(weightsWad, covWad, rules);
    }

    /// @notice Each input's revert data (empty when it passed).
    function batchCheckPsd(PsdInput[] calldata inputs) external view returns (bytes[] memory reverts) {
        reverts = new bytes[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            try this.checkPsd(inputs[i].corrsBp, inputs[i].n, inputs[i].tolBp) {}
            catch (bytes memory data) {
                reverts[i] = data;
            }
        }
    }

    /// @notice Each input's volatility, or its revert data.
    function batchVerify(VerifyInput[] calldata inputs)
        external
        view
        returns (bytes[] memory reverts, uint256[] memory volsWad)
    {
        reverts = new bytes[](inputs.length);
        volsWad = new uint256[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            try this.verify(inputs[i].weightsWad, inputs[i].covWad, inputs[i].rules) returns (uint256 v) {
                volsWad[i] = v;
            } catch (bytes memory data) {
                reverts[i] = data;
            }
        }
    }

    /// @notice Gas of `CovarianceMath.checkPsd` alone.
    function gasCheckPsd(uint256[2] memory corrsBp, uint256 n, uint256 tolBp) external view returns (uint256) {
        uint256 before = gasleft();
        CovarianceMath.checkPsd(corrsBp, n, tolBp);
        return before - gasleft();
    }

    /// @notice Gas of `PortfolioMath.verify` alone (inputs already in memory).
    function gasVerify(int256[] memory weightsWad, int256[] memory covWad, IPortfolioMath.TargetRules memory rules)
        external
        view
        returns (uint256)
    {
        uint256 before = gasleft();
        PortfolioMath.verify(weightsWad, covWad, rules);
        return before - gasleft();
    }
}
