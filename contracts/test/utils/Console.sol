// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice forge's console (forge-std is not available offline): a call to its address is
///         printed among a test's logs (`forge test -vv`).
library Console {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string)", message));
        ok;
    }
}
