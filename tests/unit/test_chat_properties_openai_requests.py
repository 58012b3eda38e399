"""Property tests of OpenAI Chat Completions requests: a request taken to canonical form and back
to OpenAI's format keeps every field it carried (up to spelling the format treats as equal: a
string for one text part, ``stop: "x"`` for ``["x"]``, ``developer`` for ``system``), and reads back
to the same canonical messages."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from support.chat_strategies import (
    SETTINGS,
    fields,
    ident,
    json_object,
    optional,
    probability,
    text,
    text_part,
    tool_call,
    without_none,
)

from shared.chat.from_openai import request_from_openai
from shared.chat.to_openai import request_to_openai
from shared.wire.openai import ChatCompletionRequest

# --- OpenAI requests ---------------------------------------------------------------------------

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
openai_message = st.one_of(
    fields(
        {
            "role": st.sampled_from(["system", "developer"]),
            "content": st.one_of(text, st.lists(text_part, min_size=1, max_size=3)),
        },
        name=ident,
    ),
    fields(
        {
            "role": "user",
            "content": st.one_of(
                text, st.lists(st.one_of(text_part, openai_image_part), min_size=1, max_size=3)
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
        st.one_of(text, st.lists(text_part, min_size=1, max_size=2)),
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


def satisfiable_choice(body: dict[str, Any]) -> dict[str, Any]:
    """A tool choice the tools can satisfy: a named function among them, ``required`` only with
    tools (the others are refused, tests/unit/test_chat_tool_choice.py)."""
    choice, tools = body.get("tool_choice"), body.get("tools") or []
    if isinstance(choice, dict) and tools:
        body["tool_choice"] = {"type": "function", "function": {"name": tools[0]["function"]["name"]}}
    elif (isinstance(choice, dict) or choice == "required") and not tools:
        del body["tool_choice"]
    return body


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
    tools=st.lists(openai_tool, min_size=1, max_size=3, unique_by=lambda t: t["function"]["name"]),
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
).map(satisfiable_choice)


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
