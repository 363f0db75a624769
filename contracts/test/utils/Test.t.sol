// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";

/// @notice Exposes the internal helpers of `Test` as external calls, so that a failing
///         assertion can be observed as a revert.
contract Test__HarnessForTest is Test {
    function assertEqUint(uint256 a, uint256 b) external pure {
        assertEq(a, b);
    }

    function assertEqUintMessage(uint256 a, uint256 b, string memory message) external pure {
        assertEq(a, b, message);
    }

    function assertEqAddress(address a, address b) external pure {
        assertEq(a, b);
    }

    function assertEqString(string memory a, string memory b) external pure {
        assertEq(a, b);
    }

    function assertLeUint(uint256 a, uint256 b) external pure {
        assertLe(a, b);
    }

    function assertGeUint(uint256 a, uint256 b) external pure {
        assertGe(a, b);
    }

    function assertApprox(uint256 a, uint256 b, uint256 delta) external pure {
        assertApproxEqAbs(a, b, delta, "");
    }

    function assertTrueExternal(bool condition) external pure {
        assertTrue(condition, "flag");
    }

    function boundExternal(uint256 x, uint256 min, uint256 max) external pure returns (uint256) {
        return bound(x, min, max);
    }
}

contract TestHelpersTest is Test {
    Test__HarnessForTest internal harness;

    function setUp() public {
        harness = new Test__HarnessForTest();
    }

    function test_assertEq_passesOnEqualValues() public view {
        harness.assertEqUint(7, 7);
        harness.assertEqAddress(address(1), address(1));
        harness.assertEqString("a", "a");
    }

    function test_assertEq_revertsWithBothValues() public {
        vm.expectRevert(bytes("assertEq(uint256) failed: 1 != 2"));
        harness.assertEqUint(1, 2);
    }

    function test_assertEq_appendsMessage() public {
        vm.expectRevert(bytes("assertEq(uint256) failed: 3 != 4: pool tokens"));
        harness.assertEqUintMessage(3, 4, "pool tokens");
    }

    function test_assertEq_stringsDiffer() public {
        vm.expectRevert(bytes("assertEq(string) failed: ab != ba"));
        harness.assertEqString("ab", "ba");
    }

    function test_assertLe_and_assertGe_bounds() public {
        harness.assertLeUint(5, 5);
        harness.assertGeUint(5, 5);
        vm.expectRevert(bytes("assertLe(uint256) failed: 6 > 5"));
        harness.assertLeUint(6, 5);
        vm.expectRevert(bytes("assertGe(uint256) failed: 4 < 5"));
        harness.assertGeUint(4, 5);
    }

    function test_assertApproxEqAbs_toleratesDeltaOnly() public {
        harness.assertApprox(100, 101, 1);
        harness.assertApprox(101, 100, 1);
        vm.expectRevert(bytes("assertApproxEqAbs(uint256) failed: 100 differs by 2 (max 1) from 102"));
        harness.assertApprox(100, 102, 1);
    }

    function test_assertTrue_reverts() public {
        vm.expectRevert(bytes("assertTrue failed: flag"));
        harness.assertTrueExternal(false);
    }

    function test_bound_keepsValuesInRange() public pure {
        assertEq(bound(5, 1, 10), 5);
        assertEq(bound(1, 1, 10), 1);
        assertEq(bound(10, 1, 10), 10);
    }

    function test_bound_wrapsValuesOutsideRange() public pure {
        // 11 lies outside [1, 10]: 1 + 11 % 10 = 2.
        assertEq(bound(11, 1, 10), 2);
        assertEq(bound(0, 1, 10), 1);
        assertEq(bound(type(uint256).max, 0, type(uint256).max), type(uint256).max);
        assertEq(bound(123, 7, 7), 7);
    }

    function test_bound_revertsWhenMinAboveMax() public {
        vm.expectRevert(bytes("bound: min > max"));
        harness.boundExternal(1, 2, 1);
    }

    function testFuzz_bound_alwaysInRange(uint256 x, uint256 min, uint256 max) public pure {
        if (min > max) (min, max) = (max, min);
        uint256 y = bound(x, min, max);
        assertGe(y, min);
        assertLe(y, max);
    }
}

/// @notice A tiny system under test for the invariant machinery: a counter that only grows.
contract Counter__HandlerForTest {
    uint256 public total;
    uint256 public ghostCalls;
    uint256 public ghostSum;

    function add(uint256 amount) external {
        amount = amount % 1e18;
        total += amount;
        ghostSum += amount;
        ghostCalls += 1;
    }

    function notTargeted() external {
        total = type(uint256).max;
    }
}

/// @notice Shows forge reads this base's target lists: only `add` is ever called, so the
///         counter always equals the handler's ghost sum.
contract TestInvariantTargetsTest is Test {
    Counter__HandlerForTest internal handler;

    function setUp() public {
        handler = new Counter__HandlerForTest();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](1);
        selectors[0] = Counter__HandlerForTest.add.selector;
        targetSelector(address(handler), selectors);
    }

    function test_targetListsHoldWhatWasAdded() public view {
        assertEq(targetContracts().length, 1);
        assertEq(targetContracts()[0], address(handler));
        assertEq(targetSelectors().length, 1);
        assertEq(targetSelectors()[0].selectors[0], bytes32(Counter__HandlerForTest.add.selector));
    }

    function invariant_totalEqualsGhostSum() public view {
        assertEq(handler.total(), handler.ghostSum());
    }
}

/// @notice Shows the shared test vectors are readable from forge (fs_permissions).
contract TestVectorsReadableTest is Test {
    function test_readsRevenueShareVector() public view {
        string memory json = vm.readFile(
            string.concat(vm.projectRoot(), "/../tests/vectors/revenue_share_op_superchain.json")
        );
        assertEq(vm.parseJsonString(json, ".kind"), "revenue_share");
        assertEq(vm.parseUint(vm.parseJsonString(json, ".input.gross")), 100e18);
        assertEq(vm.parseJsonUint(json, ".input.b_bps"), 1500);
        assertEq(vm.parseUint(vm.parseJsonString(json, ".expected.share")), 10.5e18);
    }
}
