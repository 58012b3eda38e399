"""Property tests of Anthropic Messages requests: a request taken to canonical form and back to
Anthropic's format keeps every field it carried (up to spelling the format treats as equal: a
string for one text block), except where Claude refuses it; in OpenAI's format no text or tool
call is dropped."""

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.chat_strategies import (
    SETTINGS,
    cache,
    fields,
    ident,
    json_object,
    optional,
    probability,
    text,
    text_part,
    without_none,
)

from shared.chat.canonical import Tool
from shared.chat.from_anthropic import request_from_anthropic
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.errors import InvalidRequest
from shared.wire.anthropic import MessagesRequest

# --- Anthropic requests ------------------------------------------------------------------------

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
    content=st.one_of(text, st.lists(st.one_of(text_part, anthropic_image), min_size=1, max_size=2)),
    is_error=st.just(True),
    cache_control=cache,
)
assistant_block = st.one_of(
    text_part,
    st.builds(lambda t, s: {"type": "thinking", "thinking": t, "signature": s}, text, ident),
    st.builds(lambda d: {"type": "redacted_thinking", "data": d}, ident),
    (fields({"type": "tool_use", "id": ident, "name": ident, "input": json_object}, cache_control=cache)),
)
user_content = st.one_of(
    text, st.lists(st.one_of(text_part, anthropic_image, tool_result), min_size=1, max_size=3)
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
    {"name": ident, "input_schema": json_object.map(lambda schema: {**schema, "type": "object"})},
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


def satisfiable_choice(body: dict[str, Any]) -> dict[str, Any]:
    """A tool choice the tools can satisfy: a named tool among them, ``any`` only with tools (the
    others are refused, tests/unit/test_chat_tool_choice.py)."""
    choice, tools = body.get("tool_choice"), body.get("tools") or []
    if choice is not None and choice["type"] == "tool" and tools:
        body["tool_choice"] = {**choice, "name": tools[0]["name"]}
    elif choice is not None and choice["type"] in {"tool", "any"} and not tools:
        del body["tool_choice"]
    return body


anthropic_request = fields(
    {"model": "claude", "max_tokens": st.integers(1, 64000), "messages": conversation()},
    system=st.one_of(text, st.lists(text_part, min_size=1, max_size=3)),
    temperature=probability,
    top_p=probability,
    top_k=st.integers(0, 500),
    stop_sequences=st.lists(text, min_size=1, max_size=4),
    stream=st.booleans(),
    metadata=st.builds(lambda u: {"user_id": u}, text),
    tools=st.lists(
        st.one_of(custom_tool, server_tool), min_size=1, max_size=3, unique_by=lambda t: t["name"]
    ),
    tool_choice=anthropic_tool_choice,
    thinking=thinking,
    output_config=output_config,
    context_management=st.just({"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}),
    service_tier=st.just("auto"),
).map(satisfiable_choice)


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
