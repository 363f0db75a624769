// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./utils/Test.sol";
import {ReportConsensus} from "../src/ReportConsensus.sol";

/// ReportConsensus with one open slot (the report contract opens the next report's slot).
contract ConsensusHarness is ReportConsensus {
    uint64 public openSlot = 41;

    constructor(address[] memory members, uint8 quorum_, address admin)
        ReportConsensus(members, quorum_, admin)
    {}

    function open(uint64 slot) external {
        openSlot = slot;
    }

    function _slotOpen(uint64 slot) internal view override returns (bool) {
        return slot == openSlot;
    }
}

/// Oracle members agree on a report's hash: k of n with k > n/2, one changeable vote per
/// member and slot (also after agreement, until the report executes), votes reset by a
/// membership change, votes only for the open slot.
contract ReportConsensusTest is Test {
    ConsensusHarness internal consensus;
    address internal admin = address(0xA11CE);
    address internal a = address(0xA);
    address internal b = address(0xB);
    address internal c = address(0xC);
    bytes32 internal constant H1 = keccak256("report 1");
    bytes32 internal constant H2 = keccak256("report 2");

    function _three() internal view returns (address[] memory m) {
        m = new address[](3);
        (m[0], m[1], m[2]) = (a, b, c);
    }

    function setUp() public {
        consensus = new ConsensusHarness(_three(), 2, admin);
    }

    function test_quorumAgreesAndAMinorityCannot() public {
        vm.prank(a);
        assertFalse(consensus.vote(41, H1), "one of three is a minority");
        assertFalse(consensus.isAgreed(41, H1));
        vm.expectEmit(true, false, false, true);
        emit ReportConsensus.HashAgreed(41, H1);
        vm.prank(c);
        assertTrue(consensus.vote(41, H1));
        assertTrue(consensus.isAgreed(41, H1));
        assertFalse(consensus.isAgreed(41, bytes32(0)), "the zero hash is never agreed");
        vm.prank(b);
        assertFalse(consensus.vote(41, H2), "a late dissent does not undo the quorum");
        assertTrue(consensus.isAgreed(41, H1));
        assertFalse(consensus.isAgreed(42, H1), "agreement is per slot");
    }

    function test_membersMayMoveAnAgreedSlotToANewReport() public {
        vm.prank(a);
        consensus.vote(41, H1);
        vm.prank(b);
        consensus.vote(41, H1);
        assertTrue(consensus.isAgreed(41, H1));
        // H1 could not execute (say the stake moved): a and b agree on H2 instead.
        vm.prank(a);
        assertFalse(consensus.vote(41, H2));
        assertFalse(consensus.isAgreed(41, H1), "H1 lost its quorum");
        vm.prank(b);
        assertTrue(consensus.vote(41, H2));
        assertTrue(consensus.isAgreed(41, H2));
    }

    function test_votesAreTakenForTheOpenSlotOnly() public {
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(ReportConsensus.SlotClosed.selector, 42));
        consensus.vote(42, H1);
        consensus.open(42);
        vm.prank(a);
        consensus.vote(42, H1);
        assertEq(consensus.votesFor(42, H1), 1);
    }

    function test_aDisagreeingMemberDoesNotBlockTheQuorum() public {
        vm.prank(a);
        consensus.vote(41, H1);
        vm.prank(b);
        consensus.vote(41, H2); // disagrees
        vm.prank(c);
        assertTrue(consensus.vote(41, H1));
        assertTrue(consensus.isAgreed(41, H1));
        assertFalse(consensus.isAgreed(41, H2));
    }

    function test_aMemberMayChangeItsVote() public {
        vm.startPrank(a);
        consensus.vote(41, H1);
        consensus.vote(41, H2);
        vm.stopPrank();
        assertEq(consensus.votesFor(41, H1), 0, "the first vote moved");
        assertEq(consensus.votesFor(41, H2), 1);
        vm.prank(b);
        assertTrue(consensus.vote(41, H2));
    }

    function test_membershipChangeResetsVotes() public {
        vm.prank(a);
        consensus.vote(41, H1);
        address[] memory four = new address[](4);
        (four[0], four[1], four[2], four[3]) = (a, b, c, address(0xD));
        vm.prank(admin);
        consensus.setMembership(four, 3);
        assertEq(consensus.votesFor(41, H1), 0, "votes under the old membership no longer count");
        vm.prank(b);
        consensus.vote(41, H1);
        vm.prank(c);
        assertFalse(consensus.vote(41, H1), "3 of 4 needed now");
        vm.prank(a);
        assertTrue(consensus.vote(41, H1));
        // A removed member can no longer vote.
        address[] memory two = new address[](2);
        (two[0], two[1]) = (a, b);
        vm.prank(admin);
        consensus.setMembership(two, 2);
        vm.prank(c);
        vm.expectRevert(abi.encodeWithSelector(ReportConsensus.NotMember.selector, c));
        consensus.vote(43, H1);
    }

    function test_revertPaths() public {
        vm.expectRevert(abi.encodeWithSelector(ReportConsensus.NotMember.selector, address(this)));
        consensus.vote(41, H1);
        vm.prank(a);
        vm.expectRevert(ReportConsensus.ZeroHash.selector);
        consensus.vote(41, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)",
                address(this),
                consensus.DEFAULT_ADMIN_ROLE()
            )
        );
        consensus.setMembership(_three(), 2);
    }

    function test_invalidMemberships() public {
        address[] memory three = _three();
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ConsensusHarness(three, 1, admin); // 1 is not above half of 3
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ConsensusHarness(three, 4, admin);
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ConsensusHarness(new address[](0), 1, admin);
        three[2] = a;
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ConsensusHarness(three, 2, admin); // repeated member
        three[2] = address(0);
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ConsensusHarness(three, 2, admin);
        address[] memory two = new address[](2);
        (two[0], two[1]) = (a, b);
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ConsensusHarness(two, 1, admin); // 1 of 2 is not a majority
    }
}
