// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A recipient that refuses every native transfer, for the "recipient reverts" paths.
contract Refuser {
    receive() external payable {
        revert("refused");
    }
}
