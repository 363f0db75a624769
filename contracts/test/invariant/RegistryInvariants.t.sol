// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "../utils/RegistryFixture.sol";
import {RegistryHandler} from "./RegistryHandler.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";

/// The registry's invariants under random sequences of every action (RegistryHandler).
contract RegistryInvariantsTest is RegistryFixture {
    RegistryHandler internal handler;

    /// Unbonding long enough for nine slashes of one source within an infraction's window.
    function _params() internal view override returns (RegistryCore.Params memory p) {
        p = super._params();
        p.unbondingEpochs = 9;
    }

    function setUp() public {
        _setUpRegistry(); // epoch 5
        handler = new RegistryHandler(registry, insurance);
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.REPORTER_ROLE(), address(handler))));
        _governRegistry(abi.encodeCall(registry.grantRole, (registry.SLASHER_ROLE(), address(handler))));
        handler.registerAll();
        bytes4[] memory selectors = new bytes4[](21);
        selectors[0] = handler.delegate.selector;
        selectors[1] = handler.undelegate.selector;
        selectors[2] = handler.redelegate.selector;
        selectors[3] = handler.claim.selector;
        selectors[4] = handler.restake.selector;
        selectors[5] = handler.withdraw.selector;
        selectors[6] = handler.claimOperator.selector;
        selectors[7] = handler.release.selector;
        selectors[8] = handler.claimPosition.selector;
        selectors[9] = handler.advance.selector;
        selectors[10] = handler.pay.selector;
        selectors[11] = handler.slash.selector;
        selectors[12] = handler.payInsurance.selector;
        selectors[13] = handler.pay.selector; // reports are frequent
        selectors[14] = handler.delegate.selector;
        selectors[15] = handler.recordChanges.selector;
        selectors[16] = handler.redelegateDust.selector;
        selectors[17] = handler.slashRepeatedly.selector;
        // The actions that need an earlier one (rewards paid, a position opened) get a second entry.
        selectors[18] = handler.claim.selector;
        selectors[19] = handler.claimPosition.selector;
        selectors[20] = handler.restake.selector;
        targetContract(address(handler));
        targetSelector(address(handler), selectors);
    }

    /// The registry holds exactly what went in minus what came out, and that is what it owes.
    function invariant_holdingsEqualEverythingOwed() public view {
        assertEq(address(registry).balance, handler.valueIn() - handler.valueOut(), "ghost in - out");
        assertEq(address(registry).balance, registry.totalOwed(), "bonds + pools + buckets + rewards + dust");
    }

    /// Tokens per share fall only in a slash of that pool.
    function invariant_tokensPerShareFallOnlyBySlash() public view {
        assertFalse(handler.rateFellWithoutSlash(), "a pool's rate fell without a slash of it");
    }

    /// No one has taken more pool rewards than the pools were credited.
    function invariant_claimsNeverExceedCredits() public view {
        assertLe(handler.claimed(), handler.credited(), "claimed <= credited");
    }

    /// Each ordinary delegation's rewards (taken + claimable) never exceed the naive ledger
    /// (its shares in each paid epoch x that epoch's accumulator increment; a change in epoch
    /// m counts from m + 1) and fall short of it by at most 1 wei per settlement.
    function invariant_rewardsFollowTheNaiveLedger() public view {
        for (uint256 d; d < handler.delegatorCount(); ++d) {
            address account = handler.delegators(d);
            for (uint32 id = 1; id <= handler.sequencerCount(); ++id) {
                (,, uint256 claimable,) = registry.delegation(id, account);
                uint256 actual = handler.taken(account, id) + claimable;
                uint256 ledger = handler.ledgerRay(account, id) / RewardMath.RAY;
                assertLe(actual, ledger, "never above the ledger");
                assertLe(
                    ledger - actual,
                    handler.settlements(account, id) + 1,
                    "at most 1 wei per settlement below"
                );
            }
        }
    }

    /// The pool's shares are exactly the shares its accounts hold (ordinary delegations and
    /// redelegated positions); a tranche slash may leave rounding shares that no one holds.
    function invariant_sharesAreAllHeld() public view {
        for (uint32 id = 1; id <= handler.sequencerCount(); ++id) {
            uint256 held;
            for (uint256 d; d < handler.delegatorCount(); ++d) {
                (uint256 shares,,,) = registry.delegation(id, handler.delegators(d));
                held += shares;
            }
            for (uint256 p; p < handler.positionCount(); ++p) {
                (address owner, uint32 src, uint32 dst, uint64 epoch) = handler.positions(p);
                if (dst != id) continue;
                (uint256 shares,,) = registry.redelegation(owner, src, dst, epoch);
                held += shares;
            }
            uint256 poolShares = registry.pool(id).shares;
            if (handler.trancheSlashed()) assertLe(held, poolShares, "held <= pool shares");
            else assertEq(held, poolShares, "held == pool shares");
        }
    }

    /// Every slash ends in calls that each fit a 30M-gas block, whatever delegators opened.
    function invariant_everySlashFitsABlock() public view {
        assertFalse(handler.slashOverBlock(), "a slash call needed more than a block");
    }

    /// Every matured position with stake in it can be released, however often its source was
    /// slashed.
    function invariant_maturedPositionsRelease() public view {
        assertFalse(handler.maturedPositionStuck(), "a matured position could not be released");
    }

    /// After each run: how often each of the handler's actions ran (`forge test -vv` prints it).
    function afterInvariant() public {
        handler.logActionCounts("registry handler");
    }

    /// The checks the handler makes inside its actions all held (HandlerChecks: an assert in a
    /// handler would revert and be discarded with fail_on_revert = false).
    function invariant_handlerChecksHold() public view {
        assertEq(handler.failedChecks(), 0, handler.firstFailedCheck());
    }

    /// The handler's actions do real work: one deterministic pass through every action (a
    /// part-paid report, positions that earn, mature and release, a matured bucket, slashes
    /// and the insurance fund's payment); the invariant runs' own reach is printed by
    /// `afterInvariant`.
    function test_handlerReachesEveryAction() public {
        handler.delegate(0, 1, 100 ether);
        handler.delegate(1, 2, 50 ether);
        handler.delegate(2, 1, 20 ether);
        handler.advance(1);
        handler.redelegate(0, 0, 0, 20); // a position out of pool 1
        handler.redelegateDust(2, 0);
        handler.undelegate(1, 1, 50); // a bucket of pool 2
        handler.advance(1);
        handler.pay(7, 1); // an odd seed: paid in two parts
        handler.pay(0, 0); // the second part
        handler.advance(1);
        handler.pay(7, 2); // the position's first paid epoch
        handler.claim(0, 0);
        handler.restake(1, 1);
        handler.claimOperator(0);
        handler.claimPosition(0);
        handler.recordChanges(0, 8);
        handler.slash(0, 0, 5000);
        handler.slashRepeatedly(1, 3);
        handler.payInsurance();
        handler.withdraw(0); // the clock runs to the bucket's completion
        handler.release(0); // and to the position's maturity
        string[17] memory actions = [
            "delegate",
            "undelegate",
            "redelegate",
            "claim",
            "restake",
            "withdraw",
            "claimOperator",
            "release",
            "redelegateDust",
            "claimPosition",
            "advance",
            "pay",
            "payPart",
            "slash",
            "slashRepeatedly",
            "recordChanges",
            "payInsurance"
        ];
        for (uint256 i; i < actions.length; ++i) {
            assertGt(handler.calls(actions[i]), 0, actions[i]);
        }
        invariant_holdingsEqualEverythingOwed();
        invariant_tokensPerShareFallOnlyBySlash();
        invariant_claimsNeverExceedCredits();
        invariant_rewardsFollowTheNaiveLedger();
        invariant_sharesAreAllHeld();
        invariant_everySlashFitsABlock();
        invariant_maturedPositionsRelease();
        invariant_handlerChecksHold();
    }
}
