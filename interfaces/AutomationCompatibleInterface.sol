// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title AutomationCompatibleInterface
/// @notice Chainlink Automation's upkeep interface, declared here because the Chainlink contracts npm package does
/// not install on our machines. Same selectors as Chainlink's own declaration.
interface AutomationCompatibleInterface {
    /// @notice Simulated off-chain by keepers: whether `performUpkeep` has work to do and with which data.
    /// @param checkData Static data registered with the upkeep (unused by hedgevault's vaults).
    /// @return upkeepNeeded True when `performUpkeep(performData)` should be sent.
    /// @return performData Hints for `performUpkeep`; the contract verifies them again.
    function checkUpkeep(bytes calldata checkData) external returns (bool upkeepNeeded, bytes memory performData);

    /// @notice Does the work found by `checkUpkeep`. Callable by anyone: it must recompute and check
    /// everything on-chain and never trust `performData`.
    function performUpkeep(bytes calldata performData) external;
}
