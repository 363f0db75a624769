// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @notice Benchmark skeleton: a registry with checkpointed stake and an accumulator.
contract SkeletonRegistry is AccessControl, ReentrancyGuard {
    using Checkpoints for Checkpoints.Trace208;

    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");
    uint256 internal constant RAY = 1e27;

    struct Sequencer {
        address operator;
        uint256 bond;
        uint256 poolShares;
        uint256 accRewardPerShare;
        uint256 dust;
    }

    mapping(uint256 => Sequencer) public sequencers;
    mapping(uint256 => Checkpoints.Trace208) internal stakeAt;
    mapping(uint256 => mapping(address => uint256)) public shares;
    uint256 public count;

    event Delegated(uint256 indexed id, address indexed delegator, uint256 amount);
    event Rewarded(uint256 indexed id, uint256 amount, uint256 acc);

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function register() external payable returns (uint256 id) {
        id = ++count;
        sequencers[id] = Sequencer(msg.sender, msg.value, 0, 0, 0);
        stakeAt[id].push(uint48(block.timestamp), uint208(msg.value));
    }

    function delegate(uint256 id) external payable nonReentrant {
        Sequencer storage s = sequencers[id];
        s.poolShares += msg.value;
        shares[id][msg.sender] += msg.value;
        stakeAt[id].push(uint48(block.timestamp), uint208(s.bond + s.poolShares));
        emit Delegated(id, msg.sender, msg.value);
    }

    function reward(uint256 id) external payable onlyRole(REPORTER_ROLE) {
        Sequencer storage s = sequencers[id];
        uint256 amount = msg.value + s.dust;
        uint256 inc = amount * RAY / s.poolShares;
        s.dust = amount - inc * s.poolShares / RAY;
        s.accRewardPerShare += inc;
        emit Rewarded(id, msg.value, s.accRewardPerShare);
    }

    function stakeAtTime(uint256 id, uint48 time) external view returns (uint256) {
        return stakeAt[id].upperLookup(time);
    }
}

/// @notice Benchmark skeleton: a liquid token with permit.
contract SkeletonLiquidToken is ERC20Permit {
    uint256 public totalPooledAssets;

    constructor() ERC20("Staked Token", "stTOKEN") ERC20Permit("Staked Token") {}

    function deposit() external payable returns (uint256 minted) {
        minted = msg.value * (totalSupply() + 1e3) / (totalPooledAssets + 1);
        totalPooledAssets += msg.value;
        _mint(msg.sender, minted);
    }
}

/// @notice Benchmark skeleton: a withdrawal queue of ERC-721 tickets.
contract SkeletonWithdrawalQueue is ERC721, AccessControl {
    struct Ticket {
        uint128 shares;
        uint128 cumulativeShares;
        bool claimed;
    }

    Ticket[] public tickets;

    constructor(address admin) ERC721("Withdrawal Ticket", "wTICKET") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function request(uint128 amount) external returns (uint256 id) {
        uint128 previous = tickets.length == 0 ? 0 : tickets[tickets.length - 1].cumulativeShares;
        tickets.push(Ticket(amount, previous + amount, false));
        id = tickets.length;
        _mint(msg.sender, id);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}

/// @notice Benchmark skeleton: the governance timelock.
contract SkeletonTimelock is TimelockController {
    constructor(uint256 delay, address[] memory proposers, address[] memory executors)
        TimelockController(delay, proposers, executors, address(0))
    {}
}
