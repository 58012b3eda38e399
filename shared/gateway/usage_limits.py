"""SPEC "Usage limits": checked on every chat request before any AWS or model call.

What counts as message content: the text of every user/assistant message (text parts, tool
results, tool-call arguments, reasoning, refusals), counted in characters (code points, so a
multibyte character counts once). Not counted: the system prompt (top-level, or ``system``
messages folded into it) and tool schemas, which are configuration bounded by the body limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from shared.chat.canonical import ChatRequest, ReasoningConfig, Role
from shared.chat.messages import message_chars
from shared.errors import InvalidRequest, RequestTooLarge


@dataclass(frozen=True)
class PlanLimits:
    label: str
    body_bytes: int
    message_chars: int
    total_chars: int
    max_tokens: int


PLAN_LIMITS = {
    "free": PlanLimits("Free", 64 * 1024, 8_000, 32_000, 4_096),
    "pro": PlanLimits("Pro", 256 * 1024, 24_000, 120_000, 8_192),
}
_LARGEST_BODY = max(PLAN_LIMITS.values(), key=lambda limits: limits.body_bytes)
MAX_BODY_ANY_PLAN = _LARGEST_BODY.body_bytes


def limits_for(plan: str) -> PlanLimits:
    return PLAN_LIMITS.get(plan, PLAN_LIMITS["free"])


def check_body_size(size: int, plan: str) -> None:
    if size > limits_for(plan).body_bytes:
        raise body_too_large(size, plan)


def body_too_large(size: int | None, plan: str | None) -> RequestTooLarge:
    """The 413 of a body over a limit, naming the caller's plan and its limit; with no plan (the
    body was refused before a key was known) the largest limit of any plan, so that the client
    knows no plan would take it. ``size`` None: refused while arriving, so only known to be over
    the largest limit."""
    amount = f"{size:,} bytes" if size is not None else f"over {MAX_BODY_ANY_PLAN // 1024} KB"
    if plan is None:
        return RequestTooLarge(
            f"Request body is {amount}; no plan allows more than {MAX_BODY_ANY_PLAN // 1024} KB "
            f"(the {_LARGEST_BODY.label} plan's limit)."
        )
    limits = limits_for(plan)
    return RequestTooLarge(
        f"Request body is {amount}; the {limits.label} plan allows {limits.body_bytes // 1024} KB."
    )


def check_content(request: ChatRequest, plan: str) -> int:
    """Refuse a message or a conversation over the plan's character limits; returns the total.
    Each message is the client's own, as it sent it (``ChatRequest.turn_chars``)."""
    limits = limits_for(plan)
    total = 0
    for index, chars in _turn_sizes(request):
        if chars > limits.message_chars:
            raise InvalidRequest(
                f"messages[{index}] has {chars:,} characters of content; the {limits.label} plan allows "
                f"{limits.message_chars:,} per message.",
                param=f"messages.{index}.content",
            )
        total += chars
    if total > limits.total_chars:
        raise InvalidRequest(
            f"The messages have {total:,} characters of content in all; the {limits.label} plan allows "
            f"{limits.total_chars:,}.",
            param="messages",
        )
    return total


def _turn_sizes(request: ChatRequest) -> Iterable[tuple[int, int]]:
    if request.turn_chars is not None:
        return request.turn_chars
    return (
        (index, message_chars(message))
        for index, message in enumerate(request.messages)
        if message.role is not Role.SYSTEM
    )


def clamp_max_tokens(
    request: ChatRequest, plan: str, model_max_output: int
) -> tuple[ChatRequest, int | None]:
    """Clamp ``max_tokens`` to the plan cap and the model's maximum; returns the cap applied, if any.

    Coding tools send large values (Claude Code: 32000); refusing them would break the tools.
    """
    cap = min(limits_for(plan).max_tokens, model_max_output)
    if request.max_tokens is None:
        return replace(request, max_tokens=cap), None
    if request.max_tokens > cap:
        reasoning = _fit_budget(request.reasoning, request.max_tokens, cap)
        return replace(request, max_tokens=cap, reasoning=reasoning), cap
    return request, None


def _fit_budget(reasoning: ReasoningConfig | None, asked: int, cap: int) -> ReasoningConfig | None:
    """A thinking budget that no longer fits under the clamped ``max_tokens`` keeps its share of it.

    Anthropic (and Claude on Bedrock) refuse ``budget_tokens >= max_tokens``: Claude Code's 32000
    with a 16000 budget, clamped to 8192, would otherwise fail upstream; it goes up as 4096.
    """
    if reasoning is None or reasoning.budget_tokens is None or reasoning.budget_tokens < cap:
        return reasoning
    return replace(reasoning, budget_tokens=min(reasoning.budget_tokens * cap // asked, cap - 1))
