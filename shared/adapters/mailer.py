"""Plain-text email through Amazon SES (the contact notifier's only use)."""

from __future__ import annotations

from shared.adapters.aws import client


def send_text(*, sender: str, to: str, reply_to: str, subject: str, body: str) -> str:
    """Send one message; returns SES's message id. SES errors propagate (the queue retries)."""
    response = client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [to]},
        ReplyToAddresses=[reply_to],
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )
    return str(response["MessageId"])
