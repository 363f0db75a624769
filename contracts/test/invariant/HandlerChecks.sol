// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";

/// What an invariant handler checks inside an action, kept as a ghost. With
/// `fail_on_revert = false` an `assert` or `require` in a handler reverts like any refused call
/// and forge discards it, so such a check could never fail a run: a handler records a failed
/// check here instead (the action goes on), and each suite's `invariant_handlerChecksHold`
/// asserts that none failed.
abstract contract HandlerChecks is Test {
    /// How many checks failed, and the first one's message.
    uint256 public failedChecks;
    string public firstFailedCheck;

    /// Records `what` as failed unless `ok`.
    function _check(bool ok, string memory what) internal {
        if (ok) return;
        if (failedChecks == 0) firstFailedCheck = what;
        failedChecks += 1;
    }
}
