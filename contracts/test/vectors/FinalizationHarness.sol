// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";

/// @notice The liquid token with its books set directly (buffer, stake, pending slash loss,
///         supply), so that its real `finalizationRate` and `finalizeWithdrawals` run on the
///         shared vector's numbers. Tests only.
contract LiquidBooksHarness is LiquidStakingToken {
    constructor(Params memory p, address admin) LiquidStakingToken(p, admin) {}

    /// Sets `totalPooledAssets() = buffered + staked` (no held gain) and `pendingSlashLoss`.
    function setBooks(uint256 buffered, uint256 staked, uint256 pendingLoss) external {
        bufferedAssets = SafeCast.toUint128(buffered);
        stakedAssets = SafeCast.toUint128(staked);
        heldGain = 0;
        pendingSlashLoss = pendingLoss;
    }

    /// Mints `shares` to `to`.
    function mintShares(address to, uint256 shares) external {
        _mint(to, shares);
    }
}

/// @notice The withdrawal queue with its requests written directly (ids, shares, values and
///         rates at request, runs as the vector gives them), so that its real `finalize` checks
///         and prices the vector's batches. Tests only.
contract WithdrawalQueueHarness is WithdrawalQueue {
    constructor(LiquidStakingToken token_, address admin)
        WithdrawalQueue(token_, 1, type(uint256).max, admin)
    {}

    /// Tickets up to `lastId` were requested and finalized before, with these running totals.
    function seedFinalized(uint256 lastId, uint256 cumulativeShares, uint256 cumulativeAssets) external {
        _requests[lastId].cumulativeShares = cumulativeShares;
        _requests[lastId].cumulativeAssets = cumulativeAssets;
        lastRequestId = lastId;
        lastFinalizedId = lastId;
    }

    /// Appends ticket `lastRequestId + 1`.
    function seedTicket(uint256 shares, uint256 assets, uint256 rate, uint256 run)
        external
        returns (uint256 id)
    {
        id = lastRequestId + 1;
        Request storage previous = _requests[id - 1];
        _requests[id] = Request({
            cumulativeShares: previous.cumulativeShares + shares,
            cumulativeAssets: previous.cumulativeAssets + assets,
            requestedAt: uint64(block.timestamp),
            claimed: false,
            rateAtRequest: SafeCast.toUint128(rate),
            run: SafeCast.toUint48(run)
        });
        lastRequestId = id;
    }
}
