"""Agent run records: the run's state and one record per step (which is also its audit entry).

Both live in the agent runs table (docs/AGENTS.md has the key design): the run under
``RUN#<run_id>`` / ``RUN``, its steps under ``RUN#<run_id>`` / ``STEP#<nnnn>``. Records hold ids,
counts and outcomes, plus the text the next step needs (the model's text, tool arguments and
outputs): the run belongs to its account, which may read all of it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
StepPhase = Literal["started", "model_done", "tool_done", "done", "failed", "discarded"]
StepOutcome = Literal["tool_called", "answered", "failed", "discarded"]
CreatedVia = Literal["dashboard", "api_key"]
RUN_ID_PATTERN = r"^run_[0-9a-f]{24}$"
MAX_STEP_BUDGET = 20


class Reason(BaseModel):
    """Why a run ended or a step failed: a stable code and a sentence for people."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class AgentRun(BaseModel):
    """The run's state. ``next_step`` is the one step a message may still run (1-based)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str
    account_id: str
    goal: str
    model: str
    tool_ids: tuple[str, ...] = ()
    step_budget: int
    credit_budget: int
    status: RunStatus = "queued"
    next_step: int = 1
    credits_spent: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    result: str | None = None
    reason: Reason | None = None  # set when the run ends (answered, failed, cancelled)
    created_via: CreatedVia
    created_at: str
    updated_at: str
    started_at: str | None = None
    ended_at: str | None = None
    expires_at: int


class CallRecord(BaseModel):
    """One call through the chat core (a model turn or a tool run), as its usage event says."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    public_model: str
    routed_model: str | None = None
    provider: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    credits: int = 0
    latency_ms: int = 0


class ToolCallRecord(BaseModel):
    """A function call the model made: ``name`` is a tool id when it names one of the run's tools."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    name: str
    arguments: str  # the JSON text the model sent


class ToolRunRecord(BaseModel):
    """What running the step's tool call gave; ``call`` is None when the tool could not run."""

    model_config = ConfigDict(frozen=True)

    tool_id: str
    call: CallRecord | None = None
    output: str
    is_error: bool = False


class StepRecord(BaseModel):
    """One step: claimed once (``attempts`` counts the claims), then checkpointed phase by phase."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: Annotated[str, StringConstraints(pattern=RUN_ID_PATTERN)]
    step: Annotated[int, Field(ge=1, le=MAX_STEP_BUDGET)]
    phase: StepPhase = "started"
    attempts: int = 0
    lease: str | None = None
    lease_until: int = 0
    started_at: str
    finished_at: str | None = None
    model_call: CallRecord | None = None
    text: str = ""
    tool_calls: tuple[ToolCallRecord, ...] = ()
    tool_run: ToolRunRecord | None = None
    outcome: StepOutcome | None = None
    failure: Reason | None = None
    next_enqueued: bool = False

    @property
    def credits(self) -> int:
        """Credits this step charged: its model turn and its tool run."""
        model = self.model_call.credits if self.model_call else 0
        tool = self.tool_run.call.credits if self.tool_run and self.tool_run.call else 0
        return model + tool

    @property
    def tokens(self) -> tuple[int, int]:
        """(input, output) tokens of both calls."""
        calls = [c for c in (self.model_call, self.tool_run.call if self.tool_run else None) if c]
        return sum(c.input_tokens for c in calls), sum(c.output_tokens for c in calls)


class StepMessage(BaseModel):
    """The SQS message that asks the worker to run one step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: Annotated[str, StringConstraints(pattern=RUN_ID_PATTERN)]
    step: Annotated[int, Field(ge=1, le=MAX_STEP_BUDGET)]
