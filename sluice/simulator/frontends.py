"""What every protocol front end of the simulator shares (OpenAI in ``app``, ``anthropic``, ``bedrock``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from pydantic import ValidationError
from starlette.requests import Request

from sluice.simulator.plan import CompletionPlan
from sluice.simulator.wire import InvalidRequest

CLIENT_CLOSED = 499  # nginx's code: the client hung up before the answer
MIN_THINKING_BUDGET = 1024  # Claude's floor for thinking.budget_tokens, on Anthropic and Bedrock
HALF_EMOJI = "\ud83d"  # lone_surrogate: the first half of an emoji, as in ``faults.with_half_emoji``


async def read_json(request: Request) -> Any:
    """The body as JSON; ``InvalidRequest`` (a 400 in the protocol's format) when it is not."""
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError) as error:
        raise InvalidRequest(f"request body is not valid JSON: {error}") from error


def validation_message(error: ValidationError) -> str:
    """The first problem, located by the protocol's own field names: ``messages.0.content: ...``."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


class _Turn(Protocol):
    @property
    def role(self) -> str: ...


def last_assistant[T: _Turn](turns: Sequence[T]) -> tuple[int, T] | None:
    """The last assistant turn and its index, for rules on the turn Claude continues from."""
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].role == "assistant":
            return index, turns[index]
    return None


def claude_conflict(
    thinking: str | None,
    temperature: float | None,
    top_p: float | None,
    top_k: int | None,
    *,
    forced_tool: bool,
    effort: str | None = None,
) -> str | None:
    """Claude's sampling and tool-choice rules, the broken one named by the protocol's field names
    (None when the request keeps them): since Claude 4.1 temperature and top_p not together, and while it thinks
    (``thinking`` enabled or adaptive) temperature 1 only, no top_k, top_p from 0.95 to 1, and no
    forced tool call; without thinking, an effort of high at most."""
    thinks = thinking in ("enabled", "adaptive")
    rules = (
        (
            temperature is not None and top_p is not None,
            "temperature and top_p cannot both be set for this model; use only one",
        ),
        (
            thinks and temperature is not None and temperature != 1,
            "temperature may only be set to 1 when thinking is enabled or adaptive",
        ),
        (thinks and top_k is not None, "top_k cannot be set when thinking is enabled or adaptive"),
        (
            thinks and top_p is not None and not 0.95 <= top_p <= 1,
            "top_p must be between 0.95 and 1 when thinking is enabled or adaptive",
        ),
        (thinks and forced_tool, "tool_choice may only be auto or none when thinking is enabled or adaptive"),
        (
            not thinks and effort in ("xhigh", "max"),
            f"effort {effort!r} needs thinking enabled or adaptive; use high or below without it",
        ),
    )
    return next((message for broken, message in rules if broken), None)


def reasoning_signature(reasoning: str) -> str:
    """A stand-in for a provider's opaque thinking signature: deterministic, plainly the simulator's."""
    return "sluice-simulator-signature-" + hashlib.sha256(reasoning.encode()).hexdigest()[:32]


def check_signature(where: str, reasoning: str, signature: str | None) -> None:
    """Claude checks that replayed thinking is the thinking it signed: a block whose signature is
    not this simulator's for its text (edited, or signed elsewhere) is refused."""
    if signature != reasoning_signature(reasoning):
        raise InvalidRequest(f"{where}: Invalid `signature` in `thinking` block")


def plan_with_half_emoji(plan: CompletionPlan) -> CompletionPlan:
    """``lone_surrogate`` for protocols that render the plan themselves: the text starts with half
    an emoji, which JSON escapes as ``\\ud83d``."""
    choice = plan.choices[0]
    if not choice.content:
        return plan
    return replace(plan, choices=(replace(choice, content=HALF_EMOJI + choice.content),))
