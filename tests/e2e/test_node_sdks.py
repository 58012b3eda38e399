"""The official Node SDKs (`openai`, `@anthropic-ai/sdk`) against the shared local stack.

One `node` process per SDK (tests/e2e/node/*.mjs) runs every scenario over real HTTP, changing only
base URL and key, and prints what it observed as one JSON object; the tests below assert on it.
The packages come from tests/e2e/node/package-lock.json (`make test` and `make e2e` install them).
Each script sends from a loopback address of its own (set through the SDKs' fetch options, as a
proxy would be), so that its requests do not count against the per-IP chat limit (48 a minute)
that the other modules' requests from 127.0.0.1 share.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.stack import RunningStack
from test_chat_openai_sdk import png
from test_messages_anthropic_sdk import _free_key

from shared.catalog.loader import load_catalog_file

NODE_DIR = Path(__file__).parent / "node"
PACKAGES = ("openai", "@anthropic-ai/sdk", "undici")
Seen = dict[str, Any]


def run_node(script: str, stack: RunningStack, free_key: str, source_address: str) -> Seen:
    """What ``script`` observed against ``stack``; the test fails if node is missing or the script does."""
    node = shutil.which("node")
    assert node, "`node` (v20.18+) is not on PATH: the Node SDK e2e tests need Node.js and npm"
    missing = [name for name in PACKAGES if not (NODE_DIR / "node_modules" / name / "package.json").exists()]
    assert not missing, f"{missing} not installed: run `make e2e` (it runs npm ci in {NODE_DIR})"
    env = {
        "PATH": os.environ["PATH"],
        "SLUICE_BASE_URL": stack.base_url,
        "SLUICE_KEY": stack.api_key,
        "SLUICE_FREE_KEY": free_key,
        "SLUICE_SOURCE_ADDRESS": source_address,
        "SLUICE_IMAGE_URL": "data:image/png;base64," + base64.b64encode(png(4, 3)).decode(),
    }
    done = subprocess.run(
        [node, script], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"node {script} exited with {done.returncode}:\n{done.stderr}"
    seen: Seen = json.loads(done.stdout)
    return seen


def scenario(seen: Seen, name: str) -> Any:
    """One scenario's observation, failing with the script's own account if it crashed."""
    observed = seen[name]
    if isinstance(observed, dict) and "crashed" in observed:
        pytest.fail(f"the {name} scenario crashed: {observed['crashed']}")
    return observed


@pytest.fixture(scope="module")
def free_key(local_stack: RunningStack) -> str:
    """A Free account's key with 100 credits, written to the stack's tables (as ``stack_aws`` does)."""
    from shared.adapters.aws import client
    from shared.settings import get_settings
    from sluice.cli.target import use_local

    saved = dict(os.environ)
    try:
        use_local(local_stack.env_file)
        get_settings.cache_clear()
        client.cache_clear()
        return _free_key()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        client.cache_clear()


@pytest.fixture(scope="module")
def openai_seen(local_stack: RunningStack, free_key: str) -> Seen:
    return run_node("openai_sdk.mjs", local_stack, free_key, "127.0.0.61")


@pytest.fixture(scope="module")
def anthropic_seen(local_stack: RunningStack, free_key: str) -> Seen:
    return run_node("anthropic_sdk.mjs", local_stack, free_key, "127.0.0.62")


def test_openai_lists_the_catalog(openai_seen: Seen) -> None:
    assert scenario(openai_seen, "models") == [m.id for m in load_catalog_file().models]


def test_openai_create_returns_the_simulators_answer_with_real_usage(openai_seen: Seen) -> None:
    created = scenario(openai_seen, "create")

    [choice] = created["choices"]
    assert created["id"].startswith("chatcmpl-") and created["model"] == "qwen3"
    assert choice["content"].startswith("Simulated reply to: Hello from the Node SDK")
    assert choice["finish_reason"] == "stop"
    usage = created["usage"]
    assert usage["prompt_tokens"] == 5 and usage["completion_tokens"] == len(choice["content"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    headers = created["headers"]
    assert headers["x-sluice-model"] == "qwen3" and int(headers["x-credits-remaining"]) > 0
    assert headers["x-request-id"] and headers["x-ratelimit-limit"]


def test_openai_stream_assembles_the_same_answer_and_ends_with_its_usage(openai_seen: Seen) -> None:
    streamed, created = scenario(openai_seen, "stream"), scenario(openai_seen, "create")

    [stream_id] = streamed["ids"]
    assert stream_id.startswith("chatcmpl-") and stream_id != created["id"]
    assert streamed["text"] == created["choices"][0]["content"], "the simulator is deterministic"
    assert streamed["content_chunks"] > 5, "token by token"
    assert streamed["finish_reasons"] == ["stop"]
    assert streamed["usage_chunks"] == 1 and streamed["last"]["choices"] == 0
    assert streamed["last"]["usage"] == created["usage"]


def test_openai_tool_call_round_trip(openai_seen: Seen) -> None:
    tools = scenario(openai_seen, "tools")

    [call] = tools["calls"]
    assert tools["finish_reason"] == "tool_calls"
    assert call["name"] == "get_weather" and call["arguments"] == {"city": "sample"}
    [answer] = tools["answer"]["choices"]
    assert answer["content"].startswith("Tool result received: 18 degrees and sunny")
    assert answer["finish_reason"] == "stop"


def test_openai_json_mode_two_choices_and_stop(openai_seen: Seen) -> None:
    as_json = scenario(openai_seen, "json_mode")
    two = scenario(openai_seen, "two_choices")["choices"]
    [stopped] = scenario(openai_seen, "stop")["choices"]

    assert as_json["simulated"] is True and as_json["reply"].startswith("Simulated reply to: weather as JSON")
    assert [c["index"] for c in two] == [0, 1]
    assert two[1]["content"].startswith("Simulated reply to: give me two (choice 1)")
    assert two[0]["content"] != two[1]["content"]
    assert stopped == {"index": 0, "content": "Simulated", "finish_reason": "stop"}


def test_openai_a_data_url_image_reaches_a_vision_model(openai_seen: Seen) -> None:
    image = scenario(openai_seen, "image")

    assert image["model"] == "kimi-k2.5"
    assert image["choices"][0]["content"].startswith("Simulated reply to: describe it")
    assert image["usage"]["prompt_tokens"] == 2 + 85, "the simulator counted the image part"


def test_openai_base_url_ending_in_api_v1(openai_seen: Seen) -> None:
    under_api = scenario(openai_seen, "api_base_url")

    assert under_api["models"] == scenario(openai_seen, "models")
    assert under_api["answer"]["choices"] == scenario(openai_seen, "create")["choices"]


@pytest.mark.parametrize(
    ("case", "error_class", "status", "code", "param", "says"),
    [
        ("bad_key", "AuthenticationError", 401, "invalid_api_key", None, "Invalid API key"),
        ("free_tools", "PermissionDeniedError", 403, "permission_denied", "tools", "Pro plan"),
        ("free_pro_model", "PermissionDeniedError", 403, "permission_denied", "model", "Pro plan"),
        ("unknown_model", "NotFoundError", 404, "model_not_found", "model", "no-such-model"),
        ("bad_temperature", "BadRequestError", 400, "invalid_request", "temperature", "temperature"),
        ("free_body_too_large", "APIError", 413, "request_too_large", None, "Free plan allows 64 KB"),
    ],
)
def test_openai_errors_are_the_sdks_typed_classes(
    openai_seen: Seen, case: str, error_class: str, status: int, code: str, param: str | None, says: str
) -> None:
    """The SDK picks the class by status (413 has none of its own: APIError) and reads the body."""
    refused = scenario(openai_seen, case)

    seen = (refused["class"], refused["status"], refused["code"], refused["param"])
    assert seen == (error_class, status, code, param), json.dumps(refused)
    assert refused["sdk_error"] and refused["body"]["type"] == "invalid_request_error"
    assert says in refused["body"]["message"] and refused["request_id"]


def text_of(message: Seen) -> str:
    """The text of a Messages answer's one text block, or of its last when it has several."""
    texts = [block["text"] for block in message["content"] if block["type"] == "text"]
    assert texts, message
    return str(texts[-1])


def test_anthropic_create_with_a_system_prompt(anthropic_seen: Seen) -> None:
    message = scenario(anthropic_seen, "create")

    assert message["id"].startswith("msg_") and message["type"] == "message" and message["model"] == "kimi-k2"
    assert text_of(message).startswith("Simulated reply to: Hello from the Node SDK")
    assert message["stop_reason"] == "end_turn" and message["stop_sequence"] is None
    assert message["usage"]["output_tokens"] == len(text_of(message).split())
    assert message["usage"]["input_tokens"] >= 7, "the system prompt was counted too"
    assert message["request_id"], "the SDK reads the request-id header"


def test_anthropic_stream_text_events_and_final_message_agree(anthropic_seen: Seen) -> None:
    streamed, created = scenario(anthropic_seen, "stream"), scenario(anthropic_seen, "create")
    final, events = streamed["final"], streamed["events"]

    assert len(streamed["deltas"]) > 5, "token by token"
    assert "".join(streamed["deltas"]) == text_of(final) == text_of(created), "the simulator is deterministic"
    assert events[0] == "message_start" and events[-2:] == ["message_delta", "message_stop"]
    assert events.count("content_block_start") == events.count("content_block_stop") == 1
    assert final["id"].startswith("msg_") and final["id"] != created["id"]
    assert final["stop_reason"] == "end_turn" and final["usage"] == created["usage"]


def test_anthropic_tool_use_round_trip(anthropic_seen: Seen) -> None:
    tools = scenario(anthropic_seen, "tools")
    first, second = tools["first"], tools["second"]

    [call] = [block for block in first["content"] if block["type"] == "tool_use"]
    assert first["stop_reason"] == "tool_use"
    assert call["name"] == "get_weather" and call["input"] == {"city": "sample"} and call["id"]
    assert text_of(first) == "Calling get_weather.", "text kept alongside the tool call"
    assert second["stop_reason"] == "end_turn"
    assert text_of(second).startswith("Tool result received: Sunny, 24 C")


def test_anthropic_count_tokens_is_an_estimate(anthropic_seen: Seen) -> None:
    assert scenario(anthropic_seen, "count_tokens") == {"input_tokens": 200, "estimate": True}


@pytest.mark.parametrize("case", ["api_base_url", "x_api_key"])
def test_anthropic_base_url_under_api_and_an_x_api_key_header(anthropic_seen: Seen, case: str) -> None:
    """``create`` authenticated the SDK's default way (``apiKey``, sent as a Bearer token since
    1.0); ``x_api_key`` sends only an X-Api-Key header, as the SDK did before 1.0."""
    message = scenario(anthropic_seen, case)

    assert message["content"] == scenario(anthropic_seen, "create")["content"]
    assert message["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("case", "error_class", "status", "error_type", "says"),
    [
        ("bad_key", "AuthenticationError", 401, "authentication_error", "Invalid API key"),
        ("unknown_model", "NotFoundError", 404, "not_found_error", "claude-nonexistent"),
        ("bad_temperature", "BadRequestError", 400, "invalid_request_error", "temperature"),
        ("free_pro_model", "PermissionDeniedError", 403, "permission_error", "Pro plan"),
        ("free_tools", "PermissionDeniedError", 403, "permission_error", "Pro plan"),
    ],
)
def test_anthropic_errors_are_the_sdks_typed_classes(
    anthropic_seen: Seen, case: str, error_class: str, status: int, error_type: str, says: str
) -> None:
    refused = scenario(anthropic_seen, case)

    assert (refused["class"], refused["status"]) == (error_class, status), json.dumps(refused)
    assert refused["sdk_error"] and refused["body"]["type"] == "error"
    assert refused["body"]["error"]["type"] == error_type and says in refused["body"]["error"]["message"]
    assert refused["request_id"] and refused["body"]["request_id"] == refused["request_id"]
