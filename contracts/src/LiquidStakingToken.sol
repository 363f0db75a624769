// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RewardMath} from "./libraries/RewardMath.sol";

/// @dev The admin must be a timelock whose delay covers the longest exit.
interface IAdminDelay {
    function getMinDelay() external view returns (uint256);
}

/// @title LiquidStakingToken
/// @notice The liquid staking receipt: a non-rebasing, exchange-rate ERC-20 with EIP-2612
///         permit. A holder's balance is shares; what a share is worth is
///         `(totalPooledAssets + 1) / (totalSupply + 1000)` (the virtual offset of every share
///         pool). The offset makes a first deposit mint 1000 shares per wei, so the token has
///         21 decimals (18 + 3, as OpenZeppelin's ERC-4626 with a decimals offset): one whole
///         token starts at one whole native token. Deposits wait in the buffer until a report
///         delegates them.
/// @dev First slice of "Contracts II": deposits with their limits, the exchange rate, its
///      feed. Delegation by report, harvest, the withdrawal queue, instant exit, bunker mode
///      and the stale-oracle exit build on the accounting here: `totalPooledAssets` is internal
///      (never the contract's balance), and the rate moves only when a report executes or the
///      registry reports a slash loss. A deposit mints shares rounded down, so it can only
///      raise the rate by dust.
contract LiquidStakingToken is ERC20Permit, AccessControl, ReentrancyGuardTransient {
    /// @notice Parameters fixed at deployment (from the economics configuration, `[liquid]`).
    struct Params {
        uint256 minDeposit;
        uint256 totalCap;
        /// Lido's staking rate limit: at most this much at once...
        uint256 stakeLimitMax;
        /// ...refilled by this much per block.
        uint256 stakeLimitRefillPerBlock;
        /// The longest exit in seconds, `(unbonding + 1) * epoch`: the admin's minimum delay.
        uint256 longestExit;
    }

    uint256 public immutable minDeposit;
    uint256 public immutable totalCap;
    uint256 public immutable stakeLimitMax;
    uint256 public immutable stakeLimitRefillPerBlock;

    /// @notice Native token waiting to be delegated (internal accounting). Packed with
    ///         `stakedAssets` in one slot: a deposit reads both.
    uint128 public bufferedAssets;
    /// @notice The value of the token's stake in the registry as last accounted (moves only at
    ///         reports and slashes).
    uint128 public stakedAssets;
    /// @notice When the rate last moved by design (deployment, report, slash loss).
    uint64 public rateUpdatedAt;
    /// @notice How many times the rate has been updated (the feed's round id).
    uint64 public rateUpdates;

    /// @notice The withdrawal queue: holds locked shares, finalizes them against the buffer.
    address public withdrawalQueue;

    uint128 internal _stakeLimitLeft;
    uint64 internal _stakeLimitBlock;

    /// @notice `amount` was deposited by `sender` for `receiver`, minting `shares`.
    event Deposited(
        address indexed sender,
        address indexed receiver,
        uint256 amount,
        uint256 shares,
        address indexed referral
    );

    /// @notice The queue burned `shares` and took `assets` from the buffer for its tickets.
    event WithdrawalsFinalized(uint256 shares, uint256 assets);
    /// @notice The withdrawal queue was set (once).
    event WithdrawalQueueSet(address queue);

    /// @dev Only the withdrawal queue may do this.
    error NotQueue(address caller);
    /// @dev The withdrawal queue is set once.
    error QueueAlreadySet(address queue);
    /// @dev The buffer cannot pay what the tickets are worth.
    error InsufficientBuffer(uint256 assets, uint256 buffered);
    /// @dev A parameter is outside its allowed range (name given).
    error InvalidParameter(string name);
    /// @dev A zero address where one is required.
    error ZeroAddress();
    /// @dev The admin is not a contract with a timelock delay.
    error AdminNotTimelock(address admin);
    /// @dev The admin's delay is shorter than the longest exit.
    error AdminDelayTooShort(uint256 delay, uint256 required);
    /// @dev Below the minimum deposit.
    error DepositTooSmall(uint256 amount, uint256 minDeposit);
    /// @dev The deposit would take the pooled assets above the total cap.
    error TotalCapExceeded(uint256 pooledAfter, uint256 totalCap);
    /// @dev The deposit is above what the staking rate limit allows now.
    error StakeLimitExceeded(uint256 amount, uint256 limit);
    /// @dev The deposit buys no share.
    error ZeroShares();
    /// @dev The native transfer failed.
    error TransferFailed(address to, uint256 amount);
    /// @dev Plain transfers of native token are refused: use `deposit`.
    error UseDeposit();

    /// @param p The parameters.
    /// @param admin DEFAULT_ADMIN_ROLE: a timelock whose delay is at least `p.longestExit`.
    /// @dev Reverts with ZeroAddress for a zero admin; with AdminNotTimelock if it has no code;
    ///      with AdminDelayTooShort if its delay is shorter than `p.longestExit`; with
    ///      InvalidParameter naming the parameter if minDeposit is zero or above totalCap,
    ///      totalCap is not representable in 128 bits, or
    ///      stakeLimitMax is zero, below minDeposit or not representable in 128 bits, or
    ///      longestExit is zero.
    constructor(Params memory p, address admin) ERC20("seqstake staked token", "stSEQ") ERC20Permit("stSEQ") {
        if (admin == address(0)) revert ZeroAddress();
        if (p.minDeposit == 0 || p.minDeposit > p.totalCap) revert InvalidParameter("minDeposit");
        if (p.totalCap > type(uint128).max) revert InvalidParameter("totalCap");
        if (p.stakeLimitMax < p.minDeposit || p.stakeLimitMax > type(uint128).max) {
            revert InvalidParameter("stakeLimitMax");
        }
        if (p.longestExit == 0) revert InvalidParameter("longestExit");
        if (admin.code.length == 0) revert AdminNotTimelock(admin);
        uint256 delay = IAdminDelay(admin).getMinDelay();
        if (delay < p.longestExit) revert AdminDelayTooShort(delay, p.longestExit);
        minDeposit = p.minDeposit;
        totalCap = p.totalCap;
        stakeLimitMax = p.stakeLimitMax;
        stakeLimitRefillPerBlock = p.stakeLimitRefillPerBlock;
        _stakeLimitLeft = uint128(p.stakeLimitMax);
        _stakeLimitBlock = uint64(block.number);
        rateUpdatedAt = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ deposits
    /// @notice Deposits `msg.value` for the caller.
    /// @param referral Recorded in the event (address(0) for none).
    /// @return shares The shares minted.
    /// @dev Reverts as `depositFor`.
    function deposit(address referral) external payable nonReentrant returns (uint256 shares) {
        shares = _deposit(msg.sender, referral);
    }

    /// @notice Deposits `msg.value` and mints the shares to `receiver`.
    /// @param receiver Receives the shares.
    /// @param referral Recorded in the event (address(0) for none).
    /// @return shares The shares minted.
    /// @dev Reverts with ZeroAddress for a zero receiver; with DepositTooSmall below
    ///      minDeposit; with TotalCapExceeded above the cap; with StakeLimitExceeded above the
    ///      staking rate limit; with ZeroShares if the deposit buys no share.
    function depositFor(address receiver, address referral)
        external
        payable
        nonReentrant
        returns (uint256 shares)
    {
        if (receiver == address(0)) revert ZeroAddress();
        shares = _deposit(receiver, referral);
    }

    /// @notice Refuses plain transfers: value sent without `deposit` would mint nothing.
    receive() external payable {
        revert UseDeposit();
    }

    // ------------------------------------------------------------------ withdrawal queue
    /// @notice Sets the withdrawal queue, once.
    /// @param queue The queue.
    /// @dev Reverts with AccessControlUnauthorizedAccount without DEFAULT_ADMIN_ROLE (the
    ///      timelock); with ZeroAddress for zero; with QueueAlreadySet the second time.
    function setWithdrawalQueue(address queue) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (queue == address(0)) revert ZeroAddress();
        if (withdrawalQueue != address(0)) revert QueueAlreadySet(withdrawalQueue);
        withdrawalQueue = queue;
        emit WithdrawalQueueSet(queue);
    }

    /// @notice Burns `shares` the queue holds and sends it `assets` from the buffer: the value
    ///         of the tickets it finalizes (never more than the shares are worth, so the rate
    ///         cannot fall).
    /// @param shares Locked shares of the finalized tickets.
    /// @param assets Their value.
    /// @dev Reverts with NotQueue for anyone but the queue; with InsufficientBuffer when the
    ///      buffer cannot pay; with TransferFailed if the queue refuses the value.
    function finalizeWithdrawals(uint256 shares, uint256 assets) external nonReentrant {
        address queue = withdrawalQueue;
        if (msg.sender != queue) revert NotQueue(msg.sender);
        if (assets > bufferedAssets) revert InsufficientBuffer(assets, bufferedAssets);
        bufferedAssets -= SafeCast.toUint128(assets);
        _burn(queue, shares);
        emit WithdrawalsFinalized(shares, assets);
        (bool ok,) = queue.call{value: assets}("");
        if (!ok) revert TransferFailed(queue, assets);
    }

    // ------------------------------------------------------------------ views
    /// @notice Everything the shares are a claim on: the buffer and the stake in the registry.
    /// @return The assets in wei (internal accounting, never the contract's balance).
    function totalPooledAssets() public view returns (uint256) {
        return uint256(bufferedAssets) + stakedAssets;
    }

    /// @notice The shares `assets` would buy now (rounded down).
    /// @param assets Native token in wei.
    /// @return The shares.
    /// @dev Reverts with ReentrancyGuardReentrantCall while a guarded call is in progress.
    function convertToShares(uint256 assets) public view returns (uint256) {
        _refuseDuringGuardedCall();
        return RewardMath.sharesForDeposit(assets, totalSupply(), totalPooledAssets());
    }

    /// @notice What `shares` are worth now (rounded down).
    /// @param shares Token balance.
    /// @return The assets in wei.
    /// @dev Reverts with ReentrancyGuardReentrantCall while a guarded call is in progress.
    function convertToAssets(uint256 shares) public view returns (uint256) {
        _refuseDuringGuardedCall();
        return Math.mulDiv(
            shares, totalPooledAssets() + RewardMath.VIRTUAL_ASSETS, totalSupply() + RewardMath.VIRTUAL_SHARES
        );
    }

    /// @notice 18 decimals of the native token plus the 3 of the virtual offset.
    /// @return 21.
    function decimals() public pure override returns (uint8) {
        return 21;
    }

    /// @notice What one whole token (1e21 shares) is worth, in wei: the rate lending markets read.
    /// @return The rate, 18 decimals.
    /// @dev Reverts with ReentrancyGuardReentrantCall while a guarded call is in progress.
    function getRate() external view returns (uint256) {
        return convertToAssets(1e21);
    }

    /// @notice What one share is worth, RAY-scaled: `(pooled + 1) * RAY / (supply + 1000)`,
    ///         rounded down (the rate the queue records at request and finalization).
    /// @return The rate.
    /// @dev Reverts with ReentrancyGuardReentrantCall while a guarded call is in progress.
    function shareRate() public view returns (uint256) {
        _refuseDuringGuardedCall();
        return Math.mulDiv(
            totalPooledAssets() + RewardMath.VIRTUAL_ASSETS,
            RewardMath.RAY,
            totalSupply() + RewardMath.VIRTUAL_SHARES
        );
    }

    /// @notice What the staking rate limit allows now.
    /// @return The largest deposit accepted in this block.
    function stakeLimit() public view returns (uint256) {
        uint256 refilled = _stakeLimitLeft + (block.number - _stakeLimitBlock) * stakeLimitRefillPerBlock;
        return Math.min(refilled, stakeLimitMax);
    }

    // ------------------------------------------------------------------ internal
    function _deposit(address receiver, address referral) internal returns (uint256 shares) {
        uint256 amount = msg.value;
        if (amount < minDeposit) revert DepositTooSmall(amount, minDeposit);
        uint256 pooled = totalPooledAssets();
        if (pooled + amount > totalCap) revert TotalCapExceeded(pooled + amount, totalCap);
        uint256 limit = stakeLimit();
        if (amount > limit) revert StakeLimitExceeded(amount, limit);
        shares = RewardMath.sharesForDeposit(amount, totalSupply(), pooled);
        if (shares == 0) revert ZeroShares();
        _stakeLimitLeft = SafeCast.toUint128(limit - amount);
        _stakeLimitBlock = uint64(block.number);
        // The total cap (checked above) keeps the pooled assets far below 2^128.
        bufferedAssets += SafeCast.toUint128(amount);
        _mint(receiver, shares);
        emit Deposited(msg.sender, receiver, amount, shares, referral);
    }

    function _refuseDuringGuardedCall() internal view {
        if (_reentrancyGuardEntered()) revert ReentrancyGuardReentrantCall();
    }
}
