"""SPEC "Usage limits", playground rows: one message and the system prompt, by plan."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import InvalidRequest


@dataclass(frozen=True)
class PlaygroundLimits:
    label: str
    message_chars: int
    system_chars: int


PLAYGROUND_LIMITS = {
    "free": PlaygroundLimits("Free", 8_000, 2_000),
    "pro": PlaygroundLimits("Pro", 24_000, 8_000),
}


def playground_limits(plan: str) -> PlaygroundLimits:
    return PLAYGROUND_LIMITS.get(plan, PLAYGROUND_LIMITS["free"])


def check_system_prompt(system_prompt: str | None, plan: str) -> None:
    limits = playground_limits(plan)
    if system_prompt is not None and len(system_prompt) > limits.system_chars:
        raise InvalidRequest(
            f"system_prompt has {len(system_prompt):,} characters; the {limits.label} plan allows "
            f"{limits.system_chars:,} for a playground system prompt.",
            param="system_prompt",
        )


def check_message(message: str, plan: str) -> None:
    limits = playground_limits(plan)
    if len(message) > limits.message_chars:
        raise InvalidRequest(
            f"message has {len(message):,} characters; the {limits.label} plan allows "
            f"{limits.message_chars:,} for a playground message.",
            param="message",
        )
