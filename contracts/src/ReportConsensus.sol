// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title ReportConsensus
/// @notice The oracle members' agreement on a report, inherited by the report contract
///         (ReportExecutor). For each report slot (its first epoch; reports are contiguous),
///         each member votes one report hash and may change its vote while the slot is open. A
///         hash is agreed while it has `quorum` votes (more than half the members), so members
///         who find a fault in an agreed report that did not execute yet can move to a new one
///         (for a later refBlock). Changing the membership or the quorum starts the voting
///         over: votes cast under an earlier membership no longer count. The report contract
///         executes a report whose hash, `keccak256(abi.encode(DOMAIN_TAG, block.chainid,
///         address(this), report))`, is agreed for its slot; anyone may hand it the data.
abstract contract ReportConsensus is AccessControl {
    /// @notice The highest number of members.
    uint256 public constant MAX_MEMBERS = 64;

    /// @notice The members, in the order set.
    address[] internal _members;
    mapping(address member => bool) public isMember;
    /// @notice Votes needed (more than half of the members).
    uint8 public quorum;
    /// @notice Bumped at every membership change: earlier votes stop counting.
    uint64 public membershipVersion;

    mapping(uint64 version => mapping(uint64 slot => mapping(address member => bytes32))) internal _voteOf;
    mapping(uint64 version => mapping(uint64 slot => mapping(bytes32 hash => uint256))) internal _votesFor;

    event MembershipSet(uint64 indexed version, address[] members, uint8 quorum);
    event HashVoted(uint64 indexed slot, address indexed member, bytes32 reportHash, uint256 votes);
    event HashAgreed(uint64 indexed slot, bytes32 reportHash);

    /// @dev The membership is invalid: empty, too large, repeated or zero members, or a quorum
    ///      not above half of them (or above their number).
    error InvalidMembership();
    /// @dev The caller is not a member.
    error NotMember(address caller);
    /// @dev Votes are taken for the next report's slot only.
    error SlotClosed(uint64 slot);
    /// @dev A zero hash cannot be voted.
    error ZeroHash();

    /// @param members_ The oracle members.
    /// @param quorum_ Votes needed: more than half of the members.
    /// @param admin DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with InvalidMembership as `setMembership`.
    constructor(address[] memory members_, uint8 quorum_, address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMembership(members_, quorum_);
    }

    /// @notice Replaces the members and the quorum; votes cast so far stop counting.
    /// @param members_ The oracle members.
    /// @param quorum_ Votes needed: more than half of the members.
    /// @dev Reverts with AccessControlUnauthorizedAccount without DEFAULT_ADMIN_ROLE (the
    ///      timelock); with InvalidMembership for no members, more than MAX_MEMBERS, a zero or
    ///      repeated member, or a quorum not in (members / 2, members].
    function setMembership(address[] calldata members_, uint8 quorum_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMembership(members_, quorum_);
    }

    /// @notice Votes `reportHash` for the report starting at epoch `slot` (replacing the
    ///         caller's earlier vote there). A hash is agreed while it has `quorum` votes.
    /// @param slot The report's first epoch.
    /// @param hash The report hash the member computed.
    /// @return agreed Whether the hash has the quorum after this vote.
    /// @dev Reverts with NotMember for anyone else; with ZeroHash; with SlotClosed for a slot
    ///      other than the next report's.
    function vote(uint64 slot, bytes32 hash) external returns (bool agreed) {
        if (!isMember[msg.sender]) revert NotMember(msg.sender);
        if (hash == bytes32(0)) revert ZeroHash();
        if (!_slotOpen(slot)) revert SlotClosed(slot);
        uint64 version = membershipVersion;
        bytes32 previous = _voteOf[version][slot][msg.sender];
        if (previous != bytes32(0)) _votesFor[version][slot][previous] -= 1;
        _voteOf[version][slot][msg.sender] = hash;
        uint256 votes = ++_votesFor[version][slot][hash];
        emit HashVoted(slot, msg.sender, hash, votes);
        if (votes >= quorum) {
            if (votes == quorum) emit HashAgreed(slot, hash);
            return true;
        }
    }

    /// @notice Whether `hash` has the quorum for `slot` under the current membership.
    /// @param slot The report's first epoch.
    /// @param hash The report hash.
    /// @return True when agreed.
    function isAgreed(uint64 slot, bytes32 hash) public view returns (bool) {
        return hash != bytes32(0) && _votesFor[membershipVersion][slot][hash] >= quorum;
    }

    /// @notice The votes a hash has for a slot under the current membership.
    /// @param slot The report's first epoch.
    /// @param hash The report hash.
    /// @return The number of votes.
    function votesFor(uint64 slot, bytes32 hash) external view returns (uint256) {
        return _votesFor[membershipVersion][slot][hash];
    }

    /// @notice The current members.
    /// @return The members.
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// Whether votes for `slot` are taken (the report contract: the next report's slot only).
    function _slotOpen(uint64 slot) internal view virtual returns (bool);

    function _setMembership(address[] memory members_, uint8 quorum_) internal {
        uint256 n = members_.length;
        if (n == 0 || n > MAX_MEMBERS || uint256(quorum_) * 2 <= n || quorum_ > n) {
            revert InvalidMembership();
        }
        for (uint256 i; i < _members.length; ++i) {
            isMember[_members[i]] = false;
        }
        for (uint256 i; i < n; ++i) {
            address m = members_[i];
            if (m == address(0) || isMember[m]) revert InvalidMembership();
            isMember[m] = true;
        }
        _members = members_;
        quorum = quorum_;
        uint64 version = membershipVersion + 1;
        membershipVersion = version;
        emit MembershipSet(version, members_, quorum_);
    }
}
