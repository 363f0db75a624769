// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title DevnetFeeRelay
/// @notice The devnet's stand-in for a bridge: forwards a served chain's gas fees into that
///         chain's fee vault on the settlement chain, one contiguous range of served blocks at
///         a time, and names the range it covers. Not part of a production deployment (a real
///         served chain's fees arrive by its own bridge); anyone may relay, and each served
///         block is covered once.
contract DevnetFeeRelay {
    // ---------------------------------------------------------------- immutables
    /// @notice The served chain whose fees this relay forwards.
    uint64 public immutable servedChainId;
    /// @notice That chain's fee vault on the settlement chain.
    address public immutable vault;

    // ---------------------------------------------------------------- storage
    /// @notice The first served block not yet covered.
    uint64 public nextBlock;

    // ---------------------------------------------------------------- events
    /// @notice `amount` of fees of served blocks `firstBlock..=lastBlock` sent to the vault.
    event FeesRelayed(uint64 indexed servedChainId, uint64 firstBlock, uint64 lastBlock, uint256 amount);

    // ---------------------------------------------------------------- errors
    /// @dev The vault is the zero address.
    error ZeroAddress();
    /// @dev The range does not start at `nextBlock` or ends before it starts.
    error WrongRange(uint64 firstBlock, uint64 lastBlock, uint64 expectedFirst);
    /// @dev The vault refused the fees.
    error TransferFailed(address vault, uint256 amount);

    // ---------------------------------------------------------------- external
    /// @param servedChainId_ The served chain.
    /// @param vault_ Its fee vault.
    /// @param firstBlock The first served block the relay will cover.
    /// @dev Reverts with ZeroAddress for a zero vault.
    constructor(uint64 servedChainId_, address vault_, uint64 firstBlock) {
        if (vault_ == address(0)) revert ZeroAddress();
        servedChainId = servedChainId_;
        vault = vault_;
        nextBlock = firstBlock;
    }

    /// @notice Forwards `msg.value`, the fees of served blocks `firstBlock..=lastBlock`, to the
    ///         vault (nothing is sent for a range that paid none).
    /// @param firstBlock Must be `nextBlock`.
    /// @param lastBlock The range's last block.
    /// @dev Reverts with WrongRange for a range that does not continue the last one or is empty;
    ///      with TransferFailed if the vault refuses.
    function relay(uint64 firstBlock, uint64 lastBlock) external payable {
        if (firstBlock != nextBlock || lastBlock < firstBlock) {
            revert WrongRange(firstBlock, lastBlock, nextBlock);
        }
        nextBlock = lastBlock + 1;
        emit FeesRelayed(servedChainId, firstBlock, lastBlock, msg.value);
        if (msg.value > 0) {
            (bool ok,) = vault.call{value: msg.value}("");
            if (!ok) revert TransferFailed(vault, msg.value);
        }
    }
}
