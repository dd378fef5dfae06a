"""Generate the piecewise-polynomial normal CDF used on-chain and by the Python mirror.

N(x) for 0 <= x < X_MAX is split into intervals of width 1/4; on interval i (centre
c_i = (2i + 1) / 8) it is a polynomial in t = x - c_i, fitted by Chebyshev interpolation at
60 significant digits (mpmath) with the smallest degree whose worst error on a dense grid, after the
coefficients are rounded to Q96 integers and the integer Horner scheme is run, stays below
TARGET_ABS_ERROR. For x >= X_MAX the library returns exactly 1 (1 - N(9.5) = 1.05e-21).

Outputs (never edit them by hand; run `python scripts/gen_normal_cdf.py`):
  contracts/libraries/NormalCdfTable.sol   N(x): a weighted search tree over the intervals + Horner, one
                                           assembly block (sign, tail and clamps included)
  hedgevault/greeks/_cdf_table.py          the same integers for the mirror
"""

from __future__ import annotations

from pathlib import Path

import mpmath as mp

Q96 = 1 << 96
INTERVALS = 38  # [0, 9.5) in steps of 1/4
WIDTH_SHIFT = 94  # interval index i = a >> 94 for a Q96 argument a (width 2^94 / 2^96 = 1/4)
TARGET_ABS_ERROR = mp.mpf("1e-21")
CHECK_POINTS = 400
ROOT = Path(__file__).resolve().parents[1]


def _horner(coeffs: list[int], t: int) -> int:
    acc = coeffs[0]
    for c in coeffs[1:]:
        acc = ((acc * t) >> 96) + c
    return acc


def _fit(i: int) -> tuple[list[int], mp.mpf]:
    half = mp.mpf(1) / 8
    centre = (2 * i + 1) * half
    centre_q = (2 * i + 1) << (WIDTH_SHIFT - 1)
    for degree in range(1, 30):
        poly = mp.chebyfit(lambda t: mp.ncdf(centre + t), [-half, half], degree + 1)
        coeffs = [int(mp.nint(c * Q96)) for c in poly]  # highest degree first
        worst = mp.mpf(0)
        for k in range(CHECK_POINTS + 1):
            a = (i << WIDTH_SHIFT) + (((1 << WIDTH_SHIFT) - 1) * k) // CHECK_POINTS
            got = mp.mpf(_horner(coeffs, a - centre_q)) / Q96
            worst = max(worst, abs(got - mp.ncdf(mp.mpf(a) / Q96)))
        if worst < TARGET_ABS_ERROR:
            return coeffs, worst
    raise RuntimeError(f"interval {i}: no degree below 30 reaches the target")


#: Intervals from this index on (x >= 5) get the clamp at 1; below it N(x) <= N(5) = 1 - 2.9e-7, and
#: everywhere N(x) >= 1/2, so the clamps of the mirror (p > 2^96 -> 2^96, p < 0 -> 0) can never fire
#: there: `_fit`'s results are checked for that (`_check_margins`).
CLAMP_FROM = 20
#: Weights of the leaves of the search tree (index INTERVALS: x >= 9.5, N = 1): how often |d1| and |d2|
#: fall in each interval on 1000 listed-option inputs (hedgevault.greeks.sampling.realistic_inputs,
#: seed 2), plus 20 each so that no interval ends up deep. The tree minimises the weighted number of
#: comparisons (an optimal alphabetic tree, by dynamic programming): 4 to 6 for the degree-12 pieces,
#: 3 for the saturated tail.
LEAF_WEIGHTS = tuple(
    n + 20
    for n in (
        123,
        120,
        121,
        114,
        105,
        95,
        52,
        60,
        59,
        54,
        38,
        38,
        47,
        37,
        33,
        30,
        33,
        24,
        20,
        20,
        17,
        16,
        20,
        15,
        22,
        17,
        11,
        26,
        23,
        13,
        17,
        12,
        8,
        14,
        10,
        20,
        14,
        6,
        496,
    )
)


def _check_margins(i: int, coeffs: list[int]) -> None:
    """The clamp-free claims above, on the check grid: 2^95 - 2^64 < p, and p < 2^96 - 2^64 when i < CLAMP_FROM."""
    for k in range(CHECK_POINTS + 1):
        a = (i << WIDTH_SHIFT) + (((1 << WIDTH_SHIFT) - 1) * k) // CHECK_POINTS
        p = _horner(coeffs, a - ((2 * i + 1) << (WIDTH_SHIFT - 1)))
        assert p > (Q96 >> 1) - (1 << 64), (i, k)
        if i < CLAMP_FROM:
            assert p < Q96 - (1 << 64), (i, k)


def _leaf(i: int, coeffs: list[int], indent: str) -> list[str]:
    # One nested expression, constant first: Yul evaluates arguments right to left, so the innermost
    # term is computed first and the stack never holds more than a few words, and no intermediate
    # assignment is emitted (cheaper than one `p := ...` per coefficient).
    expr = _lit(coeffs[0])
    for c in coeffs[1:]:
        expr = f"add({_lit(c)}, sar(96, mul(t, {expr})))"
    lines = [f"{indent}// [{i / 4:.2f}, {(i + 1) / 4:.2f}), degree {len(coeffs) - 1}", f"{indent}r := {expr}"]
    if i >= CLAMP_FROM:
        lines.append(f"{indent}if sgt(r, {Q96}) {{ r := {Q96} }}")
    return lines + [f"{indent}leave"]


def _lit(value: int) -> str:
    # negative coefficients as their 256-bit two's complement (one PUSH32, same as a positive one)
    return str(value) if value >= 0 else hex(value + (1 << 256))


def _splits(weights: tuple[int, ...]) -> dict[tuple[int, int], int]:
    """For every range [lo, hi) of leaves, the split minimising the weighted number of comparisons."""
    n = len(weights)
    prefix = [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    cost: dict[tuple[int, int], int] = {(i, i + 1): 0 for i in range(n)}
    split: dict[tuple[int, int], int] = {}
    for width in range(2, n + 1):
        for lo in range(n - width + 1):
            hi = lo + width
            best = min(range(lo + 1, hi), key=lambda k: (cost[(lo, k)] + cost[(k, hi)], k))
            cost[(lo, hi)] = cost[(lo, best)] + cost[(best, hi)] + prefix[hi] - prefix[lo]
            split[(lo, hi)] = best
    return split


def _tree(lo: int, hi: int, tables: list[list[int]], indent: str, split: dict[tuple[int, int], int]) -> list[str]:
    # `if lt(i, mid) { <left subtree> }` then the right subtree: every leaf ends with `leave`. Index
    # INTERVALS stands for every i >= INTERVALS (x >= 9.5, where N = 1): the last leaf of the tree.
    if hi - lo == 1:
        if lo == INTERVALS:
            return [f"{indent}// [9.50, infinity): 1", f"{indent}r := {Q96}"]
        return _leaf(lo, tables[lo], indent)
    mid = split[(lo, hi)]
    return (
        [f"{indent}if lt(i, {mid}) {{"]
        + _tree(lo, mid, tables, indent + "    ", split)
        + [f"{indent}}}"]
        + _tree(mid, hi, tables, indent, split)
    )


def main() -> None:
    mp.mp.dps = 60
    tables: list[list[int]] = []
    report: list[str] = []
    for i in range(INTERVALS):
        coeffs, worst = _fit(i)
        _check_margins(i, coeffs)
        tables.append(coeffs)
        report.append(
            f"//   [{i / 4:.2f}, {(i + 1) / 4:.2f}): degree {len(coeffs) - 1:2d}, max error {mp.nstr(worst, 2)}"
        )
    assert len(LEAF_WEIGHTS) == INTERVALS + 1
    body = "\n".join(_tree(0, INTERVALS + 1, tables, "                ", _splits(LEAF_WEIGHTS)))
    sol = f"""// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// GENERATED by scripts/gen_normal_cdf.py - do not edit by hand.
// Piecewise polynomial of the standard normal CDF on [0, 9.5), intervals of width 1/4,
// polynomial in t = x - centre (Q96), integer Horner with arithmetic right shifts.
// Worst absolute error per interval (integer scheme vs mpmath at 60 digits, {CHECK_POINTS + 1} points each):
{chr(10).join(report)}

/// @title NormalCdfTable
/// @notice The standard normal CDF. Used through `NormalDist.cdfQ96` (and directly by `BlackScholes`).
library NormalCdfTable {{
    uint256 internal constant Q96 = 1 << 96;
    /// @dev N(x) = 1 at and beyond 9.5 (1 - N(9.5) = 1.05e-21).
    uint256 internal constant CDF_MAX_Q96 = 19 << 95;

    /// @notice N(x) for a Q96 argument, in Q96, always within [0, 2^96]; N(-x) = 2^96 - N(x) exactly for x != 0.
    /// @dev Domain: every int256 (int256.min included: |x| is read as 2^255, beyond 9.5).
    /// Note: This function is an approximation: piecewise polynomials on intervals of width 1/4 (the
    /// table above), absolute error <= 1e-21 on the pieces and 1.05e-21 at and beyond 9.5, where N = 1.
    /// Monotonically non-decreasing up to twice that error. The polynomial value is clamped to 2^96
    /// from x >= {CLAMP_FROM / 4:g} on; below, it stays within (1/2 - 2^-32, 1 - 2^-32) (checked by the
    /// generator), so the clamps to [0, 2^96] of the reference cannot fire there.
    function cdfQ96(int256 x) internal pure returns (uint256 p) {{
        assembly ("memory-safe") {{
            // i = a >> {WIDTH_SHIFT}: below {INTERVALS} when a < 9.5 * 2^96, where t = a - centre is in [-2^{WIDTH_SHIFT - 1}, 2^{WIDTH_SHIFT - 1}]
            // and every Horner term stays below 2^200 (|t| < 2^93, coefficients and partial sums < 2^97);
            // i >= {INTERVALS} (any a up to 2^255) falls through every test to the last leaf, 1 (t unused).
            function positive(a) -> r {{
                let i := shr({WIDTH_SHIFT}, a)
                // t = a - ((2 i + 1) << {WIDTH_SHIFT - 1}) = (a mod 2^{WIDTH_SHIFT}) - 2^{WIDTH_SHIFT - 1}
                let t := sub(and(a, {(1 << WIDTH_SHIFT) - 1}), {1 << (WIDTH_SHIFT - 1)})
{body}
            }}
            // s = 0 if x >= 0, else all ones: |x| = (x + s) ^ s (two's complement; int256.min gives
            // 2^255, beyond the table), and for x < 0, 2^96 - p = (p ^ s) + 2^96 + 1
            let s := sar(255, x)
            p := positive(xor(add(x, s), s))
            p := add(xor(p, s), and(s, {Q96 + 1}))
        }}
    }}
}}
"""
    (ROOT / "contracts" / "libraries").mkdir(parents=True, exist_ok=True)
    (ROOT / "contracts" / "libraries" / "NormalCdfTable.sol").write_text(sol)
    py_rows = ",\n".join("    (" + ", ".join(str(c) for c in t) + ",)" for t in tables)
    py = f'''"""GENERATED by scripts/gen_normal_cdf.py - do not edit by hand.

Coefficients (Q96, highest degree first) of the piecewise normal CDF on [0, 9.5), one tuple per
interval of width 1/4 (index a >> {WIDTH_SHIFT}); the same integers as contracts/libraries/NormalCdfTable.sol.
"""

CDF_WIDTH_SHIFT = {WIDTH_SHIFT}
CDF_COEFFS: tuple[tuple[int, ...], ...] = (
{py_rows},
)
'''
    (ROOT / "hedgevault" / "greeks" / "_cdf_table.py").write_text(py)
    print("\n".join(report))


if __name__ == "__main__":
    main()
