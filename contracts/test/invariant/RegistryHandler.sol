// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {HandlerChecks} from "./HandlerChecks.sol";
import {Vm} from "../utils/Vm.sol";
import {SequencerRegistry} from "../../src/SequencerRegistry.sol";
import {RegistryCore} from "../../src/registry/RegistryCore.sol";
import {RewardMath} from "../../src/libraries/RewardMath.sol";

/// Drives the real registry for the invariant suite: a fixed set of sequencers and delegators,
/// the chain's clock moved by whole epochs, reward payments (up to 8 epochs at once), slashes
/// and every delegator action. Keeps the ghosts the invariants compare against: value in and
/// out, each pool's tokens per share, and a naive reward ledger per (delegator, sequencer).
contract RegistryHandler is HandlerChecks {
    uint256 internal constant SEQUENCERS = 4;
    uint256 internal constant DELEGATORS = 4;
    bytes32 internal constant REWARD_PAID =
        keccak256("RewardPaid(uint32,uint64,uint256,uint256,uint256,uint256,uint256,uint256)");

    SequencerRegistry public immutable registry;
    uint64 internal immutable genesis;
    uint64 internal immutable epochLength;
    uint32 internal immutable unbonding;
    address internal immutable insurance;

    address[DELEGATORS] public delegators;
    address[SEQUENCERS] public recipients;

    // ---- ghosts ----
    uint256 public valueIn;
    uint256 public valueOut;
    uint256 public credited;
    uint256 public claimed;
    bool public rateFellWithoutSlash;
    bool public trancheSlashed;
    /// A slash (or one of its calls) needed more than a 30M-gas block.
    bool public slashOverBlock;
    /// A matured position with stake in it could not be released (for any reason but its
    /// owner's own full queue).
    bool public maturedPositionStuck;
    mapping(uint32 => uint256) internal rateTokens;
    mapping(uint32 => uint256) internal rateShares;

    /// One (epoch, shares from epoch + 1) per change of an ordinary delegation.
    struct Change {
        uint64 epoch;
        uint256 sharesAfter;
    }

    mapping(address => mapping(uint32 => Change[])) internal changes;
    /// The naive ledger, RAY-scaled: sum over paid epochs of shares then x accumulator increment.
    mapping(address => mapping(uint32 => uint256)) public ledgerRay;
    /// Rewards taken out of each ordinary delegation (claimed or restaked).
    mapping(address => mapping(uint32 => uint256)) public taken;
    /// Settlements each ordinary delegation went through (each may round down once).
    mapping(address => mapping(uint32 => uint256)) public settlements;
    mapping(uint32 => uint256) internal lastAcc;

    struct PositionRef {
        address owner;
        uint32 src;
        uint32 dst;
        uint64 epoch;
    }

    PositionRef[] public positions;

    struct BucketRef {
        address owner;
        uint32 id;
        uint64 completion;
    }

    BucketRef[] internal buckets;
    mapping(bytes32 => bool) internal knownPosition;

    constructor(SequencerRegistry registry_, address insurance_) {
        registry = registry_;
        genesis = registry_.genesisTime();
        epochLength = registry_.epochLength();
        unbonding = registry_.unbondingEpochs();
        insurance = insurance_;
        for (uint256 i; i < DELEGATORS; ++i) {
            delegators[i] = address(uint160(0xD0000 + i));
        }
        for (uint256 i; i < SEQUENCERS; ++i) {
            recipients[i] = address(uint160(0xE0000 + i));
        }
        string[] memory actions = new string[](17);
        actions[0] = "delegate";
        actions[1] = "undelegate";
        actions[2] = "redelegate";
        actions[3] = "claim";
        actions[4] = "restake";
        actions[5] = "withdraw";
        actions[6] = "claimOperator";
        actions[7] = "release";
        actions[8] = "redelegateDust";
        actions[9] = "claimPosition";
        actions[10] = "advance";
        actions[11] = "pay";
        actions[12] = "payPart";
        actions[13] = "slash";
        actions[14] = "slashRepeatedly";
        actions[15] = "recordChanges";
        actions[16] = "payInsurance";
        _declareActions(actions);
    }

    /// Registers the sequencers (called once by the test's setUp, in epoch 5).
    function registerAll() external {
        for (uint256 i; i < SEQUENCERS; ++i) {
            address operator = address(uint160(0xC0000 + i));
            uint256 bond = (i + 2) * 1 ether;
            vm.deal(operator, bond);
            vm.prank(operator);
            registry.register{value: bond}(
                address(uint160(0xF0000 + i)), recipients[i], uint16(500 + 250 * i)
            );
            valueIn += bond;
            _noteRate(uint32(i + 1));
        }
    }

    // ------------------------------------------------------------------ actions
    function delegate(uint256 who, uint256 seq, uint256 amount) external {
        (address account, uint32 id) = _pick(who, seq);
        amount = bound(amount, 1, 1000 ether);
        vm.deal(account, account.balance + amount);
        vm.prank(account);
        registry.delegate{value: amount}(id);
        valueIn += amount;
        _changed(account, id);
        _checkRate(id);
        _count("delegate");
    }

    function undelegate(uint256 who, uint256 seq, uint256 fraction) external {
        (address account, uint32 id, uint256 held) = _pickHeld(who, seq);
        if (id == 0) return;
        uint256 shares = held * bound(fraction, 1, 100) / 100;
        if (shares == 0) shares = held;
        if (registry.sharesToTokens(id, shares) == 0) return; // worth nothing: refused
        vm.prank(account);
        (uint64 completion,) = registry.undelegate(id, shares);
        _changed(account, id);
        buckets.push(BucketRef({owner: account, id: id, completion: completion}));
        _checkRate(id);
        _count("undelegate");
    }

    function redelegate(uint256 who, uint256 seq, uint256 to, uint256 fraction) external {
        (address account, uint32 src, uint256 held) = _pickHeld(who, seq);
        if (src == 0) return;
        uint32 dst = uint32((src + bound(to, 0, SEQUENCERS - 2)) % SEQUENCERS + 1); // any other
        uint256 shares = held * bound(fraction, 1, 100) / 100;
        if (shares == 0) shares = held;
        if (registry.sharesToTokens(src, shares) == 0) return; // worth nothing: refused
        vm.prank(account);
        registry.redelegate(src, dst, shares);
        _changed(account, src);
        uint64 epoch = registry.currentEpoch();
        bytes32 key = keccak256(abi.encode(account, src, dst, epoch));
        if (!knownPosition[key]) {
            knownPosition[key] = true;
            positions.push(PositionRef({owner: account, src: src, dst: dst, epoch: epoch}));
        }
        _checkRate(src);
        _checkRate(dst);
        _count("redelegate");
    }

    function claim(uint256 who, uint256 seq) external {
        (address account, uint32 id) = _pickDue(who, seq);
        if (id == 0) return;
        uint256 before = account.balance;
        vm.prank(account);
        uint256 amount = registry.claimRewards(id, account);
        _check(account.balance - before == amount, "claim: paid what it said");
        valueOut += amount;
        claimed += amount;
        taken[account][id] += amount;
        settlements[account][id] += 1;
        _count("claim");
    }

    function restake(uint256 who, uint256 seq) external {
        (address account, uint32 id) = _pickDue(who, seq);
        if (id == 0) return;
        vm.prank(account);
        (uint256 amount,) = registry.claimAndRestake(id);
        claimed += amount;
        taken[account][id] += amount;
        _changed(account, id);
        _checkRate(id);
        _count("restake");
    }

    function withdraw(uint256 index) external {
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
        (uint256 mine,) = registry.unbonding(b.id, b.completion, b.owner);
        if (mine == 0) return; // withdrawn with an earlier entry of the same bucket
        vm.prank(b.owner);
        uint256 amount = registry.withdrawUnbonded(b.id, b.completion, b.owner);
        valueOut += amount;
        _count("withdraw");
    }

    function claimOperator(uint256 seq) external {
        uint32 id = uint32(bound(seq, 1, SEQUENCERS));
        if (registry.operatorRewards(id) == 0) return;
        address recipient = recipients[id - 1];
        uint256 before = recipient.balance;
        registry.claimOperatorRewards(id);
        valueOut += recipient.balance - before;
        _count("claimOperator");
    }

    function release(uint256 index) external {
        if (positions.length == 0) return;
        // Steered: the first matured position with shares from the picked one on; with none
        // matured, the clock runs to the maturity of the first with shares.
        uint256 i = bound(index, 0, positions.length - 1);
        PositionRef memory p;
        uint256 shares;
        uint64 maturity;
        uint64 soonest = type(uint64).max;
        for (uint256 k; k < positions.length; ++k) {
            PositionRef memory q = positions[(i + k) % positions.length];
            (uint256 s,, uint64 m) = registry.redelegation(q.owner, q.src, q.dst, q.epoch);
            if (s == 0) continue;
            if (registry.currentEpoch() >= m) {
                (p, shares, maturity) = (q, s, m);
                break;
            }
            if (m < soonest) (p, shares, maturity, soonest) = (q, s, m, m);
        }
        if (shares == 0) return;
        if (registry.currentEpoch() < maturity) vm.warp(genesis + uint256(maturity) * epochLength + 1);
        vm.prank(p.owner);
        (bool ok, bytes memory err) =
            address(registry).call(abi.encodeCall(registry.releaseRedelegation, (p.src, p.dst, p.epoch)));
        if (!ok) {
            // The owner's own delegation may have its queue full; the position itself never.
            if (!_isFullQueueOf(err, p.owner)) maturedPositionStuck = true;
            return;
        }
        _changed(p.owner, p.dst);
        _count("release");
    }

    /// Many small redelegations: one delegator moves a sliver of its stake in `seq` to every
    /// other sequencer (a tranche each), as a delegator making the source hard to slash would.
    function redelegateDust(uint256 who, uint256 seq) external {
        (address account, uint32 src, uint256 held) = _pickHeld(who, seq);
        if (src == 0) return;
        uint256 sliver = held / 1000;
        if (registry.sharesToTokens(src, sliver) == 0) return;
        uint64 epoch = registry.currentEpoch();
        for (uint32 dst = 1; dst <= SEQUENCERS; ++dst) {
            if (dst == src) continue;
            vm.prank(account);
            registry.redelegate(src, dst, sliver);
            bytes32 key = keccak256(abi.encode(account, src, dst, epoch));
            if (!knownPosition[key]) {
                knownPosition[key] = true;
                positions.push(PositionRef({owner: account, src: src, dst: dst, epoch: epoch}));
            }
            _checkRate(dst);
        }
        _changed(account, src);
        _checkRate(src);
        _count("redelegateDust");
    }

    function _isFullQueueOf(bytes memory err, address owner) internal pure returns (bool) {
        if (err.length != 100 || bytes4(err) != RegistryCore.TooManyPendingChanges.selector) return false;
        address account;
        assembly ("memory-safe") {
            account := mload(add(err, 68))
        }
        return account == owner;
    }

    function claimPosition(uint256 index) external {
        if (positions.length == 0) return;
        // Steered: the first position with rewards due from the picked one on.
        uint256 i = bound(index, 0, positions.length - 1);
        PositionRef memory p;
        uint256 due;
        for (uint256 k; k < positions.length && due == 0; ++k) {
            p = positions[(i + k) % positions.length];
            (, due,) = registry.redelegation(p.owner, p.src, p.dst, p.epoch);
        }
        if (due == 0) {
            // None due yet: the reporter's next payment (any part left open first) covers the
            // epochs that ended, the clock first running past the picked position's epoch if
            // none ended since, as a position's owner waiting for its first rewards would.
            p = positions[i];
            if (registry.currentEpoch() <= p.epoch + 1) {
                vm.warp(genesis + uint256(p.epoch + 2) * epochLength + 1);
            }
            if (partOpen) _payOpenPart();
            _payNext(7, index << 1); // an even seed: paid at once
            for (uint256 k; k < positions.length && due == 0; ++k) {
                p = positions[(i + k) % positions.length];
                (, due,) = registry.redelegation(p.owner, p.src, p.dst, p.epoch);
            }
            if (due == 0) return;
        }
        vm.prank(p.owner);
        uint256 amount = registry.claimRedelegationRewards(p.src, p.dst, p.epoch, p.owner);
        valueOut += amount;
        claimed += amount;
        _count("claimPosition");
    }

    function advance(uint256 epochs) external {
        epochs = bound(epochs, 1, 3);
        uint256 epoch = registry.currentEpoch() + epochs;
        vm.warp(genesis + epoch * epochLength + 1);
        _count("advance");
    }

    /// A payment in parts left open by `pay`: its range and seed; the rest is paid by the next
    /// `pay`, so any action may run between the parts.
    bool internal partOpen;
    uint64 internal partFirst;
    uint64 internal partLast;
    uint256 internal partSeed;

    /// Pays random rewards to every sequencer for up to 8 unpaid, ended epochs: at once, or (odd
    /// seeds) the first sequencer now and the others at the next `pay`.
    function pay(uint256 span, uint256 seed) external {
        if (partOpen) {
            _payOpenPart();
            return;
        }
        _payNext(span, seed);
    }

    /// Pays the rest of the payment `pay` left open.
    function _payOpenPart() internal {
        partOpen = false;
        _pay(partFirst, partLast, partSeed, 1, SEQUENCERS, true);
    }

    /// Pays up to 8 unpaid, ended epochs, in two parts for odd seeds (see `pay`).
    function _payNext(uint256 span, uint256 seed) internal {
        uint64 first = registry.nextRewardEpoch();
        uint64 current = registry.currentEpoch();
        if (first >= current) return;
        uint64 last = first + uint64(bound(span, 0, 7));
        if (last >= current) last = current - 1;
        if (seed % 2 == 1) {
            (partOpen, partFirst, partLast, partSeed) = (true, first, last, seed);
            _pay(first, last, seed, 0, 1, false);
        } else {
            _pay(first, last, seed, 0, SEQUENCERS, true);
        }
    }

    /// Pays sequencers `from + 1 ..= to` (by index) for `first..=last`, amounts from `seed`.
    function _pay(uint64 first, uint64 last, uint256 seed, uint256 from, uint256 to, bool complete) internal {
        SequencerRegistry.SequencerRewards[] memory r = new SequencerRegistry.SequencerRewards[](to - from);
        uint256 total;
        for (uint256 i = from; i < to; ++i) {
            SequencerRegistry.SequencerRewards memory s = r[i - from];
            s.id = uint32(i + 1);
            s.amounts = new uint256[](last - first + 1);
            for (uint256 k; k < s.amounts.length; ++k) {
                uint256 amount = uint256(keccak256(abi.encode(seed, i, k))) % 5 ether;
                if (amount % 7 == 0) amount = 0; // some sequencers earn nothing some epochs
                s.amounts[k] = amount;
                total += amount;
            }
        }
        vm.deal(address(this), address(this).balance + total);
        uint256 before = registry.unclaimedPoolRewards();
        vm.recordLogs();
        registry.distributeRewardsPart{value: total}(first, last, r, complete);
        valueIn += total;
        credited += registry.unclaimedPoolRewards() - before;
        _ledger(vm.getRecordedLogs());
        _count(complete ? "pay" : "payPart");
    }

    function slash(uint256 seq, uint256 lag, uint256 bps) external {
        uint32 id = uint32(bound(seq, 1, SEQUENCERS));
        uint64 epoch = registry.currentEpoch();
        uint64 infraction = epoch - uint64(bound(lag, 0, unbonding < epoch - 5 ? unbonding : epoch - 5));
        _slash(id, infraction, uint16(bound(bps, 1, 10_000)));
        _count("slash");
    }

    /// The same source slashed again in each of the next epochs (small fractions), as repeated
    /// faults are: its tranches' positions see a slash per epoch.
    function slashRepeatedly(uint256 seq, uint256 times) external {
        uint32 id = uint32(bound(seq, 1, SEQUENCERS));
        uint64 infraction = registry.currentEpoch();
        times = bound(times, 2, 9);
        for (uint256 k; k < times; ++k) {
            if (k > 0) vm.warp(genesis + (uint256(registry.currentEpoch()) + 1) * epochLength + 1);
            if (registry.currentEpoch() > infraction + unbonding) break;
            _slash(id, infraction, 50);
        }
        _count("slashRepeatedly");
    }

    /// Runs a slash to its end, each call within a 30M-gas block (else `slashOverBlock`).
    function _slash(uint32 id, uint64 infraction, uint16 bps) internal {
        uint256 insuranceBefore = registry.insuranceOwed();
        uint256 poolsBefore = registry.totalPoolTokens();
        bool done;
        (bool ok, bytes memory out) =
            address(registry).call{gas: 30_000_000}(abi.encodeCall(registry.slash, (id, infraction, bps)));
        if (ok) {
            (, done) = abi.decode(out, (uint256, bool));
        } else {
            // Refused on its merits (it reverts again with any gas), or over the block.
            (, done) = registry.slash(id, infraction, bps);
            slashOverBlock = true;
        }
        while (!done) {
            (ok, out) = address(registry).call{gas: 30_000_000}(abi.encodeCall(registry.continueSlash, ()));
            if (ok) {
                done = abi.decode(out, (bool));
            } else {
                slashOverBlock = true;
                done = registry.continueSlash();
            }
        }
        // Proceeds stay owed to the insurance fund inside the registry: nothing left it.
        _check(registry.insuranceOwed() >= insuranceBefore, "slash: insurance owed only grows");
        if (registry.totalPoolTokens() < poolsBefore) trancheSlashed = true;
        for (uint32 s = 1; s <= SEQUENCERS; ++s) {
            // Only the slashed pool may lose per share: a tranche's part is taken from its
            // destination by burning shares rounded up.
            if (s == id) _noteRate(s);
            else _checkRate(s);
        }
    }

    /// Anyone records a pool's queued changes ahead of its crediting: no balance may move, and
    /// the naive ledger must still agree afterwards.
    function recordChanges(uint256 seq, uint256 count) external {
        uint32 id = uint32(bound(seq, 1, SEQUENCERS));
        uint256 owed = registry.totalOwed();
        registry.recordChanges(id, bound(count, 0, 8));
        _check(registry.totalOwed() == owed, "recordChanges: moves no balance");
        _count("recordChanges");
    }

    function payInsurance() external {
        if (registry.insuranceOwed() == 0) return;
        uint256 before = insurance.balance;
        registry.payInsurance();
        valueOut += insurance.balance - before;
        _count("payInsurance");
    }

    // ------------------------------------------------------------------ ledger
    /// Credits every ordinary delegation with shares-in-the-epoch x accumulator increment.
    function _ledger(Vm.Log[] memory logs) internal {
        for (uint256 l; l < logs.length; ++l) {
            if (logs[l].topics.length == 0 || logs[l].topics[0] != REWARD_PAID) continue;
            uint32 id = uint32(uint256(logs[l].topics[1]));
            uint64 epoch = uint64(uint256(logs[l].topics[2]));
            (,,,, uint256 accAfter,) =
                abi.decode(logs[l].data, (uint256, uint256, uint256, uint256, uint256, uint256));
            uint256 increment = accAfter - lastAcc[id];
            lastAcc[id] = accAfter;
            if (increment == 0) continue;
            for (uint256 d; d < DELEGATORS; ++d) {
                ledgerRay[delegators[d]][id] += _sharesIn(delegators[d], id, epoch) * increment;
                settlements[delegators[d]][id] += 1;
            }
        }
    }

    /// The shares an ordinary delegation held during `epoch`: the last change before it.
    function _sharesIn(address account, uint32 id, uint64 epoch) internal view returns (uint256 shares) {
        Change[] storage list = changes[account][id];
        for (uint256 k = list.length; k > 0; --k) {
            if (list[k - 1].epoch < epoch) return list[k - 1].sharesAfter;
        }
    }

    function _changed(address account, uint32 id) internal {
        (uint256 latest,,,) = registry.delegation(id, account);
        uint64 epoch = registry.currentEpoch();
        Change[] storage list = changes[account][id];
        if (list.length > 0 && list[list.length - 1].epoch == epoch) {
            list[list.length - 1].sharesAfter = latest;
        } else {
            list.push(Change({epoch: epoch, sharesAfter: latest}));
        }
        settlements[account][id] += 1;
    }

    // ------------------------------------------------------------------ rates
    function _noteRate(uint32 id) internal {
        RegistryCore.Pool memory p = registry.pool(id);
        rateTokens[id] = p.tokens + RewardMath.VIRTUAL_ASSETS;
        rateShares[id] = p.shares + RewardMath.VIRTUAL_SHARES;
    }

    /// Records whether the pool's tokens per share fell since the last look (not by a slash).
    function _checkRate(uint32 id) internal {
        RegistryCore.Pool memory p = registry.pool(id);
        uint256 tokens = p.tokens + RewardMath.VIRTUAL_ASSETS;
        uint256 shares = p.shares + RewardMath.VIRTUAL_SHARES;
        if (tokens * rateShares[id] < rateTokens[id] * shares) rateFellWithoutSlash = true;
        rateTokens[id] = tokens;
        rateShares[id] = shares;
    }

    /// A delegator and one of the pools it holds shares in (id 0 when it holds none).
    function _pickHeld(uint256 who, uint256 seq) internal view returns (address account, uint32, uint256) {
        account = delegators[bound(who, 0, DELEGATORS - 1)];
        for (uint256 k; k < SEQUENCERS; ++k) {
            uint32 id = uint32((seq % SEQUENCERS + k) % SEQUENCERS + 1);
            (uint256 held,,,) = registry.delegation(id, account);
            if (held > 0) return (account, id, held);
        }
        return (account, 0, 0);
    }

    /// Steered: the first (delegator, sequencer) with rewards due from the picked one on; id 0
    /// if none.
    function _pickDue(uint256 who, uint256 seq) internal view returns (address, uint32) {
        uint256 start = bound(who, 0, DELEGATORS - 1) * SEQUENCERS + bound(seq, 0, SEQUENCERS - 1);
        for (uint256 k; k < DELEGATORS * SEQUENCERS; ++k) {
            uint256 j = (start + k) % (DELEGATORS * SEQUENCERS);
            (address account, uint32 id) = (delegators[j / SEQUENCERS], uint32(j % SEQUENCERS + 1));
            (,, uint256 due,) = registry.delegation(id, account);
            if (due > 0) return (account, id);
        }
        return (address(0), 0);
    }

    function _pick(uint256 who, uint256 seq) internal view returns (address, uint32) {
        return (delegators[bound(who, 0, DELEGATORS - 1)], uint32(bound(seq, 1, SEQUENCERS)));
    }

    // ------------------------------------------------------------------ views for the invariants
    function positionCount() external view returns (uint256) {
        return positions.length;
    }

    function delegatorCount() external pure returns (uint256) {
        return DELEGATORS;
    }

    function sequencerCount() external pure returns (uint256) {
        return SEQUENCERS;
    }

    receive() external payable {}
}
