// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title SequencerRegistry
/// @notice Sequencer registration and the operator bond (the first-loss tranche): register
///         with a bond within [minBond, maxBond], rotate the signer, change commission within
///         bounds (effective from the next epoch), add to the bond, exit and withdraw the bond
///         after unbonding. Every stake change takes effect at the next epoch boundary and is
///         checkpointed per epoch (one write per sequencer per epoch), so rewards and slashes of
///         epoch e read epoch e's stake on chain exactly as the Rust side does.
/// @dev First slice of "Contracts I": delegation pools, rewards, jailing and slashing build on
///      the epoch clock and checkpoints defined here. Internal accounting only: the contract never
///      reads its own balance to decide anything.
contract SequencerRegistry is AccessControl, ReentrancyGuard {
    using Checkpoints for Checkpoints.Trace208;

    // ---------------------------------------------------------------- constants
    uint256 internal constant BPS = 10_000;

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
        uint32 unbondingEpochs;
    }

    /// @notice Lifecycle of a sequencer.
    enum Status {
        None,
        Registered,
        Exiting,
        Exited
    }

    struct Sequencer {
        address operator;
        address signer;
        address rewardRecipient;
        Status status;
        uint16 commissionBps;
        uint16 pendingCommissionBps;
        uint64 commissionEffectiveEpoch;
        uint64 exitCompletionEpoch;
        /// The bond as it stands after all changes (the checkpoint says from which epoch).
        uint256 bond;
    }

    // ---------------------------------------------------------------- storage
    uint64 public immutable genesisTime;
    uint64 public immutable epochLength;
    uint256 public immutable minBond;
    uint256 public immutable maxBond;
    uint16 public immutable maxCommissionBps;
    uint16 public immutable maxCommissionChangeBps;
    uint32 public immutable maxCandidates;
    uint32 public immutable unbondingEpochs;

    /// @notice Number of sequencers ever registered; ids run from 1.
    uint32 public sequencerCount;
    /// @notice Registered or exiting sequencers (the candidates).
    uint32 public candidateCount;
    /// @notice Sum of all bonds held (internal accounting).
    uint256 public totalBonded;

    mapping(uint32 id => Sequencer) internal _sequencers;
    mapping(uint32 id => Checkpoints.Trace208) internal _bondAt;
    mapping(address operator => uint32 id) public sequencerOfOperator;
    mapping(address signer => uint32 id) public sequencerOfSigner;

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

    // ---------------------------------------------------------------- errors
    /// @dev A parameter is outside its allowed range (name given).
    error InvalidParameter(string name);
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
    /// @dev The sequencer is not in the status the call needs.
    error WrongStatus(uint32 id, Status status);
    /// @dev Unbonding has not finished.
    error StillUnbonding(uint32 id, uint64 completionEpoch, uint64 currentEpoch);
    /// @dev The native transfer failed.
    error TransferFailed(address to, uint256 amount);
    /// @dev Before genesis there is no epoch.
    error BeforeGenesis(uint64 genesisTime);

    // ---------------------------------------------------------------- modifiers
    modifier onlyOperator(uint32 id) {
        if (_sequencers[id].operator != msg.sender) revert NotOperator(id, msg.sender);
        _;
    }

    // ---------------------------------------------------------------- external
    /// @param p The parameters.
    /// @param admin DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with ZeroAddress if `admin` is zero; with InvalidParameter naming the
    ///      parameter if epochLength is zero, minBond is zero or above maxBond, a commission bound
    ///      is above 10_000 bps or the change above the maximum, maxCandidates or unbondingEpochs is zero.
    constructor(Params memory p, address admin) {
        if (admin == address(0)) revert ZeroAddress();
        if (p.epochLength == 0) revert InvalidParameter("epochLength");
        if (p.minBond == 0 || p.minBond > p.maxBond) revert InvalidParameter("minBond");
        if (p.maxCommissionBps > BPS) revert InvalidParameter("maxCommissionBps");
        if (p.maxCommissionChangeBps > p.maxCommissionBps) revert InvalidParameter("maxCommissionChangeBps");
        if (p.maxCandidates == 0) revert InvalidParameter("maxCandidates");
        if (p.unbondingEpochs == 0) revert InvalidParameter("unbondingEpochs");
        genesisTime = p.genesisTime;
        epochLength = p.epochLength;
        minBond = p.minBond;
        maxBond = p.maxBond;
        maxCommissionBps = p.maxCommissionBps;
        maxCommissionChangeBps = p.maxCommissionChangeBps;
        maxCandidates = p.maxCandidates;
        unbondingEpochs = p.unbondingEpochs;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

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

    /// @notice Registers the caller as the operator of a new sequencer, bonding `msg.value`.
    /// @param signer The key that signs the sequencer's blocks.
    /// @param rewardRecipient Receives the operator's commission and bond rewards.
    /// @param commissionBps Commission on the sequencer's rewards.
    /// @return id The new sequencer's id.
    /// @dev Reverts with BondOutOfRange if `msg.value` is outside [minBond, maxBond]; with
    ///      ZeroAddress if `signer` or `rewardRecipient` is zero; with CommissionTooHigh above
    ///      maxCommissionBps; with OperatorAlreadyRegistered or SignerInUse on reuse; with
    ///      TooManyCandidates when maxCandidates are registered; with BeforeGenesis before genesis.
    function register(address signer, address rewardRecipient, uint16 commissionBps)
        external
        payable
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
        if (candidateCount >= maxCandidates) revert TooManyCandidates(maxCandidates);

        uint64 effective = currentEpoch() + 1;
        id = ++sequencerCount;
        candidateCount += 1;
        totalBonded += msg.value;
        _sequencers[id] = Sequencer({
            operator: msg.sender,
            signer: signer,
            rewardRecipient: rewardRecipient,
            status: Status.Registered,
            commissionBps: commissionBps,
            pendingCommissionBps: commissionBps,
            commissionEffectiveEpoch: 0,
            exitCompletionEpoch: 0,
            bond: msg.value
        });
        sequencerOfOperator[msg.sender] = id;
        sequencerOfSigner[signer] = id;
        _bondAt[id].push(SafeCast.toUint48(effective), SafeCast.toUint208(msg.value));
        emit SequencerRegistered(id, msg.sender, signer, rewardRecipient, commissionBps, msg.value, effective);
    }

    /// @notice Replaces the sequencer's block-signing key.
    /// @param id The sequencer.
    /// @param newSigner The new key.
    /// @dev Reverts with NotOperator for anyone but the operator; with ZeroAddress for a zero
    ///      key; with SignerInUse if the key belongs to a sequencer; with WrongStatus once exited.
    function rotateSigner(uint32 id, address newSigner) external onlyOperator(id) {
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
    function setRewardRecipient(uint32 id, address rewardRecipient) external onlyOperator(id) {
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
    function setCommission(uint32 id, uint16 newBps) external onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        if (newBps > maxCommissionBps) revert CommissionTooHigh(newBps, maxCommissionBps);
        uint64 epoch = currentEpoch();
        uint16 inForce = _commissionAt(s, epoch);
        uint16 change = newBps > inForce ? newBps - inForce : inForce - newBps;
        if (change > maxCommissionChangeBps) {
            revert CommissionChangeTooLarge(inForce, newBps, maxCommissionChangeBps);
        }
        s.commissionBps = inForce;
        s.pendingCommissionBps = newBps;
        s.commissionEffectiveEpoch = epoch + 1;
        emit CommissionChangeScheduled(id, inForce, newBps, epoch + 1);
    }

    /// @notice Adds `msg.value` to the operator bond, effective from the next epoch.
    /// @param id The sequencer.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless
    ///      registered; with BondOutOfRange if the bond would exceed maxBond or nothing is sent.
    function addBond(uint32 id) external payable onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        uint256 bond = s.bond + msg.value;
        if (msg.value == 0 || bond > maxBond) revert BondOutOfRange(bond, minBond, maxBond);
        s.bond = bond;
        totalBonded += msg.value;
        uint64 effective = currentEpoch() + 1;
        _bondAt[id].push(SafeCast.toUint48(effective), SafeCast.toUint208(bond));
        emit BondAdded(id, msg.value, bond, effective);
    }

    /// @notice Starts the operator's exit: from the next epoch the sequencer has no bond and is
    ///         no candidate; the bond can be withdrawn after the unbonding period.
    /// @param id The sequencer.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless registered.
    function exit(uint32 id) external onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Registered) revert WrongStatus(id, s.status);
        uint64 effective = currentEpoch() + 1;
        uint64 completion = effective + unbondingEpochs;
        s.status = Status.Exiting;
        s.exitCompletionEpoch = completion;
        _bondAt[id].push(SafeCast.toUint48(effective), 0);
        emit ExitStarted(id, s.bond, completion);
    }

    /// @notice Withdraws an exited sequencer's bond to `to` once unbonding has finished. Never
    ///         paused.
    /// @param id The sequencer.
    /// @param to The recipient.
    /// @dev Reverts with NotOperator for anyone but the operator; with WrongStatus unless
    ///      exiting; with StillUnbonding before the completion epoch; with ZeroAddress for a zero
    ///      recipient; with TransferFailed if `to` refuses the transfer.
    function withdrawBond(uint32 id, address to) external nonReentrant onlyOperator(id) {
        Sequencer storage s = _sequencers[id];
        if (s.status != Status.Exiting) revert WrongStatus(id, s.status);
        uint64 epoch = currentEpoch();
        if (epoch < s.exitCompletionEpoch) revert StillUnbonding(id, s.exitCompletionEpoch, epoch);
        if (to == address(0)) revert ZeroAddress();
        uint256 amount = s.bond;
        s.bond = 0;
        s.status = Status.Exited;
        totalBonded -= amount;
        candidateCount -= 1;
        delete sequencerOfSigner[s.signer];
        delete sequencerOfOperator[s.operator];
        emit BondWithdrawn(id, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    /// @notice A sequencer's registration.
    /// @param id The sequencer.
    /// @return The stored record (commissionBps is the one in force before any scheduled change).
    function sequencer(uint32 id) external view returns (Sequencer memory) {
        return _sequencers[id];
    }

    /// @notice The bond that counts for `epoch` (the checkpoint of that epoch).
    /// @param id The sequencer.
    /// @param epoch The epoch.
    /// @return The bond in wei.
    function bondAt(uint32 id, uint64 epoch) external view returns (uint256) {
        return _bondAt[id].upperLookup(SafeCast.toUint48(epoch));
    }

    /// @notice The commission in force during `epoch`.
    /// @param id The sequencer.
    /// @param epoch The epoch (current or later; earlier epochs read the latest two values only).
    /// @return The commission in bps.
    function commissionAt(uint32 id, uint64 epoch) external view returns (uint16) {
        return _commissionAt(_sequencers[id], epoch);
    }

    // ---------------------------------------------------------------- internal
    function _commissionAt(Sequencer storage s, uint64 epoch) internal view returns (uint16) {
        return epoch >= s.commissionEffectiveEpoch ? s.pendingCommissionBps : s.commissionBps;
    }
}
