"""The processes a benchmark run starts (fake upstreams, the instrumented stack), and their CPU and RSS."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from sluice.local.moto_server import wait_for_port

REPO = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("SLUICE_SHARED_BENCH", REPO.parent / "shared" / "bench"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_fake_upstream(tokens: int, log_dir: Path, delay_ms: float = 0.0) -> Started:
    """../shared/bench/fake_upstream.py: ``tokens`` tokens per answer, ``delay_ms`` before each."""
    script = SHARED_BENCH / "fake_upstream.py"
    if not script.exists():
        raise SystemExit(f"{script} not found: set SLUICE_SHARED_BENCH to the shared/bench directory")
    port = free_port()
    log = (log_dir / f"fake-upstream-{tokens}-{delay_ms}.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our interpreter, a known script
        [
            sys.executable,
            str(script),
            "--port",
            str(port),
            "--tokens",
            str(tokens),
            "--delay-ms",
            str(delay_ms),
        ],
        stdout=log,
        stderr=log,
    )
    started = Started(f"upstream-{tokens}-{delay_ms}", process, port)
    wait_http(f"{started.base_url}/health", 30)
    return started


def start_stack(catalog: Path, workdir: Path, *options: str) -> tuple[Started, dict[str, str]]:
    """bench/stack.py: the local stack with raised limits and AWS call counters (``options``:
    more of its command-line arguments)."""
    port = free_port()
    env_file = workdir / "bench-stack.env"
    log = (workdir / "stack.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLUICE_"))}
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "bench.stack", "--port", str(port), "--env-file", str(env_file),
         "--catalog-file", str(catalog), *options],
        cwd=REPO, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    started = Started("stack", process, port)
    wait_http(f"{started.base_url}/api/health", 120)
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return started, values


def make_cold(stack: Started) -> None:
    """Empty the stack's key and catalog caches: its next request pays the cold lookups."""
    with urllib.request.urlopen(f"{stack.base_url}/__bench/cold", timeout=30):  # noqa: S310 - loopback
        pass


def bench_events(stack: Started, reset: bool = False) -> list[tuple[float, str]]:
    path = "/__bench/reset" if reset else "/__bench/events"
    with urllib.request.urlopen(f"{stack.base_url}{path}", timeout=30) as response:  # noqa: S310
        return [tuple(e) for e in json.loads(response.read())["events"]]


def gateway_gc(stack: Started) -> dict[str, Any]:
    """The stack's garbage collections since it started serving (bench/gc_pauses.py)."""
    with urllib.request.urlopen(f"{stack.base_url}/__bench/gc", timeout=30) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def set_aws(stack: Started, by: str) -> None:
    """Where the stack sends the request path's AWS calls: "moto", "in-process" (answered inside
    the gateway), or a responder's URL (``start_responder``)."""
    with urllib.request.urlopen(f"{stack.base_url}/__bench/aws?{by}", timeout=30):  # noqa: S310
        pass


def _start_module(name: str, args: list[str], env: dict[str, str] | None = None) -> Started:
    """``python -m bench.<name> --port P <args>``, once its port listens."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", f"bench.{name}", "--port", str(port), *args], cwd=REPO, env=env
    )
    try:
        wait_for_port("127.0.0.1", port, 30)
    except TimeoutError:
        process.kill()
        raise
    return Started(name, process, port)


def start_responder(delay_ms: float) -> Started:
    """bench/responder.py: answers AWS JSON calls after ``delay_ms``, in another process."""
    return _start_module("responder", ["--delay-ms", str(delay_ms)])


def start_relay(upstream: Started, values: dict[str, str]) -> Started:
    """bench/relay.py in front of ``upstream``, with the stack's region, tables and queue
    (``values``); its AWS calls go where ``set_relay_aws`` says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLUICE_"))}
    env |= {
        "AWS_REGION": values["REGION"],
        "SLUICE_LIMITS_TABLE": values["LIMITS_TABLE"],
        "SLUICE_LEDGER_TABLE": values["LEDGER_TABLE"],
        "SLUICE_USAGE_QUEUE_URL": values["USAGE_QUEUE"],
    }
    return _start_module("relay", ["--upstream", upstream.base_url], env)


def set_relay_aws(relay: Started, url: str) -> None:
    """Where bench/relay.py sends its two AWS calls per request: moto's or a responder's URL ("": none)."""
    with urllib.request.urlopen(f"{relay.base_url}/__relay/aws?{url}", timeout=30):  # noqa: S310 - loopback
        pass


def relay_events(relay: Started) -> list[tuple[float, str]]:
    """bench/relay.py's marks since the last call (the same kinds as ``bench_events``), cleared."""
    with urllib.request.urlopen(f"{relay.base_url}/__relay/reset", timeout=30) as response:  # noqa: S310
        return [tuple(e) for e in json.loads(response.read())["events"]]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (not its children)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_seconds(pid: int) -> float:
    """CPU time of all of a process's threads from the scheduler (/proc/<pid>/task/*/schedstat,
    nanoseconds): precise where ``cpu_seconds`` counts 10 ms ticks, for small amounts."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1048576


@dataclass
class PeakRss:
    """Samples the RSS of some processes every 100 ms while running."""

    pids: dict[str, int]
    peaks: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for name, pid in self.pids.items():
                self.peaks[name] = max(self.peaks.get(name, 0.0), rss_mb(pid))

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of ``pid`` on ``cpus`` (threads it starts later inherit the mask)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), cpus)


def realtime(pid: int) -> None:
    """Every thread of ``pid`` under SCHED_FIFO at the lowest priority: once runnable, it runs at
    once, whatever else wants the CPU (it never spins: it sleeps in epoll between events). Needs
    root (CAP_SYS_NICE)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setscheduler(int(task.name), os.SCHED_FIFO, os.sched_param(1))


def install_uvloop() -> None:
    """The benchmark client on uvloop, as the gateway and the upstreams run (when it is installed)."""
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()
