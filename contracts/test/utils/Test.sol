// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @title Test
/// @notice seqstake's own test base (forge-std is not available offline): the cheatcode handle,
///         assertions that revert with the values that differ, `bound` for fuzz inputs, and
///         the target lists forge reads for invariant tests.
abstract contract Test {
    /// @notice forge's cheatcode address, `address(uint160(uint256(keccak256("hevm cheat code"))))`.
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Read by forge: this contract holds tests.
    bool public constant IS_TEST = true;

    /// @notice A contract and the selectors of it that an invariant run may call.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;
    address[] private _targetedSenders;
    address[] private _excludedSenders;

    // ------------------------------------------------------------------------------------
    // Invariant targets (forge calls these view functions when it finds them)
    // ------------------------------------------------------------------------------------

    /// @notice Contracts the invariant fuzzer calls.
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @notice Selectors the invariant fuzzer calls, per contract.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    /// @notice Senders the invariant fuzzer uses (empty: random senders).
    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    /// @notice Senders the invariant fuzzer never uses.
    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function targetSelector(address target, bytes4[] memory selectors) internal {
        _targetedSelectors.push(FuzzSelector({addr: target, selectors: selectors}));
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function excludeSender(address sender) internal {
        _excludedSenders.push(sender);
    }

    // ------------------------------------------------------------------------------------
    // Shared vectors (tests/vectors, which the Rust side checks too)
    // ------------------------------------------------------------------------------------

    /// @notice The shared vector `name` (`tests/vectors/<name>.json`).
    function _vector(string memory name) internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/../tests/vectors/", name, ".json"));
    }

    /// @notice The decimal string at `key` as a number (vectors write amounts as strings).
    function _uint(string memory json, string memory key) internal pure returns (uint256) {
        return vm.parseUint(vm.parseJsonString(json, key));
    }

    /// @notice The array of decimal strings at `key` as numbers.
    function _uints(string memory json, string memory key) internal pure returns (uint256[] memory values) {
        string[] memory texts = vm.parseJsonStringArray(json, key);
        values = new uint256[](texts.length);
        for (uint256 i; i < texts.length; ++i) {
            values[i] = vm.parseUint(texts[i]);
        }
    }

    // ------------------------------------------------------------------------------------
    // Fuzz input shaping
    // ------------------------------------------------------------------------------------

    /// @notice Maps any `x` into `[min, max]`: values already inside are kept, others wrap
    ///         around the range, so every value of the range stays reachable.
    /// @dev Reverts if `min > max`.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 span = max - min;
        if (span == type(uint256).max) return x;
        return min + (x % (span + 1));
    }

    // ------------------------------------------------------------------------------------
    // Assertions: each reverts with both values when it fails
    // ------------------------------------------------------------------------------------

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(string.concat("assertTrue failed: ", message));
    }

    function assertTrue(bool condition) internal pure {
        assertTrue(condition, "");
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(string.concat("assertFalse failed: ", message));
    }

    function assertFalse(bool condition) internal pure {
        assertFalse(condition, "");
    }

    function assertEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left != right) {
            fail(_pair("assertEq(uint256)", vm.toString(left), "!=", vm.toString(right), message));
        }
    }

    function assertEq(uint256 left, uint256 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(int256 left, int256 right, string memory message) internal pure {
        if (left != right) {
            fail(_pair("assertEq(int256)", vm.toString(left), "!=", vm.toString(right), message));
        }
    }

    function assertEq(int256 left, int256 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(address left, address right, string memory message) internal pure {
        if (left != right) {
            fail(_pair("assertEq(address)", vm.toString(left), "!=", vm.toString(right), message));
        }
    }

    function assertEq(address left, address right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bytes32 left, bytes32 right, string memory message) internal pure {
        if (left != right) {
            fail(_pair("assertEq(bytes32)", vm.toString(left), "!=", vm.toString(right), message));
        }
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bool left, bool right, string memory message) internal pure {
        if (left != right) {
            fail(_pair("assertEq(bool)", vm.toString(left), "!=", vm.toString(right), message));
        }
    }

    function assertEq(bool left, bool right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(string memory left, string memory right, string memory message) internal pure {
        if (keccak256(bytes(left)) != keccak256(bytes(right))) {
            fail(_pair("assertEq(string)", left, "!=", right, message));
        }
    }

    function assertEq(string memory left, string memory right) internal pure {
        assertEq(left, right, "");
    }

    function assertEq(bytes memory left, bytes memory right, string memory message) internal pure {
        if (keccak256(left) != keccak256(right)) {
            fail(_pair("assertEq(bytes)", vm.toString(left), "!=", vm.toString(right), message));
        }
    }

    function assertEq(bytes memory left, bytes memory right) internal pure {
        assertEq(left, right, "");
    }

    function assertNotEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left == right) {
            fail(_pair("assertNotEq(uint256)", vm.toString(left), "==", vm.toString(right), message));
        }
    }

    function assertLt(uint256 left, uint256 right, string memory message) internal pure {
        if (left >= right) {
            fail(_pair("assertLt(uint256)", vm.toString(left), ">=", vm.toString(right), message));
        }
    }

    function assertLe(uint256 left, uint256 right, string memory message) internal pure {
        if (left > right) {
            fail(_pair("assertLe(uint256)", vm.toString(left), ">", vm.toString(right), message));
        }
    }

    function assertLe(uint256 left, uint256 right) internal pure {
        assertLe(left, right, "");
    }

    function assertGt(uint256 left, uint256 right, string memory message) internal pure {
        if (left <= right) {
            fail(_pair("assertGt(uint256)", vm.toString(left), "<=", vm.toString(right), message));
        }
    }

    function assertGe(uint256 left, uint256 right, string memory message) internal pure {
        if (left < right) {
            fail(_pair("assertGe(uint256)", vm.toString(left), "<", vm.toString(right), message));
        }
    }

    function assertGe(uint256 left, uint256 right) internal pure {
        assertGe(left, right, "");
    }

    /// @notice Passes when `left` and `right` differ by at most `maxDelta`.
    function assertApproxEqAbs(uint256 left, uint256 right, uint256 maxDelta, string memory message)
        internal
        pure
    {
        uint256 delta = left > right ? left - right : right - left;
        if (delta > maxDelta) {
            fail(
                _pair(
                    "assertApproxEqAbs(uint256)",
                    vm.toString(left),
                    string.concat(
                        "differs by ", vm.toString(delta), " (max ", vm.toString(maxDelta), ") from"
                    ),
                    vm.toString(right),
                    message
                )
            );
        }
    }

    function _pair(
        string memory what,
        string memory left,
        string memory relation,
        string memory right,
        string memory message
    ) private pure returns (string memory) {
        string memory text = string.concat(what, " failed: ", left, " ", relation, " ", right);
        return bytes(message).length == 0 ? text : string.concat(text, ": ", message);
    }
}
