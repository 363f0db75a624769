// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LiquidStakingToken} from "./LiquidStakingToken.sol";

/// @title LiquidRateFeed
/// @notice The liquid token's exchange rate in the shape of a Chainlink aggregator
///         (`latestRoundData`, `decimals`, `description`, `version`), so a lending market can
///         read it with the code it already has. A round is a rate update: the round id counts
///         updates and `updatedAt` is when the rate last moved (a report or a slash loss), so a
///         market's staleness check works as with any feed.
contract LiquidRateFeed {
    /// @notice The token whose rate this is.
    LiquidStakingToken public immutable token;

    /// @dev Only the latest round is kept.
    error NoHistoricalRounds(uint80 requested, uint80 latest);

    /// @param token_ The liquid token.
    constructor(LiquidStakingToken token_) {
        token = token_;
    }

    /// @notice The answer's decimals: the rate is wei per whole token (1e21 shares).
    /// @return 18.
    function decimals() external pure returns (uint8) {
        return 18;
    }

    /// @notice What the feed reports.
    /// @return The description.
    function description() external pure returns (string memory) {
        return "stSEQ / SEQ exchange rate";
    }

    /// @notice The feed's interface version.
    /// @return 1.
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @notice The current rate as the latest round.
    /// @return roundId The number of rate updates.
    /// @return answer Wei per whole token.
    /// @return startedAt When the rate last moved.
    /// @return updatedAt When the rate last moved.
    /// @return answeredInRound `roundId`.
    /// @dev Reverts with ReentrancyGuardReentrantCall while the token is in a guarded call.
    function latestRoundData()
        public
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = token.rateUpdates();
        answer = int256(token.getRate());
        startedAt = token.rateUpdatedAt();
        updatedAt = startedAt;
        answeredInRound = roundId;
    }

    /// @notice A round's data: only the latest round is available.
    /// @param roundId The round.
    /// @return The round's id, answer, start, update time and answering round.
    /// @dev Reverts with NoHistoricalRounds for any round but the latest.
    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        uint80 latest = token.rateUpdates();
        if (roundId != latest) revert NoHistoricalRounds(roundId, latest);
        return latestRoundData();
    }
}
