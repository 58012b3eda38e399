"""Names and titles people give things are held to one rule (shared/wire/names.py) on every
route that takes one: key names, the profile's display name, tool names (a custom tool, a
renamed starter, an update) and playground session titles. A refused name is a 400 whose
``param`` names the field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from accounts_support import account_event, call_account
from dashboard_support import ADA, make_user, new_session, playground, playground_token, tools

from shared.adapters import key_store, tool_store

pytestmark = pytest.mark.usefixtures("chat_world")

REFUSED = ["a\u0000b\nc", "\u200b", " \ufeff\u200b ", "line\r\nbreak", "\u001b[31mred"]
KEPT = ["\U0001f600 ü <script>", "Ključ 👩\u200d💻", "日本語"]


def refused(status: int, body: Any, param: str) -> None:
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request" and body["error"]["param"] == param, body


@pytest.mark.parametrize("name", REFUSED)
def test_a_key_name_without_visible_text_or_with_control_characters_is_400(name: str) -> None:
    status, body = call_account(account_event("create_key", body={"name": name}))

    refused(status, body, "name")
    assert key_store.list_account_keys(f"acct_{ADA}") == []


@pytest.mark.parametrize("name", KEPT)
def test_a_key_name_in_any_script_or_with_emoji_is_kept(name: str) -> None:
    status, body = call_account(account_event("create_key", body={"name": f"  {name} "}))

    assert status == 201 and body["name"] == name


@pytest.mark.parametrize("name", REFUSED)
def test_a_display_name_is_held_to_the_same_rule(name: str) -> None:
    status, body = call_account(account_event("update_profile", body=json.dumps({"name": name})))

    refused(status, body, "name")


@pytest.mark.parametrize("name", REFUSED)
def test_tool_names_are_held_to_the_rule_on_install_rename_and_update(name: str) -> None:
    make_user(ADA, "free")
    custom = tools(
        "install_starter_tool", sub=ADA, body={"tool": {"name": name, "system_prompt": "Be brief."}}
    )
    renamed = tools("install_starter_tool", sub=ADA, body={"starter_id": "ad-copy", "name": name})
    refused(custom.status_code, custom.json(), "tool.name")
    refused(renamed.status_code, renamed.json(), "name")
    assert tools("list_tools", sub=ADA).json()["data"] == [], "nothing installed"

    tool = tools("install_starter_tool", sub=ADA, body={"starter_id": "ad-copy"}).json()
    updated = tools("update_tool", sub=ADA, path_params={"tool_id": tool["id"]}, body={"name": name})

    refused(updated.status_code, updated.json(), "name")
    stored = tool_store.get_tool(f"acct_{ADA}", tool["id"])
    assert stored is not None and stored.name == tool["name"], "unchanged"


def test_a_tool_name_with_emoji_and_markup_is_kept_as_text() -> None:
    make_user(ADA, "free")
    body = {"tool": {"name": "\U0001f600 ü <script>", "system_prompt": "Be brief."}}

    response = tools("install_starter_tool", sub=ADA, body=body)

    assert response.status_code == 201 and response.json()["name"] == "\U0001f600 ü <script>"


def test_a_tool_stored_before_the_rule_still_loads() -> None:
    """The rule is the request's: a name saved by an earlier version is read back, not a 500."""
    make_user(ADA, "free")
    tool = tools("install_starter_tool", sub=ADA, body={"starter_id": "ad-copy"}).json()
    stored = tool_store.get_tool(f"acct_{ADA}", tool["id"])
    assert stored is not None
    tool_store.replace_tool(stored.model_copy(update={"name": "\u0000old\nname"}))

    listed = tools("list_tools", sub=ADA)

    assert listed.status_code == 200 and listed.json()["data"][0]["name"] == "\u0000old\nname"


@pytest.mark.parametrize("title", REFUSED)
def test_a_playground_session_title_is_held_to_the_rule(title: str) -> None:
    make_user(ADA, "free")
    token = playground_token(ADA)

    response = playground("create_session", token=token, body={"title": title})

    refused(response.status_code, response.json(), "title")
    assert playground("list_sessions", token=token).json()["data"] == []
    assert new_session(token, title=" Haiku 🌸 ")["title"] == "Haiku 🌸"
