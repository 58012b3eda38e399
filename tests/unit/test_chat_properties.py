"""Property tests: a request or response taken to canonical form and back to its own wire format
keeps every field it carried (up to spelling the format treats as equal: a string for one text
part, ``stop: "x"`` for ``["x"]``); across formats no text or tool call is dropped."""

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.chat.canonical import Tool
from shared.chat.from_anthropic import request_from_anthropic, response_from_anthropic
from shared.chat.from_openai import request_from_openai
from shared.chat.from_openai_response import response_from_openai
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.chat.to_openai_response import response_to_openai
from shared.errors import InvalidRequest
from shared.wire.anthropic import MessagesRequest
from shared.wire.openai import ChatCompletionRequest

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(min_size=1, max_size=12)
ident = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True)
scalars = st.one_of(st.integers(-1000, 1000), text, st.booleans())
json_object = st.dictionaries(ident, st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=3)
cache = st.sampled_from([{"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}])
probability = st.floats(0, 1, allow_nan=False)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def fields(draw: st.DrawFn, required: dict[str, Any], **optional_fields: st.SearchStrategy[Any]) -> dict:
    """A dict with the required entries (values or strategies) and any subset of the optional ones."""
    out = {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in required.items()}
    chosen = draw(st.sets(st.sampled_from(sorted(optional_fields)))) if optional_fields else set()
    out.update({name: draw(optional_fields[name]) for name in sorted(chosen)})
    return out


# --- OpenAI requests ---------------------------------------------------------------------------

openai_text_part = st.builds(
    lambda t, c: without_none({"type": "text", "text": t, "cache_control": c}), text, optional(cache)
)
openai_image_part = st.one_of(
    st.builds(lambda d: {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{d}"}}, ident),
    st.builds(
        lambda p, detail: {
            "type": "image_url",
            "image_url": without_none({"url": f"https://x.test/{p}", "detail": detail}),
        },
        ident,
        optional(st.sampled_from(["auto", "low", "high"])),
    ),
)
tool_call = st.builds(
    lambda i, n, args: {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(args)}},
    ident,
    ident,
    json_object,
)
openai_message = st.one_of(
    fields(
        {
            "role": st.sampled_from(["system", "developer"]),
            "content": st.one_of(text, st.lists(openai_text_part, min_size=1, max_size=3)),
        },
        name=ident,
    ),
    fields(
        {
            "role": "user",
            "content": st.one_of(
                text, st.lists(st.one_of(openai_text_part, openai_image_part), min_size=1, max_size=3)
            ),
        },
        name=ident,
    ),
    fields({"role": "assistant", "content": text}, reasoning_content=text, refusal=text, name=ident),
    fields(
        {"role": "assistant", "tool_calls": st.lists(tool_call, min_size=1, max_size=2)},
        content=text,
        reasoning_content=text,
    ),
    st.builds(
        lambda i, c: {"role": "tool", "tool_call_id": i, "content": c},
        ident,
        st.one_of(text, st.lists(openai_text_part, min_size=1, max_size=2)),
    ),
)
openai_tool = st.builds(
    lambda f: {"type": "function", "function": f},
    fields({"name": ident}, description=text, parameters=json_object, strict=st.booleans()),
)
openai_response_format = st.one_of(
    st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
    st.builds(
        lambda spec: {"type": "json_schema", "json_schema": spec},
        fields({"name": ident}, schema=json_object, strict=st.booleans(), description=text),
    ),
)
openai_request = fields(
    {
        "model": "qwen3",
        "messages": st.lists(openai_message, min_size=1, max_size=5),
    },
    stream=st.booleans(),
    stream_options=st.builds(lambda u: {"include_usage": u}, st.booleans()),
    temperature=st.floats(0, 2, allow_nan=False),
    top_p=probability,
    top_k=st.integers(-1, 100),
    max_tokens=st.integers(1, 10**6),
    n=st.integers(1, 8),
    stop=st.one_of(text, st.lists(text, min_size=1, max_size=4)),
    frequency_penalty=st.floats(-2, 2, allow_nan=False),
    presence_penalty=st.floats(-2, 2, allow_nan=False),
    user=text,
    seed=st.integers(-(2**31), 2**31),
    logprobs=st.booleans(),
    top_logprobs=st.integers(0, 20),
    response_format=openai_response_format,
    tools=st.lists(openai_tool, min_size=1, max_size=3),
    tool_choice=st.one_of(
        st.sampled_from(["none", "auto", "required"]),
        st.builds(lambda n: {"type": "function", "function": {"name": n}}, ident),
    ),
    parallel_tool_calls=st.booleans(),
    reasoning_effort=st.sampled_from(["none", "minimal", "low", "medium", "high", "xhigh", "max"]),
    thinking=st.one_of(
        st.just({"type": "disabled"}),
        fields({"type": "enabled"}, budget_tokens=st.integers(1, 10**5)),
    ),
    repetition_penalty=st.floats(0.5, 2, allow_nan=False),
    chat_template_kwargs=json_object,
)


def normal_openai_content(content: Any) -> list[Any]:
    if content is None or content == "":
        return []
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def normal_openai(body: dict[str, Any]) -> dict[str, Any]:
    out = without_none({k: v for k, v in body.items() if k != "stream_options"})
    out["stream"] = bool(out.get("stream"))
    if isinstance(out.get("stop"), str):
        out["stop"] = [out["stop"]]
    messages = []
    for original in out["messages"]:
        message = without_none(original)
        message["role"] = "system" if message["role"] == "developer" else message["role"]
        message["content"] = normal_openai_content(message.get("content"))
        messages.append(message)
    out["messages"] = messages
    return out


@SETTINGS
@given(openai_request)
def test_openai_request_round_trip_keeps_every_field(body: dict[str, Any]) -> None:
    canonical = request_from_openai(ChatCompletionRequest.model_validate(body))
    rendered = request_to_openai(canonical)
    assert normal_openai(rendered) == normal_openai(body)
    assert canonical.include_usage == bool(body.get("stream_options", {}).get("include_usage"))
    assert request_from_openai(ChatCompletionRequest.model_validate(rendered)).messages == canonical.messages


# --- Anthropic requests ------------------------------------------------------------------------

anthropic_text = st.builds(
    lambda t, c: without_none({"type": "text", "text": t, "cache_control": c}), text, optional(cache)
)
anthropic_image = st.builds(
    lambda source, c: without_none({"type": "image", "source": source, "cache_control": c}),
    st.one_of(
        st.builds(
            lambda mt, d: {"type": "base64", "media_type": mt, "data": d},
            st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"]),
            ident,
        ),
        st.builds(lambda p: {"type": "url", "url": f"https://x.test/{p}"}, ident),
    ),
    optional(cache),
)
tool_result = fields(
    {"type": "tool_result", "tool_use_id": ident},
    content=st.one_of(text, st.lists(st.one_of(anthropic_text, anthropic_image), min_size=1, max_size=2)),
    is_error=st.just(True),
    cache_control=cache,
)
assistant_block = st.one_of(
    anthropic_text,
    st.builds(lambda t, s: {"type": "thinking", "thinking": t, "signature": s}, text, ident),
    st.builds(lambda d: {"type": "redacted_thinking", "data": d}, ident),
    (fields({"type": "tool_use", "id": ident, "name": ident, "input": json_object}, cache_control=cache)),
)
user_content = st.one_of(
    text, st.lists(st.one_of(anthropic_text, anthropic_image, tool_result), min_size=1, max_size=3)
)
assistant_content = st.one_of(text, st.lists(assistant_block, min_size=1, max_size=3))


@st.composite
def conversation(draw: st.DrawFn) -> list[dict[str, Any]]:
    turns = draw(st.integers(1, 5))
    return [
        {"role": "user", "content": draw(user_content)}
        if i % 2 == 0
        else {"role": "assistant", "content": draw(assistant_content)}
        for i in range(turns)
    ]


custom_tool = fields(
    {"name": ident, "input_schema": json_object},
    description=text,
    cache_control=cache,
    strict=st.booleans(),
    defer_loading=st.booleans(),
    type=st.just("custom"),
)
server_tool = st.builds(
    lambda n, u: {"type": "web_search_20250305", "name": n, "max_uses": u}, ident, st.integers(1, 5)
)
anthropic_tool_choice = st.one_of(
    st.just({"type": "none"}),
    (fields({"type": st.sampled_from(["auto", "any"])}, disable_parallel_tool_use=st.booleans())),
    (fields({"type": "tool", "name": ident}, disable_parallel_tool_use=st.booleans())),
)
thinking = st.one_of(
    st.sampled_from([{"type": "disabled"}, {"type": "between_tools"}]),
    (
        fields(
            {"type": "enabled", "budget_tokens": st.integers(1024, 10**5)},
            display=st.sampled_from(["summarized", "omitted"]),
        )
    ),
    (fields({"type": "adaptive"}, display=st.sampled_from(["summarized", "omitted"]))),
)
output_config = (
    fields(
        {},
        effort=st.sampled_from(["low", "medium", "high", "xhigh", "max"]),
        format=st.builds(lambda s: {"type": "json_schema", "schema": s}, json_object),
    )
).filter(bool)
anthropic_request = fields(
    {"model": "claude", "max_tokens": st.integers(1, 64000), "messages": conversation()},
    system=st.one_of(text, st.lists(anthropic_text, min_size=1, max_size=3)),
    temperature=probability,
    top_p=probability,
    top_k=st.integers(0, 500),
    stop_sequences=st.lists(text, min_size=1, max_size=4),
    stream=st.booleans(),
    metadata=st.builds(lambda u: {"user_id": u}, text),
    tools=st.lists(st.one_of(custom_tool, server_tool), min_size=1, max_size=3),
    tool_choice=anthropic_tool_choice,
    thinking=thinking,
    output_config=output_config,
    context_management=st.just({"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}),
    service_tier=st.just("auto"),
)


def normal_blocks(content: Any) -> list[dict[str, Any]]:
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    return [normal_block(b) for b in blocks]


def normal_block(block: dict[str, Any]) -> dict[str, Any]:
    if block["type"] != "tool_result" or "content" not in block:
        return block
    return {**block, "content": normal_blocks(block["content"])}


def normal_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    out["stream"] = bool(out.get("stream"))
    if "system" in out:
        out["system"] = normal_blocks(out["system"])
    out["messages"] = [{"role": m["role"], "content": normal_blocks(m["content"])} for m in out["messages"]]
    return out


WHITESPACE_STOP = {
    "model": "claude",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": [{"type": "text", "text": "0"}]}],
    "stop_sequences": ["END", " \n"],
}


@SETTINGS
@given(anthropic_request)
@example(WHITESPACE_STOP)
def test_anthropic_request_round_trip_keeps_every_field(body: dict[str, Any]) -> None:
    """Every field comes back, except where Claude refuses the request: a stop sequence of
    whitespace only is then a 400 naming ``stop``, before any upstream call."""
    canonical = request_from_anthropic(MessagesRequest.model_validate(body))
    if any(not stop.strip() for stop in canonical.stop):
        with pytest.raises(InvalidRequest) as refused:
            request_to_anthropic(canonical)
        assert refused.value.param == "stop"
        return
    rendered = request_to_anthropic(canonical)
    assert normal_anthropic(rendered) == normal_anthropic(body)


@SETTINGS
@given(anthropic_request)
def test_anthropic_request_to_openai_drops_no_text_or_tool_call(body: dict[str, Any]) -> None:
    canonical = request_from_anthropic(MessagesRequest.model_validate(body))
    tools = [t for t in canonical.tools if isinstance(t, Tool)]
    rendered = request_to_openai(replace(canonical, tools=tuple(tools)))
    dumped = json.dumps(rendered["messages"], ensure_ascii=False)
    for message in body["messages"]:
        for block in normal_blocks(message["content"]):
            for piece in _texts(block):
                assert json.dumps(piece, ensure_ascii=False)[1:-1] in dumped
    calls = [c["id"] for m in rendered["messages"] for c in m.get("tool_calls", [])]
    results = [m["tool_call_id"] for m in rendered["messages"] if m["role"] == "tool"]
    blocks = [b for m in body["messages"] for b in normal_blocks(m["content"])]
    assert calls == [b["id"] for b in blocks if b["type"] == "tool_use"]
    assert results == [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]


def _texts(block: dict[str, Any]) -> list[str]:
    if block["type"] in ("text",):
        return [block["text"]]
    if block["type"] == "thinking":
        return [block["thinking"]]
    if block["type"] == "tool_result":
        return [t for b in normal_blocks(block.get("content", [])) for t in _texts(b)]
    return []


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


@st.composite
def openai_response(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 3))
    choices = [
        {
            "index": i,
            "message": draw(openai_choice_message),
            "finish_reason": draw(st.sampled_from(["stop", "length", "tool_calls", "content_filter"])),
            "logprobs": None,
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
