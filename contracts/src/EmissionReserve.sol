// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {RewardMath} from "./libraries/RewardMath.sol";

/// @title EmissionReserve
/// @notice The pre-funded reserve that pays each epoch's emission to the report. No contract
///         can mint the native token, so what the reserve was funded with is the hard cap. The
///         schedule is enforced exactly for `Constant`, `Decaying` (`e_n = e_{n-1} * decayRay /
///         RAY`, rounded down at each step, as the Rust side computes it) and `FixedBudget`
///         (`perEpoch` until the budget is spent, the last epoch paying what is left). For
///         `BondedRatioTarget` the report's amount is bounded by the emission at the highest
///         inflation: `(totalSupply * maxInflation / 10_000) * epochLength / year`, each
///         division rounded down. Epochs are drawn in order, each once; a scheduled amount the
///         reserve cannot cover is paid as far as it could at the report's reference block:
///         exactly `min(schedule, what it held at the end of refBlock less what was drawn
///         since)`, so every member computes the same amount and a top-up after the reference
///         block (by anyone) cannot refuse the report.
contract EmissionReserve is AccessControl, ReentrancyGuardTransient {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Draws the emission of each epoch (the report contract).
    bytes32 public constant DRAWER_ROLE = keccak256("DRAWER_ROLE");
    uint256 internal constant SECONDS_PER_YEAR = 365 days;

    /// @notice The schedules of the economics configuration's `[emission]`.
    enum Kind {
        Constant,
        Decaying,
        FixedBudget,
        BondedRatioTarget
    }

    /// @notice Parameters fixed at deployment.
    struct Params {
        Kind kind;
        /// Constant: every epoch's emission. Decaying: the first epoch's. FixedBudget: the
        /// per-epoch amount. Unused for BondedRatioTarget.
        uint256 perEpoch;
        /// Decaying: the per-epoch factor in RAY (at most RAY).
        uint256 decayRay;
        /// FixedBudget: the total ever paid.
        uint256 budget;
        /// BondedRatioTarget: the attested total supply.
        uint256 totalSupply;
        /// BondedRatioTarget: the highest annual inflation, in bps.
        uint16 maxInflationBps;
        /// The epoch length in seconds (BondedRatioTarget's bound).
        uint64 epochLength;
        /// The first epoch with an emission.
        uint64 firstEpoch;
    }

    Kind public immutable kind;
    uint256 public immutable decayRay;
    uint256 public immutable budget;
    /// @notice BondedRatioTarget's largest emission per epoch.
    uint256 public immutable targetingBound;

    /// @notice Funded and not yet paid (internal accounting: force-sent value is not counted).
    uint256 public funded;
    /// @notice The next epoch to draw.
    uint64 public nextEpoch;
    /// @notice The scheduled emission of `nextEpoch` (Constant, Decaying, FixedBudget).
    uint256 public scheduled;
    /// @notice Paid so far (FixedBudget's spent budget).
    uint256 public paid;
    /// @notice Everything ever funded (force-sent value not counted): `funded + paid`.
    uint256 public totalFunded;
    /// `totalFunded` at the end of each block that funded the reserve.
    Checkpoints.Trace208 internal _totalFundedAt;

    event Funded(address indexed from, uint256 amount);
    event EmissionDrawn(uint64 indexed epoch, uint256 amount, address indexed to);

    /// @dev A parameter is outside its allowed range (name given).
    error InvalidParameter(string name);
    /// @dev A zero address where one is required.
    error ZeroAddress();
    /// @dev Epochs are drawn in order, each once.
    error WrongEpoch(uint64 epoch, uint64 expected);
    /// @dev The amount is not the schedule's (or above the targeting bound).
    error WrongAmount(uint64 epoch, uint256 amount, uint256 expected);
    /// @dev Nothing was sent.
    error ZeroAmount();
    /// @dev The native transfer failed.
    error TransferFailed(address to, uint256 amount);

    /// @param p The parameters.
    /// @param admin DEFAULT_ADMIN_ROLE (the governance timelock).
    /// @dev Reverts with ZeroAddress for a zero admin; with InvalidParameter naming decayRay
    ///      (zero or above RAY for Decaying), budget (zero for FixedBudget), totalSupply or
    ///      epochLength (zero for BondedRatioTarget), or maxInflationBps (above 10_000).
    constructor(Params memory p, address admin) {
        if (admin == address(0)) revert ZeroAddress();
        if (p.kind == Kind.Decaying && (p.decayRay == 0 || p.decayRay > RewardMath.RAY)) {
            revert InvalidParameter("decayRay");
        }
        if (p.kind == Kind.FixedBudget && p.budget == 0) revert InvalidParameter("budget");
        if (p.kind == Kind.BondedRatioTarget) {
            if (p.totalSupply == 0) revert InvalidParameter("totalSupply");
            if (p.epochLength == 0) revert InvalidParameter("epochLength");
        }
        if (p.maxInflationBps > RewardMath.BPS) revert InvalidParameter("maxInflationBps");
        kind = p.kind;
        decayRay = p.decayRay;
        budget = p.budget;
        targetingBound = Math.mulDiv(
            Math.mulDiv(p.totalSupply, p.maxInflationBps, RewardMath.BPS), p.epochLength, SECONDS_PER_YEAR
        );
        nextEpoch = p.firstEpoch;
        scheduled = p.kind == Kind.FixedBudget ? Math.min(p.perEpoch, p.budget) : p.perEpoch;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Adds `msg.value` to the reserve. Anyone may fund it.
    /// @dev Reverts with ZeroAmount when nothing is sent.
    function fund() external payable {
        if (msg.value == 0) revert ZeroAmount();
        funded += msg.value;
        uint256 total = totalFunded + msg.value;
        totalFunded = total;
        _totalFundedAt.push(SafeCast.toUint48(block.number), SafeCast.toUint208(total));
        emit Funded(msg.sender, msg.value);
    }

    /// @notice What the reserve held for `nextEpoch` at the end of block `refBlock`: everything
    ///         funded by then less everything paid since deployment (the draws after `refBlock`
    ///         are the executing report's earlier epochs), zero if that is negative.
    /// @param refBlock The report's reference block.
    /// @return The amount in wei.
    function heldAt(uint64 refBlock) public view returns (uint256) {
        uint256 fundedThen = _totalFundedAt.upperLookupRecent(SafeCast.toUint48(refBlock));
        return fundedThen > paid ? fundedThen - paid : 0;
    }

    /// @notice What drawing `nextEpoch` must pay for a report with reference block `refBlock`:
    ///         the schedule's amount, as far as the reserve covered it at `refBlock` (for
    ///         BondedRatioTarget: the most it may pay, as far as it holds now).
    /// @param refBlock The report's reference block.
    /// @return The amount in wei.
    function emissionAt(uint64 refBlock) public view returns (uint256) {
        if (kind == Kind.BondedRatioTarget) return Math.min(targetingBound, funded);
        return Math.min(scheduled, heldAt(refBlock));
    }

    /// @notice What drawing `nextEpoch` must pay for a report whose reference block is this
    ///         one: the schedule's amount, as far as the reserve covers it (for
    ///         BondedRatioTarget: the most it may pay). Read at a report's reference block it is
    ///         `emissionAt(refBlock)` for the report's first epoch.
    /// @return The amount in wei.
    function expectedEmission() public view returns (uint256) {
        uint256 due = kind == Kind.BondedRatioTarget ? targetingBound : scheduled;
        return Math.min(due, funded);
    }

    /// @notice Pays epoch `epoch`'s emission, `amount`, to the caller (the report).
    /// @param epoch Must be `nextEpoch`.
    /// @param amount Exactly `emissionAt(refBlock)`: the schedule's amount, or what the reserve
    ///        held at `refBlock` when that was less; at most `emissionAt(refBlock)` for
    ///        BondedRatioTarget.
    /// @param refBlock The report's reference block (in the past: the report contract checks).
    /// @dev Reverts with AccessControlUnauthorizedAccount without DRAWER_ROLE; with WrongEpoch
    ///      out of order; with WrongAmount for another amount; with TransferFailed if the
    ///      caller refuses the value.
    function draw(uint64 epoch, uint256 amount, uint64 refBlock) external onlyRole(DRAWER_ROLE) nonReentrant {
        if (epoch != nextEpoch) revert WrongEpoch(epoch, nextEpoch);
        uint256 expected = emissionAt(refBlock);
        // One amount per report, fixed by the reserve's state at the report's reference block:
        // every member computes it, and a top-up after that block (anyone may fund) changes
        // nothing. Before, a short reserve accepted any amount up to what it held, until a
        // top-up to the schedule made the draw exact and refused the agreed report.
        bool ok = kind == Kind.BondedRatioTarget ? amount <= expected : amount == expected;
        if (!ok) revert WrongAmount(epoch, amount, expected);
        nextEpoch = epoch + 1;
        funded -= amount;
        paid += amount;
        if (kind == Kind.Decaying) {
            scheduled = RewardMath.decayStep(scheduled, decayRay);
        } else if (kind == Kind.FixedBudget) {
            scheduled = Math.min(scheduled, budget - paid);
        }
        emit EmissionDrawn(epoch, amount, msg.sender);
        if (amount > 0) {
            (bool sent,) = msg.sender.call{value: amount}("");
            if (!sent) revert TransferFailed(msg.sender, amount);
        }
    }
}
