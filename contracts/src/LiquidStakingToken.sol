// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RewardMath} from "./libraries/RewardMath.sol";
import {IStakeSlashListener} from "./interfaces/IStakeSlashListener.sol";
import {ISlashProposalListener} from "./interfaces/ISlashProposalListener.sol";
import {SequencerRegistry} from "./SequencerRegistry.sol";
import {LiquidCore} from "./liquid/LiquidCore.sol";
import {LiquidPositions} from "./liquid/LiquidPositions.sol";

/// @dev The admin must be a timelock whose delay covers the longest exit.
interface IAdminDelay {
    function getMinDelay() external view returns (uint256);
}

/// @dev What the withdrawal queue's pending tickets were worth at request.
interface IPendingAssets {
    function pendingAssets() external view returns (uint256);
}

/// @title LiquidStakingToken
/// @notice The liquid staking receipt: a non-rebasing, exchange-rate ERC-20 with EIP-2612
///         permit. A holder's balance is shares; what a share is worth is
///         `(totalPooledAssets + 1) / (totalSupply + 1000)` (the virtual offset of every share
///         pool). The offset makes a first deposit mint 1000 shares per wei, so the token has
///         21 decimals (18 + 3, as OpenZeppelin's ERC-4626 with a decimals offset): one whole
///         token starts at one whole native token. Deposits wait in the buffer until a report
///         delegates them.
/// @dev `totalPooledAssets = buffer + stake in the registry` is internal accounting (never the
///      contract's balance). The rate moves when the reporter (the report contract) harvests,
///      delegates or undelegates, and when the registry reports a slash loss. A deposit
///      mints shares rounded down and a finalization takes no more than the shares are worth,
///      so neither can lower it. Each pool's value is marked from the registry after every
///      action on it and lowered by each reported loss, rounded up, and each redelegated
///      position a slash reaches is re-marked at its registry value, so the books never hold
///      more than the registry would pay. The positions' bookkeeping runs in LiquidPositions,
///      by DELEGATECALL on this contract's storage (LiquidCore). While a slash proposal could
///      reach the token's stake (bunker mode) instant exit is closed and tickets finalize at
///      the rate less the largest pending loss. When no report has run for
///      `staleTimeoutEpochs` the oracle is stale: instant exit closes, anyone may undelegate
///      each pool's pro-rata part of what the queue needs beyond the buffer and unbonding,
///      bring matured buckets back and finalize tickets at the current internal rate.
contract LiquidStakingToken is
    LiquidCore,
    ERC20Permit,
    AccessControl,
    ReentrancyGuardTransient,
    IStakeSlashListener,
    ISlashProposalListener
{
    /// @notice Harvests, delegates and undelegates (the report contract).
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");

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
        /// The sequencer registry the token delegates in.
        address registry;
        /// Receives the pool fee as shares.
        address treasury;
        /// The token's own fee on harvested rewards, in bps.
        uint16 poolFeeBps;
        /// No sequencer holds more than this share of the pooled assets, in bps.
        uint16 perSequencerCapBps;
        /// Stake delegated plus undelegated per epoch, at most.
        uint256 maxMovedPerEpoch;
        /// Instant exit's fee, in bps: at least `maxRateMoveBps`.
        uint16 instantExitFeeBps;
        /// The largest rate move one report may make, in bps (the report contract's bound).
        uint16 maxRateMoveBps;
        /// Instant exits per epoch, at most (value before the fee).
        uint256 instantExitCapPerEpoch;
        /// Epochs without a report after which the oracle is stale.
        uint32 staleTimeoutEpochs;
    }

    uint256 public immutable minDeposit;
    uint256 public immutable totalCap;
    uint256 public immutable stakeLimitMax;
    uint256 public immutable stakeLimitRefillPerBlock;
    address public immutable treasury;
    uint16 public immutable poolFeeBps;
    uint16 public immutable instantExitFeeBps;
    uint256 public immutable instantExitCapPerEpoch;
    uint32 public immutable staleTimeoutEpochs;

    /// @notice The token's positions' code (LiquidPositions), run by DELEGATECALL on this
    ///         contract's storage; deployed by the constructor.
    address public immutable extension;

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
    /// @notice Finalized tickets left `gain` to the shares that stay; it is held out of the
    ///         pooled assets (`heldGain`, now `held`) until harvests add it within their bound.
    event GainHeld(uint256 gain, uint256 held);
    /// @notice A harvest added `gain` of the held gain to the pooled assets.
    event GainReleased(uint256 gain, uint256 held);
    /// @notice The withdrawal queue was set (once).
    event WithdrawalQueueSet(address queue);
    /// @notice `amount` of the buffer was delegated to sequencer `id`; the pool's value is now `value`.
    event StakeDelegated(uint32 indexed id, uint256 amount, uint256 value);
    /// @notice `shares` were undelegated from `id` into the bucket completing at `completionEpoch`.
    event StakeUndelegated(uint32 indexed id, uint256 shares, uint256 amount, uint64 completionEpoch);
    /// @notice A matured bucket paid `amount` back into the buffer.
    event UnbondedWithdrawn(uint32 indexed id, uint64 indexed completionEpoch, uint256 amount);
    /// @notice Rewards were harvested: `claimed` from the registry, `rewards` of those and of
    ///         the rewards carried before joined the buffer (the rest is carried to the next
    ///         harvest), and `fee` of them went to the treasury as `feeShares`.
    event Harvested(uint256 claimed, uint256 rewards, uint256 fee, uint256 feeShares);
    /// @notice The registry reported a slash loss.
    event SlashLossRecorded(
        uint32 indexed id, uint256 poolLoss, uint256 unbondingLoss, uint256 redelegatedLoss
    );
    /// @notice `amount` of the stake with `src` moved to `dst` (a position until it matures).
    event StakeRedelegated(
        uint32 indexed src, uint32 indexed dst, uint64 epoch, uint256 amount, uint256 value
    );
    /// @notice A matured position joined the token's ordinary delegation to `dst`.
    event RedelegationReleased(uint32 indexed src, uint32 indexed dst, uint64 epoch, uint256 shares);
    /// @notice The rate moved by design (round `round`).
    event RateUpdated(uint64 indexed round, uint256 rate);
    /// @notice `account` exited `shares` at once: `assets` paid to `to`, `fee` kept for the pool.
    event InstantExit(
        address indexed account, address indexed to, uint256 shares, uint256 assets, uint256 fee
    );
    /// @notice A slash proposal could cost the token up to `loss` (bunker mode).
    event SlashLossPending(uint256 indexed proposalId, uint32 indexed sequencerId, uint256 loss);
    /// @notice The proposal is resolved; its pending loss is released.
    event SlashLossReleased(uint256 indexed proposalId, uint256 loss);

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
    /// @dev Only the registry reports slash losses and pays the token.
    error NotRegistry(address caller);
    /// @dev The sequencer is not in the registry's active set.
    error NotActive(uint32 id);
    /// @dev The sequencer would hold more than the per-sequencer cap.
    error SequencerCapExceeded(uint32 id, uint256 value, uint256 cap);
    /// @dev The token holds `MAX_POSITIONS` unreleased positions already, or `2 * MAX_POSITIONS`
    ///      in its list (released ones waiting for their last rewards included).
    error TooManyPositions(uint256 maxPositions);
    /// @dev More stake would move in this epoch than allowed.
    error MoveLimitExceeded(uint256 moved, uint256 maxMoved);
    /// @dev Arrays of different lengths.
    error LengthMismatch();
    /// @dev Only the registry's slasher (the slashing manager) reports proposals.
    error NotSlasher(address caller);
    /// @dev Instant exit is closed while a slash proposal could reach the token's stake.
    error BunkerMode(uint256 pendingLoss);
    /// @dev Instant exit is closed while the oracle is stale.
    error StaleOracle(uint64 lastReportEpoch, uint64 currentEpoch);
    /// @dev The exit is above what the buffer holds beyond the queue's needs.
    error InsufficientExitLiquidity(uint256 assets, uint256 available);
    /// @dev More instant exits than the epoch's cap.
    error ExitCapExceeded(uint256 exited, uint256 cap);
    /// @dev Undelegation beyond what the queue needs, from a sequencer still active.
    error UndelegationNotNeeded(uint256 amount, uint256 shortfall);
    /// @dev Only while the oracle is stale.
    error NotStale(uint64 lastReportEpoch, uint64 currentEpoch);
    /// @dev This pool already gave its pro-rata part this epoch, or has nothing to give.
    error NothingToUndelegate(uint32 id);
    /// @dev Plain transfers of native token are refused: use `deposit`.
    error UseDeposit();

    /// @param p The parameters.
    /// @param admin DEFAULT_ADMIN_ROLE: a timelock whose delay is at least `p.longestExit`.
    /// @dev Reverts with ZeroAddress for a zero admin; with AdminNotTimelock if it has no code;
    ///      with AdminDelayTooShort if its delay is shorter than `p.longestExit`; with
    ///      InvalidParameter naming the parameter if minDeposit is zero or above totalCap,
    ///      totalCap is not representable in 96 bits, or
    ///      stakeLimitMax is zero, below minDeposit or not representable in 96 bits,
    ///      longestExit is zero, poolFeeBps is above 10_000 or perSequencerCapBps is zero or
    ///      above 10_000, instantExitFeeBps is below maxRateMoveBps or above 10_000, or
    ///      staleTimeoutEpochs is zero, or the registry has no code; with ZeroAddress for a zero
    ///      registry or treasury.
    constructor(Params memory p, address admin)
        LiquidCore(p.registry, p.perSequencerCapBps, p.maxMovedPerEpoch)
        ERC20("seqstake staked token", "stSEQ")
        ERC20Permit("stSEQ")
    {
        if (admin == address(0)) revert ZeroAddress();
        if (p.minDeposit == 0 || p.minDeposit > p.totalCap) revert InvalidParameter("minDeposit");
        if (p.totalCap > type(uint96).max) revert InvalidParameter("totalCap");
        if (p.stakeLimitMax < p.minDeposit || p.stakeLimitMax > type(uint96).max) {
            revert InvalidParameter("stakeLimitMax");
        }
        if (p.longestExit == 0) revert InvalidParameter("longestExit");
        if (p.registry == address(0) || p.treasury == address(0)) revert ZeroAddress();
        if (p.registry.code.length == 0) revert InvalidParameter("registry");
        if (p.poolFeeBps > RewardMath.BPS) revert InvalidParameter("poolFeeBps");
        if (p.perSequencerCapBps == 0 || p.perSequencerCapBps > RewardMath.BPS) {
            revert InvalidParameter("perSequencerCapBps");
        }
        // The fee must cover the largest rate move one report may make, or depositing before a
        // report and exiting at once after it would pay.
        if (p.instantExitFeeBps < p.maxRateMoveBps || p.instantExitFeeBps > RewardMath.BPS) {
            revert InvalidParameter("instantExitFeeBps");
        }
        if (p.staleTimeoutEpochs == 0) revert InvalidParameter("staleTimeoutEpochs");
        if (admin.code.length == 0) revert AdminNotTimelock(admin);
        uint256 delay = IAdminDelay(admin).getMinDelay();
        if (delay < p.longestExit) revert AdminDelayTooShort(delay, p.longestExit);
        minDeposit = p.minDeposit;
        totalCap = p.totalCap;
        stakeLimitMax = p.stakeLimitMax;
        stakeLimitRefillPerBlock = p.stakeLimitRefillPerBlock;
        treasury = p.treasury;
        poolFeeBps = p.poolFeeBps;
        instantExitFeeBps = p.instantExitFeeBps;
        instantExitCapPerEpoch = p.instantExitCapPerEpoch;
        staleTimeoutEpochs = p.staleTimeoutEpochs;
        lastReportEpoch = SequencerRegistry(payable(p.registry)).currentEpoch();
        _stakeLimitLeft = uint96(p.stakeLimitMax);
        _stakeLimitBlock = uint64(block.number);
        rateUpdatedAt = uint64(block.timestamp);
        extension = address(new LiquidPositions(p.registry, p.perSequencerCapBps, p.maxMovedPerEpoch));
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

    /// @notice Accepts the registry's payments (rewards, matured unbonding); refuses plain
    ///         transfers from anyone else: value sent without `deposit` would mint nothing.
    receive() external payable {
        if (msg.sender != address(registry)) revert UseDeposit();
    }

    // ------------------------------------------------------------------ the token as a delegator
    /// @notice Delegates `amounts[i]` of the buffer to sequencer `ids[i]`: active sequencers
    ///         only, each at most `perSequencerCapBps` of the pooled assets, at most
    ///         `maxMovedPerEpoch` moved (delegated plus undelegated) per epoch.
    /// @param ids The sequencers.
    /// @param amounts What each receives.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE; with
    ///      LengthMismatch; with NotActive outside the active set; with MoveLimitExceeded past
    ///      the epoch's limit; with InsufficientBuffer above the buffer; with
    ///      SequencerCapExceeded past the cap; with the registry's errors.
    function delegateBuffer(uint32[] calldata ids, uint256[] calldata amounts)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
    {
        if (ids.length != amounts.length) revert LengthMismatch();
        uint32[] memory active = registry.activeSet();
        for (uint256 i; i < ids.length; ++i) {
            (uint32 id, uint256 amount) = (ids[i], amounts[i]);
            if (!_contains(active, id)) revert NotActive(id);
            _countMove(amount);
            if (amount > bufferedAssets) revert InsufficientBuffer(amount, bufferedAssets);
            bufferedAssets -= SafeCast.toUint128(amount);
            registry.delegate{value: amount}(id);
            uint256 value = _markPool(id);
            uint256 cap = Math.mulDiv(totalPooledAssets(), perSequencerCapBps, RewardMath.BPS);
            if (value > cap) revert SequencerCapExceeded(id, value, cap);
            emit StakeDelegated(id, amount, value);
        }
        _rateMoved();
    }

    /// @notice Undelegates about `amount` of the token's stake with `id` (its shares' value,
    ///         rounded up to whole shares) into an unbonding bucket; the tokens stay counted in
    ///         `stakedAssets` until withdrawn.
    /// @param id The sequencer.
    /// @param amount What to undelegate.
    /// @return completionEpoch When the bucket can be withdrawn.
    /// @return tokens What the bucket received.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE; with
    ///      MoveLimitExceeded past the epoch's limit; with UndelegationNotNeeded for more than
    ///      the queue's shortfall beyond the buffer and unbonding, unless the sequencer has left
    ///      the active set; with the registry's errors (nothing to undelegate included).
    function undelegateStake(uint32 id, uint256 amount)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
        returns (uint64 completionEpoch, uint256 tokens)
    {
        if (_contains(registry.activeSet(), id)) {
            uint256 shortfall = _shortfall();
            if (amount > shortfall) revert UndelegationNotNeeded(amount, shortfall);
        }
        _countMove(amount);
        (completionEpoch, tokens) = _undelegate(id, amount);
        _rateMoved();
    }

    /// @notice While the oracle is stale, undelegates pool `id`'s pro-rata part of the queue's
    ///         shortfall (fixed at the epoch's first such call). Anyone may call it, once per
    ///         pool and epoch.
    /// @param id The sequencer.
    /// @return completionEpoch When the bucket can be withdrawn.
    /// @return tokens What the bucket received.
    /// @dev Reverts with NotStale unless the oracle is stale; with NothingToUndelegate when the
    ///      pool gave its part this epoch or its part is zero; with the registry's errors.
    function staleUndelegate(uint32 id)
        external
        nonReentrant
        returns (uint64 completionEpoch, uint256 tokens)
    {
        uint64 epoch = registry.currentEpoch();
        if (epoch < lastReportEpoch + staleTimeoutEpochs) revert NotStale(lastReportEpoch, epoch);
        if (staleEpoch != epoch) {
            staleEpoch = epoch;
            staleShortfall = _shortfall();
            staleStakeBase = stakedAssets - unbondingAssets - redelegatedAssets;
        }
        uint256 part = staleStakeBase == 0
            ? 0
            : Math.mulDiv(staleShortfall, stakeOf[id], staleStakeBase, Math.Rounding.Ceil);
        if (part == 0 || staleUndelegatedIn[id] == epoch) revert NothingToUndelegate(id);
        staleUndelegatedIn[id] = epoch;
        (completionEpoch, tokens) = _undelegate(id, part);
    }

    function _undelegate(uint32 id, uint256 amount)
        internal
        returns (uint64 completionEpoch, uint256 tokens)
    {
        (uint256 held,,,) = registry.delegation(id, address(this));
        uint256 value = stakeOf[id];
        uint256 shares =
            value == 0 ? held : Math.min(held, Math.mulDiv(amount, held, value, Math.Rounding.Ceil));
        (completionEpoch, tokens) = registry.undelegate(id, shares);
        unbondingAssets += tokens;
        stakedAssets += SafeCast.toUint128(tokens);
        _markPool(id);
        emit StakeUndelegated(id, shares, tokens, completionEpoch);
    }

    /// @notice Brings a matured unbonding bucket back into the buffer. Anyone may call it.
    /// @param id The sequencer.
    /// @param completionEpoch The bucket.
    /// @return amount What it paid.
    /// @dev Reverts with the registry's errors (not matured, nothing held).
    function withdrawUnbonded(uint32 id, uint64 completionEpoch)
        external
        nonReentrant
        returns (uint256 amount)
    {
        amount = registry.withdrawUnbonded(id, completionEpoch, address(this));
        // The books never exceed what the registry pays, so the excess (if any) is a gain.
        uint256 booked = Math.min(amount, unbondingAssets);
        unbondingAssets -= booked;
        stakedAssets -= SafeCast.toUint128(booked);
        bufferedAssets += SafeCast.toUint128(amount);
        emit UnbondedWithdrawn(id, completionEpoch, amount);
    }

    /// @notice Claims the token's rewards in the given pools and its positions. Adds to the
    ///         pooled assets, within `maxGain` (what the holders' shares may gain now, net of
    ///         the pool fee: the report's rate bound), first the gain finalized tickets left
    ///         (`heldGain`), then the rewards carried before and claimed now (at most
    ///         `(maxGain - gain) * 10_000 / (10_000 - poolFeeBps)` of them, all at a 100% fee);
    ///         the rest waits for the next harvests, so a windfall or a long queue's gain joins
    ///         the pool over several reports. Takes the pool fee on the rewards that joined as
    ///         shares minted to the treasury (worth at most the fee, so holders keep the rest
    ///         and the rate cannot fall).
    /// @param ids The pools to harvest.
    /// @param maxGain The most the holders gain now, in wei net of the pool fee (unbounded at
    ///        `type(uint256).max`).
    /// @return claimed What was claimed.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE.
    function harvest(uint32[] calldata ids, uint256 maxGain)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
        returns (uint256 claimed)
    {
        claimed = registry.claimRewardsMany(ids, address(this))
            + abi.decode(_extend(abi.encodeCall(LiquidPositions.harvestPositions, ())), (uint256));
        uint256 gain = Math.min(heldGain, maxGain);
        if (gain > 0) {
            heldGain -= SafeCast.toUint96(gain);
            emit GainReleased(gain, heldGain);
        }
        uint256 maxRewards = maxGain == type(uint256).max || poolFeeBps == RewardMath.BPS
            ? type(uint256).max
            : Math.mulDiv(maxGain - gain, RewardMath.BPS, RewardMath.BPS - poolFeeBps);
        uint256 available = claimed + carriedRewards;
        uint256 rewards = Math.min(available, maxRewards);
        carriedRewards = available - rewards;
        // Instant-exit fees since the last report join the pool now, with the rewards.
        bufferedAssets += SafeCast.toUint128(rewards + pendingFees);
        pendingFees = 0;
        lastReportEpoch = registry.currentEpoch();
        uint256 fee = RewardMath.applyBps(rewards, poolFeeBps);
        uint256 feeShares;
        if (fee > 0) {
            feeShares = Math.mulDiv(
                fee,
                totalSupply() + RewardMath.VIRTUAL_SHARES,
                totalPooledAssets() - fee + RewardMath.VIRTUAL_ASSETS
            );
            _mint(treasury, feeShares);
        }
        emit Harvested(claimed, rewards, fee, feeShares);
        _rateMoved();
    }

    /// @notice Exits `shares` at once from the buffer, paying their value less the instant-exit
    ///         fee to `to`. Only from the buffer above what the queue's pending tickets need,
    ///         capped per epoch; closed in bunker mode and while the oracle is stale. The fee
    ///         joins the pool at the next report.
    /// @param shares Shares to exit.
    /// @param to The recipient.
    /// @return assets What was paid.
    /// @dev Reverts with ZeroAddress for a zero recipient; with BunkerMode while a slash
    ///      proposal could reach the token's stake; with StaleOracle; with ZeroShares for
    ///      shares worth nothing; with InsufficientExitLiquidity above the free buffer; with
    ///      ExitCapExceeded past the epoch's cap; with the ERC-20 error above the balance;
    ///      with TransferFailed if `to` refuses.
    function instantExit(uint256 shares, address to) external nonReentrant returns (uint256 assets) {
        if (to == address(0)) revert ZeroAddress();
        if (pendingSlashLoss > 0) revert BunkerMode(pendingSlashLoss);
        uint64 epoch = registry.currentEpoch();
        if (epoch >= lastReportEpoch + staleTimeoutEpochs) revert StaleOracle(lastReportEpoch, epoch);
        uint256 value = Math.mulDiv(
            shares, totalPooledAssets() + RewardMath.VIRTUAL_ASSETS, totalSupply() + RewardMath.VIRTUAL_SHARES
        );
        if (value == 0) revert ZeroShares();
        uint256 available = _freeBuffer();
        if (value > available) revert InsufficientExitLiquidity(value, available);
        uint256 exited = (_exitEpoch == epoch ? _exitedInEpoch : 0) + value;
        if (exited > instantExitCapPerEpoch) revert ExitCapExceeded(exited, instantExitCapPerEpoch);
        _exitEpoch = epoch;
        _exitedInEpoch = SafeCast.toUint192(exited);
        uint256 fee = Math.mulDiv(value, instantExitFeeBps, RewardMath.BPS, Math.Rounding.Ceil);
        assets = value - fee;
        _burn(msg.sender, shares);
        bufferedAssets -= SafeCast.toUint128(value);
        pendingFees += fee;
        emit InstantExit(msg.sender, to, shares, assets, fee);
        (bool ok,) = to.call{value: assets}("");
        if (!ok) revert TransferFailed(to, assets);
    }

    /// @notice Moves about `amount` of the token's stake with `src` to `dst` without unbonding
    ///         (rebalancing): the moved stake is a position in `dst`'s pool, slashable for
    ///         `src`'s earlier faults until it matures. Bounded as `delegateBuffer`: `dst` active,
    ///         within the per-sequencer cap, within the epoch's moves.
    /// @param src The sequencer the stake leaves.
    /// @param dst The sequencer it joins.
    /// @param amount What to move (its shares' value, rounded up to whole shares).
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE; with NotActive
    ///      if `dst` is not active; with MoveLimitExceeded; with SequencerCapExceeded; with
    ///      TooManyPositions for a new position past `MAX_POSITIONS` unreleased or
    ///      `2 * MAX_POSITIONS` listed; with the registry's errors.
    function redelegateStake(uint32 src, uint32 dst, uint256 amount)
        external
        onlyRole(REPORTER_ROLE)
        nonReentrant
    {
        (src, dst, amount);
        _extend(msg.data);
        _rateMoved();
    }

    /// @notice Releases matured positions into the token's ordinary delegations (part of a
    ///         report). A position earns its release epoch too: it stays listed, and harvested,
    ///         until the registry has paid that epoch.
    /// @return released How many positions were released.
    /// @dev Reverts with AccessControlUnauthorizedAccount without REPORTER_ROLE.
    function releaseMatured() external onlyRole(REPORTER_ROLE) nonReentrant returns (uint256 released) {
        released = abi.decode(_extend(msg.data), (uint256));
        if (released > 0) _rateMoved();
    }

    /// @notice The token's positions: redelegations not yet released, or released in an epoch
    ///         the registry has not paid yet or whose last rewards no harvest has taken yet.
    /// @return The positions.
    function positions() external view returns (PositionRef[] memory) {
        return _positions;
    }

    /// @inheritdoc ISlashProposalListener
    /// @dev The pending loss is the smaller of the token's exposure to the slash (its delegation
    ///      to the sequencer, its buckets with it undelegated from the infraction epoch on, its
    ///      unreleased positions out of it made from the infraction epoch on and those into it)
    ///      and the fraction of the sequencer's stake at the infraction, rounded up. Reverts with
    ///      NotSlasher unless the caller holds the registry's SLASHER_ROLE.
    function onSlashProposed(
        uint256 proposalId,
        uint32 sequencerId,
        uint64 infractionEpoch,
        uint16 fractionBps
    ) external {
        _onlySlasher();
        uint256 loss = abi.decode(
            _extend(
                abi.encodeCall(LiquidPositions.slashExposure, (sequencerId, infractionEpoch, fractionBps))
            ),
            (uint256)
        );
        pendingLossOf[proposalId] = loss;
        pendingSlashLoss += loss;
        emit SlashLossPending(proposalId, sequencerId, loss);
    }

    /// @inheritdoc ISlashProposalListener
    /// @dev Reverts with NotSlasher unless the caller holds the registry's SLASHER_ROLE.
    function onSlashResolved(uint256 proposalId) external {
        _onlySlasher();
        uint256 loss = pendingLossOf[proposalId];
        delete pendingLossOf[proposalId];
        pendingSlashLoss -= loss;
        emit SlashLossReleased(proposalId, loss);
    }

    /// @inheritdoc IStakeSlashListener
    /// @dev Reverts with NotRegistry for anyone but the registry.
    function onStakeSlashed(
        uint32 sequencerId,
        uint256 poolLoss,
        uint256 unbondingLoss,
        uint256 redelegatedLoss
    ) external {
        if (msg.sender != address(registry)) revert NotRegistry(msg.sender);
        uint256 fromPool = Math.min(poolLoss, stakeOf[sequencerId]);
        stakeOf[sequencerId] -= fromPool;
        uint256 fromUnbonding = Math.min(unbondingLoss, unbondingAssets);
        unbondingAssets -= fromUnbonding;
        // The positions a slash of the sequencer reaches (out of it: their tranches; into it:
        // shares of its pool) are marked at their registry values, so `redelegatedLoss` is only
        // reported: subtracting it too would count it again at the release, and again at each
        // further call the registry makes for the same slash.
        uint256 fromPositions =
            abi.decode(_extend(abi.encodeCall(LiquidPositions.markPositions, (sequencerId))), (uint256));
        stakedAssets -= SafeCast.toUint128(fromPool + fromUnbonding + fromPositions);
        // The held gain is part of the buffer and the stake: a slash that leaves less than it
        // leaves it no more than what remains, or a later deposit would pay for the difference.
        uint256 assets = uint256(bufferedAssets) + stakedAssets;
        if (heldGain > assets) heldGain = uint96(assets);
        emit SlashLossRecorded(sequencerId, poolLoss, unbondingLoss, redelegatedLoss);
        _rateMoved();
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
    ///         cannot fall). What the shares are worth beyond it (tickets take at most their
    ///         value at request) is held out of the pooled assets (`heldGain`), so the rate does
    ///         not rise either: harvests add it within the report's rate bound.
    /// @param shares Locked shares of the finalized tickets.
    /// @param assets Their value.
    /// @dev Reverts with NotQueue for anyone but the queue; with InsufficientBuffer when the
    ///      buffer cannot pay; with TransferFailed if the queue refuses the value.
    function finalizeWithdrawals(uint256 shares, uint256 assets) external nonReentrant {
        address queue = withdrawalQueue;
        if (msg.sender != queue) revert NotQueue(msg.sender);
        if (assets > bufferedAssets) revert InsufficientBuffer(assets, bufferedAssets);
        // The shares' value at the rate, rounded down: what leaves the pooled assets with them.
        uint256 value = Math.mulDiv(
            shares, totalPooledAssets() + RewardMath.VIRTUAL_ASSETS, totalSupply() + RewardMath.VIRTUAL_SHARES
        );
        bufferedAssets -= SafeCast.toUint128(assets);
        _burn(queue, shares);
        emit WithdrawalsFinalized(shares, assets);
        if (value > assets) {
            heldGain += SafeCast.toUint96(value - assets);
            emit GainHeld(value - assets, heldGain);
        }
        // A report's finalization moves the feed's round; a stale-oracle one does not refresh
        // the feed, so a lending market still sees the stale oracle.
        if (registry.currentEpoch() < lastReportEpoch + staleTimeoutEpochs) _rateMoved();
        (bool ok,) = queue.call{value: assets}("");
        if (!ok) revert TransferFailed(queue, assets);
    }

    // ------------------------------------------------------------------ views
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
        return _shareRate();
    }

    function _shareRate() internal view returns (uint256) {
        return Math.mulDiv(
            totalPooledAssets() + RewardMath.VIRTUAL_ASSETS,
            RewardMath.RAY,
            totalSupply() + RewardMath.VIRTUAL_SHARES
        );
    }

    /// @notice The rate tickets finalize at: the share rate, less the largest pending slash
    ///         loss in bunker mode (RAY per share, rounded down).
    /// @return The rate.
    /// @dev Reverts with ReentrancyGuardReentrantCall while a guarded call is in progress.
    function finalizationRate() external view returns (uint256) {
        _refuseDuringGuardedCall();
        uint256 pooled = totalPooledAssets();
        uint256 atRisk = Math.min(pendingSlashLoss, pooled);
        return Math.mulDiv(
            pooled - atRisk + RewardMath.VIRTUAL_ASSETS,
            RewardMath.RAY,
            totalSupply() + RewardMath.VIRTUAL_SHARES
        );
    }

    /// @notice Whether no report has run for `staleTimeoutEpochs` (instant exit closed).
    /// @return True when stale.
    function isStale() external view returns (bool) {
        return registry.currentEpoch() >= lastReportEpoch + staleTimeoutEpochs;
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
        _stakeLimitLeft = SafeCast.toUint96(limit - amount);
        _stakeLimitBlock = uint64(block.number);
        // The total cap (checked above) keeps the pooled assets far below 2^128.
        bufferedAssets += SafeCast.toUint128(amount);
        _mint(receiver, shares);
        emit Deposited(msg.sender, receiver, amount, shares, referral);
    }

    /// What the queue's pending tickets could need beyond the buffer and everything unbonding.
    function _shortfall() internal view returns (uint256) {
        uint256 needed = withdrawalQueue == address(0) ? 0 : IPendingAssets(withdrawalQueue).pendingAssets();
        uint256 covered = uint256(bufferedAssets) + unbondingAssets;
        return needed > covered ? needed - covered : 0;
    }

    /// The buffer beyond what the queue's pending tickets could need (their value at request).
    function _freeBuffer() internal view returns (uint256) {
        uint256 needed = withdrawalQueue == address(0) ? 0 : IPendingAssets(withdrawalQueue).pendingAssets();
        return bufferedAssets > needed ? bufferedAssets - needed : 0;
    }

    function _onlySlasher() internal view {
        if (!registry.hasRole(registry.SLASHER_ROLE(), msg.sender)) revert NotSlasher(msg.sender);
    }

    function _rateMoved() internal {
        uint64 round = rateUpdates + 1;
        rateUpdates = round;
        rateUpdatedAt = uint64(block.timestamp);
        emit RateUpdated(round, _shareRate());
    }

    function _countMove(uint256 amount) internal {
        uint64 epoch = registry.currentEpoch();
        uint256 moved = (_movedEpoch == epoch ? _movedInEpoch : 0) + amount;
        if (moved > maxMovedPerEpoch) revert MoveLimitExceeded(moved, maxMovedPerEpoch);
        _movedEpoch = epoch;
        _movedInEpoch = SafeCast.toUint192(moved);
    }

    /// Runs `data` on the positions' code (LiquidPositions) on this contract's storage;
    /// returns its result or reverts with its error.
    function _extend(bytes memory data) internal returns (bytes memory result) {
        bool ok;
        (ok, result) = extension.delegatecall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    function _refuseDuringGuardedCall() internal view {
        if (_reentrancyGuardEntered()) revert ReentrancyGuardReentrantCall();
    }
}
