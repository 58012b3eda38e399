"""The table ``make bench`` prints: one column per round, the target, and whether it was met."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, Callable[[dict[str, Any]], Any], str, Callable[[dict[str, Any]], bool] | None]


def _p(phase: str, metric: str, stat: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: round(r[phase][metric][stat], 2)


def _added(metric: str, stat: str, direct: str = "direct_seq", gateway: str = "gateway_seq") -> Any:
    return lambda r: round(r[gateway][metric][stat] - r[direct][metric][stat], 2)


def _idle_rows(prefix: str, label: str) -> list[Row]:
    """The same added TTFB against the upstream called after idling as long as behind the gateway."""
    wait = f"{prefix}stream_aws_wait_idle"
    return [
        (
            f"{label}upstream idle before each call, behind the gateway, p50 (ms)",
            lambda r: r[f"{prefix}upstream_idle_ms"],
            "",
            None,
        ),
        (
            f"{label}streaming TTFB p50, direct after idling as long (ms)",
            _p(f"{prefix}direct_stream_idle", "ttfb_ms", "p50"),
            "",
            None,
        ),
        (
            f"{label}added TTFB minus AWS in flight, against that baseline, p50 (ms)",
            lambda r: r[wait]["added_ttfb_minus_aws_ms_p50"],
            "<= 2",
            lambda r: r[wait]["added_ttfb_minus_aws_ms_p50"] <= 2,
        ),
    ]


ROWS: list[Row] = [
    ("non-streaming latency p50, direct (ms)", _p("direct_seq", "latency_ms", "p50"), "", None),
    ("non-streaming latency p50, gateway (ms)", _p("gateway_seq", "latency_ms", "p50"), "", None),
    ("added latency p50 (ms)", _added("latency_ms", "p50"), "", None),
    ("added latency p99 (ms)", _added("latency_ms", "p99"), "", None),
    ("streaming TTFB p50, direct (ms)", _p("direct_stream", "ttfb_ms", "p50"), "", None),
    ("streaming TTFB p50, gateway (ms)", _p("gateway_stream", "ttfb_ms", "p50"), "", None),
    ("added TTFB p50 (ms)", _added("ttfb_ms", "p50", "direct_stream", "gateway_stream"), "", None),
    (
        "  AWS call in flight before the first byte, p50 (ms)",
        lambda r: r["stream_aws_wait"]["aws_in_flight_ms_p50"],
        "",
        None,
    ),
    (
        "  added TTFB minus AWS in flight, p50 (ms)",
        lambda r: r["stream_aws_wait"]["added_ttfb_minus_aws_ms_p50"],
        "<= 2",
        lambda r: r["stream_aws_wait"]["added_ttfb_minus_aws_ms_p50"] <= 2,
    ),
    *_idle_rows("", "  "),
    (
        "added time to first token p50 (ms)",
        _added("ttft_ms", "p50", "direct_stream", "gateway_stream"),
        "",
        None,
    ),
    (
        "added total, 64-chunk stream p50 (ms)",
        _added("total_ms", "p50", "direct_stream", "gateway_stream"),
        "",
        None,
    ),
    (
        "gateway CPU per non-streaming request (ms)",
        lambda r: r["gateway_cpu_ms_per_request"],
        "<= 4",
        lambda r: r["gateway_cpu_ms_per_request"] <= 4,
    ),
    ("  same, at concurrency 32 (ms)", lambda r: r["gateway_tput_cpu_ms_per_request"], "", None),
    ("  gateway idle, no request (CPU ms per s)", lambda r: r.get("gateway_idle_cpu_ms_per_s"), "", None),
    ("moto CPU per request, excluded (ms)", lambda r: r["moto_cpu_ms_per_request"], "", None),
    ("gateway CPU per 64-chunk stream (ms)", lambda r: r["gateway_cpu_ms_per_stream_64"], "", None),
    (
        "gateway CPU per streamed chunk, back to back (µs)",
        lambda r: r["gateway_cpu_us_per_chunk"],
        "<= 80",
        lambda r: r["gateway_cpu_us_per_chunk"] <= 80,
    ),
    (
        "gateway CPU per streamed chunk, paced: one per read (µs)",
        lambda r: r["gateway_cpu_us_per_chunk_paced"],
        "<= 80",
        lambda r: r["gateway_cpu_us_per_chunk_paced"] <= 80,
    ),
    ("  paced upstream's own CPU per chunk (µs)", lambda r: r["upstream_cpu_us_per_chunk_paced"], "", None),
    (
        "  ratio gateway/upstream per paced chunk",
        lambda r: round(r["gateway_cpu_us_per_chunk_paced"] / r["upstream_cpu_us_per_chunk_paced"], 2),
        "",
        None,
    ),
    ("DynamoDB calls per request, warm", lambda r: r["aws_calls"]["dynamodb_calls_per_request"], "", None),
    ("SQS calls per request, warm", lambda r: r["aws_calls"]["sqs_calls_per_request"], "", None),
    (
        "DynamoDB calls completed before upstream, cold (see docs)",
        lambda r: len(r["aws_calls"]["cold_first_request"]["round_trips_before_upstream"]),
        "",
        None,
    ),
    (
        "DynamoDB round trips before upstream, warm",
        lambda r: r["aws_calls"]["warm_round_trips_before_upstream"],
        "<= 1",
        lambda r: r["aws_calls"]["warm_round_trips_before_upstream"] <= 1,
    ),
    ("moto round trip p50 (ms)", lambda r: r["aws_calls"]["aws_round_trip_ms"]["p50"], "", None),
    ("throughput c=32, direct (req/s)", lambda r: r["direct_tput"]["rps"], "", None),
    ("throughput c=32, gateway (req/s)", lambda r: r["gateway_tput"]["rps"], "", None),
    (
        "throughput ratio gateway/direct",
        lambda r: round(r["gateway_tput"]["rps"] / r["direct_tput"]["rps"], 3),
        "",
        None,
    ),
    (
        "RSS peak at c=32, gateway process (MB)",
        lambda r: r["rss_peak_mb"]["stack"],
        "<= 150",
        lambda r: r["rss_peak_mb"]["stack"] <= 150,
    ),
    ("RSS peak at c=32, upstream (MB)", lambda r: r["rss_peak_mb"]["upstream"], "", None),
    (
        "RSS ratio gateway/upstream",
        lambda r: round(r["rss_peak_mb"]["stack"] / r["rss_peak_mb"]["upstream"], 2),
        "",
        None,
    ),
    (
        "AWS in process: gateway CPU per request (ms)",
        lambda r: r["stub_cpu_ms_per_request"],
        "<= 4",
        lambda r: r["stub_cpu_ms_per_request"] <= 4,
    ),
    ("AWS in process: same, at concurrency 32 (ms)", lambda r: r["stub_tput_cpu_ms_per_request"], "", None),
    (
        "AWS in process: added latency p50 (ms)",
        _added("latency_ms", "p50", "direct_seq", "stub_seq"),
        "",
        None,
    ),
    (
        "AWS in process: added TTFB p50 (ms)",
        _added("ttfb_ms", "p50", "direct_stream", "stub_stream"),
        "",
        None,
    ),
    (
        "AWS in process: added TTFB minus AWS in flight, p50 (ms)",
        lambda r: r["stub_stream_aws_wait"]["added_ttfb_minus_aws_ms_p50"],
        "<= 2",
        lambda r: r["stub_stream_aws_wait"]["added_ttfb_minus_aws_ms_p50"] <= 2,
    ),
    *_idle_rows("stub_", "AWS in process: "),
    ("AWS in process: throughput c=32 (req/s)", lambda r: r["stub_tput"]["rps"], "", None),
    (
        "AWS in process: throughput ratio gateway/direct",
        lambda r: round(r["stub_tput"]["rps"] / r["direct_tput"]["rps"], 3),
        "",
        None,
    ),
    (
        "AWS in process: RSS peak at c=32 (MB)",
        lambda r: r["stub_rss_peak_mb"],
        "<= 150",
        lambda r: r["stub_rss_peak_mb"] <= 150,
    ),
    (
        "errors (seq, stream, paced, tput; moto then in process)",
        lambda r: (
            r["gateway_seq"]["errors"],
            r["gateway_stream"]["errors"],
            r["gateway_stream_paced"]["errors"] + r["gateway_stream_paced_long"]["errors"],
            r["gateway_tput"]["errors"],
            r["stub_seq"]["errors"],
            r["stub_stream"]["errors"],
            r["stub_tput"]["errors"],
        ),
        "0",
        None,
    ),
]


def _cell(fn: Callable[[dict[str, Any]], Any], r: dict[str, Any]) -> str:
    try:
        return str(fn(r))
    except (KeyError, TypeError, ZeroDivisionError):
        return "n/a"


def _verdict(check: Callable[[dict[str, Any]], bool] | None, rounds: list[dict[str, Any]]) -> str:
    if check is None:
        return ""
    try:
        met = [check(r) for r in rounds]
    except (KeyError, TypeError):
        return "n/a"
    return "met" if all(met) else ("missed" if not any(met) else "mixed")


def markdown_table(results: dict[str, Any]) -> str:
    rounds = results["rounds"]
    head = "| metric | " + " | ".join(f"round {i + 1}" for i in range(len(rounds))) + " | target | verdict |"
    lines = [head, "|" + " --- |" * (len(rounds) + 3)]
    for label, fn, target, check in ROWS:
        cells = " | ".join(_cell(fn, r) for r in rounds)
        lines.append(f"| {label} | {cells} | {target} | {_verdict(check, rounds)} |")
    return "\n".join(lines)


def imports_table(results: dict[str, Any]) -> str:
    lines = [
        "| function | handler module | cold import (ms) | own code (ms) | dependencies (ms) "
        "| costliest dependencies (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in results["imports"].items():
        top = ", ".join(f"{k} {v}" for k, v in row["top_dependencies_ms"].items())
        cells = [name, row["module"], row["total_ms"], row["own_ms"], row["dependencies_ms"], top]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def gc_table(results: dict[str, Any]) -> str:
    """The collector's pauses: after each handler's import, and in the gateway over the run."""
    lines = [
        "| function (served by shared.http.server) | objects tracked after import "
        "| full collection, median of 5 (µs) | after gc.freeze() (µs) |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in results["gc"]["after_import"].items():
        lines.append(f"| {name} | {row['tracked']} | {row['full_us']} | {row['frozen_full_us']} |")
    gateway = results["gc"]["gateway"]
    lines += [
        "",
        f"| gateway over the run ({gateway['frozen']} objects frozen at start, {gateway['tracked']} "
        "tracked at the end) | collections | total (ms) | longest (ms) |",
        "| --- | --- | --- | --- |",
    ]
    for generation, row in gateway["generations"].items():
        lines.append(
            f"| generation {generation} | {row['count']} | {row['total_ms']} | {row['longest_ms']} |"
        )
    return "\n".join(lines)


def translation_table(results: dict[str, Any]) -> str:
    t = results["translation"]
    return "\n".join(
        [
            "| translation (shared/chat, recorded 64-token stream) | CPU per upstream event (µs) |",
            "| --- | --- |",
            f"| parse only (SSE + JSON + chunk -> canonical) | {t['parse_us']} |",
            f"| OpenAI upstream -> OpenAI client | {t['openai_to_openai_us']} |",
            f"| OpenAI upstream -> Anthropic client | {t['openai_to_anthropic_us']} |",
        ]
    )


SHARED_CPUS = (
    "The first byte above is timed with every process (gateway, moto, upstreams, client) on both CPUs,\n"
    "where the scheduler may run the upstream or the client on the gateway's CPU after its waits.\n"
    "The first-byte target's figure is `python -m bench.ttfb_steps --pin`: the gateway alone on\n"
    "CPU 0, every other process on CPU 1 (make bench runs it last)."
)


def print_report(results: dict[str, Any]) -> None:
    print(markdown_table(results))
    print(SHARED_CPUS)
    print()
    print(translation_table(results))
    print()
    print(imports_table(results))
    print()
    print(gc_table(results))
