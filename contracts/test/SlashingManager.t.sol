// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {SeqstakeTimelock} from "../src/governance/SeqstakeTimelock.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {SlashingManager} from "../src/SlashingManager.sol";

contract SlashingManagerTest is RegistryFixture {
    SlashingManager internal manager;
    address internal verifier = address(0x7E21);
    address internal operator = address(0x0BE);
    address internal alice = address(0xA11CE);
    address internal keeper = address(0xBEEF);
    bytes32 internal constant EVIDENCE = keccak256("double-signed batch 42");
    uint32 internal constant VETO = 2;
    uint16 internal constant MAX_FRACTION = 1000;
    uint16 internal constant MAX_PER_PERIOD = 2000;
    uint32 internal constant PERIOD = 12;
    bytes32 internal constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    bytes32 internal constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 internal constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    function _slashingParams() internal pure returns (SlashingManager.Params memory) {
        return SlashingManager.Params({
            vetoWindowEpochs: VETO,
            maxFractionBps: MAX_FRACTION,
            maxPerPeriodBps: MAX_PER_PERIOD,
            periodEpochs: PERIOD
        });
    }

    /// Deploys at epoch 5: the registry, the manager (the fixture's timelock as admin), the
    /// manager's SLASHER_ROLE on the registry and its verifier and guardian, all through the timelock.
    function setUp() public {
        _setUpRegistry();
        manager = new SlashingManager(address(registry), _slashingParams(), address(timelock));
        _governRegistry(abi.encodeCall(registry.grantRole, (SLASHER_ROLE, address(manager))));
        _governManager(abi.encodeCall(manager.grantRole, (VERIFIER_ROLE, verifier)));
        _governManager(abi.encodeCall(manager.grantRole, (GUARDIAN_ROLE, guardian)));
    }

    /// Runs `data` on the manager through the timelock, then returns to the current time.
    function _governManager(bytes memory data) internal {
        uint256 now_ = vm.getBlockTimestamp();
        bytes32 salt = keccak256(abi.encode(data, now_));
        vm.prank(governor);
        timelock.schedule(address(manager), 0, data, bytes32(0), salt, _delay());
        vm.warp(now_ + _delay());
        timelock.execute(address(manager), 0, data, bytes32(0), salt);
        vm.warp(now_);
    }

    /// Registers `operator` with `bond` and `delegated` from alice in epoch 5 (both count from
    /// epoch 6), then moves to epoch 8.
    function _sequencerWith(uint256 bond, uint256 delegated) internal returns (uint32 id) {
        id = _registerAs(operator, bond, 1000);
        if (delegated > 0) _delegateAs(alice, id, delegated);
        _warpToEpoch(8);
    }

    function _propose(uint32 id, uint64 infractionEpoch, uint8 kind, uint16 bps) internal returns (uint256) {
        vm.prank(verifier);
        return manager.propose(id, infractionEpoch, kind, EVIDENCE, bps);
    }

    function _state(uint256 proposalId) internal view returns (uint256) {
        return uint256(manager.stateOf(proposalId));
    }

    function _notPending(uint256 proposalId, SlashingManager.State state)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(SlashingManager.NotPending.selector, proposalId, state);
    }

    // ================================================================ constructor
    function test_constructor_storesParamsAndGrantsOnlyTheAdmin() public view {
        assertEq(address(manager.registry()), address(registry));
        assertEq(uint256(manager.unbondingEpochs()), UNBONDING);
        assertEq(uint256(manager.vetoWindowEpochs()), VETO);
        assertEq(uint256(manager.maxFractionBps()), MAX_FRACTION);
        assertEq(uint256(manager.maxPerPeriodBps()), MAX_PER_PERIOD);
        assertEq(uint256(manager.periodEpochs()), PERIOD);
        assertTrue(manager.hasRole(manager.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertTrue(manager.hasRole(VERIFIER_ROLE, verifier));
        assertTrue(manager.hasRole(GUARDIAN_ROLE, guardian));
        assertEq(manager.VERIFIER_ROLE(), VERIFIER_ROLE);
        assertEq(manager.GUARDIAN_ROLE(), GUARDIAN_ROLE);
    }

    function test_constructor_needsARegistryAndATimelockAdmin() public {
        SlashingManager.Params memory p = _slashingParams();
        vm.expectRevert(SlashingManager.ZeroAddress.selector);
        new SlashingManager(address(0), p, address(timelock));
        vm.expectRevert(SlashingManager.ZeroAddress.selector);
        new SlashingManager(address(registry), p, address(0));
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.RegistryNotContract.selector, address(0x5E9)));
        new SlashingManager(address(0x5E9), p, address(timelock));
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.AdminNotTimelock.selector, address(0xA11CE)));
        new SlashingManager(address(registry), p, address(0xA11CE));

        address[] memory none = new address[](0);
        SeqstakeTimelock quick = new SeqstakeTimelock(_delay() - 1, none, none, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(SlashingManager.AdminDelayTooShort.selector, _delay() - 1, _delay())
        );
        new SlashingManager(address(registry), p, address(quick));
    }

    function _expectBadParameter(SlashingManager.Params memory p, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.InvalidParameter.selector, name));
        new SlashingManager(address(registry), p, address(timelock));
    }

    function test_constructor_refusesBadParameters() public {
        SlashingManager.Params memory p = _slashingParams();
        p.maxFractionBps = 0;
        _expectBadParameter(p, "maxFractionBps");
        p = _slashingParams();
        p.maxFractionBps = 10_001;
        p.maxPerPeriodBps = 10_001;
        _expectBadParameter(p, "maxFractionBps");
        p = _slashingParams();
        p.maxPerPeriodBps = MAX_FRACTION - 1;
        _expectBadParameter(p, "maxPerPeriodBps");
        p = _slashingParams();
        p.maxPerPeriodBps = 10_001;
        _expectBadParameter(p, "maxPerPeriodBps");
        p = _slashingParams();
        p.periodEpochs = 0;
        _expectBadParameter(p, "periodEpochs");
        p = _slashingParams();
        p.vetoWindowEpochs = 0;
        _expectBadParameter(p, "vetoWindowEpochs");
        p = _slashingParams();
        p.vetoWindowEpochs = UNBONDING;
        _expectBadParameter(p, "vetoWindowEpochs");

        // The edges are accepted.
        p = SlashingManager.Params({
            vetoWindowEpochs: UNBONDING - 1, maxFractionBps: 10_000, maxPerPeriodBps: 10_000, periodEpochs: 1
        });
        new SlashingManager(address(registry), p, address(timelock));
    }

    // ================================================================ propose
    function test_propose_recordsAPendingProposal() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        vm.expectEmit(address(manager));
        emit SlashingManager.SlashProposed(1, id, 7, 3, EVIDENCE, 500, verifier, 10);
        uint256 proposalId = _propose(id, 7, 3, 500);
        assertEq(proposalId, 1);
        assertEq(manager.proposalCount(), 1);

        SlashingManager.Proposal memory p = manager.proposal(proposalId);
        assertEq(uint256(p.sequencerId), id);
        assertEq(uint256(p.kind), 3);
        assertEq(uint256(p.state), uint256(SlashingManager.State.Pending));
        assertEq(uint256(p.fractionBps), 500);
        assertEq(uint256(p.appliedBps), 0);
        assertEq(uint256(p.infractionEpoch), 7);
        assertEq(uint256(p.proposedEpoch), 8);
        assertEq(p.proposer, verifier);
        assertEq(p.evidenceHash, EVIDENCE);
        assertEq(p.amount, 0);
        assertEq(_state(proposalId), uint256(SlashingManager.State.Pending));
        assertEq(uint256(manager.executableEpoch(proposalId)), 10);
        assertEq(uint256(manager.lastEpoch(proposalId)), 7 + UNBONDING);
        assertEq(manager.proposalIdOf(id, 7, 3), proposalId);
        assertEq(manager.proposalIdOf(id, 7, 4), 0);
        assertEq(manager.pendingProposals(id), 1);
        assertEq(manager.pendingFractionBps(id), 500);
        assertEq(_state(99), uint256(SlashingManager.State.None));
    }

    function test_propose_revertPaths() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), VERIFIER_ROLE
            )
        );
        manager.propose(id, 7, 0, EVIDENCE, 500);
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, VERIFIER_ROLE
            )
        );
        manager.propose(id, 7, 0, EVIDENCE, 500);

        vm.startPrank(verifier);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.UnknownSequencer.selector, uint32(99)));
        manager.propose(99, 7, 0, EVIDENCE, 500);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.InvalidFraction.selector, 0, MAX_FRACTION));
        manager.propose(id, 7, 0, EVIDENCE, 0);
        vm.expectRevert(
            abi.encodeWithSelector(SlashingManager.InvalidFraction.selector, MAX_FRACTION + 1, MAX_FRACTION)
        );
        manager.propose(id, 7, 0, EVIDENCE, MAX_FRACTION + 1);
        vm.expectRevert(SlashingManager.ZeroEvidence.selector);
        manager.propose(id, 7, 0, bytes32(0), 500);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.InfractionInFuture.selector, 9, 8));
        manager.propose(id, 9, 0, EVIDENCE, 500);
        // Epoch 8: evidence may be unbonding - veto = 4 epochs old, so epoch 4 is the oldest.
        vm.expectRevert(
            abi.encodeWithSelector(SlashingManager.EvidenceTooOld.selector, 3, 8, UNBONDING - VETO)
        );
        manager.propose(id, 3, 0, EVIDENCE, 500);
        assertEq(manager.propose(id, 4, 0, EVIDENCE, 500), 1, "the oldest accepted");
        assertEq(manager.propose(id, 8, 0, EVIDENCE, MAX_FRACTION), 2, "the current epoch, the max fraction");
        vm.stopPrank();

        vm.warp(GENESIS - 1);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.BeforeGenesis.selector, GENESIS));
        manager.propose(id, 0, 0, EVIDENCE, 500);
    }

    function test_propose_dedupsBySequencerEpochAndKindEvenAfterAVeto() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        assertEq(_propose(id, 7, 0, 500), 1);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.AlreadyProposed.selector, id, 7, 0, 1));
        manager.propose(id, 7, 0, keccak256("other evidence"), 100);
        assertEq(_propose(id, 7, 1, 500), 2, "another kind");
        assertEq(_propose(id, 6, 0, 500), 3, "another epoch");

        vm.prank(guardian);
        manager.veto(1);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.AlreadyProposed.selector, id, 7, 0, 1));
        manager.propose(id, 7, 0, EVIDENCE, 500);
    }

    // ================================================================ veto window
    function test_veto_onlyByTheGuardianWithinTheWindow() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        uint256 first = _propose(id, 7, 0, 500); // executable at 10
        uint256 second = _propose(id, 7, 1, 300);
        uint256 third = _propose(id, 7, 2, 200);

        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), GUARDIAN_ROLE
            )
        );
        manager.veto(first);

        vm.expectEmit(address(manager));
        emit SlashingManager.SlashVetoed(first, id, guardian);
        vm.prank(guardian);
        manager.veto(first); // in the epoch of the proposal
        assertEq(_state(first), uint256(SlashingManager.State.Vetoed));

        _warpToEpoch(9);
        vm.prank(guardian);
        manager.veto(second); // the last epoch of the window
        assertEq(_state(second), uint256(SlashingManager.State.Vetoed));

        _warpToEpoch(10);
        vm.startPrank(guardian);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.VetoWindowClosed.selector, third, 10, 10));
        manager.veto(third);
        vm.expectRevert(_notPending(first, SlashingManager.State.Vetoed));
        manager.veto(first);
        vm.expectRevert(_notPending(99, SlashingManager.State.None));
        manager.veto(99);
        vm.stopPrank();

        vm.expectRevert(_notPending(first, SlashingManager.State.Vetoed));
        manager.execute(first);
        assertEq(registry.sequencer(id).bond, 10 ether, "a veto slashes nothing");
        manager.execute(third);
        assertEq(registry.sequencer(id).bond, 10 ether - 0.8 ether, "2% of 40");
    }

    function test_execute_onlyAfterTheVetoWindow() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        uint256 proposalId = _propose(id, 7, 0, 500);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.VetoWindowOpen.selector, proposalId, 10, 8));
        manager.execute(proposalId);
        _warpToEpoch(9);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.VetoWindowOpen.selector, proposalId, 10, 9));
        manager.execute(proposalId);

        _warpToEpoch(10);
        vm.prank(keeper);
        assertEq(manager.execute(proposalId), 2 ether, "anyone executes: 5% of 40");
        assertEq(_state(proposalId), uint256(SlashingManager.State.Executed));
        assertEq(manager.proposal(proposalId).amount, 2 ether);
        assertEq(uint256(manager.proposal(proposalId).appliedBps), 500);
        vm.expectRevert(_notPending(proposalId, SlashingManager.State.Executed));
        manager.execute(proposalId);
        vm.prank(guardian);
        vm.expectRevert(_notPending(proposalId, SlashingManager.State.Executed));
        manager.veto(proposalId);
    }

    // ================================================================ what a slash takes
    function test_execute_takesTheBondFirstThenPoolAndBucketsProceedsToInsuranceNotProposer() public {
        uint32 id = _sequencerWith(2 ether, 30 ether); // 32 ether at stake from epoch 6
        (uint256 shares,,,) = registry.delegation(id, alice);
        // Epoch 8: half the pool leaves into the bucket completing at 8 + 1 + 6 = 15. It was at
        // stake in epoch 7, so it is slashed with the pool.
        vm.prank(alice);
        registry.undelegate(id, shares / 2);
        assertEq(registry.bucket(id, 15).tokens, 15 ether);
        assertEq(registry.pool(id).tokens, 15 ether);

        uint256 proposalId = _propose(id, 7, 0, MAX_FRACTION);
        _warpToEpoch(10);
        uint256 verifierBefore = verifier.balance;
        // 10% of 32 = 3.2: the whole bond (2), then 1.2 pro rata from the pool and the bucket.
        vm.expectEmit(address(registry));
        emit RegistryCore.Slashed(id, 7, MAX_FRACTION, 3.2 ether, 2 ether, 0.6 ether, 0.6 ether, 0, 0);
        vm.expectEmit(address(manager));
        emit SlashingManager.SlashExecuted(proposalId, id, 0, MAX_FRACTION, MAX_FRACTION, 3.2 ether);
        vm.prank(verifier); // even when the proposer executes, it receives nothing
        assertEq(manager.execute(proposalId), 3.2 ether);

        assertEq(registry.sequencer(id).bond, 0);
        assertEq(registry.pool(id).tokens, 14.4 ether);
        assertEq(registry.pool(id).shares, shares - shares / 2, "shares are not slashed");
        assertEq(registry.bucket(id, 15).tokens, 14.4 ether);
        assertTrue(registry.sequencer(id).jailed, "a bond under the minimum jails");
        assertEq(registry.insuranceOwed(), 3.2 ether);
        assertEq(verifier.balance, verifierBefore, "the proposer gets nothing");
        assertEq(address(manager).balance, 0, "the manager holds nothing");

        uint256 insuranceBefore = insurance.balance;
        registry.payInsurance();
        assertEq(insurance.balance - insuranceBefore, 3.2 ether);
        assertEq(verifier.balance, verifierBefore);
    }

    function test_execute_bondAboveTheMinimumAfterwardsIsNotJailed() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        uint256 proposalId = _propose(id, 7, 0, 500);
        _warpToEpoch(10);
        manager.execute(proposalId);
        assertEq(registry.sequencer(id).bond, 8 ether, "5% of 40, all from the bond");
        assertEq(registry.pool(id).tokens, 30 ether);
        assertFalse(registry.sequencer(id).jailed);
    }

    function test_execute_bondUnderTheMinimumJailsAndSparesThePool() public {
        uint32 id = _sequencerWith(1 ether, 9 ether);
        uint256 proposalId = _propose(id, 7, 0, 500);
        _warpToEpoch(10);
        vm.expectEmit(address(registry));
        emit RegistryCore.Jailed(id, RegistryCore.JailReason.BondBelowMinimum, 10 + 2);
        manager.execute(proposalId);
        assertEq(registry.sequencer(id).bond, 0.5 ether, "5% of 10, all from the bond");
        assertEq(registry.pool(id).tokens, 9 ether);
        assertTrue(registry.sequencer(id).jailed);
    }

    function test_execute_needsTheRegistrySlasherRole() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        uint256 proposalId = _propose(id, 7, 0, 500);
        _governRegistry(abi.encodeCall(registry.revokeRole, (SLASHER_ROLE, address(manager))));
        _warpToEpoch(10);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(manager), SLASHER_ROLE
            )
        );
        manager.execute(proposalId);
        assertEq(_state(proposalId), uint256(SlashingManager.State.Pending), "still pending");
        assertEq(manager.pendingProposals(id), 1);
    }

    // ================================================================ cap per period
    function test_periodCap_clampsTheExecutionThatWouldPassItThenRefuses() public {
        uint32 id = _sequencerWith(10 ether, 30 ether); // 40 ether at stake in epochs 6..8
        uint256 a = _propose(id, 6, 0, 1000);
        uint256 b = _propose(id, 6, 1, 700);
        uint256 c = _propose(id, 7, 0, 600);
        uint256 d = _propose(id, 8, 0, 500);
        assertEq(manager.pendingFractionBps(id), 2800, "an upper bound: the cap will clamp");
        _warpToEpoch(10);
        assertEq(manager.execute(a), 4 ether);
        assertEq(manager.execute(b), 2.8 ether);
        assertEq(uint256(manager.usedBps(id, 0)), 1700);

        vm.expectEmit(address(manager));
        emit SlashingManager.SlashExecuted(c, id, 0, 600, 300, 1.2 ether);
        assertEq(manager.execute(c), 1.2 ether, "clamped to the 300 bps left");
        assertEq(uint256(manager.proposal(c).appliedBps), 300);
        assertEq(uint256(manager.usedBps(id, 0)), MAX_PER_PERIOD);
        assertEq(registry.sequencer(id).bond, 2 ether);

        // Nothing left: closes without calling the registry.
        vm.recordLogs();
        assertEq(manager.execute(d), 0);
        assertEq(vm.getRecordedLogs().length, 1, "only SlashExecuted");
        assertEq(_state(d), uint256(SlashingManager.State.Executed));
        assertEq(uint256(manager.proposal(d).appliedBps), 0);
        assertEq(registry.sequencer(id).bond, 2 ether, "nothing more taken");
        assertEq(registry.insuranceOwed(), 8 ether, "20% of 40");

        vm.prank(verifier);
        vm.expectRevert(
            abi.encodeWithSelector(SlashingManager.PeriodCapReached.selector, id, 0, MAX_PER_PERIOD)
        );
        manager.propose(id, 9, 0, EVIDENCE, 100);

        // The next period (epochs 12..23) has its own cap.
        _warpToEpoch(12);
        assertEq(uint256(manager.periodOf(11)), 0);
        assertEq(uint256(manager.periodOf(12)), 1);
        uint256 e = _propose(id, 12, 0, 1000);
        assertEq(uint256(manager.usedBps(id, 1)), 0);
        _warpToEpoch(14);
        // 10% of 32 (2 bond + 30 pool at epoch 12): the bond, then 1.2 from the pool.
        assertEq(manager.execute(e), 3.2 ether);
        assertEq(registry.sequencer(id).bond, 0);
        assertEq(registry.pool(id).tokens, 28.8 ether);
    }

    function test_periodCap_isPerSequencer() public {
        uint32 id = _registerAs(operator, 10 ether, 0);
        uint32 other = _registerAs(address(0x0BF), 10 ether, 0);
        _warpToEpoch(8);
        uint256 a = _propose(id, 7, 0, 1000);
        uint256 b = _propose(id, 7, 1, 1000);
        uint256 c = _propose(other, 7, 0, 1000);
        _warpToEpoch(10);
        manager.execute(a);
        manager.execute(b);
        assertEq(manager.execute(c), 1 ether, "the other sequencer's cap is untouched");
        assertEq(uint256(manager.usedBps(id, 0)), 2000);
        assertEq(uint256(manager.usedBps(other, 0)), 1000);
    }

    // ================================================================ expiry
    function test_expiry_afterTheRegistryBoundThenClosedByAnyone() public {
        uint32 id = _sequencerWith(10 ether, 30 ether);
        _warpToEpoch(10);
        // The oldest evidence at epoch 10: epoch 6; executable at 12, last executable at 12.
        uint256 first = _propose(id, 6, 0, 1000);
        uint256 second = _propose(id, 6, 1, 500);
        assertEq(uint256(manager.lastEpoch(first)), 12);
        _warpToEpoch(12);
        assertEq(manager.execute(first), 4 ether, "the last epoch still executes");

        _warpToEpoch(13);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.ProposalExpired.selector, second, 12, 13));
        manager.execute(second);
        assertEq(_state(second), uint256(SlashingManager.State.Expired), "reads expired");
        assertEq(uint256(manager.proposal(second).state), uint256(SlashingManager.State.Pending));
        assertEq(manager.pendingProposals(id), 1, "counts until closed");

        vm.expectEmit(address(manager));
        emit SlashingManager.SlashExpired(second, id);
        vm.prank(keeper);
        manager.expire(second);
        assertEq(uint256(manager.proposal(second).state), uint256(SlashingManager.State.Expired));
        assertEq(manager.pendingProposals(id), 0);
        assertEq(manager.pendingFractionBps(id), 0);
        vm.expectRevert(_notPending(second, SlashingManager.State.Expired));
        manager.expire(second);
        vm.expectRevert(_notPending(second, SlashingManager.State.Expired));
        manager.execute(second);

        uint256 third = _propose(id, 13, 0, 100);
        vm.expectRevert(abi.encodeWithSelector(SlashingManager.NotExpired.selector, third, 19, 13));
        manager.expire(third);
        vm.expectRevert(_notPending(first, SlashingManager.State.Executed));
        manager.expire(first);
    }

    // ================================================================ views for the liquid token
    function test_pendingViews_followProposalsVetoesExecutions() public {
        uint32 id = _registerAs(operator, 10 ether, 0);
        uint32 other = _registerAs(address(0x0BF), 10 ether, 0);
        _warpToEpoch(8);
        uint256 a = _propose(id, 7, 0, 500);
        uint256 b = _propose(id, 7, 1, 700);
        _propose(id, 7, 2, 300);
        _propose(other, 7, 0, 100);
        assertEq(manager.pendingProposals(id), 3);
        assertEq(manager.pendingFractionBps(id), 1500);
        assertEq(manager.pendingProposals(other), 1);
        assertEq(manager.pendingFractionBps(other), 100);

        vm.prank(guardian);
        manager.veto(a);
        assertEq(manager.pendingProposals(id), 2);
        assertEq(manager.pendingFractionBps(id), 1000);
        _warpToEpoch(10);
        manager.execute(b);
        assertEq(manager.pendingProposals(id), 1);
        assertEq(manager.pendingFractionBps(id), 300);
        assertEq(manager.pendingProposals(other), 1, "another sequencer's stay");
    }

    // ================================================================ fuzz
    /// Any fraction, evidence age, bond and wait: before the window the execution reverts, after
    /// the registry bound it expires, in between it takes exactly fraction x stake at the
    /// infraction, bond first, and all of it goes to the insurance fund.
    function testFuzz_fractionAndTiming(uint16 fractionBps, uint8 age, uint8 wait, uint256 bond) public {
        fractionBps = uint16(bound(fractionBps, 1, MAX_FRACTION));
        age = uint8(bound(age, 0, UNBONDING - VETO));
        wait = uint8(bound(wait, 0, 12));
        bond = bound(bond, 1 ether, 10 ether);
        uint32 id = _registerAs(operator, bond, 0);
        _delegateAs(alice, id, 30 ether);
        _warpToEpoch(12); // stake from epoch 6 on: bond + 30 ether
        uint64 infraction = 12 - uint64(age);
        uint256 proposalId = _propose(id, infraction, 0, fractionBps);
        uint64 epoch = 12 + uint64(wait);
        _warpToEpoch(epoch);

        if (epoch < 12 + VETO) {
            vm.expectRevert(
                abi.encodeWithSelector(SlashingManager.VetoWindowOpen.selector, proposalId, 14, epoch)
            );
            manager.execute(proposalId);
            return;
        }
        uint64 last = infraction + UNBONDING;
        if (epoch > last) {
            vm.expectRevert(
                abi.encodeWithSelector(SlashingManager.ProposalExpired.selector, proposalId, last, epoch)
            );
            manager.execute(proposalId);
            return;
        }
        uint256 expected = (bond + 30 ether) * fractionBps / 10_000;
        uint256 fromBond = expected < bond ? expected : bond;
        uint256 verifierBefore = verifier.balance;
        vm.prank(keeper);
        assertEq(manager.execute(proposalId), expected, "fraction x stake at the infraction");
        assertEq(registry.sequencer(id).bond, bond - fromBond, "bond first");
        assertEq(registry.pool(id).tokens, 30 ether - (expected - fromBond), "then the pool");
        assertEq(registry.sequencer(id).jailed, bond - fromBond < 1 ether, "jailed under the minimum");
        assertEq(registry.insuranceOwed(), expected, "all of it to the insurance fund");
        assertEq(verifier.balance, verifierBefore);
        assertEq(keeper.balance, 0);
        assertEq(uint256(manager.usedBps(id, manager.periodOf(infraction))), fractionBps);
    }
}
