// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {RewardMath} from "./libraries/RewardMath.sol";
import {ISlashProposalListener} from "./interfaces/ISlashProposalListener.sol";
import {RegistryCore} from "./registry/RegistryCore.sol";
import {IMinDelay, SequencerRegistry} from "./SequencerRegistry.sol";

/// @title SlashingManager
/// @notice The slashing path in front of the registry: a verifier proposes (sequencer,
///         infraction epoch, kind, evidence hash, fraction); during the veto window the guardian
///         may veto; after it anyone executes, and the manager calls `registry.slash`, which
///         takes the amount from the bond first, then the pool, the unbonding buckets and the
///         tranches at stake then, and sends the proceeds to the insurance fund or burns them,
///         never to the proposer or the executor. The manager holds no funds.
/// @dev Rules, all in epochs of the registry's clock (`registry.currentEpoch()`):
///      - Evidence age: a proposal needs `infractionEpoch <= current` and
///        `infractionEpoch + unbondingEpochs - vetoWindowEpochs >= current`, so that when the
///        veto window has passed the registry (which accepts infractions up to `unbondingEpochs`
///        old) still accepts it.
///      - Deduplication: one proposal per (sequencer, infraction epoch, kind), ever. A vetoed or
///        expired proposal keeps its key, so a verifier cannot resubmit the same evidence after
///        a veto (an expired one could not pass the age rule anyway).
///      - Cap per period: the period of a proposal is `infractionEpoch / periodEpochs` (the
///        infraction's period, not the execution's, so delaying or spreading executions cannot
///        reset the cap). The fractions executed for one sequencer within one period sum to at
///        most `maxPerPeriodBps`. An execution that would pass the cap is clamped to what
///        remains (the event reports both the proposed and the applied fraction); with nothing
///        remaining it closes as Executed with zero applied and does not call the registry. A
///        proposal for a period whose cap is already used is refused.
///      - Expiry: a pending proposal can execute until `infractionEpoch + unbondingEpochs`;
///        after that `execute` reverts with ProposalExpired and anyone may close it with
///        `expire`.
///      - Execution in bounded calls: the registry takes a slash over as many calls as the
///        redelegation tranches it reaches need (each fits a block). A proposal whose slash has
///        begun but not ended is Executing: it cannot expire, `execute` carries its slash on
///        (anyone may call it), and it becomes Executed, with SlashExecuted and the listener's
///        resolution, in the call that ends it. While one slash is under way no other proposal
///        can execute (the registry refuses a second slash). The manager must be the registry's
///        only slasher.
///      Parameters are immutable: changing them means deploying a new manager and moving the
///      registry's SLASHER_ROLE to it through the timelock.
contract SlashingManager is AccessControl, ReentrancyGuard {
    // ---------------------------------------------------------------- constants
    /// @notice Proposes slashes (the off-chain fault verifier).
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice Vetoes slashes within the veto window.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    // ---------------------------------------------------------------- types
    /// @notice Parameters fixed at deployment (config `[slashing]`).
    struct Params {
        /// Epochs between a proposal and its execution, during which the guardian may veto.
        uint32 vetoWindowEpochs;
        /// Largest fraction one proposal may slash.
        uint16 maxFractionBps;
        /// Largest sum of executed fractions for one sequencer within one period.
        uint16 maxPerPeriodBps;
        /// Length of a period, in epochs.
        uint32 periodEpochs;
    }

    /// @notice Lifecycle of a proposal.
    enum State {
        None,
        Pending,
        Vetoed,
        Executed,
        Expired,
        /// Its slash began and has not ended: `execute` carries it on.
        Executing
    }

    /// @notice A slash proposal.
    struct Proposal {
        uint32 sequencerId;
        /// The verifier's fault class; opaque to the contract, part of the deduplication key.
        uint8 kind;
        State state;
        /// The fraction proposed.
        uint16 fractionBps;
        /// The fraction applied after the cap (set on execution).
        uint16 appliedBps;
        uint64 infractionEpoch;
        uint64 proposedEpoch;
        address proposer;
        bytes32 evidenceHash;
        /// The slash amount `registry.slash` returned: taken plus any shortfall (set on execution).
        uint256 amount;
    }

    // ---------------------------------------------------------------- immutables
    /// @notice The registry this manager slashes through (needs its SLASHER_ROLE).
    SequencerRegistry public immutable registry;
    /// @notice The registry's unbonding period, read once at deployment.
    uint32 public immutable unbondingEpochs;
    /// @notice Epochs between a proposal and its execution (the guardian's veto window).
    uint32 public immutable vetoWindowEpochs;
    /// @notice Largest fraction one proposal may slash.
    uint16 public immutable maxFractionBps;
    /// @notice Largest sum of executed fractions for one sequencer within one period.
    uint16 public immutable maxPerPeriodBps;
    /// @notice Length of a cap period, in epochs.
    uint32 public immutable periodEpochs;

    // ---------------------------------------------------------------- storage
    /// @notice Number of proposals ever made; ids run from 1.
    uint256 public proposalCount;
    mapping(uint256 proposalId => Proposal) internal _proposals;
    /// @notice The proposal of each (sequencer, infraction epoch, kind) key, or 0.
    mapping(bytes32 key => uint256 proposalId) internal _proposalOfKey;
    /// @notice The fractions executed for a sequencer in a period (see the contract notes).
    mapping(uint32 sequencerId => mapping(uint64 period => uint16 bps)) public usedBps;
    /// @notice Pending proposals per sequencer.
    mapping(uint32 sequencerId => uint256 count) public pendingProposals;
    mapping(uint32 sequencerId => uint256 bps) internal _pendingFractionBps;

    // ---------------------------------------------------------------- events
    event SlashProposed(
        uint256 indexed proposalId,
        uint32 indexed sequencerId,
        uint64 indexed infractionEpoch,
        uint8 kind,
        bytes32 evidenceHash,
        uint16 fractionBps,
        address proposer,
        uint64 executableEpoch
    );
    event SlashVetoed(uint256 indexed proposalId, uint32 indexed sequencerId, address guardian);
    /// @notice `appliedBps` is `fractionBps` clamped by the period cap; `amount` is what
    ///         `registry.slash` returned, taken plus any shortfall (0 when nothing was applied).
    event SlashExecuted(
        uint256 indexed proposalId,
        uint32 indexed sequencerId,
        uint64 indexed period,
        uint16 fractionBps,
        uint16 appliedBps,
        uint256 amount
    );
    event SlashExpired(uint256 indexed proposalId, uint32 indexed sequencerId);

    // ---------------------------------------------------------------- errors
    /// @dev A zero address where one is required.
    error ZeroAddress();
    /// @dev The registry is not a contract.
    error RegistryNotContract(address registry);
    /// @dev The admin is not a contract with a timelock delay.
    error AdminNotTimelock(address admin);
    /// @dev The admin's delay is shorter than the longest exit.
    error AdminDelayTooShort(uint256 delay, uint256 required);
    /// @dev A parameter is outside its allowed range (name given).
    error InvalidParameter(string name);
    /// @dev No such sequencer in the registry.
    error UnknownSequencer(uint32 sequencerId);
    /// @dev The fraction is outside 1..=maxFractionBps.
    error InvalidFraction(uint16 fractionBps, uint16 maxFractionBps);
    /// @dev The evidence hash is zero.
    error ZeroEvidence();
    /// @dev The infraction epoch has not started.
    error InfractionInFuture(uint64 infractionEpoch, uint64 currentEpoch);
    /// @dev The infraction is older than `unbondingEpochs - vetoWindowEpochs` epochs.
    error EvidenceTooOld(uint64 infractionEpoch, uint64 currentEpoch, uint32 maxAgeEpochs);
    /// @dev A proposal for this (sequencer, infraction epoch, kind) exists (in any state).
    error AlreadyProposed(uint32 sequencerId, uint64 infractionEpoch, uint8 kind, uint256 proposalId);
    /// @dev The sequencer's cap for the infraction's period is used up.
    error PeriodCapReached(uint32 sequencerId, uint64 period, uint16 usedBps);
    /// @dev The proposal is not pending (None for an unknown id).
    error NotPending(uint256 proposalId, State state);
    /// @dev The veto window has ended.
    error VetoWindowClosed(uint256 proposalId, uint64 executableEpoch, uint64 currentEpoch);
    /// @dev The veto window has not ended.
    error VetoWindowOpen(uint256 proposalId, uint64 executableEpoch, uint64 currentEpoch);
    /// @dev The registry would no longer accept the infraction (past `lastEpoch`).
    error ProposalExpired(uint256 proposalId, uint64 lastEpoch, uint64 currentEpoch);
    /// @dev The proposal can still execute (until `lastEpoch`).
    error NotExpired(uint256 proposalId, uint64 lastEpoch, uint64 currentEpoch);

    // ---------------------------------------------------------------- constructor
    /// @param registry_ The SequencerRegistry; grant this manager its SLASHER_ROLE afterwards.
    /// @param p The parameters.
    /// @param admin DEFAULT_ADMIN_ROLE: a timelock whose minimum delay is at least
    ///        `(unbondingEpochs + 1) * epochLength`, as the registry requires of its own.
    /// @dev Reverts with ZeroAddress if `registry_` or `admin` is zero; with RegistryNotContract
    ///      if the registry has no code; with AdminNotTimelock if the admin has no code; with
    ///      AdminDelayTooShort if its delay is too short; with InvalidParameter naming
    ///      maxFractionBps (outside 1..=10_000), maxPerPeriodBps (below maxFractionBps or above
    ///      10_000), periodEpochs (zero) or vetoWindowEpochs (zero, or not below the registry's
    ///      unbondingEpochs).
    constructor(address registry_, Params memory p, address admin) {
        if (registry_ == address(0) || admin == address(0)) revert ZeroAddress();
        if (registry_.code.length == 0) revert RegistryNotContract(registry_);
        if (admin.code.length == 0) revert AdminNotTimelock(admin);
        SequencerRegistry r = SequencerRegistry(registry_);
        uint32 unbonding = r.unbondingEpochs();
        uint256 required = (uint256(unbonding) + 1) * r.epochLength();
        uint256 delay = IMinDelay(admin).getMinDelay();
        if (delay < required) revert AdminDelayTooShort(delay, required);
        if (p.maxFractionBps == 0 || p.maxFractionBps > RewardMath.BPS) {
            revert InvalidParameter("maxFractionBps");
        }
        if (p.maxPerPeriodBps < p.maxFractionBps || p.maxPerPeriodBps > RewardMath.BPS) {
            revert InvalidParameter("maxPerPeriodBps");
        }
        if (p.periodEpochs == 0) revert InvalidParameter("periodEpochs");
        if (p.vetoWindowEpochs == 0 || p.vetoWindowEpochs >= unbonding) {
            revert InvalidParameter("vetoWindowEpochs");
        }
        registry = r;
        unbondingEpochs = unbonding;
        vetoWindowEpochs = p.vetoWindowEpochs;
        maxFractionBps = p.maxFractionBps;
        maxPerPeriodBps = p.maxPerPeriodBps;
        periodEpochs = p.periodEpochs;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ================================================================ proposals
    /// @notice Proposes slashing `fractionBps` of the sequencer's stake at `infractionEpoch`.
    ///         It becomes executable `vetoWindowEpochs` after the current epoch. The key
    ///         (sequencer, infraction epoch, kind) is used for good, even if the proposal is later
    ///         vetoed or expires: the same evidence cannot be proposed again.
    /// @param sequencerId The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param kind The fault class (opaque; part of the deduplication key).
    /// @param evidenceHash A commitment to the evidence, nonzero.
    /// @param fractionBps The fraction, 1..=maxFractionBps.
    /// @return proposalId The new proposal's id.
    /// @dev Reverts with AccessControlUnauthorizedAccount without VERIFIER_ROLE; with
    ///      UnknownSequencer for an id the registry never registered; with InvalidFraction
    ///      outside 1..=maxFractionBps; with ZeroEvidence for a zero hash; with
    ///      InfractionInFuture for an epoch after the current one; with EvidenceTooOld when
    ///      `infractionEpoch + unbondingEpochs - vetoWindowEpochs < currentEpoch`; with
    ///      AlreadyProposed when the key was used; with PeriodCapReached when the period's cap is
    ///      used up; with BeforeGenesis (from the registry) before genesis.
    function propose(
        uint32 sequencerId,
        uint64 infractionEpoch,
        uint8 kind,
        bytes32 evidenceHash,
        uint16 fractionBps
    ) external onlyRole(VERIFIER_ROLE) nonReentrant returns (uint256 proposalId) {
        if (registry.sequencer(sequencerId).status == RegistryCore.Status.None) {
            revert UnknownSequencer(sequencerId);
        }
        if (fractionBps == 0 || fractionBps > maxFractionBps) {
            revert InvalidFraction(fractionBps, maxFractionBps);
        }
        if (evidenceHash == bytes32(0)) revert ZeroEvidence();
        uint64 epoch = registry.currentEpoch();
        if (infractionEpoch > epoch) revert InfractionInFuture(infractionEpoch, epoch);
        if (uint256(infractionEpoch) + unbondingEpochs - vetoWindowEpochs < epoch) {
            revert EvidenceTooOld(infractionEpoch, epoch, unbondingEpochs - vetoWindowEpochs);
        }
        bytes32 key = proposalKey(sequencerId, infractionEpoch, kind);
        uint256 existing = _proposalOfKey[key];
        if (existing != 0) revert AlreadyProposed(sequencerId, infractionEpoch, kind, existing);
        uint64 period = periodOf(infractionEpoch);
        uint16 used = usedBps[sequencerId][period];
        if (used >= maxPerPeriodBps) revert PeriodCapReached(sequencerId, period, used);

        proposalId = ++proposalCount;
        _proposalOfKey[key] = proposalId;
        _proposals[proposalId] = Proposal({
            sequencerId: sequencerId,
            kind: kind,
            state: State.Pending,
            fractionBps: fractionBps,
            appliedBps: 0,
            infractionEpoch: infractionEpoch,
            proposedEpoch: epoch,
            proposer: msg.sender,
            evidenceHash: evidenceHash,
            amount: 0
        });
        pendingProposals[sequencerId] += 1;
        _pendingFractionBps[sequencerId] += fractionBps;
        emit SlashProposed(
            proposalId,
            sequencerId,
            infractionEpoch,
            kind,
            evidenceHash,
            fractionBps,
            msg.sender,
            epoch + vetoWindowEpochs
        );
        address listener = registry.slashListener();
        if (listener != address(0)) {
            ISlashProposalListener(listener)
                .onSlashProposed(proposalId, sequencerId, infractionEpoch, fractionBps);
        }
    }

    /// @notice Vetoes a pending proposal during its veto window. Its key stays used.
    /// @param proposalId The proposal.
    /// @dev Reverts with AccessControlUnauthorizedAccount without GUARDIAN_ROLE; with NotPending
    ///      unless the proposal is pending; with VetoWindowClosed from its executable epoch on.
    function veto(uint256 proposalId) external onlyRole(GUARDIAN_ROLE) nonReentrant {
        Proposal storage p = _pending(proposalId);
        uint64 epoch = registry.currentEpoch();
        uint64 executable = p.proposedEpoch + vetoWindowEpochs;
        if (epoch >= executable) revert VetoWindowClosed(proposalId, executable, epoch);
        p.state = State.Vetoed;
        _unpend(p);
        emit SlashVetoed(proposalId, p.sequencerId, msg.sender);
        _resolved(proposalId);
    }

    /// @notice Executes a pending proposal once its veto window has passed: applies the
    ///         fraction, clamped to what the period cap leaves, through `registry.slash`; or, for
    ///         an Executing proposal, carries its slash on with `registry.continueSlash`. Anyone
    ///         may call it; the proceeds go to the registry's insurance fund or are burned.
    /// @param proposalId The proposal.
    /// @return amount The slash amount `registry.slash` returned, taken plus any shortfall (0 when
    ///         the cap left nothing).
    /// @dev Reverts with NotPending unless the proposal is pending or executing; with
    ///      VetoWindowOpen before its executable epoch; with ProposalExpired after
    ///      `infractionEpoch + unbondingEpochs` (close it with `expire`); with the registry's
    ///      error if `registry.slash` reverts (SlashInProgress while another proposal's slash is
    ///      under way; AccessControlUnauthorizedAccount when this manager lacks SLASHER_ROLE),
    ///      the proposal then staying pending.
    function execute(uint256 proposalId) external nonReentrant returns (uint256 amount) {
        Proposal storage p = _proposals[proposalId];
        if (p.state == State.Executing) {
            // Its slash is the one under way (no other can start before it ends).
            if (registry.pendingSlash().id == 0 || registry.continueSlash()) _executed(proposalId, p);
            return p.amount;
        }
        p = _pending(proposalId);
        uint64 epoch = registry.currentEpoch();
        uint64 executable = p.proposedEpoch + vetoWindowEpochs;
        if (epoch < executable) revert VetoWindowOpen(proposalId, executable, epoch);
        uint64 last = p.infractionEpoch + unbondingEpochs;
        if (epoch > last) revert ProposalExpired(proposalId, last, epoch);

        uint32 sequencerId = p.sequencerId;
        uint64 period = periodOf(p.infractionEpoch);
        uint16 used = usedBps[sequencerId][period];
        uint16 remaining = maxPerPeriodBps - used;
        uint16 applied = p.fractionBps < remaining ? p.fractionBps : remaining;
        p.state = State.Executing;
        p.appliedBps = applied;
        usedBps[sequencerId][period] = used + applied;
        _unpend(p);
        bool done = true;
        if (applied > 0) {
            (amount, done) = registry.slash(sequencerId, p.infractionEpoch, applied);
            p.amount = amount;
        }
        if (done) _executed(proposalId, p);
    }

    /// @notice Closes a pending proposal that the registry would no longer accept (the
    ///         current epoch is past `infractionEpoch + unbondingEpochs`). Anyone may call it.
    /// @param proposalId The proposal.
    /// @dev Reverts with NotPending unless the proposal is pending; with NotExpired while it can
    ///      still execute.
    function expire(uint256 proposalId) external nonReentrant {
        Proposal storage p = _pending(proposalId);
        uint64 epoch = registry.currentEpoch();
        uint64 last = p.infractionEpoch + unbondingEpochs;
        if (epoch <= last) revert NotExpired(proposalId, last, epoch);
        p.state = State.Expired;
        _unpend(p);
        emit SlashExpired(proposalId, p.sequencerId);
        _resolved(proposalId);
    }

    // ================================================================ views
    /// @notice A proposal as stored.
    /// @param proposalId The proposal.
    /// @return The proposal (all zero for an unknown id).
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    /// @notice A proposal's state now: a pending one past its last epoch reads Expired even
    ///         before `expire` records it.
    /// @param proposalId The proposal.
    /// @return The state.
    /// @dev Reverts with BeforeGenesis (from the registry) before genesis.
    function stateOf(uint256 proposalId) external view returns (State) {
        Proposal storage p = _proposals[proposalId];
        if (p.state == State.Pending && registry.currentEpoch() > p.infractionEpoch + unbondingEpochs) {
            return State.Expired;
        }
        return p.state;
    }

    /// @notice The first epoch in which the proposal can execute (and the guardian no longer veto).
    /// @param proposalId The proposal.
    /// @return The epoch (vetoWindowEpochs for an unknown id).
    function executableEpoch(uint256 proposalId) external view returns (uint64) {
        return _proposals[proposalId].proposedEpoch + vetoWindowEpochs;
    }

    /// @notice The last epoch in which the proposal can execute.
    /// @param proposalId The proposal.
    /// @return The epoch (unbondingEpochs for an unknown id).
    function lastEpoch(uint256 proposalId) external view returns (uint64) {
        return _proposals[proposalId].infractionEpoch + unbondingEpochs;
    }

    /// @notice The proposal made for a (sequencer, infraction epoch, kind) key.
    /// @param sequencerId The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param kind The fault class.
    /// @return The proposal id, or 0 if none was made.
    function proposalIdOf(uint32 sequencerId, uint64 infractionEpoch, uint8 kind)
        external
        view
        returns (uint256)
    {
        return _proposalOfKey[proposalKey(sequencerId, infractionEpoch, kind)];
    }

    /// @notice The sum of the fractions of the sequencer's pending proposals, for the liquid
    ///         token's bunker mode. An upper bound on what they can slash, in bps of the stake at
    ///         their infraction epochs (the period cap may clamp them; a vetoed one takes nothing).
    ///         A proposal past its last epoch counts until `expire` closes it.
    /// @param sequencerId The sequencer.
    /// @return The sum in bps (may exceed 10_000 across periods).
    function pendingFractionBps(uint32 sequencerId) external view returns (uint256) {
        return _pendingFractionBps[sequencerId];
    }

    /// @notice The period a proposal counts in: `infractionEpoch / periodEpochs`.
    /// @param infractionEpoch The epoch of the fault.
    /// @return The period index.
    function periodOf(uint64 infractionEpoch) public view returns (uint64) {
        return infractionEpoch / periodEpochs;
    }

    /// @notice The deduplication key of a proposal.
    /// @param sequencerId The sequencer.
    /// @param infractionEpoch The epoch of the fault.
    /// @param kind The fault class.
    /// @return keccak256 of the three, ABI-encoded.
    function proposalKey(uint32 sequencerId, uint64 infractionEpoch, uint8 kind)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(sequencerId, infractionEpoch, kind));
    }

    // ================================================================ internal
    function _pending(uint256 proposalId) internal view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.state != State.Pending) revert NotPending(proposalId, p.state);
    }

    /// Tells the registry's slash listener (the liquid token) that a proposal is resolved.
    function _resolved(uint256 proposalId) internal {
        address listener = registry.slashListener();
        if (listener != address(0)) ISlashProposalListener(listener).onSlashResolved(proposalId);
    }

    /// Closes a proposal whose slash has ended.
    function _executed(uint256 proposalId, Proposal storage p) internal {
        p.state = State.Executed;
        emit SlashExecuted(
            proposalId, p.sequencerId, periodOf(p.infractionEpoch), p.fractionBps, p.appliedBps, p.amount
        );
        _resolved(proposalId); // after the registry booked the loss with the listener
    }

    function _unpend(Proposal storage p) internal {
        uint32 sequencerId = p.sequencerId;
        pendingProposals[sequencerId] -= 1;
        _pendingFractionBps[sequencerId] -= p.fractionBps;
    }
}
