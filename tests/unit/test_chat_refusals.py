"""Refusals kept apart from the answer's text: an upstream's streamed ``delta.refusal`` is a
``RefusalDelta``, which an OpenAI client gets as ``delta.refusal`` and an Anthropic client as text;
not streamed, a refusal without content keeps ``content: null``."""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletion as SdkCompletion
from openai.types.chat import ChatCompletionChunk as SdkChunk
from support.chat_streams import chunk, render_anthropic, render_openai

from shared.chat import events as ev
from shared.chat.canonical import FinishReason
from shared.chat.from_openai_response import response_from_openai
from shared.chat.stream_openai import OpenAIChunkParser, parse_openai_chunks
from shared.chat.to_openai_response import response_to_openai
from shared.gateway.accounting import Outcome
from shared.gateway.streaming import _track
from shared.http.chat_capture import Capture

LOGPROBS = {
    "content": None,
    "refusal": [{"token": "no", "logprob": -0.1, "bytes": [110, 111], "top_logprobs": []}],
}


def refusal_stream() -> list[ev.StreamEvent]:
    return [ev.Start(), ev.RefusalDelta("I can't"), ev.RefusalDelta(" help."), ev.Finish(FinishReason.STOP)]


def test_a_streamed_refusal_is_a_refusal_event_with_its_logprobs() -> None:
    events = list(
        parse_openai_chunks(
            [
                chunk({"role": "assistant", "content": None, "refusal": None}),
                chunk({"refusal": "I can't"}, logprobs=LOGPROBS),
                chunk({"content": "a", "refusal": "b"}),
                chunk({}, "stop"),
            ]
        )
    )

    assert events[1:] == [
        ev.RefusalDelta("I can't", logprobs=LOGPROBS),
        ev.TextDelta("a"),
        ev.RefusalDelta("b"),
        ev.Finish(FinishReason.STOP),
    ]


def test_the_fast_path_leaves_refusals_to_the_model() -> None:
    parser = OpenAIChunkParser()
    parser.feed(chunk({"role": "assistant"}))

    assert parser.feed_json('{"choices": [{"index": 0, "delta": {"refusal": "no"}}]}') == [
        ev.RefusalDelta("no")
    ]


def test_an_openai_client_gets_delta_refusal() -> None:
    chunks = render_openai(refusal_stream())

    for rendered in chunks:
        SdkChunk.model_validate(rendered)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [{"role": "assistant", "content": ""}, {"refusal": "I can't"}, {"refusal": " help."}, {}]


def test_an_anthropic_client_gets_the_refusal_as_text() -> None:
    events = render_anthropic(refusal_stream())

    texts = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert texts == ["I can't", " help."]
    assert [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"] == ["text"]


def test_a_refusal_is_output_for_accounting_and_for_transcripts() -> None:
    outcome, capture = Outcome(), Capture()
    for event in refusal_stream()[:2]:
        _track(outcome, event)
        capture.observe(event)

    assert outcome.output_started and capture.text == "I can't"


def upstream(message: dict[str, Any]) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
    return {"id": "x", "created": 1, "model": "up", "choices": [choice]}


def test_a_refusal_without_content_keeps_content_null() -> None:
    rendered = response_to_openai(
        response_from_openai(upstream({"content": None, "refusal": "no"})), model="m"
    )

    message = rendered["choices"][0]["message"]
    assert message["content"] is None and message["refusal"] == "no"
    assert SdkCompletion.model_validate(rendered).choices[0].message.refusal == "no"
    plain = response_to_openai(response_from_openai(upstream({"content": None})), model="m")
    assert plain["choices"][0]["message"]["content"] == "", "no refusal, no tool call: empty text as before"
    both = response_to_openai(response_from_openai(upstream({"content": "a", "refusal": "b"})), model="m")
    assert both["choices"][0]["message"]["content"] == "a"
