"""The tools routes read JSON types strictly, as the chat routes do: a string or a boolean where a
number belongs, or a number or string where a boolean belongs, is a 400 naming the field (an
audit found ``"stream": "yes"`` run and ``"max_output_tokens": "100"`` stored); a PATCH's null is
a 400 naming the field, except for ``tone`` and ``profile``, which it clears; a run's input of
only whitespace is the 400 an empty one is."""

from __future__ import annotations

import pytest
from chat_support import queued_usage_events
from dashboard_support import ADA, install, make_user, run, tools

pytestmark = pytest.mark.usefixtures("chat_world")
CUSTOM = {"name": "x", "system_prompt": "y"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_output_tokens", "100"),
        ("max_output_tokens", True),
        ("temperature", "0.5"),
        ("temperature", True),
    ],
)
def test_settings_must_be_json_numbers_on_install_and_update(field: str, value: object) -> None:
    make_user(ADA, "free")
    tool = install()
    params = {"tool_id": tool["id"]}

    installed = tools("install_custom_tool", sub=ADA, body={"tool": {**CUSTOM, field: value}})
    updated = tools("update_tool", sub=ADA, path_params=params, body={field: value})

    for refused, param in ((installed, f"tool.{field}"), (updated, field)):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == param
        assert "Input should be a JSON number" in refused.json()["error"]["message"]
    assert [t["id"] for t in tools("list_tools", sub=ADA).json()["data"]] == [tool["id"]]
    assert tools("get_tool", sub=ADA, path_params=params).json()[field] == tool[field], "nothing changed"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream": 1}, "stream"),
        ({"stream": True, "stream_options": {"include_usage": "true"}}, "stream_options.include_usage"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
    ],
)
def test_run_flags_must_be_json_booleans_and_nothing_is_charged(chat_world, extra: dict, param: str) -> None:
    user = make_user(ADA, "free", credits=100)
    tool = install()

    response = tools("tool_proxy_chat_json", sub=ADA, body={"tool_id": tool["id"], "input": "hi", **extra})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert "Input should be a valid boolean" in response.json()["error"]["message"]
    assert user.account.balance() == 100 and queued_usage_events(chat_world.usage_queue) == []


def test_json_numbers_and_booleans_still_work() -> None:
    make_user(ADA, "free")
    params = {"tool_id": install()["id"]}

    updated = tools(
        "update_tool", sub=ADA, path_params=params, body={"temperature": 1, "max_output_tokens": 200}
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["temperature"] == 1 and updated.json()["max_output_tokens"] == 200
    assert run(params["tool_id"], stream=False).status_code == 200


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "description",
        "input_hint",
        "system_prompt",
        "tone_options",
        "profile_options",
        "model",
        "temperature",
        "max_output_tokens",
    ],
)
def test_a_null_setting_is_400_naming_it_and_changes_nothing(field: str) -> None:
    """A PATCH with ``{"name": null}`` answered 200 and changed nothing."""
    make_user(ADA, "free")
    tool = install()
    params = {"tool_id": tool["id"]}

    response = tools("update_tool", sub=ADA, path_params=params, body={field: None, "tone": "informative"})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field and "null" in response.json()["error"]["message"]
    assert tools("get_tool", sub=ADA, path_params=params).json() == tool, "nothing changed"


def test_a_null_tone_or_profile_clears_the_choice() -> None:
    make_user(ADA, "free")
    tool = install()
    assert tool["tone"] and tool["profile"]
    params = {"tool_id": tool["id"]}

    response = tools("update_tool", sub=ADA, path_params=params, body={"tone": None, "profile": None})

    assert response.status_code == 200, response.text
    assert response.json()["tone"] is None and response.json()["profile"] is None
    kept = tools("get_tool", sub=ADA, path_params=params).json()
    assert kept["tone"] is None and kept["profile"] is None
    assert kept["tone_options"] == tool["tone_options"], "the options stay"


@pytest.mark.parametrize("text", ["   ", "\n\t \u3000"])
def test_an_input_of_only_whitespace_is_refused_as_an_empty_one_and_not_charged(
    chat_world, text: str
) -> None:
    """``"input": ""`` was a 400, but ``"   "`` reached the model, which got no text, and was charged."""
    user = make_user(ADA, "free", credits=100)
    tool = install()

    empty, blank = run(tool["id"], text=""), run(tool["id"], text=text)

    assert empty.status_code == blank.status_code == 400, blank.text
    assert blank.json()["error"]["param"] == empty.json()["error"]["param"] == "input"
    assert blank.json()["error"]["code"] == empty.json()["error"]["code"] == "invalid_request"
    assert "whitespace" in blank.json()["error"]["message"]
    assert user.account.balance() == 100 and queued_usage_events(chat_world.usage_queue) == []
    assert run(tool["id"], text="  Topic: logs  ").status_code == 200, "whitespace around text is fine"
