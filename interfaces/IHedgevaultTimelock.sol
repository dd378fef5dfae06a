// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IHedgevaultTimelock
/// @notice What hedgevault adds to OpenZeppelin's `TimelockController`, which holds `DEFAULT_ADMIN_ROLE` of
/// every access-controlled contract of a deployed suite (vault, price oracle, volatility oracle): a hard
/// floor under the delay. Every admin change (risk parameters, limits, hedge parameters, fee recipient, role
/// grants) is scheduled with `schedule`, visible in `CallScheduled` events for at least the delay, and only
/// then executable; depositors can read the queue and withdraw before a change they dislike takes effect.
/// Units: delays are seconds.
/// @dev Warning: the floor binds the timelock's own `getMinDelay()` only. Roles that act at once by design
/// (the vault's GUARDIAN_ROLE pause, LISTER_ROLE, the volatility oracle's VOL_UPDATER_ROLE) are outside it.
interface IHedgevaultTimelock {
    /// @notice A delay (at construction or through `updateDelay`) below the hard floor.
    error DelayBelowMinimum(uint256 delay, uint256 minimum);

    /// @notice The hard floor of the delay in seconds (1 hour); no operation can make the delay shorter.
    function MINIMUM_DELAY_SEC() external view returns (uint256);
}
