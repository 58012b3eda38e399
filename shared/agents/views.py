"""What the API shows of a run and of each step (the audit entry): ids, counts, outcomes, timing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from shared.agents.models import AgentRun, CallRecord, StepRecord


def _duration_ms(started: str, finished: str | None) -> int | None:
    if finished is None:
        return None
    delta = dt.datetime.fromisoformat(finished) - dt.datetime.fromisoformat(started)
    return max(0, int(delta.total_seconds() * 1000))


def _call(call: CallRecord | None) -> dict[str, Any] | None:
    if call is None:
        return None
    return {
        "request_id": call.request_id,
        "model": call.public_model,
        "routed_model": call.routed_model,
        "provider": call.provider,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "credits": call.credits,
        "latency_ms": call.latency_ms,
    }


def _arguments(text: str) -> Any:
    """The arguments as JSON when they are JSON, else the text the model sent."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _tool(record: StepRecord) -> dict[str, Any] | None:
    if not record.tool_calls:
        return None
    called = record.tool_calls[0]
    view: dict[str, Any] = {
        "tool_id": called.name,
        "call_id": called.call_id,
        "arguments": _arguments(called.arguments),
    }
    run = record.tool_run
    if run is not None:
        view |= {"run": _call(run.call), "is_error": run.is_error, "output_chars": len(run.output)}
    if len(record.tool_calls) > 1:
        view["ignored_calls"] = [c.name for c in record.tool_calls[1:]]
    return view


def step_view(record: StepRecord) -> dict[str, Any]:
    """One audit entry: the model call, the tool called with its arguments, tokens, credits, timing."""
    tokens_in, tokens_out = record.tokens
    return {
        "object": "agent_run.step",
        "run_id": record.run_id,
        "step": record.step,
        "phase": record.phase,
        "outcome": record.outcome,
        "attempts": record.attempts,
        "model_call": _call(record.model_call),
        "tool": _tool(record),
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        "credits": record.credits,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "duration_ms": _duration_ms(record.started_at, record.finished_at),
        "failure": record.failure.model_dump() if record.failure else None,
    }


def _step_summary(record: StepRecord) -> dict[str, Any]:
    tool = record.tool_calls[0].name if record.tool_calls else None
    return {"step": record.step, "outcome": record.outcome, "tool_id": tool, "credits": record.credits}


def run_view(run: AgentRun, steps: list[StepRecord] | None = None) -> dict[str, Any]:
    """The run's status and totals; with ``steps``, a summary of each."""
    view: dict[str, Any] = {
        "object": "agent_run",
        "id": run.run_id,
        "status": run.status,
        "goal": run.goal,
        "model": run.model,
        "tool_ids": list(run.tool_ids),
        "step_budget": run.step_budget,
        "credit_budget": run.credit_budget,
        "steps_completed": run.next_step - 1,
        "credits_spent": run.credits_spent,
        "usage": {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens},
        "result": run.result,
        "reason": run.reason.model_dump() if run.reason else None,
        "created_via": run.created_via,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "updated_at": run.updated_at,
        "ended_at": run.ended_at,
    }
    if steps is not None:
        view["steps"] = [_step_summary(s) for s in sorted(steps, key=lambda s: s.step)]
    return view
