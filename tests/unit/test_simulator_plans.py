"""The upstream simulator's plans: what a completion says and counts (usage, ``max_tokens`` and
``max_completion_tokens``, stop sequences, reasoning, a tool call turn, fresh ids), and a plan
rendered as stream steps, one token per choice at a time."""

from __future__ import annotations

from support.simulator_requests import WEATHER_SCHEMA, chat, tool

from sluice.simulator.plan import plan_completion
from sluice.simulator.render import completion_body, stream_steps
from sluice.simulator.replies import REASONING_TEXT
from sluice.simulator.tokens import count_tokens, first_tokens

# Plans


def test_usage_counts_the_text_under_the_token_model() -> None:
    plan = plan_completion(chat("Tell me a story about rivers", n=2))
    body = completion_body(plan)

    contents = [choice["message"]["content"] for choice in body["choices"]]
    assert body["usage"]["prompt_tokens"] == 6
    assert body["usage"]["completion_tokens"] == sum(count_tokens(text) for text in contents)
    assert body["usage"]["total_tokens"] == 6 + body["usage"]["completion_tokens"]
    assert contents[0] != contents[1]
    assert [choice["finish_reason"] for choice in body["choices"]] == ["stop", "stop"]


def test_max_tokens_cuts_the_reply_with_finish_reason_length() -> None:
    full = plan_completion(chat()).choices[0].content

    for request in (chat(max_tokens=4), chat(max_completion_tokens=4)):
        choice = plan_completion(request).choices[0]
        assert choice.finish_reason == "length"
        assert choice.content == first_tokens(full, 4)
        assert choice.completion_tokens() == 4


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    assert plan_completion(chat(max_tokens=9, max_completion_tokens=3)).choices[0].completion_tokens() == 3


def test_a_stop_sequence_cuts_the_reply_before_it() -> None:
    choice = plan_completion(chat(stop=["to:", "never-there"])).choices[0]

    assert choice.content == "Simulated reply"
    assert choice.finish_reason == "stop"
    assert plan_completion(chat(stop="reply", max_tokens=1)).choices[0].content == "Simulated"


def test_reasoning_comes_first_and_counts_toward_the_cap() -> None:
    full = plan_completion(chat(reasoning_effort="high")).choices[0]
    capped = plan_completion(chat(thinking={"type": "enabled"}, max_tokens=count_tokens(REASONING_TEXT) + 2))

    assert full.reasoning == REASONING_TEXT
    assert full.completion_tokens() == count_tokens(REASONING_TEXT) + count_tokens(full.content)
    assert capped.choices[0].content == "Simulated reply"
    assert capped.usage()["completion_tokens_details"]["reasoning_tokens"] == count_tokens(REASONING_TEXT)
    assert plan_completion(chat(thinking={"type": "disabled"})).choices[0].reasoning == ""


def test_a_tool_call_turn_has_text_and_calls_and_finishes_with_tool_calls() -> None:
    choice = plan_completion(chat("call get_weather", tools=[tool("get_weather", WEATHER_SCHEMA)])).choices[0]

    assert choice.content == "Calling get_weather."
    assert choice.finish_reason == "tool_calls"
    assert choice.tool_calls[0].name == "get_weather"
    assert choice.tool_calls[0].id.startswith("call_")
    assert choice.completion_tokens() == 2 + 1 + count_tokens(choice.tool_calls[0].arguments)


def test_every_plan_has_a_fresh_id_and_the_requested_model() -> None:
    first, second = plan_completion(chat()), plan_completion(chat())

    assert first.id != second.id
    assert first.id.startswith("chatcmpl-")
    assert first.model == "sim"


# Stream rendering


def test_stream_steps_interleave_choices_one_token_each() -> None:
    plan = plan_completion(chat(n=2, max_tokens=3))

    steps = stream_steps(plan, include_usage=True)

    assert [chunk["choices"][0]["index"] for chunk in steps[0]] == [0, 1]
    assert steps[0][0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    for index, choice in enumerate(plan.choices):
        deltas = [
            chunk["choices"][0]["delta"].get("content", "")
            for step in steps[:-1]
            for chunk in step
            if chunk["choices"][0]["index"] == index
        ]
        assert "".join(deltas) == choice.content
        assert sum(bool(delta) for delta in deltas) == 3
    assert steps[-2][0]["choices"][0]["finish_reason"] == "length"
    assert steps[-1] == [
        {
            **{k: steps[0][0][k] for k in ("id", "object", "created", "model")},
            "choices": [],
            "usage": plan.usage(),
        }
    ]
    assert all(chunk["usage"] is None for step in steps[:-1] for chunk in step)
