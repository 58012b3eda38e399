"""The upstream simulator's text: its token model (words with their spacing, stop sequences,
chunks, prompt tokens), the messages it accepts, and its reply text (quoted prompts, a length that
follows the prompt, a different reply per choice, a tool result quoted back, JSON for a response
format)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError
from support.simulator_requests import WEATHER_SCHEMA, chat, tool

from sluice.simulator.replies import (
    FILLER_MIN,
    FILLER_SPREAD,
    content_text,
    quote,
    reply_text,
)
from sluice.simulator.tokens import (
    IMAGE_PART_TOKENS,
    chunk_text,
    count_tokens,
    cut_at_stop,
    first_tokens,
    split_tokens,
)
from sluice.simulator.tool_calls import tools_to_call
from sluice.simulator.wire import ChatRequest

# Token model


def test_a_token_is_a_whitespace_separated_word_and_pieces_rebuild_the_text() -> None:
    text = "Simulated  reply\tto: hello\nworld"

    pieces = split_tokens(text)

    assert count_tokens(text) == 5 == len(pieces)
    assert "".join(pieces) == text
    assert pieces[0] == "Simulated"
    assert all(piece.strip() for piece in pieces)


def test_first_tokens_keeps_the_original_spacing() -> None:
    assert first_tokens("one two  three four", 3) == "one two  three"
    assert first_tokens("one two", 0) == ""


def test_cut_at_stop_cuts_before_the_earliest_stop_sequence() -> None:
    assert cut_at_stop("alpha beta gamma delta", ["delta", "beta"]) == ("alpha", "beta")
    assert cut_at_stop("alpha beta", ["zeta", ""]) == ("alpha beta", None)


def test_chunk_text_splits_into_at_least_two_chunks() -> None:
    for text in ["{}", '{"city": "sample"}', "x" * 50]:
        chunks = chunk_text(text)
        assert len(chunks) >= 2
        assert "".join(chunks) == text


def test_prompt_tokens_count_words_of_every_message_plus_a_fixed_count_per_image() -> None:
    request = ChatRequest.model_validate(
        {
            "model": "sim",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                        {"type": "text", "text": "this picture?"},
                    ],
                },
            ],
        }
    )

    assert request.prompt_tokens() == 2 + 3 + 2 + IMAGE_PART_TOKENS


def test_unknown_roles_and_content_parts_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate({"model": "sim", "messages": [{"role": "robot", "content": "hi"}]})
    with pytest.raises(ValidationError):
        ChatRequest.model_validate(
            {"model": "sim", "messages": [{"role": "user", "content": [{"type": "video", "video": {}}]}]}
        )


# Reply text


def test_quote_collapses_whitespace_strips_markers_and_cuts_at_60_characters() -> None:
    assert quote("  hello \n world [sim:fault=http_503] ") == "hello world"
    long = "word " * 30

    quoted = quote(long)

    assert quoted.endswith(" ...")
    assert len(quoted.removesuffix(" ...")) <= 60
    assert quote("[sim:fault=hang]") == "(no text)"


def test_reply_text_is_deterministic_and_its_length_follows_the_prompt() -> None:
    lead = "Simulated reply to: hi"

    first = reply_text(lead, prompt_tokens=5)

    assert first == reply_text(lead, prompt_tokens=5)
    assert first.startswith(lead + " ")
    assert count_tokens(first) == count_tokens(lead) + FILLER_MIN + 5 % FILLER_SPREAD
    assert count_tokens(reply_text(lead, prompt_tokens=6)) == count_tokens(first) + 1


def test_each_choice_gets_a_different_marked_reply() -> None:
    replies = [reply_text("Simulated reply to: hi", 3, index) for index in range(4)]

    assert len(set(replies)) == 4
    assert "(choice" not in replies[0]
    assert "(choice 2)" in replies[2]


def test_after_a_tool_result_the_reply_quotes_it() -> None:
    request = ChatRequest.model_validate(
        {
            "model": "sim",
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 21}'},
            ],
            "tools": [tool("get_weather")],
        }
    )

    assert content_text(request).startswith('Tool result received: {"temperature": 21}')
    assert tools_to_call(request) == []


def test_json_object_format_gives_a_json_object() -> None:
    content = content_text(chat(response_format={"type": "json_object"}))

    assert isinstance(json.loads(content), dict)


def test_json_schema_format_gives_json_valid_against_the_schema() -> None:
    request = chat(
        response_format={"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER_SCHEMA}}
    )

    jsonschema.validate(json.loads(content_text(request)), WEATHER_SCHEMA)
