"""docs/openapi.json: generated (never edited by hand), complete against template.yaml, usable.

The document is built from template.yaml's Api events, the handlers and the pydantic wire models
(``python -m sluice.openapi``, ``make openapi``).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import referencing
import referencing.jsonschema
import schemathesis
from schemathesis.core.result import Err, Ok

from sluice.local.template import load_template
from sluice.openapi import build_document, render_document

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "openapi.json"
EVENTS = REPO / "events"
DOC_URI = "urn:sluice:openapi"


@pytest.fixture(scope="module")
def document() -> dict:
    return build_document()


def template_api_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every Api event, read straight from the YAML (not through sluice.openapi)."""
    routes = set()
    for resource in load_template()["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "Api":
                routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return routes


def test_the_committed_document_is_the_generated_one() -> None:
    fresh = render_document()
    assert COMMITTED.read_text(encoding="utf-8") == fresh, "docs/openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_and_nothing_else(document: dict) -> None:
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}

    assert documented - template_api_routes() == set(), "documented but not routed by API Gateway"
    assert template_api_routes() - documented == set(), "routed by API Gateway but not documented"


def ok[T, E: Exception](result: Ok[T] | Err[E]) -> T:
    """The value of a result schemathesis expects to be ``Ok`` (else the test fails with its error)."""
    assert isinstance(result, Ok), result.err()
    return result.ok()


def test_schemathesis_reads_every_operation(document: dict) -> None:
    schema = schemathesis.openapi.from_dict(document)
    operations = [ok(result) for result in schema.get_all_operations()]

    assert len(operations) == len(template_api_routes())


def test_each_operation_documents_its_errors_in_its_wire_format(document: dict) -> None:
    for path, item in document["paths"].items():
        expected = "AnthropicError" if path.removeprefix("/api").startswith("/v1/messages") else "OpenAIError"
        for method, operation in item.items():
            refs = [r["$ref"] for r in operation["responses"].values() if "$ref" in r]
            assert refs, f"{method} {path} documents no error"
            assert all(ref.rsplit("/", 1)[1].startswith(expected) for ref in refs), (method, path)
            assert "500" not in operation["responses"], "a 500 is a bug, never a documented answer"


def test_request_bodies_come_from_the_wire_models(document: dict) -> None:
    bodies = {
        (method.upper(), path): op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    }

    assert bodies[("POST", "/v1/chat/completions")].endswith("/ChatCompletionRequest")
    assert bodies[("POST", "/api/v1/messages")].endswith("/MessagesRequest")
    assert bodies[("POST", "/api/keys")].endswith("/CreateKeyRequest")
    assert bodies[("PATCH", "/api/profile")].endswith("/ProfileUpdate")
    assert not any(method in ("GET", "DELETE") for method, _ in bodies)


def test_a_body_is_required_unless_the_handler_reads_an_empty_one_as_an_object(document: dict) -> None:
    optional = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "requestBody" in op and not op["requestBody"]["required"]
    }

    assert optional == {("POST", "/api/playground/sessions")}, "its every field is optional"


def test_api_key_and_cognito_security_are_read_from_the_code(document: dict) -> None:
    paths = document["paths"]

    assert paths["/v1/chat/completions"]["post"]["security"] == [{"ApiKeyBearer": []}, {"ApiKeyHeader": []}]
    assert {} in paths["/v1/models"]["get"]["security"], "a key is optional on the catalog"
    assert paths["/api/keys"]["get"]["security"] == [{"CognitoIdToken": []}]
    assert "security" not in paths["/api/health"]["get"]
    assert [p["name"] for p in paths["/api/user/credits"]["get"]["parameters"]] == ["days", "hours"]


def _sample_events() -> list[Path]:
    return sorted(p for p in EVENTS.glob("*/*.json") if json.loads(p.read_text()).get("body"))


@pytest.mark.parametrize("sample", _sample_events(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sample_request_bodies_conform_to_the_document(document: dict, sample: Path) -> None:
    event = json.loads(sample.read_text())
    operation = document["paths"][event["resource"]][event["httpMethod"].lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    resource = referencing.Resource.from_contents(
        document, default_specification=referencing.jsonschema.DRAFT202012
    )
    registry = referencing.Registry().with_resource(DOC_URI, resource)
    validator = jsonschema.Draft202012Validator({"$ref": DOC_URI + schema["$ref"]}, registry=registry)

    validator.validate(json.loads(event["body"]))
