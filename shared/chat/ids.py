"""Fresh response ids, one per response. Renderers take the factory as a parameter so tests can
inject a deterministic one; nothing in Sluice uses a constant id."""

from __future__ import annotations

import secrets
from collections.abc import Callable

type IdFactory = Callable[[], str]

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_BASE = len(_ALPHABET)


def _random_suffix(length: int = 24) -> str:
    """``length`` characters, each uniform over the alphabet: the base-62 digits of one number
    drawn uniformly below 62**length (one ``urandom`` call, where a ``secrets.choice`` per
    character made 24 of them: 7 against 50 µs per id here)."""
    number = secrets.randbelow(_BASE**length)
    digits = []
    for _ in range(length):
        number, digit = divmod(number, _BASE)
        digits.append(_ALPHABET[digit])
    return "".join(digits)


def new_openai_id() -> str:
    """A Chat Completions id: ``chatcmpl-`` and 24 random characters."""
    return f"chatcmpl-{_random_suffix()}"


def new_anthropic_id() -> str:
    """A Messages id: ``msg_`` and 24 random characters."""
    return f"msg_{_random_suffix()}"


def new_tool_call_id() -> str:
    """An id for a tool call whose upstream sent none (both formats require one)."""
    return f"call_{_random_suffix()}"
