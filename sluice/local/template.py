"""Read template.yaml into what the local stack needs: tables, queues, functions and their events.

Intrinsic functions are resolved against local physical names, so local and deployed resources
come from the same declarations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Ref X`` into ``{"Ref": "X"}`` and ``!Sub s`` into ``{"Fn::Sub": s}``."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a template")
    return document


@dataclass(frozen=True)
class ApiRoute:
    function: str
    path: str
    method: str
    streaming: bool
    authorized: bool

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    def precedence(self) -> tuple[int, ...]:
        """API Gateway's order among resources that match one path, smallest first: level by
        level, a literal segment before a path parameter before a greedy ``{name+}``."""
        return tuple(
            2 if segment.endswith("+}") else 1 if segment.startswith("{") else 0
            for segment in self.path.split("/")
        )


@dataclass(frozen=True)
class QueueMapping:
    function: str
    queue: str
    batch_size: int
    window_seconds: int
    report_failures: bool


@dataclass(frozen=True)
class ScheduleEvent:
    function: str
    name: str
    expression: str
    enabled: bool


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    code_uri: str
    handler: str
    environment: dict[str, Any]
    streaming: bool

    @property
    def module(self) -> str:
        """Python module of the function code, e.g. ``functions.catalog.app``."""
        package = self.code_uri.strip("/").replace("/", ".")
        if self.streaming:
            return f"{package}.app"
        return f"{package}.{self.handler.rsplit('.', 1)[0]}"

    @property
    def attribute(self) -> str:
        return "app" if self.streaming else self.handler.rsplit(".", 1)[1]


@dataclass
class LocalTemplate:
    document: dict[str, Any]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[ApiRoute] = field(default_factory=list)
    queue_mappings: list[QueueMapping] = field(default_factory=list)
    schedules: list[ScheduleEvent] = field(default_factory=list)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            name: res.get("Properties", {}) or {}
            for name, res in self.document.get("Resources", {}).items()
            if res.get("Type") == kind
        }

    @property
    def global_environment(self) -> dict[str, Any]:
        function_globals = self.document.get("Globals", {}).get("Function", {})
        return dict(function_globals.get("Environment", {}).get("Variables", {}))


def _is_streaming(props: dict[str, Any]) -> bool:
    env = props.get("Environment", {}).get("Variables", {})
    return env.get("AWS_LWA_INVOKE_MODE") == "response_stream"


def _ref_name(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise ValueError(f"expected !Ref or !GetAtt, got {value!r}")


def _add_event(tpl: LocalTemplate, fn: str, name: str, event: dict[str, Any], streaming: bool) -> None:
    kind, props = event.get("Type"), event.get("Properties", {}) or {}
    if kind == "Api":
        tpl.routes.append(
            ApiRoute(
                function=fn,
                path=props["Path"],
                method=props["Method"].upper(),
                streaming=streaming and props.get("ResponseTransferMode") == "RESPONSE_STREAM",
                authorized=(props.get("Auth", {}) or {}).get("Authorizer") not in (None, "NONE"),
            )
        )
    elif kind == "SQS":
        tpl.queue_mappings.append(
            QueueMapping(
                function=fn,
                queue=_ref_name(props["Queue"]),
                batch_size=int(props.get("BatchSize", 10)),
                window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            )
        )
    elif kind == "Schedule":
        tpl.schedules.append(
            ScheduleEvent(
                function=fn,
                name=name,
                expression=props["Schedule"],
                enabled=bool(props.get("Enabled", True)),
            )
        )


def parse_template(document: dict[str, Any] | None = None) -> LocalTemplate:
    tpl = LocalTemplate(document=document if document is not None else load_template())
    for name, props in tpl.resources("AWS::Serverless::Function").items():
        streaming = _is_streaming(props)
        tpl.functions[name] = FunctionSpec(
            name=name,
            code_uri=props["CodeUri"],
            handler=props["Handler"],
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            streaming=streaming,
        )
        for event_name, event in (props.get("Events") or {}).items():
            _add_event(tpl, name, event_name, event, streaming)
    return tpl
