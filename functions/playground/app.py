"""Playground function: token, streaming chat in sessions, session list, history and export.

``POST /api/playground/token`` is Cognito-authorized; every other route takes the playground
token it issues (``Authorization: Bearer <token>``), so the browser holds neither a key nor its
Cognito session for these calls. Chat runs through the account's default key. Deployed under the
Lambda Web Adapter (``run.sh``) because the chat streams.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from shared.auth.users import user_from_claims
from shared.dashboard.paging import page_limit
from shared.http.app import create_app
from shared.http.body import parse_model, read_json
from shared.http.chat import error_headers
from shared.http.chat_capture import Capture, after_body, capturing
from shared.http.chat_flow import execute_call
from shared.http.chat_formats import OPENAI
from shared.http.context import authorizer_claims, source_ip
from shared.http.dashboard_chat import default_key_caller, prepare_call, read_chat_json, signed_in_account
from shared.http.limits import enforce, with_limits
from shared.limits.buckets import LimitFacts
from shared.observability import get_logger
from shared.playground import export, sessions
from shared.playground.auth import PlaygroundUser, issue_for, playground_user
from shared.playground.conversation import HISTORY_MESSAGES, playground_request
from shared.playground.limits import check_message, check_system_prompt
from shared.playground.models import Session
from shared.playground.wire import CreateSession, PlaygroundChat

MAX_BODY = 64 * 1024
EXPORT_MAX_MESSAGES = 2_000
ENDPOINT = "playground.chat"
NO_STORE = {"Cache-Control": "no-store"}


def _json(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def _user(request: Request) -> PlaygroundUser:
    return await asyncio.to_thread(playground_user, request.headers.get("authorization"))


async def issue_token(request: Request) -> JSONResponse:
    sub, _ = user_from_claims(authorizer_claims(request.scope))
    account = await signed_in_account(request)
    admission = await enforce(request, "playground.token", plan=account.plan, user=account.account_id)
    token, claims = await asyncio.to_thread(issue_for, sub)
    body = {
        "object": "playground_token",
        "token": token,
        "token_type": "Bearer",
        "expires_at": claims.expires_at,
        "expires_in": claims.expires_at - claims.issued_at,
    }
    return await with_limits(_json(body, status=201), admission)


async def chat(request: Request) -> Response:
    user = await _user(request)
    account_id = user.account.account_id
    caller = await default_key_caller(request, user.account)
    body = parse_model(PlaygroundChat, await read_chat_json(request, caller))
    check_message(body.message, caller.plan)
    check_system_prompt(body.system_prompt, caller.plan)
    session = await asyncio.to_thread(sessions.get_session, account_id, body.session_id)
    history = await asyncio.to_thread(
        sessions.recent_messages, account_id, session.session_id, HISTORY_MESSAGES
    )
    call = await prepare_call(
        request, playground_request(session, history, body, caller.plan), caller, ENDPOINT
    )
    capture = Capture()
    facts = LimitFacts(ip=source_ip(request.scope), user=account_id)
    response = await execute_call(request, call, capturing(OPENAI, capture), facts, ENDPOINT)

    async def keep() -> None:
        await _keep_exchange(account_id, session, body, capture)

    if isinstance(response, StreamingResponse):
        return after_body(response, keep)
    await keep()
    return response


async def _keep_exchange(account_id: str, session: Session, body: PlaygroundChat, capture: Capture) -> None:
    """Store the message and the reply once the reply is known; a failure here is logged only."""
    if not capture.text and capture.finish_reason is None:
        return  # nothing reached the user: nothing to keep
    messages = sessions.exchange_messages(
        session.session_id,
        body.message,
        capture.text,
        model=capture.model,
        finish_reason=capture.finish_reason,
        usage=capture.usage,
    )
    try:
        await asyncio.to_thread(sessions.record_exchange, account_id, session, messages, body.system_prompt)
    except Exception:
        get_logger().exception("playground exchange not stored", extra={"session_id": session.session_id})


async def list_sessions(request: Request) -> JSONResponse:
    user = await _user(request)
    account = user.account
    admission = await enforce(request, "playground.sessions.list", plan=account.plan, user=account.account_id)
    limit = page_limit(request.query_params.get("limit"))
    cursor = request.query_params.get("cursor")
    page = await asyncio.to_thread(sessions.list_sessions, account.account_id, limit, cursor)
    return await with_limits(_json(page), admission)


async def create_session(request: Request) -> JSONResponse:
    user = await _user(request)
    account = user.account
    admission = await enforce(
        request, "playground.sessions.create", plan=account.plan, user=account.account_id
    )
    data = await read_json(request, MAX_BODY, empty_is_object=True)  # every field is optional
    body = parse_model(CreateSession, data)
    session = await asyncio.to_thread(sessions.create_session, account.account_id, body, account.plan)
    return await with_limits(_json(session.view(), status=201), admission)


async def history(request: Request) -> JSONResponse:
    user = await _user(request)
    account, session_id = user.account, request.path_params["session_id"]
    admission = await enforce(
        request, "playground.history", plan=account.plan, user=account.account_id, session_id=session_id
    )
    limit = page_limit(request.query_params.get("limit"))
    cursor = request.query_params.get("cursor")
    page = await asyncio.to_thread(sessions.messages_page, account.account_id, session_id, limit, cursor)
    return await with_limits(_json(page), admission)


async def export_session(request: Request) -> Response:
    user = await _user(request)
    account, session_id = user.account, request.path_params["session_id"]
    admission = await enforce(
        request, "playground.export", plan=account.plan, user=account.account_id, session_id=session_id
    )
    fmt = export.export_format(request.query_params.get("format"))
    session = await asyncio.to_thread(sessions.get_session, account.account_id, session_id)
    messages, truncated = await asyncio.to_thread(
        sessions.all_messages, account.account_id, session.session_id, EXPORT_MAX_MESSAGES
    )
    exported_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    content = export.render_export(fmt, session, messages, exported_at, truncated)
    disposition = f'attachment; filename="{export.filename(session, fmt)}"'
    response = Response(
        content,
        media_type=export.MEDIA_TYPES[fmt],
        headers={**NO_STORE, "Content-Disposition": disposition},
    )
    return await with_limits(response, admission)


async def ready(request: Request) -> Response:
    """Readiness check of the Lambda Web Adapter (not routed by API Gateway)."""
    return PlainTextResponse("ok")


routes = [
    Route("/api/playground/token", issue_token, methods=["POST"]),
    Route("/api/playground/chat", chat, methods=["POST"]),
    Route("/api/playground/sessions", list_sessions, methods=["GET"]),
    Route("/api/playground/sessions", create_session, methods=["POST"]),
    Route("/api/playground/sessions/{session_id}/messages", history, methods=["GET"]),
    Route("/api/playground/sessions/{session_id}/export", export_session, methods=["GET"]),
    Route("/_ready", ready, methods=["GET"]),
]

app = create_app(routes, error_headers=error_headers)
