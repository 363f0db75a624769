// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./utils/RegistryFixture.sol";
import {SequencerRegistry} from "../src/SequencerRegistry.sol";
import {RegistryCore} from "../src/registry/RegistryCore.sol";
import {RewardMath} from "../src/libraries/RewardMath.sol";

/// A delegator whose receive() tries to take its rewards twice.
contract Reenterer {
    SequencerRegistry internal immutable registry;
    uint32 internal id;
    bytes public reentryError;

    constructor(SequencerRegistry registry_) {
        registry = registry_;
    }

    function delegate(uint32 id_) external payable {
        id = id_;
        registry.delegate{value: msg.value}(id_);
    }

    function claim() external returns (uint256) {
        return registry.claimRewards(id, address(this));
    }

    receive() external payable {
        try registry.claimRewards(id, address(this)) {}
        catch (bytes memory reason) {
            reentryError = reason;
            revert("reentry refused");
        }
    }
}

/// A slash listener that reads the pool's price while the registry is in the middle of a slash.
contract ViewProbe {
    SequencerRegistry internal immutable registry;
    bool public called;
    bytes public viewError;

    constructor(SequencerRegistry registry_) {
        registry = registry_;
    }

    function delegate(uint32 id) external payable {
        registry.delegate{value: msg.value}(id);
    }

    function onStakeSlashed(uint32 id, uint256, uint256, uint256) external {
        called = true;
        try registry.sharesToTokens(id, 1 ether) {}
        catch (bytes memory reason) {
            viewError = reason;
        }
    }
}

/// The threats of docs/SECURITY.md that are not covered by the feature tests: reentrancy on
/// native transfers, donations, rounding theft by many small actions.
contract RegistryThreatsTest is RegistryFixture {
    address internal alice = address(0xA1);
    uint32 internal id;

    function setUp() public {
        _setUpRegistry();
        id = _registerAs(address(0x0BE), 10 ether, 1000);
    }

    function test_reentrancy_aRecipientCannotClaimTwice() public {
        Reenterer attacker = new Reenterer(registry);
        attacker.delegate{value: 30 ether}(id);
        _warpToEpoch(7);
        _payEach(id, 6, 4 ether);
        uint256 owedBefore = registry.totalOwed();
        (,, uint256 due,) = registry.delegation(id, address(attacker));
        assertGt(due, 0, "the attacker has rewards due");
        // The nested claim hits the guard, the attacker's receive reverts, so the whole claim does.
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.TransferFailed.selector, address(attacker), due));
        attacker.claim();
        assertEq(registry.totalOwed(), owedBefore, "nothing paid, nothing lost");
        (,, uint256 stillDue,) = registry.delegation(id, address(attacker));
        assertEq(stillDue, due);
    }

    function test_reentrancy_pricingViewsRevertWhileAGuardIsHeld() public {
        ViewProbe probe = new ViewProbe(registry);
        _governRegistry(abi.encodeCall(registry.setSlashListener, (address(probe))));
        probe.delegate{value: 30 ether}(id);
        assertEq(registry.sharesToTokens(id, 1000 ether), 1 ether, "outside a guarded call the view answers");
        _warpToEpoch(6);
        vm.prank(slasher);
        registry.slash(id, 6, 5000); // 20 ether: 10 from the bond, 10 from the pool, listener called
        assertTrue(probe.called(), "the listener ran inside the slash");
        assertEq(
            keccak256(probe.viewError()),
            keccak256(abi.encodeWithSignature("ReentrancyGuardReentrantCall()")),
            "the price view refused while the slash held the guard"
        );
    }

    function test_donation_forcedValueMovesNoRateAndNoAccounting() public {
        uint256 shares = _delegateAs(alice, id, 1 ether);
        uint256 rateBefore = registry.sharesToTokens(id, shares);
        vm.deal(address(registry), address(registry).balance + 1000 ether); // selfdestruct-style
        assertEq(registry.sharesToTokens(id, shares), rateBefore);
        assertEq(registry.totalOwed(), 11 ether);
        // A second depositor gets the same rate as without the donation.
        uint256 bobShares = _delegateAs(address(0xB0), id, 1 ether);
        assertEq(bobShares, shares);
    }

    function test_donation_firstDepositorCannotInflateTheShareRate() public {
        // The classic attack: deposit 1 wei, then inflate tokens per share so that the next
        // deposit rounds to zero shares. Pool tokens only move by delegations, rewards (to the
        // accumulator, not the pool) and slashes, so the rate cannot be inflated; the virtual
        // offset still makes a 1-wei first deposit worth 1000 shares.
        uint256 tiny = _delegateAs(alice, id, 1);
        assertEq(tiny, 1000);
        uint256 victim = _delegateAs(address(0xB0), id, 1 ether);
        assertEq(victim, RewardMath.sharesForDeposit(1 ether, 1000, 1));
        assertEq(registry.sharesToTokens(id, victim), 1 ether, "the victim keeps its deposit");
    }

    function test_roundingTheft_manySmallClaimsNeverBeatOneClaim() public {
        _delegateAs(alice, id, 3 ether);
        _delegateAs(address(0xB0), id, 3 ether);
        uint256 total;
        for (uint64 e = 6; e < 16; ++e) {
            _warpToEpoch(e + 1);
            _payEach(id, e, 1 ether + 7); // odd amounts leave remainders
            vm.prank(alice);
            total += registry.claimRewards(id, alice);
        }
        (,, uint256 bobOwed,) = registry.delegation(id, address(0xB0));
        assertLe(total, bobOwed, "claiming every epoch never yields more than claiming once");
        assertLe(bobOwed - total, 10, "and at most 1 wei per epoch less");
    }

    /// Regression, found by the invariant suite: a delegator who settles several epochs at
    /// once adds up the fractions of a wei each epoch's increment gives its shares. With the
    /// credited part rounded down those fractions were also carried as dust, so the pool owed
    /// more than it held: here 8 wei claimable against 7 credited, and the claim reverted on
    /// the registry's unclaimed counter. Credited rounds up now.
    function test_regression_settlingSeveralEpochsAtOnceNeverClaimsMoreThanCredited() public {
        uint32 zero = _registerAs(address(0x0C0), 1 ether, 0); // no commission
        _delegateAs(alice, zero, 3 ether); // 3e21 shares against a 1 ether bond
        _warpToEpoch(8);
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](1);
        r[0].id = zero;
        r[0].amounts = new uint256[](3); // epochs 5, 6, 7
        (r[0].amounts[1], r[0].amounts[2]) = (5, 5); // pool part 4 each: 4e6/3 per share-unit
        vm.deal(reporter, 10);
        vm.prank(reporter);
        registry.distributeRewards{value: 10}(5, 7, r);
        assertEq(registry.unclaimedPoolRewards(), 8, "3.999999 and 3.999999 credited as 4 and 4");
        vm.prank(alice);
        assertEq(registry.claimRewards(zero, alice), 7, "floor(3e21 * 2_666_666 / 1e27)");
        assertEq(address(registry).balance, registry.totalOwed());
    }
}
