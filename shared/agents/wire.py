"""What clients send to the agent runs routes (validated at the edge)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.agents.models import MAX_STEP_BUDGET

GOAL_CHARS = 8_000  # within every plan's per-message limit: the goal is the run's first message
MAX_TOOLS = 10
MAX_CREDIT_BUDGET = 10_000
DEFAULT_STEP_BUDGET = 10
DEFAULT_CREDIT_BUDGET = 50


def _unicode_text(text: str) -> str:
    """Refuse lone surrogates (valid JSON escapes, but not text DynamoDB or a model can take)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("must be valid Unicode text") from error
    return text


Goal = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=GOAL_CHARS),
    AfterValidator(_unicode_text),
]
ModelId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
ToolId = Annotated[str, StringConstraints(pattern=r"^tool_[0-9a-f]{16}$")]


class CreateRun(BaseModel):
    """POST /api/agents/runs (and /v1/agents/runs): a goal, a model, tools and two budgets."""

    model_config = ConfigDict(extra="forbid")

    goal: Goal
    model: ModelId = "auto"
    tool_ids: Annotated[list[ToolId], Field(max_length=MAX_TOOLS)] = []
    step_budget: Annotated[int, Field(strict=True, ge=1, le=MAX_STEP_BUDGET)] = DEFAULT_STEP_BUDGET
    credit_budget: Annotated[int, Field(strict=True, ge=1, le=MAX_CREDIT_BUDGET)] = DEFAULT_CREDIT_BUDGET
