// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./Test.sol";
import {LiquidStakingToken} from "../../src/LiquidStakingToken.sol";
import {WithdrawalQueue} from "../../src/WithdrawalQueue.sol";
import {SeqstakeTimelock} from "../../src/governance/SeqstakeTimelock.sol";

/// @notice Deploys the liquid token and its withdrawal queue as production does: a timelock
///         as admin; the queue is set and the finalizer role granted through the timelock.
abstract contract LiquidFixture is Test {
    LiquidStakingToken internal token;
    WithdrawalQueue internal queue;
    SeqstakeTimelock internal liquidTimelock;
    address internal liquidGovernor = address(0x60E);
    address internal finalizer = address(0xF1A1);
    uint256 internal constant LONGEST_EXIT = 700;

    function _liquidParams() internal pure virtual returns (LiquidStakingToken.Params memory) {
        return LiquidStakingToken.Params({
            minDeposit: 0.001 ether,
            totalCap: 1_000_000 ether,
            stakeLimitMax: 10_000 ether,
            stakeLimitRefillPerBlock: 1000 ether,
            longestExit: LONGEST_EXIT,
            // Deposit-side tests never reach the registry; delegation tests deploy a real one.
            registry: address(0x5E9),
            treasury: address(0x7EA5),
            poolFeeBps: 0,
            perSequencerCapBps: 5000,
            maxMovedPerEpoch: 1000 ether
        });
    }

    function _setUpLiquid() internal {
        address[] memory proposers = new address[](1);
        proposers[0] = liquidGovernor;
        address[] memory executors = new address[](1);
        executors[0] = address(0); // anyone executes a ready operation
        liquidTimelock = new SeqstakeTimelock(LONGEST_EXIT, proposers, executors, address(0));
        token = new LiquidStakingToken(_liquidParams(), address(liquidTimelock));
        queue = new WithdrawalQueue(token, 0.001 ether, 1000 ether, address(liquidTimelock));
        _govern(address(token), abi.encodeCall(token.setWithdrawalQueue, (address(queue))));
        _govern(address(queue), abi.encodeCall(queue.grantRole, (queue.FINALIZER_ROLE(), finalizer)));
    }

    /// Runs `data` on `target` through the timelock, then returns to the current time.
    function _govern(address target, bytes memory data) internal {
        uint256 now_ = vm.getBlockTimestamp();
        bytes32 salt = keccak256(abi.encode(target, data, now_));
        vm.prank(liquidGovernor);
        liquidTimelock.schedule(target, 0, data, bytes32(0), salt, LONGEST_EXIT);
        vm.warp(now_ + LONGEST_EXIT);
        liquidTimelock.execute(target, 0, data, bytes32(0), salt);
        vm.warp(now_);
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
}
