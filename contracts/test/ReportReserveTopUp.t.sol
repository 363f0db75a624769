// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SystemFixture} from "./utils/SystemFixture.sol";
import {ReportTypes} from "../src/interfaces/ReportTypes.sol";
import {EmissionReserve} from "../src/EmissionReserve.sol";

/// Review finding 10: a short reserve paid at most what it held, but a `fund` that reached the
/// schedule before the first `execute` switched the draw to exact mode and refused the agreed
/// report (WrongAmount), again every epoch, at the cost of the shortfall. The emission is now
/// fixed by the reserve's state at the report's reference block.
contract ReportReserveTopUpTest is SystemFixture {
    address internal griefer = address(0x6E1F);

    /// The reserve holds 4e12 of the schedule's 5e12 (EMISSION).
    function _reserveFunding() internal pure override returns (uint256) {
        return 4e12;
    }

    function setUp() public {
        _setUpSystem();
    }

    /// The report's emission for a reserve short of the schedule: the 4e12 it held, 1e12 less
    /// than the plan's, taken from the first sequencer's reward so that the epoch conserves.
    function _shortReport() internal returns (ReportTypes.Report memory r) {
        _toEpoch(6);
        r = _report(_plans(1), _liquid(8 ether, 8 ether));
        r.epochs[0].emission = 4e12;
        r.epochs[0].sequencers[0].reward -= 1e12;
        r = _prepare(r);
    }

    function test_aTopUpBetweenTheVoteAndTheExecutionDoesNotBlockTheReport() public {
        ReportTypes.Report memory r = _shortReport();
        _agree(r);
        // Anyone tops the reserve up to the schedule after the report's reference block.
        vm.deal(griefer, 1e12);
        vm.prank(griefer);
        reserve.fund{value: 1e12}();
        _executeAll(r);
        assertEq(executor.executing(), bytes32(0), "the report ended");
        assertEq(executor.nextEpoch(), 6);
        assertEq(reserve.paid(), 4e12, "what the reserve held at the reference block");
        assertEq(reserve.funded(), 1e12, "the top-up waits for the next epoch");
    }

    function test_aShortReservePaysExactlyWhatItHeldAtTheReferenceBlock() public {
        ReportTypes.Report memory r = _shortReport();
        r.epochs[0].emission = 3e12; // less than it held
        r.epochs[0].sequencers[0].reward -= 1e12;
        _agree(r);
        vm.expectRevert(abi.encodeWithSelector(EmissionReserve.WrongAmount.selector, 5, 3e12, 4e12));
        executor.execute(r);
        assertEq(reserve.paid(), 0);
    }
}
