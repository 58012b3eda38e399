"""moto's TransactWriteItems, with a rollback copy of the items it names instead of whole tables.

moto keeps a deep copy of every table a transaction touches, to put back if the transaction
fails. The copy costs time in proportion to the table: the ledger holds a reservation per chat
request until the usage consumer settles it (and every one when no consumer runs, as in
``make bench``), so each admission got slower as the table grew (21-26 ms of moto's CPU per
request after a thousand requests, 79-86 ms after a few thousand: docs/BENCHMARKS.md). On two
cores that work also slows everything else running beside it.

Here the copy is the table's item map, one level deep, with only the items the transaction names
(its keys) copied deeply: what the transaction may change. The rollback is moto's own: the copy
takes the table's place. Everything else about the transaction (conditions, order, errors) is
moto's code unchanged. The embedded AWS serves one request at a time (``sluice/local/moto_server.py``),
so a module-level note of the keys in flight is enough.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any


class _InFlight:
    keys: dict[str, set[tuple[Any, Any]]] | None = None  # table -> the (hash, range) keys named


_in_flight = _InFlight()


def install() -> None:
    """Patch moto's DynamoDB backend (in the embedded AWS's process only)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_sluice", False):
        return
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _in_flight.keys = _named_keys(self, transact_items)
        try:
            original(self, transact_items)
        finally:
            _in_flight.keys = None

    transact_write_items._sluice = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.__deepcopy__ = snapshot  # type: ignore[attr-defined]


def _named_keys(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, set[tuple[Any, Any]]] | None:
    """Each table's item keys a transaction names; None when they cannot be read (moto's checks
    then refuse the transaction, and the copy is a whole one)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    named: dict[str, set[tuple[Any, Any]]] = {}
    try:
        for item in transact_items:
            for op in item.values():
                table = backend.tables.get(op.get("TableName"))
                if table is None:
                    continue
                attrs = op.get("Key") or op.get("Item") or {}
                hash_value = DynamoType(attrs[table.hash_key_attr])
                range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                named.setdefault(table.name, set()).add((hash_value, range_value))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return named


def snapshot(table: Any, memo: dict[int, Any]) -> Any:
    """What ``copy.deepcopy(table)`` gives moto's rollback: the table with its own item map, in
    which the items the transaction in flight names are deep copies and the others are shared
    (nothing changes them before the rollback); every item deep-copied outside a transaction."""
    clone = copy.copy(table)
    ranged = table.range_key_attr is not None
    items: defaultdict[Any, Any] = defaultdict(dict)
    for hash_value, stored in table.items.items():
        items[hash_value] = dict(stored) if ranged else stored
    named = None if _in_flight.keys is None else _in_flight.keys.get(table.name, set())
    for hash_value, range_value in _everything(table) if named is None else named:
        if hash_value not in items:
            continue
        if ranged:
            row = items[hash_value]
            if range_value in row:
                row[range_value] = copy.deepcopy(row[range_value], memo)
        else:
            items[hash_value] = copy.deepcopy(items[hash_value], memo)
    clone.items = items
    return clone


def _everything(table: Any) -> list[tuple[Any, Any]]:
    if table.range_key_attr is None:
        return [(h, None) for h in table.items]
    return [(h, r) for h, rows in table.items.items() for r in rows]
