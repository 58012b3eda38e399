"""The streams' fast paths give exactly what the general paths give.

``OpenAIChunkParser.feed_json`` reads text-only chunks from plain dicts instead of the pydantic
model; the SSE encoder writes with pydantic-core instead of ``json``. Both are checked against the
general path over generated input, including every wrong JSON type a field could carry.
"""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.chat import events as ev
from shared.chat.sse import encode_anthropic_event, encode_openai_chunk
from shared.chat.stream_openai import OpenAIChunkParser
from shared.errors import UpstreamError
from shared.wire.openai_response import ChatCompletionChunk

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}

# Right and wrong JSON types for every field the parser reads.
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.just("123"),
    st.lists(st.integers(), max_size=2),
    st.just({"name": "f"}),
)
text_or_wrong = st.one_of(st.text(max_size=8), anything)
int_or_wrong = st.one_of(st.integers(0, 3), anything)


def maybe(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts holding any subset of ``fields``, plus sometimes a key the models do not know."""
    return st.fixed_dictionaries({}, optional={**fields, "x_extra": anything})


delta = maybe(
    {
        "role": st.one_of(st.just("assistant"), anything),
        "content": text_or_wrong,
        "reasoning_content": text_or_wrong,
        "reasoning": text_or_wrong,
        "refusal": st.one_of(st.none(), st.text(max_size=4)),
        "tool_calls": st.one_of(st.none(), st.just([{"index": 0, "id": "t", "function": {"name": "f"}}])),
    }
)
choice = maybe(
    {
        "index": int_or_wrong,
        "delta": st.one_of(delta, anything),
        "finish_reason": st.one_of(st.none(), st.just("stop"), st.just("length"), anything),
        "stop_reason": st.one_of(st.none(), st.just("END"), anything),
        "logprobs": st.one_of(st.just({"content": [{"token": "t", "logprob": -0.5}]}), anything),
    }
)
chunk = maybe(
    {
        "id": text_or_wrong,
        "object": st.just("chat.completion.chunk"),
        "created": int_or_wrong,
        "model": text_or_wrong,
        "choices": st.one_of(st.lists(choice, min_size=0, max_size=2), anything),
        "usage": st.one_of(st.none(), st.just({"prompt_tokens": 1, "completion_tokens": 2})),
        "error": st.just({"message": "boom"}),
    }
)


def outcome(feed: Any, item: Any) -> list[ev.StreamEvent] | str | None:
    try:
        events = feed(item)
    except UpstreamError as error:
        return f"UpstreamError: {error.message}"
    return None if events is None else list(events)


def by_text(parser: OpenAIChunkParser, text: str) -> list[ev.StreamEvent] | str | None:
    """What the provider does: ``feed_json``, and ``feed`` on the decoded chunk when it declines."""
    events = outcome(parser.feed_json, text)
    return events if events is not None else outcome(parser.feed, json.loads(text))


@SETTINGS
@given(chunks=st.lists(chunk, min_size=1, max_size=4))
def test_feed_json_matches_the_model_on_any_chunk(chunks: list[dict[str, Any]]) -> None:
    fast, model = OpenAIChunkParser(new_tool_id=lambda: "g"), OpenAIChunkParser(new_tool_id=lambda: "g")
    assert fast.feed_json(json.dumps(START)) == model.feed(START)
    for item in chunks:
        expected = outcome(model.feed, item)
        assert by_text(fast, json.dumps(item)) == expected, item
        if isinstance(expected, str):
            return  # the provider ends the stream at the first upstream error


def test_text_chunks_skip_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = OpenAIChunkParser()
    parser.feed_json(json.dumps(START))
    calls: list[str] = []
    original = ChatCompletionChunk.model_validate_json

    def counted(data: str) -> ChatCompletionChunk:
        calls.append(data)
        return original(data)

    monkeypatch.setattr(ChatCompletionChunk, "model_validate_json", counted)
    text = {"id": "c1", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
    reasoning = {
        "choices": [{"index": 1, "delta": {"reasoning_content": "hm", "content": "ok"}, "logprobs": None}]
    }
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    assert parser.feed_json(json.dumps(text)) == [ev.TextDelta("Hi")]
    assert parser.feed_json(json.dumps(reasoning)) == [
        ev.ReasoningDelta("hm", choice=1),
        ev.TextDelta("ok", choice=1),
    ]
    assert calls == []
    assert parser.feed_json(json.dumps(finish)) == [ev.Finish(ev.FinishReason.STOP)]
    assert len(calls) == 1  # anything but text takes the model


def json_values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=12,
    )


no_floats = json_values(st.one_of(st.none(), st.booleans(), st.integers(), st.text()))
with_floats = json_values(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@SETTINGS
@given(payload=st.dictionaries(st.text(max_size=5), no_floats, max_size=4))
def test_frames_are_the_bytes_json_dumps_writes(payload: dict[str, Any]) -> None:
    assert encode_openai_chunk(payload) == b"data: " + dumps(payload) + b"\n\n"
    event = {**payload, "type": "content_block_delta"}
    assert encode_anthropic_event(event) == b"event: content_block_delta\ndata: " + dumps(event) + b"\n\n"


@SETTINGS
@given(payload=st.dictionaries(st.text(max_size=5), with_floats, max_size=4))
def test_floats_keep_their_value(payload: dict[str, Any]) -> None:
    """Only the spelling of some exponents differs (``1e-8`` where ``json`` writes ``1e-08``)."""
    frame = encode_openai_chunk(payload)
    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
    assert json.loads(frame[6:]) == payload


def test_a_lone_surrogate_from_an_upstream_still_makes_a_frame() -> None:
    frame = encode_openai_chunk({"choices": [{"delta": {"content": "a\ud800b"}}]})
    assert frame == b'data: {"choices":[{"delta":{"content":"a?b"}}]}\n\n'
    frame.decode("utf-8")  # valid UTF-8 for the client
