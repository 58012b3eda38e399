"""Catalog queries and their public (OpenAI list) rendering."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from typing import Any

from shared.catalog.models import Catalog, ModelEntry
from shared.errors import ModelNotFound


def public_model(entry: ModelEntry) -> dict[str, Any]:
    """OpenAI's model object plus Sluice's fields. Upstream routes and secrets stay private."""
    return {
        "id": entry.id,
        "object": "model",
        "created": entry.created,
        "owned_by": entry.owned_by,
        "display_name": entry.display_name,
        "description": entry.description,
        "tier": entry.tier,
        "status": entry.status,
        "deprecated": entry.status == "deprecated",
        "eol_date": entry.eol_date.isoformat() if entry.eol_date else None,
        "replacement": entry.replacement,
        "recommended": entry.recommended,
        "context_window": entry.context_window,
        "max_output_tokens": entry.max_output_tokens,
        "capabilities": entry.capabilities.model_dump(),
        "credit_cost": entry.credit_cost,
    }


def model_list(catalog: Catalog) -> dict[str, Any]:
    return {"object": "list", "data": [public_model(m) for m in catalog.models]}


def find_model(catalog: Catalog, model_id: str) -> ModelEntry:
    entry = catalog.get(model_id)
    if entry is None:
        raise ModelNotFound(model_id)
    return entry


def deprecation_headers(entry: ModelEntry) -> dict[str, str]:
    """RFC 9745 ``Deprecation`` and RFC 8594 ``Sunset`` for a deprecated model."""
    if entry.status != "deprecated":
        return {}
    headers = {"Deprecation": "true"}
    if entry.eol_date is not None:
        eol = dt.datetime.combine(entry.eol_date, dt.time(), tzinfo=dt.UTC)
        headers["Sunset"] = format_datetime(eol, usegmt=True)
    if entry.replacement:
        headers["Link"] = f'</v1/models/{entry.replacement}>; rel="successor-version"'
    return headers
