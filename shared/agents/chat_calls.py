"""One call of an agent step through the chat core: prepare, admit, upstream, account.

The same path as every chat request (shared/gateway): plan gates, usage limits and model choice
(``prepare``), the credit reservation (``admit_call``), retries and fallbacks (``router``), and
one usage event (``finish``) that the usage consumer settles or releases. The step's result is
recorded before the call is accounted: a crash in between leaves the reservation open for the
stale-reservation sweep (not charged) rather than charging a call whose result was lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from shared.adapters.catalog_store import current_catalog
from shared.agents.models import CallRecord
from shared.auth.api_keys import Caller
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.errors import ServiceUnavailable, SluiceError
from shared.gateway import router
from shared.gateway.accounting import Outcome, finish
from shared.gateway.call import ChatCall, admit_call, prepare
from shared.gateway.router import Target
from shared.limits.buckets import LimitFacts
from shared.providers.registry import provider_for

MODEL_ENDPOINT = "agents.step"  # usage records; no rate-limit rows: the queue paces steps
TOOL_ENDPOINT = "agents.tool"  # usage records (and the tool's run log, by tool id)
TOOL_LIMITS = "tools.proxy"  # a tool run counts against the tool proxy's limits
WORKER_IP = "agent-worker"  # a label for the limit facts: no client IP behind a step

Keep = Callable[[CallRecord, ChatResponse], None]


async def prepare_call(
    request: ChatRequest, caller: Caller, request_id: str, endpoint: str, tool_id: str | None = None
) -> ChatCall:
    """Every check before any write (raises the same 4xx errors a chat request would get)."""
    catalog = await asyncio.to_thread(current_catalog)
    call = prepare(request, caller, catalog, request_id=request_id, endpoint=endpoint)
    call.tool_id = tool_id
    return call


def limit_facts(caller: Caller, tool_id: str | None = None) -> LimitFacts:
    key_id = caller.key.key_id
    return LimitFacts(ip=WORKER_IP, key_id=key_id, account_key_id=key_id, tool_id=tool_id)


def call_record(call: ChatCall, target: Target, answer: ChatResponse) -> CallRecord:
    usage = answer.usage
    return CallRecord(
        request_id=call.request_id,
        public_model=call.public_model,
        routed_model=target.entry.id,
        provider=target.route.provider,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        credits=target.entry.credit_cost,
        latency_ms=int((time.monotonic() - call.started) * 1000),
    )


async def complete_call(
    call: ChatCall, facts: LimitFacts, limit_endpoint: str, keep: Keep
) -> tuple[CallRecord, ChatResponse]:
    """Admit (reserve credits), call the upstream, ``keep`` the result, then account the call."""
    await admit_call(call, facts, limit_endpoint)
    outcome = Outcome()
    try:
        target, answer = await router.complete(call.request, call.models, provider_for)
    except SluiceError as error:
        outcome.error = error
        await finish(call, outcome)
        raise
    record = call_record(call, target, answer)
    try:
        await asyncio.to_thread(keep, record, answer)
    except BaseException:
        outcome.error = ServiceUnavailable("The step's result could not be recorded.")
        await finish(call, outcome)
        raise
    outcome.target, outcome.usage = target, answer.usage
    outcome.completed = outcome.output_started = True
    await finish(call, outcome)
    return record, answer
