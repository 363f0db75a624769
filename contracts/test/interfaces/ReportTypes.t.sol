// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";
import {ReportTypes} from "../../src/interfaces/ReportTypes.sol";

/// @notice The `report_hash` vector pins the report's encoding and hash for both sides: the
///         Rust side builds the same bytes and hash from the vector's fields.
contract ReportTypesTest is Test {
    string internal json;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/../tests/vectors/report_hash.json"));
    }

    function test_domainTagIsTheHashOfItsName() public pure {
        assertEq(ReportTypes.DOMAIN_TAG, keccak256("seqstake.report.v1"));
    }

    function test_vectorDecodesToTheReportItDescribes() public view {
        bytes memory encoded = vm.parseJsonBytes(json, ".expected.encoded");
        ReportTypes.Report memory report = abi.decode(encoded, (ReportTypes.Report));
        assertEq(
            uint256(report.header.firstEpoch),
            vm.parseUint(vm.parseJsonString(json, ".input.report.header.first_epoch"))
        );
        assertEq(uint256(report.header.refBlock), 123_456);
        assertEq(report.epochs.length, 2);
        assertEq(report.epochs[0].chains[0].share, 10_500);
        assertEq(report.epochs[0].chains[0].partner, address(0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa));
        assertEq(uint256(report.epochs[0].sequencers[1].missedBlocks), 9);
        assertTrue(report.epochs[0].sequencers[1].jailed, "the second sequencer is jailed");
        assertFalse(report.epochs[0].sequencers[0].jailed);
        assertEq(report.activeSet.length, 3);
        assertEq(uint256(report.activeSet[2]), 4);
        assertEq(report.liquid.batches[0].shareRate, 1e24);
        // Solidity's own encoding of the decoded report is byte for byte the vector's.
        assertEq(keccak256(abi.encode(report)), keccak256(encoded));
    }

    function test_hashMatchesTheVector() public view {
        ReportTypes.Report memory report =
            abi.decode(vm.parseJsonBytes(json, ".expected.encoded"), (ReportTypes.Report));
        uint256 chainId = vm.parseUint(vm.parseJsonString(json, ".input.chain_id"));
        address reportContract = vm.parseJsonAddress(json, ".input.report_contract");
        bytes32 hash = keccak256(abi.encode(ReportTypes.DOMAIN_TAG, chainId, reportContract, report));
        assertEq(hash, vm.parseJsonBytes32(json, ".expected.hash"));
    }
}
