"""The whole answer to one request, decided before anything is sent.

Usage under the token model (see ``tokens``): ``prompt_tokens`` counts every message;
``completion_tokens`` counts, over all choices, the reasoning words, the content words and, per
tool call, 1 for its name plus the words of its arguments string. ``max_completion_tokens`` (or
``max_tokens``) caps reasoning + content together and gives ``finish_reason: "length"``; a stop
sequence cuts the content before it (``"stop"``). Tool-call turns are short and never cut.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sluice.simulator.replies import REASONING_TEXT, content_text, tool_sentence
from sluice.simulator.tokens import count_tokens, cut_at_stop, first_tokens
from sluice.simulator.tool_calls import tool_arguments, tools_to_call
from sluice.simulator.wire import ChatRequest


@dataclass(frozen=True)
class ToolCallPlan:
    """One tool call of a choice."""

    id: str
    name: str
    arguments: str

    def tokens(self) -> int:
        return 1 + count_tokens(self.arguments)


@dataclass(frozen=True)
class ChoicePlan:
    """One choice: its reasoning, content, tool calls and why it ended."""

    index: int
    reasoning: str
    content: str
    tool_calls: tuple[ToolCallPlan, ...]
    finish_reason: str
    stop_reason: str | None = None  # the stop sequence that ended it (vLLM's extension field)

    def reasoning_tokens(self) -> int:
        return count_tokens(self.reasoning)

    def completion_tokens(self) -> int:
        calls = sum(call.tokens() for call in self.tool_calls)
        return self.reasoning_tokens() + count_tokens(self.content) + calls


@dataclass(frozen=True)
class CompletionPlan:
    """A full answer: identity, choices and usage."""

    id: str
    created: int
    model: str
    prompt_tokens: int
    choices: tuple[ChoicePlan, ...]
    top_logprobs: int | None = None  # logprobs asked for (with this many alternatives), or not

    def completion_tokens(self) -> int:
        return sum(choice.completion_tokens() for choice in self.choices)

    def longest_choice_tokens(self) -> int:
        """Tokens of the longest choice: what paces a non-streaming answer."""
        return max(choice.completion_tokens() for choice in self.choices)

    def usage(self) -> dict[str, Any]:
        """OpenAI's ``usage`` object."""
        completion = self.completion_tokens()
        reasoning = sum(choice.reasoning_tokens() for choice in self.choices)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }


def new_completion_id() -> str:
    """A fresh ``chatcmpl-...`` id."""
    return f"chatcmpl-{uuid.uuid4().hex}"


def plan_completion(request: ChatRequest) -> CompletionPlan:
    """Decide the answer to ``request``; raises ``InvalidRequest`` for what cannot be answered."""
    choices = tuple(_plan_choice(request, index) for index in range(request.n))
    return CompletionPlan(
        id=new_completion_id(),
        created=int(time.time()),
        model=request.model,
        prompt_tokens=request.prompt_tokens(),
        choices=choices,
        top_logprobs=(request.top_logprobs or 0) if request.logprobs else None,
    )


def _plan_choice(request: ChatRequest, index: int) -> ChoicePlan:
    reasoning = REASONING_TEXT if request.wants_reasoning() else ""
    tools = tools_to_call(request)
    if tools:
        calls = tuple(
            ToolCallPlan(
                id=f"call_{uuid.uuid4().hex[:24]}", name=tool.function.name, arguments=tool_arguments(tool)
            )
            for tool in tools
        )
        sentence = tool_sentence([call.name for call in calls], index)
        return ChoicePlan(index, reasoning, sentence, calls, "tool_calls")
    content, matched = cut_at_stop(content_text(request, index), request.stop_sequences())
    cap = request.completion_cap()
    if cap is None or count_tokens(reasoning) + count_tokens(content) <= cap:
        return ChoicePlan(index, reasoning, content, (), "stop", matched)
    kept_reasoning = first_tokens(reasoning, cap)
    kept_content = first_tokens(content, cap - count_tokens(kept_reasoning))
    return ChoicePlan(index, kept_reasoning, kept_content, (), "length")
