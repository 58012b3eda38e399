"""Logprobs from an OpenAI-compatible upstream to an OpenAI client: parsed with the choice (not
streamed) or with the text they came with (streamed), rendered where they came from; Anthropic
clients never see them."""

import json
from typing import Any

from support.chat_streams import chunk, render_anthropic, render_openai

from shared.chat import events as ev
from shared.chat.canonical import ChatResponse, Choice, FinishReason, Text
from shared.chat.from_openai_response import response_from_openai
from shared.chat.stream_openai import OpenAIChunkParser, parse_openai_chunks
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.chat.to_openai_response import response_to_openai


def logprobs(*tokens: str) -> dict[str, Any]:
    entries = [{"token": t, "logprob": -0.25, "bytes": list(t.encode()), "top_logprobs": []} for t in tokens]
    return {"content": entries, "refusal": None}


def completion(choice_logprobs: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": "Hi there"}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": choice_logprobs}
    return {"id": "up", "model": "up", "choices": [choice]}


# --- not streamed ------------------------------------------------------------------------------


def test_a_choice_keeps_its_logprobs_and_the_client_gets_them() -> None:
    answer = response_from_openai(completion(logprobs("Hi", " there")))

    assert answer.choices[0].logprobs == logprobs("Hi", " there")
    rendered = response_to_openai(answer, model="m")
    assert rendered["choices"][0]["logprobs"] == logprobs("Hi", " there")


def test_no_logprobs_or_a_malformed_value_stay_null() -> None:
    values: tuple[Any, ...] = (None, [], "x", 1)
    for value in values:
        answer = response_from_openai(completion(value))
        assert answer.choices[0].logprobs is None
        assert response_to_openai(answer, model="m")["choices"][0]["logprobs"] is None


def test_anthropic_clients_never_see_logprobs() -> None:
    answer = ChatResponse("up", "up", (Choice(0, (Text("Hi"),), logprobs=logprobs("Hi")),))

    assert "logprobs" not in json.dumps(response_to_anthropic(answer, model="m"))


# --- streamed ----------------------------------------------------------------------------------

START = chunk({"role": "assistant", "content": ""}, logprobs=None)


def test_each_text_delta_carries_the_logprobs_of_its_chunk() -> None:
    chunks = [
        START,
        chunk({"content": "Hi"}, logprobs=logprobs("Hi")),
        chunk({"content": " there"}, logprobs=logprobs(" there")),
        chunk({}, "stop", logprobs=None),
    ]

    events = list(parse_openai_chunks(chunks))

    assert [e for e in events if isinstance(e, ev.TextDelta)] == [
        ev.TextDelta("Hi", logprobs=logprobs("Hi")),
        ev.TextDelta(" there", logprobs=logprobs(" there")),
    ]


def test_the_fast_path_reads_logprobs_as_the_model_does() -> None:
    fast, model = OpenAIChunkParser(), OpenAIChunkParser()
    fast.feed_json(json.dumps(START))
    model.feed(START)
    for item in (
        chunk({"content": "Hi"}, logprobs=logprobs("Hi")),
        chunk({"reasoning_content": "hm", "content": "ok"}, logprobs=logprobs("hm", "ok")),
        chunk({"content": "x"}, logprobs=["not", "an", "object"]),
    ):
        events = fast.feed_json(json.dumps(item))
        assert (events if events is not None else fast.feed(item)) == model.feed(item)
    assert fast.feed_json(json.dumps(chunk({"content": "Hi"}, logprobs=logprobs("Hi")))) == [
        ev.TextDelta("Hi", logprobs=logprobs("Hi"))
    ]


def test_a_chunk_of_several_texts_gives_its_logprobs_to_the_first_only() -> None:
    both = chunk({"reasoning_content": "hm", "content": "ok"}, logprobs=logprobs("hm", "ok"))

    events = list(parse_openai_chunks([START, both]))[1:]

    assert events == [ev.ReasoningDelta("hm", logprobs=logprobs("hm", "ok")), ev.TextDelta("ok")]


def test_the_client_gets_logprobs_on_the_chunk_with_their_text() -> None:
    events: list[ev.StreamEvent] = [
        ev.Start(),
        ev.ReasoningDelta("hm", logprobs=logprobs("hm")),
        ev.TextDelta("Hi", logprobs=logprobs("Hi")),
        ev.TextDelta("!"),
        ev.Finish(FinishReason.STOP),
    ]

    chunks = render_openai(events)

    assert [(c["choices"][0]["delta"], c["choices"][0]["logprobs"]) for c in chunks] == [
        ({"role": "assistant", "content": ""}, None),
        ({"reasoning_content": "hm"}, logprobs("hm")),
        ({"content": "Hi"}, logprobs("Hi")),
        ({"content": "!"}, None),
        ({}, None),
    ]


def test_a_later_choice_gets_its_role_chunk_first_and_its_logprobs_after() -> None:
    chunks = render_openai([ev.Start(), ev.TextDelta("Yo", choice=1, logprobs=logprobs("Yo"))])[1:-1]

    assert [
        (c["choices"][0]["index"], c["choices"][0]["delta"], c["choices"][0]["logprobs"]) for c in chunks
    ] == [
        (1, {"role": "assistant", "content": ""}, None),
        (1, {"content": "Yo"}, logprobs("Yo")),
    ]


def test_upstream_chunks_to_client_chunks_keep_logprobs_in_place() -> None:
    upstream = [
        START,
        chunk({"content": "Hi"}, logprobs=logprobs("Hi")),
        chunk({"content": " there"}, "stop", logprobs=logprobs(" there")),
    ]

    rendered = render_openai(list(parse_openai_chunks(upstream)))

    assert [c["choices"][0]["logprobs"] for c in rendered] == [None, logprobs("Hi"), logprobs(" there"), None]
    assert [c["choices"][0]["delta"].get("content") for c in rendered] == ["", "Hi", " there", None]


def test_anthropic_stream_clients_never_see_logprobs() -> None:
    plain: list[ev.StreamEvent] = [ev.Start(), ev.TextDelta("Hi"), ev.Finish(FinishReason.STOP)]
    with_logprobs: list[ev.StreamEvent] = [
        ev.Start(),
        ev.TextDelta("Hi", logprobs=logprobs("Hi")),
        ev.Finish(FinishReason.STOP),
    ]

    assert render_anthropic(with_logprobs) == render_anthropic(plain)
