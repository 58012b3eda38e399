"""An agent run end to end in the local stack: API over HTTP, the worker behind its SQS queue.

The account (Pro, credits, a default key) and its starter tool are made with the domain code in
the stack's own tables (``stack_aws``); everything after that goes over HTTP with the API key, as
a script would: start the run, poll it, read its audit log and the credits. The simulator calls
the tool while the budget note says "tool" and answers on the last step: with a budget of 3,
tool call, tool call, answer.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from support.polling import eventually

TERMINAL = {"succeeded", "failed", "cancelled"}


@pytest.fixture
def pro_key_and_tool(stack_aws, monkeypatch) -> tuple[str, str]:
    """A fresh Pro account with 200 credits, its default key (raw) and an installed starter tool."""
    from shared.settings import get_settings
    from sluice.local.resources import LocalResources
    from sluice.local.template import parse_template

    # stack_aws names the tables of Globals; the tools table is the tools function's own
    monkeypatch.setenv("SLUICE_TOOLS_TABLE", LocalResources(parse_template()).physical_name("ToolsTable"))
    get_settings.cache_clear()

    from shared.accounts.models import Account, Consent
    from shared.adapters import account_store
    from shared.credits.ledger import grant_credits
    from shared.keys.service import issue_key, now_iso
    from shared.tools.service import install
    from shared.tools.wire import InstallTool

    account_id = f"acct_agents_{uuid.uuid4().hex[:8]}"
    consent = Consent(
        terms_version="e2e", privacy_version="e2e", responsible_ai_version="e2e", accepted_at=now_iso()
    )
    account = Account(account_id=account_id, plan="pro", consent=consent, created_at=now_iso())
    assert account_store.create_account(account)
    grant_credits(account_id, 200, source="admin", reference=f"e2e-{account_id}", expires_at=None)
    raw_key = issue_key(account_id, "agents-e2e").raw_key
    stored = account_store.get_account(account_id)
    assert stored is not None
    tool = install(stored, InstallTool(starter_id="support-reply"))
    return raw_key, tool.tool_id


def test_a_three_step_agent_run_succeeds_with_three_audit_entries_and_the_right_credits(
    local_stack, pro_key_and_tool
) -> None:
    raw_key, tool_id = pro_key_and_tool
    api = httpx.Client(
        base_url=local_stack.base_url, headers={"Authorization": f"Bearer {raw_key}"}, timeout=30
    )
    with api:
        before = api.get("/api/user/credits").json()

        # When a run is started with a 3-step budget
        started = api.post(
            "/v1/agents/runs",
            json={
                "goal": "Use a tool to draft a reply to a customer whose order is late, then polish it.",
                "model": "qwen3",
                "tool_ids": [tool_id],
                "step_budget": 3,
                "credit_budget": 20,
            },
        )
        assert started.status_code == 201, started.text
        run_id = started.json()["id"]
        run = eventually(
            lambda: (r := api.get(f"/v1/agents/runs/{run_id}").json())["status"] in TERMINAL and r,
            timeout=60,
        )

        # Then it succeeded: tool call, tool call, answer
        assert run and run["status"] == "succeeded", (run, local_stack.log()[-3000:])
        assert run["result"].startswith("Simulated reply to:")
        assert run["steps_completed"] == 3 and run["reason"]["code"] == "answered"
        assert [s["outcome"] for s in run["steps"]] == ["tool_called", "tool_called", "answered"]

        # And the audit log has one entry per step: model, tool and arguments, tokens, credits, timing
        events = api.get(f"/v1/agents/runs/{run_id}/events").json()["data"]
        assert [e["step"] for e in events] == [1, 2, 3]
        assert [e["tool"]["tool_id"] if e["tool"] else None for e in events] == [tool_id, tool_id, None]
        assert all(e["tool"]["arguments"] == {"input": "sample"} for e in events[:2])
        assert all(e["tool"]["run"]["routed_model"] and not e["tool"]["is_error"] for e in events[:2])
        assert all(
            e["model_call"]["routed_model"] == "qwen3" and e["model_call"]["output_tokens"] > 0
            for e in events
        )
        assert [e["credits"] for e in events] == [2, 2, 1]
        assert all(e["duration_ms"] is not None and e["attempts"] == 1 for e in events)

        # And the ledger charged exactly those 5 credits (3 model turns, 2 tool runs), once settled
        expected = 5
        assert run["credits_spent"] == expected
        after = eventually(
            lambda: (
                (c := api.get("/api/user/credits").json())["total_consumed"] - before["total_consumed"]
                == expected
                and c
            ),
            timeout=60,
        )
        assert after, "the usage consumer settled every call"
        assert before["balance"] - after["balance"] == expected

        # And the run is listed, and cancelling it now is refused: it has ended
        assert run_id in [r["id"] for r in api.get("/v1/agents/runs").json()["data"]]
        assert api.post(f"/v1/agents/runs/{run_id}/cancel").status_code == 409
