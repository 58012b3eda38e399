"""The 50-tools-an-account cap is exact however many requests race (single-threaded moto server,
as tests/integration/test_credits_concurrency.py): parallel installs, parallel uninstalls of one
tool, and an account from before the counter item."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import httpx
import pytest
from accounts_support import race
from dashboard_support import ADA, install, make_user, tools

from shared.adapters import account_store, tool_store
from shared.adapters.items import to_item
from shared.errors import NotFound
from shared.keys.service import now_iso
from shared.settings import get_settings
from shared.tools import service
from shared.tools.models import InstalledTool
from shared.tools.starter import starter_tool

pytestmark = pytest.mark.usefixtures("chat_world")

ACCOUNT = f"acct_{ADA}"
CAP = service.MAX_TOOLS


def post_tool() -> httpx.Response:
    return tools("install_starter_tool", sub=ADA, body={"starter_id": "ad-copy"})


def delete(tool_id: str) -> Callable[[], httpx.Response]:
    return lambda: tools("uninstall_tool", sub=ADA, path_params={"tool_id": tool_id})


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def held() -> int:
    return len(service.list_tools(ACCOUNT))


def test_six_parallel_installs_from_forty_seven_leave_exactly_fifty() -> None:
    make_user(ADA, "free")
    for _ in range(CAP - 3):
        install(starter="ad-copy")

    results = race([post_tool] * 6)

    assert statuses(results) == [201] * 3 + [403] * 3, [r.text for r in results]
    assert all(r.json()["error"]["code"] == "permission_denied" for r in results if r.status_code == 403)
    assert held() == CAP == tool_store.tool_count(ACCOUNT)
    # the counter item is no tool: not listed, not readable, not deletable
    assert all(t.tool_id.startswith("tool_") for t in service.list_tools(ACCOUNT))
    account = account_store.get_account(ACCOUNT)
    assert account is not None
    with pytest.raises(NotFound):
        service.get_tool(ACCOUNT, tool_store.COUNTER_ID)
    with pytest.raises(NotFound):
        service.uninstall(account, tool_store.COUNTER_ID)
    for route in ("uninstall_tool", "tool_runs"):
        response = tools(route, sub=ADA, path_params={"tool_id": "%23count"})
        assert response.status_code == 404, response.text
    assert tool_store.tool_count(ACCOUNT) == CAP


def test_an_uninstall_frees_one_slot_once_however_often_it_is_repeated() -> None:
    make_user(ADA, "free")
    installed = [install(starter="ad-copy")["id"] for _ in range(CAP)]

    # the audit: 2 of 50 deleted (each by 3 racing requests), then 6 racing installs
    deletes = race([delete(installed[i]) for i in (0, 0, 0, 1, 1, 1)])
    assert statuses(deletes) == [200] * 2 + [404] * 4
    assert tool_store.tool_count(ACCOUNT) == CAP - 2 == held()

    results = race([post_tool] * 6)

    assert statuses(results) == [201] * 2 + [403] * 4, [r.text for r in results]
    assert held() == CAP == tool_store.tool_count(ACCOUNT)


def legacy_tools(count: int) -> list[str]:
    """Tools written as before the counter item (and no counter item)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    config = starter_tool("ad-copy").model_dump(exclude={"id"})
    ids = [f"tool_{i:016x}" for i in range(count)]
    for tool_id in ids:
        tool = InstalledTool(
            **config, account_id=ACCOUNT, tool_id=tool_id, created_at=now_iso(), updated_at=now_iso()
        )
        client.put_item(TableName=get_settings().tools_table, Item=to_item(tool.model_dump(mode="json")))
    return ids


def test_an_account_without_the_counter_is_counted_once_from_its_tools() -> None:
    make_user(ADA, "free")
    legacy_tools(CAP - 1)
    assert tool_store.tool_count(ACCOUNT) is None

    # 5 racing installs all find no counter; one initialisation wins (49), one tool fits
    results = race([post_tool] * 5)

    assert statuses(results) == [201] + [403] * 4, [r.text for r in results]
    assert held() == CAP == tool_store.tool_count(ACCOUNT)


def test_an_account_without_the_counter_whose_first_change_is_an_uninstall() -> None:
    make_user(ADA, "free")
    ids = legacy_tools(CAP)

    deletes = race([delete(ids[7])] * 3)

    assert statuses(deletes) == [200] + [404] * 2
    assert tool_store.tool_count(ACCOUNT) == CAP - 1 == held()
    results = race([post_tool] * 4)
    assert statuses(results) == [201] + [403] * 3, [r.text for r in results]
    assert held() == CAP == tool_store.tool_count(ACCOUNT)
