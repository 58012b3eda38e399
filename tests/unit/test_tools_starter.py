"""The starter catalog file and how a tool becomes a chat request (pure)."""

from __future__ import annotations

import pytest

from shared.chat.canonical import Role
from shared.errors import InvalidRequest
from shared.tools.models import InstalledTool, ToolConfig
from shared.tools.prompt import system_prompt, tool_request
from shared.tools.starter import starter_tools
from shared.tools.wire import InstallTool, NewTool, RunTool


def installed(**changes) -> InstalledTool:
    starter = next(t for t in starter_tools() if t.id == "ad-copy")
    return InstalledTool(
        **{**starter.model_dump(exclude={"id"}), **changes},
        account_id="acct_x",
        tool_id="tool_0123456789abcdef",
        starter_id="ad-copy",
        created_at="2025-11-22T00:00:00.000Z",
        updated_at="2025-11-22T00:00:00.000Z",
    )


def test_the_starter_file_is_valid_and_within_the_free_cap() -> None:
    tools = starter_tools()

    assert len(tools) == 5 and len({t.id for t in tools}) == 5
    assert all(t.max_output_tokens <= 4096 and t.tone in t.tone_options for t in tools)


def test_a_run_is_the_tool_settings_around_the_input() -> None:
    tool = installed()

    request = tool_request(
        tool, RunTool(tool_id=tool.tool_id, input="A new bike lock", stream=True, tone="urgent")
    )

    assert request.model == "auto" and request.max_tokens == 500 and request.sampling.temperature == 0.9
    assert request.stream is True and request.include_usage is False
    [system] = request.system
    assert system.text == system_prompt(tool, "urgent", "social media")
    assert system.text.endswith("Tone: urgent.\n\nWrite for: social media.")
    [user] = request.messages
    assert user.role is Role.USER and user.parts[0].text == "A new bike lock"  # type: ignore[union-attr]


def test_options_are_enforced() -> None:
    tool = installed()

    with pytest.raises(InvalidRequest, match="tone must be one of"):
        tool_request(tool, RunTool(tool_id=tool.tool_id, input="x", tone="sarcastic"))
    with pytest.raises(InvalidRequest):
        ToolConfig(name="x", system_prompt="y", tone_options=("a",), tone="b")
    assert ToolConfig(name="x", system_prompt="y", tone="anything").tone == "anything", (
        "no options: free text"
    )


def test_an_install_names_one_source() -> None:
    with pytest.raises(InvalidRequest):
        InstallTool()
    with pytest.raises(InvalidRequest):
        InstallTool(starter_id="ad-copy", tool=NewTool(name="x", system_prompt="y"))
