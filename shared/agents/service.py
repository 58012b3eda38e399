"""Agent runs for their owner: start one, list them, read one with its steps, cancel one.

A run belongs to an account; another account's run is indistinguishable from none (404). Every
step calls through the account's default key (its plan, its credits), so a run needs one.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from shared.accounts.models import Account
from shared.adapters import agent_queue, agent_store, tool_store
from shared.adapters.catalog_store import current_catalog
from shared.agents.models import RUN_ID_PATTERN, TERMINAL, AgentRun, CreatedVia, Reason
from shared.agents.views import run_view, step_view
from shared.agents.wire import CreateRun
from shared.catalog.service import find_model
from shared.dashboard.default_key import default_caller
from shared.dashboard.paging import decode_cursor, encode_cursor
from shared.errors import (
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    SluiceError,
    echoed_id,
)
from shared.gateway.plan_gates import check_model_allowed
from shared.gateway.routing import Needs, select_models
from shared.observability import get_logger

RUN_TTL = dt.timedelta(days=90)
CURSOR_PREFIX = "RUNS#"
TOOL_CALLS = Needs(tools=True, json_mode=False, vision=False, thinking=False, input_tokens=0)


class RunEnded(SluiceError):
    """A cancel of a run that already succeeded, failed or was cancelled."""

    status = 409
    code = "run_ended"
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_request(account: Account, body: CreateRun) -> tuple[str, ...]:
    """The model and tools are usable by the default key's plan; returns the tool ids, deduplicated."""
    caller = default_caller(account)
    catalog, today = current_catalog(), dt.date.today()
    check_model_allowed(find_model(catalog, body.model), caller.plan, today)  # 404 for an unknown model
    tool_ids = tuple(dict.fromkeys(body.tool_ids))
    if tool_ids and caller.plan != "pro":
        raise PermissionDenied(
            "Agent runs with tools need a Pro plan: the model calls them as functions, and function "
            "calling is a Pro feature.",
            param="tool_ids",
        )
    if tool_ids:
        # Every step offers the tools as functions: the chat core's own capability check, at once
        # rather than at step 1 ("The model 'hrllm' does not support tools.", param "model").
        select_models(catalog, body.model, caller.plan, TOOL_CALLS, today)
    for tool_id in tool_ids:
        if tool_store.get_tool(account.account_id, tool_id) is None:
            raise InvalidRequest(f"No tool {tool_id} in this account.", param="tool_ids")
    return tool_ids


def create_run(account: Account, body: CreateRun, created_via: CreatedVia) -> AgentRun:
    """Store the run (queued) and send its first step's message."""
    tool_ids = _check_request(account, body)
    now = _now()
    stamp = now.isoformat(timespec="milliseconds")
    run = AgentRun(
        run_id="run_" + secrets.token_hex(12),
        account_id=account.account_id,
        goal=body.goal,
        model=body.model,
        tool_ids=tool_ids,
        step_budget=body.step_budget,
        credit_budget=body.credit_budget,
        created_via=created_via,
        created_at=stamp,
        updated_at=stamp,
        expires_at=int((now + RUN_TTL).timestamp()),
    )
    agent_store.put_run(run)
    try:
        agent_queue.send_step(run.run_id, 1)
    except Exception as error:
        get_logger().exception("first step not queued", extra={"run_id": run.run_id})
        reason = Reason(code="not_queued", message="The run could not be queued; start it again.")
        agent_store.fail_run(run.run_id, 1, reason, stamp, None)
        raise ServiceUnavailable("The run could not be queued; retry shortly.") from error
    return run


def get_run(account_id: str, run_id: str) -> AgentRun:
    """The account's run, or 404."""
    run = agent_store.get_run(run_id) if re.fullmatch(RUN_ID_PATTERN, run_id) else None
    if run is None or run.account_id != account_id:
        raise NotFound(f"No agent run {echoed_id(run_id)}.", param="run_id")
    return run


def run_detail(account_id: str, run_id: str) -> dict[str, Any]:
    """The run with a summary of each step."""
    run = get_run(account_id, run_id)
    steps = agent_store.list_steps(run.run_id)
    return run_view(run, steps)


def run_events(account_id: str, run_id: str) -> dict[str, Any]:
    """The audit log: one entry per step, in order."""
    run = get_run(account_id, run_id)
    steps = sorted(agent_store.list_steps(run.run_id), key=lambda s: s.step)
    return {"object": "list", "run_id": run.run_id, "data": [step_view(s) for s in steps]}


def list_runs(account_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the account's runs, newest first."""
    after = decode_cursor(cursor, CURSOR_PREFIX, scope=account_id)
    start: tuple[str, str] | None = None
    if after is not None:
        created_at, separator, run_id = after.removeprefix(CURSOR_PREFIX).rpartition("#")
        if not separator:
            raise InvalidRequest(
                "cursor is not a cursor of this list; start again without it.", param="cursor"
            )
        start = (created_at, run_id)
    runs, last = agent_store.list_runs(account_id, limit, start)
    return {
        "object": "list",
        "data": [run_view(r) for r in runs],
        "has_more": last is not None,
        "next_cursor": (
            encode_cursor(f"{CURSOR_PREFIX}{last.created_at}#{last.run_id}", scope=account_id)
            if last
            else None
        ),
    }


def cancel_run(account_id: str, run_id: str) -> dict[str, Any]:
    """Stop a queued or running run: no further step starts; a step in flight is discarded."""
    run = get_run(account_id, run_id)
    if run.status in TERMINAL:
        raise RunEnded(f"Agent run {run_id} has already ended ({run.status}).", param="run_id")
    stamp = _now().isoformat(timespec="milliseconds")
    done = run.next_step - 1
    reason = Reason(code="cancelled", message=f"Cancelled by the user after {done} finished step(s).")
    if not agent_store.cancel_run(run.run_id, reason, stamp):
        ended = get_run(account_id, run_id)
        raise RunEnded(f"Agent run {run_id} has already ended ({ended.status}).", param="run_id")
    return run_detail(account_id, run_id)
