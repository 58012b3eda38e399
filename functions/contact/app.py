"""Contact function: ``POST /api/contact`` (no auth), 8 requests a minute per IP.

Validated (name, email, topic, message), stored, and announced on the contact queue; the
``website`` honeypot must be empty (filled: answered like a success, nothing stored or sent).
With an ``Idempotency-Key`` header a retry returns the first answer and stores nothing again.
"""

from __future__ import annotations

import asyncio

from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.adapters.idempotency import idempotency_key
from shared.contact.service import submit
from shared.contact.wire import ContactForm
from shared.http.app import create_app
from shared.http.body import parse_model, read_json
from shared.http.limits import enforce, with_limits

MAX_BODY = 16 * 1024


async def contact(request: Request) -> JSONResponse:
    admission = await enforce(request, "contact")
    key = idempotency_key(request.headers.get("idempotency-key"))
    form = parse_model(ContactForm, await read_json(request, MAX_BODY))
    accepted = await asyncio.to_thread(submit, form, key)
    headers = {"Cache-Control": "no-store"}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return await with_limits(JSONResponse(accepted.body, status_code=202, headers=headers), admission)


routes = [Route("/api/contact", contact, methods=["POST"])]
app = create_app(routes)
handler = Mangum(app, lifespan="off")
