"""Billing function: ``POST /api/billing/webhook``, the payment provider's signed webhook.

The signature is checked over the raw body before anything is parsed; a verified
``payment.succeeded`` grants its package once per event id. Other event types are acknowledged
and ignored, so the provider does not retry them.
"""

from __future__ import annotations

import json
import time

from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.adapters.webhook_secret import webhook_secret
from shared.billing.payments import apply_payment
from shared.billing.signature import HEADER, verify
from shared.billing.wire import PAYMENT_SUCCEEDED, PaymentSucceeded, WebhookEnvelope
from shared.errors import InvalidRequest, RequestTooLarge
from shared.http.app import create_app
from shared.http.body import parse_model
from shared.observability import get_logger

MAX_BODY_BYTES = 64 * 1024


async def _raw_body(request: Request) -> bytes:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"Webhook body exceeds the {MAX_BODY_BYTES // 1024} KB limit.")
    return raw


async def webhook(request: Request) -> JSONResponse:
    """POST /api/billing/webhook: verify, parse, grant once."""
    raw = await _raw_body(request)
    verify(webhook_secret(), request.headers.get(HEADER), raw, time.time())
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequest("Webhook body is not valid JSON.") from exc
    envelope = parse_model(WebhookEnvelope, data)
    if envelope.type != PAYMENT_SUCCEEDED:
        return JSONResponse({"received": True, "event_id": envelope.id, "ignored": True})
    result = apply_payment(envelope.id, parse_model(PaymentSucceeded, envelope.data))
    get_logger().info(
        "payment applied",
        extra={"event_id": result.event_id, "granted": result.granted, "package": result.package},
    )
    return JSONResponse(
        {
            "received": True,
            "event_id": result.event_id,
            "duplicate": not result.granted,
            "package": result.package,
            "credits": result.credits,
        }
    )


app = create_app([Route("/api/billing/webhook", webhook, methods=["POST"])], cors=False)
handler = Mangum(app, lifespan="off")
