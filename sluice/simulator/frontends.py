"""What every protocol front end of the simulator shares (OpenAI in ``app``, ``anthropic``, ``bedrock``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

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


def reasoning_signature(reasoning: str) -> str:
    """A stand-in for a provider's opaque thinking signature: deterministic, plainly the simulator's."""
    return "sluice-simulator-signature-" + hashlib.sha256(reasoning.encode()).hexdigest()[:32]


def plan_with_half_emoji(plan: CompletionPlan) -> CompletionPlan:
    """``lone_surrogate`` for protocols that render the plan themselves: the text starts with half
    an emoji, which JSON escapes as ``\\ud83d``."""
    choice = plan.choices[0]
    if not choice.content:
        return plan
    return replace(plan, choices=(replace(choice, content=HALF_EMOJI + choice.content),))
