// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SequencerRegistry} from "../SequencerRegistry.sol";

/// @title LiquidCore
/// @notice What `LiquidStakingToken` shares with the `LiquidPositions` it runs by
///         DELEGATECALL: the token's own storage (both inherit this contract first, so its
///         variables sit at the same slots in both; the token's ERC-20, permit and role storage
///         follow them and the positions' code never touches those), the immutables both read
///         and the helpers both use. The errors and events both raise are declared in each (the
///         token's ABI and `LiquidStakingToken.X.selector` name them).
abstract contract LiquidCore {
    /// @notice The sequencer registry the token delegates in.
    SequencerRegistry public immutable registry;
    /// @notice No sequencer holds more than this share of the pooled assets, in bps.
    uint16 public immutable perSequencerCapBps;
    /// @notice Stake delegated plus undelegated per epoch, at most.
    uint256 public immutable maxMovedPerEpoch;

    /// @notice The most unreleased redelegation positions the token holds at once: every
    ///         report's harvest reads each position (and a released one until the registry has
    ///         paid its release epoch and the harvest took its last rewards), so this bounds a
    ///         report's gas.
    uint256 public constant MAX_POSITIONS = 32;

    /// @notice Native token waiting to be delegated (internal accounting). Packed with
    ///         `stakedAssets` in one slot: a deposit reads both.
    uint128 public bufferedAssets;
    /// @notice The value of the token's stake in the registry as last accounted (moves only at
    ///         reports and slashes).
    uint128 public stakedAssets;
    /// The staking rate limit: what is left and the block it was last used in. With
    /// `heldGain`, one slot of its own (a deposit reads and writes it).
    uint96 internal _stakeLimitLeft;
    uint64 internal _stakeLimitBlock;
    /// @notice What finalized tickets left to the shares that stay (their shares' value at the
    ///         rate less what the tickets take), held out of the pooled assets so that a
    ///         finalization does not raise the rate: harvests add it first, within the report's
    ///         rate bound (review finding 8). Packed with the staking limit, which a deposit
    ///         reads anyway, so pricing a deposit costs no extra slot (amounts fit 96 bits: the
    ///         total cap is at most 2^96 - 1 wei).
    uint96 public heldGain;
    /// @notice When the rate last moved by design (deployment, report, slash loss).
    uint64 public rateUpdatedAt;
    /// @notice How many times the rate has been updated (the feed's round id).
    uint64 public rateUpdates;

    /// @notice The withdrawal queue: holds locked shares, finalizes them against the buffer.
    address public withdrawalQueue;

    /// @notice The value of the token's delegation in each pool, as last accounted.
    mapping(uint32 id => uint256) public stakeOf;
    /// @notice The part of `stakedAssets` in unbonding buckets.
    uint256 public unbondingAssets;
    /// @notice The part of `stakedAssets` in redelegated positions (not yet released).
    uint256 public redelegatedAssets;
    /// @notice The positions not yet released (at most `MAX_POSITIONS`).
    uint256 public unreleasedPositions;

    /// @notice A redelegation of the token's: held as a position in `dst`'s pool until it
    ///         matures; kept in the list after its release (in epoch `releasedIn`, which it
    ///         still earns) until the registry has paid that epoch and a harvest took its last
    ///         rewards.
    struct PositionRef {
        uint32 src;
        uint32 dst;
        uint64 epoch;
        bool released;
        uint64 releasedIn;
        uint256 booked;
    }

    PositionRef[] internal _positions;
    mapping(bytes32 key => uint256 indexPlusOne) internal _positionIndex;
    uint64 internal _movedEpoch;
    uint192 internal _movedInEpoch;
    uint64 internal _exitEpoch;
    uint192 internal _exitedInEpoch;
    /// @notice Instant-exit fees held outside the pooled assets until the next harvest, so the
    ///         rate moves only at a report.
    uint256 public pendingFees;
    /// @notice Rewards claimed beyond what a harvest could add to the pool within the report's
    ///         rate bound, held outside the pooled assets: the next harvests add them first.
    uint256 public carriedRewards;
    /// @notice The largest loss pending slash proposals could cause the token: bunker mode
    ///         (instant exit closed, finalization at the rate less this) while positive.
    uint256 public pendingSlashLoss;
    /// @notice Each pending proposal's part of `pendingSlashLoss`.
    mapping(uint256 proposalId => uint256) public pendingLossOf;
    /// @notice The epoch of the last report (a harvest).
    uint64 public lastReportEpoch;
    /// @notice In a stale epoch: the queue's shortfall and the pools' value when the first
    ///         pro-rata undelegation of that epoch ran (each pool gives its share of it once).
    uint64 public staleEpoch;
    uint256 public staleShortfall;
    uint256 public staleStakeBase;
    mapping(uint32 id => uint64) public staleUndelegatedIn;

    constructor(address registry_, uint16 perSequencerCapBps_, uint256 maxMovedPerEpoch_) {
        registry = SequencerRegistry(payable(registry_));
        perSequencerCapBps = perSequencerCapBps_;
        maxMovedPerEpoch = maxMovedPerEpoch_;
    }

    /// @notice Everything the shares are a claim on: the buffer and the stake in the registry.
    /// @return The assets in wei (internal accounting, never the contract's balance).
    function totalPooledAssets() public view returns (uint256) {
        // The held gain stays in the buffer or the stake; it is not the holders' until a harvest
        // adds it (a slash beyond everything else would leave nothing, not an underflow).
        uint256 assets = uint256(bufferedAssets) + stakedAssets;
        return assets > heldGain ? assets - heldGain : 0;
    }

    /// Marks the token's delegation in pool `id` at the registry's value (rounded down).
    function _markPool(uint32 id) internal returns (uint256 value) {
        (uint256 held,,,) = registry.delegation(id, address(this));
        value = registry.sharesToTokens(id, held);
        uint256 old = stakeOf[id];
        stakeOf[id] = value;
        stakedAssets = SafeCast.toUint128(stakedAssets + value - old);
    }

    function _contains(uint32[] memory sorted, uint32 id) internal pure returns (bool) {
        uint256 low;
        uint256 high = sorted.length;
        while (low < high) {
            uint256 mid = Math.average(low, high);
            if (sorted[mid] == id) return true;
            if (sorted[mid] < id) low = mid + 1;
            else high = mid;
        }
        return false;
    }
}
