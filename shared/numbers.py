"""Whole numbers written in ASCII digits, as HTTP headers, query strings and settings carry them.

``str.isdigit()`` is also true for ``"³"``, which ``int()`` refuses (a 500 where a 400 was meant),
and for ``"٣"``, which ``int()`` reads as 3. The numbers Sluice takes from requests, answers and
its environment are read here instead.
"""

from __future__ import annotations


def ascii_int(text: str) -> int | None:
    """``text`` as a whole number if it is ASCII digits only, else None."""
    return int(text) if text.isascii() and text.isdigit() else None
