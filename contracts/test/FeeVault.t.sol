// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./utils/Test.sol";
import {Refuser} from "./utils/Refuser.sol";
import {FeeVault} from "../src/FeeVault.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract FeeVaultTest is Test {
    FeeVault internal vault;
    address internal admin = address(0xA11CE);
    address internal reporter = address(0xB0B);
    address internal bridge = address(0xB21D);

    function setUp() public {
        vault = new FeeVault(31_338, admin);
        bytes32 drawerRole = vault.DRAWER_ROLE();
        vm.prank(admin);
        vault.grantRole(drawerRole, reporter);
        vm.deal(bridge, 1000 ether);
    }

    function _send(uint256 amount) internal {
        vm.prank(bridge);
        (bool ok,) = address(vault).call{value: amount}("");
        assertTrue(ok, "revenue transfer");
    }

    function test_constructor_setsChainAndAdmin() public view {
        assertEq(uint256(vault.servedChainId()), 31_338);
        assertTrue(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), admin));
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(FeeVault.ZeroAddress.selector);
        new FeeVault(1, address(0));
    }

    function test_receive_recordsArrivedRevenue() public {
        vm.expectEmit(true, false, false, true);
        emit FeeVault.RevenueArrived(bridge, 3 ether, 3 ether);
        _send(3 ether);
        _send(2 ether);
        assertEq(vault.totalArrived(), 5 ether);
        assertEq(vault.available(), 5 ether);
    }

    function test_receive_revertsOnZeroValue() public {
        vm.prank(bridge);
        (bool ok, bytes memory reason) = address(vault).call{value: 0}("");
        assertFalse(ok, "zero-value transfer must fail");
        assertEq(keccak256(reason), keccak256(abi.encodeWithSelector(FeeVault.ZeroAmount.selector)));
    }

    function test_forceSentValueIsNeverRevenue() public {
        _send(1 ether);
        // Value arriving without a call (selfdestruct, coinbase): the balance rises, revenue does not.
        vm.deal(address(vault), address(vault).balance + 7 ether);
        assertEq(address(vault).balance, 8 ether);
        assertEq(vault.totalArrived(), 1 ether);
        assertEq(vault.available(), 1 ether);
    }

    function test_draw_paysRecipientAndRecordsTotal() public {
        _send(5 ether);
        address to = address(0xCAFE);
        vm.expectEmit(true, false, false, true);
        emit FeeVault.RevenueDrawn(to, 2 ether, 2 ether);
        vm.prank(reporter);
        vault.draw(2 ether, to);
        assertEq(to.balance, 2 ether);
        assertEq(vault.totalDrawn(), 2 ether);
        assertEq(vault.available(), 3 ether);
    }

    function test_draw_revertsForNonDrawer() public {
        _send(1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, bridge, vault.DRAWER_ROLE()
            )
        );
        vm.prank(bridge);
        vault.draw(1 ether, bridge);
    }

    function test_draw_revertsAboveAvailable() public {
        _send(1 ether);
        vm.expectRevert(abi.encodeWithSelector(FeeVault.InsufficientRevenue.selector, 1 ether + 1, 1 ether));
        vm.prank(reporter);
        vault.draw(1 ether + 1, reporter);
    }

    function test_draw_revertsOnZeroAmountOrRecipient() public {
        _send(1 ether);
        vm.startPrank(reporter);
        vm.expectRevert(FeeVault.ZeroAmount.selector);
        vault.draw(0, reporter);
        vm.expectRevert(FeeVault.ZeroAddress.selector);
        vault.draw(1, address(0));
        vm.stopPrank();
    }

    function test_draw_revertsWhenRecipientRefuses() public {
        _send(1 ether);
        Refuser refuser = new Refuser();
        vm.expectRevert(abi.encodeWithSelector(FeeVault.TransferFailed.selector, address(refuser), 1 ether));
        vm.prank(reporter);
        vault.draw(1 ether, address(refuser));
        assertEq(vault.totalDrawn(), 0);
    }

    function testFuzz_drawsNeverExceedArrivals(uint256 sent, uint256 first, uint256 second) public {
        sent = bound(sent, 1, 1000 ether);
        _send(sent);
        first = bound(first, 1, sent);
        vm.prank(reporter);
        vault.draw(first, address(0xCAFE));
        second = bound(second, 1, 2000 ether);
        vm.prank(reporter);
        if (second > sent - first) {
            vm.expectRevert(
                abi.encodeWithSelector(FeeVault.InsufficientRevenue.selector, second, sent - first)
            );
            vault.draw(second, address(0xCAFE));
            assertEq(address(0xCAFE).balance, first);
        } else {
            vault.draw(second, address(0xCAFE));
            assertEq(address(0xCAFE).balance, first + second);
        }
        assertEq(vault.totalArrived() - vault.totalDrawn(), address(vault).balance);
    }
}
