"""The upstream simulator's Anthropic Messages route answering in text: the words and tokens of an
answer (the same as the OpenAI route's), its stream of Anthropic events and their framing, stop
sequences, ``max_tokens``, unknown fields ignored and the pace of the tokens, through the official
``anthropic`` SDK on a real uvicorn port (raw ``httpx`` where the bytes themselves are the point);
its tool use, thinking, images and JSON output are in test_simulator_anthropic_blocks.py."""

from __future__ import annotations

import time
from typing import Any

import anthropic
import httpx
import openai
from simulator_anthropic_support import (
    HELLO,
    VERSION,
    anthropic_client,  # noqa: F401 - the `claude` fixture
    root,
    simulator_server,  # noqa: F401 - the `server` fixture
    sse_events,
    text_of,
    user,
)

from sluice.simulator import SimulatorServer
from sluice.simulator.tokens import count_tokens

# Answers


def test_a_text_answer_matches_the_openai_route_word_for_word_and_token_for_token(
    server: SimulatorServer, claude: anthropic.Anthropic
) -> None:
    raw = claude.messages.with_raw_response.create(
        model="sim-model", max_tokens=100, system="Answer briefly.", messages=user()
    )
    message = raw.parse()
    completion = openai.OpenAI(base_url=server.base_url, api_key="anything").chat.completions.create(
        model="sim-model",
        max_tokens=100,
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": HELLO}],
    )

    assert raw.headers["x-sluice-simulator"] == "1"
    assert message.id.startswith("msg_")
    assert message.model == "sim-model"
    assert [block.type for block in message.content] == ["text"]
    text = text_of(message.content[0])
    assert text.startswith(f"Simulated reply to: {HELLO}")
    assert text == completion.choices[0].message.content
    assert completion.usage is not None
    assert (
        message.usage.input_tokens
        == completion.usage.prompt_tokens
        == count_tokens(f"Answer briefly. {HELLO}")
    )
    assert message.usage.output_tokens == completion.usage.completion_tokens == count_tokens(text)
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)


def test_a_system_turn_counts_like_the_system_prompt(claude: anthropic.Anthropic) -> None:
    top_level = claude.messages.create(model="m", max_tokens=100, system="Answer briefly.", messages=user())
    as_turn = claude.messages.create(
        model="m",
        max_tokens=100,
        messages=[{"role": "system", "content": "Answer briefly."}, *user()],
    )

    assert as_turn.usage == top_level.usage
    assert as_turn.content == top_level.content


def test_a_stream_has_anthropic_events_in_order_and_the_same_text(claude: anthropic.Anthropic) -> None:
    whole = claude.messages.create(model="m", max_tokens=100, messages=user())
    events: list[Any] = list(claude.messages.create(model="m", max_tokens=100, messages=user(), stream=True))

    kinds = [event.type for event in events]
    deltas = [event.delta.text for event in events if event.type == "content_block_delta"]
    assert kinds == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * len(deltas),
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, finish = events[0], events[-2]
    assert start.type == "message_start" and finish.type == "message_delta"
    assert start.message.content == [] and start.message.usage.input_tokens == whole.usage.input_tokens
    assert all(count_tokens(delta) == 1 for delta in deltas)
    assert "".join(deltas) == text_of(whole.content[0])
    assert finish.delta.stop_reason == "end_turn"
    assert finish.usage.output_tokens == whole.usage.output_tokens == len(deltas)


def test_the_stream_is_framed_with_event_lines_and_starts_with_a_ping(server: SimulatorServer) -> None:
    response = httpx.post(
        f"{root(server)}/v1/messages",
        json={"model": "m", "max_tokens": 10, "messages": user(), "stream": True},
        headers=VERSION,
    )

    events = sse_events(response.text)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-sluice-simulator"] == "1"
    assert all(name == data["type"] for name, data in events)
    assert [name for name, _ in events[:3]] == ["message_start", "ping", "content_block_start"]
    assert "[DONE]" not in response.text


def test_a_stop_sequence_ends_the_text_and_is_named(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="m", max_tokens=100, messages=user(), stop_sequences=["simulator"])
    with claude.messages.stream(
        model="m", max_tokens=100, messages=user(), stop_sequences=["nothing", "simulator"]
    ) as stream:
        streamed = stream.get_final_message()

    assert text_of(message.content[0]) == "Simulated reply to: Hello"
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "simulator")
    assert (streamed.stop_reason, streamed.stop_sequence) == ("stop_sequence", "simulator")
    assert message.usage.output_tokens == 4


def test_max_tokens_cuts_the_answer(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="m", max_tokens=5, messages=user())

    assert message.stop_reason == "max_tokens"
    assert count_tokens(text_of(message.content[0])) == message.usage.output_tokens == 5


def test_unknown_fields_and_n_are_accepted_and_ignored(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="m",
        max_tokens=100,
        messages=user(),
        extra_body={"n": 3, "context_management": {"edits": []}, "metadata": {"user_id": "u1"}},
        extra_headers={"anthropic-beta": "context-management-2025-06-27"},
    )

    assert [block.type for block in message.content] == ["text"]


# Pacing


def test_tokens_stream_at_the_token_rate(server: SimulatorServer) -> None:
    def text_arrivals(rate: str) -> list[float]:
        arrivals = []
        with httpx.stream(
            "POST",
            f"{root(server)}/v1/messages",
            json={"model": "m", "max_tokens": 15, "messages": user(), "stream": True},
            headers={**VERSION, "x-sim-token-rate": rate},
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and '"text_delta"' in line:
                    arrivals.append(time.monotonic())
        return arrivals

    paced, unpaced = text_arrivals("40"), text_arrivals("0")

    assert len(paced) == len(unpaced) == 15
    spread = paced[-1] - paced[0]
    assert spread >= 14 / 40 * 0.8
    assert unpaced[-1] - unpaced[0] < spread / 4


def test_a_non_streaming_message_waits_for_its_tokens(claude: anthropic.Anthropic) -> None:
    def elapsed(rate: str) -> float:
        started = time.monotonic()
        claude.messages.create(
            model="m", max_tokens=10, messages=user(), extra_headers={"x-sim-token-rate": rate}
        )
        return time.monotonic() - started

    assert elapsed("0") < elapsed("25") / 2
