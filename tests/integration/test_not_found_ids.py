"""A 404 for an id from the path repeats at most ``ECHOED_ID_CHARS`` characters of it: an audit
found ``GET /api/tools/<3,000 x>`` answered with all 3,000 (tools, tool runs, agent runs too)."""

from __future__ import annotations

import pytest
from dashboard_support import ADA, call_mangum, event_for, make_user, playground, playground_token, tools

from shared.errors import ECHOED_ID_CHARS

pytestmark = pytest.mark.usefixtures("chat_world")
LONG = "x" * 3_000
SHOWN = "x" * ECHOED_ID_CHARS + "..."


def assert_cut(status: int, error: dict, param: str) -> None:
    assert status == 404 and error["param"] == param
    assert SHOWN in error["message"] and "x" * (ECHOED_ID_CHARS + 1) not in error["message"]


@pytest.mark.parametrize("route", ["get_tool", "update_tool", "uninstall_tool", "tool_runs"])
def test_tool_routes(route: str) -> None:
    make_user(ADA, "free")
    body = {"name": "n"} if route == "update_tool" else None

    response = tools(route, sub=ADA, path_params={"tool_id": LONG}, body=body)

    assert_cut(response.status_code, response.json()["error"], "tool_id")


@pytest.mark.parametrize("route", ["get_run", "run_events", "cancel_run"])
def test_agent_run_routes(route: str) -> None:
    from functions.agents.app import handler

    make_user(ADA, "pro")

    status, _, body = call_mangum(handler, event_for("agents", route, sub=ADA, path_params={"run_id": LONG}))

    assert_cut(status, body["error"], "run_id")


@pytest.mark.parametrize("route", ["session_messages", "export_json"])
def test_playground_session_routes(route: str) -> None:
    make_user(ADA, "free")

    response = playground(route, token=playground_token(ADA), path_params={"session_id": LONG})

    assert_cut(response.status_code, response.json()["error"], "session_id")


def test_an_id_within_the_bound_is_shown_whole() -> None:
    make_user(ADA, "free")

    response = tools("get_tool", sub=ADA, path_params={"tool_id": "tool_ffffffffffffffff"})

    assert response.json()["error"]["message"] == "No tool tool_ffffffffffffffff in this account."
