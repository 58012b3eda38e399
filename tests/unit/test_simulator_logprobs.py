"""The simulator's logprobs: asked for, every content token comes with its own (logprob 0, the
simulator being certain of each word), on the chunk carrying it when streamed; not asked for,
``logprobs`` stays null as before."""

from __future__ import annotations

from support.simulator_requests import chat

from sluice.simulator.plan import plan_completion
from sluice.simulator.render import completion_body, stream_steps
from sluice.simulator.tokens import split_tokens


def test_a_completion_asked_for_logprobs_has_one_per_content_token() -> None:
    body = completion_body(plan_completion(chat(logprobs=True, top_logprobs=2)))

    choice = body["choices"][0]
    entries = choice["logprobs"]["content"]
    assert [e["token"] for e in entries] == split_tokens(choice["message"]["content"])
    assert choice["logprobs"]["refusal"] is None
    first = entries[0]
    assert first["logprob"] == 0.0 and bytes(first["bytes"]).decode() == first["token"]
    assert first["top_logprobs"] == [{"token": first["token"], "logprob": 0.0, "bytes": first["bytes"]}]


def test_top_logprobs_zero_gives_no_alternatives_and_top_logprobs_alone_asks_for_nothing() -> None:
    body = completion_body(plan_completion(chat(logprobs=True)))
    unasked = plan_completion(chat(top_logprobs=3))

    assert {len(e["top_logprobs"]) for e in body["choices"][0]["logprobs"]["content"]} == {0}
    assert completion_body(unasked)["choices"][0]["logprobs"] is None
    assert {step[0]["choices"][0]["logprobs"] is None for step in stream_steps(unasked)} == {True}


def test_each_streamed_content_chunk_carries_the_logprobs_of_its_token() -> None:
    steps = stream_steps(plan_completion(chat(logprobs=True, reasoning_effort="low")))
    choices = [step[0]["choices"][0] for step in steps]

    with_text = [c for c in choices if c["delta"].get("content")]
    assert with_text and all(
        [e["token"] for e in c["logprobs"]["content"]] == [c["delta"]["content"]] for c in with_text
    )
    assert all(c["logprobs"] is None for c in choices if not c["delta"].get("content"))
    assert any(c["delta"].get("reasoning_content") for c in choices)
