"""Assemble the OpenAPI 3.1 document from the route table, the handlers and the wire models."""

from __future__ import annotations

import inspect
import json
from importlib import metadata
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sluice.openapi.errors import AnthropicError, OpenAIError, error_model, error_statuses
from sluice.openapi.introspect import HandlerFacts, handler_facts
from sluice.openapi.routes import ApiOperation, api_operations

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
_METHOD_ORDER = ("get", "post", "put", "patch", "delete", "options", "head")
HEADERS = {
    "X-Request-Id": {
        "description": "Request id; quote it to the operator (every 5xx is logged with it).",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds until the window resets.",
        "required": True,
        "schema": {"type": "string"},
    },
}
REQUEST_ID = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
SECURITY_SCHEMES = {
    "ApiKeyBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`sk_sluice_...`) as `Authorization: Bearer <key>`.",
    },
    "ApiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key as `X-API-Key: <key>` (Anthropic SDKs).",
    },
    "CognitoIdToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A dashboard user's Cognito ID token, checked by API Gateway's Cognito authorizer.",
    },
}
DESCRIPTION = (
    "Sluice's public API (OpenAI- and Anthropic-compatible chat, the model catalog) and its "
    "dashboard API. Generated from template.yaml's routes, the handlers and the pydantic wire "
    "models by `python -m sluice.openapi`; do not edit by hand. Every `/v1/...` route is also "
    'served as `/api/v1/...`. Errors are `{"error": {...}}` (OpenAI format) except on the '
    'Anthropic Messages routes, which answer `{"type": "error", "error": {...}}`.'
)


def _version() -> str:
    try:
        return metadata.version("sluice")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _summary(op: ApiOperation) -> dict[str, str]:
    doc = inspect.getdoc(op.endpoint) or ""
    lines = doc.strip().splitlines()
    summary = lines[0].rstrip(".") if lines else op.endpoint.__name__.replace("_", " ").capitalize()
    out = {"summary": summary}
    if len(lines) > 1:
        out["description"] = doc
    return out


def _parameters(op: ApiOperation, facts: HandlerFacts) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in op.path_params
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in facts.query_params
    ]
    params += [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        for name in facts.headers
    ]
    return params


def _security(op: ApiOperation, facts: HandlerFacts) -> list[dict[str, list[str]]] | None:
    keys: list[dict[str, list[str]]] = [{"ApiKeyBearer": []}, {"ApiKeyHeader": []}]
    if op.cognito:
        return [{"CognitoIdToken": []}]
    if facts.api_key == "required":
        return keys
    if facts.api_key == "optional":
        return [{}, *keys]
    return None


def _streams(facts: HandlerFacts) -> bool:
    model = facts.request_model
    return model is not None and "stream" in model.model_fields


# One server-sent event, in the shape OpenAPI 3.2 gives an event stream's ``itemSchema``; in a 3.1
# document, tools (schemathesis among them) read an event stream's ``schema`` as each event's.
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string", "description": "a JSON chunk, or `[DONE]` (OpenAI format)"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}


def _success(op: ApiOperation, facts: HandlerFacts, status: int) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
    if op.streaming and _streams(facts):
        content["text/event-stream"] = {"schema": SSE_EVENT, "description": "when `stream` is true"}
    error = status >= 400  # e.g. health's 503 when a dependency is down
    return {
        "description": "Dependency down (same body)" if error else "Success",
        "headers": REQUEST_ID,
        "content": content,
    }


def _error_response(model: type[BaseModel], status: int, codes: list[str]) -> dict[str, Any]:
    headers = dict(REQUEST_ID)
    if status == 429:
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    return {
        "description": "Error codes: " + ", ".join(f"`{c}`" for c in codes),
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
    }


def error_responses(errors: dict[int, list[str]]) -> dict[str, Any]:
    """``components.responses``: one entry per error format and status."""
    return {
        f"{model.__name__}{status}": _error_response(model, status, codes)
        for model in (AnthropicError, OpenAIError)
        for status, codes in errors.items()
    }


def _responses(op: ApiOperation, facts: HandlerFacts, errors: dict[int, list[str]]) -> dict[str, Any]:
    responses: dict[str, Any] = {str(s): _success(op, facts, s) for s in facts.success_statuses}
    model = error_model(op.path)
    for status in errors:
        ref = {"$ref": f"#/components/responses/{model.__name__}{status}"}
        if str(status) in responses:  # a success body at an error status (health's 503), or an error
            entry = responses[str(status)]
            entry["description"] += "; or an error"
            schema = {"anyOf": [{"type": "object"}, {"$ref": REF.format(model=model.__name__)}]}
            entry["content"]["application/json"] = {"schema": schema}
            continue
        responses[str(status)] = ref
    return dict(sorted(responses.items()))


def _operation(
    op: ApiOperation, facts: HandlerFacts, errors: dict[int, list[str]], refs: dict[type[BaseModel], Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "operationId": op.event,
        **_summary(op),
        "tags": [op.function.removesuffix("Function")],
    }
    parameters = _parameters(op, facts)
    if parameters:
        body["parameters"] = parameters
    if facts.request_model is not None:
        body["requestBody"] = {
            "required": not facts.body_optional,
            "content": {"application/json": {"schema": refs[facts.request_model]}},
        }
    body["responses"] = _responses(op, facts, errors)
    security = _security(op, facts)
    if security is not None:
        body["security"] = security
    body["x-sluice-function"] = op.function
    body["x-sluice-streaming"] = op.streaming
    return body


def _schemas(models: list[type[BaseModel]]) -> tuple[dict[type[BaseModel], Any], dict[str, Any]]:
    unique = list(dict.fromkeys(models))
    key_map, definitions = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
    refs: dict[type[BaseModel], Any] = {}
    for (model, _), schema in key_map.items():
        refs[model] = schema  # type: ignore[index]  # only BaseModels were given
    return refs, dict(sorted(definitions.get("$defs", {}).items()))


def build_document() -> dict[str, Any]:
    """The whole document, as a JSON-ready dict (deterministic: same code, same document)."""
    operations = api_operations()
    facts = [handler_facts(op.endpoint) for op in operations]
    errors = error_statuses()
    models = [f.request_model for f in facts if f.request_model is not None]
    refs, schemas = _schemas([*models, OpenAIError, AnthropicError])
    paths: dict[str, dict[str, Any]] = {}
    for op, op_facts in zip(operations, facts, strict=True):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, op_facts, errors, refs)
    ordered = {
        path: dict(sorted(methods.items(), key=lambda item: _METHOD_ORDER.index(item[0])))
        for path, methods in sorted(paths.items())
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Sluice", "version": _version(), "description": DESCRIPTION},
        "servers": [
            {"url": "http://127.0.0.1:3000", "description": "The local stack (`make dev`)"},
            {
                "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
                "description": "Deployed (the stack's ApiUrl output)",
                "variables": {
                    "api_id": {"default": "example"},
                    "region": {"default": "us-east-1"},
                    "stage": {"default": "prod"},
                },
            },
        ],
        "paths": ordered,
        "components": {
            "schemas": schemas,
            "responses": error_responses(errors),
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render_document() -> str:
    """The document as the committed docs/openapi.json spells it."""
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"
