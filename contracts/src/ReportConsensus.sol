// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReportTypes} from "./interfaces/ReportTypes.sol";

/// @title ReportConsensus
/// @notice The oracle members' agreement on a report. For each report slot (its first epoch;
///         reports are contiguous), each member votes one report hash and may change its vote.
///         A hash with `quorum` votes (more than half the members) is agreed. Changing the
///         membership or the quorum starts the voting over: votes cast under an earlier
///         membership no longer count. The report contract (Contracts III) executes a report
///         whose hash, `keccak256(abi.encode(DOMAIN_TAG, block.chainid, address(this),
///         report))`, is agreed for its slot; anyone may hand it the data.
contract ReportConsensus is AccessControl {
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
    /// @notice The agreed hash of a slot (zero until agreed).
    mapping(uint64 slot => bytes32) public agreedHash;

    event MembershipSet(uint64 indexed version, address[] members, uint8 quorum);
    event HashVoted(uint64 indexed slot, address indexed member, bytes32 reportHash, uint256 votes);
    event HashAgreed(uint64 indexed slot, bytes32 reportHash);

    /// @dev The membership is invalid: empty, too large, repeated or zero members, or a quorum
    ///      not above half of them (or above their number).
    error InvalidMembership();
    /// @dev The caller is not a member.
    error NotMember(address caller);
    /// @dev The slot is already agreed.
    error AlreadyAgreed(uint64 slot, bytes32 reportHash);
    /// @dev A zero hash cannot be voted.
    error ZeroHash();

    /// @param members The oracle members.
    /// @param quorum_ Votes needed: more than half of the members.
    /// @param admin DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with InvalidMembership as `setMembership`.
    constructor(address[] memory members, uint8 quorum_, address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMembership(members, quorum_);
    }

    /// @notice Replaces the members and the quorum; votes cast so far stop counting.
    /// @param members The oracle members.
    /// @param quorum_ Votes needed: more than half of the members.
    /// @dev Reverts with AccessControlUnauthorizedAccount without DEFAULT_ADMIN_ROLE (the
    ///      timelock); with InvalidMembership for no members, more than MAX_MEMBERS, a zero or
    ///      repeated member, or a quorum not in (members / 2, members].
    function setMembership(address[] calldata members, uint8 quorum_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMembership(members, quorum_);
    }

    /// @notice Votes `reportHash` for the report starting at epoch `slot` (replacing the
    ///         caller's earlier vote there). Agreement is reached when a hash has `quorum` votes.
    /// @param slot The report's first epoch.
    /// @param reportHash The hash the member computed.
    /// @return agreed Whether this vote reached the quorum.
    /// @dev Reverts with NotMember for anyone else; with ZeroHash; with AlreadyAgreed once the
    ///      slot is agreed.
    function vote(uint64 slot, bytes32 reportHash) external returns (bool agreed) {
        if (!isMember[msg.sender]) revert NotMember(msg.sender);
        if (reportHash == bytes32(0)) revert ZeroHash();
        bytes32 done = agreedHash[slot];
        if (done != bytes32(0)) revert AlreadyAgreed(slot, done);
        uint64 version = membershipVersion;
        bytes32 previous = _voteOf[version][slot][msg.sender];
        if (previous != bytes32(0)) _votesFor[version][slot][previous] -= 1;
        _voteOf[version][slot][msg.sender] = reportHash;
        uint256 votes = ++_votesFor[version][slot][reportHash];
        emit HashVoted(slot, msg.sender, reportHash, votes);
        if (votes >= quorum) {
            agreedHash[slot] = reportHash;
            emit HashAgreed(slot, reportHash);
            return true;
        }
    }

    /// @notice The votes a hash has for a slot under the current membership.
    /// @param slot The report's first epoch.
    /// @param reportHash The hash.
    /// @return The number of votes.
    function votesFor(uint64 slot, bytes32 reportHash) external view returns (uint256) {
        return _votesFor[membershipVersion][slot][reportHash];
    }

    /// @notice The current members.
    /// @return The members.
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @notice The hash members vote for `report` to be executed by `reportContract` on this
    ///         chain (the `report_hash` row of the shared vectors).
    /// @param report The report.
    /// @param reportContract The contract that executes it.
    /// @return The hash.
    function reportHash(ReportTypes.Report calldata report, address reportContract)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(ReportTypes.DOMAIN_TAG, block.chainid, reportContract, report));
    }

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
