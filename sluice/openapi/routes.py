"""The route table: every ``Api`` event of template.yaml, with the Starlette endpoint that serves it."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from sluice.local.template import LocalTemplate, parse_template

_CONVERTER = re.compile(r"\{(\w+)(:\w+)?\}")


class RouteTableError(Exception):
    """template.yaml and the function code disagree about a route."""


@dataclass(frozen=True)
class ApiOperation:
    """One method on one path, as API Gateway routes it and as the function serves it."""

    path: str
    method: str
    function: str  # logical id of the function in template.yaml
    event: str  # name of the Api event (the operationId)
    cognito: bool  # behind the Cognito authorizer
    streaming: bool  # Lambda Web Adapter response streaming
    endpoint: Callable[..., Any]

    @property
    def path_params(self) -> list[str]:
        return [name for name, _ in _CONVERTER.findall(self.path)]


def _api_events(template: LocalTemplate) -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event name, properties) of every Api event, in template order."""
    found = []
    for name, props in template.resources("AWS::Serverless::Function").items():
        for event_name, event in (props.get("Events") or {}).items():
            if event.get("Type") == "Api":
                found.append((name, event_name, event.get("Properties") or {}))
    return found


def function_app(template: LocalTemplate, function: str) -> Starlette:
    """The function's Starlette app: module attribute ``app`` (Mangum handlers wrap the same app)."""
    spec = template.functions[function]
    module = importlib.import_module(spec.module)
    app = getattr(module, "app", None)
    if app is None:
        app = getattr(getattr(module, spec.attribute, None), "app", None)
    if not isinstance(app, Starlette):
        raise RouteTableError(f"{spec.module} has no Starlette `app` for {function}")
    return app


def _normalise(path: str) -> str:
    """``/v1/models/{model_id:path}`` -> ``/v1/models/{model_id}``."""
    return _CONVERTER.sub(lambda m: "{" + m.group(1) + "}", path)


def _endpoint(app: Starlette, path: str, method: str) -> Callable[..., Any] | None:
    for route in app.routes:
        if isinstance(route, Route) and _normalise(route.path) == path and method in (route.methods or ()):
            return route.endpoint
    return None


def api_operations(template: LocalTemplate | None = None) -> list[ApiOperation]:
    """Every Api route of the template; raises if a function does not serve one of its routes."""
    template = template or parse_template()
    apps: dict[str, Starlette] = {}
    operations = []
    for function, event, props in _api_events(template):
        path, method = str(props["Path"]), str(props["Method"]).upper()
        if function not in apps:
            apps[function] = function_app(template, function)
        endpoint = _endpoint(apps[function], path, method)
        if endpoint is None:
            raise RouteTableError(
                f"template.yaml routes {method} {path} to {function}, which does not serve it"
            )
        auth = (props.get("Auth") or {}).get("Authorizer")
        operations.append(
            ApiOperation(
                path=path,
                method=method,
                function=function,
                event=event,
                cognito=auth not in (None, "NONE"),
                streaming=props.get("ResponseTransferMode") == "RESPONSE_STREAM",
                endpoint=endpoint,
            )
        )
    return operations
