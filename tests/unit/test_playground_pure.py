"""Pure pieces of the playground: tokens, history that fits the plan, export documents, cursors."""

from __future__ import annotations

import base64
import json

import pytest

from shared.dashboard.paging import decode_cursor, encode_cursor, page_limit
from shared.errors import InvalidRequest
from shared.playground.conversation import fitting_history, playground_request
from shared.playground.export import export_format, to_json, to_markdown
from shared.playground.models import Session, StoredMessage
from shared.playground.token import InvalidPlaygroundToken, issue_token, verify_token
from shared.playground.wire import PlaygroundChat

SECRET = b"k" * 48
SESSION = Session(
    session_id="ps_019a7b3c4d5e6f708192",
    title="Notes",
    model="auto",
    system_prompt="Be brief.",
    created_at="2025-11-22T01:00:00.000+00:00",
    updated_at="2025-11-22T01:00:00.000+00:00",
)


def message(role: str, content: str, i: int) -> StoredMessage:
    return StoredMessage(
        message_id=f"{i:013d}abcdef-{0 if role == 'user' else 1}",
        session_id=SESSION.session_id,
        role=role,  # type: ignore[arg-type]
        content=content,
        model="hrllm" if role == "assistant" else None,
        created_at="2025-11-22T01:00:00.000+00:00",
    )


def test_a_token_verifies_until_it_expires_and_any_change_breaks_it() -> None:
    token, claims = issue_token("user-1", SECRET, now=1_000, lifetime_s=900)

    assert verify_token(token, SECRET, now=1_000).sub == "user-1"
    assert claims.account_id == "acct_user-1"
    for i in range(len(token)):
        if token[i] == ".":
            continue
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(InvalidPlaygroundToken):
            verify_token(changed, SECRET, now=1_000)
    with pytest.raises(InvalidPlaygroundToken, match="expired"):
        verify_token(token, SECRET, now=1_900)
    with pytest.raises(InvalidPlaygroundToken, match="signature"):
        verify_token(token, b"x" * 48, now=1_000)


def test_history_keeps_the_newest_turns_that_fit_and_starts_with_a_user_turn() -> None:
    history = [
        message("user", "a" * 10, 1),
        message("assistant", "b" * 9_000, 2),  # over the Free per-message limit
        message("user", "c" * 10, 3),
        message("assistant", "d" * 10, 4),
    ]

    assert [m.content[0] for m in fitting_history(history, 10, "free")] == ["c", "d"]
    assert [m.content[0] for m in fitting_history(history, 10, "pro")] == ["a", "b", "c", "d"]
    assert fitting_history(history, 32_000, "free") == [], "no room left beside the new message"
    assert [m.content[0] for m in fitting_history(history[1:], 10, "pro")] == ["c", "d"], (
        "starts with a user turn"
    )


def test_the_request_carries_system_history_and_the_new_message() -> None:
    body = PlaygroundChat(session_id=SESSION.session_id, message="next", temperature=0.3)

    request = playground_request(
        SESSION, [message("user", "q", 1), message("assistant", "a", 2)], body, "free"
    )

    assert request.model == "auto" and request.stream is True and request.sampling.temperature == 0.3
    assert [t.text for t in request.system] == ["Be brief."]
    assert [(m.role.value, m.parts[0].text) for m in request.messages] == [  # type: ignore[union-attr]
        ("user", "q"),
        ("assistant", "a"),
        ("user", "next"),
    ]


def test_export_documents() -> None:
    messages = [message("user", "Hello?", 1), message("assistant", "Hi.", 2)]

    document = json.loads(to_json(SESSION, messages, "2025-11-22T02:00:00+00:00", truncated=False))
    markdown = to_markdown(SESSION, messages, "2025-11-22T02:00:00+00:00", truncated=True)

    assert document["session"]["id"] == SESSION.session_id and len(document["messages"]) == 2
    assert document["messages"][1] == {
        "object": "playground_message",
        "id": messages[1].message_id,
        "session_id": SESSION.session_id,
        "role": "assistant",
        "content": "Hi.",
        "model": "hrllm",
        "created_at": "2025-11-22T01:00:00.000+00:00",
    }
    assert markdown.splitlines()[0] == "# Notes"
    assert "- Messages: 2 (truncated)" in markdown
    assert "## User · 2025-11-22T01:00:00.000+00:00\n\nHello?" in markdown
    assert "## Assistant (hrllm) · 2025-11-22T01:00:00.000+00:00\n\nHi." in markdown
    assert export_format("md") == export_format("MARKDOWN") == "markdown" and export_format(None) == "json"
    with pytest.raises(InvalidRequest):
        export_format("pdf")


def test_cursors_round_trip_and_stay_in_their_list() -> None:
    sort_key = "MSG#ps_019a7b3c4d5e6f708192#0000000000001abcdef-0"
    prefix, scope = "MSG#ps_019a7b3c4d5e6f708192#", "acct_1#ps_019a7b3c4d5e6f708192"

    assert decode_cursor(encode_cursor(sort_key, scope=scope), prefix, scope=scope) == sort_key
    assert decode_cursor(None, "MSG#", scope=scope) is None
    untagged = base64.urlsafe_b64encode(sort_key.encode()).decode()  # a cursor before lists were tagged
    for bad in ("%%%", encode_cursor("SESSION#ps_x", scope=scope), "A" * 600, untagged):
        with pytest.raises(InvalidRequest):
            decode_cursor(bad, prefix, scope=scope)


def test_a_cursor_of_another_list_with_the_same_shape_is_refused() -> None:
    """Another tool's run log, another account's sessions: their sort keys have this list's shape,
    and such a cursor used to give a silently empty or shifted page."""
    sort_key = "1763780400123#req_1"
    cursor = encode_cursor(sort_key, scope="TOOLRUN#acct_1#tool_a")

    assert decode_cursor(cursor, "", scope="TOOLRUN#acct_1#tool_a") == sort_key
    for other in ("TOOLRUN#acct_1#tool_b", "TOOLRUN#acct_2#tool_a"):
        with pytest.raises(InvalidRequest, match="not a cursor of this list"):
            decode_cursor(cursor, "", scope=other)


def test_page_limits() -> None:
    assert page_limit(None) == 50 and page_limit("100") == 100
    for bad in ("0", "101", "-1", "ten", "³", "²5", "1٣"):  # "³".isdigit() is true; int("³") fails
        with pytest.raises(InvalidRequest):
            page_limit(bad)
