"""``python -m benchmarks [--quick] [--only NAME,...] [--strict]``: run the benchmarks.

Prints one table (each figure, its goal, PASS/MISS), writes ``benchmarks/results.json`` and
``benchmarks/results.png``. The full run takes about 3–4 minutes on a 2-core machine;
``--quick`` is a ~30 s smoke run with fewer iterations (its numbers are noisier).
Exits 1 if a benchmark failed to run (or, with ``--strict``, if a goal was missed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from . import cache_hit, growth, limiter, memory, miss, requests, utilisation
from .common import RunSize
from .harness import Figure, format_table, format_value

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_PNG = HERE / "results.png"
PASS_COLOR = "#2e7d32"
MISS_COLOR = "#c62828"

Runner = Callable[[RunSize], Coroutine[Any, Any, list[Figure]]]
FAMILIES: dict[str, Runner] = {
    "cache_hit": cache_hit.run,
    "miss": miss.run,
    "limiter": limiter.run,
    "growth": growth.run,
    "utilisation": utilisation.run,
    "memory": memory.run,
    "requests": requests.run,
}
PACKAGES = ("ticketmaster-async", "httpx", "aiosqlite", "pydantic", "hishel", "pyrate-limiter")
METHOD = (
    "Candidates run interleaved in one process (order rotated every round, warm-up rounds "
    "dropped); each operation timed on its own. Ratios are median(A)/median(B) and "
    "p95(A)/p95(B); a goal is judged on the median ratio (single flight: on every round)."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a ~30 s smoke run")
    parser.add_argument(
        "--only",
        metavar="NAME,...",
        help=f"run only these families ({', '.join(FAMILIES)})",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a figure misses its goal"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=HERE,
        help="where results.json and results.png go (benchmarks/)",
    )
    return parser


def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "packages": _versions(),
    }


def results_document(
    figures: Sequence[Figure],
    *,
    quick: bool,
    started: datetime,
    duration: float,
    errors: dict[str, str],
    timings: dict[str, float],
) -> dict[str, Any]:
    """The content of ``results.json``."""
    return {
        "schema": 1,
        "quick": quick,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "family_seconds": timings,
        "machine": machine(),
        "method": METHOD,
        "figures": {figure.key: figure.as_dict() for figure in figures},
        "summary": {
            "passed": [figure.key for figure in figures if figure.passed],
            "missed": [figure.key for figure in figures if not figure.passed],
            "errors": errors,
        },
    }


def plot(figures: Sequence[Figure], path: Path, *, subtitle: str) -> None:
    """Small multiples: each figure's median (and p95) against its goal, green PASS, red MISS."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 4
    rows = max(1, -(-len(figures) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index >= len(figures):
            axis.axis("off")
            continue
        figure = figures[index]
        if figure.p95 is None:
            labels, values = ["value"], [figure.median]
        else:
            labels, values = ["median", "p95"], [figure.median, figure.p95]
        color = PASS_COLOR if figure.passed else MISS_COLOR
        shades = [
            (PASS_COLOR if figure.goal.met(value) else MISS_COLOR) + ("" if n == 0 else "88")
            for n, value in enumerate(values)
        ]
        bars = axis.bar(labels, values, color=shades, width=0.6)
        for bar, value in zip(bars, values, strict=True):
            axis.annotate(
                format_value(value, figure.unit),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        axis.axhline(figure.goal.target, color="#333333", linestyle="--", linewidth=1)
        axis.text(
            0.99,
            figure.goal.target,
            f"goal {figure.goal.text(figure.unit)}",
            transform=axis.get_yaxis_transform(),
            ha="right",
            va="bottom",
            fontsize=7,
        )
        top = max([*values, figure.goal.target]) * 1.25 or 1.0
        axis.set_ylim(0, top)
        verdict = "PASS" if figure.passed else "MISS"
        axis.set_title(
            f"{index + 1}. " + "\n".join(textwrap.wrap(figure.title, 38)) + f"  [{verdict}]",
            fontsize=8,
            color=color,
        )
        axis.tick_params(labelsize=7)
    fig.suptitle(f"ticketmaster_async benchmarks — {subtitle}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    size = RunSize.smoke() if args.quick else RunSize.full()
    names = list(FAMILIES)
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in FAMILIES]
        if unknown:
            _parser().error(f"unknown benchmark(s): {', '.join(unknown)}")
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name in names:
        print(f"running {name}...", file=sys.stderr, flush=True)
        family_start = time.perf_counter()
        try:
            figures.extend(asyncio.run(FAMILIES[name](size)))
        except Exception:
            errors[name] = traceback.format_exc()
            print(f"{name} failed:\n{errors[name]}", file=sys.stderr, flush=True)
        timings[name] = round(time.perf_counter() - family_start, 1)
    duration = time.perf_counter() - clock

    mode = "quick smoke run" if args.quick else "full run"
    print()
    print(f"ticketmaster_async benchmarks ({mode}, {duration:.0f} s; ratios measured side by side)")
    print(format_table(figures))
    for name in errors:
        print(f"ERROR: {name} did not run (see stderr)")

    args.output_dir.mkdir(parents=True, exist_ok=True)
    document = results_document(
        figures,
        quick=args.quick,
        started=started,
        duration=duration,
        errors=errors,
        timings=timings,
    )
    json_path = args.output_dir / RESULTS_JSON.name
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    png_path = args.output_dir / RESULTS_PNG.name
    if figures:
        plot(figures, png_path, subtitle=f"{mode}, {started:%Y-%m-%d %H:%M} UTC")
    print(f"wrote {json_path} and {png_path}")
    if errors:
        return 1
    if args.strict and any(not figure.passed for figure in figures):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
