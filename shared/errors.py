"""One error hierarchy for the whole platform.

Domain code raises these; each wire format (OpenAI, Anthropic) renders them once, in
``shared.http.error_render``. Nothing maps errors by matching message strings.
"""

from __future__ import annotations

ECHOED_ID_CHARS = 64


def echoed_id(value: str) -> str:
    """An id from the request as an error message repeats it: cut to ``ECHOED_ID_CHARS``
    characters, so that a path segment of any length does not come back whole."""
    return value if len(value) <= ECHOED_ID_CHARS else value[:ECHOED_ID_CHARS] + "..."


class SluiceError(Exception):
    """Base of every error a client may see. ``status`` and ``code`` are the wire facts."""

    status: int = 500
    code: str = "internal_error"
    openai_type: str = "api_error"
    anthropic_type: str = "api_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def headers(self) -> dict[str, str]:
        """Extra response headers this error carries (e.g. Retry-After)."""
        return {}


class InvalidRequest(SluiceError):
    status = 400
    code = "invalid_request"
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"


class ContextLengthExceeded(InvalidRequest):
    code = "context_length_exceeded"


class ImageTooLarge(InvalidRequest):
    code = "encoded_image_too_large"


class RequestTooLarge(SluiceError):
    status = 413
    code = "request_too_large"
    openai_type = "invalid_request_error"
    anthropic_type = "request_too_large"


class InvalidApiKey(SluiceError):
    status = 401
    code = "invalid_api_key"
    openai_type = "invalid_request_error"
    anthropic_type = "authentication_error"

    def __init__(self, message: str = "Invalid API key.") -> None:
        super().__init__(message)


class Unauthenticated(SluiceError):
    """A dashboard route without a valid user token."""

    status = 401
    code = "unauthenticated"
    openai_type = "invalid_request_error"
    anthropic_type = "authentication_error"


class PermissionDenied(SluiceError):
    status = 403
    code = "permission_denied"
    openai_type = "invalid_request_error"
    anthropic_type = "permission_error"


class InsufficientCredits(SluiceError):
    status = 403
    code = "insufficient_credits"
    openai_type = "insufficient_quota"
    anthropic_type = "permission_error"


class NotFound(SluiceError):
    status = 404
    code = "not_found"
    openai_type = "invalid_request_error"
    anthropic_type = "not_found_error"


class ModelNotFound(NotFound):
    code = "model_not_found"

    def __init__(self, model_id: str) -> None:
        super().__init__(f"The model '{model_id}' does not exist.", param="model")
        self.model_id = model_id


class ModelRetired(NotFound):
    """A deprecated model past its end-of-life date: ``model_not_found`` (404), as SPEC "Errors"
    pairs them and OpenAI answers for a model it shut down, naming the replacement."""

    code = "model_not_found"

    def __init__(self, model_id: str, eol: str, replacement: str | None) -> None:
        hint = f" Use '{replacement}' instead." if replacement else ""
        super().__init__(f"The model '{model_id}' was retired on {eol}.{hint}", param="model")


class MethodNotAllowed(SluiceError):
    status = 405
    code = "method_not_allowed"
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"


class RateLimited(SluiceError):
    status = 429
    code = "rate_limit_exceeded"
    openai_type = "rate_limit_error"
    anthropic_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UpstreamError(SluiceError):
    status = 502
    code = "upstream_error"
    openai_type = "api_error"
    anthropic_type = "api_error"


class UpstreamUnavailable(UpstreamError):
    status = 503
    code = "upstream_unavailable"
    anthropic_type = "overloaded_error"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class ServiceUnavailable(SluiceError):
    """A dependency of Sluice itself (DynamoDB, SQS) failed."""

    status = 503
    code = "service_unavailable"
    anthropic_type = "overloaded_error"
