"""Claude's rules on the Claude routes, end to end: the official OpenAI SDK against the local
stack, through the Anthropic Messages and Bedrock Converse front ends of the simulator, which
refuse what Claude refuses (shared/chat/claude_rules.py; the OpenAI-compatible route and Bedrock
as another model are the controls). The stack, its catalog and the SDK clients are test_chat_upstream_protocols.py's."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from support.stack import RunningStack
from test_chat_openai_sdk import TOOLS, user
from test_chat_upstream_protocols import PROTOCOLS, answer, sdk, stack, tool_step

__all__ = ["stack"]  # the module-scoped stack fixture, started once for this module
CLAUDE_ROUTES = ("via-anthropic", "via-bedrock")


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_forced_tool_call_is_made_when_reasoning_is_asked_for_too(stack: RunningStack, model: str) -> None:
    """Claude refuses a forced tool call while it thinks, and an effort above high without
    thinking (the simulator's Anthropic and Bedrock front ends too): on Claude routes the call
    wins, thinking is left out and the effort goes as high."""
    completion = sdk(stack, model).chat.completions.create(
        model=model,
        messages=user("What is the weather in Zagreb? Use the get_weather tool."),
        tools=TOOLS,
        tool_choice="required",
        reasoning_effort="max",
    )

    [call] = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_tool_loop_sent_back_as_the_sdk_keeps_it_thinks_at_every_step(
    stack: RunningStack, model: str
) -> None:
    """While Claude thinks, a last assistant turn that called tools must start with its signed
    thinking (the simulator refuses it otherwise, as Claude does). A Claude route's answer carries
    it as ``thinking_blocks``, which the SDK's message keeps, so the loop's next step thinks too."""
    client = sdk(stack, model)

    first, _, messages = tool_step(client, model, reasoning_effort="high")
    second = client.chat.completions.create(
        model=model, messages=messages, tools=TOOLS, reasoning_effort="high"
    )

    blocks = (first.choices[0].message.model_extra or {}).get("thinking_blocks")
    assert blocks or model not in CLAUDE_ROUTES, "a Claude route's answer carries its signed thinking"
    assert (second.choices[0].message.model_extra or {}).get("reasoning_content"), "the second step thought"
    assert second.choices[0].message.content.startswith("Tool result received: 18 degrees and sunny")


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_streamed_tool_loop_sent_back_by_the_sdks_stream_helper_thinks_too(
    stack: RunningStack, model: str
) -> None:
    """The SDK's stream helper accumulates the ``thinking_blocks`` deltas into its final message."""
    client = sdk(stack, model)
    messages: list[Any] = user("What is the weather in Zagreb? Use the get_weather tool.")
    with client.chat.completions.stream(
        model=model, messages=messages, tools=TOOLS, reasoning_effort="high"
    ) as stream:
        first = stream.get_final_completion().choices[0].message
    [call] = first.tool_calls
    messages += [
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
    ]

    second = client.chat.completions.create(
        model=model, messages=messages, tools=TOOLS, reasoning_effort="high"
    )

    assert (second.choices[0].message.model_extra or {}).get("reasoning_content"), "the second step thought"


@pytest.mark.parametrize("model", PROTOCOLS)
def test_a_tool_loop_sent_back_without_its_signed_thinking_goes_on(stack: RunningStack, model: str) -> None:
    """A client that keeps only ``reasoning_content`` (unsigned, which Claude cannot take back):
    on Claude routes the loop's next step is asked without thinking."""
    client = sdk(stack, model)

    _, _, messages = tool_step(client, model, reasoning_effort="high")
    messages[1].pop("thinking_blocks", None)
    second = client.chat.completions.create(
        model=model, messages=messages, tools=TOOLS, reasoning_effort="high"
    )

    assert second.choices[0].message.content.startswith("Tool result received: 18 degrees and sunny")


@pytest.mark.parametrize("model", PROTOCOLS)
def test_temperature_and_top_p_together(stack: RunningStack, model: str) -> None:
    """OpenAI clients often send both; Claude since 4.1 takes only one (the simulator's Anthropic
    front end refuses both, as Claude does), so the Anthropic route sends the temperature."""
    text, finish, _ = answer(stack, model, messages=user("sample"), temperature=0.5, top_p=0.9)

    assert text.startswith("Simulated reply to: sample") and finish == "stop"


def test_a_whitespace_stop_sequence_is_refused_where_claude_refuses_it(stack: RunningStack) -> None:
    """Claude refuses a stop sequence of whitespace only (the simulator's Anthropic front end too):
    a 400 naming ``stop`` before any upstream call, where an OpenAI-compatible upstream takes it."""
    with pytest.raises(openai.BadRequestError) as refused:
        answer(stack, "via-anthropic", messages=user("one line"), stop=["END", "\n"])
    text, _, _ = answer(stack, "via-openai", messages=user("one line"), stop=["END", "\n"])

    assert refused.value.param == "stop" and "whitespace" in str(refused.value)
    assert text.startswith("Simulated reply to: one line")
