// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {IStakeSlashListener} from "../src/interfaces/IStakeSlashListener.sol";

/// A delegator that keeps its own books, as the liquid token will: it is told its losses.
contract LossRecorder is IStakeSlashListener {
    SequencerRegistry internal immutable registry;
    uint256 public losses;
    uint256 public poolLosses;
    uint256 public calls;

    constructor(SequencerRegistry registry_) {
        registry = registry_;
    }

    function delegate(uint32 id) external payable returns (uint256) {
        return registry.delegate{value: msg.value}(id);
    }

    function undelegate(uint32 id, uint256 shares) external {
        registry.undelegate(id, shares);
    }

    function onStakeSlashed(uint32, uint256 poolLoss, uint256 unbondingLoss, uint256 redelegatedLoss)
        external
    {
        require(msg.sender == address(registry), "only the registry");
        losses += poolLoss + unbondingLoss + redelegatedLoss;
        poolLosses += poolLoss;
        calls += 1;
    }
}

/// The registry's side of slashing: the split over bond, pool and unbonding buckets at stake
/// at the infraction, the listener's exact loss, proceeds, and the jail on a short bond.
contract RegistrySlashingTest is RegistryFixture {
    address internal operator = address(0x0BE);
    address internal alice = address(0xA1);
    uint32 internal id;
    LossRecorder internal liquid;

    function setUp() public {
        _setUpRegistry(); // epoch 5
        id = _registerAs(operator, 10 ether, 1000);
        liquid = new LossRecorder(registry);
        _governRegistry(abi.encodeCall(registry.setSlashListener, (address(liquid))));
    }

    function _slash(uint64 infraction, uint16 bps) internal returns (uint256 amount) {
        vm.prank(slasher);
        bool done;
        (amount, done) = registry.slash(id, infraction, bps);
        assertTrue(done, "a slash with few tranches ends in one call");
    }

    function test_slash_takesTheBondFirst() public {
        _delegateAs(alice, id, 30 ether);
        _warpToEpoch(6);
        // 10% of 40 = 4 ether, all from the 10 ether bond.
        vm.expectEmit(true, true, false, true);
        emit RegistryCore.Slashed(id, 6, 1000, 4 ether, 4 ether, 0, 0, 0, 0);
        assertEq(_slash(6, 1000), 4 ether);
        assertEq(registry.sequencer(id).bond, 6 ether);
        assertEq(registry.pool(id).tokens, 30 ether);
        assertEq(registry.bondAt(id, 7), 6 ether, "the next epoch counts the slashed bond");
        assertEq(registry.insuranceOwed(), 4 ether);
        assertEq(liquid.calls(), 0, "the listener lost nothing");
        assertEq(address(registry).balance, registry.totalOwed());
    }

    function test_slash_beyondTheBondSharesOverPoolAndBucketsAtStakeThen() public {
        uint256 aliceShares = _delegateAs(alice, id, 30 ether);
        uint256 liquidShares = liquid.delegate{value: 20 ether}(id);
        vm.deal(address(this), 0);
        _warpToEpoch(6);
        // Infraction in epoch 6: stake then = 10 bond + 50 pool = 60.
        vm.prank(alice);
        registry.undelegate(id, aliceShares / 3); // 10 ether into bucket 13, at stake in 6
        _warpToEpoch(7);
        liquid.undelegate(id, liquidShares / 2); // 10 ether into bucket 14, also at stake in 6
        // Stake changes after the infraction do not raise the amount.
        _delegateAs(address(0xB0), id, 100 ether);

        // 50% of 60 = 30: 10 from the bond, 20 over pool (130) + buckets (10, 10) = 150.
        uint256 poolBefore = registry.pool(id).tokens;
        assertEq(poolBefore, 130 ether);
        uint256 sharesBefore = registry.pool(id).shares;
        assertEq(_slash(6, 5000), 30 ether);
        uint256 fromPool = uint256(20 ether) * 130 / 150; // 17.333… rounded down
        uint256 fromBucket = uint256(20 ether) * 10 / 150; // 1.333… rounded down
        uint256 roundingWei = 20 ether - fromPool - 2 * fromBucket; // taken from the pool first
        assertEq(registry.pool(id).tokens, 130 ether - fromPool - roundingWei);
        assertEq(registry.bucket(id, 13).tokens, 10 ether - fromBucket);
        assertEq(registry.bucket(id, 14).tokens, 10 ether - fromBucket);
        assertEq(registry.pool(id).shares, sharesBefore, "a slash never changes shares");
        assertEq(registry.sequencer(id).bond, 0);
        assertTrue(registry.sequencer(id).jailed, "a bond under the minimum jails");

        // The listener's loss: its pool shares' part and its bucket's part, rounded up.
        uint256 poolLoss =
            _ceilDiv((liquidShares - liquidShares / 2) * (fromPool + roundingWei), sharesBefore + 1000);
        (uint256 bucketShares,) = registry.unbonding(id, 14, address(liquid));
        uint256 bucketLoss = _ceilDiv(bucketShares * fromBucket, registry.bucket(id, 14).shares + 1000);
        assertEq(liquid.losses(), poolLoss + bucketLoss);
        assertEq(liquid.poolLosses(), poolLoss, "the pool part is reported apart");
        assertEq(liquid.calls(), 1);
        assertEq(address(registry).balance, registry.totalOwed());
    }

    function _ceilDiv(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    function test_slash_proceedsGoToTheInsuranceFundByPullPayment() public {
        _warpToEpoch(6);
        _slash(6, 1000); // 1 ether of the 10 ether bond
        assertEq(registry.insuranceOwed(), 1 ether);
        registry.payInsurance();
        assertEq(insurance.balance, 1 ether);
        assertEq(registry.insuranceOwed(), 0);
        vm.expectRevert(RegistryCore.NothingToClaim.selector);
        registry.payInsurance();
    }

    function test_slash_burnsWithoutAnInsuranceFund() public {
        SequencerRegistry.Params memory p = _params();
        p.insuranceFund = address(0);
        registry = _deployRegistry(p);
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.SLASHER_ROLE(), slasher)));
        id = _registerAs(operator, 10 ether, 1000);
        _warpToEpoch(6);
        uint256 burnedBefore = address(0).balance;
        _slash(6, 1000);
        assertEq(address(0).balance - burnedBefore, 1 ether);
        assertEq(registry.insuranceOwed(), 0);
        assertEq(address(registry).balance, registry.totalOwed());
    }

    function test_slash_revertPaths() public {
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), registry.SLASHER_ROLE()
            )
        );
        registry.slash(id, 5, 100);
        vm.startPrank(slasher);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.UnknownSequencer.selector, 9));
        registry.slash(9, 5, 100);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidFraction.selector, 0));
        registry.slash(id, 5, 0);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InvalidFraction.selector, 10_001));
        registry.slash(id, 5, 10_001);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InfractionOutOfRange.selector, 6, 5));
        registry.slash(id, 6, 100);
        vm.stopPrank();
        _warpToEpoch(12);
        vm.prank(slasher);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.InfractionOutOfRange.selector, 5, 12));
        registry.slash(id, 5, 100); // 5 + unbonding 6 < 12: its buckets may be gone
    }

    function testFuzz_slash_neverTakesMoreThanTheFractionOfStakeThen(uint16 bps, uint96 delegated, uint8 lag)
        public
    {
        bps = uint16(bound(bps, 1, 10_000));
        delegated = uint96(bound(delegated, 1 ether, 1_000_000 ether));
        lag = uint8(bound(lag, 0, UNBONDING));
        _delegateAs(alice, id, delegated);
        _warpToEpoch(6 + lag);
        uint256 owedBefore = registry.totalOwed();
        uint256 amount = _slash(6, bps);
        assertEq(amount, (10 ether + uint256(delegated)) * bps / 10_000);
        assertEq(owedBefore - registry.totalOwed() + registry.insuranceOwed(), amount, "taken == amount");
        assertEq(address(registry).balance, registry.totalOwed());
    }
}
