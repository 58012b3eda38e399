"""Opaque page cursors and page sizes of the dashboard's list routes (``?limit=&cursor=``).

A cursor is the sort key to continue after, with a tag of the list it belongs to (a digest of the
list's scope: the account, and the tool or session it lists), base64url-encoded. Each list checks
both: a cursor from another list (another tool's runs, another account's sessions) is a 400, not a
silently empty or shifted page, and a crafted one cannot walk into another list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from shared.errors import InvalidRequest
from shared.numbers import ascii_int

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def page_limit(raw: str | None, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
    """``?limit=``: a whole number from 1 to ``most``."""
    return bounded_number(raw, "limit", default, most)


def bounded_number(raw: str | None, name: str, default: int, most: int) -> int:
    """A query parameter that is a whole number from 1 to ``most`` (``default`` when absent)."""
    if raw is None:
        return default
    number = ascii_int(raw)
    if number is None or not 1 <= number <= most:
        raise InvalidRequest(f"{name} must be a whole number from 1 to {most}.", param=name)
    return number


def encode_cursor(sort_key: str, *, scope: str) -> str:
    """The cursor that continues after ``sort_key`` in the list of ``scope``."""
    return base64.urlsafe_b64encode(f"{_tag(scope)}{sort_key}".encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, prefix: str, shape: re.Pattern[str] | None = None, *, scope: str
) -> str | None:
    """The sort key inside ``cursor`` (None without one); 400 if it is not a cursor of this list:
    not base64url of UTF-8 text, not tagged with ``scope``, not starting with ``prefix``, or (given
    one) not of ``shape``."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text: str | None = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        text = None
    tag = _tag(scope)
    sort_key = text.removeprefix(tag) if text is not None and text.startswith(tag) else None
    if (
        len(cursor) > 512
        or not sort_key
        or not sort_key.startswith(prefix)
        or (shape is not None and shape.fullmatch(sort_key) is None)
    ):
        raise InvalidRequest("cursor is not a cursor of this list; start again without it.", param="cursor")
    return sort_key


def _tag(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16] + "."
