// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReportConsensus} from "./ReportConsensus.sol";
import {ReportTypes} from "./interfaces/ReportTypes.sol";
import {RewardMath} from "./libraries/RewardMath.sol";
import {SequencerRegistry} from "./SequencerRegistry.sol";
import {LiquidStakingToken} from "./LiquidStakingToken.sol";
import {WithdrawalQueue} from "./WithdrawalQueue.sol";
import {FeeVault} from "./FeeVault.sol";
import {EmissionReserve} from "./EmissionReserve.sol";

/// @title ReportExecutor
/// @notice The report contract: the oracle members agree on a report's hash (ReportConsensus,
///         k of n with k > n/2) and anyone may then execute it with the data, one step per
///         call (`execute`), so that the largest report fits a block (docs/CONTRACTS.md):
///         1. the first call checks the whole report, and everything a later call could refuse
///            by the report's own content: per epoch, the epochs continue the last report; each
///            served chain is listed with its configured partner terms and its share is
///            `RewardMath.partnerShare` of its inputs; the protocol fee is exact; the emission
///            is drawn from the reserve (which enforces its schedule and its balance); dust
///            carried in is the dust carried out before; inputs + dustIn == shares + fee +
///            rewards + dustOut; sequencer ids are registered; the allocation's ids increase;
///            every list is within the bounds that keep each call in a block. It draws each
///            chain's revenue from its vault (never more than arrived), credits partners and the
///            treasury (fee, jailed sequencers' parts) as pull payments, and emits the whole
///            report (`ReportInputs`), so `verify` needs no archive node;
///         2. that call and each next one pay `SEQUENCERS_PER_CALL` sequencers (by id) through
///            `registry.distributeRewardsPart`, and jail those past the downtime threshold over
///            the report's epochs;
///         3. the next call is the pool's harvest (`harvestStep`): matured buckets back in the
///            buffer, the harvest (exactly the report's `poolRewards` claimed; what joins the
///            pool is capped so that the rate rises at most `maxRateAprBps` a year over the
///            epochs since the last harvest, at most `maxEpochsPerReport`, and the rest is
///            carried to later harvests), the finalization batches;
///         4. the last call is the pool's moves (`moveStep`): releases of matured
///            redelegations, stake moves to the allocation (decreases paired with increases by
///            redelegation, the remaining increases from the buffer, the remaining decreases
///            undelegated: this is how a report undelegates for the queue, and the token
///            refuses more than the queue lacks for an active sequencer), at most
///            `maxMovesPerReport` (skipped while the registry is paused); then the active set
///            from the next epoch (checked by the registry against the stake the moves left; a
///            refused set is an event, and anyone may then submit the right one until the next
///            report).
///         Each pool step runs whole or not at all: a refusal is the event `LiquidStepFailed`
///         (a refused harvest also skips the moves), the payments stand, and the next report
///         harvests what this one left. The harvest raises the share rate at most by the bound
///         plus the instant-exit fees joining with it; finalization may raise it (tickets take at
///         most their value at request), never lower it; the moves leave it as it was. Each
///         beyond a wei of registry rounding per move, release or bucket. Outside reports the rate falls only by a slash the registry reports to the
///         token, so a fall is always a recorded slash.
/// @dev Holds what it owes, `totalOwed` (pull payments) plus `carriedDust` (settlement dust),
///      and, while a report executes, the rewards of its sequencers not paid yet. All internal
///      accounting; the balance is at least their sum.
contract ReportExecutor is ReportConsensus, ReentrancyGuardTransient {
    uint256 internal constant SECONDS_PER_YEAR = 365 days;
    /// @notice The most served chains one report settles.
    uint256 public constant MAX_CHAINS = 8;
    /// @notice The most sequencers one call pays: about 110,000 gas each over 8 epochs, so a
    ///         part stays far inside a block.
    uint256 public constant SEQUENCERS_PER_CALL = 100;
    /// @notice Bounds on one report's work, so that each call of its execution fits a block
    ///         (docs/BENCHMARKS.md): sequencers per epoch, allocation entries (pools
    ///         harvested), finalization batches, stake moves, epochs, matured buckets brought
    ///         back per report (the rest wait for the next; anyone may withdraw them).
    uint256 public constant MAX_SEQUENCERS = 200;
    uint256 public constant MAX_ALLOCATION = 200;
    uint256 public constant MAX_BATCHES = 16;
    uint256 public constant MAX_MOVES = 16;
    uint256 public constant MAX_EPOCHS = 8;
    uint256 public constant BUCKETS_PER_REPORT = 32;

    /// @notice One served chain: its fee vault and its revenue-share terms.
    struct ServedChain {
        uint64 chainId;
        /// The chain's FeeVault on this chain.
        address vault;
        /// Zero when the chain has no revenue-share agreement (then aBps and bBps are zero).
        address partner;
        uint16 aBps;
        uint16 bBps;
    }

    /// @notice Parameters fixed at deployment (from the economics configuration).
    struct Params {
        address registry;
        address token;
        address queue;
        address reserve;
        /// Receives the protocol fee and the parts of jailed sequencers (pull payment).
        address treasury;
        /// `[treasury] fee_bps`.
        uint16 protocolFeeBps;
        /// `[rewards] jailed_reward_destination = "treasury"`.
        bool jailedToTreasury;
        /// `[downtime] max_missed_bps`: jailed past this share of expected blocks missed.
        uint16 maxMissedBps;
        /// `[report] max_epochs_per_report`.
        uint32 maxEpochsPerReport;
        /// `[report] max_rate_apr_bps`.
        uint16 maxRateAprBps;
        /// `[report] max_stake_moves_per_report`: delegations, redelegations, undelegations.
        uint16 maxMovesPerReport;
        /// The served chains, in the order every epoch entry lists them.
        ServedChain[] chains;
    }

    /// @notice A report's steps, one call each (Idle: no report executing).
    enum Stage {
        Idle,
        Paying,
        Harvesting,
        Moving
    }

    /// @notice An unbonding bucket the report opened for the token, brought back once matured.
    struct OpenBucket {
        uint32 id;
        uint64 completionEpoch;
    }

    SequencerRegistry public immutable registry;
    LiquidStakingToken public immutable token;
    WithdrawalQueue public immutable queue;
    EmissionReserve public immutable reserve;
    address public immutable treasury;
    uint16 public immutable protocolFeeBps;
    bool public immutable jailedToTreasury;
    uint16 public immutable maxMissedBps;
    uint32 public immutable maxEpochsPerReport;
    uint16 public immutable maxRateAprBps;
    /// @notice The most stake moves (delegations, redelegations, undelegations) one report
    ///         makes: each costs the registry a pending change, a position or a bucket, the
    ///         costliest steps of a report after the reward payment itself.
    uint16 public immutable maxMovesPerReport;
    /// @notice The registry's epoch length in seconds (the rate bound's time unit).
    uint256 public immutable epochLength;

    ServedChain[] internal _chains;
    mapping(address vault => bool) public isVault;

    /// @notice The first epoch of the next report (its consensus slot).
    uint64 public nextEpoch;
    /// @notice Settlement dust carried to the next report's first epoch.
    uint256 public carriedDust;
    /// @notice Pull payments owed (partners, treasury).
    mapping(address account => uint256) public owed;
    /// @notice The sum of `owed`.
    uint256 public totalOwed;
    OpenBucket[] internal _buckets;
    /// @notice The first bucket in `_buckets` not yet brought back.
    uint256 public bucketsHead;
    /// @notice The registry refused the last report's active set: anyone may submit the right
    ///         one until the next report.
    bool public activeSetStale;
    /// @notice The executing report's next step: its sequencers' parts, the pool's harvest,
    ///         or the pool's moves (with the active set: the last call).
    Stage public stage;
    /// @notice The last sequencer id the executing report has paid (0 before its first part).
    uint32 public paidThrough;
    /// @notice The first epoch whose rewards the pool has not harvested: the rate bound counts
    ///         the epochs from it (a report whose pool step failed leaves its rewards to the next).
    uint64 public unharvestedFrom;
    /// @notice The hash of the report being executed, zero when none: its later calls carry the
    ///         same report.
    bytes32 public executing;

    /// @notice A report executed.
    event ReportExecuted(uint64 indexed firstEpoch, uint64 lastEpoch, uint64 refBlock, bytes32 reportHash);
    /// @notice Every input of the executed report: `abi.encode(report)` (the call's argument).
    event ReportInputs(uint64 indexed firstEpoch, bytes report);
    /// @notice One epoch settled: revenue is gross + MEV of all chains.
    event EpochSettled(
        uint64 indexed epoch,
        uint256 revenue,
        uint256 partnerShares,
        uint256 protocolFee,
        uint256 emission,
        uint256 sequencerRewards,
        uint256 dustIn,
        uint256 dustOut
    );
    /// @notice A partner's share of one chain's revenue, with every input of the formula.
    event RevenueShareCredited(
        uint64 indexed epoch,
        uint64 indexed chainId,
        address indexed partner,
        uint256 gross,
        uint256 cost,
        uint16 aBps,
        uint16 bBps,
        uint256 share
    );
    /// @notice `amount` was credited to `account` (pull payment).
    event Credited(address indexed account, uint256 amount);
    /// @notice `account` claimed `amount` to `to`.
    event Claimed(address indexed account, address indexed to, uint256 amount);
    /// @notice The registry refused the report's active set (stake moved since it was
    ///         computed); the set stays as it was and anyone may submit the right one.
    event ActiveSetRejected(uint64 indexed firstEpoch, uint32[] ids);
    /// @notice The pool's step of the report was refused (`reason`, the error it reverted
    ///         with) and undone: the payments stand, and the next report's harvest collects the
    ///         pool's rewards.
    event LiquidStepFailed(uint64 indexed firstEpoch, bytes reason);
    /// @notice The registry is paused: the pool's stake moves and releases wait for a report
    ///         after the pause (payments, harvest and finalization go on).
    event LiquidMovesSkipped(uint64 indexed firstEpoch, uint64 pausedUntil);

    /// @dev A deployment parameter is out of range (name given).
    error InvalidParameter(string name);
    /// @dev A zero address where one is required.
    error ZeroAddress();
    /// @dev The report's hash does not have the quorum for its slot.
    error NotAgreed(uint64 slot, bytes32 reportHash);
    /// @dev The report was computed for another chain.
    error WrongChain(uint64 chainId);
    /// @dev The range does not continue the last report, or its entries do not match it.
    error WrongRange(uint64 firstEpoch, uint64 lastEpoch, uint64 expectedFirst, uint256 entries);
    /// @dev More epochs than `maxEpochsPerReport`.
    error TooManyEpochs(uint256 epochs, uint256 maxEpochs);
    /// @dev The reference block is not in the past.
    error RefBlockNotPast(uint64 refBlock, uint256 blockNumber);
    /// @dev An epoch's chains are not the configured ones, in order, with their terms.
    error WrongChainTerms(uint64 epoch, uint256 index);
    /// @dev A partner share is not the formula's value for its inputs.
    error WrongShare(uint64 epoch, uint64 chainId, uint256 share, uint256 expected);
    /// @dev The protocol fee is not `fee_bps` of the revenue after partner shares.
    error WrongProtocolFee(uint64 epoch, uint256 fee, uint256 expected);
    /// @dev The dust carried in is not the dust carried out before.
    error DustMismatch(uint64 epoch, uint256 dustIn, uint256 expected);
    /// @dev Inputs + dustIn != shares + fee + rewards + dustOut.
    error NotConserved(uint64 epoch, uint256 inputs, uint256 outputs);
    /// @dev Sequencer ids not strictly increasing, or a redistributed jailed part that is not zero.
    error MalformedSequencers(uint64 epoch, uint256 index);
    /// @dev Allocation ids not strictly increasing.
    error MalformedAllocation(uint256 index);
    /// @dev The allocation needs more stake moves than one report makes (`moves` counts those
    ///      made or planned when the bound was passed).
    error TooManyMoves(uint256 moves, uint256 maxMoves);
    /// @dev The pool harvested another amount than the report says.
    error PoolRewardsMismatch(uint256 harvested, uint256 reported);
    /// @dev The queue's finalization rate is above the rate the report agreed for a batch.
    error FinalizationAboveReport(uint256 index, uint256 rate, uint256 reported);
    /// @dev The share rate fell during the report (beyond the rounding of its stake moves).
    error RateFell(uint256 before, uint256 afterReport);
    /// @dev The share rate rose more than `maxRateAprBps` allows over the report's epochs.
    error RateRoseTooFast(uint256 before, uint256 afterReport, uint256 maxRise);
    /// @dev Nothing is owed to the caller.
    error NothingOwed(address account);
    /// @dev Value from anyone but a vault or the reserve.
    error UnexpectedValue(address sender);
    /// @dev The active set can be submitted outside a report only after a report's was refused.
    error ActiveSetNotStale();
    /// @dev Another report is being executed: its calls carry its data until it ends.
    error ReportInProgress(bytes32 executing, bytes32 reportHash);
    /// @dev The pool's steps are the report contract's own calls.
    error NotSelf();
    /// @dev More finalization batches than `MAX_BATCHES`.
    error TooManyBatches(uint256 batches, uint256 maxBatches);
    /// @dev A registry or token call ran out of gas (the caller gave too little).
    error OutOfGas();
    /// @dev The native transfer failed.
    error TransferFailed(address to, uint256 amount);

    /// @param p The parameters.
    /// @param members The oracle members.
    /// @param quorum_ Votes needed: more than half of the members.
    /// @param admin DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with ZeroAddress for a zero contract, treasury or admin; with
    ///      InvalidParameter naming protocolFeeBps or maxMissedBps (above 10_000),
    ///      maxEpochsPerReport or maxMovesPerReport (zero, or above MAX_EPOCHS or MAX_MOVES),
    ///      maxRateAprBps (zero, or a largest
    ///      move per report above the token's instant-exit fee), chains (none, more than MAX_CHAINS, a repeated chain
    ///      id), vault (zero, or a vault of another chain), terms (bps above 10_000, or terms
    ///      without a partner) or reserve (its next epoch is not the registry's next reward
    ///      epoch); with ReportConsensus's InvalidMembership.
    constructor(Params memory p, address[] memory members, uint8 quorum_, address admin)
        ReportConsensus(members, quorum_, admin)
    {
        if (
            admin == address(0) || p.registry == address(0) || p.token == address(0) || p.queue == address(0)
                || p.reserve == address(0) || p.treasury == address(0)
        ) revert ZeroAddress();
        if (p.protocolFeeBps > RewardMath.BPS) revert InvalidParameter("protocolFeeBps");
        if (p.maxMissedBps > RewardMath.BPS) revert InvalidParameter("maxMissedBps");
        if (p.maxEpochsPerReport == 0 || p.maxEpochsPerReport > MAX_EPOCHS) {
            revert InvalidParameter("maxEpochsPerReport");
        }
        if (p.maxMovesPerReport == 0 || p.maxMovesPerReport > MAX_MOVES) {
            revert InvalidParameter("maxMovesPerReport");
        }
        // The largest rise one report may make must stay within the instant-exit fee, or a
        // deposit before a report and an exit after it would profit.
        uint256 largestMove = Math.mulDiv(
            uint256(p.maxRateAprBps) * p.maxEpochsPerReport,
            SequencerRegistry(payable(p.registry)).epochLength(),
            SECONDS_PER_YEAR,
            Math.Rounding.Ceil
        );
        if (p.maxRateAprBps == 0 || largestMove > LiquidStakingToken(payable(p.token)).instantExitFeeBps()) {
            revert InvalidParameter("maxRateAprBps");
        }
        if (p.chains.length == 0 || p.chains.length > MAX_CHAINS) revert InvalidParameter("chains");
        for (uint256 i; i < p.chains.length; ++i) {
            ServedChain memory c = p.chains[i];
            for (uint256 j; j < i; ++j) {
                if (p.chains[j].chainId == c.chainId) revert InvalidParameter("chains");
            }
            if (
                c.vault == address(0) || isVault[c.vault]
                    || FeeVault(payable(c.vault)).servedChainId() != c.chainId
            ) {
                revert InvalidParameter("vault");
            }
            if (
                c.aBps > RewardMath.BPS || c.bBps > RewardMath.BPS
                    || (c.partner == address(0) && (c.aBps != 0 || c.bBps != 0))
            ) revert InvalidParameter("terms");
            isVault[c.vault] = true;
            _chains.push(c);
        }
        registry = SequencerRegistry(payable(p.registry));
        token = LiquidStakingToken(payable(p.token));
        queue = WithdrawalQueue(payable(p.queue));
        reserve = EmissionReserve(p.reserve);
        treasury = p.treasury;
        protocolFeeBps = p.protocolFeeBps;
        jailedToTreasury = p.jailedToTreasury;
        maxMissedBps = p.maxMissedBps;
        maxEpochsPerReport = p.maxEpochsPerReport;
        maxRateAprBps = p.maxRateAprBps;
        maxMovesPerReport = p.maxMovesPerReport;
        epochLength = SequencerRegistry(payable(p.registry)).epochLength();
        uint64 first = SequencerRegistry(payable(p.registry)).nextRewardEpoch();
        if (EmissionReserve(p.reserve).nextEpoch() != first) revert InvalidParameter("reserve");
        nextEpoch = first;
        unharvestedFrom = first;
    }

    /// @notice Accepts revenue drawn from a vault and emission drawn from the reserve.
    /// @dev Reverts with UnexpectedValue for anyone else.
    receive() external payable {
        if (!isVault[msg.sender] && msg.sender != address(reserve)) revert UnexpectedValue(msg.sender);
    }

    // ------------------------------------------------------------------ execution
    /// @notice Executes an agreed report, one step per call: anyone calls it with the same
    ///         report until it returns true (see the contract's notice for every check).
    ///         1. The first call checks the whole report, settles its epochs (vault and reserve
    ///            draws, credits, dust, `ReportInputs`) and pays the first part of the
    ///            sequencers. Everything a later call could refuse by the report's content is
    ///            checked here, and every step's work is bounded, so a report that started
    ///            always ends.
    ///         2. Each later call pays the next `SEQUENCERS_PER_CALL` sequencers (by id)
    ///            through `registry.distributeRewardsPart`, and jails those of them past the
    ///            downtime threshold.
    ///         3. The next call harvests the pool and finalizes the batches (`harvestStep`);
    ///            the one after moves its stake (`moveStep`), updates the active set and ends
    ///            the report (`ReportExecuted`). Each pool step runs whole or not at all: a refusal
    ///            is `LiquidStepFailed` (a refused harvest skips the moves and ends the report
    ///            at once), the payments stand, and the next report's harvest collects what
    ///            this one left.
    /// @param r The report whose hash has the quorum for slot `r.header.firstEpoch`, or the
    ///        report being executed.
    /// @return done Whether this call ended the report.
    /// @dev Reverts with ReportInProgress for another report while one is executing; on the
    ///      first call with NotAgreed; WrongChain; WrongRange; TooManyEpochs; RefBlockNotPast;
    ///      WrongChainTerms; WrongShare; WrongProtocolFee; DustMismatch; NotConserved;
    ///      MalformedSequencers; MalformedAllocation; TooManyBatches; with the reserve's
    ///      WrongEpoch or WrongAmount (emission off schedule or above the reserve); with a
    ///      vault's InsufficientRevenue (revenue above what arrived); on a pool step's call with
    ///      OutOfGas when the step ran out of gas (the caller gave too little: nothing is skipped).
    function execute(ReportTypes.Report calldata r) external nonReentrant returns (bool done) {
        ReportTypes.Header calldata h = r.header;
        bytes32 hash = _calldataHash();
        bytes32 current = executing;
        if (current == bytes32(0)) {
            _open(r, hash);
        } else if (hash != current) {
            revert ReportInProgress(current, hash);
        }
        Stage next = stage;
        if (next == Stage.Paying) {
            _payPart(h.firstEpoch, h.lastEpoch, r.epochs);
            return false;
        }
        if (next == Stage.Harvesting) {
            try this.harvestStep(h.lastEpoch, r.liquid) {
                unharvestedFrom = h.lastEpoch + 1;
                stage = Stage.Moving;
                return false;
            } catch (bytes memory reason) {
                // Without the harvest the moves are skipped: they were planned on its buffer.
                _refused(h.firstEpoch, reason);
            }
        } else {
            try this.moveStep(h.firstEpoch, r.liquid) {}
            catch (bytes memory reason) {
                _refused(h.firstEpoch, reason);
            }
        }
        _end(r, hash);
        return true;
    }

    /// @notice The pool's harvest, a step of a report run by the report contract itself (so
    ///         that a refusal undoes it alone): matured buckets back in the buffer; the harvest
    ///         of the allocation's pools and the token's positions, which must claim exactly the
    ///         report's `poolRewards`, with what joins the pool capped by the rate bound (the
    ///         token carries the rest); the finalization batches.
    /// @param last The report's last epoch.
    /// @param l The report's liquid actions.
    /// @dev Reverts with NotSelf for any other caller; with PoolRewardsMismatch;
    ///      FinalizationAboveReport; RateFell; RateRoseTooFast; with the queue's errors for
    ///      the batches it refuses.
    function harvestStep(uint64 last, ReportTypes.LiquidActions calldata l) external {
        if (msg.sender != address(this)) revert NotSelf();
        uint256 rate = token.shareRate();
        uint256 back = _bringBackMatured();
        (uint256 aprRise, uint256 supply) = _aprRise(rate, last);
        // The most the holders may gain within the bound, net of the pool fee (a wei less, for
        // rounding): the token adds the gain finalized tickets left first, then rewards, and
        // carries the rest to the next harvest.
        uint256 net = Math.mulDiv(aprRise, supply, RewardMath.RAY);
        net = net > 0 ? net - 1 : 0;
        uint256 maxRise =
            aprRise + Math.mulDiv(token.pendingFees(), RewardMath.RAY, supply, Math.Rounding.Ceil);
        uint256 harvested = token.harvest(_allocationIds(l), net);
        if (harvested != l.poolRewards) revert PoolRewardsMismatch(harvested, l.poolRewards);
        _checkRate(rate, back, maxRise);
        if (l.batches.length > 0) {
            // Tickets take at most their value at request: the token holds what they leave out
            // of the pooled assets, so the harvest and the finalization together stay within
            // the same bound (review finding 8).
            _finalize(l.batches, maxRise);
            _checkRate(rate, back, maxRise);
        }
    }

    /// @notice The pool's moves, a step of a report run by the report contract itself after its
    ///         harvest (a refusal undoes it alone): releases of matured positions and the stake
    ///         moves, which leave the rate as it was (beyond the registry's rounding).
    /// @param first The report's first epoch.
    /// @param l The report's liquid actions.
    /// @dev Reverts with NotSelf for any other caller; with TooManyMoves; RateFell;
    ///      RateRoseTooFast; with the token's errors for the moves it refuses.
    function moveStep(uint64 first, ReportTypes.LiquidActions calldata l) external {
        if (msg.sender != address(this)) revert NotSelf();
        uint256 start = token.shareRate();
        uint256 moves;
        uint64 pausedUntil = registry.pausedUntil();
        if (block.timestamp < pausedUntil) {
            // Releases and stake moves are paused in the registry; claims never are.
            emit LiquidMovesSkipped(first, pausedUntil);
        } else {
            uint256 released = token.releaseMatured();
            moves = released + _rebalance(l.allocation, _allocationIds(l));
        }
        // Releases and moves change nothing but by the registry's rounding.
        _checkRate(start, moves, 0);
    }

    /// Checks the whole report and settles its epochs.
    function _open(ReportTypes.Report calldata r, bytes32 hash) internal {
        ReportTypes.Header calldata h = r.header;
        if (!isAgreed(h.firstEpoch, hash)) revert NotAgreed(h.firstEpoch, hash);
        _checkHeader(h, r.epochs.length);
        _checkLiquid(r.liquid);
        nextEpoch = h.lastEpoch + 1;
        (uint256 toTreasury, uint256[] memory draws) = _settleEpochs(h.firstEpoch, h.refBlock, r.epochs);
        for (uint256 i; i < draws.length; ++i) {
            if (draws[i] > 0) FeeVault(payable(_chains[i].vault)).draw(draws[i], address(this));
        }
        _credit(treasury, toTreasury);
        (executing, stage) = (hash, Stage.Paying);
        emit ReportInputs(h.firstEpoch, msg.data[4:]);
    }

    /// A pool step was refused: its error is an event.
    function _refused(uint64 first, bytes memory reason) internal {
        _revertIfOutOfGas(reason);
        emit LiquidStepFailed(first, reason);
    }

    /// A `try` that ran out of gas (an empty error, or the OutOfGas a nested `try` raised) is
    /// the caller's too little gas, not a refusal: the whole call reverts, so nothing is skipped.
    function _revertIfOutOfGas(bytes memory reason) internal pure {
        if (reason.length == 0 || bytes4(reason) == OutOfGas.selector) revert OutOfGas();
    }

    /// Updates the active set and ends the report.
    function _end(ReportTypes.Report calldata r, bytes32 hash) internal {
        ReportTypes.Header calldata h = r.header;
        (executing, stage, paidThrough) = (bytes32(0), Stage.Idle, 0);
        // The set for the next epoch, against the stake the moves left.
        activeSetStale = false;
        if (r.activeSet.length > 0) {
            try registry.updateActiveSet(r.activeSet) {}
            catch (bytes memory reason) {
                _revertIfOutOfGas(reason);
                activeSetStale = true;
                emit ActiveSetRejected(h.firstEpoch, r.activeSet);
            }
        }
        emit ReportExecuted(h.firstEpoch, h.lastEpoch, h.refBlock, hash);
    }

    /// @notice Submits the active set from the next epoch (the registry checks it is the top
    ///         by stake) after the registry refused the last report's. Anyone may call it.
    /// @param ids The set, strictly increasing.
    /// @dev Reverts with ActiveSetNotStale unless the last report's set was refused; with the
    ///      registry's InvalidActiveSet.
    function refreshActiveSet(uint32[] calldata ids) external nonReentrant {
        if (!activeSetStale) revert ActiveSetNotStale();
        activeSetStale = false;
        registry.updateActiveSet(ids);
    }

    /// @notice Pays what the caller is owed to `to`. Never paused.
    /// @param to The recipient.
    /// @return amount What was paid.
    /// @dev Reverts with ZeroAddress for a zero recipient; with NothingOwed; with
    ///      TransferFailed if `to` refuses (nothing changes: the credit stays).
    function claim(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = owed[msg.sender];
        if (amount == 0) revert NothingOwed(msg.sender);
        owed[msg.sender] = 0;
        totalOwed -= amount;
        emit Claimed(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    // ------------------------------------------------------------------ views
    /// @notice The served chains, in the order epoch entries list them.
    /// @return The chains.
    function servedChains() external view returns (ServedChain[] memory) {
        return _chains;
    }

    /// @notice Unbonding buckets the reports opened and have not brought back yet.
    /// @return buckets The buckets, oldest first.
    function openBuckets() external view returns (OpenBucket[] memory buckets) {
        uint256 head = bucketsHead;
        buckets = new OpenBucket[](_buckets.length - head);
        for (uint256 i; i < buckets.length; ++i) {
            buckets[i] = _buckets[head + i];
        }
    }

    // ------------------------------------------------------------------ checks and settlement
    /// `keccak256(abi.encode(DOMAIN_TAG, chainid, this, r))` for `execute(r)`'s calldata (the
    /// hash members vote, `economics::report::report_hash` in Rust), hashed where it lies instead
    /// of re-encoding the report (which costs millions of gas in the worst case). The canonical
    /// encoding of one dynamic argument is `0x20 ++ tail`; `abi.encode(DOMAIN_TAG, chainid,
    /// this, r)` is `DOMAIN_TAG ++ chainid ++ this ++ 0x80 ++ tail`. Any other encoding hashes
    /// to something nobody voted, so it cannot execute.
    function _calldataHash() internal view returns (bytes32) {
        if (msg.data.length < 36 || uint256(bytes32(msg.data[4:36])) != 0x20) return bytes32(0);
        return keccak256(
            bytes.concat(
                ReportTypes.DOMAIN_TAG,
                bytes32(block.chainid),
                bytes32(uint256(uint160(address(this)))),
                bytes32(uint256(0x80)),
                msg.data[36:]
            )
        );
    }

    function _slotOpen(uint64 slot) internal view override returns (bool) {
        // The next report is computed on the state this one leaves: no votes until it ends.
        return slot == nextEpoch && executing == bytes32(0);
    }

    function _checkHeader(ReportTypes.Header calldata h, uint256 entries) internal view {
        if (h.chainId != block.chainid) revert WrongChain(h.chainId);
        if (
            h.firstEpoch != nextEpoch || h.lastEpoch < h.firstEpoch
                || h.lastEpoch - h.firstEpoch + 1 != entries
        ) {
            revert WrongRange(h.firstEpoch, h.lastEpoch, nextEpoch, entries);
        }
        if (entries > maxEpochsPerReport) revert TooManyEpochs(entries, maxEpochsPerReport);
        if (h.refBlock >= block.number) revert RefBlockNotPast(h.refBlock, block.number);
    }

    /// Checks and settles each epoch; returns what the treasury receives and what to draw
    /// from each vault (the sequencers' rewards stay here until their parts are paid).
    function _settleEpochs(uint64 first, uint64 refBlock, ReportTypes.EpochEntry[] calldata epochs)
        internal
        returns (uint256 toTreasury, uint256[] memory draws)
    {
        draws = new uint256[](_chains.length);
        uint256 dust = carriedDust;
        uint32 registered = registry.sequencerCount();
        for (uint256 k; k < epochs.length; ++k) {
            ReportTypes.EpochEntry calldata e = epochs[k];
            if (e.epoch != first + k) revert WrongRange(first, e.epoch, first, epochs.length);
            if (e.dustIn != dust) revert DustMismatch(e.epoch, e.dustIn, dust);
            (uint256 revenue, uint256 shares) = _settleChains(e, draws);
            uint256 fee = RewardMath.applyBps(revenue - shares, protocolFeeBps);
            if (e.protocolFee != fee) revert WrongProtocolFee(e.epoch, e.protocolFee, fee);
            reserve.draw(e.epoch, e.emission, refBlock);
            (uint256 rewards, uint256 jailedPart) = _sumRewards(e, registered);
            uint256 inputs = revenue + e.emission + e.dustIn;
            uint256 outputs = shares + fee + rewards + e.dustOut;
            if (inputs != outputs) revert NotConserved(e.epoch, inputs, outputs);
            toTreasury += fee + jailedPart;
            dust = e.dustOut;
            emit EpochSettled(e.epoch, revenue, shares, fee, e.emission, rewards, e.dustIn, e.dustOut);
        }
        carriedDust = dust;
    }

    function _settleChains(ReportTypes.EpochEntry calldata e, uint256[] memory draws)
        internal
        returns (uint256 revenue, uint256 shares)
    {
        if (e.chains.length != _chains.length) revert WrongChainTerms(e.epoch, e.chains.length);
        for (uint256 i; i < e.chains.length; ++i) {
            ReportTypes.ChainRevenue calldata c = e.chains[i];
            ServedChain storage s = _chains[i];
            if (c.chainId != s.chainId || c.partner != s.partner || c.aBps != s.aBps || c.bBps != s.bBps) {
                revert WrongChainTerms(e.epoch, i);
            }
            uint256 expected =
                s.partner == address(0) ? 0 : RewardMath.partnerShare(c.gross, c.cost, c.aBps, c.bBps);
            if (c.share != expected) revert WrongShare(e.epoch, c.chainId, c.share, expected);
            uint256 arrived = c.gross + c.mev;
            revenue += arrived;
            shares += c.share;
            draws[i] += arrived;
            if (s.partner != address(0)) {
                _credit(c.partner, c.share);
                emit RevenueShareCredited(
                    e.epoch, c.chainId, c.partner, c.gross, c.cost, c.aBps, c.bBps, c.share
                );
            }
        }
    }

    function _sumRewards(ReportTypes.EpochEntry calldata e, uint32 registered)
        internal
        view
        returns (uint256 rewards, uint256 jailedPart)
    {
        uint32 previous;
        if (e.sequencers.length > MAX_SEQUENCERS) revert MalformedSequencers(e.epoch, MAX_SEQUENCERS);
        for (uint256 i; i < e.sequencers.length; ++i) {
            ReportTypes.SequencerReward calldata s = e.sequencers[i];
            if (s.id <= previous || (s.jailed && !jailedToTreasury && s.reward != 0)) {
                revert MalformedSequencers(e.epoch, i);
            }
            previous = s.id;
            rewards += s.reward;
            // Redistributed jailed parts are zero (checked above): only the treasury's count.
            if (s.jailed) jailedPart += s.reward;
        }
        // Every id is a registered sequencer, so no part the registry is paid can be refused.
        if (previous > registered) {
            revert MalformedSequencers(e.epoch, e.sequencers.length - 1);
        }
    }

    /// Pays the next part: the `SEQUENCERS_PER_CALL` lowest ids above `paidThrough` of all
    /// epochs, one entry each over the report's epochs, then jails those of them that missed
    /// more than `maxMissedBps` of their expected blocks over the report's epochs.
    function _payPart(uint64 first, uint64 last, ReportTypes.EpochEntry[] calldata epochs) internal {
        uint256 count = epochs.length;
        uint256[] memory next = new uint256[](count);
        for (uint256 k; k < count; ++k) {
            next[k] = _firstAbove(epochs[k].sequencers, paidThrough);
        }
        SequencerRegistry.SequencerRewards[] memory rewards =
            new SequencerRegistry.SequencerRewards[](SEQUENCERS_PER_CALL);
        uint32[] memory down = new uint32[](SEQUENCERS_PER_CALL);
        (uint256 n, uint256 m, uint256 value) = (0, 0, 0);
        uint32 id;
        while (n < SEQUENCERS_PER_CALL) {
            // The lowest id not paid yet, over every epoch's list (each strictly increasing).
            id = type(uint32).max;
            for (uint256 k; k < count; ++k) {
                ReportTypes.SequencerReward[] calldata list = epochs[k].sequencers;
                if (next[k] < list.length && list[next[k]].id < id) id = list[next[k]].id;
            }
            if (id == type(uint32).max) break;
            uint256[] memory amounts = new uint256[](count);
            (uint256 blocks, uint256 missed) = (0, 0);
            for (uint256 k; k < count; ++k) {
                ReportTypes.SequencerReward[] calldata list = epochs[k].sequencers;
                if (next[k] == list.length || list[next[k]].id != id) continue;
                ReportTypes.SequencerReward calldata s = list[next[k]++];
                if (!s.jailed) (amounts[k], value) = (s.reward, value + s.reward);
                (blocks, missed) = (blocks + s.blocks, missed + s.missedBlocks);
            }
            rewards[n++] = SequencerRegistry.SequencerRewards({id: id, amounts: amounts});
            if (missed > 0 && missed * RewardMath.BPS > (blocks + missed) * maxMissedBps) down[m++] = id;
        }
        bool complete = true;
        for (uint256 k; k < count; ++k) {
            if (next[k] < epochs[k].sequencers.length) complete = false;
        }
        assembly ("memory-safe") {
            mstore(rewards, n)
            mstore(down, m)
        }
        registry.distributeRewardsPart{value: value}(first, last, rewards, complete);
        if (m > 0) registry.jailForDowntime(down);
        if (n > 0) paidThrough = rewards[n - 1].id;
        if (complete) stage = Stage.Harvesting;
    }

    /// The index of the first entry of `list` (ids strictly increasing) with an id above `id`.
    function _firstAbove(ReportTypes.SequencerReward[] calldata list, uint32 id)
        internal
        pure
        returns (uint256 low)
    {
        uint256 high = list.length;
        while (low < high) {
            uint256 mid = Math.average(low, high);
            if (list[mid].id <= id) low = mid + 1;
            else high = mid;
        }
    }

    // ------------------------------------------------------------------ the liquid pool
    function _allocationIds(ReportTypes.LiquidActions calldata l)
        internal
        pure
        returns (uint32[] memory ids)
    {
        ids = new uint32[](l.allocation.length);
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = l.allocation[i].sequencerId;
        }
    }

    /// Withdraws the buckets earlier reports opened, once matured, into the token's buffer. A
    /// bucket someone else already withdrew (anyone may) is skipped.
    function _bringBackMatured() internal returns (uint256 count) {
        uint64 epoch = registry.currentEpoch();
        uint256 head = bucketsHead;
        uint256 end = Math.min(_buckets.length, head + BUCKETS_PER_REPORT);
        while (head < end) {
            OpenBucket memory b = _buckets[head];
            if (b.completionEpoch > epoch) break;
            try token.withdrawUnbonded(b.id, b.completionEpoch) {}
            catch (bytes memory reason) {
                _revertIfOutOfGas(reason);
            }
            delete _buckets[head];
            head += 1;
        }
        count = head - bucketsHead;
        bucketsHead = head;
    }

    /// Moves the token's stake towards the allocation: decreases paired with increases by
    /// redelegation, the remaining increases from the buffer, the remaining decreases
    /// undelegated. Returns how many stake moves were made (delegations included).
    function _rebalance(ReportTypes.AllocationTarget[] calldata alloc, uint32[] memory ids)
        internal
        returns (uint256 moves)
    {
        uint256 n = alloc.length;
        uint256[] memory over = new uint256[](n);
        uint256[] memory under = new uint256[](n);
        uint256[] memory positions = _positionsIn(ids);
        uint256 increases;
        for (uint256 i; i < n; ++i) {
            // The token's stake with a sequencer: its delegation and the positions redelegated
            // into it (booked at their value); only the delegation can be moved away.
            uint256 delegated = token.stakeOf(ids[i]);
            uint256 current = delegated + positions[i];
            uint256 target = alloc[i].target;
            if (target > current) under[i] = target - current;
            else over[i] = Math.min(current - target, delegated);
        }
        (uint256 a, uint256 b) = (0, 0);
        while (a < n && b < n) {
            if (over[a] == 0) {
                ++a;
            } else if (under[b] == 0) {
                ++b;
            } else {
                uint256 amount = Math.min(over[a], under[b]);
                if (++moves > maxMovesPerReport) revert TooManyMoves(moves, maxMovesPerReport);
                token.redelegateStake(ids[a], ids[b], amount);
                over[a] -= amount;
                under[b] -= amount;
            }
        }
        for (uint256 i; i < n; ++i) {
            if (under[i] > 0) increases += 1;
        }
        if (moves + increases > maxMovesPerReport) revert TooManyMoves(moves + increases, maxMovesPerReport);
        if (increases > 0) {
            uint32[] memory to = new uint32[](increases);
            uint256[] memory amounts = new uint256[](increases);
            uint256 m;
            for (uint256 i; i < n; ++i) {
                if (under[i] == 0) continue;
                (to[m], amounts[m]) = (ids[i], under[i]);
                m += 1;
            }
            token.delegateBuffer(to, amounts);
            moves += increases;
        }
        for (uint256 i; i < n; ++i) {
            if (over[i] > 0) {
                if (++moves > maxMovesPerReport) revert TooManyMoves(moves, maxMovesPerReport);
                _undelegate(ids[i], over[i]);
            }
        }
    }

    /// The booked value of the token's unreleased positions in each of `ids` (increasing).
    function _positionsIn(uint32[] memory ids) internal view returns (uint256[] memory values) {
        values = new uint256[](ids.length);
        LiquidStakingToken.PositionRef[] memory held = token.positions();
        for (uint256 p; p < held.length; ++p) {
            if (held[p].released) continue;
            (uint256 low, uint256 high) = (0, ids.length);
            while (low < high) {
                uint256 mid = Math.average(low, high);
                if (ids[mid] < held[p].dst) low = mid + 1;
                else high = mid;
            }
            if (low < ids.length && ids[low] == held[p].dst) values[low] += held[p].booked;
        }
    }

    function _undelegate(uint32 id, uint256 amount) internal {
        (uint64 completion,) = token.undelegateStake(id, amount);
        uint256 count = _buckets.length;
        if (count > bucketsHead) {
            OpenBucket memory last = _buckets[count - 1];
            if (last.id == id && last.completionEpoch == completion) return;
        }
        _buckets.push(OpenBucket({id: id, completionEpoch: completion}));
    }

    /// Finalizes the batches not finalized yet (with a stale oracle anyone may have finalized
    /// some) at the queue's rate, which may exceed the rate the report agreed for a batch by no
    /// more than the report's rate bound (deposits and exits after the reference block move the
    /// rate up by rounding).
    function _finalize(ReportTypes.FinalizationBatch[] calldata batches, uint256 maxRise) internal {
        uint256 rate = token.finalizationRate();
        uint256 done = queue.lastFinalizedId();
        uint256[] memory ends = new uint256[](batches.length);
        uint256 m;
        for (uint256 i; i < batches.length; ++i) {
            if (rate > maxRise && rate - maxRise > batches[i].shareRate) {
                revert FinalizationAboveReport(i, rate, batches[i].shareRate);
            }
            if (batches[i].lastTicketId <= done) continue;
            ends[m++] = batches[i].lastTicketId;
        }
        if (m == 0) return;
        assembly ("memory-safe") {
            mstore(ends, m)
        }
        queue.finalize(ends);
    }

    /// What `maxRateAprBps` a year allows the rate to rise over the epochs the pool has not
    /// harvested through `last` (at most `maxEpochsPerReport`: the instant-exit fee covers no
    /// more), and the token's supply with its virtual shares.
    function _aprRise(uint256 rate, uint64 last) internal view returns (uint256 rise, uint256 supply) {
        uint256 epochs = Math.min(last + 1 - unharvestedFrom, maxEpochsPerReport);
        rise = Math.mulDiv(
            rate, uint256(maxRateAprBps) * epochs * epochLength, RewardMath.BPS * SECONDS_PER_YEAR
        );
        supply = token.totalSupply() + RewardMath.VIRTUAL_SHARES;
    }

    /// Checks, before anything moves, the pool's lists: within their bounds, the allocation's
    /// ids strictly increasing.
    function _checkLiquid(ReportTypes.LiquidActions calldata l) internal pure {
        if (l.allocation.length > MAX_ALLOCATION) revert MalformedAllocation(MAX_ALLOCATION);
        if (l.batches.length > MAX_BATCHES) revert TooManyBatches(l.batches.length, MAX_BATCHES);
        for (uint256 i = 1; i < l.allocation.length; ++i) {
            if (l.allocation[i].sequencerId <= l.allocation[i - 1].sequencerId) {
                revert MalformedAllocation(i);
            }
        }
    }

    /// The rate now (returned) against `before`: not below it, nor above it by more than
    /// `maxRise`, beyond the registry's rounding of `roundings` moves, releases or buckets.
    function _checkRate(uint256 before, uint256 roundings, uint256 maxRise)
        internal
        view
        returns (uint256 afterStep)
    {
        afterStep = token.shareRate();
        // Each stake move may cost or give the token two wei of the registry's rounding (one at
        // each end), a release or a matured bucket as much, and the step one more.
        uint256 tolerance = Math.mulDiv(
            2 * roundings + 2,
            RewardMath.RAY,
            token.totalSupply() + RewardMath.VIRTUAL_SHARES,
            Math.Rounding.Ceil
        );
        if (afterStep < before) {
            if (before - afterStep > tolerance) revert RateFell(before, afterStep);
        } else if (afterStep - before > maxRise && afterStep - before - maxRise > tolerance) {
            revert RateRoseTooFast(before, afterStep, maxRise);
        }
    }

    function _credit(address account, uint256 amount) internal {
        if (amount == 0) return;
        owed[account] += amount;
        totalOwed += amount;
        emit Credited(account, amount);
    }
}
