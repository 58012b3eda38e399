"""``POST /v1/messages``: the simulator speaking Anthropic's Messages API.

The body is mapped onto the OpenAI-shaped ``ChatRequest`` (see ``anthropic_request``) and planned
by ``plan_completion``, so both protocols give the same words and the same token counts; only the
rendering differs. A Message holds, in order, a ``thinking`` block (with a signature), a ``text``
block and ``tool_use`` blocks; a stream sends ``message_start`` and ``ping``, then per block
``content_block_start``, one ``content_block_delta`` per token (per JSON fragment for tool input),
``content_block_stop``, then ``message_delta`` and ``message_stop``, paced like the OpenAI stream.

Auth and errors are Anthropic's: the key (when the simulator has one) as ``x-api-key`` or, as the
current SDKs send it, ``Authorization: Bearer``; a required ``anthropic-version`` (any value);
``{"type": "error", "error": {"type", "message"}}`` bodies. Faults come from the same controls as
the OpenAI route; HTTP faults are answered as Anthropic error types.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from sluice.simulator.anthropic_request import chat_request
from sluice.simulator.config import SimulatorConfig
from sluice.simulator.controls import Controls, read_controls
from sluice.simulator.faults import HTTP_FAULTS, NOT_JSON_BODY, FailureCounter, FaultName
from sluice.simulator.frontends import (
    CLIENT_CLOSED,
    plan_with_half_emoji,
    read_json,
    reasoning_signature,
    validation_message,
)
from sluice.simulator.pacing import SseFraming, Timing, faulty_json_body, pause, sse_body
from sluice.simulator.plan import ChoicePlan, CompletionPlan, plan_completion
from sluice.simulator.tokens import chunk_text, split_tokens
from sluice.simulator.wire import InvalidRequest

Json = dict[str, Any]

NO_CACHE = {"cache-control": "no-cache"}
FAULT_ERROR_TYPES = {
    FaultName.HTTP_400: "invalid_request_error",
    FaultName.HTTP_429: "rate_limit_error",
    FaultName.HTTP_500: "api_error",
    FaultName.HTTP_503: "overloaded_error",
}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_BODY_FAULTS = {FaultName.HANG_AFTER_FIRST, FaultName.RESET_MID_STREAM}


class AnthropicMessages:
    """The Messages endpoint of one simulator app: its config, fail counters and pacing rule."""

    def __init__(
        self, config: SimulatorConfig, failures: FailureCounter, timing: Callable[[Controls], Timing]
    ) -> None:
        self.config = config
        self.failures = failures
        self.timing = timing

    async def create(self, request: Request) -> Response:
        """Answer one ``POST /v1/messages``."""
        if (denied := self._deny(request.headers)) is not None:
            return denied
        try:
            chat = chat_request(await read_json(request))
            controls = read_controls(request.headers, chat.last_user_text())
            plan = plan_completion(chat)
            fault = controls.active_fault(self.failures)
        except ValidationError as error:
            return error_response(400, "invalid_request_error", validation_message(error))
        except InvalidRequest as error:
            return error_response(400, "invalid_request_error", str(error))
        return await _answer(request, chat.stream, plan, self.timing(controls), fault)

    def _deny(self, headers: Mapping[str, str]) -> Response | None:
        key, sent = self.config.api_key, _sent_key(headers)
        if key is not None and not sent:
            return error_response(401, "authentication_error", "x-api-key header is required")
        if key is not None and sent != key:
            return error_response(401, "authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return error_response(400, "invalid_request_error", "anthropic-version: header is required")
        return None


def _sent_key(headers: Mapping[str, str]) -> str:
    """The API key: ``x-api-key``, else an ``Authorization: Bearer`` token (how the current
    official SDKs send it)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return headers.get("x-api-key") or (token.strip() if scheme.lower() == "bearer" else "")


def error_response(
    status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error in Anthropic's format: ``{"type": "error", "error": {"type", "message"}}``."""
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _answer(
    request: Request, stream: bool, plan: CompletionPlan, timing: Timing, fault: FaultName | None
) -> Response:
    """The planned answer, as the fault (if any) bends it, in the same order as the OpenAI route."""
    if fault is not None and fault in HTTP_FAULTS:
        return _fault_response(fault)
    if fault is FaultName.HANG and await pause(request, timing.hang_seconds):
        return Response(status_code=CLIENT_CLOSED)
    if fault is FaultName.INVALID_JSON or (fault is FaultName.MALFORMED_SSE and not stream):
        return Response(NOT_JSON_BODY, media_type="application/json")
    if fault is FaultName.LONE_SURROGATE:
        plan, fault = plan_with_half_emoji(plan), None
    if stream:
        body = sse_body(request, stream_steps(plan), timing, fault, ANTHROPIC_SSE)
        return StreamingResponse(body, media_type="text/event-stream", headers=NO_CACHE)
    return await _complete(request, plan, timing, fault)


async def _complete(
    request: Request, plan: CompletionPlan, timing: Timing, fault: FaultName | None
) -> Response:
    """A Message, sent once the time its tokens would take to stream has passed."""
    encoded = json.dumps(message_body(plan)).encode()
    if await pause(request, timing.token_delay * plan.longest_choice_tokens()):
        return Response(status_code=CLIENT_CLOSED)
    if fault in _BODY_FAULTS:
        body = faulty_json_body(request, encoded, timing, fault)
        return StreamingResponse(body, media_type="application/json")
    return Response(encoded, media_type="application/json")


def _fault_response(fault: FaultName) -> JSONResponse:
    """An injected HTTP fault as the Anthropic error of its status (``FAULT_ERROR_TYPES``)."""
    http = HTTP_FAULTS[fault]
    headers = {"retry-after": str(http.retry_after)} if http.retry_after is not None else None
    return error_response(http.status, FAULT_ERROR_TYPES[fault], http.message, headers)


def message_body(plan: CompletionPlan) -> Json:
    """The non-streaming Message (Anthropic has one choice: the plan's first)."""
    choice = plan.choices[0]
    stop_reason, stop_sequence = _stop(choice)
    return {
        **_message_head(plan),
        "content": [block.whole for block in _blocks(choice)],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": {"input_tokens": plan.prompt_tokens, "output_tokens": plan.completion_tokens()},
    }


def stream_steps(plan: CompletionPlan) -> list[list[Json]]:
    """The stream as steps for ``sse_body``, one token interval each.

    Each step holds one ``content_block_delta``; block starts and stops ride with the step they
    follow, so the first step is ``message_start``, ``ping`` and the first block's start, and
    the last one ``message_delta`` and ``message_stop``, as the OpenAI stream opens and closes.
    """
    choice = plan.choices[0]
    usage = {"input_tokens": plan.prompt_tokens, "output_tokens": 0}
    start = {**_message_head(plan), "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    steps: list[list[Json]] = [[{"type": "message_start", "message": start}, {"type": "ping"}]]
    for index, block in enumerate(_blocks(choice)):
        steps[-1].append({"type": "content_block_start", "index": index, "content_block": block.opening})
        steps += [[{"type": "content_block_delta", "index": index, "delta": delta}] for delta in block.deltas]
        steps[-1].append({"type": "content_block_stop", "index": index})
    stop_reason, stop_sequence = _stop(choice)
    delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
    finish = {"type": "message_delta", "delta": delta, "usage": {"output_tokens": plan.completion_tokens()}}
    steps.append([finish, {"type": "message_stop"}])
    return steps


def sse_frame(event: Json) -> bytes:
    """One event as Anthropic frames it: ``event: <type>`` and ``data: <json>`` lines."""
    return f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


ANTHROPIC_SSE = SseFraming(
    encode=sse_frame, ending=b"", malformed=b"event: content_block_delta\ndata: {not json\n\n"
)


@dataclass(frozen=True)
class _Block:
    """One content block: whole (in a Message), as opened in a stream, and its stream deltas."""

    whole: Json
    opening: Json
    deltas: list[Json]


def _blocks(choice: ChoicePlan) -> list[_Block]:
    blocks: list[_Block] = []
    if choice.reasoning:
        signature = reasoning_signature(choice.reasoning)
        thinking = [{"type": "thinking_delta", "thinking": piece} for piece in split_tokens(choice.reasoning)]
        blocks.append(
            _Block(
                {"type": "thinking", "thinking": choice.reasoning, "signature": signature},
                {"type": "thinking", "thinking": "", "signature": ""},
                [*thinking, {"type": "signature_delta", "signature": signature}],
            )
        )
    if choice.content:
        text = [{"type": "text_delta", "text": piece} for piece in split_tokens(choice.content)]
        blocks.append(_Block({"type": "text", "text": choice.content}, {"type": "text", "text": ""}, text))
    for call in choice.tool_calls:
        head = {"type": "tool_use", "id": "toolu_" + call.id.removeprefix("call_"), "name": call.name}
        fragments = [
            {"type": "input_json_delta", "partial_json": piece} for piece in chunk_text(call.arguments)
        ]
        blocks.append(_Block({**head, "input": json.loads(call.arguments)}, {**head, "input": {}}, fragments))
    return blocks


def _message_head(plan: CompletionPlan) -> Json:
    message_id = "msg_" + plan.id.removeprefix("chatcmpl-")
    return {"id": message_id, "type": "message", "role": "assistant", "model": plan.model}


def _stop(choice: ChoicePlan) -> tuple[str, str | None]:
    """``stop_reason`` and ``stop_sequence``: a stop that matched a sequence names it."""
    if choice.finish_reason == "stop" and choice.stop_reason:
        return "stop_sequence", choice.stop_reason
    return STOP_REASONS[choice.finish_reason], None
