// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title FeeVault
/// @notice Receives one served chain's gas-fee revenue on the settlement chain (bridged, or
///         direct for the settlement chain itself). Only revenue that has arrived can settle:
///         the report contract (DRAWER_ROLE) draws at most `available()`.
/// @dev Internal accounting only: native token force-sent without a call (selfdestruct,
///      coinbase) is never counted as revenue, so nobody can inflate what a report may draw.
contract FeeVault is AccessControl, ReentrancyGuard {
    // ---------------------------------------------------------------- constants
    /// @notice Role of the report contract, the only account that may draw revenue.
    bytes32 public constant DRAWER_ROLE = keccak256("DRAWER_ROLE");

    /// @notice The served chain whose revenue this vault collects.
    uint64 public immutable servedChainId;

    // ---------------------------------------------------------------- storage
    /// @notice Revenue received since deployment, in wei.
    uint256 public totalArrived;
    /// @notice Revenue drawn by reports since deployment, in wei.
    uint256 public totalDrawn;

    // ---------------------------------------------------------------- events
    /// @notice Revenue arrived from `from`; `totalArrived` is the running total after it.
    event RevenueArrived(address indexed from, uint256 amount, uint256 totalArrived);
    /// @notice A report drew `amount` to `to`; `totalDrawn` is the running total after it.
    event RevenueDrawn(address indexed to, uint256 amount, uint256 totalDrawn);

    // ---------------------------------------------------------------- errors
    /// @dev A zero amount was sent or requested.
    error ZeroAmount();
    /// @dev A zero address was given where an account is required.
    error ZeroAddress();
    /// @dev More was requested than has arrived and not yet been drawn.
    error InsufficientRevenue(uint256 requested, uint256 available);
    /// @dev The native transfer to the recipient failed.
    error TransferFailed(address to, uint256 amount);

    // ---------------------------------------------------------------- external
    /// @param servedChainId_ The served chain's id.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with ZeroAddress if `admin` is zero.
    constructor(uint64 servedChainId_, address admin) {
        if (admin == address(0)) revert ZeroAddress();
        servedChainId = servedChainId_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Records revenue sent to the vault.
    /// @dev Reverts with ZeroAmount if no value is sent.
    receive() external payable {
        if (msg.value == 0) revert ZeroAmount();
        uint256 arrived = totalArrived + msg.value;
        totalArrived = arrived;
        emit RevenueArrived(msg.sender, msg.value, arrived);
    }

    /// @notice Revenue that has arrived and has not been drawn yet, in wei.
    /// @return The drawable amount.
    function available() external view returns (uint256) {
        return totalArrived - totalDrawn;
    }

    /// @notice Sends `amount` of arrived revenue to `to`.
    /// @param amount Wei to draw.
    /// @param to The recipient (the report contract itself, which distributes it).
    /// @dev Reverts if the caller lacks DRAWER_ROLE; with ZeroAmount if `amount` is zero; with
    ///      ZeroAddress if `to` is zero; with InsufficientRevenue if `amount` exceeds
    ///      `available()`; with TransferFailed if `to` refuses the native transfer.
    function draw(uint256 amount, address to) external onlyRole(DRAWER_ROLE) nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        uint256 drawable = totalArrived - totalDrawn;
        if (amount > drawable) revert InsufficientRevenue(amount, drawable);
        uint256 drawn = totalDrawn + amount;
        totalDrawn = drawn;
        emit RevenueDrawn(to, amount, drawn);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
