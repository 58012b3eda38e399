"""One playground message as a chat request: the session's recent history, within the plan's limits.

History is taken newest first while it fits the plan's per-message and total content limits
(SPEC "Usage limits"), so a long session keeps working: its oldest turns fall out of the
context rather than the request being refused. The included history starts with a user turn.
"""

from __future__ import annotations

from shared.chat.canonical import ChatRequest, Message, Role, Sampling, Text
from shared.gateway.usage_limits import limits_for
from shared.playground.models import Session, StoredMessage
from shared.playground.wire import PlaygroundChat

HISTORY_MESSAGES = 40


def fitting_history(history: list[StoredMessage], new_chars: int, plan: str) -> list[StoredMessage]:
    """The longest recent suffix of ``history`` that fits beside a new message of ``new_chars``."""
    limits = limits_for(plan)
    budget = limits.total_chars - new_chars
    kept: list[StoredMessage] = []
    for message in reversed(history):
        size = len(message.content)
        if size > limits.message_chars or size > budget:
            break
        kept.append(message)
        budget -= size
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept


def playground_request(
    session: Session, history: list[StoredMessage], body: PlaygroundChat, plan: str
) -> ChatRequest:
    """The chat request for ``body`` in ``session`` (system prompt: the message's, else the session's)."""
    system = body.system_prompt if body.system_prompt is not None else session.system_prompt
    turns = [
        Message(Role.USER if m.role == "user" else Role.ASSISTANT, (Text(m.content),))
        for m in fitting_history(history, len(body.message), plan)
        if m.content
    ]
    turns.append(Message(Role.USER, (Text(body.message),)))
    return ChatRequest(
        model=body.model or session.model,
        messages=tuple(turns),
        system=(Text(system),) if system else (),
        max_tokens=body.max_tokens,
        sampling=Sampling(temperature=body.temperature),
        stream=body.stream,
    )
