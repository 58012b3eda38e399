"""The run's two budgets: steps and credits (pure). Exhausting either ends the run as failed.

Credits are checked before each call with the most that call may cost (its reservation), so a
run never spends more than its credit budget; what a call actually costs is added afterwards.
"""

from __future__ import annotations

from shared.agents.models import AgentRun, Reason


class BudgetExhausted(Exception):
    """The run cannot go on within its budgets; ``reason`` says which and why."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


def check_credits(run: AgentRun, spent: int, cost: int, what: str) -> None:
    """Refuse ``what`` if it may cost more than the credit budget has left."""
    left = run.credit_budget - spent
    if cost > left:
        raise BudgetExhausted(
            Reason(
                code="credit_budget_exhausted",
                message=(
                    f"Credit budget exhausted: {spent} of {run.credit_budget} credits spent, and {what} "
                    f"may cost {cost}."
                ),
            )
        )


def check_steps(run: AgentRun, step: int, tool_called: str) -> None:
    """After the model called a tool in ``step``: refuse if no step is left to read its output."""
    if step >= run.step_budget:
        raise BudgetExhausted(
            Reason(
                code="step_budget_exhausted",
                message=(
                    f"Step budget exhausted: the model still called {tool_called} in step {step} of "
                    f"{run.step_budget} instead of answering."
                ),
            )
        )
