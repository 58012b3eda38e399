"""Three of moto's per-request costs, none of which AWS would charge for, taken off.

- Every request asks ``moto.backends.list_of_moto_modules()`` whether its host names a service,
  and that lists moto's package directory and stats each of its 150-odd entries, per request.
  The directory does not change while the server runs: it is listed once.
- Every request lists its response class's methods (``inspect.getmembers``) to find the action's
  handler. Classes do not change either: each is listed once.
- SendMessage reads one queue attribute (``ContentBasedDeduplication``) through
  ``Queue.attributes``, which computes all of them first, the three message counts included: each
  walks every message in the queue and reads the clock twice per message. So each send cost time
  in proportion to the messages waiting, and in ``make bench`` (no consumer runs) a few hundred
  waiting messages made SendMessage the larger part of moto's CPU per chat request. Here
  ``Queue.attributes`` is a mapping with the same names that computes a value when it is read.

Installed in the embedded AWS's process only (``sluice/local/moto_server.py``). Values, names and
their order are moto's own (``tests/integration/test_local_moto_speedups.py`` compares them with
moto's property on queues of every kind).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any


class QueueAttributes(Mapping[str, Any]):
    """moto's ``Queue.attributes``, each value computed when it is read."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        self._names = dict.fromkeys(names)

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        from moto.core.utils import camelcase_to_underscores

        queue = self._queue
        value = getattr(queue, camelcase_to_underscores(name))
        if name == "RedrivePolicy" and queue.redrive_policy:
            value = json.dumps(queue.redrive_policy)
        if isinstance(value, bool):
            value = str(value).lower()
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def install() -> None:
    """Patch moto (in the embedded AWS's process only)."""
    from moto import backends
    from moto.core import responses
    from moto.sqs.models import Queue

    if getattr(backends.list_of_moto_modules, "_sluice", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    list_of_moto_modules._sluice = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    Queue.attributes = property(QueueAttributes)  # type: ignore[assignment,method-assign]
