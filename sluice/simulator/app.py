"""The upstream simulator as a Starlette app: an OpenAI-compatible server for offline use and tests.

Routes: ``GET /health``, ``GET /v1/models``, ``POST /v1/chat/completions`` (streaming or not),
``POST /v1/messages`` (Anthropic's Messages API, see ``anthropic``),
``POST /model/{modelId}/converse`` and ``/converse-stream`` (Amazon Bedrock, see ``bedrock``).
Every response carries ``x-sluice-simulator: 1``; nothing here pretends to be a real model.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sluice.simulator.anthropic import AnthropicMessages
from sluice.simulator.bedrock import BedrockConverse
from sluice.simulator.config import SimulatorConfig
from sluice.simulator.controls import Controls, read_controls
from sluice.simulator.faults import HTTP_FAULTS, NOT_JSON_BODY, FailureCounter, FaultName, with_half_emoji
from sluice.simulator.frontends import CLIENT_CLOSED, read_json
from sluice.simulator.pacing import Timing, faulty_json_body, pause, sse_body
from sluice.simulator.plan import CompletionPlan, plan_completion
from sluice.simulator.render import completion_body, stream_steps
from sluice.simulator.responses import (
    SimulatorHeaderMiddleware,
    error_response,
    fault_response,
    http_error,
    validation_error_response,
)
from sluice.simulator.wire import ChatRequest, InvalidRequest

OWNER = "sluice-simulator"
MODELS_CREATED = 1_700_000_000
NO_CACHE = {"cache-control": "no-cache"}
_BODY_FAULTS = {FaultName.HANG_AFTER_FIRST, FaultName.RESET_MID_STREAM}


def create_app(config: SimulatorConfig) -> Starlette:
    """A fresh simulator app; fail-once counters live in (and die with) this instance."""
    simulator = _Simulator(config)
    routes = [
        Route("/health", simulator.health, methods=["GET"]),
        Route("/v1/models", simulator.models, methods=["GET"]),
        Route("/v1/chat/completions", simulator.chat_completions, methods=["POST"]),
        Route(
            "/v1/messages",
            AnthropicMessages(config, simulator.failures, simulator.timing).create,
            methods=["POST"],
        ),
        *BedrockConverse(simulator.failures, simulator.timing).routes(),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SimulatorHeaderMiddleware)],
        exception_handlers={HTTPException: http_error},
    )


class _Simulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.failures = FailureCounter()

    async def health(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok", "simulator": True})

    async def models(self, request: Request) -> Response:
        if (denied := self._deny(request)) is not None:
            return denied
        data = [
            {"id": model, "object": "model", "created": MODELS_CREATED, "owned_by": OWNER}
            for model in self.config.models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(self, request: Request) -> Response:
        if (denied := self._deny(request)) is not None:
            return denied
        try:
            chat = ChatRequest.model_validate(await read_json(request))
            controls = read_controls(request.headers, chat.last_user_text())
            plan = plan_completion(chat)
            fault = controls.active_fault(self.failures)
        except ValidationError as error:
            return validation_error_response(error)
        except InvalidRequest as error:
            return error_response(400, str(error), "invalid_request_error", param=error.param)
        return await self._answer(request, chat, plan, controls, fault)

    async def _answer(
        self,
        request: Request,
        chat: ChatRequest,
        plan: CompletionPlan,
        controls: Controls,
        fault: FaultName | None,
    ) -> Response:
        if fault in HTTP_FAULTS:
            return fault_response(HTTP_FAULTS[fault])
        timing = self.timing(controls)
        if fault is FaultName.HANG and await pause(request, timing.hang_seconds):
            return Response(status_code=CLIENT_CLOSED)
        if fault is FaultName.INVALID_JSON or (fault is FaultName.MALFORMED_SSE and not chat.stream):
            return Response(NOT_JSON_BODY, media_type="application/json")
        if chat.stream:
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            body = sse_body(request, stream_steps(plan, include_usage), timing, fault)
            return StreamingResponse(body, media_type="text/event-stream", headers=NO_CACHE)
        return await _complete(request, plan, timing, fault)

    def timing(self, controls: Controls) -> Timing:
        rate = self.config.token_rate if controls.token_rate is None else controls.token_rate
        hang = self.config.default_hang_seconds if controls.hang_seconds is None else controls.hang_seconds
        return Timing(token_delay=1 / rate if rate else 0.0, hang_seconds=hang)

    def _deny(self, request: Request) -> Response | None:
        if self.config.api_key is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            message = "Missing API key: send Authorization: Bearer <key>."
            return error_response(401, message, "invalid_request_error")
        if token.strip() != self.config.api_key:
            message = "Incorrect API key provided."
            return error_response(401, message, "invalid_request_error", code="invalid_api_key")
        return None


async def _complete(
    request: Request, plan: CompletionPlan, timing: Timing, fault: FaultName | None
) -> Response:
    """A non-streaming answer, sent once the time its tokens would take to stream has passed."""
    encoded = json.dumps(completion_body(plan)).encode()
    if fault is FaultName.LONE_SURROGATE:
        encoded = with_half_emoji(encoded)
    if await pause(request, timing.token_delay * plan.longest_choice_tokens()):
        return Response(status_code=CLIENT_CLOSED)
    if fault in _BODY_FAULTS:
        return StreamingResponse(
            faulty_json_body(request, encoded, timing, fault), media_type="application/json"
        )
    return Response(encoded, media_type="application/json")
