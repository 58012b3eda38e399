"""Notices about new contact messages, to the contact queue (only the id travels)."""

from __future__ import annotations

from shared.adapters.aws import sqs
from shared.contact.models import ContactNotice
from shared.settings import get_settings


def send_notice(contact_id: str) -> None:
    body = ContactNotice(contact_id=contact_id).model_dump_json()
    sqs().send_message(QueueUrl=get_settings().contact_queue_url, MessageBody=body)
