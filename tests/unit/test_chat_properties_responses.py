"""Property tests of responses: an OpenAI chat completion or an Anthropic message taken to
canonical form and back to its own wire format keeps every field it carried (up to spelling the
format treats as equal: no content for empty content)."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from support.chat_strategies import (
    SETTINGS,
    fields,
    ident,
    json_object,
    optional,
    text,
    tool_call,
    without_none,
)

from shared.chat.from_anthropic_response import response_from_anthropic
from shared.chat.from_openai_response import response_from_openai
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.chat.to_openai_response import response_to_openai

# --- responses ---------------------------------------------------------------------------------

openai_usage = (
    fields(
        {"prompt_tokens": st.integers(0, 10**6), "completion_tokens": st.integers(0, 10**6)},
        prompt_tokens_details=st.builds(lambda c: {"cached_tokens": c}, st.integers(0, 1000)),
        completion_tokens_details=st.builds(lambda r: {"reasoning_tokens": r}, st.integers(0, 1000)),
    )
).map(lambda u: {**u, "total_tokens": u["prompt_tokens"] + u["completion_tokens"]})
openai_choice_message = fields(
    {"role": "assistant"},
    content=text,
    reasoning_content=text,
    refusal=text,
    tool_calls=st.lists(tool_call, min_size=1, max_size=2),
)

logprob = st.builds(
    lambda t, p: {"token": t, "logprob": p, "bytes": list(t.encode()), "top_logprobs": []},
    text,
    st.floats(-20, 0, allow_nan=False),
)
logprobs = st.builds(lambda c: {"content": c, "refusal": None}, st.lists(logprob, max_size=2))


@st.composite
def openai_response(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 3))
    choices = [
        {
            "index": i,
            "message": draw(openai_choice_message),
            "finish_reason": draw(st.sampled_from(["stop", "length", "tool_calls", "content_filter"])),
            "logprobs": draw(optional(logprobs)),
        }
        for i in range(count)
    ]
    body = {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": draw(st.integers(0, 2**31)),
        "model": "qwen3",
        "choices": choices,
    }
    usage = draw(optional(openai_usage))
    return body if usage is None else {**body, "usage": usage}


def normal_openai_response(body: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for choice in body["choices"]:
        message = without_none(choice["message"])
        message["content"] = message.get("content") or ""
        choices.append({**choice, "message": message})
    return {**body, "choices": choices}


@SETTINGS
@given(openai_response())
def test_openai_response_round_trip_keeps_every_field(body: dict[str, Any]) -> None:
    canonical = response_from_openai(body)
    rendered = response_to_openai(
        canonical, model=body["model"], new_id=lambda: body["id"], created=body["created"]
    )
    assert normal_openai_response(rendered) == normal_openai_response(body)


anthropic_usage = fields(
    {"input_tokens": st.integers(0, 10**6), "output_tokens": st.integers(0, 10**6)},
    cache_creation_input_tokens=st.integers(0, 10**5),
    cache_read_input_tokens=st.integers(0, 10**5),
)
response_block = st.one_of(
    st.builds(lambda t: {"type": "text", "text": t}, text),
    st.builds(lambda t, s: {"type": "thinking", "thinking": t, "signature": s}, text, ident),
    st.builds(lambda d: {"type": "redacted_thinking", "data": d}, ident),
    st.builds(
        lambda i, n, a: {"type": "tool_use", "id": i, "name": n, "input": a}, ident, ident, json_object
    ),
)


@st.composite
def anthropic_response(draw: st.DrawFn) -> dict[str, Any]:
    stop = draw(
        st.sampled_from(
            [
                "end_turn",
                "max_tokens",
                "stop_sequence",
                "tool_use",
                "pause_turn",
                "refusal",
                "model_context_window_exceeded",
            ]
        )
    )
    return {
        "id": "msg_x",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": draw(st.lists(response_block, max_size=4)),
        "stop_reason": stop,
        "stop_sequence": draw(text) if stop == "stop_sequence" else None,
        "usage": draw(anthropic_usage),
    }


@SETTINGS
@given(anthropic_response())
def test_anthropic_response_round_trip_keeps_every_field(body: dict[str, Any]) -> None:
    rendered = response_to_anthropic(
        response_from_anthropic(body), model=body["model"], new_id=lambda: body["id"]
    )
    assert rendered == body
