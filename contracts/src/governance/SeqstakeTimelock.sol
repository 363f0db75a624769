// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title SeqstakeTimelock
/// @notice OpenZeppelin's TimelockController, deployed as the admin of every seqstake contract.
///         Its minimum delay must cover the longest exit ((unbonding + 1) epochs), so stakers can
///         leave before a scheduled change executes; the contracts check this at deployment.
contract SeqstakeTimelock is TimelockController {
    /// @param minDelay Seconds between scheduling and executing an operation.
    /// @param proposers May schedule (and cancel) operations.
    /// @param executors May execute ready operations (address(0) for anyone).
    /// @param admin Optional bootstrap admin of the timelock itself (address(0) for none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
