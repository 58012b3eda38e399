"""The two halves of a step: the model's turn, then the tool it called (each checkpointed).

A retried step resumes after its last checkpoint: a model turn that was recorded is not asked
again (nor charged again), only the tool run that failed is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from shared.adapters import agent_store, tool_store
from shared.agents import chat_calls
from shared.agents.budgets import check_credits
from shared.agents.conversation import model_turn as answer_parts
from shared.agents.conversation import step_request, tool_input
from shared.agents.models import AgentRun, CallRecord, StepRecord, ToolRunRecord
from shared.auth.api_keys import Caller
from shared.chat.canonical import ChatResponse
from shared.chat.messages import text_of
from shared.errors import InvalidRequest
from shared.tools.models import InstalledTool
from shared.tools.prompt import tool_request
from shared.tools.wire import RunTool

BAD_ARGUMENTS = 'Error: call the tool with a JSON object like {"input": "<what the tool should work on>"}.'


@dataclass
class ClaimedStep:
    """A step this delivery holds the lease of; ``record`` follows each checkpoint."""

    run: AgentRun
    record: StepRecord
    token: str
    caller: Caller | None = None

    @property
    def number(self) -> int:
        return self.record.step

    def request_id(self, kind: str) -> str:
        """Unique per claim: a retried call gets a fresh reservation (request ids are used once)."""
        return f"{self.run.run_id}-s{self.number}-{kind}-a{self.record.attempts}"

    def require_caller(self) -> Caller:
        if self.caller is None:
            raise RuntimeError("the step's caller is resolved before any call")
        return self.caller


def run_tools(run: AgentRun) -> list[InstalledTool]:
    """The run's tools that are still installed, in the run's order."""
    installed = {t.tool_id: t for t in tool_store.list_tools(run.account_id)}
    return [installed[t] for t in run.tool_ids if t in installed]


async def model_turn(step: ClaimedStep) -> None:
    """Ask the model for this step's turn, offering the run's tools; checkpoint its answer."""
    run, number = step.run, step.number
    tools = await asyncio.to_thread(run_tools, run)
    done = [s for s in await asyncio.to_thread(agent_store.list_steps, run.run_id) if s.step < number]
    caller = step.require_caller()
    request = step_request(run, tools, done, number)
    call = await chat_calls.prepare_call(request, caller, step.request_id("model"), chat_calls.MODEL_ENDPOINT)
    check_credits(run, run.credits_spent, call.reservation_cost, f"the model call of step {number}")

    def keep(record: CallRecord, answer: ChatResponse) -> None:
        text, calls = answer_parts(answer)
        agent_store.save_model_turn(run.run_id, number, step.token, call=record, text=text, calls=calls)
        step.record = step.record.model_copy(
            update={"phase": "model_done", "model_call": record, "text": text, "tool_calls": calls}
        )

    facts = chat_calls.limit_facts(caller)
    await chat_calls.complete_call(call, facts, chat_calls.MODEL_ENDPOINT, keep)


def _save_tool_run(step: ClaimedStep, tool_run: ToolRunRecord) -> None:
    agent_store.save_tool_run(step.run.run_id, step.number, step.token, tool_run)
    step.record = step.record.model_copy(update={"phase": "tool_done", "tool_run": tool_run})


async def tool_turn(step: ClaimedStep) -> None:
    """Run the tool the model called (the first call) through the chat core; checkpoint its output.

    A call the tool cannot take (not one of the run's tools, arguments without ``input``, a
    request the tool's model refuses) becomes an error result for the model to read, uncharged.
    """
    called = step.record.tool_calls[0]
    tool = None
    if called.name in step.run.tool_ids:
        tool = await asyncio.to_thread(tool_store.get_tool, step.run.account_id, called.name)
    text = tool_input(called.arguments)
    if tool is None:
        why = "is no longer installed" if called.name in step.run.tool_ids else "is not a tool of this run"
        failed = ToolRunRecord(tool_id=called.name, output=f"Error: {called.name} {why}.")
    elif text is None:
        failed = ToolRunRecord(tool_id=called.name, output=BAD_ARGUMENTS)
    else:
        ran = await _run_tool(step, tool, text)
        if ran is None:
            return
        failed = ran
    await asyncio.to_thread(_save_tool_run, step, failed.model_copy(update={"is_error": True}))


async def _run_tool(step: ClaimedStep, tool: InstalledTool, text: str) -> ToolRunRecord | None:
    """None when the tool answered (already checkpointed); otherwise the refusal as a result."""
    caller = step.require_caller()
    try:
        chat = tool_request(tool, RunTool(tool_id=tool.tool_id, input=text))
        call = await chat_calls.prepare_call(
            chat, caller, step.request_id("tool"), chat_calls.TOOL_ENDPOINT, tool_id=tool.tool_id
        )
        spent = step.run.credits_spent + step.record.credits
        check_credits(step.run, spent, call.reservation_cost, f"running {tool.tool_id}")

        def keep(record: CallRecord, answer: ChatResponse) -> None:
            output = text_of(answer.choices[0].parts) if answer.choices else ""
            _save_tool_run(step, ToolRunRecord(tool_id=tool.tool_id, call=record, output=output))

        facts = chat_calls.limit_facts(caller, tool.tool_id)
        await chat_calls.complete_call(call, facts, chat_calls.TOOL_LIMITS, keep)
    except InvalidRequest as refused:
        return ToolRunRecord(tool_id=tool.tool_id, output=f"Error: {refused.message}")
    return None
