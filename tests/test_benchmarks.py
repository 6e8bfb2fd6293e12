"""The benchmark harness's pure helpers, on synthetic numbers (the benchmarks never run here)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest

from benchmarks.harness import (
    Figure,
    Goal,
    compare_floors,
    format_table,
    format_value,
    interleave_order,
    percentile,
    ratio,
    run_interleaved,
    summarize,
    utilisation,
)


def test_percentile_interpolates_between_ranks() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 25) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0


@pytest.mark.parametrize("q", [-1.0, 100.5])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_summarize() -> None:
    summary = summarize([float(n) for n in range(1, 21)])
    assert summary.n == 20
    assert summary.median == 10.5
    assert summary.p95 == pytest.approx(19.05)
    assert summary.as_dict(1000) == {"n": 20, "median": 10500.0, "p95": pytest.approx(19050.0)}


def test_ratio_of_medians_and_of_p95s() -> None:
    slow = [2.0] * 19 + [10.0]
    fast = [1.0] * 19 + [2.0]
    stats = ratio(slow, fast)
    assert stats.median == 2.0
    assert stats.p95 == pytest.approx(percentile(slow, 95) / percentile(fast, 95))
    inverse = ratio(fast, slow)
    assert inverse.median == 0.5


def test_compare_floors_reports_both_floors() -> None:
    samples = {
        "ours": [30e-6] * 20,
        "floor": [200e-6] * 20,
        "loop_floor": [20e-6] * 20,
    }
    floors = compare_floors(samples)
    assert floors.vs_floor.as_dict() == pytest.approx({"median": 0.15, "p95": 0.15})
    assert floors.detail["ours_over_loop_thread_floor"] == pytest.approx(
        {"median": 1.5, "p95": 1.5}
    )
    assert floors.detail["floor_us"]["median"] == pytest.approx(200.0)
    assert floors.detail["loop_thread_floor_us"]["n"] == 20
    assert floors.note("read") == (
        "ours 30.0 µs, floor 200.0 µs; ours / sqlite3 read on the loop thread 1.50×"
    )


def test_ratio_refuses_a_zero_denominator() -> None:
    with pytest.raises(ValueError, match="non-positive"):
        ratio([1.0], [0.0])


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6])
def test_interleave_order_balances_positions_and_predecessors(count: int) -> None:
    names = [f"c{i}" for i in range(count)]
    cycle = count if count % 2 == 0 else 2 * count
    order = interleave_order(names, 2 * cycle)
    assert order[cycle:] == order[:cycle]
    assert all(sorted(round_order) == names for round_order in order)
    # Every candidate in every position equally often...
    for position in range(count):
        at = Counter(round_order[position] for round_order in order[:cycle])
        assert set(at.values()) == {cycle // count}
    # ...and right after every other candidate equally often.
    pairs = Counter(
        (before, after)
        for round_order in order[:cycle]
        for before, after in itertools.pairwise(round_order)
    )
    if count > 1:
        assert len(pairs) == count * (count - 1)
        assert len(set(pairs.values())) == 1


def test_interleave_order_small_cases() -> None:
    assert interleave_order(["a", "b"], 3) == [["a", "b"], ["b", "a"], ["a", "b"]]
    assert interleave_order(["a", "b", "c"], 2) == [["a", "b", "c"], ["b", "c", "a"]]
    assert interleave_order([], 2) == [[], []]


def test_interleave_order_rejects_duplicates_and_negative_rounds() -> None:
    with pytest.raises(ValueError, match="distinct"):
        interleave_order(["a", "a"], 1)
    with pytest.raises(ValueError, match="negative"):
        interleave_order(["a"], -1)


async def test_run_interleaved_times_each_op_and_drops_warmup() -> None:
    calls: list[str] = []
    ticks = iter(range(0, 10**9, 1000))  # every clock read advances 1 µs

    def clock() -> int:
        return next(ticks)

    def candidate(name: str) -> Callable[[], Awaitable[None]]:
        async def op() -> None:
            calls.append(name)

        return op

    samples = await run_interleaved(
        {"a": candidate("a"), "b": candidate("b")},
        rounds=3,
        batch=2,
        warmup_rounds=1,
        clock=clock,
    )
    # Round 0 (warm-up) a,a,b,b; round 1 b,b,a,a; round 2 a,a,b,b; round 3 b,b,a,a.
    assert calls == list("aabbbbaaaabbbbaa")
    assert len(samples["a"]) == len(samples["b"]) == 6
    assert all(value == pytest.approx(1e-6) for value in samples["a"] + samples["b"])


def test_utilisation_of_arrivals() -> None:
    evenly = [0.2 * n for n in range(26)]  # 26 arrivals, 5 s, at 5/s
    assert utilisation(evenly, 5.0) == pytest.approx(1.0)
    gappy = [*evenly[:13], *(t + 1.0 for t in evenly[13:])]  # one idle second
    assert utilisation(gappy, 5.0) == pytest.approx(25 / 6 / 5)
    assert utilisation([3.0], 5.0) == 0.0
    assert utilisation([1.0, 1.0], 5.0) == math.inf
    with pytest.raises(ValueError, match="positive"):
        utilisation(evenly, 0)


@pytest.mark.parametrize(
    ("op", "target", "value", "met"),
    [
        ("<=", 1.5, 1.5, True),
        ("<=", 1.5, 1.51, False),
        (">=", 5.0, 5.0, True),
        (">=", 5.0, 4.99, False),
        ("<", 20.0, 19.9, True),
        ("<", 20.0, 20.0, False),
        (">", 0.0, 0.0, False),
        ("==", 1.0, 1.0, True),
        ("==", 1.0, 2.0, False),
        ("<=", 1.5, math.nan, False),
    ],
)
def test_goal(op: str, target: float, value: float, met: bool) -> None:
    assert Goal(op, target).met(value) is met  # type: ignore[arg-type]


def test_format_value() -> None:
    assert format_value(1.234, "×") == "1.23×"
    assert format_value(97.04, "%") == "97.0 %"
    assert format_value(3.25, "MB") == "3.2 MB"
    assert format_value(1.0, "") == "1"
    assert format_value(None, "×") == "—"
    assert format_value(math.nan, "×") == "n/a"
    assert format_value(12.0, "ms") == "12 ms"


def _figures() -> list[Figure]:
    return [
        Figure("hit", "cache hit vs floor", 1.2, 1.4, "×", Goal("<=", 1.5), note="ours 10 µs"),
        Figure("miss", "miss vs raw", 1.8, 2.5, "×", Goal("<=", 1.3)),
        Figure("util", "utilisation", 98.2, None, "%", Goal(">=", 97.0)),
        Figure("flight", "single flight", 1.0, 2.0, "", Goal("==", 1), judge_worst=True),
    ]


def test_figure_verdicts() -> None:
    hit, miss, util, flight = _figures()
    assert hit.passed and util.passed
    assert not miss.passed
    assert not flight.passed  # one bad round is a failure when judged on every round
    flight.p95 = 1.0
    assert flight.passed
    document = miss.as_dict()
    assert document["passed"] is False
    assert document["goal"] == {"op": "<=", "target": 1.3}
    assert document["judged_on"] == "median"
    assert Figure("x", "x", math.nan, math.inf, "×", Goal("<=", 1)).as_dict()["median"] is None


def test_format_table() -> None:
    table = format_table(_figures())
    lines = table.splitlines()
    assert lines[0].split() == ["#", "figure", "median", "p95", "goal", "result", "note"]
    assert set(lines[1]) == {"-", " "}
    body = lines[2:6]
    assert "1.20×" in body[0] and "1.40×" in body[0] and "≤ 1.50×" in body[0]
    assert " PASS " in body[0] and body[0].endswith("ours 10 µs")
    assert " MISS" in body[1]
    assert "98.2 %" in body[2] and "—" in body[2] and "≥ 97.0 %" in body[2]
    assert " MISS" in body[3]
    assert lines[-1] == "2 PASS, 2 MISS"
    # Columns line up: every verdict starts at the same offset.
    offsets = {line.index("PASS") if "PASS" in line else line.index("MISS") for line in body}
    assert len(offsets) == 1
