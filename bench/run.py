"""``make bench``: the gateway's overhead, CPU, AWS calls, throughput, RSS, import and translation costs.

One run starts four fake upstreams (../shared/bench/fake_upstream.py: 64 and 512 tokens per
answer, back to back, and the same paced at one token per ``PACED_DELAY_MS``) and the
instrumented local stack (bench/stack.py) whose catalog routes models ``bench``, ``bench-long``,
``bench-paced`` and ``bench-paced-long`` to them. Every figure is measured twice (rounds), each time
against the upstream called directly in the same round. Nothing is asserted: the table shows the
figures and the targets of issue 6/10; the JSON has everything (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import client
from bench.aws_calls import analyse, aws_wait_before_first_byte, upstream_idle_ms
from bench.gc_pauses import after_import_pauses
from bench.imports import import_times
from bench.processes import (
    REPO,
    PeakRss,
    Started,
    bench_events,
    cpu_seconds,
    gateway_gc,
    install_uvloop,
    make_cold,
    run_seconds,
    set_aws,
    start_fake_upstream,
    start_stack,
)
from bench.report import print_report
from bench.translate import record_stream, translation_costs

SHORT, LONG = 64, 512
# Paced streams: every event arrives in its own socket read, as a model's tokens do, where the
# back-to-back fake upstream lets one read carry many.
PACED_DELAY_MS = 1.0
PACED_WARMUP = 5  # their CPU is measured, not their first byte; a 512-token one takes half a second
IDLE_S = 3.0


def write_catalog(directory: Path, upstreams: dict[str, Started]) -> Path:
    from shared.catalog.loader import load_catalog_file

    qwen3 = next(m for m in load_catalog_file().models if m.id == "qwen3")
    models = []
    for model_id, upstream in upstreams.items():
        entry = qwen3.model_copy(update={"id": model_id, "display_name": model_id, "persona": None})
        doc = entry.model_dump(mode="json")
        doc["routes"] = [{"provider": "openai", "base_url": f"{upstream.base_url}/v1", "model": model_id}]
        models.append(doc)
    path = directory / "bench-catalog.json"
    path.write_text(json.dumps({"models": models}), encoding="utf-8")
    return path


async def measure_cpu(pid: int, work: Any) -> tuple[Any, float]:
    before = cpu_seconds(pid)
    result = await work
    return result, cpu_seconds(pid) - before


async def one_round(args: argparse.Namespace, procs: dict[str, Any], key: str) -> dict[str, Any]:
    stack, moto_pid = procs["stack"], procs["moto_pid"]
    short, long = procs["short"], procs["long"]
    direct = client.Target(short.base_url, "bench")
    direct_long = client.Target(long.base_url, "bench-long")
    auth = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    gateway = client.Target(stack.base_url, "bench", auth)
    gateway_long = client.Target(stack.base_url, "bench-long", auth)
    out: dict[str, Any] = {}

    idle_before = run_seconds(stack.process.pid)
    await asyncio.sleep(IDLE_S)  # no request: what the server's own timers cost
    out["gateway_idle_cpu_ms_per_s"] = round(
        (run_seconds(stack.process.pid) - idle_before) * 1000 / IDLE_S, 2
    )
    out["direct_seq"], _ = await measure_cpu(short.process.pid, client.sequential(direct, args.seq))
    bench_events(stack, reset=True)
    make_cold(stack)  # the first request of the phase (a warm-up one) pays the cold lookups
    moto_before = cpu_seconds(moto_pid)
    out["gateway_seq"], cpu = await measure_cpu(stack.process.pid, client.sequential(gateway, args.seq))
    out["gateway_cpu_ms_per_request"] = round(cpu * 1000 / (args.seq + 10), 3)
    out["moto_cpu_ms_per_request"] = round((cpu_seconds(moto_pid) - moto_before) * 1000 / (args.seq + 10), 3)
    out["aws_calls"] = analyse(bench_events(stack, reset=True))

    out["direct_stream"] = await client.streaming(direct, args.stream)
    bench_events(stack, reset=True)
    out["gateway_stream"], cpu_short = await measure_cpu(
        stack.process.pid, client.streaming(gateway, args.stream)
    )
    out.update(
        await stream_baselines(
            "",
            bench_events(stack, reset=True),
            out["gateway_stream"],
            direct,
            out["direct_stream"]["ttfb_ms"]["p50"],
        )
    )
    out["direct_stream_long"] = await client.streaming(direct_long, args.stream)
    out["gateway_stream_long"], cpu_long = await measure_cpu(
        stack.process.pid, client.streaming(gateway_long, args.stream)
    )
    runs = args.stream + client.STREAM_WARMUP
    out["gateway_cpu_ms_per_stream_64"] = round(cpu_short * 1000 / runs, 3)
    out["gateway_cpu_ms_per_stream_512"] = round(cpu_long * 1000 / runs, 3)
    out["gateway_cpu_us_per_chunk"] = round((cpu_long - cpu_short) * 1e6 / runs / (LONG - SHORT), 2)

    out.update(await paced_phase(args, procs, auth))

    with PeakRss({"upstream": short.process.pid}) as rss_direct:
        out["direct_tput"] = await client.throughput(direct, args.concurrency, args.seconds)
    with PeakRss({"stack": stack.process.pid, "moto": moto_pid}) as rss_gateway:
        out["gateway_tput"], cpu = await measure_cpu(
            stack.process.pid, client.throughput(gateway, args.concurrency, args.seconds)
        )
    out["gateway_tput_cpu_ms_per_request"] = round(cpu * 1000 / max(1, out["gateway_tput"]["requests"]), 3)
    out["rss_peak_mb"] = {k: round(v, 1) for k, v in {**rss_direct.peaks, **rss_gateway.peaks}.items()}
    out.update(await stubbed_phases(args, stack, gateway, direct, out["direct_stream"]["ttfb_ms"]["p50"]))
    return out


async def paced_phase(
    args: argparse.Namespace, procs: dict[str, Any], auth: dict[str, str]
) -> dict[str, Any]:
    """Per-chunk CPU when every event comes in its own read; the paced upstream's own CPU per chunk
    (one timer and one socket write per event) in the same phase is the baseline."""
    stack, runs, out = procs["stack"], args.paced + PACED_WARMUP, {}
    cpu: dict[str, float] = {}
    for name, model in (("paced", "bench-paced"), ("paced_long", "bench-paced-long")):
        upstream_before = cpu_seconds(procs[name].process.pid)
        out[f"gateway_stream_{name}"], cpu[name] = await measure_cpu(
            stack.process.pid,
            client.streaming(client.Target(stack.base_url, model, auth), args.paced, PACED_WARMUP),
        )
        cpu[f"upstream_{name}"] = cpu_seconds(procs[name].process.pid) - upstream_before
    out["gateway_cpu_us_per_chunk_paced"] = round(
        (cpu["paced_long"] - cpu["paced"]) * 1e6 / runs / (LONG - SHORT), 2
    )
    out["upstream_cpu_us_per_chunk_paced"] = round(
        (cpu["upstream_paced_long"] - cpu["upstream_paced"]) * 1e6 / runs / (LONG - SHORT), 2
    )
    return out


async def stream_baselines(
    prefix: str,
    events: list[tuple[float, str]],
    streamed: dict[str, Any],
    direct: client.Target,
    direct_ttfb_ms: float,
) -> dict[str, Any]:
    """The added time to first byte of the streams just run through the gateway (``streamed``, with
    their ``events``), less the AWS calls in flight, against two baselines: the upstream called
    back to back (``direct_ttfb_ms``), and the upstream called after it sat idle as long as it did
    behind the gateway between calls (measured from the same streams' events). On this machine
    an upstream and a client that idled a few milliseconds answer later than ones kept busy: that
    cost is the machine's, not the gateway's (docs/BENCHMARKS.md, Reading the figures)."""
    idle_ms = upstream_idle_ms(events)
    idle = await client.streaming(direct, streamed["ttfb_ms"]["n"], idle_s=idle_ms / 1000)
    first_bytes = streamed["first_bytes"]
    return {
        f"{prefix}upstream_idle_ms": idle_ms,
        f"{prefix}direct_stream_idle": idle,
        f"{prefix}stream_aws_wait": aws_wait_before_first_byte(events, first_bytes, direct_ttfb_ms),
        f"{prefix}stream_aws_wait_idle": aws_wait_before_first_byte(
            events, first_bytes, idle["ttfb_ms"]["p50"]
        ),
    }


async def stubbed_phases(
    args: argparse.Namespace,
    stack: Started,
    gateway: client.Target,
    direct: client.Target,
    direct_ttfb_ms: float,
) -> dict[str, Any]:
    """The same gateway with the request path's AWS calls answered in process (no moto)."""
    out: dict[str, Any] = {}
    set_aws(stack, "in-process")
    try:
        out["stub_seq"], cpu = await measure_cpu(stack.process.pid, client.sequential(gateway, args.seq))
        out["stub_cpu_ms_per_request"] = round(cpu * 1000 / (args.seq + 10), 3)
        bench_events(stack, reset=True)
        out["stub_stream"] = await client.streaming(gateway, args.stream)
        out.update(
            await stream_baselines(
                "stub_", bench_events(stack, reset=True), out["stub_stream"], direct, direct_ttfb_ms
            )
        )
        with PeakRss({"stack": stack.process.pid}) as rss:
            out["stub_tput"], cpu = await measure_cpu(
                stack.process.pid, client.throughput(gateway, args.concurrency, args.seconds)
            )
        out["stub_tput_cpu_ms_per_request"] = round(cpu * 1000 / max(1, out["stub_tput"]["requests"]), 3)
        out["stub_rss_peak_mb"] = round(rss.peaks.get("stack", 0.0), 1)
    finally:
        set_aws(stack, "moto")
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    started: list[Started] = []
    try:
        short, long = start_fake_upstream(SHORT, workdir), start_fake_upstream(LONG, workdir)
        paced = start_fake_upstream(SHORT, workdir, PACED_DELAY_MS)
        paced_long = start_fake_upstream(LONG, workdir, PACED_DELAY_MS)
        started += [short, long, paced, paced_long]
        upstreams = {"bench": short, "bench-long": long, "bench-paced": paced, "bench-paced-long": paced_long}
        options = ("--no-freeze",) if args.no_freeze else ()
        stack, values = start_stack(write_catalog(workdir, upstreams), workdir, *options)
        started.append(stack)
        procs = {
            "stack": stack,
            "short": short,
            "long": long,
            "paced": paced,
            "paced_long": paced_long,
            "moto_pid": int(values["MOTO_PID"]),
        }
        rounds = []
        for number in range(args.rounds):
            print(f"round {number + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
            rounds.append(await one_round(args, procs, values["SLUICE_API_KEY"]))
        gateway_collections = gateway_gc(stack)
        translation = translation_costs(record_stream(short.base_url, "bench"))
    finally:
        for process in reversed(started):
            process.stop()
    print("import times ...", file=sys.stderr, flush=True)
    return {
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "host": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "rounds": rounds,
        "translation": translation,
        "imports": import_times(args.import_repeats),
        "gc": {"gateway": gateway_collections, "after_import": after_import_pauses()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seq", type=int, default=150, help="sequential non-streaming requests per round")
    parser.add_argument("--stream", type=int, default=30, help="sequential streaming requests per round")
    parser.add_argument(
        "--paced", type=int, default=10, help="sequential paced streams per round (and length)"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="throughput phase length")
    parser.add_argument("--import-repeats", type=int, default=2)
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="the gateway serves with its heap unfrozen: the baseline of gc.freeze (docs/BENCHMARKS.md, change 30)",
    )
    parser.add_argument("--out", type=Path, default=REPO / ".sluice" / "bench" / "results.json")
    args = parser.parse_args()
    began = time.monotonic()
    install_uvloop()
    results = asyncio.run(run(args))
    results["elapsed_s"] = round(time.monotonic() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print_report(results)
    print(f"\nJSON: {args.out}  ({results['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
