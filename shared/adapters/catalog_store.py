"""The catalog in DynamoDB: one item per model, the entry as JSON, its list position as a number."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from pydantic import ValidationError

from shared.adapters.aws import dynamodb
from shared.catalog.models import Catalog, ModelEntry
from shared.observability import get_logger
from shared.settings import get_settings


def read_catalog() -> Catalog:
    table = get_settings().catalog_table
    items: list[dict] = []
    kwargs: dict = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb().scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items.sort(key=lambda item: int(item["position"]["N"]))
    return Catalog(models=tuple(entry for item in items if (entry := _entry(item)) is not None))


def _entry(item: dict) -> ModelEntry | None:
    """One stored entry; None, logged, for one this code cannot read (written by a newer
    ``sluice catalog load`` during a deploy, or by hand): the other models keep serving, where
    one bad entry made every catalog read, and so every chat request, a 500."""
    try:
        return ModelEntry.model_validate_json(item["doc"]["S"])
    except ValidationError as exc:
        get_logger().error(
            "catalog entry skipped: not readable by this version",
            extra={"model": item.get("id", {}).get("S"), "error": str(exc.errors(include_url=False)[0])},
        )
        return None


def write_catalog(catalog: Catalog) -> None:
    """Replace the stored catalog with ``catalog`` (entries not in it are deleted)."""
    table = get_settings().catalog_table
    keep = {m.id for m in catalog.models}
    for position, entry in enumerate(catalog.models):
        doc = json.dumps(entry.model_dump(mode="json"), separators=(",", ":"))
        dynamodb().put_item(
            TableName=table,
            Item={"id": {"S": entry.id}, "position": {"N": str(position)}, "doc": {"S": doc}},
        )
    for stale in read_catalog().models:
        if stale.id not in keep:
            dynamodb().delete_item(TableName=table, Key={"id": {"S": stale.id}})


@dataclass
class CachedCatalog:
    """Per-instance cache: the catalog changes without a deploy, so it expires after ``ttl`` s."""

    ttl: float
    _value: Catalog | None = None
    _loaded_at: float = field(default=0.0)

    def get(self) -> Catalog:
        fresh = self.fresh()
        if fresh is None:
            fresh = self._value = read_catalog()
            self._loaded_at = time.monotonic()
        return fresh

    def fresh(self) -> Catalog | None:
        """The cached catalog if it is still fresh: no I/O, so callable on the event loop."""
        if self._value is None or time.monotonic() - self._loaded_at > self.ttl:
            return None
        return self._value

    def clear(self) -> None:
        self._value = None


_cache: CachedCatalog | None = None


def current_catalog() -> Catalog:
    global _cache  # noqa: PLW0603 - one cache per Lambda instance
    if _cache is None:
        _cache = CachedCatalog(ttl=get_settings().catalog_cache_seconds)
    return _cache.get()


def cached_catalog() -> Catalog | None:
    """``current_catalog`` if that needs no read, else None."""
    return _cache.fresh() if _cache is not None else None


def clear_catalog_cache() -> None:
    if _cache is not None:
        _cache.clear()
