// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";
import {Console} from "../utils/Console.sol";

/// What an invariant handler checks inside an action, kept as a ghost, and how often each of its
/// actions did real work in the run (`calls`, printed by the suites' `afterInvariant` with
/// `forge test -vv`, so that an action the sequences stop reaching shows). With
/// `fail_on_revert = false` an `assert` or `require` in a handler reverts like any refused call
/// and forge discards it, so such a check could never fail a run: a handler records a failed
/// check here instead (the action goes on), and each suite's `invariant_handlerChecksHold`
/// asserts that none failed.
abstract contract HandlerChecks is Test {
    /// How many checks failed, and the first one's message.
    uint256 public failedChecks;
    string public firstFailedCheck;

    /// Each action's count in this run (an action that returned early is not counted).
    mapping(string => uint256) public calls;
    string[] internal _actions;

    /// Names the handler's actions, in the order `actionCounts` prints them.
    function _declareActions(string[] memory names) internal {
        for (uint256 i; i < names.length; ++i) {
            _actions.push(names[i]);
        }
    }

    /// Steers a bucket withdrawal: the first matured bucket (completion at most `current`)
    /// from `index` on, cyclically; with none matured, the clock runs to the earliest
    /// completion (as a holder waiting to withdraw would, since a run's few `advance` calls
    /// rarely cover the unbonding period) and that bucket is taken.
    function _maturedBucket(
        uint64[] memory completions,
        uint256 index,
        uint64 current,
        uint256 genesis,
        uint256 epochLength
    ) internal returns (uint256 i) {
        i = bound(index, 0, completions.length - 1);
        uint256 earliest = i;
        for (uint256 k; k < completions.length && completions[i] > current; ++k) {
            i = (i + 1) % completions.length;
            if (completions[i] < completions[earliest]) earliest = i;
        }
        if (completions[i] > current) {
            i = earliest;
            vm.warp(genesis + uint256(completions[i]) * epochLength + 1);
        }
    }

    /// Counts one run of `action`.
    function _count(string memory action) internal {
        calls[action] += 1;
    }

    /// One line: each declared action and its count in this run.
    function actionCounts() public view returns (string memory line) {
        for (uint256 i; i < _actions.length; ++i) {
            line = string.concat(line, i == 0 ? "" : ", ", _actions[i], " ", vm.toString(calls[_actions[i]]));
        }
    }

    /// Prints `actionCounts` under `label`, then how many of the runs so far reached each action
    /// (the runs of every invariant of the suite in this `forge test`, tallied in environment
    /// variables named after `label`, since each run starts again from the suite's setUp). A
    /// drop of an action's share of runs shows there.
    function logActionCounts(string memory label) external {
        Console.log(string.concat(label, " actions this run: ", actionCounts()));
        string memory key = string.concat("SEQSTAKE_RUNS_", vm.toString(keccak256(bytes(label))));
        uint256 runs = vm.envOr(key, uint256(0)) + 1;
        vm.setEnv(key, vm.toString(runs));
        string memory line;
        for (uint256 i; i < _actions.length; ++i) {
            string memory k = string.concat(key, "_", _actions[i]);
            uint256 reached = vm.envOr(k, uint256(0)) + (calls[_actions[i]] > 0 ? 1 : 0);
            vm.setEnv(k, vm.toString(reached));
            line = string.concat(line, i == 0 ? "" : ", ", _actions[i], " ", vm.toString(reached));
        }
        Console.log(string.concat(label, " runs reaching each action, of ", vm.toString(runs), ": ", line));
    }

    /// Records `what` as failed unless `ok`.
    function _check(bool ok, string memory what) internal {
        if (ok) return;
        if (failedChecks == 0) firstFailedCheck = what;
        failedChecks += 1;
    }
}
