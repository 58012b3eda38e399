"""Playground sessions of one user: create, list, read, append an exchange."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from typing import Any

from shared.adapters import session_store
from shared.chat.canonical import Usage
from shared.dashboard.paging import decode_cursor, encode_cursor
from shared.errors import NotFound, echoed_id
from shared.keys.service import now_iso
from shared.playground.limits import check_system_prompt
from shared.playground.models import SESSION_ID_PATTERN, Session, StoredMessage
from shared.playground.wire import CreateSession
from shared.tools.service import check_model

TITLE_CHARS = 60


def _new_session_id() -> str:
    return f"ps_{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def exchange_messages(
    session_id: str,
    question: str,
    answer: str,
    *,
    model: str | None,
    finish_reason: str | None,
    usage: Usage | None,
) -> list[StoredMessage]:
    """The user message and the reply of one exchange; ids sort by time, the user's first."""
    at = dt.datetime.now(dt.UTC)
    exchange = f"{int(at.timestamp() * 1000):013d}{secrets.token_hex(3)}"
    created = at.isoformat(timespec="milliseconds")
    return [
        StoredMessage(
            message_id=f"{exchange}-0",
            session_id=session_id,
            role="user",
            content=question,
            created_at=created,
        ),
        StoredMessage(
            message_id=f"{exchange}-1",
            session_id=session_id,
            role="assistant",
            content=answer,
            model=model,
            finish_reason=finish_reason,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            created_at=created,
        ),
    ]


def create_session(account_id: str, body: CreateSession, plan: str) -> Session:
    """A new, empty session; its model is checked as a tool's is (known, not retired, on the plan)."""
    check_system_prompt(body.system_prompt, plan)
    check_model(body.model, plan)
    now = now_iso()
    session = Session(
        session_id=_new_session_id(),
        title=body.title,
        model=body.model,
        system_prompt=body.system_prompt,
        created_at=now,
        updated_at=now,
    )
    session_store.put_session(account_id, session)
    return session


def get_session(account_id: str, session_id: str) -> Session:
    """The user's session, or 404: another user's session is indistinguishable from none."""
    found = None
    if re.fullmatch(SESSION_ID_PATTERN, session_id):
        found = session_store.get_session(account_id, session_id)
    if found is None:
        raise NotFound(f"No playground session {echoed_id(session_id)}.", param="session_id")
    return found


def list_sessions(account_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the user's sessions, newest first."""
    after = decode_cursor(cursor, session_store.SESSION_PREFIX, scope=account_id)
    sessions, last = session_store.list_sessions(account_id, limit, after)
    return _page([s.view() for s in sessions], last, account_id)


def messages_page(account_id: str, session_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a session's messages, oldest first (404 for a session that is not the user's)."""
    session = get_session(account_id, session_id)
    scope = f"{account_id}#{session.session_id}"
    after = decode_cursor(cursor, session_store.messages_prefix(session.session_id), scope=scope)
    messages, last = session_store.list_messages(account_id, session.session_id, limit, after)
    return {**_page([m.view() for m in messages], last, scope), "session": session.view()}


def _page(data: list[dict[str, Any]], last: str | None, scope: str) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "has_more": last is not None,
        "next_cursor": encode_cursor(last, scope=scope) if last else None,
    }


def recent_messages(account_id: str, session_id: str, most: int) -> list[StoredMessage]:
    """The last ``most`` messages of a session, oldest first."""
    newest, _ = session_store.list_messages(account_id, session_id, most, None, newest_first=True)
    return list(reversed(newest))


def all_messages(account_id: str, session_id: str, most: int) -> tuple[list[StoredMessage], bool]:
    """Up to ``most`` messages, oldest first, and whether there were more."""
    found: list[StoredMessage] = []
    after: str | None = None
    while len(found) < most:
        page, after = session_store.list_messages(account_id, session_id, min(100, most - len(found)), after)
        found.extend(page)
        if after is None:
            return found, False
    return found, True


def record_exchange(
    account_id: str, session: Session, messages: list[StoredMessage], system_prompt: str | None
) -> bool:
    """Keep an exchange; the first one titles an untitled session. False if the session is gone."""
    fields: dict[str, Any] = {"updated_at": now_iso()}
    if session.title is None and messages:
        fields["title"] = " ".join(messages[0].content.split())[:TITLE_CHARS] or "Untitled"
    if system_prompt is not None:
        fields["system_prompt"] = system_prompt
    return session_store.append_messages(account_id, session, messages, fields)
