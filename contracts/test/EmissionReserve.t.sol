// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./utils/Test.sol";
import {Refuser} from "./utils/Refuser.sol";
import {EmissionReserve} from "../src/EmissionReserve.sol";

/// The emission reserve pays exactly the schedule (read from the shared vectors), bounds the
/// targeting schedule, and never pays more than it was funded with.
contract EmissionReserveTest is Test {
    address internal admin = address(0xA11CE);
    address internal drawer = address(0xD4A3);

    function _deploy(EmissionReserve.Params memory p, uint256 funding)
        internal
        returns (EmissionReserve reserve)
    {
        reserve = new EmissionReserve(p, admin);
        bytes32 role = reserve.DRAWER_ROLE();
        vm.prank(admin);
        reserve.grantRole(role, drawer);
        vm.deal(address(this), funding);
        if (funding > 0) reserve.fund{value: funding}();
    }

    function _params(EmissionReserve.Kind kind) internal pure returns (EmissionReserve.Params memory) {
        return EmissionReserve.Params({
            kind: kind,
            perEpoch: 0,
            decayRay: 0,
            budget: 0,
            totalSupply: 0,
            maxInflationBps: 0,
            epochLength: 0,
            firstEpoch: 10
        });
    }

    /// Draws every epoch of a vector and checks each payment and the running total.
    function _drawVector(EmissionReserve reserve, string memory j) internal {
        uint256[] memory expected = _uints(j, ".expected.emission");
        uint256[] memory cumulative = _uints(j, ".expected.cumulative");
        for (uint256 i; i < expected.length; ++i) {
            assertEq(reserve.expectedEmission(), expected[i], "scheduled emission");
            uint256 before = drawer.balance;
            vm.prank(drawer);
            reserve.draw(uint64(10 + i), expected[i], uint64(block.number));
            assertEq(drawer.balance - before, expected[i], "paid");
            assertEq(reserve.paid(), cumulative[i], "cumulative");
        }
    }

    function test_constantScheduleVector() public {
        string memory j = _vector("emission_epoch_constant");
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.Constant);
        p.perEpoch = _uint(j, ".input.schedule.per_epoch");
        _drawVector(_deploy(p, 1000 ether), j);
    }

    function test_decayingScheduleVector() public {
        string memory j = _vector("emission_epoch_decaying");
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.Decaying);
        p.perEpoch = _uint(j, ".input.schedule.initial_per_epoch");
        p.decayRay = _uint(j, ".input.schedule.decay_ray");
        _drawVector(_deploy(p, 1000 ether), j);
    }

    function test_fixedBudgetScheduleVector() public {
        string memory j = _vector("emission_epoch_fixed_budget");
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.FixedBudget);
        p.perEpoch = _uint(j, ".input.schedule.per_epoch");
        p.budget = _uint(j, ".input.schedule.budget");
        _drawVector(_deploy(p, 1000 ether), j);
    }

    function test_targeting_isBoundedByTheHighestInflation() public {
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.BondedRatioTarget);
        p.totalSupply = 1_000_000_000 ether;
        p.maxInflationBps = 1000; // 10% a year
        p.epochLength = 1 days;
        EmissionReserve reserve = _deploy(p, 1_000_000 ether);
        uint256 annual = uint256(1_000_000_000 ether) * 1000 / 10_000; // 100M a year
        uint256 bound = annual * 1 days / 365 days; // rounded down, as the Rust side does
        assertEq(reserve.targetingBound(), bound);
        vm.startPrank(drawer);
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.WrongAmount.selector, 10, bound + 1, bound));
        reserve.draw(10, bound + 1, uint64(block.number));
        reserve.draw(10, bound - 7, uint64(block.number)); // anything up to the bound
        vm.stopPrank();
    }

    function test_theFundedBalanceIsTheHardCap() public {
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.Constant);
        p.perEpoch = 3 ether;
        EmissionReserve reserve = _deploy(p, 5 ether);
        vm.deal(address(reserve), address(reserve).balance + 100 ether); // forced value never counts
        vm.startPrank(drawer);
        uint64 ref = uint64(block.number);
        reserve.draw(10, 3 ether, ref);
        assertEq(reserve.expectedEmission(), 2 ether, "what is left, no more");
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.WrongAmount.selector, 11, 3 ether, 2 ether));
        reserve.draw(11, 3 ether, ref);
        // Short, it pays exactly what it held at the report's reference block: no less...
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.WrongAmount.selector, 11, 1 ether, 2 ether));
        reserve.draw(11, 1 ether, ref);
        vm.stopPrank();
        // ...and a top-up after that block cannot block the report (finding 10).
        vm.roll(block.number + 1);
        vm.deal(address(this), 1 ether);
        reserve.fund{value: 1 ether}();
        assertEq(reserve.heldAt(ref), 2 ether, "held at the reference block");
        assertEq(reserve.heldAt(uint64(block.number)), 3 ether, "held now");
        vm.startPrank(drawer);
        reserve.draw(11, 2 ether, ref);
        assertEq(reserve.funded(), 1 ether);
        assertEq(reserve.emissionAt(ref), 0, "nothing held at the old reference block");
        reserve.draw(12, 1 ether, uint64(block.number)); // a report computed after the top-up
        reserve.draw(13, 0, uint64(block.number)); // an empty reserve pays nothing, the epoch still passes
        vm.stopPrank();
        assertEq(reserve.funded(), 0);
        assertEq(reserve.totalFunded(), 6 ether);
        assertEq(uint256(reserve.nextEpoch()), 14);
    }

    function test_revertPaths() public {
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.Constant);
        p.perEpoch = 1 ether;
        EmissionReserve reserve = _deploy(p, 10 ether);
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", address(this), reserve.DRAWER_ROLE()
            )
        );
        reserve.draw(10, 1 ether, uint64(block.number));
        vm.startPrank(drawer);
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.WrongEpoch.selector, 11, 10));
        reserve.draw(11, 1 ether, uint64(block.number));
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.WrongAmount.selector, 10, 0.5 ether, 1 ether));
        reserve.draw(10, 0.5 ether, uint64(block.number));
        vm.stopPrank();
        vm.expectRevert(EmissionReserve.ZeroAmount.selector);
        reserve.fund{value: 0}();

        Refuser refuser = new Refuser();
        bytes32 role = reserve.DRAWER_ROLE();
        vm.prank(admin);
        reserve.grantRole(role, address(refuser));
        vm.prank(address(refuser));
        vm.expectRevert(
            abi.encodeWithSelector(EmissionReserve.TransferFailed.selector, address(refuser), 1 ether)
        );
        reserve.draw(10, 1 ether, uint64(block.number));
        assertEq(uint256(reserve.nextEpoch()), 10, "a refused payment draws nothing");
    }

    function test_constructor_refusesBadParameters() public {
        EmissionReserve.Params memory p = _params(EmissionReserve.Kind.Decaying);
        p.decayRay = 1e27 + 1;
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.InvalidParameter.selector, "decayRay"));
        new EmissionReserve(p, admin);
        p = _params(EmissionReserve.Kind.FixedBudget);
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.InvalidParameter.selector, "budget"));
        new EmissionReserve(p, admin);
        p = _params(EmissionReserve.Kind.BondedRatioTarget);
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.InvalidParameter.selector, "totalSupply"));
        new EmissionReserve(p, admin);
        p.totalSupply = 1;
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.InvalidParameter.selector, "epochLength"));
        new EmissionReserve(p, admin);
        p.epochLength = 1;
        p.maxInflationBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.InvalidParameter.selector, "maxInflationBps"));
        new EmissionReserve(p, admin);
        vm.expectRevert(EmissionReserve.ZeroAddress.selector);
        new EmissionReserve(_params(EmissionReserve.Kind.Constant), address(0));
    }

    receive() external payable {}
}
