"""A session as a downloadable document: JSON (complete, machine-readable) or Markdown (to read)."""

from __future__ import annotations

import json
from typing import Any, Literal

from shared.errors import InvalidRequest
from shared.playground.models import Session, StoredMessage

ExportFormat = Literal["json", "markdown"]
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "markdown": "text/markdown; charset=utf-8"}
EXTENSIONS = {"json": "json", "markdown": "md"}


def export_format(raw: str | None) -> ExportFormat:
    """``?format=``: json (default) or markdown (``md`` too)."""
    value = (raw or "json").lower()
    if value == "json":
        return "json"
    if value in ("markdown", "md"):
        return "markdown"
    raise InvalidRequest("format must be json or markdown.", param="format")


def to_json(session: Session, messages: list[StoredMessage], exported_at: str, truncated: bool) -> str:
    document: dict[str, Any] = {
        "object": "playground_session_export",
        "exported_at": exported_at,
        "session": session.view(),
        "messages": [m.view() for m in messages],
        "truncated": truncated,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _heading(message: StoredMessage) -> str:
    who = "User" if message.role == "user" else "Assistant"
    model = f" ({message.model})" if message.role == "assistant" and message.model else ""
    return f"## {who}{model} · {message.created_at}"


def to_markdown(session: Session, messages: list[StoredMessage], exported_at: str, truncated: bool) -> str:
    lines = [
        f"# {session.title or 'Untitled session'}",
        "",
        f"- Session: `{session.session_id}`",
        f"- Model: `{session.model}`",
        f"- Created: {session.created_at}",
        f"- Exported: {exported_at}",
        f"- Messages: {len(messages)}{' (truncated)' if truncated else ''}",
        "",
    ]
    if session.system_prompt:
        lines += ["## System", "", session.system_prompt, ""]
    for message in messages:
        lines += [_heading(message), "", message.content, ""]
    return "\n".join(lines)


def render_export(
    fmt: ExportFormat, session: Session, messages: list[StoredMessage], exported_at: str, truncated: bool
) -> str:
    render = to_json if fmt == "json" else to_markdown
    return render(session, messages, exported_at, truncated)


def filename(session: Session, fmt: ExportFormat) -> str:
    return f"{session.session_id}.{EXTENSIONS[fmt]}"
