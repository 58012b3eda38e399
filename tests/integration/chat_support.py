"""The chat function in process, over ASGI, with real upstream servers on loopback.

Accounts, keys and credits are created with the domain code, in the fresh tables of the
``aws`` fixture; the catalog's routes point at the simulator (or whatever a test puts there).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import uvicorn

from shared.accounts.models import Account, Consent, Plan
from shared.adapters import account_store
from shared.adapters.catalog_store import clear_catalog_cache, write_catalog
from shared.auth.api_keys import clear_cache
from shared.catalog.loader import load_catalog_file
from shared.catalog.models import Catalog, UpstreamRoute
from shared.credits.ledger import balance, grant_credits
from shared.keys.service import issue_key, now_iso


@dataclass(frozen=True)
class TestAccount:
    account_id: str
    key: str
    plan: str

    def balance(self) -> int:
        return balance(self.account_id)


def make_account(account_id: str, plan: Plan, credits: int) -> TestAccount:
    consent = Consent(
        terms_version="t", privacy_version="p", responsible_ai_version="r", accepted_at=now_iso()
    )
    account_store.create_account(
        Account(account_id=account_id, plan=plan, consent=consent, created_at=now_iso())
    )
    if credits:
        grant_credits(account_id, credits, source="admin", reference=f"test-{account_id}", expires_at=None)
    return TestAccount(account_id, issue_key(account_id, "test").raw_key, plan)


def install_catalog(routes: dict[str, list[UpstreamRoute]] | None = None) -> Catalog:
    """The default catalog, with some models' routes replaced."""
    catalog = load_catalog_file()
    models = [
        m.model_copy(update={"routes": tuple(routes[m.id])}) if routes and m.id in routes else m
        for m in catalog.models
    ]
    catalog = Catalog(models=tuple(models))
    write_catalog(catalog)
    clear_catalog_cache()
    clear_cache()
    return catalog


def chat_http(**kwargs: Any) -> httpx.AsyncClient:
    from functions.chat.app import app

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sluice.test", timeout=30, **kwargs
    )


def chat_http2(**kwargs: Any) -> Any:
    """The same, for SDKs built on httpx2 (the anthropic SDK)."""
    import httpx2

    from functions.chat.app import app

    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://sluice.test", timeout=30, **kwargs
    )


def queued_usage_events(queue_url: str) -> list[dict[str, Any]]:
    """Every usage event on the queue (received and deleted)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    events: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return events
        for message in batch:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


class LoopbackServer:
    """An ASGI app served by uvicorn on 127.0.0.1 and a free port, from a daemon thread.

    Unlike ``httpx.ASGITransport`` (which buffers a whole response), a real server lets a test
    see when each streamed byte arrives and what a client disconnect does.
    """

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@dataclass
class UpstreamCall:
    """One request an upstream received: its JSON body, when it arrived, how its answer ended."""

    body: dict[str, Any]
    arrived: float  # time.monotonic(), comparable with the test's own clock
    finished: bool = False  # the whole response body was sent
    disconnected: bool = False  # the gateway hung up first


class RecordingUpstream:
    """An OpenAI-compatible upstream that records every request: the simulator, or a fixed failure."""

    def __init__(self, *, fail_status: int | None = None, fail_after_s: float = 0.0) -> None:
        from sluice.simulator import SimulatorConfig
        from sluice.simulator.app import create_app

        self.fail_status = fail_status
        self.fail_after_s = fail_after_s  # a failure that takes this long to come
        self.calls: list[UpstreamCall] = []
        self._simulator = create_app(SimulatorConfig())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        call = UpstreamCall(json.loads(body or b"{}"), time.monotonic())
        self.calls.append(call)
        if self.fail_status is not None:
            await asyncio.sleep(self.fail_after_s)
            error = json.dumps({"error": {"message": "recording upstream failure", "type": "server_error"}})
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": self.fail_status, "headers": headers})
            await send({"type": "http.response.body", "body": error.encode()})
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            message = await receive()
            call.disconnected = call.disconnected or message["type"] == "http.disconnect"
            return message

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                call.finished = True
            await send(message)

        await self._simulator(scope, replay, watch)


def openai_route(base_url: str, model: str = "sim-model") -> UpstreamRoute:
    """A catalog route to an OpenAI-compatible server (``base_url`` ends in ``/v1``)."""
    return UpstreamRoute(provider="openai", base_url=base_url, model=model)
