"""Client idempotency keys (``Idempotency-Key``) with Powertools idempotency on DynamoDB.

The first request with a key runs the operation and stores its (JSON) result in the idempotency
table for ``EXPIRES_AFTER_S``; a retry with the same key and the same payload gets that result
without running it again; the same key with another payload is refused (422); a retry while the
first is still running is told to wait (409). Keys are global, so clients should use random ones
(a UUID). Everything is built on first use: nothing at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from shared.errors import InvalidRequest, ServiceUnavailable, SluiceError
from shared.settings import get_settings

EXPIRES_AFTER_S = 24 * 3600
IN_PROGRESS_S = 30  # the contact function's timeout
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_REPLAYED = "_idempotent_replay"

Operation = Callable[[dict[str, Any]], dict[str, Any]]


class IdempotencyKeyReused(SluiceError):
    status = 422
    code = "idempotency_key_reused"
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"


class IdempotencyInProgress(SluiceError):
    status = 409
    code = "idempotency_in_progress"
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


def idempotency_key(header: str | None) -> str | None:
    """The ``Idempotency-Key`` header, if any; 400 unless 8-128 characters of ``A-Za-z0-9._:-``."""
    if header is None:
        return None
    key = header.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidRequest(
            "Idempotency-Key must be 8-128 characters of letters, digits and . _ : - (a UUID works).",
            param="Idempotency-Key",
        )
    return key


def _mark_replay(response: Any, record: Any) -> Any:
    return {**response, _REPLAYED: True} if isinstance(response, dict) else response


class _Deadline:
    """Stands in for the Lambda context: an attempt that dies frees its key after ``IN_PROGRESS_S``."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return IN_PROGRESS_S * 1000


@lru_cache(maxsize=8)
def _guarded(scope: str, operation: Operation, table: str) -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from shared.adapters.aws import dynamodb

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb())
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_S,
        response_hook=_mark_replay,  # type: ignore[arg-type]
        lambda_context=_Deadline(),  # type: ignore[arg-type]
    )

    def run(request: dict[str, Any]) -> dict[str, Any]:
        return operation(request["payload"])

    return idempotent_function(
        run, data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix=scope
    )


def run_once(
    scope: str, key: str, payload: dict[str, Any], operation: Operation
) -> tuple[dict[str, Any], bool]:
    """``operation(payload)`` once per ``(scope, key)``; returns its result and whether it was replayed."""
    from aws_lambda_powertools.utilities.idempotency import exceptions

    try:
        guarded = _guarded(scope, operation, get_settings().idempotency_table)
        result = guarded(request={"key": key, "payload": payload})
    except exceptions.IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request.", param="Idempotency-Key"
        ) from exc
    except exceptions.IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress("A request with this Idempotency-Key is still being processed.") from exc
    except exceptions.IdempotencyPersistenceLayerError as exc:
        raise ServiceUnavailable("The idempotency store is unavailable; retry shortly.") from exc
    replayed = bool(result.pop(_REPLAYED, False))
    return result, replayed
