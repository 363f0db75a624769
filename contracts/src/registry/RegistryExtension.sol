// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RewardMath} from "../libraries/RewardMath.sol";
import {IStakeSlashListener} from "../interfaces/IStakeSlashListener.sol";
import {RegistryCore} from "./RegistryCore.sol";

/// @title RegistryExtension
/// @notice The registry's less frequent paths: jailing, the active set, slashing and
///         governance. It runs only by DELEGATECALL from the SequencerRegistry that deployed it,
///         on that registry's storage (same layout through RegistryCore); called directly it
///         refuses.
contract RegistryExtension is RegistryCore {
    address private immutable _self;

    /// @dev Called directly, not through the registry.
    error NotDelegated();

    /// @param p The registry's parameters (the same immutables as the registry).
    constructor(Params memory p) RegistryCore(p) {
        _self = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == _self) revert NotDelegated();
        _;
    }

    // ================================================================ operators
    /// @notice Registers the caller as the operator of a new sequencer, bonding `msg.value`
    ///         from the next epoch.
    /// @param signer The key that signs the sequencer's blocks.
    /// @param rewardRecipient Receives the operator's commission and bond rewards.
    /// @param commissionBps Commission on the sequencer's rewards.
    /// @return id The new sequencer's id.
    /// @dev Reverts with IsPaused while paused; with BondOutOfRange if `msg.value` is outside
    ///      [minBond, maxBond]; with ZeroAddress if `signer` or `rewardRecipient` is zero; with
    ///      CommissionTooHigh above maxCommissionBps; with OperatorAlreadyRegistered or SignerInUse
    ///      on reuse; with TooManyCandidates when maxCandidates are registered.
    function register(address signer, address rewardRecipient, uint16 commissionBps)
        external
        payable
        onlyDelegated
        whenNotPaused
        returns (uint32 id)
    {
        if (msg.value < minBond || msg.value > maxBond) {
            revert BondOutOfRange(msg.value, minBond, maxBond);
        }
        if (signer == address(0) || rewardRecipient == address(0)) revert ZeroAddress();
        if (commissionBps > maxCommissionBps) revert CommissionTooHigh(commissionBps, maxCommissionBps);
        uint32 existing = sequencerOfOperator[msg.sender];
        if (existing != 0) revert OperatorAlreadyRegistered(msg.sender, existing);
        uint32 signerOwner = sequencerOfSigner[signer];
        if (signerOwner != 0) revert SignerInUse(signer, signerOwner);
        if (_candidates.length >= maxCandidates) revert TooManyCandidates(maxCandidates);

        uint64 effective = currentEpoch() + 1;
        id = ++sequencerCount;
        totalBonded += msg.value;
        _sequencers[id] = Sequencer({
            operator: msg.sender,
            status: Status.Registered,
            jailed: false,
            commissionBps: commissionBps,
            exitCompletionEpoch: 0,
            signer: signer,
            unjailEpoch: 0,
            initialCommissionBps: commissionBps,
            rewardRecipient: rewardRecipient,
            bond: msg.value
        });
        _candidates.push(id);
        _candidateIndex[id] = _candidates.length;
        sequencerOfOperator[msg.sender] = id;
        sequencerOfSigner[signer] = id;
        _checkpoint(id);
        emit SequencerRegistered(id, msg.sender, signer, rewardRecipient, commissionBps, msg.value, effective);
    }

    /// @notice Replaces the sequencer's block-signing key.
    /// @param id The sequencer.
    /// @param newSigner The new key.
    /// @dev Reverts with NotOperator for anyone but the operator; with ZeroAddress for a zero
    ///      key; with SignerInUse if the key belongs to a sequencer; with WrongStatus once exited.
    function rotateSigner(uint32 id, address newSigner) external onlyDelegated onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status == Status.Exited) revert WrongStatus(id, s.status);
        if (newSigner == address(0)) revert ZeroAddress();
        uint32 owner = sequencerOfSigner[newSigner];
        if (owner != 0) revert SignerInUse(newSigner, owner);
        address old = s.signer;
        delete sequencerOfSigner[old];
        sequencerOfSigner[newSigner] = id;
        s.signer = newSigner;
        emit SignerRotated(id, old, newSigner);
    }

    /// @notice Changes where the operator's rewards are paid.
    /// @param id The sequencer.
    /// @param rewardRecipient The new recipient.
    /// @dev Reverts with NotOperator for anyone but the operator; with ZeroAddress for zero.
    function setRewardRecipient(uint32 id, address rewardRecipient) external onlyDelegated onlyOperator(id) {
        if (rewardRecipient == address(0)) revert ZeroAddress();
        _sequencers[id].rewardRecipient = rewardRecipient;
        emit RewardRecipientChanged(id, rewardRecipient);
    }

    /// @notice Schedules a commission change, effective from the next epoch. A change scheduled
    ///         again in the same epoch replaces the earlier one; the bound applies to the
    ///         commission in force now.
    /// @param id The sequencer.
    /// @param newBps The new commission.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless
    ///      registered; with CommissionTooHigh above maxCommissionBps; with
    ///      CommissionChangeTooLarge when it moves more than maxCommissionChangeBps.
    function setCommission(uint32 id, uint16 newBps) external onlyDelegated onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        if (newBps > maxCommissionBps) revert CommissionTooHigh(newBps, maxCommissionBps);
        uint64 epoch = currentEpoch();
        uint16 inForce = commissionAt(id, epoch);
        uint16 change = newBps > inForce ? newBps - inForce : inForce - newBps;
        if (change > maxCommissionChangeBps) {
            revert CommissionChangeTooLarge(inForce, newBps, maxCommissionChangeBps);
        }
        s.commissionBps = newBps;
        _checkpoint(id);
        emit CommissionChangeScheduled(id, inForce, newBps, epoch + 1);
    }

    /// @notice Adds `msg.value` to the operator bond, effective from the next epoch.
    /// @param id The sequencer.
    /// @dev Reverts with IsPaused while paused; with NotOperator for anyone but the operator;
    ///      with WrongStatus unless registered; with BondOutOfRange if the bond would exceed
    ///      maxBond or nothing is sent.
    function addBond(uint32 id) external payable onlyDelegated whenNotPaused onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        uint256 bond = s.bond + msg.value;
        if (msg.value == 0 || bond > maxBond) revert BondOutOfRange(bond, minBond, maxBond);
        s.bond = bond;
        totalBonded += msg.value;
        _checkpoint(id);
        emit BondAdded(id, msg.value, bond, currentEpoch() + 1);
    }

    /// @notice Starts the operator's exit: from the next epoch the bond no longer counts and the
    ///         sequencer is not eligible for the active set; the bond stays slashable until it is
    ///         withdrawn after the unbonding period. Delegators keep their shares and undelegate.
    /// @param id The sequencer.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless registered.
    function exit(uint32 id) external onlyDelegated onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        uint64 completion = currentEpoch() + 1 + unbondingEpochs;
        s.status = Status.Exiting;
        s.exitCompletionEpoch = completion;
        _checkpoint(id);
        emit ExitStarted(id, s.bond, completion);
    }

    /// @notice Withdraws an exited sequencer's bond to `to` once unbonding has finished. Never
    ///         paused.
    /// @param id The sequencer.
    /// @param to The recipient.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless
    ///      exiting; with StillUnbonding before the completion epoch; with ZeroAddress for a zero
    ///      recipient; with TransferFailed if `to` refuses the transfer.
    function withdrawBond(uint32 id, address to) external onlyDelegated nonReentrant onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Exiting) revert WrongStatus(id, s.status);
        uint64 epoch = currentEpoch();
        if (epoch < s.exitCompletionEpoch) revert StillUnbonding(id, s.exitCompletionEpoch, epoch);
        if (to == address(0)) revert ZeroAddress();
        uint256 amount = s.bond;
        s.bond = 0;
        s.status = Status.Exited;
        totalBonded -= amount;
        _removeCandidate(id);
        delete sequencerOfSigner[s.signer];
        delete sequencerOfOperator[s.operator];
        emit BondWithdrawn(id, to, amount);
        _send(to, amount);
    }

    /// @notice Jails sequencers whose missed blocks passed the downtime threshold (reported).
    ///         Already jailed ones get a new cooldown.
    /// @param ids The sequencers.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE; with
    ///      UnknownSequencer for an id never registered.
    function jailForDowntime(uint32[] calldata ids) external onlyDelegated onlyRole(REPORTER_ROLE) {
        for (uint256 i; i < ids.length; ++i) {
            if (_sequencers[ids[i]].status == Status.None) revert UnknownSequencer(ids[i]);
            _jail(ids[i], JailReason.Downtime);
        }
    }

    /// @notice Sets the active set: the top `maxActive` eligible candidates (registered, not
    ///         jailed, bond at least minBond) by stake from the next epoch (bond + pool tokens),
    ///         ties to the lower id. The caller computes it; the contract checks it in one pass
    ///         over the candidates.
    /// @param ids The set, strictly increasing.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE; with
    ///      InvalidActiveSet naming the first offending id (an ineligible or repeated member, an
    ///      eligible outsider ranked above a member) or 0 when the set has the wrong size.
    function updateActiveSet(uint32[] calldata ids) external onlyDelegated onlyRole(REPORTER_ROLE) {
        uint256 weakestStake = type(uint256).max;
        uint32 weakest;
        uint32 previous;
        for (uint256 i; i < ids.length; ++i) {
            uint32 id = ids[i];
            if (id <= previous || !_eligible(id)) revert InvalidActiveSet(id);
            previous = id;
            uint256 stake = _liveStake(id);
            // The weakest member: lowest stake, and among equals the highest id.
            if (stake < weakestStake || (stake == weakestStake && id > weakest)) {
                weakestStake = stake;
                weakest = id;
            }
        }
        uint256 eligible;
        for (uint256 i; i < _candidates.length; ++i) {
            uint32 id = _candidates[i];
            if (!_eligible(id)) continue;
            eligible += 1;
            if (_contains(ids, id)) continue;
            uint256 stake = _liveStake(id);
            if (stake > weakestStake || (stake == weakestStake && id < weakest)) revert InvalidActiveSet(id);
        }
        if (ids.length != Math.min(eligible, maxActive)) revert InvalidActiveSet(0);
        _activeSet = ids;
        emit ActiveSetUpdated(currentEpoch() + 1, ids);
    }

    /// @notice Takes `fractionBps` of the sequencer's stake at `infractionEpoch`: from the bond
    ///         first, then from the pool and the unbonding buckets that were at stake then, pro
    ///         rata (RewardMath.slashSplit). Tokens per share fall; shares do not. The proceeds
    ///         go to the insurance fund (pull) or are burned; the slash listener is told its exact
    ///         loss in the same transaction; a bond left under minBond jails the sequencer.
    /// @param id The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param fractionBps The fraction, 1..=10_000.
    /// @return amount The slash amount (what was taken plus any shortfall).
    /// @dev Reverts with AccessControlUnauthorizedAccount without SLASHER_ROLE; with
    ///      UnknownSequencer; with InvalidFraction; with InfractionOutOfRange for a future epoch or
    ///      one more than unbondingEpochs ago.
    function slash(uint32 id, uint64 infractionEpoch, uint16 fractionBps)
        external
        onlyDelegated
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 amount)
    {
        Sequencer storage s = _sequencers[id];
        if (s.status == Status.None) revert UnknownSequencer(id);
        if (fractionBps == 0 || fractionBps > RewardMath.BPS) revert InvalidFraction(fractionBps);
        uint64 epoch = currentEpoch();
        if (infractionEpoch > epoch || infractionEpoch + unbondingEpochs < epoch) {
            revert InfractionOutOfRange(infractionEpoch, epoch);
        }
        SlashOutcome memory o = _applySlash(id, infractionEpoch, fractionBps, epoch);
        amount = o.amount;
        uint256 taken = o.fromBond + o.fromPool + o.fromUnbonding + o.fromTranches;
        if (insuranceFund != address(0)) insuranceOwed += taken;
        _checkpoint(id);
        emit Slashed(
            id,
            infractionEpoch,
            fractionBps,
            amount,
            o.fromBond,
            o.fromPool,
            o.fromUnbonding,
            o.fromTranches,
            o.shortfall
        );
        if (s.status == Status.Registered && s.bond < minBond) _jail(id, JailReason.BondBelowMinimum);
        address listener = slashListener;
        // Also when only the pool lost: the listener may hold positions redelegated into it,
        // whose value fell with the pool's tokens per share.
        if (listener != address(0) && o.fromPool + o.poolLoss + o.unbondingLoss + o.redelegatedLoss > 0) {
            IStakeSlashListener(listener).onStakeSlashed(id, o.poolLoss, o.unbondingLoss, o.redelegatedLoss);
        }
        if (insuranceFund == address(0) && taken > 0) _send(address(0), taken);
    }

    /// @notice Pays the slash proceeds owed to the insurance fund. Anyone may call it.
    /// @dev Reverts with NothingToClaim when nothing is owed; with TransferFailed if the fund
    ///      refuses the transfer.
    function payInsurance() external onlyDelegated nonReentrant {
        uint256 amount = insuranceOwed;
        if (amount == 0) revert NothingToClaim();
        insuranceOwed = 0;
        emit InsurancePaid(insuranceFund, amount);
        _send(insuranceFund, amount);
    }

    // ================================================================ operator of the sequencer
    /// @notice Releases a jailed sequencer after its cooldown, if its bond is at least minBond.
    /// @param id The sequencer.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless
    ///      registered; with CannotUnjail if not jailed or before the cooldown ends; with
    ///      BondOutOfRange if the bond is under minBond.
    function unjail(uint32 id) external onlyDelegated onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        if (!s.jailed || currentEpoch() < s.unjailEpoch) revert CannotUnjail(id, s.unjailEpoch);
        if (s.bond < minBond) revert BondOutOfRange(s.bond, minBond, maxBond);
        s.jailed = false;
        emit Unjailed(id);
    }

    // ================================================================ governance
    /// @notice Sets the delegator told about its slash losses (the liquid staking token).
    /// @param listener The listener, or address(0) for none.
    /// @dev Reverts with AccessControlUnauthorizedAccount without DEFAULT_ADMIN_ROLE (the timelock).
    function setSlashListener(address listener) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        slashListener = listener;
        emit SlashListenerSet(listener);
    }

    /// @notice Pauses registration, bonding, delegation, undelegation and restaking for
    ///         `duration` seconds. Claims and withdrawals are never paused; the pause expires by
    ///         itself.
    /// @param duration Seconds, 1..=maxPauseDuration.
    /// @dev Reverts with AccessControlUnauthorizedAccount without GUARDIAN_ROLE; with
    ///      InvalidPauseDuration outside the range.
    function pause(uint64 duration) external onlyDelegated onlyRole(GUARDIAN_ROLE) {
        if (duration == 0 || duration > maxPauseDuration) {
            revert InvalidPauseDuration(duration, maxPauseDuration);
        }
        uint64 until = uint64(block.timestamp) + duration;
        pausedUntil = until;
        emit Paused(until);
    }

    /// @notice Ends a pause early.
    /// @dev Reverts with NotGuardianOrAdmin for anyone else.
    function unpause() external onlyDelegated {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert NotGuardianOrAdmin(msg.sender);
        }
        pausedUntil = 0;
        emit Unpaused();
    }

    function _removeCandidate(uint32 id) internal {
        uint256 index = _candidateIndex[id] - 1;
        uint32 last = _candidates[_candidates.length - 1];
        _candidates[index] = last;
        _candidateIndex[last] = index + 1;
        _candidates.pop();
        delete _candidateIndex[id];
    }

    function _contains(uint32[] calldata sorted, uint32 id) internal pure returns (bool) {
        uint256 low;
        uint256 high = sorted.length;
        while (low < high) {
            uint256 mid = Math.average(low, high);
            if (sorted[mid] == id) return true;
            if (sorted[mid] < id) low = mid + 1;
            else high = mid;
        }
        return false;
    }

    // ================================================================ internal: slashing
    struct SlashOutcome {
        uint256 amount;
        uint256 fromBond;
        uint256 fromPool;
        uint256 fromUnbonding;
        uint256 fromTranches;
        uint256 shortfall;
        /// The listener's loss in the slashed pool.
        uint256 poolLoss;
        /// The listener's loss in unbonding buckets.
        uint256 unbondingLoss;
        /// The listener's loss in positions redelegated from the sequencer.
        uint256 redelegatedLoss;
    }

    /// Splits the slash over the bond, the pool and the buckets at stake then, and takes it.
    /// Who holds what was at stake at the infraction: the pool, the unbonding buckets made
    /// since (undelegated in epochs infraction..now) and the redelegation tranches out of the
    /// sequencer made since, in that order (the order of RewardMath.slashSplit's rounding wei).
    struct Holders {
        uint256[] held;
        uint64 firstBucket;
        uint256 buckets;
        uint64[] trancheEpochs;
        uint32[] trancheDsts;
    }

    function _applySlash(uint32 id, uint64 infractionEpoch, uint16 fractionBps, uint64 epoch)
        internal
        returns (SlashOutcome memory o)
    {
        Sequencer storage s = _sequencers[id];
        StakePoint memory atStake = _stakeAt(id, infractionEpoch);
        Holders memory h = _holders(id, infractionEpoch, epoch);
        (o.amount, o.fromBond, o.shortfall) =
            RewardMath.slashSplit(fractionBps, uint256(atStake.bond) + atStake.tokens, s.bond, h.held);
        o.fromPool = h.held[0];
        (o.fromUnbonding, o.poolLoss, o.unbondingLoss) = _takeFromHolders(id, h);
        (o.fromTranches, o.redelegatedLoss) = _takeFromTranches(id, h, epoch);
        s.bond -= o.fromBond;
        totalBonded -= o.fromBond;
    }

    function _holders(uint32 id, uint64 infractionEpoch, uint64 epoch)
        internal
        view
        returns (Holders memory h)
    {
        h.firstBucket = infractionEpoch + 1 + unbondingEpochs;
        h.buckets = epoch - infractionEpoch + 1;
        uint256 tranches;
        for (uint64 e = infractionEpoch; e <= epoch; ++e) {
            tranches += _trancheDsts[id][e].length;
        }
        h.held = new uint256[](1 + h.buckets + tranches);
        h.trancheEpochs = new uint64[](tranches);
        h.trancheDsts = new uint32[](tranches);
        h.held[0] = _pools[id].tokens;
        for (uint256 k; k < h.buckets; ++k) {
            h.held[1 + k] = _buckets[id][h.firstBucket + SafeCast.toUint64(k)].tokens;
        }
        uint256 t;
        for (uint64 e = infractionEpoch; e <= epoch; ++e) {
            uint32[] storage dsts = _trancheDsts[id][e];
            for (uint256 j; j < dsts.length; ++j) {
                Pool storage dp = _pools[dsts[j]];
                h.trancheEpochs[t] = e;
                h.trancheDsts[t] = dsts[j];
                h.held[1 + h.buckets + t] = Math.mulDiv(
                    _tranches[id][e][dsts[j]].shares,
                    dp.tokens + RewardMath.VIRTUAL_ASSETS,
                    dp.shares + RewardMath.VIRTUAL_SHARES
                );
                t += 1;
            }
        }
    }

    /// Takes `h.held[0]` from the pool and `h.held[1 + k]` from the k-th bucket; returns the
    /// total from buckets and the listener's losses in the pool and in buckets, rounded up.
    function _takeFromHolders(uint32 id, Holders memory h)
        internal
        returns (uint256 fromUnbonding, uint256 poolLoss, uint256 bucketLoss)
    {
        Pool storage p = _pools[id];
        address listener = slashListener;
        uint256 fromPool = h.held[0];
        if (fromPool > 0) {
            if (listener != address(0)) {
                uint256 held = _latestShares(_delegations[id][listener]);
                poolLoss =
                    Math.mulDiv(held, fromPool, p.shares + RewardMath.VIRTUAL_SHARES, Math.Rounding.Ceil);
            }
            p.tokens -= fromPool;
            totalPoolTokens -= fromPool;
        }
        for (uint256 k; k < h.buckets; ++k) {
            uint256 take = h.held[1 + k];
            if (take == 0) continue;
            fromUnbonding += take;
            bucketLoss += _takeFromBucket(id, h.firstBucket + SafeCast.toUint64(k), take);
        }
    }

    /// Takes each tranche's part from its destination pool by burning the tranche's shares
    /// (rounded up, so the destination's other holders lose nothing); the positions see the
    /// burn as a change from this epoch when they next settle. Returns the listener's loss.
    function _takeFromTranches(uint32 src, Holders memory h, uint64 epoch)
        internal
        returns (uint256 fromTranches, uint256 listenerLoss)
    {
        for (uint256 t; t < h.trancheDsts.length; ++t) {
            uint256 take = h.held[1 + h.buckets + t];
            if (take == 0) continue;
            fromTranches += take;
            uint32 dst = h.trancheDsts[t];
            uint64 made = h.trancheEpochs[t];
            Tranche storage tranche = _tranches[src][made][dst];
            Pool storage dp = _pools[dst];
            uint256 burn = Math.min(
                tranche.shares,
                Math.mulDiv(
                    take,
                    dp.shares + RewardMath.VIRTUAL_SHARES,
                    dp.tokens + RewardMath.VIRTUAL_ASSETS,
                    Math.Rounding.Ceil
                )
            );
            listenerLoss += _trancheListenerLoss(src, dst, made, take, tranche);
            _trancheSlashes[_trancheKey(src, made, dst)][tranche.slashCount] = TrancheSlash({
                epoch: epoch, sharesBefore: tranche.shares, sharesAfter: tranche.shares - burn
            });
            tranche.slashCount += 1;
            tranche.shares -= burn;
            dp.shares -= burn;
            dp.tokens -= take;
            totalPoolTokens -= take;
            _markChange(dst, epoch);
            _checkpoint(dst);
            emit TrancheSlashed(src, made, dst, take, burn);
        }
    }

    /// The listener's part of `take` from a tranche: its position's shares (with earlier
    /// slashes applied) over the tranche's, rounded up.
    function _trancheListenerLoss(uint32 src, uint32 dst, uint64 made, uint256 take, Tranche storage tranche)
        internal
        view
        returns (uint256)
    {
        address listener = slashListener;
        if (listener == address(0) || tranche.shares == 0) return 0;
        address key = _positionKey(listener, src, dst, made);
        uint256 shares = _latestShares(_delegations[dst][key]);
        bytes32 trancheKey = _trancheKey(src, made, dst);
        for (uint32 i = _positions[key].appliedSlashes; i < tranche.slashCount; ++i) {
            TrancheSlash storage cut = _trancheSlashes[trancheKey][i];
            shares = Math.mulDiv(shares, cut.sharesAfter, cut.sharesBefore);
        }
        return Math.mulDiv(shares, take, tranche.shares, Math.Rounding.Ceil);
    }

    function _takeFromBucket(uint32 id, uint64 completion, uint256 amount)
        internal
        returns (uint256 listenerLoss)
    {
        Bucket storage b = _buckets[id][completion];
        address listener = slashListener;
        if (listener != address(0)) {
            uint256 held = _bucketShares[id][completion][listener];
            listenerLoss = Math.mulDiv(held, amount, b.shares + RewardMath.VIRTUAL_SHARES, Math.Rounding.Ceil);
        }
        b.tokens -= amount;
        totalUnbonding -= amount;
        emit BucketSlashed(id, completion, amount);
    }
}
