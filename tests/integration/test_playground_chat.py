"""Playground chat in a session: streamed reply, both messages kept, history as context, limits."""

from __future__ import annotations

import pytest
from chat_support import LoopbackServer, RecordingUpstream, install_catalog, openai_route, queued_usage_events
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
    sse_data,
    streamed_text,
)

from shared.accounts.models import Plan
from shared.adapters import key_store
from shared.keys.service import revoke_key
from shared.limits.buckets import LimitFacts

pytestmark = pytest.mark.usefixtures("chat_world")


def chat(token: str, session_id: str, message: str = "Write a haiku about rate limits.", ip=None, **extra):
    return playground(
        "chat", token=token, ip=ip, body={"session_id": session_id, "message": message, **extra}
    )


def history(token: str, session_id: str, **query) -> dict:
    response = playground(
        "session_messages", token=token, path_params={"session_id": session_id}, query=query
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reply_streams_and_both_messages_are_kept(chat_world) -> None:
    user = make_user(ADA, "free", credits=20)
    token = playground_token(ADA)
    session = new_session(token)

    response = chat(token, session["id"])

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert sse_data(response.text)[-1] == "[DONE]"
    reply = streamed_text(response.text)
    assert reply.startswith("Simulated reply to:")
    assert response.headers["x-ratelimit-limit"] == "24" and response.headers["x-credits-remaining"] == "19"
    page = history(token, session["id"])
    assert [(m["role"], m["content"]) for m in page["data"]] == [
        ("user", "Write a haiku about rate limits."),
        ("assistant", reply),
    ]
    assert page["data"][1]["finish_reason"] == "stop" and page["data"][1]["model"]
    assert page["session"]["message_count"] == 2
    [event] = queued_usage_events(chat_world.usage_queue)
    [key] = key_store.list_account_keys(user.account_id)
    assert (
        event["endpoint"] == "playground.chat" and event["key_id"] == key.key_id and event["charged"] is True
    )


def test_an_untitled_session_takes_its_first_message_as_title() -> None:
    make_user(ADA, "free")
    token = playground_token(ADA)
    session = new_session(token, model="auto")
    assert session["title"] is None

    chat(token, session["id"], "Plan a three day trip to Split with a small budget please")

    listed = playground("list_sessions", token=token).json()["data"]
    assert listed[0]["title"] == "Plan a three day trip to Split with a small budget please"


def test_the_session_history_and_system_prompt_are_sent_as_context() -> None:
    make_user(BOB, "pro")
    token = playground_token(BOB)
    session = new_session(token, title="Context", system_prompt="Answer in haiku.")
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as server:
        install_catalog({m: [openai_route(f"{server.url}/v1")] for m in ("auto", "hrllm", "qwen3")})
        first = chat(token, session["id"], "first question", stream=False)
        second = chat(token, session["id"], "second question", model="qwen3", temperature=0.2)

    assert first.status_code == 200 and second.status_code == 200
    sent = upstream.calls[1].body
    roles = [(m["role"], m["content"]) for m in sent["messages"]]
    assert roles[0][0] == "system" and roles[0][1].endswith("Answer in haiku.")
    assert roles[1] == ("user", "first question")
    assert roles[2][0] == "assistant" and roles[2][1] == first.json()["choices"][0]["message"]["content"]
    assert roles[3] == ("user", "second question")
    assert sent["model"] == "sim-model" and sent["temperature"] == 0.2
    assert history(token, session["id"])["session"]["message_count"] == 4


@pytest.mark.parametrize(
    ("sub", "plan", "chars"), [(ADA, "free", 8_000), (BOB, "pro", 24_000)], ids=["free", "pro"]
)
def test_message_and_system_prompt_limits_by_plan(chat_world, sub: str, plan: Plan, chars: int) -> None:
    user = make_user(sub, plan, credits=50)
    token = playground_token(sub)
    session = new_session(token)
    system_chars = 2_000 if plan == "free" else 8_000

    long_message = chat(token, session["id"], "x" * (chars + 1))
    long_system = chat(token, session["id"], "hi there", system_prompt="s" * (system_chars + 1))
    long_session_system = playground(
        "create_session", token=token, body={"system_prompt": "s" * (system_chars + 1)}
    )

    assert long_message.status_code == 400
    assert (
        long_message.json()["error"]["param"] == "message"
        and f"{chars:,}" in long_message.json()["error"]["message"]
    )
    for refused in (long_system, long_session_system):
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "system_prompt"
        assert f"{system_chars:,}" in refused.json()["error"]["message"]
    assert user.account.balance() == 50 and queued_usage_events(chat_world.usage_queue) == []
    at_limit = chat(token, session["id"], "y " * (chars // 2), system_prompt="s" * system_chars, stream=False)
    assert at_limit.status_code == 200, at_limit.text


def test_another_users_session_is_404_and_untouched(chat_world) -> None:
    make_user(ADA, "free")
    make_user(EVE, "free")
    adas_token, eves_token = playground_token(ADA), playground_token(EVE)
    session = new_session(adas_token)

    response = chat(eves_token, session["id"])

    assert response.status_code == 404
    assert history(adas_token, session["id"])["data"] == []
    assert queued_usage_events(chat_world.usage_queue) == [], "nothing reached a model"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"message": "   \n\t"}, "message"),  # the model would get no text
        ({"stream": "yes"}, "stream"),
        ({"stream": 1}, "stream"),
        ({"temperature": "0.5"}, "temperature"),
        ({"max_tokens": "100"}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
    ],
)
def test_json_types_and_a_blank_message_are_refused_and_nothing_is_charged(chat_world, extra, param) -> None:
    """As the chat routes and tool runs read them: each was taken as a value (or sent as an empty
    turn) and charged."""
    user = make_user(ADA, "free", credits=10)
    token = playground_token(ADA)
    session = new_session(token)

    response = chat(token, session["id"], **extra)

    assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text
    assert history(token, session["id"])["data"] == [] and user.account.balance() == 10
    assert queued_usage_events(chat_world.usage_queue) == [], "nothing reached a model"


def test_without_a_default_key_playground_chat_is_403() -> None:
    user = make_user(ADA, "free")
    token = playground_token(ADA)
    session = new_session(token)
    [key] = key_store.list_account_keys(user.account_id)
    revoke_key(user.account_id, key.key_id)

    response = chat(token, session["id"])

    assert response.status_code == 403 and "default key" in response.json()["error"]["message"]


def test_an_upstream_failure_keeps_nothing_and_charges_nothing(chat_world) -> None:
    user = make_user(ADA, "free", credits=10)
    token = playground_token(ADA)
    session = new_session(token)
    with LoopbackServer(RecordingUpstream(fail_status=500)) as server:
        install_catalog({m: [openai_route(f"{server.url}/v1")] for m in ("auto", "hrllm")})
        response = chat(token, session["id"], stream=False)

    assert response.status_code >= 500
    assert history(token, session["id"])["data"] == []
    assert user.account.balance() == 10


@pytest.mark.parametrize(
    ("sub", "plan", "limit"), [(ADA, "free", 24), (BOB, "pro", 120)], ids=["free", "pro"]
)
def test_playground_chat_row_per_user(sub: str, plan: Plan, limit: int) -> None:
    user = make_user(sub, plan, credits=50)
    token = playground_token(sub)
    session = new_session(token)
    fresh_window()
    preload(
        bucket("playground.chat", "user", plan, LimitFacts(ip=SOURCE_IP, user=user.account_id)), limit - 1
    )

    last = chat(token, session["id"], stream=False)
    refused = chat(token, session["id"], stream=False, ip="203.0.113.9")

    assert_limited(last, refused, limit)
    assert history(token, session["id"])["session"]["message_count"] == 2, "the refused message is not kept"
