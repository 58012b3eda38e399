"""Playground sessions and their messages, as stored and as shown."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SESSION_ID_PATTERN = r"^ps_[0-9a-f]{20}$"


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str
    title: str | None = None
    model: str = "auto"
    system_prompt: str | None = None
    message_count: int = 0
    created_at: str
    updated_at: str

    def view(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        return {"object": "playground_session", "id": data.pop("session_id"), **data}


class StoredMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: str
    session_id: str
    role: Literal["user", "assistant"]
    content: str
    model: str | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    created_at: str

    def view(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        return {"object": "playground_message", "id": data.pop("message_id"), **data}
