"""What the payment provider posts to ``POST /api/billing/webhook``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

PAYMENT_SUCCEEDED = "payment.succeeded"


class WebhookEnvelope(BaseModel):
    """Every event: a unique id (the idempotency key), a type, and type-specific data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
    type: Annotated[str, Field(min_length=1, max_length=64)]
    created: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class PaymentSucceeded(BaseModel):
    """``data`` of a ``payment.succeeded`` event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    account_id: Annotated[str, Field(min_length=1, max_length=128)]
    package: Annotated[str, Field(min_length=1, max_length=64)]
    amount_paid: Annotated[int | None, Field(ge=0)] = None
    currency: Annotated[str | None, Field(max_length=8)] = None
