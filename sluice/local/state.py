"""Optional persistence of the embedded AWS between runs (``SLUICE_LOCAL_STATE=<dir>``).

moto keeps everything in memory; the local stack snapshots every table's items to JSON files
when it stops and loads them back when it starts. Queue messages in flight are not kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def save_tables(dynamodb: Any, tables: dict[str, str], directory: Path) -> int:
    """Write every item of every table; returns how many items were saved."""
    target = directory / "dynamodb"
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    for logical_id, name in tables.items():
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": name}
        while True:
            page = dynamodb.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        (target / f"{logical_id}.json").write_text(json.dumps(items), encoding="utf-8")
        total += len(items)
    return total


def load_tables(dynamodb: Any, tables: dict[str, str], directory: Path) -> int:
    source = directory / "dynamodb"
    total = 0
    for logical_id, name in tables.items():
        path = source / f"{logical_id}.json"
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            dynamodb.put_item(TableName=name, Item=item)
            total += 1
    return total
