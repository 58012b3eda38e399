"""Bedrock failures as ``UpstreamCallFailed``: botocore errors and ConverseStream exception events.

One table, keyed by the error code in lower case: a ``ClientError`` says ``ThrottlingException``,
a stream exception event (or the ``EventStreamError`` botocore raises for one) says
``throttlingException``. Each code stands for the HTTP status it is classified as, so Bedrock
failures retry and fall back exactly as HTTP upstreams do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.providers.base import UpstreamCallFailed, failed_connect, failed_status, failed_timeout

CODE_STATUS: Mapping[str, int] = {
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "serviceunavailableexception": 503,
    "serviceunavailable": 503,
    "internalserverexception": 500,
    "modelstreamerrorexception": 502,
    "modelerrorexception": 502,
    "modelnotreadyexception": 503,
    "modeltimeoutexception": 504,
    "validationexception": 400,
    # The gateway's credentials, model access or model id are wrong: the operator's problem,
    # retryable so that another route can serve the call.
    "accessdeniedexception": 403,
    "unrecognizedclientexception": 403,
    "expiredtokenexception": 403,
    "resourcenotfoundexception": 404,
}
STREAM_EXCEPTION_EVENTS = frozenset(
    {
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "serviceUnavailableException",
    }
)
UNKNOWN_STATUS = 502


def failed_code(code: str, message: str = "", status: int | None = None) -> UpstreamCallFailed:
    """A failure for a Bedrock error code; an unknown code falls back to its HTTP status, or 502."""
    known = CODE_STATUS.get(code.lower())
    classified = known if known is not None else status or UNKNOWN_STATUS
    failure = failed_status(classified, code=code, message=message)
    failure.message = f"bedrock {code or 'error'}: {failure.message}"
    return failure


def stream_exception_failure(name: str, body: object) -> UpstreamCallFailed:
    """An exception event of a ConverseStream (``{"throttlingException": {"message": ...}}``)."""
    message = body.get("message") if isinstance(body, Mapping) else None
    return failed_code(name, str(message or ""))


def client_error_failure(response: Mapping[str, Any]) -> UpstreamCallFailed:
    """A botocore ``ClientError`` (or ``EventStreamError``), from its parsed ``response``."""
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    status = metadata.get("HTTPStatusCode")
    return failed_code(
        str(error.get("Code") or ""),
        str(error.get("Message") or ""),
        status if isinstance(status, int) else None,
    )


def upstream_failure(exc: BaseException) -> UpstreamCallFailed | None:
    """What a boto3 call or a stream read raised, classified; None for anything else (a bug)."""
    from botocore import eventstream
    from botocore import exceptions as boto
    from urllib3 import exceptions as http

    if isinstance(exc, UpstreamCallFailed):
        return exc
    if isinstance(exc, eventstream.ParserError):  # a frame that fails its CRC or its header rules
        return UpstreamCallFailed("upstream sent a malformed stream event", retryable=True)
    if isinstance(exc, boto.ClientError):
        return client_error_failure(exc.response)
    if isinstance(exc, boto.ReadTimeoutError | boto.ConnectTimeoutError | http.TimeoutError):
        return failed_timeout(exc)
    status = _local_status(exc)
    if status is not None:
        return failed_status(status, message=str(exc)[:300])
    return failed_connect(exc) if isinstance(exc, boto.BotoCoreError | http.HTTPError | OSError) else None


def _local_status(exc: BaseException) -> int | None:
    """botocore's own refusals: missing credentials are the operator's (403), bad parameters ours (400)."""
    from botocore import exceptions as boto

    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError | boto.NoRegionError):
        return 403
    return 400 if isinstance(exc, boto.ParamValidationError) else None
