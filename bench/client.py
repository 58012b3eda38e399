"""The load generator: sequential latency, streaming timings, closed-loop throughput (aiohttp, uvloop).

The same shapes as ../shared/bench/loadgen.py, kept in process so that one run can interleave
direct and gateway measurements and read the gateway's CPU time between phases.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "mean": round(statistics.fmean(values), 3) if values else None,
        "p50": pct(values, 50),
        "p99": pct(values, 99),
    }


def chat_body(model: str, *, stream: bool) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello (benchmark request)."}],
        "max_tokens": 1024,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


@dataclass
class Target:
    """Where requests go: the upstream directly, or the gateway in front of it."""

    base_url: str
    model: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1/chat/completions"


async def one(session: aiohttp.ClientSession, target: Target, body: bytes) -> tuple[float, bool]:
    started = time.perf_counter()
    async with session.post(target.url, data=body, headers=target.headers) as response:
        data = await response.read()
        ok = response.status == 200 and bool(json.loads(data)["choices"][0]["message"]["content"])
    return (time.perf_counter() - started) * 1000, ok


async def one_stream(session: aiohttp.ClientSession, target: Target, body: bytes) -> dict[str, Any]:
    """Milliseconds to the first body byte, the first content token and the end; content chunks seen."""
    started = time.perf_counter()
    first_byte = first_token = None
    chunks, done, buffer = 0, False, b""
    async with session.post(target.url, data=body, headers=target.headers) as response:
        if response.status != 200:
            return {"ok": False, "status": response.status}
        async for raw in response.content.iter_any():
            now = time.perf_counter()
            first_byte = first_byte or now
            buffer += raw
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not line.startswith(b"data: "):
                    continue
                if line[6:].strip() == b"[DONE]":
                    done = True
                    continue
                choices = json.loads(line[6:]).get("choices") or []
                if choices and (choices[0].get("delta") or {}).get("content"):
                    chunks += 1
                    first_token = first_token or now
    end = time.perf_counter()

    def ms(moment: float | None) -> float | None:
        return None if moment is None else (moment - started) * 1000

    return {
        "ok": done,
        "start": started,
        "ttfb": ms(first_byte),
        "ttft": ms(first_token),
        "total": ms(end),
        "chunks": chunks,
    }


async def sequential(target: Target, n: int, warmup: int = 10) -> dict[str, Any]:
    body = chat_body(target.model, stream=False)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        for _ in range(warmup):
            await one(session, target, body)
        results = [await one(session, target, body) for _ in range(n)]
    latencies = [ms for ms, ok in results if ok]
    return {"errors": n - len(latencies), "latency_ms": summary(latencies)}


# Streams sent first and not timed. After another phase, the first few dozen streams of a server
# on this machine answer slower (0.6-1.1 ms to the fake upstream's first byte, then 0.25-0.35;
# docs/BENCHMARKS.md, ninth round), with no other process working: five warm-ups left the
# direct baseline, measured right after the gateway's phases, inflated.
STREAM_WARMUP = 30


async def streaming(
    target: Target, n: int, warmup: int = STREAM_WARMUP, idle_s: float = 0.0
) -> dict[str, Any]:
    """``n`` streams one after another, after ``warmup`` untimed ones; with ``idle_s``, that long
    with nothing sent before each."""
    body = chat_body(target.model, stream=True)
    rows = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        for _ in range(warmup):
            await one_stream(session, target, body)
        for _ in range(n):
            if idle_s:
                await asyncio.sleep(idle_s)
            rows.append(await one_stream(session, target, body))
    good = [r for r in rows if r["ok"]]
    return {
        "errors": n - len(good),
        "chunks": statistics.median([r["chunks"] for r in good]) if good else 0,
        **{f"{k}_ms": summary([r[k] for r in good if r[k] is not None]) for k in ("ttfb", "ttft", "total")},
        "first_bytes": [(r["start"], r["ttfb"]) for r in good if r["ttfb"] is not None],
    }


async def throughput(target: Target, concurrency: int, seconds: float) -> dict[str, Any]:
    body = chat_body(target.model, stream=False)
    latencies: list[float] = []
    errors = 0

    async def worker(session: aiohttp.ClientSession, deadline: float, keep: bool) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                ms, ok = await one(session, target, body)
            except (TimeoutError, aiohttp.ClientError, ValueError, KeyError):
                ms, ok = 0.0, False
            if keep:
                if ok:
                    latencies.append(ms)
                else:
                    errors += 1

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout
    ) as session:
        await asyncio.gather(*(worker(session, time.perf_counter() + 2, False) for _ in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(session, started + seconds, True) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "rps": round(len(latencies) / wall, 1),
        "wall_s": round(wall, 2),
        "latency_ms": summary(latencies),
    }
