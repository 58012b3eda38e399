"""AWS calls per request, from the instrumented stack's timeline of sequential requests.

Events (perf_counter, kind): ``request`` (a request arrived), ``call:<service>:<op>`` and
``done:<service>:<op>`` (before/after each AWS call), ``upstream`` (the upstream request
went to the HTTP transport), ``upstream end`` (its answer was closed). Requests were sent one at a time, so the ``request`` events
cut the timeline into one segment per request. A round trip *before the upstream call* is one that
completed before the ``upstream`` event of its segment: the request waited for it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass
class Segment:
    calls: Counter[str]
    before_upstream: list[str]
    round_trip_ms: list[float]


def _segments(events: list[tuple[float, str]]) -> list[list[tuple[float, str]]]:
    segments: list[list[tuple[float, str]]] = []
    for moment, kind in sorted(events):
        if kind == "request":
            segments.append([])
        elif segments:
            segments[-1].append((moment, kind))
    return segments


def _segment(events: list[tuple[float, str]]) -> Segment:
    upstream = next((m for m, k in events if k == "upstream"), None)
    calls: Counter[str] = Counter(k[5:] for _, k in events if k.startswith("call:"))
    before = [k[5:] for m, k in events if k.startswith("done:") and upstream is not None and m < upstream]
    open_calls: dict[str, list[float]] = {}
    trips: list[float] = []
    for moment, kind in events:
        if kind.startswith("call:"):
            open_calls.setdefault(kind[5:], []).append(moment)
        elif kind.startswith("done:") and open_calls.get(kind[5:]):
            trips.append((moment - open_calls[kind[5:]].pop(0)) * 1000)
    return Segment(calls, before, trips)


def analyse(events: list[tuple[float, str]]) -> dict[str, Any]:
    """Per-request AWS calls: the first (cold caches) request alone, and the mean of the rest."""
    segments = [_segment(s) for s in _segments(events)]
    if len(segments) < 2:
        return {"requests": len(segments)}
    first, warm = segments[0], segments[1:]
    totals: Counter[str] = Counter()
    for seg in warm:
        totals.update(seg.calls)
    dynamo_trips = [ms for seg in segments for ms in seg.round_trip_ms]
    return {
        "requests": len(segments),
        "cold_first_request": {
            "calls": dict(first.calls),
            "round_trips_before_upstream": first.before_upstream,
        },
        "warm_calls_per_request": {op: round(n / len(warm), 3) for op, n in sorted(totals.items())},
        "warm_round_trips_before_upstream": statistics.median(len(s.before_upstream) for s in warm),
        "warm_before_upstream_ops": dict(Counter(op for s in warm for op in s.before_upstream)),
        "dynamodb_calls_per_request": round(
            sum(n for op, n in totals.items() if op.startswith("dynamodb")) / len(warm), 3
        ),
        "sqs_calls_per_request": round(
            sum(n for op, n in totals.items() if op.startswith("sqs")) / len(warm), 3
        ),
        "aws_round_trip_ms": {
            "p50": round(statistics.median(dynamo_trips), 3) if dynamo_trips else None,
            "mean": round(statistics.fmean(dynamo_trips), 3) if dynamo_trips else None,
        },
    }


def aws_wait_before_first_byte(
    events: list[tuple[float, str]], first_bytes: list[tuple[float, float]], direct_ttfb_ms: float
) -> dict[str, Any]:
    """For each streamed request (its start, and its first byte in ms): how long an AWS call was
    in flight between the two (the union of the calls' intervals), and the added time to first
    byte left when that is taken out. The target of issue 6 is "added TTFB <= the AWS round
    trips + 2 ms": the second figure against 2 ms, request by request."""
    intervals = _intervals(events)
    waits, rest = [], []
    for start, ttfb_ms in first_bytes:
        end = start + ttfb_ms / 1000
        wait = _covered([(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end])
        waits.append(wait * 1000)
        rest.append(ttfb_ms - direct_ttfb_ms - wait * 1000)
    if not waits:
        return {"requests": 0}
    return {
        "requests": len(waits),
        "aws_in_flight_ms_p50": round(statistics.median(waits), 3),
        "added_ttfb_minus_aws_ms_p50": round(statistics.median(rest), 3),
    }


def upstream_idle_ms(events: list[tuple[float, str]]) -> float:
    """How long the upstream sat idle before each call of sequential requests, median: from the
    end of one upstream answer (``upstream end``) to the next call (``upstream``)."""
    gaps, ended = [], None
    for moment, kind in sorted(events):
        if kind == "upstream end":
            ended = moment
        elif kind == "upstream" and ended is not None:
            gaps.append((moment - ended) * 1000)
            ended = None
    return round(statistics.median(gaps), 3) if gaps else 0.0


def _intervals(events: list[tuple[float, str]]) -> list[tuple[float, float]]:
    open_calls: dict[str, list[float]] = {}
    intervals: list[tuple[float, float]] = []
    for moment, kind in sorted(events):
        if kind.startswith("call:"):
            open_calls.setdefault(kind[5:], []).append(moment)
        elif kind.startswith("done:") and open_calls.get(kind[5:]):
            intervals.append((open_calls[kind[5:]].pop(0), moment))
    return intervals


def _covered(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > reach:
            total += b - max(a, reach)
            reach = b
    return total
