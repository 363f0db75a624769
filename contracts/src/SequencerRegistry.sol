// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RewardMath} from "./libraries/RewardMath.sol";
import {RegistryCore} from "./registry/RegistryCore.sol";

/// @dev The admin must be a timelock whose delay covers the longest exit.
interface IMinDelay {
    function getMinDelay() external view returns (uint256);
}

/// @title SequencerRegistry
/// @notice Sequencer stake and rewards. Each sequencer has an operator bond (the first-loss
///         tranche), a delegation pool with shares (virtual offset; tokens per share fall only by
///         slashes), a RAY reward-per-share accumulator and the operator's claimable commission
///         and bond rewards. Stake changes count from the next epoch and are checkpointed per
///         epoch (one write per sequencer per epoch), so the rewards and slashes of epoch e read
///         epoch e's stake exactly as the Rust side does.
/// @dev How a delegation earns without any loop over delegators: a change made in epoch m (a
///      delegation, undelegation or restake) is queued on the account as "shares from epoch m+1";
///      the shares held before it keep earning through epoch m. Once the report covering m has
///      executed, the account settles the old shares up to A(m), the pool's accumulator after
///      epoch m, and continues with the new shares from A(m). A(m) is the live accumulator while
///      the pool has not been credited past m; otherwise the first crediting after m recorded it
///      in `_accAfterChange` (a slot the first change of the epoch paid for). Rewards of epoch e are split with epoch e's
///      checkpointed shares, so stake added in an epoch never earns for it. Internal accounting
///      only: the contract never reads its own balance to decide anything.
contract SequencerRegistry is RegistryCore {
    /// @notice Runs slashing, jailing, the active set and governance (see RegistryExtension).
    address public immutable extension;

    /// @param p The parameters.
    /// @param admin DEFAULT_ADMIN_ROLE: a timelock whose minimum delay is at least
    ///        `(unbondingEpochs + 1) * epochLength`.
    /// @param extension_ A RegistryExtension deployed with the same parameters.
    /// @dev Reverts with ZeroAddress if `admin` is zero; with AdminNotTimelock if it has no code;
    ///      with AdminDelayTooShort if its delay is too short; with WrongExtension if the extension
    ///      has no code or other parameters; with InvalidParameter as RegistryCore's constructor.
    constructor(Params memory p, address admin, address extension_) RegistryCore(p) {
        if (admin == address(0)) revert ZeroAddress();
        if (admin.code.length == 0) revert AdminNotTimelock(admin);
        uint256 required = (uint256(p.unbondingEpochs) + 1) * p.epochLength;
        uint256 delay = IMinDelay(admin).getMinDelay();
        if (delay < required) revert AdminDelayTooShort(delay, required);
        if (extension_.code.length == 0 || RegistryCore(extension_).paramsHash() != paramsHash) {
            revert WrongExtension(extension_);
        }
        extension = extension_;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= p.genesisTime) nextRewardEpoch = currentEpoch();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Pays the operator's claimable commission and bond rewards to its reward
    ///         recipient. Anyone may call it. Never paused.
    /// @param id The sequencer.
    /// @dev Reverts with NothingToClaim when nothing is claimable; with TransferFailed if the
    ///      recipient refuses the transfer (the operator can change the recipient).
    function claimOperatorRewards(uint32 id) external nonReentrant {
        Pool storage p = _pools[id];
        uint256 amount = p.operatorRewards;
        if (amount == 0) revert NothingToClaim();
        p.operatorRewards = 0;
        totalOperatorRewards -= amount;
        address to = _sequencers[id].rewardRecipient;
        emit OperatorRewardsClaimed(id, to, amount);
        _send(to, amount);
    }

    // ================================================================ delegators
    /// @notice Delegates `msg.value` to the sequencer's pool. The shares are minted now at the
    ///         pool's rate (with the virtual offset) and count, and earn, from the next epoch.
    /// @param id The sequencer.
    /// @return shares The pool shares minted.
    /// @dev Reverts with IsPaused while paused; with WrongStatus unless the sequencer is
    ///      registered; with ZeroAmount if nothing is sent or it buys no share; with
    ///      TooManyPendingChanges if the account already has MAX_PENDING_CHANGES changes waiting
    ///      for reports; with SlashInProgress while a slash of the sequencer is under way.
    function delegate(uint32 id) external payable whenNotPaused nonReentrant returns (uint256 shares) {
        shares = _delegate(id, msg.sender, msg.value);
    }

    /// @notice Settles the caller's rewards in the pool and delegates them to it again.
    /// @param id The sequencer.
    /// @return amount The rewards restaked.
    /// @return shares The pool shares minted.
    /// @dev Reverts with IsPaused while paused; with NothingToClaim when no reward is due; as
    ///      `delegate` otherwise.
    function claimAndRestake(uint32 id)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 amount, uint256 shares)
    {
        Delegation storage d = _delegations[id][msg.sender];
        _sync(id, d);
        amount = d.owed;
        if (amount == 0) revert NothingToClaim();
        d.owed = 0;
        unclaimedPoolRewards -= amount;
        shares = _mintShares(id, msg.sender, d, amount);
        emit RewardsRestaked(id, msg.sender, amount, shares);
    }

    /// @notice Undelegates `shares` from the sequencer's pool into the unbonding bucket that
    ///         completes at `currentEpoch() + 1 + unbondingEpochs`. The shares keep counting and
    ///         earning through the current epoch.
    /// @param id The sequencer.
    /// @param shares Pool shares to undelegate.
    /// @return completionEpoch When the tokens can be withdrawn.
    /// @return amount The tokens moved into the bucket.
    /// @dev Reverts with IsPaused while paused; with ZeroAmount for zero shares or shares worth
    ///      nothing; with InsufficientShares above the account's shares; with
    ///      TooManyPendingChanges or TooManyUnbondingEntries at the account's limits; with
    ///      SlashInProgress while a slash of the sequencer is under way.
    function undelegate(uint32 id, uint256 shares)
        external
        whenNotPaused
        nonReentrant
        returns (uint64 completionEpoch, uint256 amount)
    {
        if (shares == 0) revert ZeroAmount();
        _notSlashing(id);
        Delegation storage d = _delegations[id][msg.sender];
        _sync(id, d);
        uint256 held = _latestShares(d);
        if (shares > held) revert InsufficientShares(shares, held);
        Pool storage p = _pools[id];
        amount =
            Math.mulDiv(shares, p.tokens + RewardMath.VIRTUAL_ASSETS, p.shares + RewardMath.VIRTUAL_SHARES);
        if (amount > p.tokens) amount = p.tokens;
        if (amount == 0) revert ZeroAmount();
        p.shares -= shares;
        p.tokens -= amount;
        totalPoolTokens -= amount;
        uint64 epoch = currentEpoch();
        _pushChange(id, msg.sender, d, epoch, held - shares);
        completionEpoch = epoch + 1 + unbondingEpochs;
        Bucket storage b = _buckets[id][completionEpoch];
        uint256 bucketShares =
            Math.mulDiv(amount, b.shares + RewardMath.VIRTUAL_SHARES, b.tokens + RewardMath.VIRTUAL_ASSETS);
        mapping(address => uint256) storage mine = _bucketShares[id][completionEpoch];
        if (mine[msg.sender] == 0) {
            if (d.unbondingEntries >= maxUnbondingEntries) {
                revert TooManyUnbondingEntries(id, msg.sender, maxUnbondingEntries);
            }
            d.unbondingEntries += 1;
        }
        mine[msg.sender] += bucketShares;
        b.shares += bucketShares;
        b.tokens += amount;
        totalUnbonding += amount;
        _checkpoint(id);
        emit Undelegated(id, msg.sender, shares, amount, completionEpoch);
    }

    /// @notice Withdraws the caller's tokens from a completed unbonding bucket (less any slash
    ///         of the bucket) to `to`. Never paused.
    /// @param id The sequencer.
    /// @param completionEpoch The bucket.
    /// @param to The recipient.
    /// @return amount The tokens paid.
    /// @dev Reverts with StillUnbonding before the completion epoch; with NothingToClaim if the
    ///      caller holds nothing there; with ZeroAddress for a zero recipient; with
    ///      TransferFailed if `to` refuses the transfer.
    function withdrawUnbonded(uint32 id, uint64 completionEpoch, address to)
        external
        nonReentrant
        returns (uint256 amount)
    {
        uint64 epoch = currentEpoch();
        if (epoch < completionEpoch) revert StillUnbonding(id, completionEpoch, epoch);
        if (to == address(0)) revert ZeroAddress();
        uint256 mine = _bucketShares[id][completionEpoch][msg.sender];
        if (mine == 0) revert NothingToClaim();
        Bucket storage b = _buckets[id][completionEpoch];
        // The last holder takes what rounding left, so no bucket strands tokens.
        amount = mine == b.shares
            ? b.tokens
            : Math.mulDiv(mine, b.tokens + RewardMath.VIRTUAL_ASSETS, b.shares + RewardMath.VIRTUAL_SHARES);
        if (amount > b.tokens) amount = b.tokens;
        b.shares -= mine;
        b.tokens -= amount;
        totalUnbonding -= amount;
        delete _bucketShares[id][completionEpoch][msg.sender];
        _delegations[id][msg.sender].unbondingEntries -= 1;
        emit UnbondedWithdrawn(id, msg.sender, completionEpoch, to, amount);
        _send(to, amount);
    }

    /// @notice Pays the caller's settled rewards in the sequencer's pool to `to`. Never paused.
    /// @param id The sequencer.
    /// @param to The recipient.
    /// @return amount The rewards paid.
    /// @dev Reverts with ZeroAddress for a zero recipient; with NothingToClaim when nothing is
    ///      due; with TransferFailed if `to` refuses the transfer.
    function claimRewards(uint32 id, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _takeRewards(id, to);
        if (amount == 0) revert NothingToClaim();
        _send(to, amount);
    }

    /// @notice Pays the caller's settled rewards in several pools to `to` in one transfer;
    ///         pools with nothing due are skipped. Never paused.
    /// @param ids The sequencers.
    /// @param to The recipient.
    /// @return total The rewards paid.
    /// @dev Reverts with ZeroAddress for a zero recipient; with TransferFailed if `to` refuses
    ///      the transfer.
    function claimRewardsMany(uint32[] calldata ids, address to)
        external
        nonReentrant
        returns (uint256 total)
    {
        if (to == address(0)) revert ZeroAddress();
        for (uint256 i; i < ids.length; ++i) {
            total += _takeRewards(ids[i], to);
        }
        if (total > 0) _send(to, total);
    }

    /// Settles the caller's delegation in pool `id` and takes what it is owed (booked as paid
    /// to `to`; the caller sends it).
    function _takeRewards(uint32 id, address to) internal returns (uint256 amount) {
        Delegation storage d = _delegations[id][msg.sender];
        _sync(id, d);
        amount = d.owed;
        if (amount == 0) return 0;
        d.owed = 0;
        unclaimedPoolRewards -= amount;
        emit RewardsClaimed(id, msg.sender, to, amount);
    }

    // ================================================================ redelegation
    /// @notice Moves `shares` of the caller's delegation from `src` to `dst` without unbonding.
    ///         They count in `src` through the current epoch and in `dst` from the next. The
    ///         moved stake is held as the caller's position in the tranche (src, current epoch,
    ///         dst): it earns in `dst`, stays slashable for faults of `src` up to this epoch until
    ///         it matures (`epoch + 1 + unbondingEpochs`), then is released into an ordinary
    ///         delegation with `releaseRedelegation`.
    /// @param src The sequencer the stake leaves.
    /// @param dst The sequencer it joins.
    /// @param shares Shares of `src`'s pool to move.
    /// @return dstShares Shares of `dst`'s pool the position received.
    /// @dev Reverts with IsPaused while paused; with SameSequencer when `src == dst`; with
    ///      ZeroAmount for zero shares or shares worth nothing; with InsufficientShares above the
    ///      caller's shares in `src`; with WrongStatus unless `dst` is registered; with
    ///      TooManyPendingChanges at the account's limit; with SlashInProgress while a slash of
    ///      `src` or `dst` is under way.
    function redelegate(uint32 src, uint32 dst, uint256 shares)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 dstShares)
    {
        if (src == dst) revert SameSequencer(src);
        if (shares == 0) revert ZeroAmount();
        _notSlashing(src);
        Delegation storage from = _delegations[src][msg.sender];
        _sync(src, from);
        uint256 held = _latestShares(from);
        if (shares > held) revert InsufficientShares(shares, held);
        Pool storage p = _pools[src];
        uint256 amount =
            Math.mulDiv(shares, p.tokens + RewardMath.VIRTUAL_ASSETS, p.shares + RewardMath.VIRTUAL_SHARES);
        if (amount > p.tokens) amount = p.tokens;
        if (amount == 0) revert ZeroAmount();
        p.shares -= shares;
        p.tokens -= amount;
        totalPoolTokens -= amount;
        uint64 epoch = currentEpoch();
        _pushChange(src, msg.sender, from, epoch, held - shares);
        _checkpoint(src);

        address key = _positionKey(msg.sender, src, dst, epoch);
        Tranche storage tranche = _tranches[src][epoch][dst];
        if (tranche.tokens == 0) _trancheDsts[src][epoch].push(dst);
        if (_positions[key].owner == address(0)) {
            // A new position has seen every earlier slash of its tranche.
            _positions[key] = Position({
                owner: msg.sender, src: src, dst: dst, epoch: epoch, appliedSlashes: tranche.slashCount
            });
        }
        Delegation storage to = _syncPosition(dst, key);
        _foldSlashes(dst, key, to);
        dstShares = _mintShares(dst, key, to, amount);
        tranche.shares += dstShares;
        tranche.tokens += amount;
        emit Redelegated(src, dst, msg.sender, shares, amount, dstShares, epoch);
    }

    /// @notice Pays the rewards the caller's redelegated position has earned in `dst`. Never
    ///         paused.
    /// @param src The source of the redelegation.
    /// @param dst Its destination.
    /// @param epoch The epoch it was made in.
    /// @param to The recipient.
    /// @return amount The rewards paid.
    /// @dev Reverts with ZeroAddress for a zero recipient; with UnknownRedelegation if the
    ///      caller has no such position; with NothingToClaim when nothing is due; with
    ///      TransferFailed if `to` refuses the transfer.
    function claimRedelegationRewards(uint32 src, uint32 dst, uint64 epoch, address to)
        external
        nonReentrant
        returns (uint256 amount)
    {
        if (to == address(0)) revert ZeroAddress();
        address key = _positionKey(msg.sender, src, dst, epoch);
        if (_positions[key].owner == address(0)) revert UnknownRedelegation(src, dst, epoch);
        Delegation storage d = _syncPosition(dst, key);
        amount = d.owed;
        if (amount == 0) revert NothingToClaim();
        d.owed = 0;
        unclaimedPoolRewards -= amount;
        emit RedelegationRewardsClaimed(src, dst, msg.sender, epoch, to, amount);
        _send(to, amount);
    }

    /// @notice Moves a matured position's shares into the caller's ordinary delegation to `dst`
    ///         (from the next epoch; the position earns the current one). Its unclaimed rewards
    ///         stay claimable with `claimRedelegationRewards`.
    /// @param src The source of the redelegation.
    /// @param dst Its destination.
    /// @param epoch The epoch it was made in.
    /// @return shares The shares moved.
    /// @dev Reverts with IsPaused while paused; with UnknownRedelegation if the caller has no
    ///      such position; with NotMatured before `epoch + 1 + unbondingEpochs`; with
    ///      TooManyPendingChanges at the account's limit; with SlashInProgress while a slash of
    ///      `src` is under way. A position with nothing left in it
    ///      (released before, or slashed to nothing) releases nothing and returns 0.
    function releaseRedelegation(uint32 src, uint32 dst, uint64 epoch)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 shares)
    {
        address key = _positionKey(msg.sender, src, dst, epoch);
        if (_positions[key].owner == address(0)) revert UnknownRedelegation(src, dst, epoch);
        _notSlashing(src);
        uint64 now_ = currentEpoch();
        uint64 maturity = epoch + 1 + unbondingEpochs;
        if (now_ < maturity) revert NotMatured(maturity, now_);
        Delegation storage position = _syncPosition(dst, key);
        shares = _positionShares(key, position);
        if (shares == 0) return 0;
        _pushChange(dst, key, position, now_, 0);
        Tranche storage tranche = _tranches[src][epoch][dst];
        tranche.shares -= Math.min(shares, tranche.shares);
        Delegation storage mine = _delegations[dst][msg.sender];
        _sync(dst, mine);
        _pushChange(dst, msg.sender, mine, now_, _latestShares(mine) + shares);
        emit RedelegationReleased(src, dst, msg.sender, epoch, shares);
    }

    // ================================================================ report entry points
    /// @notice One sequencer's rewards for a range of epochs.
    struct SequencerRewards {
        uint32 id;
        /// amounts[k] is the reward for epoch firstEpoch + k.
        uint256[] amounts;
    }

    /// @notice Pays the sequencers' rewards for epochs `firstEpoch..=lastEpoch` (`msg.value` is
    ///         their sum): per sequencer and epoch, commission to the operator, the rest split
    ///         between bond and pool by epoch stake, the pool's part credited through the
    ///         accumulator with the sequencer's dust, all with the epoch's checkpoints. Emits
    ///         RewardPaid per sequencer and epoch with a reward.
    /// @param firstEpoch Must be `nextRewardEpoch`.
    /// @param lastEpoch The last epoch paid; before the current epoch.
    /// @param rewards One entry per sequencer, ids strictly increasing.
    /// @dev Reverts as `distributeRewardsPart` with `complete` true.
    function distributeRewards(uint64 firstEpoch, uint64 lastEpoch, SequencerRewards[] calldata rewards)
        external
        payable
    {
        distributeRewardsPart(firstEpoch, lastEpoch, rewards, true);
    }

    /// @notice Pays part of the sequencers for epochs `firstEpoch..=lastEpoch`, for a report too
    ///         large for one transaction: parts carry increasing ids and the same range, and the
    ///         part with `complete` ends the range (`nextRewardEpoch` moves past it). A pool paid
    ///         in an earlier part settles its delegators through the range at once.
    /// @param firstEpoch Must be `nextRewardEpoch`.
    /// @param lastEpoch The last epoch paid; before the current epoch; the open part's range.
    /// @param rewards One entry per sequencer, ids strictly increasing and above the last part's.
    /// @param complete Whether this part ends the payment of the range.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE; with
    ///      WrongRewardEpochs for a range that does not continue the last one, has not ended, or
    ///      differs from the open part's; with MalformedRewards for ids not strictly increasing
    ///      (from the last part's), of unknown sequencers, or amounts of the wrong length; with
    ///      RewardValueMismatch when `msg.value` is not the sum.
    function distributeRewardsPart(
        uint64 firstEpoch,
        uint64 lastEpoch,
        SequencerRewards[] calldata rewards,
        bool complete
    ) public payable onlyRole(REPORTER_ROLE) nonReentrant {
        uint64 epoch = currentEpoch();
        RewardPart memory part = rewardPart;
        if (
            firstEpoch != nextRewardEpoch || lastEpoch < firstEpoch || lastEpoch >= epoch
                || (part.open && lastEpoch != part.lastEpoch)
        ) {
            revert WrongRewardEpochs(firstEpoch, lastEpoch, nextRewardEpoch, epoch);
        }
        uint256 epochs = lastEpoch - firstEpoch + 1;
        uint256 total;
        uint32 previous = part.lastId;
        for (uint256 i; i < rewards.length; ++i) {
            SequencerRewards calldata r = rewards[i];
            if (r.id <= previous || r.id > sequencerCount || r.amounts.length != epochs) {
                revert MalformedRewards(i);
            }
            previous = r.id;
            total += _creditSequencer(r.id, firstEpoch, r.amounts);
        }
        if (total != msg.value) revert RewardValueMismatch(msg.value, total);
        if (complete) {
            delete rewardPart;
            nextRewardEpoch = lastEpoch + 1;
            emit RewardsDistributed(firstEpoch, lastEpoch, total);
        } else {
            rewardPart = RewardPart({open: true, lastEpoch: lastEpoch, lastId: previous});
            emit RewardsPartDistributed(firstEpoch, lastEpoch, previous, total);
        }
    }

    /// @notice Records the accumulator after up to `maxCount` of pool `id`'s queued changes made
    ///         in epochs already paid, ahead of its next crediting. A pool that earned nothing
    ///         for a long time (not active) while its delegators acted queues one change per
    ///         epoch, and its next crediting records them all: this takes them in bounded calls
    ///         instead, so that no report's payment part can be made too large to execute.
    ///         Anyone may call it; it changes no balance (the accumulator after such a change
    ///         is the pool's current one: nothing was credited since).
    /// @param id The sequencer.
    /// @param maxCount The most changes to record.
    /// @return count The changes recorded.
    /// @dev Reverts with UnknownSequencer for an id never registered.
    function recordChanges(uint32 id, uint256 maxCount) external nonReentrant returns (uint256 count) {
        if (id == 0 || id > sequencerCount) revert UnknownSequencer(id);
        Pool storage p = _pools[id];
        uint64 head = p.changesHead;
        uint64 newHead = _recordChangesBefore(id, head, p.changesTail, _paidEnd(p), p.acc, maxCount);
        p.changesHead = newHead;
        count = newHead - head;
        emit ChangesRecorded(id, count);
    }

    // ================================================================ run by the extension
    /// @notice Registers the caller as a sequencer operator. Runs RegistryExtension.register
    ///         (reverts as documented there).
    /// @param signer The block-signing key.
    /// @param rewardRecipient Receives the operator's rewards.
    /// @param commissionBps The commission.
    /// @return id The new sequencer's id.
    function register(address signer, address rewardRecipient, uint16 commissionBps)
        external
        payable
        returns (uint32 id)
    {
        (signer, rewardRecipient, commissionBps, id);
        _extend();
    }

    /// @notice Replaces the signer. Runs RegistryExtension.rotateSigner (operator only).
    /// @param id The sequencer.
    /// @param newSigner The new key.
    function rotateSigner(uint32 id, address newSigner) external {
        (id, newSigner);
        _extend();
    }

    /// @notice Changes the reward recipient. Runs RegistryExtension.setRewardRecipient.
    /// @param id The sequencer.
    /// @param rewardRecipient The new recipient.
    function setRewardRecipient(uint32 id, address rewardRecipient) external {
        (id, rewardRecipient);
        _extend();
    }

    /// @notice Schedules a commission change for the next epoch. Runs
    ///         RegistryExtension.setCommission (operator only; bounded).
    /// @param id The sequencer.
    /// @param newBps The new commission.
    function setCommission(uint32 id, uint16 newBps) external {
        (id, newBps);
        _extend();
    }

    /// @notice Adds `msg.value` to the bond from the next epoch. Runs RegistryExtension.addBond.
    /// @param id The sequencer.
    function addBond(uint32 id) external payable {
        id;
        _extend();
    }

    /// @notice Starts the operator's exit. Runs RegistryExtension.exit (operator only).
    /// @param id The sequencer.
    function exit(uint32 id) external {
        id;
        _extend();
    }

    /// @notice Withdraws an exited bond after unbonding. Runs RegistryExtension.withdrawBond
    ///         (operator only; never paused).
    /// @param id The sequencer.
    /// @param to The recipient.
    function withdrawBond(uint32 id, address to) external {
        (id, to);
        _extend();
    }

    /// @notice Jails sequencers for reported downtime. Runs RegistryExtension.jailForDowntime
    ///         (REPORTER_ROLE; reverts as documented there).
    /// @param ids The sequencers.
    function jailForDowntime(uint32[] calldata ids) external {
        ids;
        _extend();
    }

    /// @notice Sets the active set. Runs RegistryExtension.updateActiveSet (REPORTER_ROLE;
    ///         reverts as documented there).
    /// @param ids The set, strictly increasing.
    function updateActiveSet(uint32[] calldata ids) external {
        ids;
        _extend();
    }

    /// @notice Slashes a sequencer, in bounded calls. Runs RegistryExtension.slash (SLASHER_ROLE;
    ///         reverts as documented there).
    /// @param id The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param fractionBps The fraction, 1..=10_000.
    /// @return amount The slash amount.
    /// @return done Whether it ended; if not, `continueSlash` carries it on.
    function slash(uint32 id, uint64 infractionEpoch, uint16 fractionBps)
        external
        returns (uint256 amount, bool done)
    {
        (id, infractionEpoch, fractionBps, amount, done);
        _extend();
    }

    /// @notice Carries the slash under way on. Runs RegistryExtension.continueSlash
    ///         (SLASHER_ROLE; reverts as documented there).
    /// @return done Whether it ended.
    function continueSlash() external returns (bool done) {
        done;
        _extend();
    }

    /// @notice Pays the insurance fund its slash proceeds. Runs RegistryExtension.payInsurance.
    function payInsurance() external {
        _extend();
    }

    /// @notice Releases a jailed sequencer after its cooldown. Runs RegistryExtension.unjail
    ///         (operator only; reverts as documented there).
    /// @param id The sequencer.
    function unjail(uint32 id) external {
        id;
        _extend();
    }

    /// @notice Sets the slash listener. Runs RegistryExtension.setSlashListener (admin only).
    /// @param listener The listener, or address(0) for none.
    function setSlashListener(address listener) external {
        listener;
        _extend();
    }

    /// @notice Pauses staking actions. Runs RegistryExtension.pause (GUARDIAN_ROLE; reverts as
    ///         documented there).
    /// @param duration Seconds, 1..=maxPauseDuration.
    function pause(uint64 duration) external {
        duration;
        _extend();
    }

    /// @notice Ends a pause early. Runs RegistryExtension.unpause (guardian or admin).
    function unpause() external {
        _extend();
    }

    /// Runs the current call's calldata on the extension, on this contract's storage, and
    /// returns or reverts with its result.
    function _extend() private {
        address target = extension;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), target, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }

    // ================================================================ views
    /// @notice A sequencer's registration.
    /// @param id The sequencer.
    /// @return The stored record.
    function sequencer(uint32 id) external view returns (Sequencer memory) {
        return _sequencers[id];
    }

    /// @notice The stake that counts for `epoch` (its checkpoint).
    /// @param id The sequencer.
    /// @param epoch The epoch.
    /// @return The checkpoint (zero before registration).
    function stakeAt(uint32 id, uint64 epoch) external view returns (StakePoint memory) {
        return _stakeAt(id, epoch);
    }

    /// @notice The bond that counts for `epoch`.
    /// @param id The sequencer.
    /// @param epoch The epoch.
    /// @return The bond in wei.
    function bondAt(uint32 id, uint64 epoch) external view returns (uint256) {
        return _stakeAt(id, epoch).bond;
    }

    /// @notice The operator's claimable commission and bond rewards.
    /// @param id The sequencer.
    /// @return The amount in wei.
    function operatorRewards(uint32 id) external view returns (uint256) {
        return _pools[id].operatorRewards;
    }

    /// @notice The slash under way (`id` 0 when none).
    /// @return The slash's progress.
    function pendingSlash() external view returns (PendingSlash memory) {
        return _pendingSlash;
    }

    /// @notice A delegation pool.
    /// @param id The sequencer.
    /// @return The pool.
    function pool(uint32 id) external view returns (Pool memory) {
        return _pools[id];
    }

    /// @notice The current candidates (registered or exiting sequencers).
    /// @return The ids.
    function candidates() external view returns (uint32[] memory) {
        return _candidates;
    }

    /// @notice The active set from the last update.
    /// @return The ids, increasing.
    function activeSet() external view returns (uint32[] memory) {
        return _activeSet;
    }

    /// @notice An account's delegation as it stands now.
    /// @param id The sequencer.
    /// @param account The delegator.
    /// @return shares The shares held after all changes.
    /// @return earningShares The shares earning in the current reward epoch.
    /// @return rewards The rewards claimable now.
    /// @return pendingChanges Changes waiting for the report of their epoch.
    function delegation(uint32 id, address account)
        external
        view
        returns (uint256 shares, uint256 earningShares, uint256 rewards, uint256 pendingChanges)
    {
        Delegation storage d = _delegations[id][account];
        (earningShares,, rewards,,) = _settled(id, d);
        shares = _latestShares(d);
        pendingChanges = d.count;
        if (pendingChanges > 0) {
            // Changes whose epoch has been paid are settled by the view above.
            uint64 next = _paidEnd(_pools[id]);
            for (uint256 k; k < d.count; ++k) {
                if (d.changes[(d.head + k) % MAX_PENDING_CHANGES].epoch < next) pendingChanges -= 1;
            }
        }
    }

    /// @notice A redelegated position as it stands now (tranche slashes applied).
    /// @param owner The delegator.
    /// @param src The source of the redelegation.
    /// @param dst Its destination.
    /// @param epoch The epoch it was made in.
    /// @return shares Shares of `dst`'s pool it holds after all changes.
    /// @return rewards The rewards claimable now.
    /// @return maturityEpoch From when it can be released.
    function redelegation(address owner, uint32 src, uint32 dst, uint64 epoch)
        external
        view
        returns (uint256 shares, uint256 rewards, uint64 maturityEpoch)
    {
        address key = _positionKey(owner, src, dst, epoch);
        Delegation storage d = _delegations[dst][key];
        (Change[] memory queue,) = _positionChanges(key, d);
        shares = queue.length > 0 ? queue[queue.length - 1].sharesAfter : d.shares;
        (,, rewards,) = _settle(dst, d.shares, d.entry, d.owed, queue);
        maturityEpoch = epoch + 1 + unbondingEpochs;
    }

    /// @notice What `shares` of the pool are worth now.
    /// @param id The sequencer.
    /// @param shares Pool shares.
    /// @return The tokens.
    /// @dev Reverts with ReentrancyGuardReentrantCall while a guarded call is in progress.
    function sharesToTokens(uint32 id, uint256 shares) external view returns (uint256) {
        if (_reentrancyGuardEntered()) revert ReentrancyGuardReentrantCall();
        Pool storage p = _pools[id];
        return Math.mulDiv(shares, p.tokens + RewardMath.VIRTUAL_ASSETS, p.shares + RewardMath.VIRTUAL_SHARES);
    }

    /// @notice An account's holding in an unbonding bucket and what it is worth now.
    /// @param id The sequencer.
    /// @param completionEpoch The bucket.
    /// @param account The delegator.
    /// @return shares The account's bucket shares.
    /// @return tokens Their value.
    function unbonding(uint32 id, uint64 completionEpoch, address account)
        external
        view
        returns (uint256 shares, uint256 tokens)
    {
        Bucket storage b = _buckets[id][completionEpoch];
        shares = _bucketShares[id][completionEpoch][account];
        tokens = shares == b.shares
            ? b.tokens
            : Math.mulDiv(shares, b.tokens + RewardMath.VIRTUAL_ASSETS, b.shares + RewardMath.VIRTUAL_SHARES);
    }

    /// @notice An unbonding bucket.
    /// @param id The sequencer.
    /// @param completionEpoch The bucket.
    /// @return The bucket's shares and tokens.
    function bucket(uint32 id, uint64 completionEpoch) external view returns (Bucket memory) {
        return _buckets[id][completionEpoch];
    }

    /// @notice Everything the registry owes: bonds, pool tokens, unbonding buckets, unclaimed
    ///         rewards and commission, accumulator dust and insurance proceeds. Its native balance
    ///         is at least this.
    /// @return The sum in wei.
    function totalOwed() external view returns (uint256) {
        return totalBonded + totalPoolTokens + totalUnbonding + totalOperatorRewards + unclaimedPoolRewards
            + totalRewardDust + insuranceOwed;
    }

    // ================================================================ internal: rewards
    /// A pool's crediting state while one report's epochs are paid (written back once).
    struct Crediting {
        uint256 acc;
        uint256 dust;
        uint64 creditedEnd;
        uint64 changesHead;
        uint64 changesTail;
        uint256 toOperator;
        uint256 credited;
    }

    function _creditSequencer(uint32 id, uint64 firstEpoch, uint256[] calldata amounts)
        internal
        returns (uint256 total)
    {
        Pool storage p = _pools[id];
        uint256 dustBefore = p.dust;
        Crediting memory c = Crediting({
            acc: p.acc,
            dust: dustBefore,
            creditedEnd: p.creditedEnd,
            changesHead: p.changesHead,
            changesTail: p.changesTail,
            toOperator: 0,
            credited: 0
        });
        for (uint256 k; k < amounts.length; ++k) {
            if (amounts[k] == 0) continue;
            total += amounts[k];
            _creditEpoch(id, firstEpoch + SafeCast.toUint64(k), amounts[k], c);
        }
        if (total == 0) return 0;
        p.acc = c.acc;
        p.dust = SafeCast.toUint128(c.dust);
        p.operatorRewards += SafeCast.toUint128(c.toOperator);
        p.creditedEnd = c.creditedEnd;
        p.changesHead = c.changesHead;
        totalOperatorRewards += c.toOperator;
        unclaimedPoolRewards += c.credited;
        totalRewardDust = totalRewardDust + c.dust - dustBefore;
    }

    function _creditEpoch(uint32 id, uint64 epoch, uint256 reward, Crediting memory c) internal {
        // Changes made before this epoch need the accumulator as it stands before its reward.
        c.changesHead =
            _recordChangesBefore(id, c.changesHead, c.changesTail, epoch, c.acc, type(uint256).max);
        StakePoint memory point = _stakeAt(id, epoch);
        uint256 commission = RewardMath.applyBps(reward, point.epoch == 0 ? 0 : point.commissionBps);
        uint256 bondReward = RewardMath.bondPart(reward - commission, point.bond, point.tokens);
        uint256 poolReward = reward - commission - bondReward;
        (uint256 increment, uint256 credited, uint256 dust) =
            RewardMath.creditAccumulator(poolReward, c.dust, point.shares);
        c.acc += increment;
        c.credited += credited;
        c.dust = dust;
        c.toOperator += commission + bondReward;
        c.creditedEnd = epoch + 1;
        emit RewardPaid(id, epoch, reward, commission, bondReward, poolReward, c.acc, dust);
    }

    /// Records `acc` as the accumulator after each of pool `id`'s queued changes from `head`
    /// (up to `tail`, at most `maxCount`) made before epoch `before`; returns the new head.
    function _recordChangesBefore(
        uint32 id,
        uint64 head,
        uint64 tail,
        uint64 before,
        uint256 acc,
        uint256 maxCount
    ) internal returns (uint64) {
        for (uint256 n; head < tail && n < maxCount; ++n) {
            uint64 changed = _changeEpochs[id][head];
            if (changed >= before) break;
            // Stored plus 2: 0 is no change, 1 a change whose accumulator is not recorded yet.
            _accAfterChange[id][changed] = acc + 2;
            head += 1;
        }
        return head;
    }

    /// The pool's accumulator after epoch `epoch`'s reward, for a change made in `epoch` (which
    /// has been paid): recorded by the first crediting after it, else the live accumulator (no
    /// crediting has passed it).
    function _accAfter(uint32 id, Pool storage p, uint64 epoch) internal view returns (uint256) {
        uint256 recorded = _accAfterChange[id][epoch];
        return recorded >= 2 ? recorded - 2 : p.acc;
    }

    // ================================================================ internal: delegations
    function _delegate(uint32 id, address account, uint256 amount) internal returns (uint256 shares) {
        Delegation storage d = _delegations[id][account];
        _sync(id, d);
        shares = _mintShares(id, account, d, amount);
    }

    function _mintShares(uint32 id, address account, Delegation storage d, uint256 amount)
        internal
        returns (uint256 shares)
    {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        if (amount == 0) revert ZeroAmount();
        _notSlashing(id);
        Pool storage p = _pools[id];
        shares = RewardMath.sharesForDeposit(amount, p.shares, p.tokens);
        if (shares == 0) revert ZeroAmount();
        p.shares += shares;
        p.tokens += amount;
        totalPoolTokens += amount;
        uint64 epoch = currentEpoch();
        _pushChange(id, account, d, epoch, _latestShares(d) + shares);
        _checkpoint(id);
        emit Delegated(id, account, amount, shares, epoch + 1);
    }

    /// Settles a position as far as the paid epochs allow, through its own queued changes and
    /// its tranche's slashes merged in order (`_positionChanges`); the slashes it consumes count
    /// as applied. A slash never takes a place in the position's queue, so no number of slashes
    /// can fill it: the queue holds at most the position's making and its release.
    function _syncPosition(uint32 dst, address key) internal returns (Delegation storage d) {
        d = _delegations[dst][key];
        (Change[] memory merged, bool[] memory isSlash) = _positionChanges(key, d);
        if (merged.length == 0 && d.shares == 0) return d;
        (uint256 shares, uint256 entry, uint256 owed, uint256 consumed) =
            _settle(dst, d.shares, d.entry, d.owed, merged);
        uint256 slashes;
        for (uint256 k; k < consumed; ++k) {
            if (isSlash[k]) slashes += 1;
        }
        uint256 own = consumed - slashes;
        d.shares = shares;
        d.entry = entry;
        d.owed = owed;
        d.head = SafeCast.toUint8((d.head + own) % MAX_PENDING_CHANGES);
        d.count -= SafeCast.toUint8(own);
        _positions[key].appliedSlashes += SafeCast.toUint32(slashes);
    }

    /// Before a change of the position's own (a redelegation adding to it, in the epoch it was
    /// made), folds the tranche slashes it has not applied into its queue: they are all of that
    /// epoch (the tranche is slashed from then on), so they merge with its making and precede
    /// the change.
    function _foldSlashes(uint32 dst, address key, Delegation storage d) internal {
        Position storage position = _positions[key];
        uint32 count = _tranches[position.src][position.epoch][dst].slashCount;
        if (position.appliedSlashes == count) return;
        _queueChange(dst, key, d, position.epoch, _positionShares(key, d));
        position.appliedSlashes = count;
    }

    /// The position's shares after all its changes and slashes.
    function _positionShares(address key, Delegation storage d) internal view returns (uint256) {
        (Change[] memory merged,) = _positionChanges(key, d);
        return merged.length > 0 ? merged[merged.length - 1].sharesAfter : d.shares;
    }

    /// The position's changes, oldest first: its own queued changes (absolute shares) and its
    /// tranche's slashes it has not applied (each scales the shares before it), merged by epoch,
    /// its own change first at an equal epoch (a slash it had seen when it last changed is
    /// folded into that change, and its release comes after every slash that can reach it).
    /// `isSlash[k]` says which are slashes.
    function _positionChanges(address key, Delegation storage d)
        internal
        view
        returns (Change[] memory merged, bool[] memory isSlash)
    {
        Position storage position = _positions[key];
        bytes32 tranche = _trancheKey(position.src, position.epoch, position.dst);
        uint32 next = position.appliedSlashes;
        uint32 count = _tranches[position.src][position.epoch][position.dst].slashCount;
        Change[] memory own = _queued(d);
        uint256 n = own.length + count - next;
        merged = new Change[](n);
        isSlash = new bool[](n);
        uint256 latest = d.shares;
        uint256 i;
        for (uint256 k; k < n; ++k) {
            if (i < own.length && (next == count || own[i].epoch <= _trancheSlashes[tranche][next].epoch)) {
                merged[k] = own[i++];
                latest = merged[k].sharesAfter;
                continue;
            }
            TrancheSlash storage cut = _trancheSlashes[tranche][next++];
            latest = Math.mulDiv(latest, cut.sharesAfter, cut.sharesBefore);
            merged[k] = Change({epoch: cut.epoch, sharesAfter: SafeCast.toUint192(latest)});
            isSlash[k] = true;
        }
    }

    /// The first epoch not yet paid for pool `p`: `nextRewardEpoch`, or past the range when a
    /// payment in parts has already paid this pool (its credited end is then ahead).
    function _paidEnd(Pool storage p) internal view returns (uint64) {
        uint64 next = nextRewardEpoch;
        uint64 credited = p.creditedEnd;
        return credited > next ? credited : next;
    }

    /// Settles the account's rewards as far as the paid epochs allow. An account that holds no
    /// shares and has nothing queued has nothing to settle (its entry is never read before a
    /// queued change resets it), so no slot is written.
    function _sync(uint32 id, Delegation storage d) internal {
        if (d.shares == 0 && d.count == 0) return;
        (uint256 shares, uint256 entry, uint256 owed, uint8 head, uint8 count) = _settled(id, d);
        d.shares = shares;
        d.entry = entry;
        d.owed = owed;
        d.head = head;
        d.count = count;
    }

    function _settled(uint32 id, Delegation storage d)
        internal
        view
        returns (uint256 shares, uint256 entry, uint256 owed, uint8 head, uint8 count)
    {
        uint256 consumed;
        (shares, entry, owed, consumed) = _settle(id, d.shares, d.entry, d.owed, _queued(d));
        head = SafeCast.toUint8((d.head + consumed) % MAX_PENDING_CHANGES);
        count = SafeCast.toUint8(d.count - consumed);
    }

    /// The account's queued changes, oldest first.
    function _queued(Delegation storage d) internal view returns (Change[] memory queue) {
        queue = new Change[](d.count);
        for (uint256 k; k < queue.length; ++k) {
            queue[k] = d.changes[(d.head + k) % MAX_PENDING_CHANGES];
        }
    }

    /// Settles `shares` (earning since `entry`) through the queued changes whose epoch has been
    /// paid, then up to the live accumulator; returns the state after and how many changes it
    /// consumed.
    function _settle(uint32 id, uint256 shares, uint256 entry, uint256 owed, Change[] memory queue)
        internal
        view
        returns (uint256, uint256, uint256, uint256 consumed)
    {
        Pool storage p = _pools[id];
        uint64 next = _paidEnd(p);
        for (; consumed < queue.length; ++consumed) {
            if (queue[consumed].epoch >= next) break;
            uint256 accAfter = _accAfter(id, p, queue[consumed].epoch);
            owed += RewardMath.pendingReward(shares, accAfter, entry);
            shares = queue[consumed].sharesAfter;
            entry = accAfter;
        }
        owed += RewardMath.pendingReward(shares, p.acc, entry);
        return (shares, p.acc, owed, consumed);
    }

    function _pushChange(uint32 id, address account, Delegation storage d, uint64 epoch, uint256 sharesAfter)
        internal
    {
        _queueChange(id, account, d, epoch, sharesAfter);
        _markChange(id, epoch);
    }

    /// Queues "`sharesAfter` from `epoch + 1`" on the account, merging with a change of the same
    /// epoch. The pool must already be marked as changed in `epoch`.
    function _queueChange(uint32 id, address account, Delegation storage d, uint64 epoch, uint256 sharesAfter)
        internal
    {
        uint8 count = d.count;
        if (count > 0) {
            Change storage last = d.changes[(d.head + count - 1) % MAX_PENDING_CHANGES];
            if (last.epoch == epoch) {
                last.sharesAfter = SafeCast.toUint192(sharesAfter);
                return;
            }
        }
        if (count == MAX_PENDING_CHANGES) revert TooManyPendingChanges(id, account, d.changes[d.head].epoch);
        d.changes[(d.head + count) % MAX_PENDING_CHANGES] =
            Change({epoch: epoch, sharesAfter: SafeCast.toUint192(sharesAfter)});
        d.count = count + 1;
    }
}
