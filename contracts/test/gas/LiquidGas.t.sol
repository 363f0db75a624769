// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {LiquidFixture} from "../utils/LiquidFixture.sol";

/// A wrapped native token (WETH-like), for the reference vault.
contract WrappedNative is ERC20("Wrapped SEQ", "WSEQ") {
    function deposit() external payable {
        _mint(msg.sender, msg.value);
    }
}

/// The reference: OpenZeppelin's ERC-4626 vault over the wrapped native token.
contract ReferenceVault is ERC4626 {
    constructor(IERC20 asset_) ERC20("Reference vault", "rVAULT") ERC4626(asset_) {}
}

/// Gas of the liquid token's deposit, withdrawal request and claim, measured in the same run as
/// the reference: an ERC-4626 `deposit` of the wrapped native token (the depositor has already
/// wrapped and approved; wrapping is not counted) and Lido's published figures for its queue.
/// Each test is one transaction after a setUp that leaves earlier deposits, requests and a
/// finalization in place. `forge test --match-path test/gas/LiquidGas.t.sol -vv` prints the
/// figures in docs/BENCHMARKS.md.
contract LiquidGasTest is LiquidFixture {
    event log_named_uint(string key, uint256 val);

    WrappedNative internal wrapped;
    ReferenceVault internal vault;
    address internal alice = address(0xA1);
    address internal bob = address(0xB0);
    uint256 internal ticket;

    function setUp() public {
        vm.roll(100);
        _setUpLiquid();
        wrapped = new WrappedNative();
        vault = new ReferenceVault(IERC20(address(wrapped)));
        // Both sides already hold deposits from someone else and from the user.
        for (uint256 i; i < 2; ++i) {
            address who = i == 0 ? bob : alice;
            vm.deal(who, 100 ether);
            vm.startPrank(who);
            token.deposit{value: 10 ether}(address(0));
            wrapped.deposit{value: 20 ether}();
            wrapped.approve(address(vault), type(uint256).max);
            vault.deposit(10 ether, who);
            token.approve(address(queue), type(uint256).max);
            vm.stopPrank();
        }
        vm.startPrank(alice);
        queue.requestWithdrawal(1000 ether, alice); // an earlier ticket
        ticket = queue.requestWithdrawal(1000 ether, alice);
        vm.stopPrank();
        _finalizeTo(ticket);
        vm.roll(200);
    }

    function test_gas_deposit() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        token.deposit{value: 1 ether}(address(0));
        emit log_named_uint("seqstake deposit", gas - gasleft());
    }

    function test_gas_referenceVaultDeposit() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        vault.deposit(1 ether, alice);
        emit log_named_uint("ERC4626 deposit (reference)", gas - gasleft());
    }

    function test_gas_requestWithdrawal() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        queue.requestWithdrawal(1000 ether, alice);
        emit log_named_uint("seqstake requestWithdrawal", gas - gasleft());
    }

    function test_gas_claimWithdrawal() public {
        vm.prank(alice);
        uint256 gas = gasleft();
        queue.claimWithdrawal(ticket, 0, alice);
        emit log_named_uint("seqstake claimWithdrawal", gas - gasleft());
    }
}
