// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RewardMath} from "../libraries/RewardMath.sol";

/// @title RegistryCore
/// @notice The storage, types, events, errors and shared internals of the sequencer registry.
///         Two contracts inherit it with the same layout: SequencerRegistry (the entry point and
///         every frequent path) and RegistryExtension (slashing, jailing, the active set and
///         governance), which the registry reaches by DELEGATECALL to an address fixed at its
///         own deployment, so together they stay under the EIP-170 code size limit. Nothing is
///         upgradeable: the extension is deployed by the registry's constructor.
abstract contract RegistryCore is AccessControl, ReentrancyGuardTransient {
    // ---------------------------------------------------------------- constants
    /// @notice Reports the reward payments, downtime and the active set (the report contract).
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");
    /// @notice Executes slashes (the slashing manager, after its veto window).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice Pauses staking actions for at most `maxPauseDuration`.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Unresolved stake changes one account may queue per sequencer (the catch-up
    ///         length of reports).
    uint256 public constant MAX_PENDING_CHANGES = 8;
    /// @notice Redelegation tranches one slash call values (the first pass of a slash).
    uint256 public constant SLASH_TRANCHES_SUMMED_PER_CALL = 1000;
    /// @notice Redelegation tranches one slash call takes from (the second pass of a slash).
    uint256 public constant SLASH_TRANCHES_TAKEN_PER_CALL = 100;

    // ---------------------------------------------------------------- types
    /// @notice Parameters fixed at deployment (from the economics configuration).
    struct Params {
        uint64 genesisTime;
        uint64 epochLength;
        uint256 minBond;
        uint256 maxBond;
        uint16 maxCommissionBps;
        uint16 maxCommissionChangeBps;
        uint32 maxCandidates;
        uint32 maxActive;
        uint32 unbondingEpochs;
        uint32 maxUnbondingEntries;
        uint32 jailCooldownEpochs;
        uint64 maxPauseDuration;
        /// Receives slash proceeds (pull payment); address(0) burns them.
        address insuranceFund;
    }

    /// @notice Lifecycle of a sequencer.
    enum Status {
        None,
        Registered,
        Exiting,
        Exited
    }

    /// @notice Why a sequencer was jailed.
    enum JailReason {
        Downtime,
        BondBelowMinimum
    }

    struct Sequencer {
        address operator;
        Status status;
        bool jailed;
        /// The latest scheduled commission (the checkpoints say from which epoch).
        uint16 commissionBps;
        uint64 exitCompletionEpoch;
        address signer;
        uint64 unjailEpoch;
        /// The commission at registration, in force until the first checkpoint counts.
        uint16 initialCommissionBps;
        address rewardRecipient;
        /// The bond now (an exiting bond stays slashable until withdrawn).
        uint256 bond;
    }

    /// @notice One sequencer's stake counting from `epoch`.
    struct StakePoint {
        uint64 epoch;
        /// The commission in force from `epoch`.
        uint16 commissionBps;
        uint176 shares;
        uint128 bond;
        uint128 tokens;
    }

    /// @notice A delegation pool.
    struct Pool {
        uint256 shares;
        uint256 tokens;
        /// Reward per share, RAY.
        uint256 acc;
        /// Reward not yet credited by the accumulator (added to the next reward).
        uint128 dust;
        /// The operator's claimable commission and bond rewards.
        uint128 operatorRewards;
        /// Last credited epoch + 1 (0: never credited).
        uint64 creditedEnd;
        /// Last epoch with a delegation change + 1 (0: none).
        uint64 changedEnd;
        /// The queue of change epochs whose accumulator is not recorded yet: [head, tail).
        uint64 changesHead;
        uint64 changesTail;
    }

    /// @notice "Shares held from epoch `epoch + 1`."
    struct Change {
        uint64 epoch;
        uint192 sharesAfter;
    }

    struct Delegation {
        /// Shares earning now (before any queued change).
        uint256 shares;
        /// The accumulator those shares have been settled to.
        uint256 entry;
        /// Settled, unclaimed rewards.
        uint256 owed;
        uint8 head;
        uint8 count;
        uint32 unbondingEntries;
        Change[8] changes;
    }

    struct Bucket {
        uint256 shares;
        uint256 tokens;
    }

    /// @notice The stake moved from `src` to one destination in one epoch: held in the
    ///         destination's pool by one position per delegator, and slashable for faults of
    ///         `src` up to that epoch until it matures.
    struct Tranche {
        /// Destination pool shares the tranche's positions hold (falls by slashes and releases).
        uint256 shares;
        /// Tokens moved in.
        uint256 tokens;
        uint32 slashCount;
    }

    /// @notice One slash of a tranche: its positions' shares scale by after / before from `epoch`.
    struct TrancheSlash {
        uint64 epoch;
        uint256 sharesBefore;
        uint256 sharesAfter;
    }

    /// @notice A slash under way. A slash reaches every redelegation tranche out of the
    ///         sequencer made since the infraction, as many as delegators chose to open, so it
    ///         runs in bounded calls: the first pass values the tranches, then the split takes
    ///         from the bond, the pool and the buckets at once, and the second pass takes each
    ///         tranche's part. While it is under way the sequencer's pool and tranches are
    ///         frozen (no stake moves in or out) and no other slash can start.
    struct PendingSlash {
        /// The sequencer (0: no slash under way).
        uint32 id;
        uint16 fractionBps;
        /// Whether the second pass (taking) has begun.
        bool taking;
        uint64 infractionEpoch;
        /// The epoch the slash began: its tranches are those of infractionEpoch..lastEpoch.
        uint64 lastEpoch;
        /// The next tranche to visit: its epoch and index in that epoch's destinations.
        uint64 cursorEpoch;
        uint32 cursorIndex;
        /// The tranches' value, summed by the first pass.
        uint256 tranchesHeld;
        /// The tranches' part of the slash (from the split).
        uint256 tranchesTake;
        /// The value of the tranches the second pass has visited (at most `tranchesHeld`).
        uint256 visited;
        /// Taken from tranches so far.
        uint256 tranchesTaken;
        /// What the bond, pool, buckets and tranches could not cover (from the split).
        uint256 shortfall;
    }

    /// @notice A delegator's redelegated stake: an account in the destination pool.
    struct Position {
        address owner;
        uint32 src;
        uint32 dst;
        uint64 epoch;
        uint32 appliedSlashes;
    }

    // ---------------------------------------------------------------- immutables
    /// @notice keccak256 of the ABI-encoded parameters (the registry checks its extension's).
    bytes32 public immutable paramsHash;
    uint64 public immutable genesisTime;
    uint64 public immutable epochLength;
    uint256 public immutable minBond;
    uint256 public immutable maxBond;
    uint16 public immutable maxCommissionBps;
    uint16 public immutable maxCommissionChangeBps;
    uint32 public immutable maxCandidates;
    uint32 public immutable maxActive;
    uint32 public immutable unbondingEpochs;
    uint32 public immutable maxUnbondingEntries;
    uint32 public immutable jailCooldownEpochs;
    uint64 public immutable maxPauseDuration;
    address public immutable insuranceFund;

    // ---------------------------------------------------------------- storage
    /// @notice Number of sequencers ever registered; ids run from 1.
    uint32 public sequencerCount;
    /// @notice The first epoch whose rewards have not been paid yet.
    uint64 public nextRewardEpoch;
    /// @notice Staking actions are refused until this timestamp.
    uint64 public pausedUntil;
    /// @notice The guardian may pause again from this timestamp: the end the last pause was
    ///         given (an early unpause does not bring it forward) plus `maxPauseDuration`, so
    ///         the guardian alone pauses at most half the time.
    uint64 public nextPauseAllowedAt;
    /// @notice Told its exact loss on every slash (the liquid staking token).
    address public slashListener;

    /// @notice Sum of all bonds held.
    uint256 public totalBonded;
    /// @notice Sum of all pools' tokens.
    uint256 public totalPoolTokens;
    /// @notice Sum of all unbonding buckets' tokens.
    uint256 public totalUnbonding;
    /// @notice Claimable operator commission and bond rewards.
    uint256 public totalOperatorRewards;
    /// @notice Pool rewards credited and not yet claimed (includes the accounts' rounding dust).
    uint256 public unclaimedPoolRewards;
    /// @notice Sum of all pools' accumulator dust.
    uint256 public totalRewardDust;
    /// @notice Slash proceeds owed to the insurance fund.
    uint256 public insuranceOwed;

    uint32[] internal _candidates;
    uint32[] internal _activeSet;
    mapping(uint32 id => uint256 indexPlusOne) internal _candidateIndex;
    mapping(uint32 id => Sequencer) internal _sequencers;
    mapping(uint32 id => StakePoint[]) internal _stake;
    mapping(uint32 id => Pool) internal _pools;
    /// Per pool and change epoch m: 0 no change; 1 changed, A(m) not recorded yet; else A(m) + 2.
    mapping(uint32 id => mapping(uint64 epoch => uint256)) internal _accAfterChange;
    /// Per pool: the change epochs in order, consumed by crediting.
    mapping(uint32 id => mapping(uint64 index => uint64 epoch)) internal _changeEpochs;
    mapping(uint32 id => mapping(address account => Delegation)) internal _delegations;
    mapping(uint32 id => mapping(uint64 completion => Bucket)) internal _buckets;
    mapping(uint32 id => mapping(uint64 completion => mapping(address account => uint256))) internal
        _bucketShares;
    mapping(uint32 src => mapping(uint64 epoch => mapping(uint32 dst => Tranche))) internal _tranches;
    mapping(uint32 src => mapping(uint64 epoch => uint32[] dsts)) internal _trancheDsts;
    mapping(bytes32 tranche => mapping(uint256 index => TrancheSlash)) internal _trancheSlashes;
    mapping(address position => Position) internal _positions;
    mapping(address operator => uint32 id) public sequencerOfOperator;
    mapping(address signer => uint32 id) public sequencerOfSigner;

    /// @notice A report paying its sequencers in parts: the range's last epoch, the last id paid.
    struct RewardPart {
        bool open;
        uint64 lastEpoch;
        uint32 lastId;
    }

    /// @notice The payment in parts under way (none while `open` is false).
    RewardPart public rewardPart;

    /// @notice The slash under way (none while `id` is 0).
    PendingSlash internal _pendingSlash;

    // ---------------------------------------------------------------- events
    event SequencerRegistered(
        uint32 indexed id,
        address indexed operator,
        address signer,
        address rewardRecipient,
        uint16 commissionBps,
        uint256 bond,
        uint64 effectiveEpoch
    );
    event SignerRotated(uint32 indexed id, address oldSigner, address newSigner);
    event RewardRecipientChanged(uint32 indexed id, address rewardRecipient);
    event CommissionChangeScheduled(uint32 indexed id, uint16 fromBps, uint16 toBps, uint64 effectiveEpoch);
    event BondAdded(uint32 indexed id, uint256 amount, uint256 bond, uint64 effectiveEpoch);
    event ExitStarted(uint32 indexed id, uint256 bond, uint64 completionEpoch);
    event BondWithdrawn(uint32 indexed id, address indexed to, uint256 amount);
    event Delegated(
        uint32 indexed id, address indexed account, uint256 amount, uint256 shares, uint64 effectiveEpoch
    );
    event Undelegated(
        uint32 indexed id, address indexed account, uint256 shares, uint256 amount, uint64 completionEpoch
    );
    event UnbondedWithdrawn(
        uint32 indexed id, address indexed account, uint64 completionEpoch, address to, uint256 amount
    );
    event RewardsClaimed(uint32 indexed id, address indexed account, address to, uint256 amount);
    event RewardsRestaked(uint32 indexed id, address indexed account, uint256 amount, uint256 shares);
    event OperatorRewardsClaimed(uint32 indexed id, address indexed to, uint256 amount);
    /// @notice One sequencer's reward for one epoch and the pool's accumulator after it.
    event RewardPaid(
        uint32 indexed id,
        uint64 indexed epoch,
        uint256 reward,
        uint256 commission,
        uint256 bondReward,
        uint256 poolReward,
        uint256 accAfter,
        uint256 dustAfter
    );
    /// @notice A range is paid: `total` is what the completing call paid (the whole range when
    ///         paid at once; each earlier part has its RewardsPartDistributed).
    event RewardsDistributed(uint64 firstEpoch, uint64 lastEpoch, uint256 total);
    /// @notice One part of a payment in parts: sequencers up to `lastId` paid for the range.
    event RewardsPartDistributed(uint64 firstEpoch, uint64 lastEpoch, uint32 lastId, uint256 total);
    /// @notice The accumulator after `count` of pool `id`'s queued changes was recorded ahead of
    ///         its next crediting (`recordChanges`).
    event ChangesRecorded(uint32 indexed id, uint256 count);
    event Jailed(uint32 indexed id, JailReason reason, uint64 unjailEpoch);
    event Unjailed(uint32 indexed id);
    event ActiveSetUpdated(uint64 indexed epoch, uint32[] ids);
    event Slashed(
        uint32 indexed id,
        uint64 indexed infractionEpoch,
        uint16 fractionBps,
        uint256 amount,
        uint256 fromBond,
        uint256 fromPool,
        uint256 fromUnbonding,
        uint256 fromTranches,
        uint256 shortfall
    );
    /// @notice A slash that began with `Slashed` has taken every tranche's part: `fromTranches`
    ///         is what the tranches gave in all and `shortfall` what the slash could not take
    ///         (the split's shortfall plus any tranche part rounding or value changes left).
    event SlashCompleted(
        uint32 indexed id, uint64 indexed infractionEpoch, uint256 fromTranches, uint256 shortfall
    );
    event BucketSlashed(uint32 indexed id, uint64 indexed completionEpoch, uint256 amount);
    event Redelegated(
        uint32 indexed src,
        uint32 indexed dst,
        address indexed account,
        uint256 srcShares,
        uint256 amount,
        uint256 dstShares,
        uint64 epoch
    );
    event RedelegationReleased(
        uint32 indexed src, uint32 indexed dst, address indexed account, uint64 epoch, uint256 shares
    );
    event RedelegationRewardsClaimed(
        uint32 indexed src,
        uint32 indexed dst,
        address indexed account,
        uint64 epoch,
        address to,
        uint256 amount
    );
    event TrancheSlashed(
        uint32 indexed src, uint64 indexed epoch, uint32 indexed dst, uint256 amount, uint256 sharesBurned
    );
    event InsurancePaid(address indexed fund, uint256 amount);
    event SlashListenerSet(address listener);
    event Paused(uint64 until);
    event Unpaused();

    // ---------------------------------------------------------------- errors
    /// @dev A parameter is outside its allowed range (name given).
    error InvalidParameter(string name);
    /// @dev The admin is not a contract with a timelock delay.
    error AdminNotTimelock(address admin);
    /// @dev The admin's delay is shorter than the longest exit.
    error AdminDelayTooShort(uint256 delay, uint256 required);
    /// @dev The bond is outside [minBond, maxBond].
    error BondOutOfRange(uint256 bond, uint256 minBond, uint256 maxBond);
    /// @dev Commission above the maximum.
    error CommissionTooHigh(uint16 bps, uint16 maxBps);
    /// @dev Commission moves more than the maximum change.
    error CommissionChangeTooLarge(uint16 fromBps, uint16 toBps, uint16 maxChangeBps);
    /// @dev A zero address where one is required.
    error ZeroAddress();
    /// @dev The operator already runs a sequencer.
    error OperatorAlreadyRegistered(address operator, uint32 id);
    /// @dev The signer is already used by a sequencer.
    error SignerInUse(address signer, uint32 id);
    /// @dev No more candidates can register.
    error TooManyCandidates(uint32 maxCandidates);
    /// @dev The caller is not the sequencer's operator.
    error NotOperator(uint32 id, address caller);
    /// @dev No such sequencer.
    error UnknownSequencer(uint32 id);
    /// @dev The sequencer is not in the status the call needs.
    error WrongStatus(uint32 id, Status status);
    /// @dev Unbonding has not finished.
    error StillUnbonding(uint32 id, uint64 completionEpoch, uint64 currentEpoch);
    /// @dev The native transfer failed.
    error TransferFailed(address to, uint256 amount);
    /// @dev The extension has no code or was deployed with other parameters.
    error WrongExtension(address extension);
    /// @dev Before genesis there is no epoch.
    error BeforeGenesis(uint64 genesisTime);
    /// @dev Nothing sent, or too little to mint a share.
    error ZeroAmount();
    /// @dev More shares than the account holds.
    error InsufficientShares(uint256 requested, uint256 held);
    /// @dev The account has too many changes waiting for a report.
    error TooManyPendingChanges(uint32 id, address account, uint64 oldestEpoch);
    /// @dev The account has too many unbonding entries with this sequencer.
    error TooManyUnbondingEntries(uint32 id, address account, uint32 maxEntries);
    /// @dev Nothing to withdraw or claim.
    error NothingToClaim();
    /// @dev Rewards must continue at `expected` and end before the current epoch.
    error WrongRewardEpochs(uint64 firstEpoch, uint64 lastEpoch, uint64 expected, uint64 currentEpoch);
    /// @dev A reward list is malformed (ids not strictly increasing, or a wrong length).
    error MalformedRewards(uint256 index);
    /// @dev `msg.value` is not the sum of the rewards.
    error RewardValueMismatch(uint256 value, uint256 total);
    /// @dev The sequencer is not jailed, or its cooldown has not passed.
    error CannotUnjail(uint32 id, uint64 unjailEpoch);
    /// @dev The proposed active set is not the top of the eligible candidates by stake.
    error InvalidActiveSet(uint32 id);
    /// @dev The slash fraction is outside 1..=10_000 bps.
    error InvalidFraction(uint16 fractionBps);
    /// @dev The infraction is in the future or older than the unbonding period.
    error InfractionOutOfRange(uint64 infractionEpoch, uint64 currentEpoch);
    /// @dev Source and destination are the same sequencer.
    error SameSequencer(uint32 id);
    /// @dev The account has no redelegation from `src` to `dst` made in `epoch`.
    error UnknownRedelegation(uint32 src, uint32 dst, uint64 epoch);
    /// @dev A redelegation stays slashable for faults of its source until it matures.
    error NotMatured(uint64 maturityEpoch, uint64 currentEpoch);
    /// @dev Staking actions are paused.
    error IsPaused(uint64 until);
    /// @dev The pause duration is zero or above the maximum.
    error InvalidPauseDuration(uint64 duration, uint64 maxDuration);
    /// @dev The caller is neither guardian nor admin.
    error NotGuardianOrAdmin(address caller);
    /// @dev The guardian paused too recently: the next pause is allowed from `allowedAt`.
    error PauseCooldown(uint64 allowedAt);
    /// @dev A slash of sequencer `id` is under way: its stake cannot move and no other slash
    ///      can start until `continueSlash` ends it.
    error SlashInProgress(uint32 id);
    /// @dev No slash is under way.
    error NoSlashInProgress();

    // ---------------------------------------------------------------- modifiers
    modifier onlyOperator(uint32 id) {
        if (_sequencers[id].operator != msg.sender) revert NotOperator(id, msg.sender);
        _;
    }

    modifier whenNotPaused() {
        // Pauses are measured in seconds of settlement-chain time by design.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < pausedUntil) revert IsPaused(pausedUntil);
        _;
    }

    // ---------------------------------------------------------------- constructor
    /// @dev Reverts with InvalidParameter naming the parameter if epochLength is zero, minBond
    ///      is zero or above maxBond, a commission bound is above 10_000 bps or the change above
    ///      the maximum, maxCandidates, maxActive, unbondingEpochs or maxUnbondingEntries is zero,
    ///      maxActive is above maxCandidates, or maxPauseDuration is zero.
    constructor(Params memory p) {
        if (p.epochLength == 0) revert InvalidParameter("epochLength");
        if (p.minBond == 0 || p.minBond > p.maxBond) revert InvalidParameter("minBond");
        if (p.maxCommissionBps > RewardMath.BPS) revert InvalidParameter("maxCommissionBps");
        if (p.maxCommissionChangeBps > p.maxCommissionBps) revert InvalidParameter("maxCommissionChangeBps");
        if (p.maxCandidates == 0) revert InvalidParameter("maxCandidates");
        if (p.maxActive == 0 || p.maxActive > p.maxCandidates) revert InvalidParameter("maxActive");
        if (p.unbondingEpochs == 0) revert InvalidParameter("unbondingEpochs");
        if (p.maxUnbondingEntries == 0) revert InvalidParameter("maxUnbondingEntries");
        if (p.maxPauseDuration == 0) revert InvalidParameter("maxPauseDuration");
        paramsHash = keccak256(abi.encode(p));
        genesisTime = p.genesisTime;
        epochLength = p.epochLength;
        minBond = p.minBond;
        maxBond = p.maxBond;
        maxCommissionBps = p.maxCommissionBps;
        maxCommissionChangeBps = p.maxCommissionChangeBps;
        maxCandidates = p.maxCandidates;
        maxActive = p.maxActive;
        unbondingEpochs = p.unbondingEpochs;
        maxUnbondingEntries = p.maxUnbondingEntries;
        jailCooldownEpochs = p.jailCooldownEpochs;
        maxPauseDuration = p.maxPauseDuration;
        insuranceFund = p.insuranceFund;
    }

    // ================================================================ epochs
    /// @notice The current epoch: `(block.timestamp - genesisTime) / epochLength`.
    /// @return The epoch number.
    /// @dev Reverts with BeforeGenesis before `genesisTime`.
    function currentEpoch() public view returns (uint64) {
        // Epochs are spans of settlement-chain time by design; a proposer's few seconds of
        // timestamp leeway only move a boundary by as much.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < genesisTime) revert BeforeGenesis(genesisTime);
        return uint64((block.timestamp - genesisTime) / epochLength);
    }

    // ================================================================ shared views
    /// @notice The commission in force during `epoch`.
    /// @param id The sequencer.
    /// @param epoch The epoch.
    /// @return The commission in bps.
    function commissionAt(uint32 id, uint64 epoch) public view returns (uint16) {
        StakePoint memory point = _stakeAt(id, epoch);
        // In the epoch of registration (before any checkpoint counts) the registered commission.
        return point.epoch == 0 ? _sequencers[id].initialCommissionBps : point.commissionBps;
    }

    // ================================================================ shared internals
    function _latestShares(Delegation storage d) internal view returns (uint256) {
        if (d.count == 0) return d.shares;
        return d.changes[(d.head + d.count - 1) % MAX_PENDING_CHANGES].sharesAfter;
    }

    /// The account in `dst`'s pool that holds `owner`'s stake moved from `src` in `epoch`.
    function _positionKey(address owner, uint32 src, uint32 dst, uint64 epoch)
        internal
        pure
        returns (address)
    {
        return address(uint160(uint256(keccak256(abi.encode("seqstake.position", owner, src, dst, epoch)))));
    }

    function _trancheKey(uint32 src, uint64 epoch, uint32 dst) internal pure returns (bytes32) {
        return keccak256(abi.encode(src, epoch, dst));
    }

    /// Records that pool `id` changed in `epoch`: the first change of the epoch pays for the slot
    /// that will hold the accumulator after `epoch` (A(epoch)) and queues the epoch for crediting.
    function _markChange(uint32 id, uint64 epoch) internal {
        Pool storage p = _pools[id];
        if (p.changedEnd == epoch + 1) return;
        p.changedEnd = epoch + 1;
        _accAfterChange[id][epoch] = 1;
        _changeEpochs[id][p.changesTail] = epoch;
        p.changesTail += 1;
    }

    // ================================================================ internal: stake
    /// Writes the sequencer's live stake as the checkpoint counting from the next epoch.
    function _checkpoint(uint32 id) internal {
        Sequencer storage s = _sequencers[id];
        Pool storage p = _pools[id];
        uint64 key = currentEpoch() + 1;
        StakePoint memory point = StakePoint({
            epoch: key,
            commissionBps: s.commissionBps,
            shares: SafeCast.toUint176(p.shares),
            bond: SafeCast.toUint128(s.status == Status.Registered ? s.bond : 0),
            tokens: SafeCast.toUint128(p.tokens)
        });
        StakePoint[] storage points = _stake[id];
        uint256 n = points.length;
        if (n > 0 && points[n - 1].epoch == key) points[n - 1] = point;
        else points.push(point);
    }

    function _stakeAt(uint32 id, uint64 epoch) internal view returns (StakePoint memory point) {
        StakePoint[] storage points = _stake[id];
        uint256 high = points.length;
        if (high == 0) return point;
        if (points[high - 1].epoch <= epoch) return points[high - 1];
        uint256 low;
        // Find the first point after `epoch`; the one before it counts.
        while (low < high) {
            uint256 mid = Math.average(low, high);
            if (points[mid].epoch > epoch) high = mid;
            else low = mid + 1;
        }
        if (high > 0) point = points[high - 1];
    }

    /// Refuses while a slash of `id` is under way (its pool and tranches are frozen).
    function _notSlashing(uint32 id) internal view {
        if (_pendingSlash.id == id) revert SlashInProgress(id);
    }

    function _liveStake(uint32 id) internal view returns (uint256) {
        return _sequencers[id].bond + _pools[id].tokens;
    }

    function _eligible(uint32 id) internal view returns (bool) {
        Sequencer storage s = _sequencers[id];
        return s.status == Status.Registered && !s.jailed && s.bond >= minBond;
    }

    function _jail(uint32 id, JailReason reason) internal {
        Sequencer storage s = _sequencers[id];
        uint64 until = currentEpoch() + jailCooldownEpochs;
        s.jailed = true;
        s.unjailEpoch = until;
        emit Jailed(id, reason, until);
    }

    function _send(address to, uint256 amount) internal {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
