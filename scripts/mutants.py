#!/usr/bin/env python3
"""Checks the mutation table of docs/SECURITY.md ("Mutation testing").

Each mutant is a one-line change of a money path in contracts/src and the forge test that
must fail with it. For every mutant the script copies contracts/ into a scratch directory
(never the checkout's sources), applies the change there, runs
`forge test --match-test <test>` and reports KILLED (the test failed) or SURVIVED. It first
runs every killing test on the unmutated copy, which must pass.

    python3 scripts/mutants.py            # every mutant
    python3 scripts/mutants.py 3 7        # mutants 3 and 7 (1-based, as in the table)

forge must be on PATH (`make` puts node_modules/@foundry-rs/forge-*/bin there). Exit status
1 if any mutant survived or a test failed unmutated.
"""

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (file under contracts/src, the unique text before, the text after, the killing test[, the
# test file, when the test's name is in several suites]).
# `before` may span lines to be unique; the change itself is one line.
MUTANTS = [
    # 1
    (
        'LiquidStakingToken.sol',
        'if (fee > 0) {',
        'if (false) {',
        'test_harvest_mintsTheWorkedFeeShares',
    ),
    # 2
    (
        'LiquidStakingToken.sol',
        'totalPooledAssets() - fee + RewardMath.VIRTUAL_ASSETS',
        'totalPooledAssets() + RewardMath.VIRTUAL_ASSETS',
        'test_harvest_mintsTheWorkedFeeShares',
    ),
    # 3
    (
        'LiquidStakingToken.sol',
        '            RewardMath.RAY,\n            totalSupply() + RewardMath.VIRTUAL_SHARES\n        );\n    }\n\n    /// @notice The rate tickets finalize at',
        '            RewardMath.RAY,\n            totalSupply() + RewardMath.VIRTUAL_SHARES, Math.Rounding.Ceil\n        );\n    }\n\n    /// @notice The rate tickets finalize at',
        'test_shareRate_isTheWorkedRateRoundedDown',
    ),
    # 4
    (
        'LiquidStakingToken.sol',
        'shares = RewardMath.sharesForDeposit(amount, totalSupply(), pooled);',
        'shares = Math.mulDiv(amount, totalSupply() + RewardMath.VIRTUAL_SHARES, pooled + RewardMath.VIRTUAL_ASSETS, Math.Rounding.Ceil);',
        'test_deposit_mintsTheWorkedSharesRoundedDown',
    ),
    # 5
    (
        'LiquidStakingToken.sol',
        'shares = RewardMath.sharesForDeposit(amount, totalSupply(), pooled);',
        'shares = Math.mulDiv(amount, totalSupply() + RewardMath.VIRTUAL_SHARES, pooled + RewardMath.VIRTUAL_ASSETS, Math.Rounding.Ceil);',
        'testFuzz_deposit_neverLowersTheRate',
    ),
    # 6
    (
        'libraries/RewardMath.sol',
        'return Math.mulDiv(shares, Math.min(rateRequest, rateFinalization), RAY);',
        'return Math.mulDiv(shares, Math.max(rateRequest, rateFinalization), RAY);',
        'test_ticket_rateRoseAfterRequest_paysTheValueAtRequest',
    ),
    # 7
    (
        'libraries/RewardMath.sol',
        'return Math.mulDiv(shares, Math.min(rateRequest, rateFinalization), RAY);',
        'return Math.mulDiv(shares, Math.max(rateRequest, rateFinalization), RAY);',
        'test_ticket_rateFellAfterRequest_paysTheSharesAtTheFinalizationRate',
    ),
    # 8
    (
        'libraries/RewardMath.sol',
        'return Math.mulDiv(shares, Math.min(rateRequest, rateFinalization), RAY);',
        'return Math.mulDiv(shares, Math.max(rateRequest, rateFinalization), RAY);',
        'invariant_ticketsPayTheirFinalizedValue',
    ),
    # 9
    (
        'WithdrawalQueue.sol',
        'return Math.min(assets, Math.mulDiv(shares, rate, RewardMath.RAY));',
        'return Math.max(assets, Math.mulDiv(shares, rate, RewardMath.RAY));',
        'test_ticket_rateFellAfterRequest_paysTheSharesAtTheFinalizationRate',
    ),
    # 10
    (
        'WithdrawalQueue.sol',
        'uint256 assets = Math.mulDiv(shares, rate, RewardMath.RAY);',
        'uint256 assets = Math.mulDiv(shares, rate, RewardMath.RAY, Math.Rounding.Ceil);',
        'test_shareRate_isTheWorkedRateRoundedDown',
    ),
    # 11
    (
        'LiquidStakingToken.sol',
        'uint256 fee = Math.mulDiv(value, instantExitFeeBps, RewardMath.BPS, Math.Rounding.Ceil);',
        'uint256 fee = Math.mulDiv(value, instantExitFeeBps, RewardMath.BPS);',
        'test_instantExit_feeIsTheWorkedCeiling',
    ),
    # 12
    (
        'LiquidStakingToken.sol',
        ': Math.mulDiv(maxGain - gain, RewardMath.BPS, RewardMath.BPS - poolFeeBps);',
        ': Math.mulDiv(maxGain - gain, RewardMath.BPS, RewardMath.BPS);',
        'test_harvest_carriesWhatThePoolMayNotTakeYet',
    ),
    # 13
    (
        'LiquidStakingToken.sol',
        'uint256 rewards = Math.min(available, maxRewards);',
        'uint256 rewards = available;',
        'invariant_handlerChecksHold',
        'test/invariant/LiquidInvariants.t.sol',
    ),
    # 14
    (
        'LiquidStakingToken.sol',
        'heldGain += value - assets;',
        'heldGain += 0;',
        'test_finalize_holdsTheWorkedGainOutOfThePool',
    ),
    # 15
    (
        'libraries/RewardMath.sol',
        'credited = Math.mulDiv(increment, shares, RAY, Math.Rounding.Ceil);',
        'credited = Math.mulDiv(increment, shares, RAY);',
        'test_accumulatorVector',
    ),
    # 16
    (
        'libraries/RewardMath.sol',
        'return stake == 0 ? 0 : Math.mulDiv(rest, bond, stake);',
        'return stake == 0 ? 0 : Math.mulDiv(rest, bond, stake, Math.Rounding.Ceil);',
        'test_bondPoolSplitVector',
    ),
]


def run(cmd, cwd, log):
    with open(log, "w") as out:
        return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode


def main():
    picks = [int(a) for a in sys.argv[1:]] or list(range(1, len(MUTANTS) + 1))
    scratch = tempfile.mkdtemp(prefix="seqstake-mutants-")
    work = os.path.join(scratch, "contracts")
    shutil.copytree(os.path.join(ROOT, "contracts"), work, symlinks=True,
                    ignore=shutil.ignore_patterns("artifacts"))
    os.symlink(os.path.join(ROOT, "tests"), os.path.join(scratch, "tests"))
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(scratch, "node_modules"))
    pristine = {}
    failed = False
    tests = sorted({MUTANTS[i - 1][3] for i in picks})
    # The same name in several suites passes once in each.
    suites = {"invariant_handlerChecksHold": 3}
    # forge matches the regex against the test's signature, `name()`.
    pattern = "^(" + "|".join(tests) + ")\\("
    base = os.path.join(scratch, "base.log")
    code = run(["forge", "test", "--match-test", pattern], work, base)
    with open(base) as h:
        passed = h.read().count("[PASS]")
    if code != 0 or passed != sum(suites.get(t, 1) for t in tests):
        print(f"unmutated: {passed} of {len(tests)} killing tests pass ({base})")
        return 1
    print(f"unmutated: {len(tests)} killing tests pass")
    for i in picks:
        path, before, after, test = MUTANTS[i - 1][:4]
        where = ["--match-path", MUTANTS[i - 1][4]] if len(MUTANTS[i - 1]) > 4 else []
        src = os.path.join(work, "src", path)
        for f, text in pristine.items():
            with open(f, "w") as h:
                h.write(text)
        with open(src) as h:
            text = h.read()
        pristine.setdefault(src, text)
        if text.count(before) != 1:
            print(f"{i:2}: {path}: the text to change occurs {text.count(before)} times")
            failed = True
            continue
        with open(src, "w") as h:
            h.write(text.replace(before, after))
        log = os.path.join(scratch, f"mutant-{i}.log")
        code = run(["forge", "test", "--match-test", f"^{test}\\("] + where, work, log)
        with open(log) as h:
            out = h.read()
        if code == 0:
            verdict = "SURVIVED"
        elif "[FAIL" in out and test in out:
            verdict = "KILLED"
        else:
            verdict = "BROKEN"  # did not compile, or the test did not run
        failed |= verdict != "KILLED"
        print(f"{i:2}: {verdict:8} {path}: {after.strip().splitlines()[0][:70]} ({test})", flush=True)
    print(f"logs: {scratch}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
