// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidFixture} from "./LiquidFixture.sol";
import {ReportExecutor} from "../../src/ReportExecutor.sol";
import {FeeVault} from "../../src/FeeVault.sol";
import {EmissionReserve} from "../../src/EmissionReserve.sol";
import {ReportTypes} from "../../src/interfaces/ReportTypes.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";

/// @notice The whole system as production wires it: the registry, the token and its queue
///         (LiquidFixture), a fee vault per served chain, the emission reserve and the report
///         contract, every role granted through the timelock. Reports are built here the way
///         the Rust side settles an epoch (blocks weighting), so the tests can change one field
///         and see the contract refuse it.
abstract contract SystemFixture is LiquidFixture {
    ReportExecutor internal executor;
    EmissionReserve internal reserve;
    FeeVault internal vaultOp;
    FeeVault internal vaultHome;
    address internal partner = address(0xBA5E);
    address internal memberA = address(0xA001);
    address internal memberB = address(0xB001);
    address internal memberC = address(0xC001);
    address internal staker = address(0x57A4);
    uint64 internal constant OP_CHAIN = 10;
    uint16 internal constant FEE_BPS = 1000;
    uint256 internal constant EMISSION = 5e12;
    uint256 internal constant GROSS = 1e13;

    /// Per epoch of a report being built: gross revenue per chain, blocks per sequencer.
    struct Plan {
        uint256 grossOp;
        uint256 costOp;
        uint256 mevOp;
        uint256 grossHome;
        uint32[] ids;
        uint64[] blocks;
        uint64[] missed;
        bool[] jailed;
    }

    function _executorParams() internal view virtual returns (ReportExecutor.Params memory p) {
        ReportExecutor.ServedChain[] memory chains = new ReportExecutor.ServedChain[](2);
        chains[0] = ReportExecutor.ServedChain({
            chainId: OP_CHAIN, vault: address(vaultOp), partner: partner, aBps: 250, bBps: 1500
        });
        chains[1] = ReportExecutor.ServedChain({
            chainId: uint64(block.chainid), vault: address(vaultHome), partner: address(0), aBps: 0, bBps: 0
        });
        p = ReportExecutor.Params({
            registry: address(registry),
            token: address(token),
            queue: address(queue),
            reserve: address(reserve),
            treasury: treasury,
            protocolFeeBps: FEE_BPS,
            jailedToTreasury: true,
            maxMissedBps: 5000,
            maxEpochsPerReport: 8,
            maxRateAprBps: 5000,
            chains: chains
        });
    }

    function _members() internal view returns (address[] memory m) {
        m = new address[](3);
        (m[0], m[1], m[2]) = (memberA, memberB, memberC);
    }

    /// The liquid system at epoch 5, two sequencers (ids 1, 2), a staker's deposit in the buffer.
    function _setUpSystem() internal {
        _setUpLiquid();
        vaultOp = new FeeVault(OP_CHAIN, address(timelock));
        vaultHome = new FeeVault(uint64(block.chainid), address(timelock));
        reserve = new EmissionReserve(
            EmissionReserve.Params({
                kind: EmissionReserve.Kind.Constant,
                perEpoch: EMISSION,
                decayRay: 0,
                budget: 0,
                totalSupply: 0,
                maxInflationBps: 0,
                epochLength: EPOCH,
                firstEpoch: registry.nextRewardEpoch()
            }),
            address(timelock)
        );
        vm.deal(address(this), 1 ether);
        reserve.fund{value: 1 ether}();
        executor = new ReportExecutor(_executorParams(), _members(), 2, address(timelock));
        _wire(address(executor));
        _registerAs(address(0x100), 10 ether, 1000);
        _registerAs(address(0x200), 10 ether, 500);
        _depositAs(staker, 20 ether);
    }

    /// Grants the report contract every role it needs, through the timelock.
    function _wire(address e) internal {
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.REPORTER_ROLE(), e)));
        _govern(address(token), abi.encodeCall(token.grantRole, (token.REPORTER_ROLE(), e)));
        _govern(address(queue), abi.encodeCall(queue.grantRole, (queue.FINALIZER_ROLE(), e)));
        _govern(address(vaultOp), abi.encodeCall(vaultOp.grantRole, (vaultOp.DRAWER_ROLE(), e)));
        _govern(address(vaultHome), abi.encodeCall(vaultHome.grantRole, (vaultHome.DRAWER_ROLE(), e)));
        _govern(address(reserve), abi.encodeCall(reserve.grantRole, (reserve.DRAWER_ROLE(), e)));
    }

    function _sendRevenue(FeeVault vault, uint256 amount) internal {
        address bridge = address(0xB41D);
        vm.deal(bridge, amount);
        vm.prank(bridge);
        (bool ok,) = address(vault).call{value: amount}("");
        assertTrue(ok, "revenue arrives");
    }

    /// The default epoch: revenue on both chains, sequencer 1 produced 3 blocks and 2 one.
    function _plan() internal pure returns (Plan memory p) {
        p.grossOp = GROSS;
        p.costOp = GROSS / 4;
        p.mevOp = 7;
        p.grossHome = GROSS / 2 + 3;
        p.ids = new uint32[](2);
        (p.ids[0], p.ids[1]) = (1, 2);
        p.blocks = new uint64[](2);
        (p.blocks[0], p.blocks[1]) = (3, 1);
        p.missed = new uint64[](2);
        p.jailed = new bool[](2);
    }

    /// One epoch settled as the Rust side does with blocks weighting.
    function _entry(uint64 epoch, Plan memory p, uint256 dustIn)
        internal
        view
        returns (ReportTypes.EpochEntry memory e)
    {
        e.epoch = epoch;
        e.chains = new ReportTypes.ChainRevenue[](2);
        uint256 share = RewardMath.partnerShare(p.grossOp, p.costOp, 250, 1500);
        e.chains[0] = ReportTypes.ChainRevenue({
            chainId: OP_CHAIN,
            gross: p.grossOp,
            cost: p.costOp,
            mev: p.mevOp,
            evidenceHash: keccak256(abi.encode(epoch)),
            partner: partner,
            aBps: 250,
            bBps: 1500,
            share: share
        });
        e.chains[1] = ReportTypes.ChainRevenue({
            chainId: 31_337,
            gross: p.grossHome,
            cost: 0,
            mev: 0,
            evidenceHash: bytes32(0),
            partner: address(0),
            aBps: 0,
            bBps: 0,
            share: 0
        });
        uint256 afterShares = p.grossOp - share + p.mevOp + p.grossHome;
        e.protocolFee = RewardMath.applyBps(afterShares, FEE_BPS);
        e.emission = EMISSION;
        e.dustIn = dustIn;
        uint256 pool = afterShares - e.protocolFee + EMISSION + dustIn;
        uint256 weight;
        for (uint256 i; i < p.ids.length; ++i) {
            weight += p.blocks[i];
        }
        e.sequencers = new ReportTypes.SequencerReward[](p.ids.length);
        uint256 paid;
        for (uint256 i; i < p.ids.length; ++i) {
            uint256 reward = weight == 0 ? 0 : RewardMath.weightedPart(pool, p.blocks[i], weight);
            paid += reward;
            e.sequencers[i] = ReportTypes.SequencerReward({
                id: p.ids[i],
                blocks: p.blocks[i],
                missedBlocks: p.missed[i],
                reward: reward,
                accAfter: 0,
                jailed: p.jailed[i]
            });
        }
        e.dustOut = pool - paid;
    }

    /// A report of `plans.length` epochs from the executor's next epoch; the active set {1, 2};
    /// the liquid actions as given.
    function _report(Plan[] memory plans, ReportTypes.LiquidActions memory liquid)
        internal
        view
        returns (ReportTypes.Report memory r)
    {
        uint64 first = executor.nextEpoch();
        r.header = ReportTypes.Header({
            firstEpoch: first,
            lastEpoch: first + uint64(plans.length) - 1,
            refBlock: uint64(block.number - 1),
            chainId: uint64(block.chainid)
        });
        r.epochs = new ReportTypes.EpochEntry[](plans.length);
        uint256 dust = executor.carriedDust();
        for (uint256 k; k < plans.length; ++k) {
            r.epochs[k] = _entry(first + uint64(k), plans[k], dust);
            dust = r.epochs[k].dustOut;
        }
        r.activeSet = new uint32[](2);
        (r.activeSet[0], r.activeSet[1]) = (1, 2);
        r.liquid = liquid;
    }

    function _plans(uint256 count) internal pure returns (Plan[] memory plans) {
        plans = new Plan[](count);
        for (uint256 k; k < count; ++k) {
            plans[k] = _plan();
        }
    }

    /// Allocation targets for sequencers 1 and 2.
    function _liquid(uint256 target1, uint256 target2)
        internal
        pure
        returns (ReportTypes.LiquidActions memory l)
    {
        l.allocation = new ReportTypes.AllocationTarget[](2);
        l.allocation[0] = ReportTypes.AllocationTarget({sequencerId: 1, target: target1});
        l.allocation[1] = ReportTypes.AllocationTarget({sequencerId: 2, target: target2});
    }

    /// Sends the revenue a report draws into the vaults.
    function _fund(ReportTypes.Report memory r) internal {
        uint256 op;
        uint256 home;
        for (uint256 k; k < r.epochs.length; ++k) {
            op += r.epochs[k].chains[0].gross + r.epochs[k].chains[0].mev;
            home += r.epochs[k].chains[1].gross + r.epochs[k].chains[1].mev;
        }
        if (op > 0) _sendRevenue(vaultOp, op);
        if (home > 0) _sendRevenue(vaultHome, home);
    }

    function _hash(ReportTypes.Report memory r) internal view returns (bytes32) {
        return executor.reportHash(r, address(executor));
    }

    function _vote(address member, ReportTypes.Report memory r) internal {
        bytes32 hash = _hash(r);
        vm.prank(member);
        executor.vote(r.header.firstEpoch, hash);
    }

    /// Two of three members vote the report.
    function _agree(ReportTypes.Report memory r) internal {
        _vote(memberA, r);
        _vote(memberB, r);
    }

    /// Sets `poolRewards` to what the token will harvest: a dry run of the execution (reverted)
    /// reads it from the PoolRewardsMismatch error, as an oracle's eth_call would.
    function _withPoolRewards(ReportTypes.Report memory r) internal returns (ReportTypes.Report memory) {
        uint256 snapshot = vm.snapshotState();
        r.liquid.poolRewards = type(uint256).max;
        _agree(r);
        try executor.execute(r) {
            fail("the dry run must stop at the pool rewards");
        } catch (bytes memory reason) {
            bytes4 selector = bytes4(reason);
            assertEq(selector, ReportExecutor.PoolRewardsMismatch.selector, "dry run reaches the harvest");
            (uint256 harvested,) = abi.decode(_args(reason), (uint256, uint256));
            r.liquid.poolRewards = harvested;
        }
        vm.revertToState(snapshot);
        return r;
    }

    function _args(bytes memory reason) internal pure returns (bytes memory args) {
        args = new bytes(reason.length - 4);
        for (uint256 i; i < args.length; ++i) {
            args[i] = reason[i + 4];
        }
    }

    /// Sends the report's revenue to the vaults and fills in its pool rewards.
    function _prepare(ReportTypes.Report memory r) internal returns (ReportTypes.Report memory) {
        _fund(r);
        return _withPoolRewards(r);
    }

    /// Agrees and executes.
    function _run(ReportTypes.Report memory r) internal {
        _agree(r);
        executor.execute(r);
    }

    /// Warps to the start of `epoch` (+1 s) and moves the block number on.
    function _toEpoch(uint64 epoch) internal {
        _warpToEpoch(epoch);
        vm.roll(vm.getBlockNumber() + 10);
    }
}
