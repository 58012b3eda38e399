"""The tools function through events/tools: the starter catalog, installing starter and custom
tools, listing, reading, updating (checked against the current plan, as after a downgrade) and
uninstalling them, settings refused with a 400 that names the parameter (or the plan's cap) and
unknown starters with a 404, another user's tools invisible, and every route needing a signed-in
user. The function is a Lambda Web Adapter app, so each sample event is sent to its ASGI app with
the request context in ``x-amzn-request-context``."""

from __future__ import annotations

import pytest
from dashboard_support import (
    ADA,
    BOB,
    EVE,
    call_streaming,
    install,
    make_user,
    run,
    tools,
)

from shared.accounts.models import Plan

pytestmark = pytest.mark.usefixtures("chat_world")


def test_starter_catalog_has_the_five_tools_all_installable_on_free() -> None:
    make_user(ADA, "free")

    response = tools("list_starter_tools", sub=ADA)

    assert response.status_code == 200
    starters = {t["id"]: t for t in response.json()["data"]}
    assert set(starters) == {
        "blog-intro-writer",
        "ad-copy",
        "formal-croatian-letter",
        "support-reply",
        "seo-meta-description",
    }
    for tool in starters.values():
        assert tool["system_prompt"] and tool["tone_options"] and tool["profile_options"]
        assert tool["tone"] in tool["tone_options"] and tool["profile"] in tool["profile_options"]
        assert 0 <= tool["temperature"] <= 2 and 1 <= tool["max_output_tokens"] <= 4096
    assert starters["formal-croatian-letter"]["model"] == "hrllm"


def test_install_list_update_uninstall_a_starter_tool() -> None:
    make_user(ADA, "free")

    installed = install()
    assert installed["id"].startswith("tool_") and installed["starter_id"] == "blog-intro-writer"
    assert installed["name"] == "Blog intro writer" and installed["tone"] == "conversational"

    listed = tools("list_tools", sub=ADA).json()["data"]
    assert [t["id"] for t in listed] == [installed["id"]]

    params = {"tool_id": installed["id"]}
    changes = {"tone": "informative", "temperature": 0.5, "max_output_tokens": 1000}
    updated = tools("update_tool", sub=ADA, path_params=params, body=changes)
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in changes} == changes
    assert updated.json()["system_prompt"] == installed["system_prompt"], "other settings stay"

    removed = tools("uninstall_tool", sub=ADA, path_params=params)
    assert removed.status_code == 200 and removed.json()["deleted"] is True
    assert tools("list_tools", sub=ADA).json()["data"] == []
    assert tools("uninstall_tool", sub=ADA, path_params=params).status_code == 404


def test_a_temperature_too_small_for_dynamodb_is_kept_as_zero() -> None:
    """Within 0-2, so valid; DynamoDB's smallest number is 1e-130 (a random fuzz run found a 500)."""
    make_user(ADA, "free")
    params = {"tool_id": install()["id"]}

    updated = tools("update_tool", sub=ADA, path_params=params, body={"temperature": 2.2250738585e-313})

    assert updated.status_code == 200, updated.text
    assert updated.json()["temperature"] == 0
    assert tools("list_tools", sub=ADA).json()["data"][0]["temperature"] == 0


def test_install_a_custom_tool_from_its_sample_event() -> None:
    make_user(ADA, "free")

    response = tools("install_custom_tool", sub=ADA)

    assert response.status_code == 201, response.text
    tool = response.json()
    assert (
        tool["starter_id"] is None
        and tool["name"] == "Release notes"
        and tool["tone_options"] == ["plain", "upbeat"]
    )


@pytest.mark.parametrize(("sub", "plan", "cap"), [(ADA, "free", 4096), (BOB, "pro", 8192)])
def test_max_output_tokens_over_the_plan_cap_is_400_naming_the_cap(sub: str, plan: Plan, cap: int) -> None:
    make_user(sub, plan)
    tool = install(sub)
    params = {"tool_id": tool["id"]}

    at_cap = tools("update_tool", sub=sub, path_params=params, body={"max_output_tokens": cap})
    over = tools("update_tool", sub=sub, path_params=params, body={"max_output_tokens": cap + 1})
    custom = tools(
        "install_custom_tool",
        sub=sub,
        body={"tool": {"name": "x", "system_prompt": "y", "max_output_tokens": cap + 1}},
    )

    assert at_cap.status_code == 200 and at_cap.json()["max_output_tokens"] == cap
    for refused in (over, custom):
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["param"] == "max_output_tokens" and f"{cap:,}" in error["message"]
        assert plan.capitalize() in error["message"]


def test_bad_settings_are_400_and_unknown_starters_404() -> None:
    make_user(ADA, "free")
    tool = install()
    params = {"tool_id": tool["id"]}

    wrong_tone = tools("update_tool", sub=ADA, path_params=params, body={"tone": "sarcastic"})
    hot = tools("update_tool", sub=ADA, path_params=params, body={"temperature": 2.5})
    pro_model = tools("update_tool", sub=ADA, path_params=params, body={"model": "qwen3"})
    unknown_starter = tools("install_starter_tool", sub=ADA, body={"starter_id": "nope"})
    both = tools(
        "install_starter_tool",
        sub=ADA,
        body={"starter_id": "ad-copy", "tool": {"name": "a", "system_prompt": "b"}},
    )

    assert wrong_tone.status_code == 400 and wrong_tone.json()["error"]["param"] == "tone"
    assert hot.status_code == 400 and hot.json()["error"]["param"] == "temperature"
    assert pro_model.status_code == 403 and "Pro" in pro_model.json()["error"]["message"]
    assert unknown_starter.status_code == 404
    assert both.status_code == 400


def test_an_unknown_model_is_404_model_not_found_as_a_chat_call_answers() -> None:
    """SPEC "Errors" pairs ``model_not_found`` with 404; installs and updates said 400."""
    make_user(ADA, "free")
    tool = install()
    params = {"tool_id": tool["id"]}
    custom = {"tool": {"name": "x", "system_prompt": "y", "model": "no-such-model"}}

    updated = tools("update_tool", sub=ADA, path_params=params, body={"model": "no-such-model"})
    installed = tools("install_custom_tool", sub=ADA, body=custom)

    for refused in (updated, installed):
        assert refused.status_code == 404 and refused.json()["error"] == {
            "message": "The model 'no-such-model' does not exist.",
            "type": "invalid_request_error",
            "code": "model_not_found",
            "param": "model",
        }
    assert tools("get_tool", sub=ADA, path_params=params).json()["model"] == tool["model"], "nothing changed"
    assert len(tools("list_tools", sub=ADA).json()["data"]) == 1, "nothing installed"


def test_one_tool_is_read_as_the_list_shows_it() -> None:
    make_user(ADA, "free")
    make_user(EVE, "free")
    first, second = install(ADA), install(ADA, "ad-copy")

    response = tools("get_tool", sub=ADA, path_params={"tool_id": second["id"]})

    assert response.status_code == 200, response.text
    listed = {t["id"]: t for t in tools("list_tools", sub=ADA).json()["data"]}
    assert response.json() == listed[second["id"]] and response.json()["object"] == "tool"
    assert tools("get_tool", sub=ADA, path_params={"tool_id": first["id"]}).json() == listed[first["id"]]
    for sub, tool_id in ((EVE, first["id"]), (ADA, "tool_ffffffffffffffff"), (ADA, "%23count")):
        missing = tools("get_tool", sub=sub, path_params={"tool_id": tool_id})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found", tool_id


def test_after_a_downgrade_an_update_must_bring_the_tool_within_the_new_plan() -> None:
    from shared.keys.service import set_plan

    user = make_user(BOB, "pro")
    body = {"tool": {"name": "big", "system_prompt": "Write at length.", "max_output_tokens": 8192}}
    tool = tools("install_custom_tool", sub=BOB, body=body).json()
    params = {"tool_id": tool["id"]}
    set_plan(user.account_id, "free")

    renamed = tools("update_tool", sub=BOB, path_params=params, body={"name": "big2"})
    installed = tools("install_custom_tool", sub=BOB, body=body)

    assert renamed.status_code == 400 and renamed.json() == installed.json(), "the error install gives"
    assert renamed.json()["error"]["param"] == "max_output_tokens"
    assert "Free" in renamed.json()["error"]["message"] and "4,096" in renamed.json()["error"]["message"]
    kept = tools("get_tool", sub=BOB, path_params=params).json()
    assert kept["name"] == "big" and kept["max_output_tokens"] == 8192, "a refused update changes nothing"
    within = tools(
        "update_tool", sub=BOB, path_params=params, body={"name": "big2", "max_output_tokens": 4096}
    )
    assert within.status_code == 200, within.text
    assert within.json()["name"] == "big2" and within.json()["max_output_tokens"] == 4096


def test_another_users_tools_are_invisible() -> None:
    make_user(ADA, "free")
    make_user(EVE, "free")
    adas = install(ADA)
    params = {"tool_id": adas["id"]}

    assert tools("list_tools", sub=EVE).json()["data"] == []
    assert tools("update_tool", sub=EVE, path_params=params, body={"temperature": 0.1}).status_code == 404
    assert tools("uninstall_tool", sub=EVE, path_params=params).status_code == 404
    assert tools("tool_runs", sub=EVE, path_params=params).status_code == 404
    assert run(adas["id"], sub=EVE).status_code == 404
    assert tools("list_tools", sub=ADA).json()["data"][0]["id"] == adas["id"]


def test_tool_routes_need_a_signed_in_user() -> None:
    from dashboard_support import load_event

    from functions.tools.app import app

    event = load_event("tools", "list_tools")
    del event["requestContext"]["authorizer"]

    response = call_streaming(app, event)

    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
