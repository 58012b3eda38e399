"""``python -m bench.sched_trace``: which CPU the scheduler gives the processes a stream wakes.

``bench.ttfb_steps`` times where a streamed request's first byte goes; this reads why its last
steps take longer with moto than with AWS answered in process. It runs the same sequential streams
(the 64-token fake upstream, the instrumented stack) with the request path's AWS calls going to
moto, to ``bench/responder.py`` after a pause, and answered in process, each phase under ``perf
record`` of the scheduler's wake-up and switch tracepoints on every CPU, on the clock of the
stack's marks and the client's times (``CLOCK_MONOTONIC``, which ``time.perf_counter`` reads).

Per phase: the last steps of ``bench.ttfb_steps``; how many streams had the client send its request
from the CPU the gateway was running on, and had their upstream (woken by the gateway's request)
and their client (woken by the response) put on that CPU, and of those how many while another CPU
idled; and the step that waits for each, in those streams and in the others. Two processes on one
CPU take turns: the fake upstream writes its whole answer in one run, so an upstream that shares
the gateway's CPU may delay the gateway's read of its first content, and a client that does may
wait for its first byte while the gateway relays the rest of the answer.

Needs ``perf`` and the right to record scheduler tracepoints (root, or
``kernel.perf_event_paranoid`` at -1). A diagnostic: not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import client
from bench.processes import (
    bench_events,
    install_uvloop,
    set_aws,
    start_fake_upstream,
    start_responder,
    start_stack,
)
from bench.run import write_catalog
from bench.ttfb_steps import PAUSE_MS, STEPS, columns_table, steps, stream_marks

EVENT = re.compile(r"\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s+(.*)$")
WAKEE = re.compile(r"\bpid=(\d+).*\btarget_cpu=(\d+)")
NEXT = re.compile(r"\bnext_pid=(\d+)")
LAST_STEPS = STEPS[-3:]


@dataclass(frozen=True)
class Trace:
    """Wake-ups (time, woken pid, its CPU) and, per CPU, the moments a task was switched in."""

    wakeups: list[tuple[float, int, int]]
    switches: dict[int, list[tuple[float, int]]]  # cpu -> (time, pid switched in; 0: idle)

    @classmethod
    def parse(cls, script_output: str) -> Trace:
        wakeups: list[tuple[float, int, int]] = []
        switches: dict[int, list[tuple[float, int]]] = {}
        for line in script_output.splitlines():
            event = EVENT.search(line)
            if event is None:
                continue
            cpu, moment, kind, fields = int(event[1]), float(event[2]), event[3], event[4]
            if kind == "sched_wakeup" and (woken := WAKEE.search(fields)):
                wakeups.append((moment, int(woken[1]), int(woken[2])))
            elif kind == "sched_switch" and (switched := NEXT.search(fields)):
                switches.setdefault(cpu, []).append((moment, int(switched[1])))
        return cls(wakeups, switches)

    def running(self, cpu: int, moment: float) -> int | None:
        """The task on ``cpu`` at ``moment`` (0: idle; None: not seen yet)."""
        current = None
        for switched, pid in self.switches.get(cpu, []):
            if switched > moment:
                break
            current = pid
        return current

    def cpu_of(self, pid: int, moment: float) -> int | None:
        """The CPU ``pid`` was last switched in on, at ``moment``."""
        found: tuple[float, int] | None = None
        for cpu, history in self.switches.items():
            for switched, task in history:
                if switched > moment:
                    break
                if task == pid and (found is None or switched > found[0]):
                    found = (switched, cpu)
        return None if found is None else found[1]

    def packed(self, woken: int, gateway: int, start: float, end: float) -> tuple[bool, bool] | None:
        """Whether ``woken``'s first wake-up in [start, end] put it on the gateway's CPU, and
        whether another CPU idled then (None: no wake-up seen)."""
        wake = next((w for w in self.wakeups if start <= w[0] <= end and w[1] == woken), None)
        if wake is None:
            return None
        moment, _, cpu = wake
        return cpu == self.cpu_of(gateway, moment), self.other_idle(cpu, moment)

    def beside(self, pid: int, gateway: int, moment: float) -> tuple[bool, bool] | None:
        """Whether ``pid`` ran on the gateway's CPU at ``moment``, and whether another CPU idled."""
        cpu = self.cpu_of(pid, moment)
        if cpu is None:
            return None
        return cpu == self.cpu_of(gateway, moment), self.other_idle(cpu, moment)

    def other_idle(self, cpu: int, moment: float) -> bool:
        return any(self.running(other, moment) == 0 for other in self.switches if other != cpu)


class Recording:
    """``perf record`` of the scheduler's tracepoints on every CPU, while the block runs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Recording:
        self.process = subprocess.Popen(  # noqa: S603 - perf, found on PATH
            [shutil.which("perf") or "perf", "record", "-q", "-a", "-k", "CLOCK_MONOTONIC",
             "-e", "sched:sched_switch", "-e", "sched:sched_wakeup", "-o", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(1.0)  # time to start tracing (run() checks that it had)
        if self.process.poll() is not None:
            raise SystemExit(
                f"perf record failed: {self.process.stderr.read().decode() if self.process.stderr else ''}"
            )
        return self

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)

    def trace(self) -> Trace:
        script = subprocess.run(  # noqa: S603
            [shutil.which("perf") or "perf", "script", "-i", str(self.path), "-F", "cpu,time,event,trace"],
            capture_output=True, check=True, text=True,
        )  # fmt: skip
        return Trace.parse(script.stdout)


# Who is woken, between which marks, and the step that waits for it (between which marks).
WOKEN = {
    "upstream": (("upstream", "upstream head"), ("upstream head", "committed")),
    "client": (("response out", "first byte"), ("response out", "first byte")),
}


def packing(trace: Trace, marks: list[dict[str, float]], pids: dict[str, int]) -> dict[str, str]:
    """How many streams had the client send its request from the gateway's CPU, and had the
    upstream and the client woken onto it (and how many of those while another CPU idled); and
    the median of the step that waits for each, in those streams and in the others."""
    gateway = pids["gateway"]
    out: dict[str, str] = {}
    sent = Split()
    for seg in marks:
        if "start" in seg:
            sent.add(trace.beside(pids["client"], gateway, seg["start"]), seg["request"] - seg["start"])
    sent.rows(out, "request sent from the gateway's CPU", "start to request")
    for woken, ((start, end), (before, after)) in WOKEN.items():
        split = Split()
        for seg in marks:
            if all(mark in seg for mark in (start, end, before, after)):
                split.add(trace.packed(pids[woken], gateway, seg[start], seg[end]), seg[after] - seg[before])
        split.rows(out, f"{woken} woken onto the gateway's CPU", f"{before} to {after}")
    return out


@dataclass
class Split:
    """A step's times (ms), apart for the streams where a process shared the gateway's CPU."""

    shared: list[float] = field(default_factory=list)
    apart: list[float] = field(default_factory=list)
    idle_beside: int = 0  # of the shared: another CPU idled

    def add(self, placed: tuple[bool, bool] | None, seconds: float) -> None:
        if placed is None:
            return
        same, idle = placed
        (self.shared if same else self.apart).append(seconds * 1000)
        self.idle_beside += same and idle

    def rows(self, out: dict[str, str], label: str, step: str) -> None:
        def median(times: list[float]) -> str:
            return str(round(statistics.median(times), 3)) if times else "-"

        streams = len(self.shared) + len(self.apart)
        out[f"{label} (streams; another CPU idle)"] = f"{len(self.shared)} of {streams}; {self.idle_beside}"
        out[f"  {step}, when it was / when not (ms)"] = f"{median(self.shared)} / {median(self.apart)}"


async def run(streams: int, pause_ms: float) -> dict[str, dict[str, object]]:
    workdir = Path(tempfile.mkdtemp(prefix="sluice-sched-"))
    upstream = start_fake_upstream(64, workdir)
    responder = start_responder(pause_ms)
    stack, values = start_stack(write_catalog(workdir, {"bench": upstream}), workdir)
    pids = {"gateway": stack.process.pid, "upstream": upstream.process.pid, "client": os.getpid()}
    auth = {"Authorization": f"Bearer {values['SLUICE_API_KEY']}", "content-type": "application/json"}
    gateway = client.Target(stack.base_url, "bench", auth)
    out: dict[str, dict[str, object]] = {}
    try:
        modes = {
            "with moto": "moto",
            f"AWS after {pause_ms:g} ms": responder.base_url,
            "AWS in process": "in-process",
        }
        for label, by in modes.items():
            set_aws(stack, by)
            await client.streaming(gateway, 20)  # warm, as bench.ttfb_steps
            bench_events(stack, reset=True)
            with Recording(workdir / f"{by.replace('/', '_')}.data") as recording:
                result = await client.streaming(gateway, streams, warmup=0)
            events = bench_events(stack, reset=True)
            timed = steps(events, result["first_bytes"])
            out[label] = {name: timed[name] for name in LAST_STEPS}
            marks = stream_marks(events, result["first_bytes"])
            trace = recording.trace()
            if not trace.wakeups or trace.wakeups[0][0] > marks[0]["start"]:
                raise SystemExit(f"{label}: perf was not tracing yet when the first stream started")
            out[label] |= packing(trace, marks, pids)
    finally:
        stack.stop()
        responder.stop()
        upstream.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sched_trace", description=__doc__)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--pause-ms", type=float, default=PAUSE_MS)
    args = parser.parse_args()
    if shutil.which("perf") is None:
        print("perf is not on PATH (Debian: apt-get install linux-perf)", file=sys.stderr)
        return 2
    install_uvloop()
    out = asyncio.run(run(args.streams, args.pause_ms))
    print(columns_table("(medians, ms)", out, next(iter(out.values()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
