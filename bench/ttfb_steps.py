"""``python -m bench.ttfb_steps``: where a streamed request's time to first byte goes.

One fake upstream (64 tokens, back to back) and the instrumented stack (bench/stack.py); sequential
streams, first with the request path's AWS calls going to moto, then to bench/responder.py (another
process that answers each after ``--pause-ms`` and spends next to no CPU: a real wait without
moto's CPU on the machine), then answered in process. Each stream's time is
cut at the stack's timestamps (``time.perf_counter``, the same monotonic clock as the client's):
the request reaching the gateway, the admission call and its answer, the upstream request going
to the HTTP transport (built while the admission was in flight), the head of the upstream's answer
read, its first content read (the route committed), the response's head and first bytes handed to
the socket, and the first body byte at the client. Medians; the upstream called directly is the baseline of the last steps (it
includes the upstream's own time to first byte): back to back, and after idling before each call
as long as it did behind the gateway (an upstream and a client woken after a few idle
milliseconds answer later on this machine).

Then the same streams through ``bench/relay.py``, the smallest gateway (the gateway's admission
call, the upstream's answer relayed, a SendMessage), its calls sent to moto, to the responder after
the same pause, and nowhere (built and signed all the same): what the waits cost a process that
does nothing else, beside what they cost the gateway (its figure less its figure with AWS in
process).

``--pin`` runs the same with the gateway on CPU 0 and everything else (the upstream, moto, the
simulator, the relay, this client) on CPU 1: no benchmark process is run on the gateway's CPU, as
none is beside a deployed function. Unpinned, the scheduler (this VM's kernel packs tasks onto
fewer CPUs) may run a process woken by the gateway (the upstream, the client) on the gateway's
CPU while the other one idles, and the gateway waits for the benchmark's own processes. The
first-byte target's figure is the pinned run's (``make bench`` runs both). Pinning also slows the
upstream called directly (it then shares a CPU with the client), so the last line also gives the
moto column with no baseline taken off: the whole time to first byte less the admission in flight.
``--first`` runs the gateway and the relay under SCHED_FIFO (root): each runs as soon as it is
woken, so it never waits for a process it woke onto its own CPU, while the client, the upstream
and moto keep both CPUs under the normal scheduler. Also a diagnostic (fourteenth round).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from pathlib import Path

from bench import client
from bench.aws_calls import upstream_idle_ms
from bench.processes import (
    bench_events,
    install_uvloop,
    pin,
    realtime,
    relay_events,
    set_aws,
    set_relay_aws,
    start_fake_upstream,
    start_relay,
    start_responder,
    start_stack,
)
from bench.run import write_catalog

ADMISSION = "dynamodb:TransactWriteItems"
TARGET_MS = 2.0  # issue 6: added time to first byte <= the AWS round trips + 2 ms
PAUSE_MS = 4.0  # about moto's round trip here (docs/BENCHMARKS.md); DynamoDB's is a few milliseconds
IDLE = "upstream idle before each call"
LESS = "total less the admission in flight"
ADDED = "added less the admission, against the upstream direct"
ADDED_IDLE = "same, against the upstream after idling as long"
NO_CALL = "relay, no AWS call"
WAIT = "the waits' cost to the relay (its total less the admission in flight, minus the same with no calls)"
ADDED_WAIT = "added less the admission and the waits' cost to the relay"
GATEWAY_WAIT = (
    "the waits' cost to the gateway (its total less the admission in flight, minus the same in process)"
)
STEPS = (
    "client sends, gateway receives",
    "request to admission call",
    "admission in flight",
    "admission answer to the upstream request going out",
    "upstream request to its answer's head (the upstream's own time inside)",
    "answer's head to its first content read (the route committed)",
    "committed to the response going out (its head and first bytes)",
    "response out to the first byte at the client",
)
# The marks that bound the steps: the client's start and first byte, the server's events between.
MARKS = (
    "start",
    "request",
    f"call:{ADMISSION}",
    f"done:{ADMISSION}",
    "upstream",
    "upstream head",
    "committed",
    "response out",
    "first byte",
)


def stream_marks(
    events: list[tuple[float, str]], first_bytes: list[tuple[float, float]]
) -> list[dict[str, float]]:
    """Each stream's moments (``MARKS``, ``time.perf_counter`` seconds): the server's first event of
    each kind after the stream's ``request`` (one per stream, in order), and the client's start and
    first byte."""
    segments: list[dict[str, float]] = []
    for moment, kind in sorted(events):
        if kind == "request":
            segments.append({kind: moment})
        elif segments:
            segments[-1].setdefault(kind, moment)
    for (started, ttfb_ms), seg in zip(sorted(first_bytes), segments, strict=False):
        seg["start"], seg["first byte"] = started, started + ttfb_ms / 1000
    return segments


def steps(events: list[tuple[float, str]], first_bytes: list[tuple[float, float]]) -> dict[str, float]:
    """Median milliseconds of each step over the streams that left every mark."""
    rows = [
        [(seg[b] - seg[a]) * 1000 for a, b in pairwise(MARKS)]
        for seg in stream_marks(events, first_bytes)
        if all(mark in seg for mark in MARKS)
    ]
    out = {name: round(statistics.median(r[i] for r in rows), 3) for i, name in enumerate(STEPS)}
    out[LESS] = round(statistics.median(sum(r) - r[STEPS.index("admission in flight")] for r in rows), 3)
    return out


async def _phase(
    target: client.Target, streams: int, events: Callable[[], list[tuple[float, str]]]
) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """``streams`` sequential streams after 20 untimed ones; their steps, and the marks they left
    (``events`` reads and clears the server's marks)."""
    await client.streaming(target, 20)  # warm: caches, connections, known counts
    events()
    result = await client.streaming(target, streams, warmup=0)
    marks = events()
    out = steps(marks, result["first_bytes"])
    out["total"] = round(result["ttfb_ms"]["p50"], 3)
    out["errors"] = result["errors"]
    return out, marks


def _compare(out: dict[str, dict[str, float]], paused: str) -> None:
    """The rows that set one column against another (``paused``: the AWS-after-a-pause mode)."""
    for label in ("with moto", paused, "AWS in process"):
        out[label][ADDED] = round(out[label][LESS] - out["upstream direct"]["total"], 3)
        out[label][ADDED_IDLE] = round(out[label][LESS] - out[f"direct, idle as {label}"]["total"], 3)
    for label in ("with moto", paused):
        out[label][GATEWAY_WAIT] = round(out[label][LESS] - out["AWS in process"][LESS], 3)
        relayed = out[f"relay, {label}"]
        relayed[WAIT] = round(relayed[LESS] - out[NO_CALL][LESS], 3)
        out[label][ADDED_WAIT] = round(out[label][ADDED] - relayed[WAIT], 3)


async def run(
    streams: int, pause_ms: float, pinned: bool = False, first: bool = False
) -> dict[str, dict[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="sluice-ttfb-"))
    upstream = start_fake_upstream(64, workdir)
    responder = start_responder(pause_ms)
    stack, values = start_stack(write_catalog(workdir, {"bench": upstream}), workdir)
    relay = start_relay(upstream, values)
    out: dict[str, dict[str, float]] = {}
    try:
        if pinned:
            pin(stack.process.pid, {0})
            others = [p.process.pid for p in (upstream, responder, relay)]
            children = [int(values[name]) for name in ("MOTO_PID", "SIMULATOR_PID") if values.get(name)]
            for pid in (*others, *children, os.getpid()):  # everything but the gateway on CPU 1
                pin(pid, {1})
        if first:
            realtime(stack.process.pid)
            realtime(relay.process.pid)
        auth = {"Authorization": f"Bearer {values['SLUICE_API_KEY']}", "content-type": "application/json"}
        gateway = client.Target(stack.base_url, "bench", auth)
        paused = f"AWS after {pause_ms:g} ms"
        idle: dict[str, float] = {}
        for label, by in {
            "with moto": "moto",
            paused: responder.base_url,
            "AWS in process": "in-process",
        }.items():
            set_aws(stack, by)
            out[label], marks = await _phase(gateway, streams, lambda: bench_events(stack, reset=True))
            idle[label] = out[label][IDLE] = upstream_idle_ms(marks)
        relayed = client.Target(relay.base_url, "bench")
        relay_modes = {
            "relay, with moto": values["MOTO_ENDPOINT"],
            f"relay, {paused}": responder.base_url,
            NO_CALL: "",
        }
        for label, url in relay_modes.items():
            set_relay_aws(relay, url)
            out[label], marks = await _phase(relayed, streams, lambda: relay_events(relay))
            out[label][IDLE] = upstream_idle_ms(marks)
        direct = client.Target(upstream.base_url, "bench")
        out["upstream direct"] = {
            "total": round((await client.streaming(direct, streams))["ttfb_ms"]["p50"], 3)
        }
        for label, idle_ms in idle.items():  # the upstream idle as long as behind the gateway
            result = await client.streaming(direct, streams, idle_s=idle_ms / 1000)
            out[f"direct, idle as {label}"] = {IDLE: idle_ms, "total": round(result["ttfb_ms"]["p50"], 3)}
        _compare(out, paused)
    finally:
        relay.stop()
        stack.stop()
        responder.stop()
        upstream.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ttfb_steps", description=__doc__)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the gateway on CPU 0, the rest on CPU 1: the first-byte target's figure",
    )
    parser.add_argument(
        "--first",
        action="store_true",
        help="the gateway and the relay under SCHED_FIFO: each runs as soon as it is woken (root)",
    )
    parser.add_argument(
        "--pause-ms", type=float, default=PAUSE_MS, help="how long bench/responder.py waits before answering"
    )
    args = parser.parse_args()
    if args.pin and not {0, 1} <= os.sched_getaffinity(0):
        parser.error("--pin needs CPUs 0 and 1")
    install_uvloop()
    results = asyncio.run(run(args.streams, args.pause_ms, args.pin, args.first))
    rows = (*STEPS, "total", IDLE, LESS, ADDED, ADDED_IDLE, GATEWAY_WAIT, WAIT, ADDED_WAIT, "errors")
    print(columns_table("step (median ms)", results, rows))
    print(verdict(results["with moto"], args.pin))
    return 0


def verdict(moto: Mapping[str, float], pinned: bool) -> str:
    """The first-byte target read from the moto column: met when the added time less the admission
    in flight is within ``TARGET_MS`` against both baselines."""
    worst = max(moto[ADDED], moto[ADDED_IDLE])
    where = (
        "the gateway alone on CPU 0, the rest on CPU 1"
        if pinned
        else "every process on both CPUs (the target is read with --pin)"
    )
    return (
        f"first byte with moto, {where}: {moto[ADDED]} ms added less the admission in flight against "
        f"the upstream direct, {moto[ADDED_IDLE]} against it after idling as long ({moto[LESS]} with no "
        f"baseline taken off); target <= {TARGET_MS:g} ms against both: {'met' if worst <= TARGET_MS else 'not met'}"
    )


def columns_table(corner: str, out: Mapping[str, Mapping[str, object]], rows: Iterable[str]) -> str:
    """A Markdown table with a column per key of ``out`` and a row per name of ``rows`` (a cell is
    blank where its column has no such row)."""
    labels = list(out)
    lines = ["| " + " | ".join((corner, *labels)) + " |", "| --- |" + " --- |" * len(labels)]
    lines += [
        f"| {name} | " + " | ".join(str(out[label].get(name, "")) for label in labels) + " |" for name in rows
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
