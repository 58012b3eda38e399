"""The agent runs table: ``pk`` = ``RUN#<run_id>``; ``sk`` = ``RUN`` (state) or ``STEP#<nnnn>``.

Every write that moves a run is conditional (docs/AGENTS.md): a step is claimed with a lease
(``attribute_not_exists(sk)``, or an expired lease on an unfinished step), each checkpoint needs
the lease still held, and finishing a step moves the run only while it is ``running`` at that
``next_step``. The sparse index ``by_account`` (``account_id``, ``created_at``) lists an
account's runs: only run items carry those two attributes.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.transactions import transact
from shared.agents.models import AgentRun, CallRecord, Reason, StepRecord, ToolCallRecord, ToolRunRecord
from shared.settings import get_settings

RUN_SK = "RUN"
STEP_PREFIX = "STEP#"
BY_ACCOUNT = "by_account"
_CCF = "ConditionalCheckFailed"
_OPEN = {":queued": "queued", ":running": "running"}


class LeaseLost(Exception):
    """Another delivery took the step over (its lease had expired): this one must stop."""


def _table() -> str:
    return get_settings().agent_runs_table


def run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def step_sk(step: int) -> str:
    return f"{STEP_PREFIX}{step:04d}"


def _key(run_id: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": run_pk(run_id)}, "sk": {"S": sk}}


def _update(
    run_id: str, sk: str, sets: dict[str, Any], condition: str, values: dict[str, Any]
) -> dict[str, Any]:
    """An Update (for UpdateItem or a transaction) that SETs ``sets`` when ``condition`` holds.

    Attribute names are always ``#name``; the condition may use ``#status``, ``#phase``, ``#lease``.
    """
    names = {f"#{name}": name for name in (*sets, "status", "phase", "lease")}
    expression = "SET " + ", ".join(f"#{name} = :{name}" for name in sets)
    used = {k: v for k, v in names.items() if k[1:] in sets or k in condition}
    return {
        "TableName": _table(),
        "Key": _key(run_id, sk),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": used,
        "ExpressionAttributeValues": to_item({f":{k}": v for k, v in sets.items()} | values),
    }


def _conditional_update(update: dict[str, Any]) -> bool:
    """One UpdateItem; False when its condition failed."""
    client = dynamodb()
    try:
        client.update_item(**update)
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def put_run(run: AgentRun) -> None:
    item = {"pk": run_pk(run.run_id), "sk": RUN_SK, **run.model_dump(mode="json")}
    dynamodb().put_item(
        TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
    )


def get_run(run_id: str) -> AgentRun | None:
    item = dynamodb().get_item(TableName=_table(), Key=_key(run_id, RUN_SK), ConsistentRead=True).get("Item")
    return AgentRun.model_validate(from_item(item)) if item else None


def list_runs(
    account_id: str, limit: int, after: tuple[str, str] | None
) -> tuple[list[AgentRun], AgentRun | None]:
    """One page of the account's runs, newest first; the last run when there may be more."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": BY_ACCOUNT,
        "KeyConditionExpression": "account_id = :a",
        "ExpressionAttributeValues": {":a": {"S": account_id}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if after is not None:
        created_at, run_id = after
        start = {"account_id": account_id, "created_at": created_at, "pk": run_pk(run_id), "sk": RUN_SK}
        kwargs["ExclusiveStartKey"] = to_item(start)
    page = dynamodb().query(**kwargs)
    runs = [AgentRun.model_validate(from_item(i)) for i in page.get("Items", [])]
    return runs, (runs[-1] if runs and "LastEvaluatedKey" in page else None)


def list_steps(run_id: str) -> list[StepRecord]:
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {":pk": {"S": run_pk(run_id)}, ":p": {"S": STEP_PREFIX}},
        "ConsistentRead": True,
    }
    steps: list[StepRecord] = []
    while True:
        page = dynamodb().query(**kwargs)
        steps.extend(StepRecord.model_validate(from_item(i)) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return steps
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_step(run_id: str, step: int) -> StepRecord | None:
    item = (
        dynamodb()
        .get_item(TableName=_table(), Key=_key(run_id, step_sk(step)), ConsistentRead=True)
        .get("Item")
    )
    return StepRecord.model_validate(from_item(item)) if item else None


def claim_step(
    run: AgentRun, step: int, token: str, *, now: str, now_s: int, lease_s: int
) -> StepRecord | None:
    """Take the step's lease: a new step, or an unfinished one whose lease expired; None otherwise."""
    update = {
        "TableName": _table(),
        "Key": _key(run.run_id, step_sk(step)),
        "UpdateExpression": (
            "SET run_id = :r, #n = :n, #ls = :t, lease_until = :until, expires_at = :exp, "
            "started_at = if_not_exists(started_at, :now), #ph = if_not_exists(#ph, :started) "
            "ADD attempts :one"
        ),
        "ConditionExpression": (
            "attribute_not_exists(sk) OR (lease_until < :now_s AND NOT #ph IN (:done, :failed, :discarded))"
        ),
        "ExpressionAttributeNames": {"#n": "step", "#ls": "lease", "#ph": "phase"},
        "ExpressionAttributeValues": to_item(
            {
                ":r": run.run_id,
                ":n": step,
                ":t": token,
                ":until": now_s + lease_s,
                ":exp": run.expires_at,
                ":now": now,
                ":started": "started",
                ":one": 1,
                ":now_s": now_s,
                ":done": "done",
                ":failed": "failed",
                ":discarded": "discarded",
            }
        ),
        "ReturnValues": "ALL_NEW",
    }
    client = dynamodb()
    try:
        item = client.update_item(**update)["Attributes"]
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return StepRecord.model_validate(from_item(item))


def _leased(run_id: str, step: int, token: str, sets: dict[str, Any]) -> None:
    """A checkpoint of a step this delivery holds; ``LeaseLost`` if it no longer does."""
    if not _conditional_update(_update(run_id, step_sk(step), sets, "#lease = :tok", {":tok": token})):
        raise LeaseLost(f"{run_id} step {step}")


def save_model_turn(
    run_id: str, step: int, token: str, *, call: CallRecord, text: str, calls: tuple[ToolCallRecord, ...]
) -> None:
    sets = {
        "phase": "model_done",
        "model_call": call.model_dump(mode="json"),
        "text": text,
        "tool_calls": [c.model_dump(mode="json") for c in calls],
    }
    _leased(run_id, step, token, sets)


def save_tool_run(run_id: str, step: int, token: str, tool_run: ToolRunRecord) -> None:
    _leased(run_id, step, token, {"phase": "tool_done", "tool_run": tool_run.model_dump(mode="json")})


def release_step(run_id: str, step: int, token: str) -> None:
    """Give the lease back after a transient failure, so the retry can claim the step at once."""
    _conditional_update(_update(run_id, step_sk(step), {"lease_until": 0}, "#lease = :tok", {":tok": token}))


def start_run(run_id: str, now: str) -> bool:
    """queued -> running, once."""
    sets = {"status": "running", "started_at": now, "updated_at": now}
    return _conditional_update(_update(run_id, RUN_SK, sets, "#status = :queued", {":queued": "queued"}))


def _run_moves(
    record: StepRecord, step_sets: dict[str, Any], run_sets: dict[str, Any], token: str
) -> list[str] | None:
    """The step's final write and the run's move, in one transaction (None: committed)."""
    tokens_in, tokens_out = record.tokens
    step_update = _update(record.run_id, step_sk(record.step), step_sets, "#lease = :tok", {":tok": token})
    run_update = _update(
        record.run_id,
        RUN_SK,
        run_sets,
        "#status IN (:queued, :running) AND next_step = :k",
        {**_OPEN, ":k": record.step, ":c": record.credits, ":ti": tokens_in, ":to": tokens_out},
    )
    run_update["UpdateExpression"] += " ADD credits_spent :c, input_tokens :ti, output_tokens :to"
    return transact([{"Update": step_update}, {"Update": run_update}])


def end_step(record: StepRecord, token: str, step_sets: dict[str, Any], run_sets: dict[str, Any]) -> bool:
    """Finish the step and move the run together; False if the run had moved on (e.g. cancelled).

    Raises ``LeaseLost`` if this delivery no longer holds the step.
    """
    codes = _run_moves(record, step_sets, run_sets, token)
    if codes is None:
        return True
    if codes[0] == _CCF:
        raise LeaseLost(f"{record.run_id} step {record.step}")
    return False


def fail_run(run_id: str, step: int, reason: Reason, now: str, record: StepRecord | None) -> bool:
    """Fail a run whose step kept failing (no lease needed: the run must still be at that step);
    what the step had already charged is added to the run's totals."""
    sets = {"status": "failed", "reason": reason.model_dump(), "ended_at": now, "updated_at": now}
    tokens_in, tokens_out = record.tokens if record else (0, 0)
    values = {**_OPEN, ":k": step, ":c": record.credits if record else 0, ":ti": tokens_in, ":to": tokens_out}
    update = _update(run_id, RUN_SK, sets, "#status IN (:queued, :running) AND next_step = :k", values)
    update["UpdateExpression"] += " ADD credits_spent :c, input_tokens :ti, output_tokens :to"
    return _conditional_update(update)


def mark_step_failed(run_id: str, step: int, reason: Reason, now: str) -> None:
    """Record the failure on the step too, if it was ever claimed and is not finished."""
    sets = {"phase": "failed", "outcome": "failed", "failure": reason.model_dump(), "finished_at": now}
    condition = "attribute_exists(sk) AND NOT #phase IN (:done, :discarded)"
    _conditional_update(
        _update(run_id, step_sk(step), sets, condition, {":done": "done", ":discarded": "discarded"})
    )


def discard_step(record: StepRecord, token: str, now: str) -> None:
    """The run ended while this step ran (cancelled): the step is kept, marked discarded, and what
    it charged still counts in the run's totals."""
    tokens_in, tokens_out = record.tokens
    sets = {"phase": "discarded", "outcome": "discarded", "finished_at": now, "lease_until": 0}
    step_update = _update(record.run_id, step_sk(record.step), sets, "#lease = :tok", {":tok": token})
    run_update = {
        "TableName": _table(),
        "Key": _key(record.run_id, RUN_SK),
        "UpdateExpression": "ADD credits_spent :c, input_tokens :ti, output_tokens :to",
        "ExpressionAttributeValues": to_item({":c": record.credits, ":ti": tokens_in, ":to": tokens_out}),
    }
    transact([{"Update": step_update}, {"Update": run_update}])


def mark_next_enqueued(run_id: str, step: int) -> None:
    _conditional_update(_update(run_id, step_sk(step), {"next_enqueued": True}, "attribute_exists(sk)", {}))


def cancel_run(run_id: str, reason: Reason, now: str) -> bool:
    """queued/running -> cancelled; False if the run had already ended."""
    sets = {"status": "cancelled", "reason": reason.model_dump(), "ended_at": now, "updated_at": now}
    return _conditional_update(_update(run_id, RUN_SK, sets, "#status IN (:queued, :running)", _OPEN))
