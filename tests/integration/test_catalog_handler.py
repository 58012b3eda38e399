"""The catalog function driven through its Lambda entry point with the events in events/catalog."""

from __future__ import annotations

import json

import pytest
from support.lambda_events import FakeContext, load_event

from shared.catalog.loader import load_catalog_file


def invoke(name: str) -> tuple[int, dict[str, str], dict]:
    from functions.catalog.app import handler

    result = handler(load_event("catalog", name), FakeContext())
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    return result["statusCode"], headers, json.loads(result["body"])


@pytest.mark.usefixtures("seeded_catalog")
@pytest.mark.parametrize("event", ["list_models", "list_models_api_alias"])
def test_list_models_returns_the_catalog_in_openai_list_format(event: str) -> None:
    status, headers, body = invoke(event)

    assert status == 200
    assert body["object"] == "list"
    expected = [m.id for m in load_catalog_file().models]
    assert [m["id"] for m in body["data"]] == expected
    first = body["data"][0]
    assert {"id", "object", "created", "owned_by", "tier", "status", "context_window", "credit_cost"} <= set(
        first
    )
    assert first["object"] == "model"
    assert headers["x-request-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert all("routes" not in m and "persona" not in m for m in body["data"]), (
        "upstream details stay private"
    )


@pytest.mark.usefixtures("seeded_catalog")
def test_get_model_returns_sluice_fields() -> None:
    status, _, body = invoke("get_model")

    assert status == 200
    assert body["id"] == "kimi-k2.5"
    assert body["credit_cost"] == 2
    assert body["capabilities"]["vision"] is True
    assert body["context_window"] == 256000


@pytest.mark.usefixtures("seeded_catalog")
def test_deprecated_model_carries_deprecation_and_sunset_headers() -> None:
    status, headers, body = invoke("get_model_deprecated")

    assert status == 200
    assert body["status"] == "deprecated" and body["eol_date"] == "2027-03-31"
    assert headers["deprecation"] == "true"
    assert headers["sunset"] == "Wed, 31 Mar 2027 00:00:00 GMT"
    assert "qwen3" in headers["link"]


@pytest.mark.usefixtures("seeded_catalog")
def test_unknown_model_is_404_model_not_found_in_openai_format() -> None:
    status, _, body = invoke("get_model_unknown")

    assert status == 404
    assert body == {
        "error": {
            "message": "The model 'no-such-model' does not exist.",
            "type": "invalid_request_error",
            "code": "model_not_found",
            "param": "model",
        }
    }


@pytest.mark.usefixtures("seeded_catalog")
def test_health_reports_dependencies() -> None:
    status, _, body = invoke("health")

    assert status == 200
    assert body["status"] == "ok"
    assert body["dependencies"]["dynamodb"]["ok"] is True


def test_health_is_503_when_dynamodb_is_missing(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import get_settings

    monkeypatch.setenv("SLUICE_CATALOG_TABLE", "no-such-table")
    get_settings.cache_clear()

    status, _, body = invoke("health")

    assert status == 503
    assert body["dependencies"]["dynamodb"] == {"ok": False, "error": "ResourceNotFoundException"}


@pytest.mark.usefixtures("seeded_catalog")
def test_an_entry_this_version_cannot_read_is_skipped_not_a_500() -> None:
    """A newer `sluice catalog load` may write a field this code does not know (a deploy in
    flight): that one model is left out and logged; the rest of the catalog keeps serving."""
    import boto3

    from shared.adapters.catalog_store import clear_catalog_cache
    from shared.settings import get_settings

    doc = {**load_catalog_file().models[0].model_dump(mode="json"), "id": "from-the-future", "new_field": 1}
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=get_settings().catalog_table,
        Item={"id": {"S": "from-the-future"}, "position": {"N": "999"}, "doc": {"S": json.dumps(doc)}},
    )
    clear_catalog_cache()

    status, _, body = invoke("list_models")

    assert status == 200
    assert [m["id"] for m in body["data"]] == [m.id for m in load_catalog_file().models]
