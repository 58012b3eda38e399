"""Agent runs, pure parts: the step's chat request, budgets, retry classification and backoff."""

from __future__ import annotations

import pytest

from shared.agents.budgets import BudgetExhausted, check_credits, check_steps
from shared.agents.conversation import (
    ONE_CALL_PER_STEP,
    TOOL_OUTPUT_CHARS,
    model_turn,
    step_note,
    step_request,
    tool_function,
    tool_input,
)
from shared.agents.models import AgentRun, CallRecord, StepRecord, ToolCallRecord, ToolRunRecord
from shared.agents.retries import is_transient, reason_of, retry_delay
from shared.chat.canonical import (
    ChatResponse,
    Choice,
    Role,
    Text,
    Tool,
    ToolCall,
    ToolChoiceMode,
    ToolResult,
)
from shared.chat.to_openai import request_to_openai
from shared.errors import (
    InsufficientCredits,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from shared.tools.models import InstalledTool

TOOL = "tool_00000000000000aa"


def run(**fields) -> AgentRun:
    values = {
        "run_id": "run_" + "0" * 24,
        "account_id": "acct_x",
        "goal": "Write a haiku with the tool.",
        "model": "qwen3",
        "tool_ids": (TOOL,),
        "step_budget": 3,
        "credit_budget": 10,
        "created_via": "api_key",
        "created_at": "2025-11-22T00:00:00.000+00:00",
        "updated_at": "2025-11-22T00:00:00.000+00:00",
        "expires_at": 0,
    }
    return AgentRun.model_validate({**values, **fields})


def tool() -> InstalledTool:
    return InstalledTool(
        name="Haiku",
        description="Writes haiku.",
        input_hint="A topic.",
        system_prompt="Write a haiku.",
        account_id="acct_x",
        tool_id=TOOL,
        created_at="2025-11-22T00:00:00Z",
        updated_at="2025-11-22T00:00:00Z",
    )


def done_step(number: int, output: str = "An old silent pond", calls: int = 1) -> StepRecord:
    return StepRecord(
        run_id="run_" + "0" * 24,
        step=number,
        phase="done",
        started_at="2025-11-22T00:00:00.000+00:00",
        model_call=CallRecord(request_id=f"r{number}", public_model="qwen3", credits=1),
        text="Calling the tool.",
        tool_calls=tuple(
            ToolCallRecord(call_id=f"c{number}-{i}", name=TOOL, arguments='{"input": "ponds"}')
            for i in range(calls)
        ),
        tool_run=ToolRunRecord(
            tool_id=TOOL,
            call=CallRecord(request_id=f"t{number}", public_model="auto", credits=2),
            output=output,
        ),
        outcome="tool_called",
    )


def note(step: int, budget: int) -> str:
    """``step_note`` for a step that has a note."""
    text = step_note(step, budget)
    assert text is not None
    return text


def test_the_first_step_is_the_goal_with_the_tools_offered_one_call_at_a_time() -> None:
    request = step_request(run(), [tool()], [], 1)

    assert [m.role for m in request.messages] == [Role.USER]
    assert request.messages[0].parts == (Text("Write a haiku with the tool."),)
    assert "at most 3" in request.system[0].text
    [function] = request.tools
    assert isinstance(function, Tool) and function.parameters is not None
    assert function.name == TOOL and function.description == "Haiku. Writes haiku."
    assert function.parameters["required"] == ["input"]
    assert function.parameters["properties"]["input"]["description"] == "A topic."
    assert request.tool_choice is not None
    assert request.tool_choice.mode is ToolChoiceMode.AUTO and request.parallel_tool_calls is False


def test_later_steps_replay_each_turn_with_its_tool_result_and_the_budget_note() -> None:
    request = step_request(run(), [tool()], [done_step(1)], 2)

    _goal, assistant, results = request.messages
    assert assistant.role is Role.ASSISTANT
    assert assistant.parts == (Text("Calling the tool."), ToolCall("c1-0", TOOL, '{"input": "ponds"}'))
    assert results.role is Role.USER
    assert results.parts[0] == ToolResult("c1-0", (Text("An old silent pond"),))
    assert results.parts[1] == Text(note(2, 3))
    wire = request_to_openai(request)
    assert [m["role"] for m in wire["messages"]] == ["system", "user", "assistant", "tool", "user"]
    assert wire["parallel_tool_calls"] is False


def test_the_budget_notes_ask_for_the_final_answer_on_the_last_step_only() -> None:
    assert step_note(1, 3) is None
    assert "call a tool" in note(2, 3)
    assert step_note(3, 3) == "Step 3 of 3, the last one: reply with the final answer now."
    assert "tool" not in note(3, 3)
    only = step_request(run(step_budget=1), [tool()], [], 1)
    assert only.messages[0].parts[-1] == Text(note(1, 1))


def test_extra_calls_get_an_error_result_and_long_outputs_are_cut() -> None:
    long = "x" * (TOOL_OUTPUT_CHARS + 50)
    request = step_request(run(), [tool()], [done_step(1, output=long, calls=2)], 2)

    first, second, _note = request.messages[2].parts
    assert isinstance(first, ToolResult)
    assert first.content == (Text("x" * TOOL_OUTPUT_CHARS),)
    assert second == ToolResult("c1-1", (Text(ONE_CALL_PER_STEP),), is_error=True)


def test_a_run_without_tools_offers_none() -> None:
    request = step_request(run(tool_ids=()), [], [], 1)
    assert request.tools == () and request.tool_choice is None and request.parallel_tool_calls is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"input": "ponds"}', "ponds"),
        ('{"input": "  "}', None),
        ("{}", None),
        ("not json", None),
        ("[1]", None),
    ],
)
def test_tool_input_reads_only_a_non_blank_input_string(arguments, expected) -> None:
    assert tool_input(arguments) == expected


def test_model_turn_takes_the_text_and_calls_of_the_first_choice() -> None:
    answer = ChatResponse(
        id=None,
        model="m",
        choices=(Choice(0, (Text("Let me "), Text("check."), ToolCall("c", TOOL, '{"input": "a"}'))),),
    )
    assert model_turn(answer) == (
        "Let me check.",
        (ToolCallRecord(call_id="c", name=TOOL, arguments='{"input": "a"}'),),
    )
    assert model_turn(ChatResponse(id=None, model="m", choices=())) == ("", ())


def test_the_tool_function_has_a_schema_the_model_can_fill() -> None:
    assert tool_function(tool()).parameters == {
        "type": "object",
        "properties": {"input": {"type": "string", "description": "A topic."}},
        "required": ["input"],
        "additionalProperties": False,
    }


def test_credit_budget_refuses_a_call_that_may_overspend() -> None:
    check_credits(run(credit_budget=5), 3, 2, "x")
    with pytest.raises(BudgetExhausted) as refused:
        check_credits(run(credit_budget=5), 4, 2, "the model call of step 3")
    assert refused.value.reason.code == "credit_budget_exhausted"
    assert refused.value.reason.message == (
        "Credit budget exhausted: 4 of 5 credits spent, and the model call of step 3 may cost 2."
    )


def test_step_budget_refuses_a_tool_call_in_the_last_step() -> None:
    check_steps(run(step_budget=3), 2, TOOL)
    with pytest.raises(BudgetExhausted) as refused:
        check_steps(run(step_budget=3), 3, TOOL)
    assert refused.value.reason.code == "step_budget_exhausted"


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (UpstreamUnavailable("overloaded"), True),
        (UpstreamTimeout("slow"), True),
        (ServiceUnavailable("ledger busy"), True),
        (RateLimited("slow down", retry_after=3), True),
        (RuntimeError("boom"), True),
        (InvalidRequest("bad"), False),
        (PermissionDenied("no"), False),
        (InsufficientCredits("empty"), False),
    ],
)
def test_what_is_retried(error, transient) -> None:
    assert is_transient(error) is transient


def test_unknown_errors_are_reported_without_their_text() -> None:
    reason = reason_of(KeyError("secret-key-material"))
    assert reason.code == "internal_error" and "secret" not in reason.message


def test_retry_delay_doubles_with_each_receive_up_to_the_cap() -> None:
    top = lambda low, high: high  # noqa: E731 - the jitter's upper end
    bottom = lambda low, high: low  # noqa: E731
    assert [retry_delay(n, 10, 600, jitter=top) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(10, 10, 600, jitter=top) == 600
    assert retry_delay(3, 10, 600, jitter=bottom) == 20
    assert 5 <= retry_delay(1, 10, 600) <= 10
