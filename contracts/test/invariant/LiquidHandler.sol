// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TicketActions} from "./TicketActions.sol";
import {SequencerRegistry} from "../../src/SequencerRegistry.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";

/// Drives the real liquid token, withdrawal queue and registry for the invariant suite:
/// deposits, requests, claims, instant exits, reports (registry rewards, harvest, delegation
/// of part of the free buffer, undelegation of the queue's shortfall, finalization in batches
/// the handler cuts itself), matured buckets, slashes and the clock. Keeps the ghosts the
/// invariants compare against.
contract LiquidHandler is TicketActions {
    uint256 internal constant ACTORS = 3;
    uint32 internal constant SEQUENCERS = 2;

    SequencerRegistry public immutable registry;
    LiquidStakingToken public immutable token;
    WithdrawalQueue public immutable queue;
    address internal immutable reporter;
    address internal immutable slasher;
    uint64 internal immutable genesis;
    uint64 internal immutable epochLength;

    address[ACTORS] public actors;

    // ---- ghosts ----
    /// The token's rate fell in an action that is not a slash, beyond registry rounding.
    bool public rateFellWithoutSlash;
    /// A claim paid something other than the ticket's value by the formula (or the queue's view).
    bool public ticketOverpaid;
    uint256 public claimsPaid;

    struct BucketRef {
        uint32 id;
        uint64 completion;
    }

    BucketRef[] internal buckets;
    mapping(bytes32 => bool) internal knownBucket;

    constructor(
        SequencerRegistry registry_,
        LiquidStakingToken token_,
        WithdrawalQueue queue_,
        address reporter_,
        address slasher_
    ) {
        registry = registry_;
        token = token_;
        queue = queue_;
        reporter = reporter_;
        slasher = slasher_;
        genesis = registry_.genesisTime();
        epochLength = registry_.epochLength();
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = address(uint160(0xAC0000 + i));
        }
        string[] memory actions = new string[](10);
        actions[0] = "deposit";
        actions[1] = "request";
        actions[2] = "claim";
        actions[3] = "instantExit";
        actions[4] = "advance";
        actions[5] = "report";
        actions[6] = "finalizeAnyCut";
        actions[7] = "withdrawBucket";
        actions[8] = "slash";
        actions[9] = "rebalance";
        _declareActions(actions);
    }

    // ------------------------------------------------------------------ holders
    function deposit(uint256 who, uint256 amount) external {
        address actor = _actor(who);
        amount = bound(amount, 0.001 ether, 50 ether);
        vm.deal(actor, actor.balance + amount);
        (uint256 pooled, uint256 supply) = _state();
        vm.prank(actor);
        token.deposit{value: amount}(address(0));
        _checkRate(pooled, supply, 0);
        _count("deposit");
    }

    function request(uint256 who, uint256 fraction) external {
        if (_request(token, queue, _actor(who), fraction)) _count("request");
    }

    function claim(uint256 seed) external {
        Claimed memory c = _claimTicket(queue, seed);
        if (!c.done) return;
        // `expected` is the formula's value from the stored rates (TicketActions._ticketValue);
        // `promised` is the queue's own view, which runs the same code as the claim.
        if (c.paid != c.expected || c.paid != c.promised || c.paid > c.atRequest || c.shares == 0) {
            ticketOverpaid = true;
        }
        claimsPaid += c.paid;
        _count("claim");
    }

    function instantExit(uint256 who, uint256 fraction) external {
        address actor = _actor(who);
        uint256 shares = token.balanceOf(actor) * bound(fraction, 1, 20) / 100;
        if (shares == 0 || (token.pendingSlashLoss() > 0) || token.isStale()) return;
        (uint256 pooled, uint256 supply) = _state();
        vm.prank(actor);
        token.instantExit(shares, actor);
        _checkRate(pooled, supply, 0);
        _count("instantExit");
    }

    // ------------------------------------------------------------------ the report and the clock
    function advance(uint256 epochs) external {
        uint256 epoch = registry.currentEpoch() + bound(epochs, 1, 2);
        vm.warp(genesis + epoch * epochLength + 1);
        _count("advance");
    }

    /// A report: pays the registry's ended epochs, harvests, delegates part of the free buffer
    /// when there were rewards (a report must not lower the rate: delegation can cost a wei of
    /// registry rounding), undelegates the queue's shortfall, finalizes what the buffer covers.
    function report(uint256 seed) external {
        _payRegistry(seed);
        (uint256 pooled, uint256 supply) = _state();
        uint32[] memory ids = new uint32[](SEQUENCERS);
        (ids[0], ids[1]) = (1, 2);
        // Now and then the report's rate bound caps what joins the pool: the rest is carried.
        uint256 maxRewards = (seed >> 4) % 4 == 1 ? bound(seed >> 8, 0, 1 ether) : type(uint256).max;
        uint256 carried = token.carriedRewards();
        vm.prank(reporter);
        uint256 rewards = token.harvest(ids, maxRewards);
        _check(carried + rewards - token.carriedRewards() <= maxRewards, "harvest: at most the cap joined");
        _checkRate(pooled, supply, 0);
        if (rewards > 0 || token.stakedAssets() == 0) _delegateSome(seed);
        if (rewards > 0 && seed % 3 == 0) _rebalance();
        (pooled, supply) = _state();
        vm.prank(reporter);
        uint256 released = token.releaseMatured();
        // A release moves a position's booking into the delegation: registry rounding only.
        _checkRate(pooled, supply, 2 * released);
        _undelegateShortfall();
        _finalizeWhatTheBufferCovers();
        _count("report");
    }

    /// Finalizes as anyone would with a stale oracle (finding 7): the clock runs to the stale
    /// timeout now and then, and the pending tickets the buffer covers are cut at random, in
    /// one batch whose ends lie on one side of the rate most often (what a griefer tries). A
    /// refused cut changes nothing; an accepted one must lock no more than its tickets claim
    /// (`lockedBeyondClaims`).
    function finalizeAnyCut(uint256 seed) external {
        if (seed % 4 == 0 && !token.isStale()) {
            uint256 epoch = token.lastReportEpoch() + token.staleTimeoutEpochs();
            vm.warp(genesis + epoch * epochLength + 1);
        }
        uint256 first = queue.lastFinalizedId() + 1;
        uint256 last = queue.lastRequestId();
        if (first > last) return;
        uint256 rate = token.finalizationRate();
        uint256 buffer = token.bufferedAssets();
        uint256 value;
        uint256 end = first - 1;
        for (uint256 id = first; id <= last; ++id) {
            (uint256 shares, uint256 atRequest,) = queue.request(id);
            uint256 worth = shares * rate / RewardMath.RAY;
            value += worth < atRequest ? worth : atRequest;
            if (value + (id - first + 1) > buffer) break;
            end = id;
        }
        if (end < first) return;
        uint256[] memory ends;
        if ((seed >> 8) % 3 == 0) {
            ends = new uint256[](2);
            ends[0] = bound(seed >> 16, first, end);
            ends[1] = end;
            if (ends[0] == end) ends = _one(end);
        } else {
            ends = _one(end);
        }
        address caller = token.isStale() ? address(0xF00D) : reporter;
        vm.prank(caller);
        try queue.finalize(ends) {
            _count("finalizeAnyCut");
        } catch {}
    }

    function withdrawBucket(uint256 index) external {
        if (buckets.length == 0) _makeBucket(index);
        if (buckets.length == 0) return;
        uint64[] memory completions = new uint64[](buckets.length);
        for (uint256 k; k < buckets.length; ++k) {
            completions[k] = buckets[k].completion;
        }
        uint256 i = _maturedBucket(completions, index, registry.currentEpoch(), genesis, epochLength);
        BucketRef memory b = buckets[i];
        if (b.completion > registry.currentEpoch()) return;
        buckets[i] = buckets[buckets.length - 1];
        buckets.pop();
        delete knownBucket[keccak256(abi.encode(b.id, b.completion))];
        (uint256 mine,) = registry.unbonding(b.id, b.completion, address(token));
        if (mine == 0) return;
        (uint256 pooled, uint256 supply) = _state();
        token.withdrawUnbonded(b.id, b.completion);
        _checkRate(pooled, supply, 0);
        _count("withdrawBucket");
    }

    /// Steering for `withdrawBucket` with no bucket open: the token undelegates only for the
    /// queue's shortfall, so the holder with the most shares requests them all (within the
    /// queue's bounds) unless the queue already lacks value, and the next report (the clock run
    /// to the next epoch) undelegates the shortfall, as a report after such a request would.
    function _makeBucket(uint256 seed) internal {
        if (token.stakedAssets() == 0) return;
        if (queue.pendingAssets() <= uint256(token.bufferedAssets()) + token.unbondingAssets()) {
            uint256 richest;
            for (uint256 i = 1; i < ACTORS; ++i) {
                if (token.balanceOf(actors[i]) > token.balanceOf(actors[richest])) richest = i;
            }
            if (_request(token, queue, actors[richest], 100)) _count("request");
        }
        vm.warp(genesis + (uint256(registry.currentEpoch()) + 1) * epochLength + 1);
        _count("advance");
        this.report(seed);
    }

    /// Slashes for a fault `back` epochs ago (within the unbonding period), so that the slash
    /// also reaches buckets and tranches (the token's positions) made since.
    function slash(uint256 seq, uint256 bps, uint256 back) external {
        uint32 id = uint32(bound(seq, 1, SEQUENCERS));
        uint64 epoch = registry.currentEpoch();
        uint64 infraction = epoch - uint64(bound(back, 0, _min(registry.unbondingEpochs(), epoch)));
        vm.prank(slasher);
        registry.slash(id, infraction, uint16(bound(bps, 1, 3000)));
        _count("slash");
    }

    // ------------------------------------------------------------------ internal
    function _payRegistry(uint256 seed) internal {
        uint64 first = registry.nextRewardEpoch();
        uint64 current = registry.currentEpoch();
        if (first >= current) return;
        uint64 last = current - 1;
        if (last - first > 7) last = first + 7;
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](SEQUENCERS);
        uint256 total;
        for (uint256 i; i < SEQUENCERS; ++i) {
            r[i].id = uint32(i + 1);
            r[i].amounts = new uint256[](last - first + 1);
            for (uint256 k; k < r[i].amounts.length; ++k) {
                r[i].amounts[k] = uint256(keccak256(abi.encode(seed, i, k))) % 0.05 ether;
                total += r[i].amounts[k];
            }
        }
        vm.deal(reporter, reporter.balance + total);
        vm.prank(reporter);
        registry.distributeRewards{value: total}(first, last, r);
    }

    function _delegateSome(uint256 seed) internal {
        uint256 pending = queue.pendingAssets();
        uint256 buffered = token.bufferedAssets();
        if (buffered <= pending) return;
        uint256 spare = (buffered - pending) / 2;
        uint32 id = uint32(seed % SEQUENCERS) + 1;
        uint256 cap = token.totalPooledAssets() * token.perSequencerCapBps() / RewardMath.BPS;
        uint256 room = cap > token.stakeOf(id) ? cap - token.stakeOf(id) : 0;
        uint256 amount = spare < room ? spare : room;
        if (amount < 1 ether) return;
        uint32[] memory ids = new uint32[](1);
        ids[0] = id;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        (uint256 pooled, uint256 supply) = _state();
        vm.prank(reporter);
        token.delegateBuffer(ids, amounts);
        _checkRate(pooled, supply, 1);
    }

    /// The reporter rebalances between reports (a report rebalances only now and then, after
    /// rewards). Steered: with too little stake in sequencer 1 (the source), part of the free
    /// buffer is delegated to it first, as a report would.
    function rebalance(uint256 seed) external {
        if (token.stakeOf(1) < 2 ether) _delegateSome(seed - seed % SEQUENCERS); // to sequencer 1
        _rebalance();
    }

    /// Moves a little of sequencer 1's stake to sequencer 2, within the cap.
    function _rebalance() internal {
        uint256 value = token.stakeOf(1);
        if (value < 2 ether) return;
        uint256 cap = token.totalPooledAssets() * token.perSequencerCapBps() / RewardMath.BPS;
        uint256 atDst = token.stakeOf(2) + token.redelegatedAssets();
        if (atDst + 1 ether > cap) return;
        (uint256 pooled, uint256 supply) = _state();
        vm.prank(reporter);
        token.redelegateStake(1, 2, 1 ether);
        _checkRate(pooled, supply, 1);
        _count("rebalance");
    }

    function _undelegateShortfall() internal {
        uint256 needed = queue.pendingAssets();
        uint256 covered = uint256(token.bufferedAssets()) + token.unbondingAssets();
        if (needed <= covered) return;
        uint256 shortfall = needed - covered;
        for (uint32 id = 1; id <= SEQUENCERS && shortfall > 0; ++id) {
            uint256 value = token.stakeOf(id);
            if (value == 0) continue;
            uint256 amount = shortfall < value ? shortfall : value;
            (uint256 pooled, uint256 supply) = _state();
            vm.prank(reporter);
            (uint64 completion, uint256 tokens) = token.undelegateStake(id, amount);
            _checkRate(pooled, supply, 1);
            bytes32 key = keccak256(abi.encode(id, completion));
            if (!knownBucket[key]) {
                knownBucket[key] = true;
                buckets.push(BucketRef({id: id, completion: completion}));
            }
            shortfall = tokens >= shortfall ? 0 : shortfall - tokens;
        }
    }

    /// Finalizes the longest run of pending tickets the buffer covers, cut into batches where
    /// the rate at request crosses the finalization rate or falls (a new run).
    function _finalizeWhatTheBufferCovers() internal {
        uint256 first = queue.lastFinalizedId() + 1;
        uint256 last = queue.lastRequestId();
        if (first > last) return;
        uint256 rate = token.finalizationRate();
        uint256 buffer = token.bufferedAssets();
        uint256[] memory ends = new uint256[](last - first + 1);
        uint256 count;
        uint256 value;
        for (uint256 id = first; id <= last; ++id) {
            (uint256 shares, uint256 atRequest,) = queue.request(id);
            uint256 worth = shares * rate / RewardMath.RAY;
            worth = worth < atRequest ? worth : atRequest;
            // Batches round once each, so leave a wei per ticket of room.
            if (value + worth + (id - first + 1) > buffer) break;
            value += worth;
            (uint256 k, uint256 run) = queue.rateAtRequest(id);
            if (count > 0 && id > first) {
                (uint256 prevK, uint256 prevRun) = queue.rateAtRequest(id - 1);
                if (prevRun == run && (prevK > rate) == (k > rate)) {
                    ends[count - 1] = id;
                    continue;
                }
            }
            ends[count++] = id;
        }
        if (count == 0) return;
        uint256[] memory batches = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            batches[i] = ends[i];
        }
        (uint256 pooled, uint256 supply) = _state();
        vm.prank(reporter); // the suite grants the reporter the queue's finalizer role
        queue.finalize(batches);
        _checkRate(pooled, supply, 0);
    }

    function _state() internal view returns (uint256 pooled, uint256 supply) {
        return (token.totalPooledAssets(), token.totalSupply());
    }

    /// Flags a rate fall beyond `roundingWei` of registry rounding (the rate compared by
    /// cross-multiplication with the virtual offset).
    function _checkRate(uint256 pooledBefore, uint256 supplyBefore, uint256 roundingWei) internal {
        (uint256 pooled, uint256 supply) = _state();
        if ((pooled + roundingWei + 1) * (supplyBefore + 1000) < (pooledBefore + 1) * (supply + 1000)) {
            rateFellWithoutSlash = true;
        }
    }

    function _one(uint256 a) internal pure returns (uint256[] memory e) {
        e = new uint256[](1);
        e[0] = a;
    }

    /// What the queue holds beyond what its finalized, unclaimed tickets claim, less a wei per
    /// finalized ticket (a batch above the rate rounds its shares once, its tickets each):
    /// positive only if a finalization locked value nobody can claim.
    function lockedBeyondClaims() external view returns (uint256) {
        uint256 last = queue.lastFinalizedId();
        uint256 claims;
        uint256[] memory ids = new uint256[](1);
        for (uint256 id = 1; id <= last; ++id) {
            if (queue.stateOf(id) != WithdrawalQueue.State.Finalized) continue;
            ids[0] = id;
            claims += queue.finalizedValue(id, queue.findCheckpointHints(ids)[0]);
        }
        uint256 allowed = claims + last;
        uint256 locked = queue.lockedAssets();
        return locked > allowed ? locked - allowed : 0;
    }

    function bucketCount() external view returns (uint256) {
        return buckets.length;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _actor(uint256 who) internal view returns (address) {
        return actors[bound(who, 0, ACTORS - 1)];
    }

    /// The accounts that can hold shares: the actors, the treasury (fees), the queue (locked).
    function holdersBalance() external view returns (uint256 total) {
        for (uint256 i; i < ACTORS; ++i) {
            total += token.balanceOf(actors[i]);
        }
        total += token.balanceOf(token.treasury()) + token.balanceOf(address(queue));
    }

    /// What the token's stake is worth at the registry: its pools and its buckets.
    function registryValue() external view returns (uint256 total) {
        for (uint32 id = 1; id <= SEQUENCERS; ++id) {
            (uint256 held,,,) = registry.delegation(id, address(token));
            total += registry.sharesToTokens(id, held);
        }
        for (uint256 i; i < buckets.length; ++i) {
            (, uint256 tokens) = registry.unbonding(buckets[i].id, buckets[i].completion, address(token));
            total += tokens;
        }
        LiquidStakingToken.PositionRef[] memory ps = token.positions();
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].released) continue;
            (uint256 shares,,) = registry.redelegation(address(token), ps[i].src, ps[i].dst, ps[i].epoch);
            total += registry.sharesToTokens(ps[i].dst, shares);
        }
    }

    receive() external payable {}
}
