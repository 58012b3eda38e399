"""One chat call through the gateway, independent of its wire format.

``prepare`` runs every check that costs no AWS call beyond the (cached) key lookup: body size,
plan gates, usage limits, model selection, max_tokens clamp. ``admit_call`` then counts the
request in its rate-limit buckets and reserves its credits in one DynamoDB transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from shared.adapters import admission_reads, ledger_store, reservation_store
from shared.auth.api_keys import Caller
from shared.catalog.models import Catalog, ModelEntry
from shared.chat.canonical import ChatRequest
from shared.gateway.passthrough import PassthroughProvider
from shared.gateway.plan_gates import check_features_allowed
from shared.gateway.routing import needs_of, select_models
from shared.gateway.usage_limits import check_content, clamp_max_tokens
from shared.limits import known
from shared.limits.admission import Admission, admit_async, admit_stated
from shared.limits.buckets import Bucket, LimitFacts, LimitStatus, buckets_for, tightest
from shared.limits.policy import Rule, load_policy
from shared.observability import get_logger
from shared.settings import get_settings


@dataclass
class ChatCall:
    request_id: str
    endpoint: str  # "chat.completions" or "messages" (for usage records)
    caller: Caller
    public_model: str
    models: list[ModelEntry]
    request: ChatRequest
    clamped_to: int | None
    tool_id: str | None = None
    started: float = field(default_factory=time.monotonic)
    admission: Admission | None = None
    reserved: int = 0
    balance_after: int | None = None
    limit_status: LimitStatus | None = None
    passthrough: PassthroughProvider | None = None  # Anthropic-format calls: the client's own body

    @property
    def reservation_cost(self) -> int:
        """The most any candidate may cost (``auto`` may fall back to another model)."""
        return max(m.credit_cost for m in self.models)


def prepare(
    request: ChatRequest, caller: Caller, catalog: Catalog, *, request_id: str, endpoint: str
) -> ChatCall:
    """Every check before any write: plan gates, usage limits, model choice, max_tokens clamp."""
    plan = caller.plan
    content_chars = check_content(request, plan)
    check_features_allowed(request, plan)
    models = select_models(catalog, request.model, plan, needs_of(request, content_chars), dt.date.today())
    request, clamped = clamp_max_tokens(request, plan, min(m.max_output_tokens for m in models))
    return ChatCall(
        request_id=request_id,
        endpoint=endpoint,
        caller=caller,
        public_model=request.model,
        models=models,
        request=request,
        clamped_to=clamped,
    )


async def _rules(endpoint: str, account_id: str) -> list[Rule]:
    """The endpoint rows; public chat under the ``credit_balance`` preset uses the balance band."""
    policy = load_policy()
    if endpoint != "chat.public" or get_settings().rate_limit_preset != "credit_balance":
        return policy.rules_for(endpoint)
    balance = known.value(known.balance_key(account_id))
    if balance is None:  # once per account and instance; afterwards each response refreshes it
        balance = await asyncio.to_thread(ledger_store.get_balance, account_id)
    return [*policy.rules_for(endpoint, "pre_auth"), *policy.balance_rules(balance)]


async def admit_call(call: ChatCall, facts: LimitFacts, endpoint: str = "chat.public") -> None:
    """The endpoint's rate limits and the credit reservation, all or nothing, in one transaction.

    When this instance knows the counters' and the balance's current values, the transaction
    states them, and the headers' values follow without a read (shared/limits/known.py).
    """
    rules = await _rules(endpoint, call.caller.account_id)
    buckets = buckets_for(rules, call.caller.plan, facts)
    cost = call.reservation_cost
    if cost > 0 and await _admit_stated(call, buckets, cost):
        return
    reservation = _reservation(call, cost) if cost > 0 else []
    call.admission = await admit_async(buckets, reservation=reservation)
    call.reserved = cost


async def _admit_stated(call: ChatCall, buckets: list[Bucket], cost: int) -> bool:
    """Admission with the known values stated; False when they are unknown, claimed by another
    request in flight, would refuse the request, or no longer hold (then nothing was written)."""
    now = time.time()
    account = call.caller.account_id
    counters = [b.item_key(now) for b in buckets]
    keys = [*counters, known.balance_key(account)]
    new = frozenset(  # a window just begun: no count yet, if the instance counted the one before
        key
        for b, key in zip(buckets, counters, strict=True)
        if known.value(key) is None and known.value(b.previous_key(now)) is not None
    )
    stated = known.claim(keys, new)
    if stated is None:
        return False
    *counts, balance = stated
    if balance < cost or any(count >= b.limit for b, count in zip(buckets, counts, strict=True)):
        known.release(keys)
        return False  # the ordinary admission gives the exact refusal
    after: list[int] | None = None
    try:
        admission = await admit_stated(
            buckets, counts, reservation=_reservation(call, cost, balance), now=now
        )
        if admission is None:
            return False
        after = [*(admission.counts or []), balance - cost]
    finally:
        known.settle(keys, after)
    call.admission, call.reserved = admission, cost
    call.limit_status = admission.status()
    call.balance_after = balance - cost
    return True


def _reservation(call: ChatCall, cost: int, balance: int | None = None) -> list[dict[str, Any]]:
    return reservation_store.reservation_items(
        call.caller.account_id, call.request_id, cost, call.caller.key.key_id, _now_iso(), balance=balance
    )


def needs_status_read(call: ChatCall) -> bool:
    """Whether the headers' counts and balance must be read: not when the admission stated them
    (``admit_call``), as a warm instance's admissions do."""
    return call.admission is not None and call.balance_after is None


async def read_status(call: ChatCall) -> None:
    """Counts and balance after admission, for the response headers (overlaps the upstream call)."""
    admission = call.admission
    if admission is None or not needs_status_read(call):
        return
    pks = [b.item_key(admission.now) for b in admission.buckets]
    account = call.caller.account_id
    try:
        counts, balance = await admission_reads.counts_and_balance(pks, account)
    except Exception:  # the headers are a courtesy: a failed read must not fail an admitted request
        get_logger().warning("rate-limit and balance read failed", extra={"request_id": call.request_id})
        return
    call.limit_status = tightest(admission.buckets, counts, admission.now)
    call.balance_after = balance
    if balance is not None:
        known.remember([*pks, known.balance_key(account)], [*counts, balance])


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
