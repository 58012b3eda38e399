"""Model selection, plan gates and the call preparation, on the default catalog (pure: no AWS)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shared.auth.api_keys import Caller
from shared.catalog.loader import load_catalog_file
from shared.chat.canonical import ReasoningConfig, ReasoningEffort, ThinkingMode
from shared.chat.from_openai import request_from_openai
from shared.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound, ModelRetired, PermissionDenied
from shared.gateway.call import prepare
from shared.gateway.routing import wants_thinking
from shared.http.body import parse_model
from shared.keys.models import ApiKeyRecord
from shared.wire.openai import ChatCompletionRequest

CATALOG = load_catalog_file()
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def caller(plan: str) -> Caller:
    record = ApiKeyRecord(
        key_id="k1",
        key_hash="0" * 64,
        key_prefix="sk_sluice_ab",
        last_four="abcd",
        account_id="acct",
        plan=plan,  # type: ignore[arg-type]
        name="test",
        created_at="2026-01-01T00:00:00Z",
    )
    return Caller(key=record)


def prepared(plan: str, model: str, content: Any = "hi", **extra: Any):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    request = request_from_openai(parse_model(ChatCompletionRequest, body))
    return prepare(request, caller(plan), CATALOG, request_id="r1", endpoint="chat.completions")


@pytest.mark.parametrize(
    ("reasoning", "wanted"),
    [
        (None, False),
        (ReasoningConfig(mode=ThinkingMode.ENABLED), True),
        (ReasoningConfig(mode=ThinkingMode.DISABLED, effort=ReasoningEffort.HIGH), False),
        (ReasoningConfig(effort=ReasoningEffort.LOW), True),
        (ReasoningConfig(effort=ReasoningEffort.NONE), False),
    ],
)
def test_which_requests_need_a_thinking_model(reasoning, wanted) -> None:
    assert wants_thinking(reasoning) is wanted


@pytest.mark.parametrize(
    ("plan", "extra", "content", "first"),
    [
        ("free", {}, "hi", "hrllm"),
        ("pro", {}, "hi", "hrllm"),
        ("pro", {"tools": TOOLS}, "hi", "qwen3"),
        ("pro", {"response_format": {"type": "json_object"}}, "hi", "qwen3"),
        ("pro", {"reasoning_effort": "medium"}, "hi", "kimi-k2-thinking"),
        # no free model thinks: thinking is dropped, as for a model named directly, not refused
        ("free", {"reasoning_effort": "medium"}, "hi", "hrllm"),
        ("free", {"thinking": {"type": "enabled", "budget_tokens": 2048}}, "hi", "hrllm"),
        ("pro", {}, [IMAGE, {"type": "text", "text": "what"}], "kimi-k2.5"),
    ],
)
def test_auto_picks_the_first_capable_model_and_falls_back_only_at_its_price(
    plan, extra, content, first
) -> None:
    call = prepared(plan, "auto", content, **extra)

    assert call.models[0].id == first
    assert {m.credit_cost for m in call.models} == {call.models[0].credit_cost}
    assert call.reservation_cost == call.models[0].credit_cost
    assert all(plan == "pro" or m.tier == "free" for m in call.models)
    assert len(call.models) <= 3


@pytest.mark.parametrize(
    ("plan", "model", "extra", "content", "error", "param"),
    [
        ("pro", "nope", {}, "hi", ModelNotFound, "model"),
        ("free", "qwen3", {}, "hi", PermissionDenied, "model"),
        ("free", "auto", {"tools": TOOLS}, "hi", PermissionDenied, "tools"),
        (
            "free",
            "auto",
            {"response_format": {"type": "json_object"}},
            "hi",
            PermissionDenied,
            "response_format",
        ),
        ("free", "auto", {"parallel_tool_calls": True}, "hi", PermissionDenied, "parallel_tool_calls"),
        # constrained decoding in an upstream server's own field is JSON mode too
        ("free", "auto", {"guided_json": {"type": "object"}}, "hi", PermissionDenied, "guided_json"),
        (
            "free",
            "auto",
            {"structured_outputs": {"regex": "a+"}},
            "hi",
            PermissionDenied,
            "structured_outputs",
        ),
        ("free", "auto", {"grammar": "root ::= [a-z]+"}, "hi", PermissionDenied, "grammar"),
        ("free", "auto", {}, [IMAGE], InvalidRequest, "model"),  # no free vision model
        ("pro", "qwen3", {}, [IMAGE], InvalidRequest, "model"),
        ("pro", "hrllm", {"tools": TOOLS}, "hi", InvalidRequest, "model"),
    ],
)
def test_requests_a_plan_or_model_cannot_serve_are_refused(plan, model, extra, content, error, param) -> None:
    with pytest.raises(error) as refused:
        prepared(plan, model, content, **extra)
    assert refused.value.param == param
    if error is PermissionDenied:
        assert "Pro" in refused.value.message


def test_context_window_is_checked_before_the_call() -> None:
    # qwen3 has a 32,768-token window: ~35,000 tokens of system prompt and message (4 chars a token).
    body = [{"role": "system", "content": "s" * 116_000}, {"role": "user", "content": "a" * 24_000}]
    request = request_from_openai(parse_model(ChatCompletionRequest, {"model": "qwen3", "messages": body}))

    with pytest.raises(ContextLengthExceeded) as exceeded:
        prepare(request, caller("pro"), CATALOG, request_id="r", endpoint="chat.completions")
    assert exceeded.value.code == "context_length_exceeded"


def test_a_retired_model_names_its_replacement() -> None:
    retired = next(m for m in CATALOG.models if m.eol_date is not None)
    assert retired.eol_date is not None
    after_eol = retired.eol_date + dt.timedelta(days=1)
    from shared.gateway.plan_gates import check_model_allowed

    with pytest.raises(ModelRetired) as gone:
        check_model_allowed(retired, "pro", after_eol)
    assert retired.replacement and retired.replacement in gone.value.message


def test_max_tokens_is_clamped_to_the_plan_and_model_cap() -> None:
    free = prepared("free", "hrllm", max_tokens=32000)
    pro = prepared("pro", "qwen3", max_completion_tokens=9000)
    within = prepared("pro", "qwen3", max_tokens=100)
    unset = prepared("pro", "qwen3")

    assert (free.request.max_tokens, free.clamped_to) == (4096, 4096)
    assert (pro.request.max_tokens, pro.clamped_to) == (8192, 8192)
    assert (within.request.max_tokens, within.clamped_to) == (100, None)
    assert (unset.request.max_tokens, unset.clamped_to) == (8192, None), "the cap is sent, silently"


def test_auto_names_only_what_rules_the_plans_models_out() -> None:
    with pytest.raises(InvalidRequest) as no_vision:
        prepared("free", "auto", [IMAGE])
    assert no_vision.value.message.endswith("needs (image input).")

    huge = [{"role": "system", "content": "s" * 1_200_000}, {"role": "user", "content": "hi"}]
    request = request_from_openai(parse_model(ChatCompletionRequest, {"model": "auto", "messages": huge}))
    with pytest.raises(InvalidRequest) as too_long:
        prepare(request, caller("pro"), CATALOG, request_id="r", endpoint="chat.completions")
    assert too_long.value.message.endswith("needs (a context window over 300,000 tokens).")
