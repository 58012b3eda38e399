"""``POST /model/{modelId}/converse`` and ``/converse-stream``: the simulator speaking Amazon Bedrock.

Faithful enough that a real boto3 ``bedrock-runtime`` client pointed at the simulator
(``endpoint_url``, or ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) works unchanged. The body is mapped onto
the OpenAI-shaped ``ChatRequest`` (see ``bedrock_request``) and planned by ``plan_completion``, so
every protocol gives the same words and token counts; only the rendering differs (see
``bedrock_render``). A ConverseStream is paced by ``pacing.sse_body`` like the OpenAI stream, one
token per interval, and stops when the client hangs up.

Auth: an ``Authorization`` header must be present and shaped like SigV4 (``AWS4-HMAC-SHA256
Credential=...``) or a Bedrock API key (``Bearer ...``), else 403. The signature is not verified
and the simulator's ``api_key`` does not apply: the simulator is not an auth test of SigV4.

Errors are Bedrock's: ``{"message"}`` with the code in ``x-amzn-errortype``, at the status AWS
uses for it, so botocore raises a ``ClientError`` with that code. Faults come from the same
controls as the OpenAI route: HTTP faults are answered as the Bedrock error of their status
(``FAULT_ERRORS``); ``malformed_sse`` breaks a stream as Bedrock reports a broken model stream, a
``modelStreamErrorException`` exception frame after the first event that ends it; the other
faults behave as on the OpenAI route.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sluice.simulator.bedrock_render import (
    BEDROCK_EVENT_STREAM,
    JsonObject,
    converse_body,
    response_fields,
    stream_steps,
)
from sluice.simulator.bedrock_request import chat_request, read_converse
from sluice.simulator.controls import Controls, read_controls
from sluice.simulator.faults import HTTP_FAULTS, NOT_JSON_BODY, FailureCounter, FaultName
from sluice.simulator.frontends import CLIENT_CLOSED, plan_with_half_emoji, read_json, validation_message
from sluice.simulator.pacing import Timing, faulty_json_body, pause, sse_body
from sluice.simulator.plan import CompletionPlan, plan_completion
from sluice.simulator.wire import InvalidRequest

EVENT_STREAM = "application/vnd.amazon.eventstream"
_SIGNED = re.compile(r"(AWS4-HMAC-SHA256\s+Credential=|Bearer\s+)\S")
_BODY_FAULTS = {FaultName.HANG_AFTER_FIRST, FaultName.RESET_MID_STREAM}


@dataclass(frozen=True)
class BedrockError:
    """A Bedrock error code and the HTTP status AWS sends it with."""

    status: int
    code: str


VALIDATION = BedrockError(400, "ValidationException")
MISSING_TOKEN = BedrockError(403, "MissingAuthenticationTokenException")
INCOMPLETE_SIGNATURE = BedrockError(403, "IncompleteSignatureException")
FAULT_ERRORS = {
    FaultName.HTTP_400: VALIDATION,
    FaultName.HTTP_429: BedrockError(429, "ThrottlingException"),
    FaultName.HTTP_500: BedrockError(500, "InternalServerException"),
    FaultName.HTTP_503: BedrockError(503, "ServiceUnavailableException"),
}


class BedrockConverse:
    """The Converse endpoints of one simulator app: its fail counters and pacing rule."""

    def __init__(self, failures: FailureCounter, timing: Callable[[Controls], Timing]) -> None:
        self.failures = failures
        self.timing = timing

    def routes(self) -> list[Route]:
        """Both routes; ``model_id`` takes any path, since an ARN's ``%2F`` arrives decoded as ``/``."""
        return [
            Route("/model/{model_id:path}/converse", self.converse, methods=["POST"]),
            Route("/model/{model_id:path}/converse-stream", self.converse_stream, methods=["POST"]),
        ]

    async def converse(self, request: Request) -> Response:
        """Answer one ``Converse`` call."""
        return await self._answer(request, stream=False)

    async def converse_stream(self, request: Request) -> Response:
        """Answer one ``ConverseStream`` call."""
        return await self._answer(request, stream=True)

    async def _answer(self, request: Request, stream: bool) -> Response:
        if (denied := _deny(request.headers.get("authorization"))) is not None:
            return denied
        try:
            model_id = request.path_params["model_id"]
            converse = read_converse(await read_json(request), model_id)
            chat = chat_request(converse, model_id, stream)
            controls = read_controls(request.headers, chat.last_user_text())
            plan = plan_completion(chat)
            fault = controls.active_fault(self.failures)
        except ValidationError as error:
            return error_response(VALIDATION, validation_message(error))
        except InvalidRequest as error:
            return error_response(VALIDATION, str(error))
        fields = response_fields(plan.choices[0], converse.additionalModelResponseFieldPaths)
        timing = self.timing(controls)
        return await _answer(request, stream=stream, plan=plan, fields=fields, timing=timing, fault=fault)


def error_response(error: BedrockError, message: str) -> JSONResponse:
    """An error as Bedrock sends it: ``{"message"}``, the code in ``x-amzn-errortype``, a request id."""
    headers = {"x-amzn-errortype": f"{error.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return JSONResponse({"message": message}, status_code=error.status, headers=_request_id() | headers)


def _deny(authorization: str | None) -> Response | None:
    if not authorization:
        return error_response(MISSING_TOKEN, "Missing Authentication Token")
    if not _SIGNED.match(authorization):
        message = "Authorization header requires a SigV4 signature (AWS4-HMAC-SHA256 Credential=...)."
        return error_response(INCOMPLETE_SIGNATURE, message)
    return None


async def _answer(
    request: Request,
    *,
    stream: bool,
    plan: CompletionPlan,
    fields: JsonObject | None,
    timing: Timing,
    fault: FaultName | None,
) -> Response:
    if fault is not None and fault in FAULT_ERRORS:
        return error_response(FAULT_ERRORS[fault], HTTP_FAULTS[fault].message)
    if fault is FaultName.HANG and await pause(request, timing.hang_seconds):
        return Response(status_code=CLIENT_CLOSED)
    if fault is FaultName.INVALID_JSON or (fault is FaultName.MALFORMED_SSE and not stream):
        return Response(NOT_JSON_BODY, media_type="application/json", headers=_request_id())
    if fault is FaultName.LONE_SURROGATE:
        plan, fault = plan_with_half_emoji(plan), None
    if not stream:
        return await _complete(request, plan, fields, timing, fault)
    steps = stream_steps(plan, fields, timing.token_delay)
    if fault is FaultName.MALFORMED_SSE:
        steps = steps[:1]  # Bedrock ends a stream with its exception frame
    body = sse_body(request, steps, timing, fault, BEDROCK_EVENT_STREAM)
    return StreamingResponse(body, media_type=EVENT_STREAM, headers=_request_id())


async def _complete(
    request: Request, plan: CompletionPlan, fields: JsonObject | None, timing: Timing, fault: FaultName | None
) -> Response:
    """A Converse answer, sent once the time its tokens would take to stream has passed."""
    wait = timing.token_delay * plan.longest_choice_tokens()
    encoded = json.dumps(converse_body(plan, fields, round(wait * 1000))).encode()
    if await pause(request, wait):
        return Response(status_code=CLIENT_CLOSED)
    if fault in _BODY_FAULTS:
        body = faulty_json_body(request, encoded, timing, fault)
        return StreamingResponse(body, media_type="application/json", headers=_request_id())
    return Response(encoded, media_type="application/json", headers=_request_id())


def _request_id() -> dict[str, str]:
    """A fresh ``x-amzn-requestid``, which botocore reports as ``ResponseMetadata.RequestId``."""
    return {"x-amzn-requestid": str(uuid.uuid4())}
