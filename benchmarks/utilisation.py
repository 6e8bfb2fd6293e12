"""Figure 5: how much of the allowed rate the limiter uses, against a spike-arresting server.

A loopback ``FakeServer`` with ``FakeDiscoveryAPI(requests_per_second=5)`` (Apigee-like spike
arrest: one request per 200 ms slot, 10 % tolerance) records when each request arrives.

* 5a — one process: ~25 distinct ``get_event_details`` calls at once through one client.
* 5b — three processes (real subprocesses, this module run as a script) sharing one SQLite
  file, ~10 distinct calls each; the server runs in the benchmark process.

Utilisation = ``(n − 1) / (last − first arrival) / rate`` over the requests answered 200,
measured at the server. Every 429 is counted (goal: none).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from .common import RunSize, client_for, loopback_api, scratch_dir
from .harness import Figure, Goal, percentile, utilisation

RATE = 5.0
ROOT = Path(__file__).resolve().parents[1]
READY = "ready"
#: Upper bound on any wait for a worker process, so a broken worker cannot hang the run.
WORKER_TIMEOUT = 120.0


async def run(size: RunSize) -> list[Figure]:
    """Figures 5a, 5b and the 429 count of both."""
    with scratch_dir() as tmp:
        one = await _one_process(size, tmp)
        many = await _processes(size, tmp)
    figures = [
        _figure(
            "utilisation_1_process",
            f"rate utilisation, 1 process ({size.utilisation_requests_one} requests at 5/s)",
            one,
            0.97,
        ),
        _figure(
            "utilisation_3_processes",
            (
                f"rate utilisation, {size.utilisation_processes} processes × "
                f"{size.utilisation_requests_each} on one SQLite file"
            ),
            many,
            0.95,
        ),
    ]
    rejected = one["count_429"] + many["count_429"]
    figures.append(
        Figure(
            key="utilisation_429s",
            title="429 answers during the utilisation runs",
            median=float(rejected),
            p95=None,
            unit="",
            goal=Goal("==", 0),
            detail={"one_process": one["count_429"], "processes": many["count_429"]},
            note="spike arrest at 5/s, 10 % tolerance",
        )
    )
    return figures


def _figure(key: str, title: str, result: dict[str, Any], goal: float) -> Figure:
    value = result["utilisation"]
    assert isinstance(value, float)
    return Figure(
        key=key,
        title=title,
        median=value * 100,
        p95=None,
        unit="%",
        goal=Goal(">=", goal * 100),
        detail=result,
        note=(
            f"{result['answered_200']} answered; gaps ms median {result['gap_ms_median']}, "
            f"p95 {result['gap_ms_p95']}, min {result['gap_ms_min']}"
        ),
    )


def _measure(times: list[float], count_429: int) -> dict[str, Any]:
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "answered_200": len(times),
        "count_429": count_429,
        "utilisation": utilisation(times, RATE),
        "gap_ms_median": round(percentile(gaps, 50) * 1000, 1) if gaps else None,
        "gap_ms_p95": round(percentile(gaps, 95) * 1000, 1) if gaps else None,
        "gap_ms_min": round(min(gaps) * 1000, 1) if gaps else None,
    }


async def _one_process(size: RunSize, tmp: str) -> dict[str, Any]:
    async with loopback_api(requests_per_second=RATE) as (api, server):
        ids = api.event_ids()[: size.utilisation_requests_one]
        async with client_for(
            server.url, os.path.join(tmp, "one.sqlite3"), requests_per_second=RATE
        ) as client:
            await client.usage()  # open the store before the clock starts
            results = await asyncio.gather(*(client.get_event_details(i) for i in ids))
        assert all(result is not None for result in results)
        times = sorted(r.time for r in api.requests if r.status == 200)
        return _measure(times, api.count_429)


async def _processes(size: RunSize, tmp: str) -> dict[str, Any]:
    db_path = os.path.join(tmp, "shared.sqlite3")
    each = size.utilisation_requests_each
    async with loopback_api(requests_per_second=RATE) as (api, server):
        ids = api.event_ids()
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.utilisation",
                server.url,
                db_path,
                *ids[n * each : (n + 1) * each],
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for n in range(size.utilisation_processes)
        ]
        try:
            for worker in workers:
                assert worker.stdout is not None
                line = await asyncio.wait_for(worker.stdout.readline(), WORKER_TIMEOUT)
                if line.decode().strip() != READY:
                    _, err = await worker.communicate()
                    raise RuntimeError(f"worker did not start: {line!r} {err.decode()}")
            for worker in workers:  # every worker starts at once
                assert worker.stdin is not None
                worker.stdin.write(b"go\n")
                await worker.stdin.drain()
            outputs = [
                await asyncio.wait_for(worker.communicate(), WORKER_TIMEOUT) for worker in workers
            ]
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.kill()
                    await worker.wait()
        for worker, (out, err) in zip(workers, outputs, strict=True):
            if worker.returncode != 0:
                raise RuntimeError(f"worker failed: {err.decode()}")
            assert json.loads(out.decode().strip().splitlines()[-1])["ok"] == each
        times = sorted(r.time for r in api.requests if r.status == 200)
        return _measure(times, api.count_429)


# -- worker (a child process) ----------------------------------------------------------------


async def _worker(url: str, db_path: str, ids: list[str]) -> None:
    async with client_for(url, db_path, requests_per_second=RATE) as client:
        await client.usage()  # open (and migrate) the shared store before the start
        print(READY, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        results = await asyncio.gather(*(client.get_event_details(i) for i in ids))
    print(json.dumps({"ok": sum(result is not None for result in results)}), flush=True)


if __name__ == "__main__":
    asyncio.run(_worker(sys.argv[1], sys.argv[2], sys.argv[3:]))
