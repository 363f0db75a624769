// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./utils/LiquidFixture.sol";
import {Refuser} from "./utils/Refuser.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../src/WithdrawalQueue.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";

/// The withdrawal queue: tickets lock shares, finalization in batches from the running
/// totals burns them and moves their value out of the buffer, claims pay once.
contract WithdrawalQueueTest is LiquidFixture {
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);

    function setUp() public {
        vm.roll(100);
        _setUpLiquid();
    }

    function test_request_locksSharesAndMintsATicket() public {
        uint256 shares = _depositAs(alice, 10 ether);
        vm.startPrank(alice);
        token.approve(address(queue), shares / 2);
        vm.expectEmit(true, true, true, true);
        emit WithdrawalQueue.WithdrawalRequested(1, alice, bob, shares / 2, 5 ether);
        uint256 id = queue.requestWithdrawal(shares / 2, bob);
        vm.stopPrank();
        assertEq(id, 1);
        assertEq(queue.ownerOf(1), bob, "the ticket goes to the owner named");
        assertEq(token.balanceOf(address(queue)), shares / 2, "shares locked in the queue");
        assertEq(token.balanceOf(alice), shares - shares / 2);
        (uint256 locked, uint256 atRequest,) = queue.request(1);
        assertEq(locked, shares / 2);
        assertEq(atRequest, 5 ether);
        assertEq(uint256(queue.stateOf(1)), uint256(WithdrawalQueue.State.Pending));
        assertEq(token.totalSupply(), shares, "locked shares still count until finalized");
    }

    function test_request_revertPaths() public {
        uint256 shares = _depositAs(alice, 2000 ether);
        vm.startPrank(alice);
        token.approve(address(queue), shares);
        vm.expectRevert(WithdrawalQueue.ZeroAddress.selector);
        queue.requestWithdrawal(shares, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                WithdrawalQueue.RequestOutOfRange.selector, 0.0005 ether, 0.001 ether, 1000 ether
            )
        );
        queue.requestWithdrawal(0.5 ether, alice); // 0.5e18 shares = 0.0005 ether
        vm.expectRevert(
            abi.encodeWithSelector(
                WithdrawalQueue.RequestOutOfRange.selector, 1001 ether, 0.001 ether, 1000 ether
            )
        );
        queue.requestWithdrawal(1001 ether * 1000, alice);
        token.approve(address(queue), 0);
        vm.expectRevert(); // ERC20InsufficientAllowance
        queue.requestWithdrawal(1 ether * 1000, alice);
        vm.stopPrank();
        assertEq(queue.lastRequestId(), 0, "refused requests change nothing");
    }

    function test_requestWithPermit_needsNoApproval() public {
        uint256 key = 0xB0B;
        address owner = vm.addr(key);
        uint256 shares = _depositAs(owner, 3 ether);
        bytes32 digest = keccak256(
            abi.encodePacked(
                hex"1901",
                token.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        keccak256(
                            "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
                        ),
                        owner,
                        address(queue),
                        shares,
                        0,
                        block.timestamp
                    )
                )
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.prank(owner);
        uint256 id = queue.requestWithdrawalWithPermit(shares, owner, block.timestamp, v, r, s);
        assertEq(queue.ownerOf(id), owner);
        assertEq(token.balanceOf(address(queue)), shares);
    }

    function test_finalize_burnsSharesAndMovesTheirValueOutOfTheBuffer() public {
        uint256 a = _depositAs(alice, 10 ether);
        uint256 b = _depositAs(bob, 5 ether);
        _requestAs(alice, a / 2); // 1: 5 ether
        _requestAs(bob, b); // 2: 5 ether
        _requestAs(alice, a / 4); // 3: 2.5 ether
        uint256 rateBefore = token.shareRate();

        vm.expectEmit(true, true, false, true);
        emit WithdrawalQueue.WithdrawalsFinalized(1, 2, 10 ether, a / 2 + b, rateBefore);
        assertEq(_finalizeTo(2), 10 ether);
        assertEq(queue.lastFinalizedId(), 2);
        assertEq(queue.lockedAssets(), 10 ether);
        assertEq(address(queue).balance, 10 ether);
        assertEq(token.bufferedAssets(), 5 ether);
        assertEq(token.totalSupply(), a + b - a / 2 - b, "finalized shares are burned");
        assertGe(token.shareRate(), rateBefore, "finalization never lowers the rate");
        assertEq(uint256(queue.stateOf(2)), uint256(WithdrawalQueue.State.Finalized));
        assertEq(uint256(queue.stateOf(3)), uint256(WithdrawalQueue.State.Pending));
    }

    function test_finalize_revertPaths() public {
        uint256 a = _depositAs(alice, 10 ether);
        _requestAs(alice, a / 2);
        _requestAs(alice, a / 4);
        uint256[] memory ends = new uint256[](1);
        ends[0] = 1;
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), queue.FINALIZER_ROLE()
            )
        );
        queue.finalize(ends);
        vm.startPrank(finalizer);
        ends[0] = 3;
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.InvalidFinalization.selector, 3, 0, 2));
        queue.finalize(ends);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.InvalidFinalization.selector, 0, 0, 2));
        queue.finalize(new uint256[](0));
        uint256[] memory backwards = new uint256[](2);
        (backwards[0], backwards[1]) = (2, 1);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.InvalidBatches.selector, 1));
        queue.finalize(backwards);
        ends[0] = 1;
        queue.finalize(ends);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.InvalidFinalization.selector, 1, 1, 2));
        queue.finalize(ends);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.NotQueue.selector, address(this)));
        token.finalizeWithdrawals(1, 1);
    }

    function test_claim_paysOnceAndBurnsTheTicket() public {
        uint256 a = _depositAs(alice, 10 ether);
        uint256 id = _requestAs(alice, a / 2);
        _requestAs(alice, a / 4);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WithdrawalQueue.NotClaimable.selector, 1, WithdrawalQueue.State.Pending)
        );
        queue.claimWithdrawal(id, 0, alice);
        _finalizeTo(1);
        _finalizeTo(2);
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (1, 2);
        uint256[] memory hints = queue.findCheckpointHints(ids);
        assertEq(hints[0], 0);
        assertEq(hints[1], 1);

        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.NotTicketOwner.selector, 1, bob));
        vm.prank(bob);
        queue.claimWithdrawal(1, 0, bob);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalQueue.WrongHint.selector, 1, 1));
        vm.prank(alice);
        queue.claimWithdrawal(1, 1, alice);

        uint256 before = bob.balance;
        vm.expectEmit(true, true, true, true);
        emit WithdrawalQueue.WithdrawalClaimed(1, alice, bob, 5 ether);
        vm.prank(alice);
        assertEq(queue.claimWithdrawal(1, 0, bob), 5 ether, "pays any recipient the owner names");
        assertEq(bob.balance - before, 5 ether);
        assertEq(uint256(queue.stateOf(1)), uint256(WithdrawalQueue.State.Claimed));
        vm.expectRevert(); // ERC721NonexistentToken: the ticket is burned
        queue.ownerOf(1);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WithdrawalQueue.NotClaimable.selector, 1, WithdrawalQueue.State.Claimed)
        );
        queue.claimWithdrawal(1, 0, alice);

        Refuser refuser = new Refuser();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WithdrawalQueue.TransferFailed.selector, address(refuser), 2.5 ether)
        );
        queue.claimWithdrawal(2, 1, address(refuser));
        vm.prank(alice);
        vm.expectRevert(WithdrawalQueue.ZeroAddress.selector);
        queue.claimWithdrawal(2, 1, address(0));
        assertEq(queue.lockedAssets(), 2.5 ether, "a refused claim keeps the ticket's value");
    }

    function test_claimBatch_paysEveryTicket() public {
        uint256 a = _depositAs(alice, 10 ether);
        uint256[] memory ids = new uint256[](3);
        for (uint256 i; i < 3; ++i) {
            ids[i] = _requestAs(alice, a / 10);
        }
        _finalizeTo(3);
        uint256[] memory hints = queue.findCheckpointHints(ids);
        vm.prank(alice);
        assertEq(queue.claimWithdrawals(ids, hints, alice), 3 ether);
        assertEq(queue.lockedAssets(), 0);
        vm.prank(alice);
        vm.expectRevert(WithdrawalQueue.LengthMismatch.selector);
        queue.claimWithdrawals(ids, new uint256[](1), alice);
    }

    function test_ticketValue_isTheTicketValueRow() public {
        // A ticket is worth shares * min(rate at request, rate at finalization) / RAY (the
        // ticket_value row). Here both rates are equal: the rate falls only by a slash, which
        // the token learns of once it delegates (the next slice of Contracts II).
        uint256 a = _depositAs(alice, 10 ether);
        uint256 id = _requestAs(alice, a / 3);
        _finalizeTo(id);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        uint256 hint = queue.findCheckpointHints(ids)[0];
        (uint256 shares, uint256 atRequest,) = queue.request(id);
        uint256 rate = token.shareRate();
        assertEq(queue.finalizedValue(id, hint), RewardMath.ticketValue(shares, rate, rate));
        assertEq(queue.finalizedValue(id, hint), atRequest);
    }

    function test_receive_onlyFromTheToken() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok, bytes memory reason) = address(queue).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(
            keccak256(reason), keccak256(abi.encodeWithSelector(WithdrawalQueue.NotToken.selector, alice))
        );
    }

    function test_setWithdrawalQueue_onceThroughTheTimelock() public {
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), token.DEFAULT_ADMIN_ROLE()
            )
        );
        token.setWithdrawalQueue(address(0x1));
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(LiquidStakingToken.QueueAlreadySet.selector, address(queue)));
        token.setWithdrawalQueue(address(0x1));
    }
}
