// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {IHedgevaultTimelock} from "../../interfaces/IHedgevaultTimelock.sol";

/// @title HedgevaultTimelock
/// @notice OpenZeppelin's `TimelockController` with a hard minimum delay of 1 hour; see `IHedgevaultTimelock`.
/// Scheduling, execution, cancellation, roles and events are OpenZeppelin's, unchanged.
contract HedgevaultTimelock is IHedgevaultTimelock, TimelockController {
    /// @inheritdoc IHedgevaultTimelock
    uint256 public constant MINIMUM_DELAY_SEC = 1 hours;

    /// @param minDelaySec Initial delay in seconds, at least `MINIMUM_DELAY_SEC`.
    /// @param proposers Accounts that may schedule and cancel operations.
    /// @param executors Accounts that may execute ready operations (`address(0)` in the list: anyone).
    /// @param admin Optional extra admin of the timelock's own roles; `address(0)` leaves the timelock as its
    /// only admin (hedgevault deploys it so: role changes on the timelock are themselves timelocked).
    constructor(uint256 minDelaySec, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(_atLeastMinimum(minDelaySec), proposers, executors, admin)
    {}

    /// @notice Change the delay; callable only by the timelock itself (a scheduled operation), and never
    /// below `MINIMUM_DELAY_SEC`.
    function updateDelay(uint256 newDelaySec) public override {
        super.updateDelay(_atLeastMinimum(newDelaySec));
    }

    function _atLeastMinimum(uint256 delaySec) private pure returns (uint256) {
        if (delaySec < MINIMUM_DELAY_SEC) revert DelayBelowMinimum(delaySec, MINIMUM_DELAY_SEC);
        return delaySec;
    }
}
