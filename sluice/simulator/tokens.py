"""The simulator's token model: one token is one whitespace-separated word.

A text of N words is N tokens, streamed as N deltas: the first word bare, every later word with
the whitespace that preceded it, so joining the deltas gives back the text exactly. Image parts
count a fixed ``IMAGE_PART_TOKENS`` each. Simple on purpose: tests can count tokens by eye.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

IMAGE_PART_TOKENS = 85
_PIECE = re.compile(r"\s*\S+")


def count_tokens(text: str) -> int:
    """Tokens in ``text``: its whitespace-separated words."""
    return len(text.split())


def split_tokens(text: str) -> list[str]:
    """The streamed pieces of ``text``, one per token; trailing whitespace is dropped."""
    return _PIECE.findall(text)


def first_tokens(text: str, limit: int) -> str:
    """The first ``limit`` tokens of ``text``, with their original spacing."""
    return "".join(split_tokens(text)[: max(limit, 0)])


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """Cut ``text`` before the earliest stop sequence; returns the text and the sequence that matched."""
    found = [(position, stop) for stop in stops if stop and (position := text.find(stop)) >= 0]
    if not found:
        return text, None
    position, stop = min(found)
    return text[:position].rstrip(), stop


def chunk_text(text: str, size: int = 8, minimum_chunks: int = 2) -> list[str]:
    """Split ``text`` into fixed-size chunks, at least ``minimum_chunks`` of them when possible."""
    if not text:
        return [""]
    size = max(1, min(size, len(text) // minimum_chunks))
    return [text[start : start + size] for start in range(0, len(text), size)]


def total_tokens(texts: Iterable[str]) -> int:
    """Tokens in all ``texts`` together."""
    return sum(count_tokens(text) for text in texts)
