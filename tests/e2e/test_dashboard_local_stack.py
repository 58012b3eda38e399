"""The dashboard's tools, playground, chat workspace and contact form against the local stack over HTTP.

A user signs up and in through the `sluice users` CLI (local Cognito pool), creates the default
key with POST /api/keys, then uses every surface the way the dashboard does. Background work
(usage consumer, contact notifier) runs through the stack's own SQS event-source emulation.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import boto3
import httpx
import pytest
from support.polling import eventually
from support.stack import cli_output

from sluice.local.resources import LocalResources
from sluice.local.template import parse_template

PASSWORD = "Correct-Horse-9-Battery"


def sign_up_and_in(stack) -> str:
    """A confirmed user with policy consent (PostConfirmation played); returns the ID token."""
    email = f"dash-{uuid.uuid4().hex[:8]}@example.com"

    def cli(*args: str) -> str:
        return cli_output(stack, "users", *args)

    cli(
        "signup", "--email", email, "--password", PASSWORD, "--accept-policies", "--policy-version", "2025-11"
    )
    return cli("signin", "--email", email, "--password", PASSWORD).strip()


def sse_lines(response: httpx.Response) -> list[str]:
    return [line for line in response.iter_lines() if line.startswith("data: ")]


def streamed_text(lines: list[str]) -> str:
    chunks = [json.loads(line[6:]) for line in lines if line != "data: [DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def table_items(stack, logical_id: str) -> list[dict]:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    dynamodb = session.client("dynamodb", endpoint_url=stack.moto_endpoint)
    name = LocalResources(parse_template()).physical_name(logical_id)
    return dynamodb.scan(TableName=name)["Items"]


@pytest.fixture(scope="module")
def user(local_stack) -> Iterator[httpx.Client]:
    """A signed-in dashboard user with a default key."""
    token = sign_up_and_in(local_stack)
    client = httpx.Client(
        base_url=local_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    created = client.post("/api/keys", json={"name": "default"})
    assert created.status_code == 201 and created.json()["is_default"] is True
    yield client
    client.close()


def test_install_a_starter_tool_run_it_and_see_it_in_usage_and_the_tool_log(
    user: httpx.Client, local_stack
) -> None:
    starters = user.get("/api/tools/starter").json()["data"]
    assert len(starters) == 5
    tool = user.post("/api/tools", json={"starter_id": "support-reply"}).json()
    assert [t["id"] for t in user.get("/api/tools").json()["data"]] == [tool["id"]]
    assert user.get(f"/api/tools/{tool['id']}").json() == tool, "one tool, routed from the template"

    answer = user.post("/api/tools/proxy/chat", json={"tool_id": tool["id"], "input": "My order is late"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"].startswith("Simulated reply to:")
    body = {"tool_id": tool["id"], "input": "Where is my refund?", "stream": True}
    with user.stream("POST", "/api/tools/proxy/chat", json=body) as streamed:
        assert streamed.status_code == 200 and streamed.headers["content-type"].startswith(
            "text/event-stream"
        )
        lines = sse_lines(streamed)
    assert lines[-1] == "data: [DONE]" and streamed_text(lines).startswith("Simulated reply to:")

    runs = eventually(
        lambda: len(data := user.get(f"/api/tools/{tool['id']}/runs").json()["data"]) == 2 and data
    )
    assert runs, "both runs reach the tool log through the usage consumer"
    assert {r["stream"] for r in runs} == {True, False} and all(r["outcome"] == "success" for r in runs)
    assert all(r["output_tokens"] > 0 and r["routed_model"] for r in runs)
    assert user.get(f"/api/tools/{tool['id']}/runs", params={"cursor": "zzz"}).status_code == 400
    usage = eventually(
        lambda: (u := user.get("/api/dashboard/credits").json())["usage"]["requests"] >= 2 and u
    )
    assert usage and usage["usage"]["requests"] >= 2 and usage["balance"] <= 98
    records = [
        item
        for item in table_items(local_stack, "UsageTable")
        if item["pk"]["S"].startswith("REQ#") and item.get("tool_id", {}).get("S") == tool["id"]
    ]
    assert sorted(r["endpoint"]["S"] for r in records) == ["tools.proxy", "tools.proxy"]
    assert {r["stream"]["BOOL"] for r in records} == {True, False}


def test_playground_token_session_streaming_chat_history_and_export(user: httpx.Client, local_stack) -> None:
    issued = user.post("/api/playground/token")
    assert issued.status_code == 201 and issued.json()["expires_in"] <= 900
    browser = httpx.Client(
        base_url=local_stack.base_url,
        headers={"Authorization": f"Bearer {issued.json()['token']}"},
        timeout=30,
    )
    with browser:
        session = browser.post(
            "/api/playground/sessions", json={"title": "E2E", "system_prompt": "Be brief."}
        ).json()
        body = {"session_id": session["id"], "message": "Tell me about sluice gates"}
        with browser.stream("POST", "/api/playground/chat", json=body) as streamed:
            assert streamed.status_code == 200
            lines = sse_lines(streamed)
        reply = streamed_text(lines)
        assert lines[-1] == "data: [DONE]" and reply

        history = eventually(
            lambda: (
                (h := browser.get(f"/api/playground/sessions/{session['id']}/messages").json())["data"] and h
            )
        )
        assert [(m["role"], m["content"]) for m in history["data"]] == [
            ("user", "Tell me about sluice gates"),
            ("assistant", reply),
        ]
        as_json = browser.get(f"/api/playground/sessions/{session['id']}/export", params={"format": "json"})
        as_markdown = browser.get(
            f"/api/playground/sessions/{session['id']}/export", params={"format": "markdown"}
        )
        assert as_json.status_code == 200 and len(as_json.json()["messages"]) == 2
        assert as_markdown.status_code == 200 and as_markdown.text.startswith("# E2E")
        assert reply in as_markdown.text and "## System" in as_markdown.text
        listed = browser.get("/api/playground/sessions").json()["data"]
        assert session["id"] in [s["id"] for s in listed]
        # The Cognito token is not a playground token, and the playground token is not a Cognito one.
        assert (
            httpx.get(f"{local_stack.base_url}/api/playground/sessions", headers=user.headers).status_code
            == 401
        )
        assert browser.get("/api/tools").status_code == 401


def test_chat_workspace_streams_through_the_default_key(user: httpx.Client) -> None:
    body = {
        "model": "auto",
        "stream": True,
        "messages": [{"role": "user", "content": "Hello from the workspace"}],
    }
    with user.stream("POST", "/api/internal/chat", json=body) as streamed:
        assert streamed.status_code == 200 and streamed.headers["x-ratelimit-limit"] == "36"
        lines = sse_lines(streamed)
    assert lines[-1] == "data: [DONE]" and streamed_text(lines).startswith("Simulated reply to:")


def test_contact_form_accepted_honeypot_dropped_and_the_ninth_in_a_minute_429(local_stack) -> None:
    url = f"{local_stack.base_url}/api/contact"
    form = {
        "name": "Ada",
        "email": "ada@example.com",
        "topic": "support",
        "message": "Hello, I need some help.",
    }
    left = 60 - time.time() % 60
    if left < 15:
        time.sleep(left + 0.1)  # all nine in one window
    before = len(table_items(local_stack, "ContactTable"))

    accepted = httpx.post(url, json=form, headers={"Idempotency-Key": str(uuid.uuid4())})
    honeypot = httpx.post(
        url, json={**form, "message": "Buy cheap things now!!!", "website": "http://spam.example"}
    )
    others = [httpx.post(url, json={**form, "message": f"Follow-up message {i}"}) for i in range(6)]
    ninth = httpx.post(url, json=form)

    assert accepted.status_code == 202 and honeypot.status_code == 202
    assert set(honeypot.json()) == set(accepted.json()) == {"object", "id", "status"}
    assert [r.status_code for r in others] == [202] * 6
    assert ninth.status_code == 429 and ninth.json()["error"]["code"] == "rate_limit_exceeded"
    assert ninth.headers["x-ratelimit-limit"] == "8" and int(ninth.headers["retry-after"]) >= 1
    items = eventually(
        lambda: (
            (i := table_items(local_stack, "ContactTable"))
            and all(x["status"]["S"] == "stored_only" for x in i)
            and i
        )
    )
    assert items, "the messages stored, each marked stored_only"
    assert len(items) == before + 7, "the honeypot message was not stored"
    assert not any("spam.example" in json.dumps(x) or "Buy cheap" in json.dumps(x) for x in items)
    assert all(x["status"]["S"] == "stored_only" for x in items), "no SES address locally: stored only"
