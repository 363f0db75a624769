// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {LiquidStakingToken} from "./LiquidStakingToken.sol";
import {RewardMath} from "./libraries/RewardMath.sol";

/// @title WithdrawalQueue
/// @notice Exits from the liquid token through the queue. A request locks shares and mints an
///         ERC-721 ticket. The queue keeps running totals of the shares and of their value at
///         request. A finalizer (the report) finalizes tickets up to an id in batches: the
///         contract computes each batch's value itself from the running totals, so the cost is
///         O(batches), not O(tickets). Finalization burns the shares and moves their value out
///         of the token's buffer into this contract. A finalized ticket is worth
///         `shares * min(rate at request, rate at finalization) / RAY` and is claimed once
///         (states: pending, finalized, claimed).
/// @dev Batches: each ticket records the token's share rate at its request and its run: the
///      run number grows by one at each ticket requested at a lower rate than the ticket before
///      it (a slash, or a report's rounding), so within a run the rates at request never fall.
///      A batch must lie within one run, and then its first and last tickets bound every rate
///      in it: if the last was requested at or below the finalization rate, every ticket was
///      and each claims its value at request; if the first was requested above it, every ticket
///      claims its shares at the finalization rate. The batch's value is then what its tickets
///      claim (to the wei when below; above, at most a wei per ticket of rounding more, as the
///      batch rounds its shares once), so the queue never locks value its tickets cannot claim.
///      A batch across runs, or with its ends on different sides of the rate, is refused.
contract WithdrawalQueue is ERC721, AccessControl, ReentrancyGuardTransient {
    /// @notice Finalizes tickets (the report contract).
    bytes32 public constant FINALIZER_ROLE = keccak256("FINALIZER_ROLE");

    /// @notice A ticket's place in the running totals (inclusive of the ticket).
    struct Request {
        uint256 cumulativeShares;
        uint256 cumulativeAssets;
        uint64 requestedAt;
        bool claimed;
        /// The token's share rate at the request (RAY per share).
        uint128 rateAtRequest;
        /// The run: how many tickets up to this one were requested at a lower rate than the
        /// ticket before them.
        uint48 run;
    }

    /// @notice Tickets from `fromId` on were finalized at `shareRate` (RAY per share).
    struct Checkpoint {
        uint256 fromId;
        uint256 shareRate;
    }

    /// @notice The lifecycle of a ticket.
    enum State {
        None,
        Pending,
        Finalized,
        Claimed
    }

    /// @notice The liquid token whose shares the queue takes.
    LiquidStakingToken public immutable token;
    /// @notice Smallest request, in wei at the request's rate.
    uint256 public immutable minRequest;
    /// @notice Largest request, in wei at the request's rate.
    uint256 public immutable maxRequest;

    /// @notice The last ticket id issued (ids run from 1).
    uint256 public lastRequestId;
    /// @notice Every ticket up to this id is finalized.
    uint256 public lastFinalizedId;
    /// @notice Native token held for finalized, unclaimed tickets (internal accounting).
    uint256 public lockedAssets;

    mapping(uint256 id => Request) internal _requests;
    Checkpoint[] internal _checkpoints;

    event WithdrawalRequested(
        uint256 indexed id, address indexed requester, address indexed owner, uint256 shares, uint256 assets
    );
    event WithdrawalsFinalized(
        uint256 indexed fromId,
        uint256 indexed toId,
        uint256 assetsLocked,
        uint256 sharesBurned,
        uint256 shareRate
    );
    event WithdrawalClaimed(
        uint256 indexed id, address indexed owner, address indexed recipient, uint256 assets
    );

    /// @dev A parameter is outside its allowed range (name given).
    error InvalidParameter(string name);
    /// @dev A zero address where one is required.
    error ZeroAddress();
    /// @dev The request's value at the current rate is outside [minRequest, maxRequest].
    error RequestOutOfRange(uint256 assets, uint256 minRequest, uint256 maxRequest);
    /// @dev Finalization must go beyond the last finalized id and not past the last request.
    error InvalidFinalization(uint256 lastId, uint256 lastFinalizedId, uint256 lastRequestId);
    /// @dev Batch ends must increase and end at the finalization's last id.
    error InvalidBatches(uint256 index);
    /// @dev The batch's first and last tickets lie on different sides of the finalization rate,
    ///      or the batch spans a fall of the rate at request (two runs).
    error MixedBatch(uint256 index);
    /// @dev The caller neither owns the ticket nor is approved for it.
    error NotTicketOwner(uint256 id, address caller);
    /// @dev The ticket is not finalized, or already claimed.
    error NotClaimable(uint256 id, State state);
    /// @dev The hint is not the checkpoint of the ticket.
    error WrongHint(uint256 id, uint256 hint);
    /// @dev Arrays of different lengths.
    error LengthMismatch();
    /// @dev The native transfer failed.
    error TransferFailed(address to, uint256 amount);
    /// @dev Only the token sends native token here.
    error NotToken(address sender);

    /// @param token_ The liquid token.
    /// @param minRequest_ Smallest request in wei.
    /// @param maxRequest_ Largest request in wei.
    /// @param admin DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with ZeroAddress for a zero token or admin; with InvalidParameter naming
    ///      the parameter if minRequest is zero or above maxRequest.
    constructor(LiquidStakingToken token_, uint256 minRequest_, uint256 maxRequest_, address admin)
        ERC721("stSEQ withdrawal ticket", "stSEQ-WQ")
    {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (minRequest_ == 0 || minRequest_ > maxRequest_) revert InvalidParameter("minRequest");
        token = token_;
        minRequest = minRequest_;
        maxRequest = maxRequest_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ requests
    /// @notice Locks `shares` of the caller's tokens (approved to this queue) and mints a ticket
    ///         to `owner`.
    /// @param shares Token shares to exit.
    /// @param owner Receives the ticket.
    /// @return id The ticket id.
    /// @dev Reverts with ZeroAddress for a zero owner; with RequestOutOfRange if their value is
    ///      outside [minRequest, maxRequest]; with the token's ERC-20 error without allowance or
    ///      balance.
    function requestWithdrawal(uint256 shares, address owner) public nonReentrant returns (uint256 id) {
        if (owner == address(0)) revert ZeroAddress();
        uint256 rate = token.shareRate();
        uint256 assets = Math.mulDiv(shares, rate, RewardMath.RAY);
        if (assets < minRequest || assets > maxRequest) {
            revert RequestOutOfRange(assets, minRequest, maxRequest);
        }
        // The token reverts on failure; a false return would be a failure too.
        if (!token.transferFrom(msg.sender, address(this), shares)) {
            revert TransferFailed(msg.sender, shares);
        }
        id = lastRequestId + 1;
        Request storage previous = _requests[id - 1];
        _requests[id] = Request({
            cumulativeShares: previous.cumulativeShares + shares,
            cumulativeAssets: previous.cumulativeAssets + assets,
            requestedAt: uint64(block.timestamp),
            claimed: false,
            rateAtRequest: SafeCast.toUint128(rate),
            run: rate < previous.rateAtRequest ? previous.run + 1 : previous.run
        });
        lastRequestId = id;
        _mint(owner, id);
        emit WithdrawalRequested(id, msg.sender, owner, shares, assets);
    }

    /// @notice `requestWithdrawal` with an EIP-2612 permit for the shares in the same call. A
    ///         permit that fails (already used, e.g. front-run) is ignored when the allowance is
    ///         there anyway.
    /// @param shares Token shares to exit.
    /// @param owner Receives the ticket.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    /// @return id The ticket id.
    /// @dev Reverts as `requestWithdrawal`.
    function requestWithdrawalWithPermit(
        uint256 shares,
        address owner,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 id) {
        try token.permit(msg.sender, address(this), shares, deadline, v, r, s) {} catch {}
        id = requestWithdrawal(shares, owner);
    }

    // ------------------------------------------------------------------ finalization
    /// @notice Finalizes tickets `lastFinalizedId + 1 ..= batchEnds[last]` at the token's
    ///         current finalization rate; `batchEnds` cut them into batches, each within one run
    ///         (`rateAtRequest`) and with its first and last tickets on the same side of that
    ///         rate, so that each batch locks what its tickets claim.
    /// @param batchEnds The last ticket of each batch, increasing.
    /// @return assetsLocked What the tickets are worth, moved from the token's buffer.
    /// @dev Reverts with AccessControlUnauthorizedAccount without FINALIZER_ROLE while the
    ///      token's oracle is not stale; with
    ///      InvalidFinalization for nothing to finalize or past the last request; with
    ///      InvalidBatches for ends out of order; with MixedBatch for a batch across runs or
    ///      whose ends are on different sides of the rate; with the token's InsufficientBuffer when the buffer
    ///      cannot pay.
    function finalize(uint256[] calldata batchEnds) external nonReentrant returns (uint256 assetsLocked) {
        // The finalizer (the report) finalizes; with a stale oracle anyone may, as unbonding
        // matures, at the token's current internal rate.
        if (!hasRole(FINALIZER_ROLE, msg.sender) && !token.isStale()) {
            revert AccessControlUnauthorizedAccount(msg.sender, FINALIZER_ROLE);
        }
        uint256 first = lastFinalizedId + 1;
        uint256 lastId = batchEnds.length == 0 ? 0 : batchEnds[batchEnds.length - 1];
        if (lastId < first || lastId > lastRequestId) {
            revert InvalidFinalization(lastId, lastFinalizedId, lastRequestId);
        }
        // In bunker mode the token's finalization rate is its rate less the largest pending
        // slash loss, so no ticket leaves with value a pending slash may take.
        uint256 rate = token.finalizationRate();
        uint256 start = first;
        for (uint256 i; i < batchEnds.length; ++i) {
            uint256 end = batchEnds[i];
            if (end < start) revert InvalidBatches(i);
            Request storage head = _requests[start];
            Request storage tail = _requests[end];
            // Within one run the rates at request never fall: the ends bound every ticket's.
            if (head.run != tail.run || (head.rateAtRequest <= rate) != (tail.rateAtRequest <= rate)) {
                revert MixedBatch(i);
            }
            assetsLocked += _batchValue(start, end, rate);
            start = end + 1;
        }
        uint256 shares = _requests[lastId].cumulativeShares - _requests[first - 1].cumulativeShares;
        _checkpoints.push(Checkpoint({fromId: first, shareRate: rate}));
        lastFinalizedId = lastId;
        lockedAssets += assetsLocked;
        token.finalizeWithdrawals(shares, assetsLocked);
        emit WithdrawalsFinalized(first, lastId, assetsLocked, shares, rate);
    }

    /// @notice Accepts the finalized value from the token only.
    receive() external payable {
        if (msg.sender != address(token)) revert NotToken(msg.sender);
    }

    // ------------------------------------------------------------------ claims
    /// @notice Pays a finalized ticket to `recipient` and burns it.
    /// @param id The ticket.
    /// @param hint The index of its checkpoint (`findCheckpointHints`).
    /// @param recipient Receives the value.
    /// @return assets The value paid.
    /// @dev Reverts with ZeroAddress for a zero recipient; with NotTicketOwner unless the caller
    ///      owns or may transfer the ticket; with NotClaimable unless it is finalized and
    ///      unclaimed; with WrongHint for another checkpoint; with TransferFailed if the
    ///      recipient refuses the transfer.
    function claimWithdrawal(uint256 id, uint256 hint, address recipient)
        public
        nonReentrant
        returns (uint256 assets)
    {
        if (recipient == address(0)) revert ZeroAddress();
        State state = stateOf(id);
        if (state != State.Finalized) revert NotClaimable(id, state);
        address owner = _ownerOf(id);
        if (!_isAuthorized(owner, msg.sender, id)) revert NotTicketOwner(id, msg.sender);
        assets = _finalizedValue(id, hint);
        _requests[id].claimed = true;
        lockedAssets -= assets;
        _burn(id);
        emit WithdrawalClaimed(id, owner, recipient, assets);
        (bool ok,) = recipient.call{value: assets}("");
        if (!ok) revert TransferFailed(recipient, assets);
    }

    /// @notice Claims several tickets to `recipient`.
    /// @param ids The tickets.
    /// @param hints Their checkpoints, in the same order.
    /// @param recipient Receives the value.
    /// @return total The value paid.
    /// @dev Reverts with LengthMismatch for arrays of different lengths; as `claimWithdrawal`.
    function claimWithdrawals(uint256[] calldata ids, uint256[] calldata hints, address recipient)
        external
        returns (uint256 total)
    {
        if (ids.length != hints.length) revert LengthMismatch();
        for (uint256 i; i < ids.length; ++i) {
            total += claimWithdrawal(ids[i], hints[i], recipient);
        }
    }

    // ------------------------------------------------------------------ views
    /// @notice What the pending (not yet finalized) tickets were worth at request: the most
    ///         the queue can still need from the token's buffer.
    /// @return The value in wei.
    function pendingAssets() external view returns (uint256) {
        return _requests[lastRequestId].cumulativeAssets - _requests[lastFinalizedId].cumulativeAssets;
    }

    /// @notice A ticket's state.
    /// @param id The ticket.
    /// @return None, Pending, Finalized or Claimed.
    function stateOf(uint256 id) public view returns (State) {
        if (id == 0 || id > lastRequestId) return State.None;
        if (_requests[id].claimed) return State.Claimed;
        return id <= lastFinalizedId ? State.Finalized : State.Pending;
    }

    /// @notice A ticket's shares and value at request.
    /// @param id The ticket.
    /// @return shares The shares locked.
    /// @return assetsAtRequest Their value when requested.
    /// @return requestedAt When.
    function request(uint256 id)
        external
        view
        returns (uint256 shares, uint256 assetsAtRequest, uint64 requestedAt)
    {
        Request storage q = _requests[id];
        Request storage p = _requests[id == 0 ? 0 : id - 1];
        return
            (q.cumulativeShares - p.cumulativeShares, q.cumulativeAssets - p.cumulativeAssets, q.requestedAt);
    }

    /// @notice The token's share rate when ticket `id` was requested, and its run: batches lie
    ///         within one run (the run grows at each ticket requested at a lower rate than the
    ///         ticket before it).
    /// @param id The ticket.
    /// @return rate The share rate at request (RAY per share).
    /// @return run The ticket's run.
    function rateAtRequest(uint256 id) external view returns (uint256 rate, uint256 run) {
        Request storage q = _requests[id];
        return (q.rateAtRequest, q.run);
    }

    /// @notice What a finalized ticket pays.
    /// @param id The ticket.
    /// @param hint Its checkpoint.
    /// @return The value in wei.
    /// @dev Reverts with NotClaimable unless finalized (claimed tickets included); with WrongHint.
    function finalizedValue(uint256 id, uint256 hint) external view returns (uint256) {
        if (id == 0 || id > lastFinalizedId) revert NotClaimable(id, stateOf(id));
        return _finalizedValue(id, hint);
    }

    /// @notice The checkpoint index of each finalized ticket (for claims).
    /// @param ids Finalized tickets.
    /// @return hints Their checkpoint indexes.
    /// @dev Reverts with NotClaimable for a ticket not finalized.
    function findCheckpointHints(uint256[] calldata ids) external view returns (uint256[] memory hints) {
        hints = new uint256[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            if (ids[i] == 0 || ids[i] > lastFinalizedId) revert NotClaimable(ids[i], stateOf(ids[i]));
            uint256 low;
            uint256 high = _checkpoints.length;
            while (high - low > 1) {
                uint256 mid = Math.average(low, high);
                if (_checkpoints[mid].fromId <= ids[i]) low = mid;
                else high = mid;
            }
            hints[i] = low;
        }
    }

    /// @notice The number of finalizations.
    /// @return The checkpoints' count.
    function checkpointCount() external view returns (uint256) {
        return _checkpoints.length;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal
    /// The value of tickets `start..=end` (one run, both ends on one side of `rate`) at `rate`:
    /// the smaller of their values at request and their shares at the rate.
    function _batchValue(uint256 start, uint256 end, uint256 rate) internal view returns (uint256) {
        Request storage last = _requests[end];
        Request storage before = _requests[start - 1];
        uint256 shares = last.cumulativeShares - before.cumulativeShares;
        uint256 assets = last.cumulativeAssets - before.cumulativeAssets;
        return Math.min(assets, Math.mulDiv(shares, rate, RewardMath.RAY));
    }

    function _finalizedValue(uint256 id, uint256 hint) internal view returns (uint256) {
        uint256 count = _checkpoints.length;
        if (
            hint >= count || _checkpoints[hint].fromId > id
                || (hint + 1 < count && _checkpoints[hint + 1].fromId <= id)
        ) revert WrongHint(id, hint);
        Request storage q = _requests[id];
        // shares * min(rate at request, rate at finalization) / RAY (RewardMath.ticketValue, the
        // rounding table's row the ticket_value vector pins): the smaller of the value at
        // request (shares * rate at request / RAY, rounded down the same way) and the shares'
        // value at the batch's rate.
        uint256 shares = q.cumulativeShares - _requests[id - 1].cumulativeShares;
        return RewardMath.ticketValue(shares, q.rateAtRequest, _checkpoints[hint].shareRate);
    }
}
