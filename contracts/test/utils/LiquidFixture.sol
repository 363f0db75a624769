// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RegistryFixture} from "./RegistryFixture.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";

/// @notice Deploys the liquid token and its withdrawal queue beside the registry, as
///         production does: the same timelock administers all; the queue is set, the reporter
///         and finalizer roles granted and the token made the registry's slash listener
///         through it.
abstract contract LiquidFixture is RegistryFixture {
    LiquidStakingToken internal token;
    WithdrawalQueue internal queue;
    address internal finalizer = address(0xF1A1);
    address internal treasury = address(0x7EA5);

    function _liquidParams() internal view virtual returns (LiquidStakingToken.Params memory) {
        return LiquidStakingToken.Params({
            minDeposit: 0.001 ether,
            totalCap: 1_000_000 ether,
            stakeLimitMax: 10_000 ether,
            stakeLimitRefillPerBlock: 1000 ether,
            longestExit: _delay(),
            registry: address(registry),
            treasury: treasury,
            poolFeeBps: 0,
            perSequencerCapBps: 5000,
            maxMovedPerEpoch: 1000 ether,
            instantExitFeeBps: 10,
            maxRateMoveBps: 10,
            instantExitCapPerEpoch: 100 ether,
            staleTimeoutEpochs: 24
        });
    }

    /// The registry at epoch 5 (RegistryFixture), then the token and its queue.
    /// Three sequencers (ids 1 to 3, bond 10 ether, commission 10%), the reporter's active set.
    function _threeActiveSequencers() internal {
        for (uint160 i; i < 3; ++i) {
            _registerAs(address(0x100 + i), 10 ether, 1000);
        }
        uint32[] memory set = new uint32[](3);
        (set[0], set[1], set[2]) = (1, 2, 3);
        vm.prank(reporter);
        registry.updateActiveSet(set);
    }

    function _setUpLiquid() internal {
        _setUpRegistry();
        token = new LiquidStakingToken(_liquidParams(), address(timelock));
        queue = new WithdrawalQueue(token, 0.001 ether, 1000 ether, address(timelock));
        _govern(address(token), abi.encodeCall(token.setWithdrawalQueue, (address(queue))));
        _govern(address(token), abi.encodeCall(token.grantRole, (token.REPORTER_ROLE(), reporter)));
        _govern(address(queue), abi.encodeCall(queue.grantRole, (queue.FINALIZER_ROLE(), finalizer)));
        _governRegistry(abi.encodeCall(registry.setSlashListener, (address(token))));
    }

    function _depositAs(address account, uint256 amount) internal returns (uint256 shares) {
        vm.deal(account, account.balance + amount);
        vm.prank(account);
        shares = token.deposit{value: amount}(address(0));
    }

    function _requestAs(address account, uint256 shares) internal returns (uint256 id) {
        vm.startPrank(account);
        token.approve(address(queue), shares);
        id = queue.requestWithdrawal(shares, account);
        vm.stopPrank();
    }

    function _finalizeTo(uint256 lastId) internal returns (uint256) {
        uint256[] memory ends = new uint256[](1);
        ends[0] = lastId;
        vm.prank(finalizer);
        return queue.finalize(ends);
    }

    /// The reporter delegates `amount` of the buffer to sequencer `id`.
    function _delegate(uint32 id, uint256 amount) internal {
        uint32[] memory ids = new uint32[](1);
        ids[0] = id;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        vm.prank(reporter);
        token.delegateBuffer(ids, amounts);
    }
}
