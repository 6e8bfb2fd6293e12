"""Pure helpers of the benchmark harness: percentiles, ratios, interleaving, the result table.

Everything here is deterministic apart from :func:`run_interleaved` (which times real awaits),
so ``tests/test_benchmarks.py`` checks it on synthetic numbers.

Method, shared by every figure that compares two candidates:

* The candidates run **interleaved in one process**: ``rounds`` rounds, each candidate runs
  ``batch`` operations per round, in an order balanced for position and predecessor
  (:func:`interleave_order`), so drift of the shared machine (other tenants, CPU frequency,
  page cache) and what one candidate leaves behind land on every candidate alike.
* Every operation is timed on its own (``perf_counter_ns``); warm-up rounds are dropped.
* A figure is a **ratio of distributions**: ``median(A) / median(B)`` and ``p95(A) / p95(B)``
  (:func:`ratio`). "Ours is N× faster than X" is ``X / ours``.
* A goal is judged on the median ratio; the p95 ratio is reported beside it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Figure",
    "Goal",
    "RatioStats",
    "format_table",
    "interleave_order",
    "percentile",
    "ratio",
    "run_interleaved",
    "summarize",
    "utilisation",
]

Op = Literal["<=", ">=", "<", ">", "=="]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation between closest ranks.

    Raises:
        ValueError: no values, or ``q`` outside [0, 100].
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be within [0, 100], got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    fraction = position - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * fraction)


@dataclass(frozen=True)
class Summary:
    """Median and p95 of one candidate's samples."""

    n: int
    median: float
    p95: float

    def as_dict(self, scale: float = 1.0) -> dict[str, float]:
        return {"n": self.n, "median": self.median * scale, "p95": self.p95 * scale}


def summarize(values: Sequence[float]) -> Summary:
    """Median and p95 of ``values``."""
    return Summary(len(values), percentile(values, 50.0), percentile(values, 95.0))


@dataclass(frozen=True)
class RatioStats:
    """``numerator / denominator`` of two distributions, at the median and at p95."""

    median: float
    p95: float

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "p95": self.p95}


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> RatioStats:
    """``median(numerator) / median(denominator)`` and ``p95(numerator) / p95(denominator)``.

    Raises:
        ValueError: either side is empty or has a non-positive median/p95.
    """
    num, den = summarize(numerator), summarize(denominator)
    if den.median <= 0 or den.p95 <= 0:
        raise ValueError("ratio over a non-positive denominator")
    return RatioStats(num.median / den.median, num.p95 / den.p95)


def utilisation(arrivals: Sequence[float], rate: float) -> float:
    """Share of ``rate`` (requests per second) that ``arrivals`` (seconds) used:
    ``(n - 1) / (last - first) / rate``. Fewer than two arrivals use nothing (0.0).

    Raises:
        ValueError: a rate that is not positive.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    if len(arrivals) < 2:
        return 0.0
    span = max(arrivals) - min(arrivals)
    if span <= 0:
        return math.inf
    return (len(arrivals) - 1) / span / rate


def interleave_order(names: Sequence[str], rounds: int) -> list[list[str]]:
    """The order in which the candidates run in each round: a Williams design, a Latin square
    balanced for carry-over. Over every cycle of rounds (``n`` rounds for ``n`` candidates, ``2n``
    when ``n`` is odd) each candidate runs in each position equally often and right after each
    other candidate equally often, so what one candidate leaves behind (a background write, a
    thread still busy, a cold cache) falls on every other one alike. A plain rotation would
    always put the same candidate after the same one.

    >>> interleave_order(["a", "b", "c", "d"], 4)
    [['a', 'b', 'd', 'c'], ['b', 'c', 'a', 'd'], ['c', 'd', 'b', 'a'], ['d', 'a', 'c', 'b']]
    """
    if rounds < 0:
        raise ValueError("rounds must not be negative")
    if len(set(names)) != len(names):
        raise ValueError("candidate names must be distinct")
    count = len(names)
    if count == 0:
        return [[] for _ in range(rounds)]
    # First row 0, 1, n-1, 2, n-2, ...; row r adds r (mod n); odd n adds the mirrored rows.
    first = [0] + [(k + 1) // 2 if k % 2 else count - k // 2 for k in range(1, count)]
    square = [[(index + r) % count for index in first] for r in range(count)]
    if count % 2:
        square += [row[::-1] for row in square]
    return [[names[index] for index in square[r % len(square)]] for r in range(rounds)]


async def run_interleaved(
    candidates: Mapping[str, Callable[[], Awaitable[Any]]],
    *,
    rounds: int,
    batch: int,
    warmup_rounds: int = 2,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, list[float]]:
    """Time every operation of every candidate, interleaved; returns seconds per operation.

    Each round runs ``batch`` operations of each candidate in :func:`interleave_order`. The
    first ``warmup_rounds`` rounds are run but not recorded.
    """
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    order = interleave_order(names, warmup_rounds + rounds)
    for round_number, round_order in enumerate(order):
        keep = round_number >= warmup_rounds
        for name in round_order:
            op = candidates[name]
            out = samples[name]
            for _ in range(batch):
                start = clock()
                await op()
                elapsed = clock() - start
                if keep:
                    out.append(elapsed / 1e9)
    return samples


@dataclass(frozen=True)
class Goal:
    """A figure's goal: ``value <op> target``."""

    op: Op
    target: float

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.op == "<=":
            return value <= self.target
        if self.op == ">=":
            return value >= self.target
        if self.op == "<":
            return value < self.target
        if self.op == ">":
            return value > self.target
        return value == self.target

    def text(self, unit: str) -> str:
        symbol = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}[self.op]
        return f"{symbol} {format_value(self.target, unit)}"


def format_value(value: float | None, unit: str) -> str:
    """A number for the table: ``1.23×``, ``98.1 %``, ``3.4 MB``, ``1``..."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "n/a"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "":
        return f"{value:g}"
    return f"{value:g} {unit}"


@dataclass
class Figure:
    """One line of the result table.

    ``median`` is what the goal is judged on; ``p95`` is reported beside it (``None`` when a
    figure is a single measurement). With ``judge_worst`` the p95 column must meet the goal
    too (figures where a single bad round is a failure). ``detail`` holds the absolute numbers
    behind a ratio.
    """

    key: str
    title: str
    median: float
    p95: float | None
    unit: str
    goal: Goal
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    judge_worst: bool = False

    @property
    def passed(self) -> bool:
        if not self.goal.met(self.median):
            return False
        return not (self.judge_worst and self.p95 is not None and not self.goal.met(self.p95))

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "median": _finite_or_none(self.median),
            "p95": _finite_or_none(self.p95),
            "unit": self.unit,
            "goal": {"op": self.goal.op, "target": self.goal.target},
            "passed": self.passed,
            "judged_on": "median and p95" if self.judge_worst else "median",
            "note": self.note,
            "detail": self.detail,
        }


def _finite_or_none(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


def format_table(figures: Sequence[Figure]) -> str:
    """The result table as aligned plain text, one figure a line, with PASS/MISS."""
    header = ("#", "figure", "median", "p95", "goal", "result", "note")
    rows = [header]
    for number, figure in enumerate(figures, 1):
        rows.append(
            (
                str(number),
                figure.title,
                format_value(figure.median, figure.unit),
                format_value(figure.p95, figure.unit),
                figure.goal.text(figure.unit),
                "PASS" if figure.passed else "MISS",
                figure.note,
            )
        )
    widths = [max(len(row[col]) for row in rows) for col in range(len(header))]
    right = {0, 2, 3}

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(width) if col in right else cell.ljust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    missed = sum(not figure.passed for figure in figures)
    footer = f"{len(figures) - missed} PASS, {missed} MISS"
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:]), rule, footer])


def micros(seconds: float) -> float:
    """Seconds to microseconds, rounded for the results file."""
    return round(seconds * 1e6, 1)


@dataclass(frozen=True)
class FloorComparison:
    """Ours against the aiosqlite floor and against the same statement through a plain
    ``sqlite3`` connection on the loop thread (where our store runs it), from the samples named
    ``ours``, ``floor`` and ``loop_floor``."""

    ours: Summary
    floor: Summary
    vs_floor: RatioStats
    vs_loop_floor: RatioStats
    detail: dict[str, Any]

    def note(self, statement: str) -> str:
        return (
            f"ours {micros(self.ours.median)} µs, floor {micros(self.floor.median)} µs; "
            f"ours / sqlite3 {statement} on the loop thread {self.vs_loop_floor.median:.2f}×"
        )


def compare_floors(samples: Mapping[str, Sequence[float]]) -> FloorComparison:
    """See :class:`FloorComparison`; ``detail`` holds the absolute µs of the three and the
    loop-thread ratio."""
    ours, floor, loop_floor = (summarize(samples[name]) for name in ("ours", "floor", "loop_floor"))
    vs_loop_floor = ratio(samples["ours"], samples["loop_floor"])
    return FloorComparison(
        ours=ours,
        floor=floor,
        vs_floor=ratio(samples["ours"], samples["floor"]),
        vs_loop_floor=vs_loop_floor,
        detail={
            "ours_us": ours.as_dict(1e6),
            "floor_us": floor.as_dict(1e6),
            "loop_thread_floor_us": loop_floor.as_dict(1e6),
            "ours_over_loop_thread_floor": vs_loop_floor.as_dict(),
        },
    )
