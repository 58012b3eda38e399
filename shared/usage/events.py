"""The usage event that every model-bound request emits to the usage queue.

Never carries the raw key or prompt text: ids, model names, counts and the outcome only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# success: the answer completed; client_closed: the client went away first (status 499: charged when
# output had reached it, docs/CREDITS.md; tokens are the upstream's report, and a cancelled call
# reports none); failed: an error or refusal after admission.
Outcome = Literal["success", "client_closed", "failed", "rejected"]


class UsageEvent(BaseModel):
    """``charged`` tells the consumer to settle the reservation; otherwise it releases it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    request_id: str = Field(min_length=1, max_length=128)
    account_id: str
    key_id: str
    tool_id: str | None = None
    endpoint: str  # e.g. "chat.completions", "messages", "tools.proxy"
    public_model: str
    routed_model: str | None = None
    provider: str | None = None
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    outcome: Outcome
    status: int
    error_code: str | None = None
    credits: int = Field(ge=0)  # the cost reserved at admission
    charged: bool
    stream: bool = False
    created_at_ms: int
