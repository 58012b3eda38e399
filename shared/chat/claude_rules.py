"""Claude's request rules that hold on Anthropic and on Bedrock alike: when and how it thinks, and
what it takes while it does (sampling values, tool choice). Both request mappers (``shared/chat/to_anthropic.py``,
``shared/providers/bedrock_request.py``) apply them, so a translated request is one Claude takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.chat.canonical import (
    ChatRequest,
    ReasoningConfig,
    ReasoningEffort,
    ThinkingMode,
    ToolChoiceMode,
    WireFormat,
)
from shared.errors import InvalidRequest

type Json = dict[str, Any]
type ThinkingStyle = Literal["adaptive", "budget"]

MAX_TEMPERATURE = 1.0
MIN_THINKING_BUDGET = 1024  # Claude's floor for budget_tokens
THINKING_TEMPERATURE = 1.0  # the only temperature Claude takes while it thinks
THINKING_TOP_P = (0.95, 1.0)  # the top_p range it takes while it thinks (top_k: none)
FORCED_TOOL_CHOICES = (ToolChoiceMode.REQUIRED, ToolChoiceMode.TOOL)  # refused while it thinks
EFFORT_TO_ANTHROPIC: Mapping[ReasoningEffort, str] = {
    ReasoningEffort.MINIMAL: "low",
    ReasoningEffort.LOW: "low",
    ReasoningEffort.MEDIUM: "medium",
    ReasoningEffort.HIGH: "high",
    ReasoningEffort.XHIGH: "xhigh",
    ReasoningEffort.MAX: "max",
    # ReasoningEffort.NONE: no effort; thinking is disabled instead.
}
UNTHINKING_EFFORT_CAP = "high"  # the highest effort Claude takes when it does not think
# Budgets for an effort on a model that thinks by budget (Claude before 4.6).
EFFORT_BUDGET: Mapping[ReasoningEffort, int] = {
    ReasoningEffort.MINIMAL: 1024,
    ReasoningEffort.LOW: 2048,
    ReasoningEffort.MEDIUM: 8192,
    ReasoningEffort.HIGH: 16384,
    ReasoningEffort.XHIGH: 32768,
    ReasoningEffort.MAX: 65536,
}


@dataclass(frozen=True)
class Sampling:
    temperature: float | None
    top_p: float | None
    top_k: int | None


def thinks(thinking: Json | None) -> bool:
    return thinking is not None and thinking.get("type") in (ThinkingMode.ENABLED, ThinkingMode.ADAPTIVE)


@dataclass(frozen=True)
class Controls:
    """What a request sends for thinking, sampling and effort (for Claude, each by Claude's rules)."""

    thinking: Json | None
    sampling: Sampling
    effort: str | None  # output_config.effort


def claude_controls(
    req: ChatRequest,
    requested: Json | None,
    *,
    unthought_tool_turn: bool,
    style: ThinkingStyle,
    max_tokens: int | None,
) -> Controls:
    """The thinking ``requested`` (as the request's own format asked for it), the sampling values
    and the effort, as Claude takes them."""
    thinking = claude_thinking(
        req, requested, unthought_tool_turn=unthought_tool_turn, style=style, max_tokens=max_tokens
    )
    return Controls(thinking, claude_sampling(req, thinking), claude_effort(req, thinking, style))


def names_claude(model_id: str) -> bool:
    """A Bedrock model id (or inference profile) of a Claude model."""
    return "claude" in model_id.lower()


def claude_thinking(
    req: ChatRequest,
    thinking: Json | None,
    *,
    unthought_tool_turn: bool,
    style: ThinkingStyle = "adaptive",
    max_tokens: int | None = None,
) -> Json | None:
    """``thinking`` as sent to Claude, which refuses two things while it thinks:

    - a forced tool call (any tool, or a named one);
    - a conversation whose last assistant turn called tools without starting with the signed
      thinking that led to the calls (``unthought_tool_turn``, read from the turns as sent). An
      OpenAI client's history carries it only when the client sent back the ``thinking_blocks``
      of the answer; with ``reasoning_content`` alone (unsigned, which Claude cannot take back)
      every continuation of a tool loop would be refused.

    A request in OpenAI format (or Sluice's own) that does either leaves thinking out: the call,
    or the loop's next step, is what its client needs, and reasoning only how well it is made (the
    effort still goes). On a route whose model thinks by budget (``style``: Claude before 4.6,
    which takes neither adaptive thinking nor effort), such a request's adaptive thinking becomes
    enabled thinking with its effort's budget (``budget_thinking``), and a budget that leaves no
    room under ``max_tokens`` keeps a share of it. An Anthropic-format request goes as its client
    sent it."""
    if not thinks(thinking) or req.extras_format is WireFormat.ANTHROPIC:
        return thinking
    forced = bool(req.tools) and req.tool_choice is not None and req.tool_choice.mode in FORCED_TOOL_CHOICES
    if forced or unthought_tool_turn:
        return None
    if style == "budget" and thinking is not None and thinking["type"] == ThinkingMode.ADAPTIVE:
        effort = req.reasoning.effort if req.reasoning and req.reasoning.effort else ReasoningEffort.MEDIUM
        return budget_thinking(EFFORT_BUDGET.get(effort, MIN_THINKING_BUDGET), max_tokens)
    budget = thinking.get("budget_tokens") if thinking is not None else None
    if budget is not None and max_tokens is not None and budget >= max_tokens:
        # OpenAI-compatible hosts take a budget over max_tokens (Kilo Code sends one without
        # max_tokens, which then is the plan's cap); Claude refuses it: it keeps a share.
        return budget_thinking(budget, max_tokens)
    return thinking


def budget_thinking(wanted: int, max_tokens: int | None) -> Json | None:
    """Enabled thinking with ``wanted`` tokens at most, and at most half of ``max_tokens`` unless
    that is under Claude's floor; None when ``max_tokens`` leaves no room for the floor and an
    answer."""
    if max_tokens is None:
        return None
    budget = min(wanted, max(MIN_THINKING_BUDGET, max_tokens // 2))
    return {"type": ThinkingMode.ENABLED.value, "budget_tokens": budget} if budget < max_tokens else None


def claude_sampling(req: ChatRequest, thinking: Json | None) -> Sampling:
    """The request's sampling values as Claude takes them; temperatures above 1.0 are clamped.

    A request in Anthropic's own format goes as it came: its client chose the values, as it would
    with Claude directly, and gets Claude's answer. From any other source the values Claude would
    refuse are left out (an OpenAI client's ``reasoning_effort`` is what turned thinking on, and
    OpenAI SDKs and frameworks often send a temperature and a top_p of their own):

    - while Claude thinks (``thinking`` enabled or adaptive) it takes temperature 1 only, no
      top_k, and a top_p from 0.95 to 1;
    - Claude models since 4.1 refuse temperature and top_p together. Of the two, one
      at its no-op value (top_p 1, or temperature 1) is left out; otherwise top_p is, the
      temperature being the knob clients set on purpose more often."""
    sampling = req.sampling
    temperature = min(sampling.temperature, MAX_TEMPERATURE) if sampling.temperature is not None else None
    top_p, top_k = sampling.top_p, sampling.top_k
    if req.extras_format is WireFormat.ANTHROPIC:
        return Sampling(temperature, top_p, top_k)
    if thinks(thinking):
        if temperature != THINKING_TEMPERATURE:
            temperature = None
        if top_p is not None and not THINKING_TOP_P[0] <= top_p <= THINKING_TOP_P[1]:
            top_p = None
        top_k = None
    if temperature is not None and top_p is not None:
        if top_p != 1 and temperature == 1:
            temperature = None
        else:
            top_p = None
    return Sampling(temperature, top_p, top_k)


def claude_effort(req: ChatRequest, thinking: Json | None, style: ThinkingStyle = "adaptive") -> str | None:
    """``output_config.effort`` for the request's reasoning effort (None: none to send). Claude
    takes ``xhigh`` and ``max`` only while it thinks; when the rules above left an OpenAI
    client's thinking out (a forced tool call, a tool loop's next step), its effort goes as
    ``high``. A model that thinks by budget gets no effort (its budget carries it). An
    Anthropic-format request goes as sent."""
    effort = req.reasoning.effort if req.reasoning else None
    value = EFFORT_TO_ANTHROPIC.get(effort) if effort is not None else None
    if value is None or req.extras_format is WireFormat.ANTHROPIC:
        return value
    if style == "budget":
        return None
    if thinks(thinking):
        return value
    return UNTHINKING_EFFORT_CAP if effort in (ReasoningEffort.XHIGH, ReasoningEffort.MAX) else value


def check_stop_sequences(req: ChatRequest) -> None:
    """Claude refuses a stop sequence that is empty or only whitespace, and OpenAI clients often
    send ``"\n"``: a 400 that names ``stop``, rather than the upstream's refusal. Left out
    instead, the answer would run past where its client asked it to stop."""
    if any(not stop.strip() for stop in req.stop):
        raise InvalidRequest(
            "Stop sequences that are empty or only whitespace are not supported by this model.", param="stop"
        )


def check_thinking_budget(config: ReasoningConfig) -> None:
    """Claude's floor for an enabled thinking budget: a 400 that names the parameter, rather than
    the upstream's refusal."""
    if config.mode is ThinkingMode.ENABLED and (config.budget_tokens or 0) < MIN_THINKING_BUDGET:
        raise InvalidRequest(
            f"thinking.budget_tokens of at least {MIN_THINKING_BUDGET} is required to enable thinking "
            "on this model.",
            param="thinking.budget_tokens",
        )


def requested_thinking(config: ReasoningConfig | None, source: WireFormat | None) -> Json | None:
    """``thinking`` as the request asked for it, before Claude's rules (``claude_thinking``): its
    own ``thinking``, checked against Claude's floor (an OpenAI client's enabled thinking without a
    budget is adaptive thinking); an effort of ``none`` as thinking disabled
    (Claude models that think by default would think without it); another effort as
    ``effort_thinking`` says."""
    if config is None:
        return None
    if source is WireFormat.OPENAI and config.mode is ThinkingMode.ENABLED and config.budget_tokens is None:
        # OpenAI-compatible hosts (Moonshot, GLM, DeepSeek) take {"type": "enabled"} alone as the
        # switch that turns thinking on (Roo Code sends it so): Claude thinks as for an effort.
        return {"type": ThinkingMode.ADAPTIVE.value}
    if config.mode is None:
        if config.effort is ReasoningEffort.NONE:
            return {"type": ThinkingMode.DISABLED.value}
        return effort_thinking(config, source)
    check_thinking_budget(config)
    thinking: Json = {"type": config.mode.value}
    if config.budget_tokens is not None and config.mode is ThinkingMode.ENABLED:
        thinking["budget_tokens"] = config.budget_tokens
    if config.display is not None and config.mode in (ThinkingMode.ENABLED, ThinkingMode.ADAPTIVE):
        thinking["display"] = config.display
    return thinking


def effort_thinking(config: ReasoningConfig, source: WireFormat | None) -> Json | None:
    """OpenAI's ``reasoning_effort`` asks for reasoning at that effort; Claude thinks only when
    ``thinking`` says so (``output_config.effort`` alone sets how much it spends, not whether it
    thinks), so an OpenAI client's effort also turns adaptive thinking on. An Anthropic client's
    effort without ``thinking`` stays as it sent it."""
    if source is WireFormat.OPENAI and config.effort is not None:
        return {"type": ThinkingMode.ADAPTIVE.value}
    return None
