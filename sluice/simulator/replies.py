"""What the simulator says: reply text as a pure function of the request.

A text reply is ``Simulated reply to: <first 60 characters of the last user message>`` (``...``
when cut), then ``(choice i)`` for every choice after the first, then filler words. The number
of filler words is ``FILLER_MIN + prompt_tokens % FILLER_SPREAD``; which words depends on a hash
of the quoted text and the choice index. After a tool result the lead is
``Tool result received: <first 60 characters of the result>``. Control markers such as
``[sim:fault=http_503]`` are never quoted.
"""

from __future__ import annotations

import hashlib
import json
import re

from sluice.simulator.placeholders import placeholder_value
from sluice.simulator.wire import ChatRequest, InvalidRequest

QUOTE_CHARS = 60
FILLER_MIN = 8
FILLER_SPREAD = 16
FILLER_WORDS = (
    "the", "simulator", "streams", "deterministic", "words", "so", "tests", "can",
    "count", "every", "token", "and", "check", "each", "reply", "offline",
)  # fmt: skip
REASONING_TEXT = "Simulated reasoning: reading the request and planning the reply."
MARKER = re.compile(r"\[sim:[^\]]*\]")


def strip_markers(text: str) -> str:
    """``text`` without ``[sim:...]`` control markers."""
    return MARKER.sub(" ", text)


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """The first ``limit`` characters of ``text`` with whitespace collapsed, ``...`` if cut."""
    collapsed = " ".join(strip_markers(text).split())
    if not collapsed:
        return "(no text)"
    if len(collapsed) <= limit:
        return collapsed
    return f"{collapsed[:limit].rstrip()} ..."


def answer_lead(request: ChatRequest) -> str:
    """The opening words: a quote of the tool result being answered, or of the last user message."""
    last = request.messages[-1]
    if last.role == "tool":
        return f"Tool result received: {quote(last.text())}"
    return f"Simulated reply to: {quote(request.last_user_text())}"


def reply_text(lead: str, prompt_tokens: int, choice_index: int = 0) -> str:
    """The full, uncapped reply for one choice."""
    words = lead.split()
    if choice_index:
        words += ["(choice", f"{choice_index})"]
    seed = int.from_bytes(hashlib.sha256(lead.encode()).digest()[:4], "big") + 5 * choice_index
    filler = FILLER_MIN + prompt_tokens % FILLER_SPREAD
    words += [FILLER_WORDS[(seed + offset) % len(FILLER_WORDS)] for offset in range(filler)]
    return " ".join(words)


def content_text(request: ChatRequest, choice_index: int = 0) -> str:
    """The reply content for one choice, honouring ``response_format``."""
    text = reply_text(answer_lead(request), request.prompt_tokens(), choice_index)
    response_format = request.response_format
    if response_format is None or response_format.type == "text":
        return text
    if response_format.type == "json_object":
        return json.dumps({"simulated": True, "reply": text})
    if response_format.json_schema is None:
        raise InvalidRequest("response_format json_schema needs a json_schema", "response_format")
    try:
        return json.dumps(placeholder_value(response_format.json_schema.schema_))
    except ValueError as error:
        raise InvalidRequest(str(error), "response_format") from error


def tool_sentence(names: list[str], choice_index: int = 0) -> str:
    """The text sent alongside tool calls: ``Calling a.``, ``Calling a and b.``, ..."""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    marker = f"(choice {choice_index}) " if choice_index else ""
    return f"{marker}Calling {listed}."
