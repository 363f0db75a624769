// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SystemFixture} from "./utils/SystemFixture.sol";
import {Refuser} from "./utils/Refuser.sol";
import {ReportExecutor} from "../src/ReportExecutor.sol";
import {ReportConsensus} from "../src/ReportConsensus.sol";
import {ReportTypes} from "../src/interfaces/ReportTypes.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";
import {FeeVault} from "../src/FeeVault.sol";
import {EmissionReserve} from "../src/EmissionReserve.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {LiquidStakingToken} from "../src/LiquidStakingToken.sol";

/// The report contract executes only agreed reports, checks every claim a report makes (range,
/// chain terms, shares, fee, emission, conservation, dust, arrived revenue, pool rewards, the
/// rate bound), pays by pull, drives the registry and the liquid pool.
contract ReportExecutorTest is SystemFixture {
    function setUp() public {
        _setUpSystem();
    }

    /// The first report (epoch 5, executed in epoch 6): delegates 8 + 8 of the 20 buffered.
    function _first() internal returns (ReportTypes.Report memory) {
        _toEpoch(6);
        return _prepare(_report(_plans(1), _liquid(8 ether, 8 ether)));
    }

    // ------------------------------------------------------------------ a report end to end
    function test_executesAnAgreedReport() public {
        ReportTypes.Report memory r = _first();
        ReportTypes.EpochEntry memory e = r.epochs[0];
        // Inputs of epoch 5, worked by hand: share = max(1e13 * 2.5%, 0.75e13 * 15%).
        assertEq(e.chains[0].share, 1_125_000_000_000);
        // Revenue after shares 13_875_000_000_010 (MEV 7 and the home chain's 5e12 + 3 included).
        assertEq(e.protocolFee, 1_387_500_000_001);
        // Pool 17_487_500_000_009 split 3:1 by blocks; one wei of dust.
        assertEq(e.sequencers[0].reward, 13_115_625_000_006);
        assertEq(e.sequencers[1].reward, 4_371_875_000_002);
        assertEq(e.dustOut, 1);
        uint256 registryBefore = address(registry).balance;

        _agree(r);
        vm.expectEmit(true, true, true, true, address(executor));
        emit ReportExecutor.RevenueShareCredited(
            5, OP_CHAIN, partner, GROSS, GROSS / 4, 250, 1500, 1_125_000_000_000
        );
        _executeAll(r);

        assertEq(vaultOp.totalDrawn(), GROSS + 7, "the OP chain's revenue and MEV drawn");
        assertEq(vaultHome.totalDrawn(), GROSS / 2 + 3, "the home chain's revenue drawn");
        assertEq(reserve.paid(), EMISSION, "the epoch's emission drawn");
        assertEq(executor.owed(partner), 1_125_000_000_000, "partner credited by pull");
        assertEq(executor.owed(treasury), 1_387_500_000_001, "treasury credited the fee");
        assertEq(executor.carriedDust(), 1);
        assertEq(
            address(registry).balance - registryBefore,
            13_115_625_000_006 + 4_371_875_000_002 + 16 ether,
            "the rewards and the token's delegations"
        );
        assertEq(registry.nextRewardEpoch(), 6);
        assertEq(
            address(executor).balance,
            executor.totalOwed() + executor.carriedDust(),
            "holds exactly what it owes"
        );
        assertEq(executor.nextEpoch(), 6);
        assertEq(registry.activeSet().length, 2);
        assertApproxEqAbs(token.stakeOf(1), 8 ether, 1, "delegated per the allocation");
        assertApproxEqAbs(token.stakeOf(2), 8 ether, 1, "delegated per the allocation");
        assertEq(uint256(token.lastReportEpoch()), 6, "the report harvested");
        // Votes for the executed slot are closed; the next slot is open.
        bytes32 hash = _hash(r);
        vm.prank(memberC);
        vm.expectRevert(abi.encodeWithSelector(ReportConsensus.SlotClosed.selector, 5));
        executor.vote(5, hash);
    }

    function test_theSecondReportPaysThePoolItsPartOfTheRewards() public {
        _run(_first());
        _toEpoch(8);
        ReportTypes.Report memory r = _prepare(_report(_plans(2), _liquid(8 ether, 8 ether)));
        // The token delegated in epoch 6, so its shares earn from epoch 7: its rewards are the
        // pool part of each sequencer's epoch-7 reward (commission, then the bond's part off)
        // plus the pool's dust: epoch 5's rewards, which found no stake checkpointed (the
        // sequencers registered in epoch 5) and waited as dust for the pool's first shares.
        uint256 expected;
        for (uint256 i; i < 2; ++i) {
            uint32 id = uint32(i + 1);
            RegistryCore.StakePoint memory point = registry.stakeAt(id, 7);
            uint256 reward = r.epochs[1].sequencers[i].reward;
            uint256 rest = reward - RewardMath.applyBps(reward, point.commissionBps);
            expected += rest - RewardMath.bondPart(rest, point.bond, point.tokens) + registry.pool(id).dust;
        }
        assertGt(expected, 0, "the pool earned");
        assertApproxEqAbs(r.liquid.poolRewards, expected, 2, "the pool's part, less accumulator dust");
        uint256 rateBefore = token.shareRate();
        _run(r);
        assertGt(token.shareRate(), rateBefore, "rewards raise the rate");
        assertEq(registry.nextRewardEpoch(), 8);
    }

    function test_catchUpOverSeveralEpochs() public {
        _toEpoch(9);
        ReportTypes.Report memory r = _prepare(_report(_plans(4), _liquid(8 ether, 8 ether)));
        assertEq(uint256(r.header.lastEpoch), 8);
        _run(r);
        assertEq(registry.nextRewardEpoch(), 9);
        assertEq(executor.nextEpoch(), 9);
        assertEq(reserve.paid(), 4 * EMISSION);
        assertEq(vaultOp.totalDrawn(), 4 * (GROSS + 7));
        assertEq(executor.carriedDust(), r.epochs[3].dustOut);
        for (uint256 k = 1; k < 4; ++k) {
            assertEq(r.epochs[k].dustIn, r.epochs[k - 1].dustOut, "dust chains from epoch to epoch");
        }
        assertEq(address(executor).balance, executor.totalOwed() + executor.carriedDust());
    }

    // ------------------------------------------------------------------ consensus
    function test_aMinorityCannotExecute() public {
        ReportTypes.Report memory r = _first();
        _vote(memberA, r);
        vm.expectRevert(abi.encodeWithSelector(ReportExecutor.NotAgreed.selector, 5, _hash(r)));
        executor.execute(r);
    }

    function test_aDisagreeingMemberDoesNotBlockTheQuorum() public {
        ReportTypes.Report memory r = _first();
        ReportTypes.Report memory other = _report(_plans(1), _liquid(8 ether, 8 ether));
        other.epochs[0].sequencers[0].missedBlocks = 1;
        _vote(memberB, other);
        _vote(memberA, r);
        _vote(memberC, r);
        _executeAll(r);
        assertEq(executor.nextEpoch(), 6);
    }

    function test_membershipChangeResetsVotes() public {
        ReportTypes.Report memory r = _first();
        _agree(r);
        address[] memory members = _members();
        _govern(address(executor), abi.encodeCall(executor.setMembership, (members, 2)));
        vm.expectRevert(abi.encodeWithSelector(ReportExecutor.NotAgreed.selector, 5, _hash(r)));
        executor.execute(r);
        _agree(r);
        _executeAll(r);
        assertEq(executor.nextEpoch(), 6);
    }

    /// The `report_hash` shared vector: the hash the report contract computes from its own
    /// calldata (the one votes must match) is the vector's, at the vector's contract address
    /// (this contract's code and storage copied there; no votes, so the report is NotAgreed).
    function test_theCalldataHashIsTheSharedVectorsHash() public {
        string memory json = _vector("report_hash");
        ReportTypes.Report memory report =
            abi.decode(vm.parseJsonBytes(json, ".expected.encoded"), (ReportTypes.Report));
        assertEq(block.chainid, _uint(json, ".input.chain_id"));
        address copy = vm.parseJsonAddress(json, ".input.report_contract");
        vm.etch(copy, address(executor).code);
        for (uint256 slot; slot < 32; ++slot) {
            vm.store(copy, bytes32(slot), vm.load(address(executor), bytes32(slot)));
        }
        bytes32 expected = vm.parseJsonBytes32(json, ".expected.hash");
        vm.expectRevert(
            abi.encodeWithSelector(ReportExecutor.NotAgreed.selector, report.header.firstEpoch, expected)
        );
        ReportExecutor(payable(copy)).execute(report);
    }

    function test_anotherReportWaitsForTheOneExecuting() public {
        ReportTypes.Report memory r = _first();
        _agree(r);
        assertFalse(executor.execute(r), "the first call pays; the pool's harvest is next");
        assertEq(executor.executing(), _hash(r));
        assertEq(uint256(executor.stage()), uint256(ReportExecutor.Stage.Harvesting));
        ReportTypes.Report memory other = _report(_plans(1), _liquid(8 ether, 8 ether));
        vm.expectRevert(
            abi.encodeWithSelector(ReportExecutor.ReportInProgress.selector, _hash(r), _hash(other))
        );
        executor.execute(other);
        // The next report is computed on the state this one leaves: its slot waits too.
        vm.prank(memberA);
        vm.expectRevert(abi.encodeWithSelector(ReportConsensus.SlotClosed.selector, 6));
        executor.vote(6, keccak256("the next report"));
        // Anyone may go on with it.
        vm.startPrank(address(0xCAFE));
        assertFalse(executor.execute(r), "the harvest");
        assertTrue(executor.execute(r), "the moves end the report");
        vm.stopPrank();
        assertEq(executor.executing(), bytes32(0));
        assertEq(uint256(executor.stage()), uint256(ReportExecutor.Stage.Idle));
        vm.expectRevert(ReportExecutor.NotSelf.selector);
        executor.harvestStep(5, r.liquid);
        vm.expectRevert(ReportExecutor.NotSelf.selector);
        executor.moveStep(5, r.liquid);
    }

    // ------------------------------------------------------------------ rejected reports
    function test_rejectsAReportThatDoesNotConserve() public {
        ReportTypes.Report memory r = _first();
        r.epochs[0].sequencers[0].reward += 1;
        uint256 inputs = GROSS + 7 + GROSS / 2 + 3 + EMISSION;
        _expectRejected(
            r, abi.encodeWithSelector(ReportExecutor.NotConserved.selector, 5, inputs, inputs + 1)
        );
        r.epochs[0].sequencers[0].reward -= 1;
        r.epochs[0].dustOut += 1;
        _expectRejected(
            r, abi.encodeWithSelector(ReportExecutor.NotConserved.selector, 5, inputs, inputs + 1)
        );
    }

    function test_rejectsRevenueAboveWhatArrived() public {
        _toEpoch(6);
        ReportTypes.Report memory r = _report(_plans(1), _liquid(8 ether, 8 ether));
        _sendRevenue(vaultOp, GROSS + 7);
        _sendRevenue(vaultHome, GROSS / 2); // three wei short
        _expectRejected(
            r, abi.encodeWithSelector(FeeVault.InsufficientRevenue.selector, GROSS / 2 + 3, GROSS / 2)
        );
    }

    function test_rejectsAnEmissionOffTheSchedule() public {
        ReportTypes.Report memory r = _first();
        r.epochs[0].emission += 1;
        r.epochs[0].dustOut += 1; // conserving, but above the schedule
        _expectRejected(
            r, abi.encodeWithSelector(EmissionReserve.WrongAmount.selector, 5, EMISSION + 1, EMISSION)
        );
    }

    /// A windfall does not jump the rate: what joins the pool is capped by the bound over the
    /// report's epochs, and the token carries the rest, which joins at later reports within
    /// theirs.
    function test_aWindfallJoinsThePoolWithinTheRateBound() public {
        _run(_first());
        _toEpoch(8);
        Plan[] memory plans = _plans(2);
        plans[1].gross[1] = 10 ether; // far above 50% a year on 16 staked
        ReportTypes.Report memory r = _prepare(_report(plans, _liquid(8 ether, 8 ether)));
        uint256 before = token.shareRate();
        uint256 aprBound = before * 5000 * 2 * EPOCH / (10_000 * 365 days); // epochs 6 and 7
        _run(r);
        assertEq(executor.unharvestedFrom(), 8, "the harvest ran");
        uint256 rise = token.shareRate() - before;
        assertLe(rise, aprBound + 2, "within the bound");
        assertGe(rise, aprBound - aprBound / 1000, "the bound's worth joined");
        uint256 carried = token.carriedRewards();
        assertGt(carried, r.liquid.poolRewards / 2, "most of the windfall is carried");
        assertEq(address(token).balance, uint256(token.bufferedAssets()) + token.pendingFees() + carried);
        // The next report joins more of it, within its own bound, and finalizes a ticket: what
        // the ticket leaves behind (it takes its value at request) is held out of the pool, so
        // the report's whole rise stays within the bound (finding 8).
        uint256 id = _requestAs(staker, token.balanceOf(staker) / 10);
        _toEpoch(9);
        before = token.shareRate();
        r = _report(_plans(1), _liquid(8 ether, 8 ether));
        r.liquid.batches = _oneBatch(id, type(uint256).max);
        _run(_prepare(r));
        assertEq(executor.unharvestedFrom(), 9, "the harvest ran");
        assertEq(queue.lastFinalizedId(), id, "and finalized the ticket");
        assertLe(
            token.shareRate() - before, before * 5000 * EPOCH / (10_000 * 365 days) + 2, "within the bound"
        );
        assertGt(token.heldGain(), 0, "the ticket's part is held for later harvests");
        assertLt(token.carriedRewards(), carried, "the carried rewards join over later reports");
    }

    function test_rejectsWrongShareFeeDustAndTerms() public {
        ReportTypes.Report memory r = _first();
        r.epochs[0].chains[0].share += 1;
        _expectRejected(
            r,
            abi.encodeWithSelector(
                ReportExecutor.WrongShare.selector, 5, OP_CHAIN, 1_125_000_000_001, 1_125_000_000_000
            )
        );
        r.epochs[0].chains[0].share -= 1;
        r.epochs[0].protocolFee -= 1;
        _expectRejected(
            r,
            abi.encodeWithSelector(
                ReportExecutor.WrongProtocolFee.selector, 5, 1_387_500_000_000, 1_387_500_000_001
            )
        );
        r.epochs[0].protocolFee += 1;
        r.epochs[0].dustIn = 5;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.DustMismatch.selector, 5, 5, 0));
        r.epochs[0].dustIn = 0;
        r.epochs[0].chains[0].partner = address(0xBAD);
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongChainTerms.selector, 5, 0));
        r.epochs[0].chains[0].partner = partner;
        r.epochs[0].chains[1].bBps = 1;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongChainTerms.selector, 5, 1));
        r.epochs[0].chains[1].bBps = 0;
        ReportTypes.ChainRevenue[] memory one = new ReportTypes.ChainRevenue[](1);
        one[0] = r.epochs[0].chains[0];
        r.epochs[0].chains = one;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongChainTerms.selector, 5, 1));
    }

    function test_rejectsAWrongHeader() public {
        ReportTypes.Report memory r = _first();
        r.header.chainId = 1;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongChain.selector, 1));
        r.header.chainId = uint64(block.chainid);
        r.header.lastEpoch = 6;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongRange.selector, 5, 6, 5, 1));
        r.header.lastEpoch = 5;
        r.header.refBlock = uint64(block.number);
        _expectRejected(
            r, abi.encodeWithSelector(ReportExecutor.RefBlockNotPast.selector, block.number, block.number)
        );
    }

    function test_rejectsEpochsOutOfOrderAndTooMany() public {
        _toEpoch(15);
        ReportTypes.Report memory r = _report(_plans(9), _liquid(0, 0));
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.TooManyEpochs.selector, 9, 8));
        r = _report(_plans(2), _liquid(0, 0));
        r.epochs[1].epoch = 7;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongRange.selector, 5, 7, 5, 2));
        r.epochs[1].epoch = 6;
        r.epochs[0].epoch = 4; // the first entry must be the header's first epoch
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.WrongRange.selector, 5, 4, 5, 2));
    }

    function test_rejectsMalformedSequencersAndAllocation() public {
        ReportTypes.Report memory r = _first();
        (r.epochs[0].sequencers[0].id, r.epochs[0].sequencers[1].id) = (2, 1);
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.MalformedSequencers.selector, 5, 1));
        (r.epochs[0].sequencers[0].id, r.epochs[0].sequencers[1].id) = (1, 2);
        r.liquid.allocation[1].sequencerId = 1;
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.MalformedAllocation.selector, 1));
    }

    /// Each call's work is bounded, so a report that started always ends within blocks.
    function test_rejectsReportsPastTheBoundsOfOneCall() public {
        ReportTypes.Report memory r = _first();
        r.liquid.allocation = new ReportTypes.AllocationTarget[](201);
        for (uint256 i; i < 201; ++i) {
            r.liquid.allocation[i] = ReportTypes.AllocationTarget({sequencerId: uint32(i + 1), target: 0});
        }
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.MalformedAllocation.selector, 200));
        r = _first();
        r.liquid.batches = new ReportTypes.FinalizationBatch[](17);
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.TooManyBatches.selector, 17, 16));
        // An unregistered sequencer: no part paying it could be taken.
        _toEpoch(6);
        Plan[] memory plans = _plans(1);
        plans[0].ids[1] = 3;
        _expectRejected(
            _report(plans, _liquid(0, 0)),
            abi.encodeWithSelector(ReportExecutor.MalformedSequencers.selector, 5, 1)
        );
        plans[0] = _plan();
        (plans[0].ids, plans[0].blocks, plans[0].missed, plans[0].jailed) =
        (new uint32[](201), new uint64[](201), new uint64[](201), new bool[](201));
        for (uint256 i; i < 201; ++i) {
            (plans[0].ids[i], plans[0].blocks[i]) = (uint32(i + 1), 1);
        }
        _expectRejected(
            _report(plans, _liquid(0, 0)),
            abi.encodeWithSelector(ReportExecutor.MalformedSequencers.selector, 5, 200)
        );
    }

    /// A refused pool step is undone whole; the payments stand; the next report's harvest
    /// collects what the pool earned and its rate bound counts the epochs since the last
    /// harvest.
    function test_aRefusedPoolStepIsUndoneAndThePaymentsStand() public {
        _run(_first());
        _toEpoch(8);
        ReportTypes.Report memory r = _prepare(_report(_plans(2), _liquid(8 ether, 8 ether)));
        uint256 harvest = r.liquid.poolRewards;
        assertGt(harvest, 0, "the pool earned in epoch 7");
        r.liquid.poolRewards += 1;
        r.liquid.allocation[0].target = 9 ether; // a move the refusal undoes
        uint256 rate = token.shareRate();
        uint256 buffered = token.bufferedAssets();
        assertEq(
            _liquidStepFailure(r),
            abi.encodeWithSelector(ReportExecutor.PoolRewardsMismatch.selector, harvest, harvest + 1)
        );
        assertEq(executor.nextEpoch(), 8, "the report ended");
        assertEq(registry.nextRewardEpoch(), 8, "the sequencers were paid");
        assertEq(executor.executing(), bytes32(0));
        assertEq(token.shareRate(), rate, "no harvest");
        assertEq(token.bufferedAssets(), buffered, "no move");
        assertApproxEqAbs(token.stakeOf(1), 8 ether, 1, "the stake as before");
        assertEq(uint256(token.lastReportEpoch()), 6, "the token saw no report");
        assertEq(executor.unharvestedFrom(), 6);
        // The next report harvests epochs 6 to 8 at once, within a bound over all three.
        _toEpoch(9);
        r = _prepare(_report(_plans(1), _liquid(8 ether, 8 ether)));
        assertGt(r.liquid.poolRewards, harvest, "the pool rewards of both reports");
        _run(r);
        assertEq(executor.unharvestedFrom(), 9);
        assertEq(uint256(token.lastReportEpoch()), 9);
        assertGt(token.shareRate(), rate, "the harvest raised the rate");
    }

    // ------------------------------------------------------------------ jailing and the active set
    function test_jailedSequencersPartGoesToTheTreasury() public {
        _toEpoch(6);
        Plan[] memory plans = _plans(1);
        plans[0].jailed[1] = true;
        ReportTypes.Report memory r = _prepare(_report(plans, _liquid(8 ether, 8 ether)));
        uint256 registryBefore = address(registry).balance;
        _run(r);
        ReportTypes.EpochEntry memory e = r.epochs[0];
        assertEq(executor.owed(treasury), e.protocolFee + e.sequencers[1].reward);
        assertEq(address(registry).balance - registryBefore, e.sequencers[0].reward + 16 ether);
        assertEq(registry.operatorRewards(2), 0, "the jailed sequencer earned nothing");
    }

    function test_downtimePastTheThresholdJails() public {
        _toEpoch(6);
        Plan[] memory plans = _plans(1);
        plans[0].missed[1] = 2; // 2 of 3 expected blocks missed: above 50%
        plans[0].missed[0] = 3; // 3 of 6: not above 50%
        ReportTypes.Report memory r = _prepare(_report(plans, _liquid(8 ether, 0)));
        r.activeSet = new uint32[](1);
        r.activeSet[0] = 1; // the set without the jailed sequencer
        _run(r);
        assertTrue(registry.sequencer(2).jailed, "sequencer 2 jailed for downtime");
        assertFalse(registry.sequencer(1).jailed);
        assertEq(registry.activeSet().length, 1);
    }

    /// The `stake_moves` shared vector: the moves the report contract makes for an allocation
    /// are the ones the Rust planner (`economics::moves`) names.
    function test_stakeMovesFollowTheSharedVector() public {
        string memory json = _vector("stake_moves");
        _run(_first()); // 8 and 8 delegated
        _requestAs(staker, token.balanceOf(staker) / 2); // the queue lacks about 6
        for (uint32 id = 1; id <= 2; ++id) {
            string memory path = string.concat(".input.pools[", vm.toString(id - 1), "]");
            assertEq(token.stakeOf(id), _uint(json, string.concat(path, ".delegated")));
        }
        _toEpoch(7);
        uint256 t1 = _uint(json, ".input.targets[0].target");
        uint256 t2 = _uint(json, ".input.targets[1].target");
        ReportTypes.Report memory r = _prepare(_report(_plans(1), _liquid(t1, t2)));
        _agree(r);
        _toLastCall(r);
        uint256 count;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".expected.moves[", vm.toString(i), "]")); ++i) {
            count += 1;
            string memory path = string.concat(".expected.moves[", vm.toString(i), "]");
            string memory kind = vm.parseJsonString(json, string.concat(path, ".kind"));
            uint32 from = uint32(_uint(json, string.concat(path, ".from")));
            uint32 to = uint32(_uint(json, string.concat(path, ".to")));
            uint256 amount = _uint(json, string.concat(path, ".amount"));
            bytes memory call;
            if (keccak256(bytes(kind)) == keccak256("redelegate")) {
                call = abi.encodeCall(token.redelegateStake, (from, to, amount));
            } else if (keccak256(bytes(kind)) == keccak256("undelegate")) {
                call = abi.encodeCall(token.undelegateStake, (from, amount));
            } else {
                fail("the vector's scenario has no delegation");
            }
            vm.expectCall(address(token), call);
        }
        assertEq(count, 2, "a redelegation and an undelegation");
        assertTrue(executor.execute(r));
    }

    /// The `downtime` shared vector: the sequencers the report contract jails are the ones the
    /// Rust rule (`economics::downtime`) names.
    function test_downtimeFollowsTheSharedVector() public {
        string memory json = _vector("downtime");
        _toEpoch(7);
        Plan[] memory plans = _plans(2);
        for (uint256 k; k < 2; ++k) {
            for (uint256 i; i < 2; ++i) {
                string memory path =
                    string.concat(".input.epochs[", vm.toString(k), "][", vm.toString(i), "]");
                assertEq(_uint(json, string.concat(path, ".id")), i + 1);
                plans[k].blocks[i] = uint64(_uint(json, string.concat(path, ".blocks")));
                plans[k].missed[i] = uint64(_uint(json, string.concat(path, ".missed")));
            }
        }
        assertEq(_uint(json, ".input.max_missed_bps"), executor.maxMissedBps());
        uint256[] memory jailed = _uints(json, ".expected.jailed");
        ReportTypes.Report memory r = _report(plans, _liquid(0, 0));
        r.activeSet = new uint32[](0);
        _run(_prepare(r));
        for (uint32 id = 1; id <= 2; ++id) {
            bool expected;
            for (uint256 j; j < jailed.length; ++j) {
                expected = expected || jailed[j] == id;
            }
            assertEq(registry.sequencer(id).jailed, expected, "jailed as the vector says");
        }
    }

    function test_aStaleActiveSetIsRejectedAndTheReportStillExecutes() public {
        _toEpoch(6);
        ReportTypes.Report memory r = _report(_plans(1), _liquid(0, 0));
        r.activeSet = new uint32[](1);
        r.activeSet[0] = 2; // not the top by stake: both are eligible
        r = _prepare(r);
        _agree(r);
        _toLastCall(r);
        vm.expectEmit(true, false, false, true, address(executor));
        emit ReportExecutor.ActiveSetRejected(5, r.activeSet);
        executor.execute(r);
        assertEq(registry.activeSet().length, 2, "unchanged");
        assertTrue(executor.activeSetStale());
        // Anyone may submit the right set.
        uint32[] memory set = new uint32[](2);
        (set[0], set[1]) = (1, 2);
        vm.prank(address(0xCAFE));
        executor.refreshActiveSet(set);
        assertEq(registry.activeSet().length, 2);
        // Only after a refused set, once.
        vm.expectRevert(ReportExecutor.ActiveSetNotStale.selector);
        executor.refreshActiveSet(set);
    }

    function test_instantExitFeesJoiningAtTheHarvestStayWithinTheBound() public {
        _run(_first());
        uint256 shares = token.convertToShares(3 ether);
        vm.prank(staker);
        token.instantExit(shares, staker);
        uint256 fees = token.pendingFees();
        assertGt(fees, 0, "the exit paid a fee");
        _toEpoch(7);
        uint256 before = token.shareRate();
        ReportTypes.Report memory r =
            _prepare(_report(_plans(1), _liquid(token.stakeOf(1), token.stakeOf(2))));
        _run(r);
        // The fees alone raise the rate far above 50% a year over one epoch.
        uint256 rise = token.shareRate() - before;
        uint256 aprBound = before * 5000 * EPOCH / (10_000 * 365 days);
        assertGt(rise, aprBound, "the rise is mostly the fees");
        assertEq(token.pendingFees(), 0, "the fees joined the pool");
    }

    function test_aPausedRegistrySkipsTheStakeMovesOnly() public {
        _run(_first());
        vm.prank(guardian);
        registry.pause(300);
        _toEpoch(7);
        ReportTypes.Report memory r = _prepare(_report(_plans(1), _liquid(6 ether, 10 ether)));
        _agree(r);
        _toLastCall(r);
        vm.expectEmit(true, false, false, false, address(executor));
        emit ReportExecutor.LiquidMovesSkipped(6, 0);
        executor.execute(r);
        assertEq(executor.nextEpoch(), 7, "the report executed: rewards paid while paused");
        assertApproxEqAbs(token.stakeOf(1), 8 ether, 1, "no stake moved");
        assertEq(token.positions().length, 0);
    }

    // ------------------------------------------------------------------ the queue
    function test_finalizesTheReportsBatches() public {
        _run(_first());
        uint256 shares = token.balanceOf(staker) / 10; // about 2 of 20
        uint256 id = _requestAs(staker, shares);
        _toEpoch(7);
        ReportTypes.Report memory r = _report(_plans(1), _liquid(8 ether, 8 ether));
        r.liquid.batches = _oneBatch(id, type(uint256).max);
        r = _prepare(r);
        _run(r);
        assertEq(queue.lastFinalizedId(), id);
        assertEq(uint256(queue.stateOf(id)), uint256(2), "finalized");
    }

    function test_rejectsAFinalizationAboveTheAgreedRate() public {
        _run(_first());
        uint256 id = _requestAs(staker, token.balanceOf(staker) / 10);
        _toEpoch(7);
        ReportTypes.Report memory r = _report(_plans(1), _liquid(8 ether, 8 ether));
        r.liquid.batches = _oneBatch(id, 1);
        r = _prepare(r);
        bytes memory reason = _liquidStepFailure(r);
        assertEq(bytes4(reason), ReportExecutor.FinalizationAboveReport.selector);
        (uint256 index,, uint256 reported) = abi.decode(_tail(reason), (uint256, uint256, uint256));
        assertEq(index, 0);
        assertEq(reported, 1);
        assertEq(queue.lastFinalizedId(), 0, "nothing finalized");
        assertEq(executor.unharvestedFrom(), 6, "the harvest step, batches included, was undone");
    }

    function test_undelegatesWhatTheQueueLacks() public {
        _run(_first());
        // A request for half the stake: the buffer (4) cannot cover it.
        uint256 id = _requestAs(staker, token.balanceOf(staker) / 2);
        (, uint256 pending,) = queue.request(id);
        uint256 shortfall = pending - token.bufferedAssets();
        _toEpoch(7);
        // The report lowers both targets by half the shortfall: the decreases are undelegated.
        uint256 half = shortfall / 2;
        ReportTypes.Report memory r = _prepare(
            _report(_plans(1), _liquid(token.stakeOf(1) - half, token.stakeOf(2) - (shortfall - half - 2)))
        );
        _run(r);
        assertApproxEqAbs(
            token.bufferedAssets() + token.unbondingAssets(), pending, 3, "the shortfall is unbonding"
        );
        assertEq(executor.openBuckets().length, 2, "one bucket per pool");
        // Undelegating more than the queue lacks from an active sequencer is refused.
        _toEpoch(8);
        r = _prepare(_report(_plans(1), _liquid(token.stakeOf(1) - 1 ether, token.stakeOf(2))));
        assertEq(
            _liquidStepFailure(r),
            abi.encodeWithSelector(LiquidStakingToken.UndelegationNotNeeded.selector, 1 ether, 0)
        );
        // Once matured, a later report brings the buckets back into the buffer.
        _toEpoch(8 + UNBONDING);
        _run(_prepare(_report(_plans(UNBONDING), _liquid(token.stakeOf(1), token.stakeOf(2)))));
        assertEq(executor.openBuckets().length, 0);
        assertEq(token.unbondingAssets(), 0);
    }

    // ------------------------------------------------------------------ pull payments
    function test_claimsPayByPull() public {
        _run(_first());
        uint256 owedToTreasury = executor.owed(treasury);
        vm.prank(treasury);
        assertEq(executor.claim(address(0x7777)), owedToTreasury);
        assertEq(address(0x7777).balance, owedToTreasury);
        assertEq(executor.owed(treasury), 0);
        vm.prank(treasury);
        vm.expectRevert(abi.encodeWithSelector(ReportExecutor.NothingOwed.selector, treasury));
        executor.claim(treasury);
        vm.prank(partner);
        vm.expectRevert(ReportExecutor.ZeroAddress.selector);
        executor.claim(address(0));
        Refuser refuser = new Refuser();
        vm.prank(partner);
        vm.expectRevert(
            abi.encodeWithSelector(
                ReportExecutor.TransferFailed.selector, address(refuser), 1_125_000_000_000
            )
        );
        executor.claim(address(refuser));
        assertEq(executor.owed(partner), 1_125_000_000_000, "a failed claim keeps the credit");
    }

    function test_refusesValueFromAnyoneButVaultsAndTheReserve() public {
        vm.deal(address(this), 1);
        (bool ok, bytes memory reason) = address(executor).call{value: 1}("");
        assertFalse(ok);
        assertEq(reason, abi.encodeWithSelector(ReportExecutor.UnexpectedValue.selector, address(this)));
    }

    // ------------------------------------------------------------------ deployment
    function _expectInvalid(ReportExecutor.Params memory p, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(ReportExecutor.InvalidParameter.selector, name));
        new ReportExecutor(p, _members(), 2, address(timelock));
    }

    function test_constructorRevertPaths() public {
        address[] memory m = _members();
        ReportExecutor.Params memory p = _executorParams();
        p.treasury = address(0);
        vm.expectRevert(ReportExecutor.ZeroAddress.selector);
        new ReportExecutor(p, m, 2, address(timelock));
        p = _executorParams();
        p.protocolFeeBps = 10_001;
        _expectInvalid(p, "protocolFeeBps");
        p = _executorParams();
        p.maxMissedBps = 10_001;
        _expectInvalid(p, "maxMissedBps");
        p = _executorParams();
        p.maxEpochsPerReport = 0;
        _expectInvalid(p, "maxEpochsPerReport");
        p.maxEpochsPerReport = 9; // past MAX_EPOCHS: the first call would not fit a block
        _expectInvalid(p, "maxEpochsPerReport");
        p = _executorParams();
        p.maxRateAprBps = 0;
        _expectInvalid(p, "maxRateAprBps");
        p = _executorParams();
        p.maxMovesPerReport = 0;
        _expectInvalid(p, "maxMovesPerReport");
        p.maxMovesPerReport = 17; // past MAX_MOVES: the moves call would not fit a block
        _expectInvalid(p, "maxMovesPerReport");
        p = _executorParams();
        p.chains[1].chainId = OP_CHAIN;
        _expectInvalid(p, "chains");
        p = _executorParams();
        p.chains = new ReportExecutor.ServedChain[](0);
        _expectInvalid(p, "chains");
        p = _executorParams();
        p.chains[1].vault = address(vaultOp); // a vault of another chain
        _expectInvalid(p, "vault");
        p = _executorParams();
        p.chains[1].aBps = 1; // terms without a partner
        _expectInvalid(p, "terms");
        p = _executorParams();
        p.chains[0].bBps = 10_001;
        _expectInvalid(p, "terms");
        vm.expectRevert(ReportConsensus.InvalidMembership.selector);
        new ReportExecutor(_executorParams(), m, 1, address(timelock));
        // The reserve must start where the registry's rewards do.
        _toEpoch(6);
        vm.prank(reporter);
        registry.distributeRewards(5, 5, new SequencerRegistry.SequencerRewards[](0));
        _expectInvalid(_executorParams(), "reserve");
    }
}

/// A partner whose address refuses native transfers cannot block a report: its share is a
/// credit it claims to another address.
contract ReportExecutorRefusingPartnerTest is SystemFixture {
    function setUp() public {
        partner = address(new Refuser());
        _setUpSystem();
    }

    function test_aRevertingPartnerDoesNotBlockAReport() public {
        _toEpoch(6);
        ReportTypes.Report memory r = _prepare(_report(_plans(1), _liquid(8 ether, 8 ether)));
        _run(r);
        uint256 share = r.epochs[0].chains[0].share;
        assertEq(executor.nextEpoch(), 6, "the report executed");
        assertEq(executor.owed(partner), share);
        vm.prank(partner);
        vm.expectRevert(abi.encodeWithSelector(ReportExecutor.TransferFailed.selector, partner, share));
        executor.claim(partner);
        vm.prank(partner);
        executor.claim(address(0x9999));
        assertEq(address(0x9999).balance, share);
    }
}

/// With no report for the stale timeout anyone undelegates for the queue and finalizes as
/// unbonding matures; the reports that catch up afterwards skip the tickets already finalized.
contract ReportExecutorStaleOracleTest is SystemFixture {
    function setUp() public {
        _setUpSystem();
    }

    function test_staleOracleExitThenCatchUpSkipsFinalizedTickets() public {
        _toEpoch(6);
        _run(_prepare(_report(_plans(1), _liquid(8 ether, 8 ether))));
        uint256 id = _requestAs(staker, token.balanceOf(staker) / 2);
        _toEpoch(6 + 24);
        assertTrue(token.isStale(), "no report for the stale timeout");
        vm.startPrank(address(0xCAFE));
        (uint64 c1,) = token.staleUndelegate(1);
        (uint64 c2,) = token.staleUndelegate(2);
        vm.stopPrank();
        _toEpoch(c1 > c2 ? c1 : c2);
        vm.startPrank(address(0xCAFE));
        token.withdrawUnbonded(1, c1);
        token.withdrawUnbonded(2, c2);
        uint256[] memory ends = new uint256[](1);
        ends[0] = id;
        queue.finalize(ends);
        vm.stopPrank();
        assertEq(queue.lastFinalizedId(), id, "finalized by anyone while stale");
        // Catch up: 8 epochs per report until the last ended epoch.
        uint64 current = registry.currentEpoch();
        bool first = true;
        while (executor.nextEpoch() < current) {
            uint256 count = current - executor.nextEpoch();
            if (count > 8) count = 8;
            ReportTypes.Report memory r = _report(_plans(count), _liquid(token.stakeOf(1), token.stakeOf(2)));
            if (first) {
                // The members computed this batch before they saw the stale finalization.
                r.liquid.batches = _oneBatch(id, type(uint256).max);
                first = false;
            }
            _run(_prepare(r));
        }
        assertEq(executor.nextEpoch(), current);
        assertEq(queue.lastFinalizedId(), id);
        assertFalse(token.isStale(), "the reports ended the stale period");
    }
}

/// A report makes at most `maxMovesPerReport` redelegations plus undelegations (here one).
contract ReportExecutorMoveBoundTest is SystemFixture {
    function _executorParams() internal view override returns (ReportExecutor.Params memory p) {
        p = super._executorParams();
        p.maxMovesPerReport = 1;
    }

    function setUp() public {
        _setUpSystem();
    }

    function test_rejectsMoreStakeMovesThanOneReportMakes() public {
        // Two delegations are two moves: past the bound of one, so the pool step is refused.
        _toEpoch(6);
        ReportTypes.Report memory r = _prepare(_report(_plans(1), _liquid(8 ether, 8 ether)));
        assertEq(_liquidStepFailure(r), abi.encodeWithSelector(ReportExecutor.TooManyMoves.selector, 2, 1));
        assertEq(token.stakeOf(1) + token.stakeOf(2), 0, "nothing delegated");
        _toEpoch(7);
        _run(_prepare(_report(_plans(1), _liquid(8 ether, 0))));
        _toEpoch(8);
        _run(_prepare(_report(_plans(1), _liquid(8 ether, 8 ether))));
        _requestAs(staker, token.balanceOf(staker) / 2); // the queue lacks about 6
        _toEpoch(9);
        // Pool 1 gives 1 to pool 2 (a redelegation) and 3 more to the queue (an undelegation).
        r = _prepare(_report(_plans(1), _liquid(token.stakeOf(1) - 4 ether, token.stakeOf(2) + 1 ether)));
        assertEq(_liquidStepFailure(r), abi.encodeWithSelector(ReportExecutor.TooManyMoves.selector, 2, 1));
        // One move is within the bound.
        _toEpoch(10);
        r = _report(_plans(1), _liquid(token.stakeOf(1) - 1 ether, token.stakeOf(2) + 1 ether));
        _run(_prepare(r));
        assertApproxEqAbs(token.stakeOf(1), 7 ether, 2, "redelegated away");
        LiquidStakingToken.PositionRef[] memory held = token.positions();
        assertEq(held.length, 1);
        assertEq(uint256(held[0].dst), 2);
        assertApproxEqAbs(held[0].booked, 1 ether, 2, "a position in pool 2");
        // The position counts as stake with pool 2: the same targets move nothing again.
        _toEpoch(11);
        _run(_prepare(_report(_plans(1), _liquid(7 ether, 9 ether))));
        assertEq(token.positions().length, 1, "no second redelegation");
    }
}

/// With jailed rewards redistributed, a jailed sequencer has no weight: its reward must be zero.
contract ReportExecutorRedistributeTest is SystemFixture {
    function _executorParams() internal view override returns (ReportExecutor.Params memory p) {
        p = super._executorParams();
        p.jailedToTreasury = false;
    }

    function setUp() public {
        _setUpSystem();
    }

    function test_aJailedSequencerEarnsNothingWhenRewardsAreRedistributed() public {
        _toEpoch(6);
        Plan[] memory plans = _plans(1);
        plans[0].jailed[1] = true;
        ReportTypes.Report memory r = _report(plans, _liquid(8 ether, 8 ether));
        _fund(r);
        _expectRejected(r, abi.encodeWithSelector(ReportExecutor.MalformedSequencers.selector, 5, 1));
        // Settled as the Rust side does: no weight for the jailed one, the others share its part.
        plans[0].blocks[1] = 0;
        r = _withPoolRewards(_report(plans, _liquid(8 ether, 8 ether)));
        assertEq(r.epochs[0].sequencers[1].reward, 0);
        _run(r);
        assertEq(executor.owed(treasury), r.epochs[0].protocolFee, "the treasury gets the fee only");
        assertEq(registry.operatorRewards(2), 0);
    }
}

/// A report for more sequencers than one call pays executes in parts: each call pays the next
/// `SEQUENCERS_PER_CALL` ids, and the parts leave every sequencer exactly what one payment of
/// the whole report leaves.
contract ReportExecutorPartsTest is SystemFixture {
    uint256 internal constant N = 130;
    uint32 internal constant DOWN = 120;

    function _params() internal view override returns (RegistryCore.Params memory p) {
        p = super._params();
        p.maxCandidates = 200;
        p.maxActive = 200;
    }

    function setUp() public {
        _setUpSystem();
        for (uint256 i = 3; i <= N; ++i) {
            _registerAs(address(uint160(0x10000 + i)), 10 ether, uint16(100 * (i % 7)));
        }
    }

    /// Every sequencer produced blocks; sequencer DOWN missed most of its own.
    function _plan() internal view override returns (Plan memory p) {
        p = super._plan();
        (p.ids, p.blocks, p.missed, p.jailed) =
        (new uint32[](N), new uint64[](N), new uint64[](N), new bool[](N));
        for (uint256 i; i < N; ++i) {
            p.ids[i] = uint32(i + 1);
            p.blocks[i] = uint64(1 + (i % 5));
        }
        p.missed[DOWN - 1] = 20;
        p.jailed[7] = true; // its part goes to the treasury
    }

    function test_aReportLargerThanOneCallPaysInParts() public {
        _toEpoch(7);
        ReportTypes.Report memory r = _report(_plans(2), _liquid(8 ether, 8 ether));
        r.activeSet = new uint32[](0);
        r = _prepare(r);
        // What one payment of the whole report would leave each sequencer (undone below).
        (uint256[] memory operator, uint256[] memory acc) = _paidAtOnce(r);

        uint256 registryBefore = address(registry).balance;
        _agree(r);
        assertFalse(executor.execute(r));
        assertEq(executor.paidThrough(), executor.SEQUENCERS_PER_CALL());
        assertEq(uint256(executor.stage()), uint256(ReportExecutor.Stage.Paying));
        assertEq(registry.nextRewardEpoch(), 5, "the registry's payment is open");
        assertEq(executor.nextEpoch(), 7, "the next report's slot is open for votes");
        assertFalse(registry.sequencer(DOWN).jailed, "not paid yet");
        assertFalse(executor.execute(r));
        assertEq(executor.paidThrough(), N);
        assertEq(uint256(executor.stage()), uint256(ReportExecutor.Stage.Harvesting));
        assertEq(registry.nextRewardEpoch(), 7, "the range is paid");
        assertTrue(registry.sequencer(DOWN).jailed, "jailed for downtime in its part");
        assertFalse(executor.execute(r), "the harvest");
        assertTrue(executor.execute(r), "the moves");
        assertEq(executor.executing(), bytes32(0));

        uint256 rewards;
        for (uint256 k; k < 2; ++k) {
            for (uint256 i; i < N; ++i) {
                if (!r.epochs[k].sequencers[i].jailed) rewards += r.epochs[k].sequencers[i].reward;
            }
        }
        assertEq(address(registry).balance - registryBefore, rewards + 16 ether, "every reward paid once");
        assertEq(address(executor).balance, executor.totalOwed() + executor.carriedDust());
        for (uint32 id = 1; id <= N; ++id) {
            assertEq(registry.operatorRewards(id), operator[id - 1], "as one payment");
            assertEq(registry.pool(id).acc, acc[id - 1], "as one payment");
        }
    }

    /// Each sequencer's operator rewards and pool accumulator after one `distributeRewards` of
    /// the whole report (reverted).
    function _paidAtOnce(ReportTypes.Report memory r)
        internal
        returns (uint256[] memory operator, uint256[] memory acc)
    {
        uint256 snapshot = vm.snapshotState();
        SequencerRegistry.SequencerRewards[] memory all = new SequencerRegistry.SequencerRewards[](N);
        uint256 value;
        for (uint256 i; i < N; ++i) {
            all[i].id = uint32(i + 1);
            all[i].amounts = new uint256[](2);
            for (uint256 k; k < 2; ++k) {
                ReportTypes.SequencerReward memory s = r.epochs[k].sequencers[i];
                if (!s.jailed) (all[i].amounts[k], value) = (s.reward, value + s.reward);
            }
        }
        vm.deal(reporter, value);
        vm.prank(reporter);
        registry.distributeRewards{value: value}(5, 6, all);
        (operator, acc) = (new uint256[](N), new uint256[](N));
        for (uint32 id = 1; id <= N; ++id) {
            (operator[id - 1], acc[id - 1]) = (registry.operatorRewards(id), registry.pool(id).acc);
        }
        vm.revertToState(snapshot);
    }
}
