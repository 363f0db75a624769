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
    ///         first, then from the pool, the unbonding buckets and the redelegation tranches out
    ///         of it that were at stake then, pro rata (RewardMath.slashSplit over the pool, each
    ///         bucket and the tranches together; the tranches' part spread over them by value,
    ///         rounding down on cumulative values so that the parts sum to it). Tokens per share
    ///         fall; shares do not. The proceeds go to the insurance fund (pull) or are burned;
    ///         the slash listener is told its exact loss in the call that takes it; a bond left
    ///         under minBond jails the sequencer.
    ///         A slash visits at most SLASH_TRANCHES_SUMMED_PER_CALL tranches to value them and
    ///         SLASH_TRANCHES_TAKEN_PER_CALL to take from them per call, so whatever delegators
    ///         open it fits a block: when `done` is false, `continueSlash` carries it on, and
    ///         until then the sequencer's stake is frozen (SlashInProgress) and no other slash
    ///         starts. `Slashed` is emitted when the split is taken, `SlashCompleted` at the end.
    /// @param id The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param fractionBps The fraction, 1..=10_000.
    /// @return amount The slash amount (what will be taken plus any shortfall).
    /// @return done Whether the slash ended in this call.
    /// @dev Reverts with AccessControlUnauthorizedAccount without SLASHER_ROLE; with
    ///      SlashInProgress while a slash is under way; with UnknownSequencer; with
    ///      InvalidFraction; with InfractionOutOfRange for a future epoch or one more than
    ///      unbondingEpochs ago.
    function slash(uint32 id, uint64 infractionEpoch, uint16 fractionBps)
        external
        onlyDelegated
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 amount, bool done)
    {
        uint32 underway = _pendingSlash.id;
        if (underway != 0) revert SlashInProgress(underway);
        Sequencer storage s = _sequencers[id];
        if (s.status == Status.None) revert UnknownSequencer(id);
        if (fractionBps == 0 || fractionBps > RewardMath.BPS) revert InvalidFraction(fractionBps);
        uint64 epoch = currentEpoch();
        if (infractionEpoch > epoch || infractionEpoch + unbondingEpochs < epoch) {
            revert InfractionOutOfRange(infractionEpoch, epoch);
        }
        StakePoint memory atStake = _stakeAt(id, infractionEpoch);
        amount = Math.mulDiv(uint256(atStake.bond) + atStake.tokens, fractionBps, RewardMath.BPS);
        PendingSlash storage ps = _pendingSlash;
        ps.id = id;
        ps.fractionBps = fractionBps;
        ps.infractionEpoch = infractionEpoch;
        ps.lastEpoch = epoch;
        ps.cursorEpoch = infractionEpoch;
        done = _advanceSlash(ps);
    }

    /// @notice Carries the slash under way on by one bounded call (see `slash`).
    /// @return done Whether the slash ended in this call.
    /// @dev Reverts with AccessControlUnauthorizedAccount without SLASHER_ROLE; with
    ///      NoSlashInProgress when none is under way.
    function continueSlash() external onlyDelegated onlyRole(SLASHER_ROLE) nonReentrant returns (bool done) {
        PendingSlash storage ps = _pendingSlash;
        if (ps.id == 0) revert NoSlashInProgress();
        done = _advanceSlash(ps);
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
    ///         itself, and the guardian cannot pause again until `maxPauseDuration` after the end
    ///         it gave this pause (an early unpause does not shorten that wait), so a guardian
    ///         alone can never keep the registry paused.
    /// @param duration Seconds, 1..=maxPauseDuration.
    /// @dev Reverts with AccessControlUnauthorizedAccount without GUARDIAN_ROLE; with
    ///      InvalidPauseDuration outside the range; with PauseCooldown before
    ///      `nextPauseAllowedAt`.
    function pause(uint64 duration) external onlyDelegated onlyRole(GUARDIAN_ROLE) {
        if (duration == 0 || duration > maxPauseDuration) {
            revert InvalidPauseDuration(duration, maxPauseDuration);
        }
        // Pauses are measured in seconds of settlement-chain time by design.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < nextPauseAllowedAt) revert PauseCooldown(nextPauseAllowedAt);
        uint64 until = uint64(block.timestamp) + duration;
        pausedUntil = until;
        nextPauseAllowedAt = until + maxPauseDuration;
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
    /// One bounded step of the slash under way: values tranches until all are summed, then
    /// takes the split, then takes tranches' parts; ends the slash after the last tranche.
    function _advanceSlash(PendingSlash storage ps) internal returns (bool done) {
        if (!ps.taking) {
            if (!_visitTranches(ps, SLASH_TRANCHES_SUMMED_PER_CALL)) return false;
            _takeSplit(ps);
        }
        if (ps.tranchesTake > 0 && !_visitTranches(ps, SLASH_TRANCHES_TAKEN_PER_CALL)) return false;
        emit SlashCompleted(
            ps.id, ps.infractionEpoch, ps.tranchesTaken, ps.shortfall + ps.tranchesTake - ps.tranchesTaken
        );
        delete _pendingSlash;
        return true;
    }

    /// Visits up to `limit` tranches from the cursor: sums their value (first pass) or takes
    /// their part (second pass). Returns whether the last tranche was visited.
    function _visitTranches(PendingSlash storage ps, uint256 limit) internal returns (bool finished) {
        uint32 src = ps.id;
        uint64 e = ps.cursorEpoch;
        uint256 j = ps.cursorIndex;
        uint256 visits;
        // The first pass's sum, or what the second took; and the listener's loss.
        uint256 total;
        uint256 listenerLoss;
        for (; e <= ps.lastEpoch; ++e) {
            uint32[] storage dsts = _trancheDsts[src][e];
            for (; j < dsts.length; ++j) {
                if (visits == limit) {
                    ps.cursorEpoch = e;
                    ps.cursorIndex = SafeCast.toUint32(j);
                    _bookTranchePass(ps, total, listenerLoss);
                    return false;
                }
                visits += 1;
                (uint256 amount, uint256 loss) = _visitTranche(ps, src, e, dsts[j]);
                total += amount;
                listenerLoss += loss;
            }
            j = 0;
        }
        ps.cursorEpoch = ps.infractionEpoch;
        ps.cursorIndex = 0;
        _bookTranchePass(ps, total, listenerLoss);
        return true;
    }

    /// One tranche: its value (first pass), or its part taken and the listener's loss in it.
    function _visitTranche(PendingSlash storage ps, uint32 src, uint64 made, uint32 dst)
        internal
        returns (uint256 amount, uint256 listenerLoss)
    {
        Pool storage dp = _pools[dst];
        uint256 value = Math.mulDiv(
            _tranches[src][made][dst].shares,
            dp.tokens + RewardMath.VIRTUAL_ASSETS,
            dp.shares + RewardMath.VIRTUAL_SHARES
        );
        if (!ps.taking) return (value, 0);
        amount = _tranchePart(ps, value);
        if (amount > 0) listenerLoss = _takeFromTranche(src, made, dst, amount);
    }

    /// A tranche's part of the tranches' take (RewardMath.trancheShare over the value visited
    /// so far; a tranche worth more than when summed is capped at the summed total, one worth
    /// less gives at most its value, and the slash counts what that leaves as shortfall).
    function _tranchePart(PendingSlash storage ps, uint256 value) internal returns (uint256 part) {
        uint256 upTo;
        (part, upTo) = RewardMath.trancheShare(ps.visited, value, ps.tranchesTake, ps.tranchesHeld);
        ps.visited = upTo;
    }

    /// Books one call's pass: the sum so far (first pass), or what it took from tranches, with
    /// the proceeds and the listener's loss (second pass).
    function _bookTranchePass(PendingSlash storage ps, uint256 total, uint256 listenerLoss) internal {
        if (!ps.taking) {
            ps.tranchesHeld += total;
            return;
        }
        if (total == 0) return;
        ps.tranchesTaken += total;
        _bookProceeds(total);
        _tellListener(ps.id, 0, 0, 0, listenerLoss);
    }

    /// Takes the split: the bond first, then the pool and the buckets made since the infraction
    /// (undelegated in epochs infraction..lastEpoch) and the tranches together, pro rata, in that
    /// order for RewardMath.slashSplit's rounding wei; the tranches' part is left to the second
    /// pass.
    function _takeSplit(PendingSlash storage ps) internal {
        uint32 id = ps.id;
        Sequencer storage s = _sequencers[id];
        uint256[] memory held = _slashHoldings(ps);
        uint256 tranches = held.length - 1;
        Split memory o;
        {
            StakePoint memory atStake = _stakeAt(id, ps.infractionEpoch);
            (o.amount, o.fromBond, o.shortfall) =
                RewardMath.slashSplit(ps.fractionBps, uint256(atStake.bond) + atStake.tokens, s.bond, held);
        }
        (o.fromUnbonding, o.poolLoss, o.unbondingLoss) = _takeFromHolders(id, ps.infractionEpoch, held);
        s.bond -= o.fromBond;
        totalBonded -= o.fromBond;
        ps.taking = true;
        ps.tranchesTake = held[tranches];
        ps.shortfall = o.shortfall;
        _bookProceeds(o.fromBond + held[0] + o.fromUnbonding);
        _checkpoint(id);
        emit Slashed(
            id,
            ps.infractionEpoch,
            ps.fractionBps,
            o.amount,
            o.fromBond,
            held[0],
            o.fromUnbonding,
            held[tranches],
            o.shortfall
        );
        if (s.status == Status.Registered && s.bond < minBond) _jail(id, JailReason.BondBelowMinimum);
        _tellListener(id, held[0], o.poolLoss, o.unbondingLoss, 0);
    }

    /// What the split of a slash takes, beyond the pool's and the tranches' parts.
    struct Split {
        uint256 amount;
        uint256 fromBond;
        uint256 shortfall;
        uint256 fromUnbonding;
        /// The listener's losses in the pool and in buckets.
        uint256 poolLoss;
        uint256 unbondingLoss;
    }

    /// What was at stake at the infraction and is held now: the pool, each bucket made since
    /// (completing at infraction + 1 + unbondingEpochs onwards, one per epoch through the
    /// slash's last epoch), and the tranches' summed value last.
    function _slashHoldings(PendingSlash storage ps) internal view returns (uint256[] memory held) {
        uint32 id = ps.id;
        uint64 firstBucket = ps.infractionEpoch + 1 + unbondingEpochs;
        uint256 buckets = ps.lastEpoch - ps.infractionEpoch + 1;
        held = new uint256[](buckets + 2);
        held[0] = _pools[id].tokens;
        for (uint256 k; k < buckets; ++k) {
            held[1 + k] = _buckets[id][firstBucket + SafeCast.toUint64(k)].tokens;
        }
        held[buckets + 1] = ps.tranchesHeld;
    }

    /// Owes the proceeds to the insurance fund, or burns them when there is none.
    function _bookProceeds(uint256 taken) internal {
        if (taken == 0) return;
        if (insuranceFund != address(0)) insuranceOwed += taken;
        else _send(address(0), taken);
    }

    /// Tells the slash listener its loss in this call. Also when only the pool lost: the
    /// listener may hold positions redelegated into it, whose value fell with the pool's tokens
    /// per share.
    function _tellListener(
        uint32 id,
        uint256 fromPool,
        uint256 poolLoss,
        uint256 unbondingLoss,
        uint256 redelegatedLoss
    ) internal {
        address listener = slashListener;
        if (listener != address(0) && fromPool + poolLoss + unbondingLoss + redelegatedLoss > 0) {
            IStakeSlashListener(listener).onStakeSlashed(id, poolLoss, unbondingLoss, redelegatedLoss);
        }
    }

    /// Takes `held[0]` from the pool and `held[1 + k]` from the k-th bucket after the
    /// infraction (the last entry, the tranches', is left to the second pass); returns the total
    /// from buckets and the listener's losses in the pool and in buckets, rounded up.
    function _takeFromHolders(uint32 id, uint64 infractionEpoch, uint256[] memory held)
        internal
        returns (uint256 fromUnbonding, uint256 poolLoss, uint256 bucketLoss)
    {
        Pool storage p = _pools[id];
        address listener = slashListener;
        uint256 fromPool = held[0];
        if (fromPool > 0) {
            if (listener != address(0)) {
                uint256 mine = _latestShares(_delegations[id][listener]);
                poolLoss =
                    Math.mulDiv(mine, fromPool, p.shares + RewardMath.VIRTUAL_SHARES, Math.Rounding.Ceil);
            }
            p.tokens -= fromPool;
            totalPoolTokens -= fromPool;
        }
        uint64 firstBucket = infractionEpoch + 1 + unbondingEpochs;
        for (uint256 k; k + 2 < held.length; ++k) {
            uint256 take = held[1 + k];
            if (take == 0) continue;
            fromUnbonding += take;
            bucketLoss += _takeFromBucket(id, firstBucket + SafeCast.toUint64(k), take);
        }
    }

    /// Takes `take` from the tranche (src, made, dst) by burning its shares in the destination
    /// pool (rounded up, so the destination's other holders lose nothing); its positions see the
    /// burn as a change from this epoch when they next settle. Returns the listener's loss.
    function _takeFromTranche(uint32 src, uint64 made, uint32 dst, uint256 take)
        internal
        returns (uint256 listenerLoss)
    {
        uint64 epoch = currentEpoch();
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
        listenerLoss = _trancheListenerLoss(src, dst, made, take, tranche);
        _trancheSlashes[_trancheKey(src, made, dst)][tranche.slashCount] =
            TrancheSlash({epoch: epoch, sharesBefore: tranche.shares, sharesAfter: tranche.shares - burn});
        tranche.slashCount += 1;
        tranche.shares -= burn;
        dp.shares -= burn;
        dp.tokens -= take;
        totalPoolTokens -= take;
        _markChange(dst, epoch);
        _checkpoint(dst);
        emit TrancheSlashed(src, made, dst, take, burn);
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
