"""``python -m bench.ttfb_steps``: where a streamed request's time to first byte goes.

One fake upstream (64 tokens, back to back) and the instrumented stack (bench/stack.py); sequential
streams, first with the request path's AWS calls going to moto, then to bench/responder.py (another
process that answers each after ``--pause-ms`` and spends next to no CPU: a real wait without
moto's CPU on the machine), then answered in process. Each stream's time is
cut at the stack's timestamps (``time.perf_counter``, the same monotonic clock as the client's):
the request reaching the gateway, the admission call and its answer, the upstream request going
to the HTTP transport (built while the admission was in flight), the head of the upstream's answer
read, and the first body byte at the client. Medians; the upstream called directly is the baseline of the last steps (it
includes the upstream's own time to first byte): back to back, and after idling before each call
as long as it did behind the gateway (an upstream and a client woken after a few idle
milliseconds answer later on this machine).

``--pin`` runs the same with the gateway on CPU 0 and everything else (the upstream, moto, this
client) on CPU 1: the gateway alone on its CPU, as deployed, where the scheduler otherwise may
run a process woken by the gateway (the upstream, the client) on the gateway's CPU while the
other one idles. A diagnostic of where the time goes on two cores, not the benchmark's figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

from bench import client
from bench.aws_calls import upstream_idle_ms
from bench.processes import (
    bench_events,
    install_uvloop,
    pin,
    set_aws,
    start_fake_upstream,
    start_responder,
    start_stack,
)
from bench.run import write_catalog

ADMISSION = "dynamodb:TransactWriteItems"
PAUSE_MS = 4.0  # about moto's round trip here (docs/BENCHMARKS.md); DynamoDB's is a few milliseconds
IDLE = "upstream idle before each call"
LESS = "total less the admission in flight"
ADDED = "added less the admission, against the upstream direct"
ADDED_IDLE = "same, against the upstream after idling as long"
STEPS = (
    "client sends, gateway receives",
    "request to admission call",
    "admission in flight",
    "admission answer to the upstream request going out",
    "upstream request to its answer's head (the upstream's own time inside)",
    "answer's head to first byte at the client",
)


def steps(events: list[tuple[float, str]], first_bytes: list[tuple[float, float]]) -> dict[str, float]:
    """Median milliseconds of each step over the streams (one ``request`` event each, in order)."""
    segments: list[dict[str, float]] = []
    for moment, kind in sorted(events):
        if kind == "request":
            segments.append({kind: moment})
        elif segments:
            segments[-1].setdefault(kind, moment)
    rows = []
    for (started, ttfb_ms), seg in zip(sorted(first_bytes), segments, strict=False):
        marks = [
            started,
            seg["request"],
            seg.get(f"call:{ADMISSION}"),
            seg.get(f"done:{ADMISSION}"),
            seg.get("upstream"),
            seg.get("upstream head"),
            started + ttfb_ms / 1000,
        ]
        if None in marks:
            continue
        times = [m for m in marks if m is not None]
        rows.append([(b - a) * 1000 for a, b in pairwise(times)])
    out = {name: round(statistics.median(r[i] for r in rows), 3) for i, name in enumerate(STEPS)}
    out[LESS] = round(statistics.median(sum(r) - r[STEPS.index("admission in flight")] for r in rows), 3)
    return out


async def run(streams: int, pause_ms: float, pinned: bool = False) -> dict[str, dict[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="sluice-ttfb-"))
    upstream = start_fake_upstream(64, workdir)
    responder = start_responder(pause_ms)
    stack, values = start_stack(write_catalog(workdir, {"bench": upstream}), workdir)
    out: dict[str, dict[str, float]] = {}
    try:
        if pinned:
            pin(stack.process.pid, {0})
            for pid in (upstream.process.pid, int(values["MOTO_PID"]), responder.process.pid, os.getpid()):
                pin(pid, {1})
        auth = {"Authorization": f"Bearer {values['SLUICE_API_KEY']}", "content-type": "application/json"}
        gateway = client.Target(stack.base_url, "bench", auth)
        idle: dict[str, float] = {}
        modes = {
            "with moto": "moto",
            f"AWS after {pause_ms:g} ms": responder.base_url,
            "AWS in process": "in-process",
        }
        for label, by in modes.items():
            set_aws(stack, by)
            await client.streaming(gateway, 20)  # warm: caches, connections, known counts
            bench_events(stack, reset=True)
            result = await client.streaming(gateway, streams, warmup=0)
            events = bench_events(stack, reset=True)
            out[label] = steps(events, result["first_bytes"])
            out[label]["total"] = round(result["ttfb_ms"]["p50"], 3)
            out[label]["errors"] = result["errors"]
            idle[label] = out[label][IDLE] = upstream_idle_ms(events)
        direct = client.Target(upstream.base_url, "bench")
        out["upstream direct"] = {
            "total": round((await client.streaming(direct, streams))["ttfb_ms"]["p50"], 3)
        }
        for label, idle_ms in idle.items():  # the upstream idle as long as behind the gateway
            result = await client.streaming(direct, streams, idle_s=idle_ms / 1000)
            out[f"direct, idle as {label}"] = {IDLE: idle_ms, "total": round(result["ttfb_ms"]["p50"], 3)}
            out[label][ADDED] = round(out[label][LESS] - out["upstream direct"]["total"], 3)
            out[label][ADDED_IDLE] = round(out[label][LESS] - out[f"direct, idle as {label}"]["total"], 3)
    finally:
        stack.stop()
        responder.stop()
        upstream.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ttfb_steps", description=__doc__)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--pin", action="store_true", help="the gateway on CPU 0, the rest on CPU 1")
    parser.add_argument(
        "--pause-ms", type=float, default=PAUSE_MS, help="how long bench/responder.py waits before answering"
    )
    args = parser.parse_args()
    if args.pin and not {0, 1} <= os.sched_getaffinity(0):
        parser.error("--pin needs CPUs 0 and 1")
    install_uvloop()
    results = asyncio.run(run(args.streams, args.pause_ms, args.pin))
    labels = list(results)
    print("| step (median ms) | " + " | ".join(labels) + " |")
    print("| --- |" + " --- |" * len(labels))
    for name in (*STEPS, "total", IDLE, LESS, ADDED, ADDED_IDLE, "errors"):
        cells = [str(results[label].get(name, "")) for label in labels]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
