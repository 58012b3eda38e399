"""What a handler reads and answers, found in its code rather than listed by hand.

From the endpoint, the functions it reaches (calls, callables passed on, callables held by
objects such as ``ChatFormat``) are read breadth-first, up to ``MAX_DEPTH`` calls deep, within
the ``shared`` and ``functions`` packages. What is collected:

- the request model: the first ``parse_model(Model, ...)`` (``shared.http.body``, the one way a
  handler parses a body), shallowest first, then in source order; the body is optional when the
  endpoint reads it with ``read_json(..., empty_is_object=True)``;
- query parameters: ``request.query_params.get(name)`` / ``[name]``, with ``name`` a literal or a
  parameter bound to a literal by the caller (``_bounded(request, "days", ...)``);
- request headers: ``request.headers.get(name)`` in the endpoint itself, with a literal or a
  module-level string constant (transport and API-key headers left out);
- success statuses: ``status=`` / ``status_code=`` integer literals in the endpoint itself;
- API-key authentication: ``shared.auth.api_keys.authenticate`` reached; optional when reached
  through a function whose name says ``optional`` (the public catalog's convention).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

MAX_DEPTH = 4
_PACKAGES = ("shared.", "functions.")
_STATUS_KEYWORDS = ("status", "status_code")
_TRANSPORT_HEADERS = {"content-length", "content-type", "authorization", "x-api-key", "accept"}
ApiKeyUse = Literal["none", "optional", "required"]


@dataclass
class HandlerFacts:
    request_model: type[BaseModel] | None = None
    body_optional: bool = False
    query_params: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    success_statuses: list[int] = field(default_factory=list)
    api_key: ApiKeyUse = "none"


@dataclass(frozen=True)
class _Frame:
    fn: Callable[..., Any]
    depth: int
    bindings: tuple[tuple[str, Any], ...] = ()
    optional: bool = False


def _function_node(fn: Callable[..., Any]) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(inspect.unwrap(fn)))
    except (OSError, TypeError):
        return None
    body = ast.parse(source).body
    return body[0] if body else None


def _ours(value: Any) -> bool:
    return inspect.isfunction(value) and str(value.__module__).startswith(_PACKAGES)


def _is_authenticate(value: Any) -> bool:
    return inspect.isfunction(value) and (value.__module__, value.__name__) == (
        "shared.auth.api_keys",
        "authenticate",
    )


def _held_callables(value: Any) -> list[Callable[..., Any]]:
    """Functions held by a dataclass instance (e.g. a ChatFormat's parse/render)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return []
    held = (getattr(value, f.name, None) for f in dataclasses.fields(value))
    return [v for v in held if v is not None and _ours(v)]


def _ordered_calls(node: ast.AST) -> Iterator[ast.Call]:
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    yield from sorted(calls, key=lambda c: (c.lineno, c.col_offset))


class _Scanner:
    def __init__(self, endpoint: Callable[..., Any]) -> None:
        self.facts = HandlerFacts()
        self._models: list[tuple[int, int, type[BaseModel]]] = []
        self._queue: deque[_Frame] = deque([_Frame(endpoint, 0)])
        self._seen: set[tuple[Any, ...]] = set()

    def run(self) -> HandlerFacts:
        while self._queue:
            frame = self._queue.popleft()
            key = (frame.fn, frame.bindings)
            if key in self._seen:
                continue
            self._seen.add(key)
            node = _function_node(frame.fn)
            if node is not None:
                self._scan(frame, node)
        if self._models:
            self.facts.request_model = min(self._models, key=lambda m: (m[0], m[1]))[2]
        if not self.facts.success_statuses:
            self.facts.success_statuses = [200]
        return self.facts

    def _resolve(self, frame: _Frame, expr: ast.expr) -> Any:
        bindings = dict(frame.bindings)
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            if expr.id in bindings:
                return bindings[expr.id]
            return getattr(frame.fn, "__globals__", {}).get(expr.id)
        if isinstance(expr, ast.Attribute):
            owner = self._resolve(frame, expr.value)
            return getattr(owner, expr.attr, None) if owner is not None else None
        return None

    def _scan(self, frame: _Frame, node: ast.AST) -> None:
        for call in _ordered_calls(node):
            self._call(frame, call)
        for name in (n for n in ast.walk(node) if isinstance(n, ast.Name | ast.Attribute)):
            self._reference(frame, name)

    def _call(self, frame: _Frame, call: ast.Call) -> None:
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "parse_model" and call.args:
            self._model(frame, call, self._resolve(frame, call.args[0]))
        elif name == "read_json" and frame.depth == 0 and _keyword_true(call, "empty_is_object"):
            self.facts.body_optional = True
        elif name == "get" and isinstance(func, ast.Attribute) and call.args:
            self._read(frame, func.value, call.args[0])
        if frame.depth == 0:
            self._statuses(call)
        target = self._resolve(frame, func)
        if _ours(target) and not _is_authenticate(target):
            self._enqueue(frame, target, self._bindings(frame, target, call))

    def _model(self, frame: _Frame, call: ast.Call, value: Any) -> None:
        if isinstance(value, type) and issubclass(value, BaseModel):
            self._models.append((frame.depth, len(self._models), value))

    def _read(self, frame: _Frame, container: ast.expr, key_expr: ast.expr) -> None:
        """``<x>.query_params.get(key)`` and ``<x>.headers.get(key)``."""
        if not isinstance(container, ast.Attribute):
            return
        key = self._resolve(frame, key_expr)
        if not isinstance(key, str):
            return
        if container.attr == "headers" and (frame.depth > 0 or key.lower() in _TRANSPORT_HEADERS):
            return  # transport headers, and what helpers read for their own checks
        bucket = {"query_params": self.facts.query_params, "headers": self.facts.headers}.get(container.attr)
        if bucket is not None and key not in bucket:
            bucket.append(key)

    def _statuses(self, call: ast.Call) -> None:
        for keyword in call.keywords:
            if keyword.arg in _STATUS_KEYWORDS:
                for const in ast.walk(keyword.value):
                    value = getattr(const, "value", None) if isinstance(const, ast.Constant) else None
                    if isinstance(value, int) and value not in self.facts.success_statuses:
                        self.facts.success_statuses.append(value)

    def _bindings(self, frame: _Frame, target: Callable[..., Any], call: ast.Call) -> tuple[Any, ...]:
        """Parameters of ``target`` that the call binds to literals."""
        try:
            params = list(inspect.signature(target).parameters)
        except (TypeError, ValueError):
            return ()
        bound = []
        for index, arg in enumerate(call.args[: len(params)]):
            value = self._resolve(frame, arg) if isinstance(arg, ast.Constant) else None
            if isinstance(value, str | int):
                bound.append((params[index], value))
        return tuple(bound)

    def _reference(self, frame: _Frame, expr: ast.Name | ast.Attribute) -> None:
        value = self._resolve(frame, expr)
        if _is_authenticate(value):
            optional = frame.optional or "optional" in frame.fn.__name__
            if self.facts.api_key != "required":
                self.facts.api_key = "optional" if optional else "required"
        elif _ours(value):
            self._enqueue(frame, value, ())
        for held in _held_callables(value):
            self._enqueue(frame, held, ())

    def _enqueue(self, frame: _Frame, fn: Callable[..., Any], bindings: tuple[Any, ...]) -> None:
        if frame.depth < MAX_DEPTH:
            optional = frame.optional or "optional" in frame.fn.__name__
            self._queue.append(_Frame(fn, frame.depth + 1, bindings, optional))


def _keyword_true(call: ast.Call, name: str) -> bool:
    return any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
    )


def handler_facts(endpoint: Callable[..., Any]) -> HandlerFacts:
    """Everything ``sluice.openapi`` documents about one endpoint, read from its code."""
    return _Scanner(endpoint).run()
