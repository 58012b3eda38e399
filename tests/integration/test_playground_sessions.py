"""Playground sessions: create, list, history (paged), export as JSON and Markdown, isolation, limits."""

from __future__ import annotations

import json

import pytest
from dashboard_support import (
    ADA,
    BOB,
    EVE,
    SOURCE_IP,
    assert_limited,
    bucket,
    fresh_window,
    make_user,
    new_session,
    playground,
    playground_token,
    preload,
    tools,
)

from shared.accounts.models import Plan
from shared.limits.buckets import LimitFacts
from shared.playground import sessions
from shared.playground.models import Session

pytestmark = pytest.mark.usefixtures("chat_world")


def seed_exchanges(account_id: str, session_id: str, count: int) -> None:
    """``count`` exchanges written as the chat route writes them (without calling a model)."""
    for i in range(count):
        session = sessions.get_session(account_id, session_id)
        messages = sessions.exchange_messages(
            session_id, f"question {i}", f"answer {i}", model="hrllm", finish_reason="stop", usage=None
        )
        assert sessions.record_exchange(account_id, session, messages, None)


def test_the_sample_event_creates_a_session_and_the_list_shows_it_newest_first() -> None:
    make_user(ADA, "free")
    token = playground_token(ADA)

    created = playground("create_session", token=token)
    second = new_session(token, title="Second")

    assert created.status_code == 201, created.text
    session = created.json()
    assert session["id"].startswith("ps_") and session["title"] == "Haiku practice"
    assert (
        session["model"] == "auto"
        and session["system_prompt"] == "Answer in haiku."
        and session["message_count"] == 0
    )
    listed = playground("list_sessions", token=token)
    assert listed.status_code == 200 and listed.headers["x-ratelimit-limit"] == "72"
    assert [s["id"] for s in listed.json()["data"]] == [second["id"], session["id"]]


def test_sessions_and_history_page_with_limit_and_cursor() -> None:
    user = make_user(ADA, "free")
    token = playground_token(ADA)
    made = [new_session(token, title=f"s{i}")["id"] for i in range(3)]
    seed_exchanges(user.account_id, made[0], 3)  # six messages

    first = playground("list_sessions", token=token, query={"limit": "2"}).json()
    rest = playground(
        "list_sessions", token=token, query={"limit": "2", "cursor": first["next_cursor"]}
    ).json()
    assert [s["id"] for s in first["data"] + rest["data"]] == list(reversed(made))
    assert first["has_more"] is True and rest["has_more"] is False
    make_user(EVE, "free")  # another user's list: Ada's cursor is no cursor of it
    crossed = playground("list_sessions", token=playground_token(EVE), query={"cursor": first["next_cursor"]})
    assert crossed.status_code == 400 and crossed.json()["error"]["param"] == "cursor"

    seen, cursor = [], None
    for _ in range(5):
        query = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = playground("session_messages", token=token, path_params={"session_id": made[0]}, query=query)
        assert page.status_code == 200 and page.headers["x-ratelimit-limit"] == "96"
        seen += [m["content"] for m in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            break
    assert seen == ["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]


def test_an_empty_body_creates_a_session_as_an_empty_object_does() -> None:
    """Every field is optional: an empty body was a 400 "Request body is empty" where ``{}`` worked."""
    make_user(ADA, "free")
    token = playground_token(ADA)

    empty = playground("create_session", token=token, body="")
    braces = playground("create_session", token=token, body={})

    assert empty.status_code == braces.status_code == 201, empty.text
    assert {k: empty.json()[k] for k in ("title", "model", "system_prompt", "message_count")} == {
        "title": None,
        "model": "auto",
        "system_prompt": None,
        "message_count": 0,
    }
    assert empty.json().keys() == braces.json().keys() and empty.json()["id"] != braces.json()["id"]
    assert playground("create_session", token=token, body="not json").status_code == 400


@pytest.mark.parametrize(
    ("plan", "model", "status", "code"),
    [
        ("pro", "nope", 404, "model_not_found"),  # as a chat call answers for an unknown model
        ("pro", "hrllm-v1", None, "model_not_found"),  # retired: names its replacement
        ("free", "qwen3", 403, "permission_denied"),  # a Pro model
    ],
)
def test_a_session_refuses_a_model_as_a_tool_does(plan: Plan, model: str, status, code) -> None:
    make_user(ADA, plan)
    token = playground_token(ADA)

    refused = playground("create_session", token=token, body={"title": "t", "model": model})
    as_tool = tools(
        "install_custom_tool", sub=ADA, body={"tool": {"name": "x", "system_prompt": "y", "model": model}}
    )

    assert 400 <= refused.status_code < 500 and refused.status_code == (status or as_tool.status_code)
    assert refused.json()["error"] == as_tool.json()["error"], "the same refusal as a tool's"
    assert refused.json()["error"]["param"] == "model" and refused.json()["error"]["code"] == (
        code or as_tool.json()["error"]["code"]
    )
    assert playground("list_sessions", token=token).json()["data"] == [], "nothing stored"


@pytest.mark.parametrize(("plan", "model"), [("free", "auto"), ("free", "hrllm"), ("pro", "qwen3")])
def test_a_session_takes_a_model_the_plan_may_call(plan: Plan, model: str) -> None:
    make_user(ADA, plan)

    assert new_session(playground_token(ADA), model=model)["model"] == model


def test_bad_paging_parameters_are_400() -> None:
    make_user(ADA, "free")
    token = playground_token(ADA)
    one, two = new_session(token)["id"], new_session(token)["id"]
    seed_exchanges(f"acct_{ADA}", one, 2)
    page = playground(
        "session_messages", token=token, path_params={"session_id": one}, query={"limit": "1"}
    ).json()

    foreign_cursor = playground(
        "session_messages",
        token=token,
        path_params={"session_id": two},
        query={"cursor": page["next_cursor"]},
    )
    garbage = playground(
        "session_messages", token=token, path_params={"session_id": one}, query={"cursor": "%%%"}
    )
    big = playground("list_sessions", token=token, query={"limit": "101"})

    assert foreign_cursor.status_code == 400 and foreign_cursor.json()["error"]["param"] == "cursor"
    assert garbage.status_code == 400
    assert big.status_code == 400 and big.json()["error"]["param"] == "limit"


def test_a_browser_may_read_the_export_file_name() -> None:
    """CORS: the page's script reads the file name from Content-Disposition, so it is exposed."""
    make_user(ADA, "free")
    token = playground_token(ADA)
    session = new_session(token, title="Haiku practice")

    exported = playground(
        "export_json",
        token=token,
        path_params={"session_id": session["id"]},
        headers={"Origin": "https://app.example"},
    )

    assert exported.status_code == 200 and exported.headers["content-disposition"]
    exposed = {name.strip().lower() for name in exported.headers["access-control-expose-headers"].split(",")}
    assert "content-disposition" in exposed


def test_export_as_json_and_markdown() -> None:
    user = make_user(ADA, "free")
    token = playground_token(ADA)
    session = new_session(token, title="Haiku practice", system_prompt="Answer in haiku.")
    seed_exchanges(user.account_id, session["id"], 2)
    params = {"session_id": session["id"]}

    as_json = playground("export_json", token=token, path_params=params)
    as_markdown = playground("export_markdown", token=token, path_params=params)

    assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
    assert as_json.headers["content-disposition"] == f'attachment; filename="{session["id"]}.json"'
    assert as_json.headers["x-ratelimit-limit"] == "16"
    document = as_json.json()
    assert document["object"] == "playground_session_export" and document["truncated"] is False
    assert (
        document["session"]["id"] == session["id"]
        and document["session"]["system_prompt"] == "Answer in haiku."
    )
    assert [(m["role"], m["content"]) for m in document["messages"]] == [
        ("user", "question 0"),
        ("assistant", "answer 0"),
        ("user", "question 1"),
        ("assistant", "answer 1"),
    ]

    assert as_markdown.status_code == 200 and as_markdown.headers["content-type"].startswith("text/markdown")
    assert as_markdown.headers["content-disposition"] == f'attachment; filename="{session["id"]}.md"'
    text = as_markdown.text
    assert text.startswith("# Haiku practice\n")
    assert "## System\n\nAnswer in haiku.\n" in text
    assert (
        text.index("## User")
        < text.index("question 0")
        < text.index("## Assistant (hrllm)")
        < text.index("answer 0")
    )
    assert text.count("## User") == 2 and text.count("## Assistant") == 2

    unknown = playground("export_json", token=token, path_params=params, query={"format": "pdf"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "format"


def test_a_user_can_never_read_another_users_session() -> None:
    ada = make_user(ADA, "free")
    make_user(EVE, "free")
    adas_token, eves_token = playground_token(ADA), playground_token(EVE)
    session = new_session(adas_token, title="Private")
    seed_exchanges(ada.account_id, session["id"], 1)
    params = {"session_id": session["id"]}

    for route in ("session_messages", "export_json", "export_markdown"):
        response = playground(route, token=eves_token, path_params=params)
        assert response.status_code == 404, route
        assert "question 0" not in response.text and "Private" not in response.text
    assert playground("list_sessions", token=eves_token).json()["data"] == []
    for bogus in ("ps_nothere", "../" + session["id"], "ps_" + "0" * 20):
        response = playground("session_messages", token=adas_token, path_params={"session_id": bogus})
        assert response.status_code == 404


def test_session_records_round_trip() -> None:
    make_user(ADA, "free")
    token = playground_token(ADA)
    created = new_session(token, title="Round trip", model="hrllm")

    stored = sessions.get_session(f"acct_{ADA}", created["id"])

    assert isinstance(stored, Session) and stored.view() == created
    assert json.loads(json.dumps(stored.view())) == created


ROWS = [
    ("list_sessions", "playground.sessions.list", "user+ip", "free", 72),
    ("list_sessions", "playground.sessions.list", "user+ip", "pro", 360),
    ("create_session", "playground.sessions.create", "user+ip", "free", 24),
    ("create_session", "playground.sessions.create", "user+ip", "pro", 120),
    ("session_messages", "playground.history", "user+session+ip", "free", 96),
    ("session_messages", "playground.history", "user+session+ip", "pro", 480),
    ("export_json", "playground.export", "user+session+ip", "free", 16),
    ("export_json", "playground.export", "user+session+ip", "pro", 80),
]


@pytest.mark.parametrize(
    ("route", "endpoint", "limiter", "plan", "limit"), ROWS, ids=[f"{r[1]}-{r[3]}" for r in ROWS]
)
def test_session_rows(route: str, endpoint: str, limiter: str, plan: Plan, limit: int) -> None:
    user = make_user(ADA if plan == "free" else BOB, plan)
    token = playground_token(user.sub)
    session_id = new_session(token)["id"]
    kwargs = {"path_params": {"session_id": session_id}} if "session" in limiter else {}
    facts = LimitFacts(ip=SOURCE_IP, user=user.account_id, session_id=session_id)
    fresh_window()
    preload(bucket(endpoint, limiter, plan, facts), limit - 1)

    last = playground(route, token=token, **kwargs)
    refused = playground(route, token=token, **kwargs)
    elsewhere = playground(route, token=token, ip="203.0.113.99", **kwargs)

    assert_limited(last, refused, limit)
    assert elsewhere.status_code in (200, 201), "these rows are per IP too"
