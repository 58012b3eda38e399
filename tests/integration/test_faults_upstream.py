"""Upstream faults (the simulator's ``[sim:fault=...]`` markers, a closed port, a short read timeout)
through the chat function, in both wire formats, streaming and not.

For every fault: the client gets a well-formed error (a JSON error with a 5xx status, or, once a
stream has begun, an error event ending it), nothing is charged once the usage events are
processed, exactly one usage event says so, and the logs carry the request id.

One chat world serves every fault of a format (tables are slow to create); each fault is
checked on its own and all problems are reported together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import NoReturn

import pytest
from chat_support import install_catalog, openai_route
from faults_support import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    LogCapture,
    body_for,
    log_capture,  # noqa: F401 - the `logs` fixture
    post,
    process_usage_events,
    well_formed_error,
)

from shared.gateway import router
from shared.providers import http_client
from shared.settings import get_settings
from sluice.local.moto_server import free_port

READ_TIMEOUT_S = "0.3"
PATHS = [pytest.param(OPENAI_PATH, id="openai"), pytest.param(ANTHROPIC_PATH, id="anthropic")]
# (fault marker, stream, statuses a JSON error may have); "connect_refused" routes to a closed port
FAULTS = [
    ("http_429", False, {503}),
    ("http_429", True, {503}),
    ("http_500", False, {503}),
    ("http_500", True, {503}),
    ("http_503", False, {503}),
    ("http_503", True, {503}),
    ("invalid_json", False, {502}),
    ("hang", False, {504}),
    ("hang", True, {504}),
    ("connect_refused", False, {503}),
    ("connect_refused", True, {503}),
]
# Failures after the first byte: the response is a 200 stream that ends with an error event.
MID_STREAM = ["reset_mid_stream", "malformed_sse", "hang_after_first"]


@pytest.fixture(autouse=True)
def fast_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """No backoff sleeps, and a short upstream read timeout (for ``hang``)."""
    monkeypatch.setattr(router, "backoff", lambda attempt, retry_after: 0.0)
    monkeypatch.setenv("SLUICE_UPSTREAM_READ_TIMEOUT", READ_TIMEOUT_S)
    monkeypatch.setattr(http_client, "_clients", {})  # clients are built with the timeout
    get_settings.cache_clear()


def check_failure(world, path: str, response, logs: LogCapture, statuses: set[int] | None) -> list[str]:
    """What is wrong with how the request failed (empty when it failed cleanly)."""
    problems: list[str] = []
    seen = well_formed_error(path, response)
    rid = response.headers["x-request-id"]
    if statuses is not None and not seen.in_stream and seen.status not in statuses:
        problems.append(f"status {seen.status}, expected one of {sorted(statuses)}")
    events = process_usage_events(world.usage_queue)
    if [e["request_id"] for e in events] != [rid]:
        problems.append(f"usage events {[e['request_id'] for e in events]}, expected exactly [{rid}]")
    elif events[0]["charged"] is not False or events[0]["outcome"] != "failed":
        problems.append(f"usage event says charged={events[0]['charged']} outcome={events[0]['outcome']}")
    if world.pro.balance() != 1000:
        problems.append(f"balance {world.pro.balance()} after processing the events, expected 1000")
    if rid not in logs.text:
        problems.append("the logs do not carry the request id")
    return problems


def run_faults(
    world, path: str, logs: LogCapture, cases: Sequence[tuple[str, bool, set[int] | None]]
) -> dict:
    problems: dict[str, list[str]] = {}
    for fault, stream, statuses in cases:
        text = f"[sim:fault={fault};hang_seconds=5] tell me something"
        restore: Callable[[], object] | None = None
        if fault == "connect_refused":
            install_catalog(routes={"qwen3": [openai_route(f"http://127.0.0.1:{free_port()}/v1", "qwen3")]})
            text, restore = "hello", install_catalog
        try:
            response = post(path, world.pro.key, body_for(path, text, stream=stream))
            found = check_failure(world, path, response, logs, statuses)
        except AssertionError as failed:
            found = [f"malformed error: {failed}"]
        finally:
            if restore is not None:
                restore()
        if found:
            problems[f"{fault} ({'stream' if stream else 'json'})"] = found
    return problems


@pytest.mark.parametrize("path", PATHS)
def test_upstream_failures_before_output(chat_world, logs, path) -> None:
    problems = run_faults(chat_world, path, logs, FAULTS)

    assert problems == {}


@pytest.mark.parametrize("path", PATHS)
def test_upstream_failures_after_the_first_byte(chat_world, logs, path) -> None:
    """A 200 stream ending with an error event: not charged, one usage event, the request id logged."""
    problems = run_faults(chat_world, path, logs, [(fault, True, None) for fault in MID_STREAM])

    assert problems == {}


def _answer_text(path: str, response) -> str:
    """The answer's text, from JSON that is UTF-8 and standard (no lone surrogate, no NaN)."""
    raw = response.content.decode("utf-8")  # raises if the gateway sent what is not UTF-8

    def no_constant(name: str) -> NoReturn:
        pytest.fail(f"{name} in the answer")

    if not response.headers["content-type"].startswith("text/event-stream"):
        body = json.loads(raw, parse_constant=no_constant)
        return (
            body["content"][0]["text"]
            if path.endswith("/messages")
            else body["choices"][0]["message"]["content"]
        )
    datas = [line[len("data: ") :] for line in raw.splitlines() if line.startswith("data: ")]
    events = [json.loads(d, parse_constant=no_constant) for d in datas if d != "[DONE]"]
    if path.endswith("/messages"):
        return "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    return "".join((c["choices"][0]["delta"].get("content") or "") for c in events if c.get("choices"))


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("path", PATHS)
def test_text_that_cannot_be_utf8_arrives_replaced_not_as_a_500(chat_world, path, stream) -> None:
    """An upstream's lone surrogate (half an emoji) is written as ``?``: the answer stays UTF-8."""
    response = post(path, chat_world.pro.key, body_for(path, "[sim:fault=lone_surrogate] hi", stream=stream))

    assert response.status_code == 200, response.text
    text = _answer_text(path, response)
    assert text.startswith("?Simulated reply to: "), text
