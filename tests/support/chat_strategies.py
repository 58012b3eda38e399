"""Hypothesis settings and strategies shared by the property tests of the chat translation: short
texts and identifiers, small JSON objects, cache controls, dicts with any subset of their optional
fields, a text part (the same shape in both wire formats), and an OpenAI tool call."""

import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(min_size=1, max_size=12)
ident = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True)
scalars = st.one_of(st.integers(-1000, 1000), text, st.booleans())
json_object = st.dictionaries(ident, st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=3)
cache = st.sampled_from([{"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}])
probability = st.floats(0, 1, allow_nan=False)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def fields(draw: st.DrawFn, required: dict[str, Any], **optional_fields: st.SearchStrategy[Any]) -> dict:
    """A dict with the required entries (values or strategies) and any subset of the optional ones."""
    out = {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in required.items()}
    chosen = draw(st.sets(st.sampled_from(sorted(optional_fields)))) if optional_fields else set()
    out.update({name: draw(optional_fields[name]) for name in sorted(chosen)})
    return out


# A text content part: OpenAI's and Anthropic's have the same shape, with an optional cache control.
text_part = st.builds(
    lambda t, c: without_none({"type": "text", "text": t, "cache_control": c}), text, optional(cache)
)

tool_call = st.builds(
    lambda i, n, args: {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(args)}},
    ident,
    ident,
    json_object,
)
