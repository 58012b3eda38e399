"""A stored contact message and the notice the queue carries about it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["received", "notified", "stored_only"]


class ContactMessage(BaseModel):
    """Contact table item (``contact_id``); kept for a year (``expires_at`` TTL)."""

    model_config = ConfigDict(frozen=True)

    contact_id: str
    name: str
    email: str
    topic: str
    message: str
    status: Status = "received"
    created_at: str
    notified_at: str | None = None
    expires_at: int


class ContactNotice(BaseModel):
    """The queue message: only the id; the notifier reads the message from the table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: str
