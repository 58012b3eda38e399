"""Which model and which upstream routes serve a request.

``auto`` picks, in catalog order, the first model the plan may use that has every capability
the request needs; the chosen model's routes are tried in order, then the next candidate's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from shared.catalog.models import Catalog, ModelEntry
from shared.chat.canonical import ChatRequest, ReasoningConfig, ReasoningEffort, Role, ThinkingMode
from shared.chat.messages import message_chars
from shared.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from shared.gateway.images import has_images
from shared.gateway.plan_gates import check_model_allowed, uses_json_mode, uses_tools

CHARS_PER_TOKEN = 4  # a rough estimate for the context pre-check; the upstream has the final word
MAX_AUTO_CANDIDATES = 3


@dataclass(frozen=True)
class Needs:
    tools: bool
    json_mode: bool
    vision: bool
    thinking: bool
    input_tokens: int


def needs_of(request: ChatRequest, content_chars: int) -> Needs:
    """What the request needs; ``content_chars`` excludes system text, which counts for the context."""
    system_chars = sum(len(t.text) for t in request.system) + sum(
        message_chars(m) for m in request.messages if m.role is Role.SYSTEM
    )
    return Needs(
        tools=uses_tools(request),
        json_mode=uses_json_mode(request),
        vision=has_images(request),
        thinking=wants_thinking(request.reasoning),
        input_tokens=(content_chars + system_chars) // CHARS_PER_TOKEN,
    )


def wants_thinking(reasoning: ReasoningConfig | None) -> bool:
    """An explicit thinking mode decides; otherwise a reasoning effort other than "none" asks for it."""
    if reasoning is None:
        return False
    if reasoning.mode is not None:
        return reasoning.mode is not ThinkingMode.DISABLED
    return reasoning.effort not in (None, ReasoningEffort.NONE)


def _capable(entry: ModelEntry, needs: Needs) -> bool:
    caps = entry.capabilities
    return (
        (caps.tools or not needs.tools)
        and (caps.json_mode or not needs.json_mode)
        and (caps.vision or not needs.vision)
        and (caps.thinking or not needs.thinking)
        and entry.context_window > needs.input_tokens
    )


def _missing(entry: ModelEntry, needs: Needs) -> str | None:
    caps = entry.capabilities
    for wanted, has, label in (
        (needs.tools, caps.tools, "tools"),
        (needs.json_mode, caps.json_mode, "JSON mode"),
        (needs.vision, caps.vision, "image input"),
    ):
        if wanted and not has:
            return label
    return None


def _auto_candidates(catalog: Catalog, plan: str, needs: Needs, today: dt.date) -> list[ModelEntry]:
    allowed = [
        m
        for m in catalog.models
        if not m.router and m.routes and m.status == "active" and (plan == "pro" or m.tier == "free")
    ]
    chosen = [m for m in allowed if _capable(m, needs)]
    if not chosen and needs.thinking:
        # Thinking is a wish, as for a model named directly (dropped there when the model has none):
        # coding tools always send it, and a plan without a thinking model still gets an answer.
        chosen = [m for m in allowed if _capable(m, replace(needs, thinking=False))]
    if not chosen:
        raise InvalidRequest(
            f"No model available to your plan has every capability this request needs ({_needed(needs, allowed)}).",
            param="model",
        )
    # Fall back only to models of the first choice's price: admission reserves the dearest
    # candidate, so a pricier fallback would refuse callers who can afford the first choice and
    # overstate the reservation in X-Credits-Remaining.
    price = chosen[0].credit_cost
    return [m for m in chosen if m.credit_cost == price][:MAX_AUTO_CANDIDATES]


def _needed(needs: Needs, allowed: list[ModelEntry]) -> str:
    """The capabilities asked for; the context window only when it is what rules models out (a
    model has every other capability), or when nothing else was asked."""
    wanted = [
        label
        for wanted, label in (
            (needs.tools, "tools"),
            (needs.json_mode, "JSON mode"),
            (needs.vision, "image input"),
        )
        if wanted
    ]
    others = replace(needs, thinking=False, input_tokens=-1)
    if not wanted or any(_capable(m, others) for m in allowed):
        wanted.append(f"a context window over {needs.input_tokens:,} tokens")
    return ", ".join(wanted)


def select_models(
    catalog: Catalog, model_id: str, plan: str, needs: Needs, today: dt.date
) -> list[ModelEntry]:
    """The models to try, in order (one, unless the request asked for ``auto``)."""
    entry = catalog.get(model_id)
    if entry is None:
        raise ModelNotFound(model_id)
    check_model_allowed(entry, plan, today)
    if entry.router:
        return _auto_candidates(catalog, plan, needs, today)
    missing = _missing(entry, needs)
    if missing:
        raise InvalidRequest(f"The model '{entry.id}' does not support {missing}.", param="model")
    if needs.input_tokens >= entry.context_window:
        raise ContextLengthExceeded(
            f"The input is about {needs.input_tokens:,} tokens; '{entry.id}' has a "
            f"{entry.context_window:,}-token context window.",
            param="messages",
        )
    return [entry]
