"""Accepting contact messages (once per idempotency key) and notifying the operator about them.

A filled honeypot is answered exactly like a success (a retry with its idempotency key too), but
nothing is stored or sent. The notification is at-least-once: SES when
``SLUICE_CONTACT_NOTIFY_EMAIL`` is set, otherwise the message is only stored and marked
``stored_only`` (docs/DASHBOARD.md).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from shared.adapters import contact_queue, contact_store, idempotency, mailer
from shared.contact.models import ContactMessage
from shared.contact.wire import ContactForm
from shared.observability import get_logger
from shared.settings import get_settings

RETENTION = dt.timedelta(days=365)
Notified = Literal["notified", "stored_only", "unchanged", "missing"]


@dataclass(frozen=True)
class Accepted:
    body: dict[str, Any]
    replayed: bool = False


def _receipt(contact_id: str) -> dict[str, Any]:
    return {"object": "contact_message", "id": contact_id, "status": "received"}


def _new_id() -> str:
    return "cm_" + secrets.token_hex(12)


def _store_and_queue(form: dict[str, Any]) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    message = ContactMessage(
        contact_id=_new_id(),
        name=form["name"],
        email=form["email"],
        topic=form["topic"],
        message=form["message"],
        created_at=now.isoformat(timespec="milliseconds"),
        expires_at=int((now + RETENTION).timestamp()),
    )
    contact_store.put_message(message)
    contact_queue.send_notice(message.contact_id)
    return _receipt(message.contact_id)


def _drop(form: dict[str, Any]) -> dict[str, Any]:
    """A filled honeypot: a receipt like a real one, nothing stored or sent."""
    get_logger().info("contact honeypot filled; dropped")
    return _receipt(_new_id())


def submit(form: ContactForm, idempotency_key: str | None) -> Accepted:
    """Store and queue a message; with a key, a retry gets the first answer and stores nothing.

    A filled honeypot goes through the same idempotency (only its receipt is kept), so a bot
    cannot tell it was dropped from how a retry is answered. Its payload holds ``website``, which
    a real one's never does: one key cannot serve both."""
    if form.is_spam:
        return _once(idempotency_key, form.model_dump(), _drop)
    return _once(idempotency_key, form.model_dump(exclude={"website"}), _store_and_queue)


def _once(key: str | None, payload: dict[str, Any], operation: idempotency.Operation) -> Accepted:
    if key is None:
        return Accepted(operation(payload))
    body, replayed = idempotency.run_once("contact", key, payload, operation)
    return Accepted(body, replayed)


def notification_text(message: ContactMessage) -> tuple[str, str]:
    """Subject and plain-text body of the operator's notification."""
    subject = f"[Sluice contact] {message.topic}: {message.name}"[:200]
    body = (
        f"From: {message.name} <{message.email}>\nTopic: {message.topic}\n"
        f"Received: {message.created_at}\nId: {message.contact_id}\n\n{message.message}\n"
    )
    return subject, body


def notify(contact_id: str) -> Notified:
    """Forward one stored message to the operator, or mark it stored-only; idempotent by status."""
    message = contact_store.get_message(contact_id)
    if message is None:
        return "missing"
    if message.status != "received":
        return "unchanged"
    recipient = get_settings().contact_notify_email
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    if not recipient:
        contact_store.set_status(contact_id, "stored_only", now)
        return "stored_only"
    subject, body = notification_text(message)
    mailer.send_text(sender=recipient, to=recipient, reply_to=message.email, subject=subject, body=body)
    contact_store.set_status(contact_id, "notified", now)
    return "notified"
