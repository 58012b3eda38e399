"""A step's chat request, rebuilt from the run and its finished steps (pure).

The transcript is the goal, then for every finished step the model's turn (text and function
calls) and a user turn with the tool results and a short note on the step budget. The run's
tools are offered as functions named by tool id, each taking one string ``input``. The note of
the last step asks for the final answer: a model that still calls a tool then has exhausted the
step budget. One tool runs per step (``parallel_tool_calls`` false); any further call the model
makes anyway is answered with an error result, since every call needs a result.
"""

from __future__ import annotations

import json

from shared.agents.models import AgentRun, StepRecord, ToolCallRecord
from shared.chat.canonical import (
    ChatRequest,
    ChatResponse,
    Message,
    Part,
    Role,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolResult,
)
from shared.tools.models import InstalledTool

TOOL_OUTPUT_CHARS = 12_000  # a tool's output as the model gets it back (the plan caps messages)
SYSTEM_PROMPT = (
    "You are an agent working toward the user's goal in steps, at most {budget} in this run. In each "
    "step either call one of the functions offered (each runs one of the user's saved tools on the "
    "text you pass as `input`, and you see its output in the next step) or reply with the final "
    "answer. The reply you give without a function call ends the run and is its result."
)
ONE_CALL_PER_STEP = "Not run: this agent runs one function call per step. Call it again if you still need it."


def step_note(step: int, budget: int) -> str | None:
    """The budget note of ``step``'s user turn (step 1 has none unless it is also the last)."""
    if step >= budget:
        return f"Step {step} of {budget}, the last one: reply with the final answer now."
    if step == 1:
        return None
    return (
        f"Step {step} of {budget}. Continue toward the goal: call a tool if you need one, "
        "or reply with the final answer."
    )


def tool_function(tool: InstalledTool) -> Tool:
    """An installed tool as a function the model may call."""
    about = " ".join(part for part in (tool.name + ".", tool.description) if part)
    hint = tool.input_hint or "What the tool should work on."
    return Tool(
        name=tool.tool_id,
        description=about,
        parameters={
            "type": "object",
            "properties": {"input": {"type": "string", "description": hint}},
            "required": ["input"],
            "additionalProperties": False,
        },
    )


def tool_input(arguments: str) -> str | None:
    """The ``input`` argument of a function call, or None if the arguments do not carry one."""
    try:
        data = json.loads(arguments or "{}")
    except ValueError:
        return None
    value = data.get("input") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _model_turn(record: StepRecord) -> Message:
    parts: list[Part] = [Text(record.text)] if record.text else []
    parts.extend(ToolCall(c.call_id, c.name, c.arguments) for c in record.tool_calls)
    return Message(Role.ASSISTANT, tuple(parts))


def _results(record: StepRecord) -> list[Part]:
    results: list[Part] = []
    for index, call in enumerate(record.tool_calls):
        if index == 0 and record.tool_run is not None:
            output = record.tool_run.output[:TOOL_OUTPUT_CHARS]
            results.append(ToolResult(call.call_id, (Text(output),), is_error=record.tool_run.is_error))
        else:
            results.append(ToolResult(call.call_id, (Text(ONE_CALL_PER_STEP),), is_error=True))
    return results


def transcript(run: AgentRun, done: list[StepRecord], step: int) -> tuple[Message, ...]:
    """The goal and every finished step before ``step``, with the budget notes."""
    first: list[Part] = [Text(run.goal)]
    messages: list[Message] = []
    for record in sorted(done, key=lambda r: r.step):
        messages.append(_model_turn(record))
        messages.append(Message(Role.USER, tuple(_results(record))))
    turns = [Message(Role.USER, tuple(first)), *messages]
    note = step_note(step, run.step_budget)
    if note is not None:
        last = turns[-1]
        turns[-1] = Message(Role.USER, (*last.parts, Text(note)))
    return tuple(turns)


def step_request(run: AgentRun, tools: list[InstalledTool], done: list[StepRecord], step: int) -> ChatRequest:
    """The model turn of ``step``: the run's model, its tools as functions, the transcript so far."""
    functions = tuple(tool_function(t) for t in tools)
    return ChatRequest(
        model=run.model,
        messages=transcript(run, done, step),
        system=(Text(SYSTEM_PROMPT.format(budget=run.step_budget)),),
        tools=functions,
        tool_choice=ToolChoice(ToolChoiceMode.AUTO) if functions else None,
        parallel_tool_calls=False if functions else None,
    )


def model_turn(answer: ChatResponse) -> tuple[str, tuple[ToolCallRecord, ...]]:
    """The text and the function calls of the answer's first choice."""
    if not answer.choices:
        return "", ()
    parts = answer.choices[0].parts
    text = "".join(p.text for p in parts if isinstance(p, Text))
    calls = tuple(
        ToolCallRecord(call_id=p.id, name=p.name, arguments=p.arguments_json)
        for p in parts
        if isinstance(p, ToolCall)
    )
    return text, calls
