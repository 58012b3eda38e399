"""Installing, listing, configuring and uninstalling an account's tools.

The 50-tool cap is exact under any concurrency: a tool is installed, or uninstalled, in one
transaction with the account's counter item (shared/adapters/tool_store.py), the install
conditional on the count being below the cap. An account from before the counter gets it on its
first install or uninstall, counted from its tools (docs/DASHBOARD.md).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from shared.accounts.models import Account
from shared.adapters import tool_store
from shared.adapters.catalog_store import current_catalog
from shared.adapters.transactions import (
    CONDITION_FAILED,
    COUNTED_ATTEMPTS,
    TransactionConflict,
    create_counted,
)
from shared.catalog.service import find_model
from shared.errors import InvalidRequest, NotFound, PermissionDenied, echoed_id
from shared.gateway.plan_gates import check_model_allowed
from shared.gateway.usage_limits import limits_for
from shared.keys.service import now_iso
from shared.tools.models import InstalledTool, ToolConfig
from shared.tools.starter import starter_tool
from shared.tools.wire import InstallTool, UpdateTool

MAX_TOOLS = 50


def check_output_cap(max_output_tokens: int, plan: str) -> None:
    """SPEC "Usage limits": a tool's max_output_tokens is at most 4,096 (Free) / 8,192 (Pro)."""
    limits = limits_for(plan)
    if max_output_tokens > limits.max_tokens:
        raise InvalidRequest(
            f"max_output_tokens is {max_output_tokens:,}; the {limits.label} plan allows at most "
            f"{limits.max_tokens:,} for a tool.",
            param="max_output_tokens",
        )


def check_model(model: str, plan: str) -> None:
    """The tool's model is in the catalog (else 404 ``model_not_found``, as a chat call answers),
    not retired, and callable on the account's plan."""
    check_model_allowed(find_model(current_catalog(), model), plan, dt.date.today())


def _checked(config: ToolConfig, plan: str) -> ToolConfig:
    check_output_cap(config.max_output_tokens, plan)
    check_model(config.model, plan)
    return config


def get_tool(account_id: str, tool_id: str) -> InstalledTool:
    """A tool of this account, or 404 (another account's tool is indistinguishable from none)."""
    tool = tool_store.get_tool(account_id, tool_id)
    if tool is None:
        raise NotFound(f"No tool {echoed_id(tool_id)} in this account.", param="tool_id")
    return tool


def list_tools(account_id: str) -> list[InstalledTool]:
    """The account's tools, oldest first."""
    return sorted(tool_store.list_tools(account_id), key=lambda t: t.created_at)


def install(account: Account, body: InstallTool) -> InstalledTool:
    """Install a starter tool (optionally renamed) or a custom tool, within the plan's caps."""
    starter_id: str | None = None
    if body.starter_id is not None:
        starter = starter_tool(body.starter_id)
        starter_id = starter.id
        config: ToolConfig = ToolConfig.model_validate(starter.model_dump(exclude={"id"}))
        if body.name is not None:
            config = config.model_copy(update={"name": body.name})
    else:
        assert body.tool is not None  # the wire model guarantees one of the two
        config = body.tool
    now = now_iso()
    tool = InstalledTool(
        **_checked(config, account.plan).model_dump(),
        account_id=account.account_id,
        tool_id="tool_" + secrets.token_hex(8),
        starter_id=starter_id,
        created_at=now,
        updated_at=now,
    )
    _put_counted(tool)
    return tool


def _put_counted(tool: InstalledTool) -> None:
    """Write the tool with the counter's increment, or 403 when the account holds ``MAX_TOOLS``."""
    create_counted(
        lambda: tool_store.put_new_tool_counted(tool, MAX_TOOLS),
        lambda: tool_store.tool_count(tool.account_id),
        lambda: initialise_counter(tool.account_id),
        cap=MAX_TOOLS,
        full=lambda: PermissionDenied(f"An account may hold at most {MAX_TOOLS} tools; uninstall one first."),
        what="tool",
    )


def initialise_counter(account_id: str) -> None:
    """Give an account from before the counter its counter item, counted from its tools.

    Conditional on the item being absent, so of two initialisations one wins; and no tool can
    come or go meanwhile, since every install and uninstall needs the counter to exist.
    """
    tool_store.initialise_tool_count(account_id, tool_store.count_tools(account_id))


def update(account: Account, tool_id: str, body: UpdateTool) -> InstalledTool:
    """Change some settings of a tool; the result is checked as a whole against the account's
    current plan, as an install is (options, the output cap, the model): a tool saved under a
    plan since downgraded must be brought within the new plan by the update that changes it."""
    current = get_tool(account.account_id, tool_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)  # a null tone or profile clears it
    merged = _checked(ToolConfig.model_validate({**current.config().model_dump(), **changes}), account.plan)
    updated = current.model_copy(update={**merged.model_dump(), "updated_at": now_iso()})
    if not tool_store.replace_tool(updated):
        raise NotFound(f"No tool {echoed_id(tool_id)} in this account.", param="tool_id")
    return updated


def uninstall(account: Account, tool_id: str) -> dict[str, Any]:
    """Remove a tool (404 if the account has no such tool); its slot is freed once."""
    if tool_store.is_tool_id(tool_id):
        for _ in range(COUNTED_ATTEMPTS):
            codes = tool_store.delete_tool_counted(account.account_id, tool_id)
            if codes is None:
                return {"object": "tool", "id": tool_id, "deleted": True}
            if codes[0] == CONDITION_FAILED:  # no such tool, or a racing uninstall took it: nothing to free
                break
            initialise_counter(account.account_id)
        else:
            raise TransactionConflict(f"uninstalling {tool_id} kept being refused")
    raise NotFound(f"No tool {echoed_id(tool_id)} in this account.", param="tool_id")
