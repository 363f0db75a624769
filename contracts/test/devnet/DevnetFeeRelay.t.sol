// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";
import {FeeVault} from "../../src/FeeVault.sol";
import {DevnetFeeRelay} from "../../src/devnet/DevnetFeeRelay.sol";

contract DevnetFeeRelayTest is Test {
    event FeesRelayed(uint64 indexed servedChainId, uint64 firstBlock, uint64 lastBlock, uint256 amount);

    FeeVault internal vault;
    DevnetFeeRelay internal relay;
    address internal relayer = address(0x4E1A);

    function setUp() public {
        vault = new FeeVault(31_338, address(this));
        relay = new DevnetFeeRelay(31_338, address(vault), 1);
        vm.deal(relayer, 10 ether);
    }

    function test_relay_forwardsEachContiguousRangeOnceAndNamesIt() public {
        vm.prank(relayer);
        vm.expectEmit(true, false, false, true, address(relay));
        emit FeesRelayed(31_338, 1, 4, 0.3 ether);
        relay.relay{value: 0.3 ether}(1, 4);
        assertEq(vault.totalArrived(), 0.3 ether);
        assertEq(address(vault).balance, 0.3 ether);
        assertEq(uint256(relay.nextBlock()), 5);

        // A range that paid nothing still moves the cursor and sends nothing.
        vm.prank(relayer);
        relay.relay(5, 8);
        assertEq(vault.totalArrived(), 0.3 ether);
        assertEq(uint256(relay.nextBlock()), 9);

        // Relaying a block again, skipping one, or an empty range is refused.
        vm.startPrank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(DevnetFeeRelay.WrongRange.selector, uint64(8), uint64(9), uint64(9))
        );
        relay.relay{value: 1}(8, 9);
        vm.expectRevert(
            abi.encodeWithSelector(DevnetFeeRelay.WrongRange.selector, uint64(10), uint64(12), uint64(9))
        );
        relay.relay{value: 1}(10, 12);
        vm.expectRevert(
            abi.encodeWithSelector(DevnetFeeRelay.WrongRange.selector, uint64(9), uint64(8), uint64(9))
        );
        relay.relay(9, 8);
        vm.stopPrank();
        assertEq(vault.totalArrived(), 0.3 ether);
    }

    function test_constructor_refusesAZeroVault() public {
        vm.expectRevert(DevnetFeeRelay.ZeroAddress.selector);
        new DevnetFeeRelay(31_338, address(0), 1);
    }
}
