"""The official OpenAI SDK against the local stack, once per upstream protocol.

`protocols_catalog.json` routes three models to the stack's upstream simulator, each through one
protocol: OpenAI-compatible (``via-openai``), the Anthropic Messages API (``via-anthropic``) and
Bedrock Converse / ConverseStream (``via-bedrock``: the stack points ``bedrock-runtime`` at the
simulator, and the gateway calls it with boto3 as it calls AWS). The simulator decides its answer
before it speaks any protocol, so a request must come back with the same text, finish reason and
usage whichever route served it: the tests compare every protocol with the expected answer, and
the translated routes with the OpenAI-compatible one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
from support.stack import RunningStack, start_stack, stop_stack
from test_chat_openai_sdk import TOOLS, png, user

CATALOG = Path(__file__).with_name("protocols_catalog.json")
# Bedrock twice: as a Claude model (Claude's rules apply) and as another model (they do not).
PROTOCOLS = ["via-openai", "via-anthropic", "via-bedrock", "via-bedrock-other"]
TRANSLATED = ["via-anthropic", "via-bedrock", "via-bedrock-other"]
COST = 3  # credit_cost of each model of the catalog


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(
        tmp_path_factory.mktemp("protocols"), extra_env={"SLUICE_CATALOG_FILE": str(CATALOG)}
    )
    yield running
    stop_stack(running)


# Each protocol's requests come from a loopback address of their own: the stack's per-IP chat limit
# (48 a minute, exact) would otherwise refuse the module's later requests.
SOURCE = {
    "via-openai": "127.0.0.2",
    "via-anthropic": "127.0.0.3",
    "via-bedrock": "127.0.0.4",
    "via-bedrock-other": "127.0.0.5",
}


def sdk(stack: RunningStack, model: str, key: str | None = None) -> Any:
    """The SDK client for one protocol's model, from that protocol's source address."""
    http = httpx2.Client(transport=httpx2.HTTPTransport(local_address=SOURCE[model]))
    return openai.OpenAI(
        base_url=f"{stack.base_url}/v1", api_key=key or stack.api_key, max_retries=0, http_client=http
    )


def answer(stack: RunningStack, model: str, **params: Any) -> tuple[str, str, dict[str, int]]:
    """Text, finish reason and usage of one non-streaming completion."""
    completion = sdk(stack, model).chat.completions.create(model=model, **params)
    usage = completion.usage
    return (
        completion.choices[0].message.content,
        completion.choices[0].finish_reason,
        {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens},
    )


def test_the_catalog_lists_one_model_per_route(stack: RunningStack) -> None:
    assert [m.id for m in sdk(stack, "via-openai").models.list().data] == PROTOCOLS


@pytest.mark.parametrize("model", PROTOCOLS)
def test_create_returns_the_simulators_answer_with_real_usage(stack: RunningStack, model: str) -> None:
    raw = sdk(stack, model).chat.completions.with_raw_response.create(
        model=model, messages=user("Hello from the SDK")
    )
    completion = raw.parse()

    text = completion.choices[0].message.content
    assert completion.id.startswith("chatcmpl-") and completion.model == model
    assert text.startswith("Simulated reply to: Hello from the SDK")
    assert completion.usage.prompt_tokens == 4 and completion.usage.completion_tokens == len(text.split())
    assert completion.choices[0].finish_reason == "stop"
    assert raw.headers["x-sluice-model"] == model and int(raw.headers["x-credits-remaining"]) > 0


@pytest.mark.parametrize("model", TRANSLATED)
def test_a_translated_route_answers_as_the_openai_compatible_one(stack: RunningStack, model: str) -> None:
    params: dict[str, Any] = {
        "messages": [{"role": "system", "content": "Be brief."}, *user("Compare the routes, please")],
        "max_tokens": 9,
    }

    assert answer(stack, model, **params) == answer(stack, "via-openai", **params)


@pytest.mark.parametrize("model", PROTOCOLS)
def test_stream_with_include_usage(stack: RunningStack, model: str) -> None:
    stream = sdk(stack, model).chat.completions.create(
        model=model, messages=user("stream to me"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Simulated reply to: stream to me")
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 5, "token by token"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(text.split())
    assert {c.model for c in chunks} == {model}


def tool_step(client: Any, model: str, **params: Any) -> tuple[Any, Any, list[Any]]:
    """A tool loop's first step: the answer, its one call, and the history with the call's result
    (as the OpenAI SDK keeps the answer)."""
    messages: list[Any] = user("What is the weather in Zagreb? Use the get_weather tool.")
    first = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, **params)
    [call] = first.choices[0].message.tool_calls
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
    ]
    return first, call, messages


@pytest.mark.parametrize("model", PROTOCOLS)
def test_tool_call_round_trip(stack: RunningStack, model: str) -> None:
    client = sdk(stack, model)

    first, call, messages = tool_step(client, model)
    assert first.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)

    second = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)

    assert second.choices[0].message.content.startswith("Tool result received: 18 degrees and sunny")
    assert second.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_conversation_with_tool_calls_goes_on_without_tools(stack: RunningStack, model: str) -> None:
    """Clients drop ``tools`` once they want a plain answer; Bedrock needs the called tools declared."""
    client = sdk(stack, model)
    _, _, messages = tool_step(client, model)
    messages.append({"role": "user", "content": "Thanks. Now just say it in words."})

    second = client.chat.completions.create(model=model, messages=messages)

    assert second.choices[0].finish_reason == "stop" and not second.choices[0].message.tool_calls
    assert second.choices[0].message.content.startswith("Simulated reply to: Thanks.")


@pytest.mark.parametrize("model", PROTOCOLS)
def test_json_modes(stack: RunningStack, model: str) -> None:
    client = sdk(stack, model)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}},
        "required": ["city", "temperature"],
    }

    as_object = client.chat.completions.create(
        model=model, messages=user("weather as JSON"), response_format={"type": "json_object"}
    )
    as_schema = client.chat.completions.create(
        model=model,
        messages=user("weather by schema"),
        response_format={"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}},
    )

    assert isinstance(json.loads(as_object.choices[0].message.content), dict)
    shaped = json.loads(as_schema.choices[0].message.content)
    assert isinstance(shaped["city"], str) and isinstance(shaped["temperature"], int | float)


@pytest.mark.parametrize("model", PROTOCOLS)
def test_stop_sequences(stack: RunningStack, model: str) -> None:
    stopped = sdk(stack, model).chat.completions.create(
        model=model, messages=user("stop early"), stop=["reply"]
    )

    assert stopped.choices[0].message.content == "Simulated"
    assert stopped.choices[0].finish_reason == "stop"


def test_n_choices_where_the_protocol_has_them(stack: RunningStack) -> None:
    two = sdk(stack, "via-openai").chat.completions.create(
        model="via-openai", messages=user("give me two"), n=2
    )

    assert [c.index for c in two.choices] == [0, 1]
    assert two.choices[0].message.content != two.choices[1].message.content


@pytest.mark.parametrize("model", TRANSLATED)
def test_n_above_one_is_refused_where_the_protocol_has_no_n(stack: RunningStack, model: str) -> None:
    """Anthropic and Bedrock answer one choice per call: a 400 naming ``n``, not one choice of two."""
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(stack, model).chat.completions.create(model=model, messages=user("give me two"), n=2)

    assert refused.value.param == "n"


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_data_url_image_reaches_the_upstream(stack: RunningStack, model: str) -> None:
    image = "data:image/png;base64," + base64.b64encode(png(4, 3)).decode()
    content = [{"type": "text", "text": "describe it"}, {"type": "image_url", "image_url": {"url": image}}]

    completion = sdk(stack, model).chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}]
    )

    assert completion.choices[0].message.content.startswith("Simulated reply to: describe it")
    assert completion.usage.prompt_tokens == 2 + 85, "the simulator counted the image part"


@pytest.mark.parametrize("model", PROTOCOLS)
def test_reasoning_arrives_as_reasoning_content(stack: RunningStack, model: str) -> None:
    """``reasoning_effort`` reaches a Claude route as adaptive thinking at that effort. The client's
    temperature and top_p, which Claude refuses while it thinks, are left out on Claude routes
    (the simulator's Anthropic and Bedrock front ends refuse them as Claude does)."""
    stream = sdk(stack, model).chat.completions.create(
        model=model,
        messages=user("think first"),
        reasoning_effort="high",
        temperature=0.3,
        top_p=0.5,
        stream=True,
    )
    chunks = list(stream)

    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert reasoning.strip() and text.startswith("Simulated reply to: think first")


@pytest.mark.parametrize("model", PROTOCOLS)
def test_client_errors_are_typed_sdk_exceptions(stack: RunningStack, model: str) -> None:
    client = sdk(stack, model)

    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=model, messages=user("x"), temperature=3)
    with pytest.raises(openai.AuthenticationError) as unauthenticated:
        sdk(stack, model, "sk_sluice_" + "x" * 43).chat.completions.create(model=model, messages=user("x"))
    with pytest.raises(openai.APIStatusError) as too_large:
        client.chat.completions.create(model=model, messages=user("a" * 300 * 1024))
    with pytest.raises(openai.InternalServerError) as unavailable:
        client.chat.completions.create(model=model, messages=user("[sim:fault=http_503] x"))

    assert bad.value.param == "temperature" and bad.value.code == "invalid_request"
    assert unauthenticated.value.code == "invalid_api_key"
    assert too_large.value.status_code == 413 and too_large.value.code == "request_too_large"
    assert unavailable.value.status_code == 503


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_stream_cut_mid_way_ends_with_an_error_event_and_charges_nothing(
    stack: RunningStack, model: str
) -> None:
    """Read to its end (the gateway settles the call before it ends the response), the stream
    carries tokens, then an error event; the next request's balance shows no charge for it."""
    client = sdk(stack, model)

    def credits_after_one_request() -> int:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=user("x"), max_tokens=1)
        return int(raw.headers["x-credits-remaining"])

    before = credits_after_one_request()
    body = {"model": model, "stream": True, "messages": user("[sim:fault=reset_mid_stream] tell me more")}
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.stream(
        "POST", f"{stack.base_url}/v1/chat/completions", json=body, headers=headers
    ) as response:
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    after = credits_after_one_request()

    payloads = [json.loads(e) for e in events if e != "[DONE]"]
    errors = [i for i, p in enumerate(payloads) if "error" in p]
    text = "".join(
        c["delta"].get("content") or "" for p in payloads[: errors[0]] for c in p.get("choices", [])
    )
    assert response.status_code == 200 and errors, events
    assert text.strip(), "the failure came after the first tokens"
    assert before - after == COST, "only the second successful request was charged"
