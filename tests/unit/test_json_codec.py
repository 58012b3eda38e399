"""shared.json_codec: the standard library's answers from pydantic-core's parser and serializer."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import json_codec

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=15,
)


@SETTINGS
@given(value=values, ascii_only=st.booleans())
def test_loads_reads_what_json_reads(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_codec.loads(text) == json.loads(text)
    assert json_codec.loads(text.encode()) == json.loads(text)


@SETTINGS
@given(value=values)
def test_dumps_writes_the_same_value(value: Any) -> None:
    """Byte for byte when there are no floats: tests/unit/test_stream_openai_fast_path.py."""
    assert json.loads(json_codec.dumps({"v": value})) == {"v": value}


@pytest.mark.parametrize(
    "text", ['"a\\ud800b"', '{"a": NaN}', '{"a": 1, "a": 2}', "123456789012345678901234567890"]
)
def test_the_corners_where_the_parsers_differ_give_json_s_answer(text: str) -> None:
    expected, got = json.loads(text), json_codec.loads(text)
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("text", ["", "{", '{"a": }', "[1,]", "nul"])
def test_invalid_text_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        json_codec.loads(text)


def test_lone_surrogates_are_written_as_a_question_mark() -> None:
    assert json_codec.dumps({"t": "a\ud800b"}) == b'{"t":"a?b"}'


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": [1, -Infinity]}',
        '{"a": 1e999}',
        '{"a": {"b": [-1E+400]}}',
        '{"a": ' + "9" * 400 + ".5}",
        '{"a": 1' + "0" * 250 + "e60}",
        '{"t": "a\\ud800b"}',
    ],
)
def test_loads_strict_refuses_what_an_upstream_body_cannot_carry(text: str) -> None:
    json.loads(text)  # the standard library reads every one of them
    with pytest.raises(ValueError):
        json_codec.loads_strict(text.encode())


@pytest.mark.parametrize(
    "text", ['{"file": "e2024", "n": 1e300}', '{"n": ' + "9" * 300 + "}", '{"s": "\\ud83d\\ude00"}']
)
def test_loads_strict_takes_big_finite_numbers_and_paired_surrogates(text: str) -> None:
    assert json_codec.loads_strict(text.encode()) == json.loads(text)


@SETTINGS
@given(value=values)
def test_loads_strict_reads_standard_json_as_json_does(value: Any) -> None:
    text = json.dumps(value)
    assert json_codec.loads_strict(text.encode()) == json.loads(text)


def test_dumps_writes_non_finite_numbers_as_null_and_stays_json() -> None:
    written = json_codec.dumps({"a": float("nan"), "b": [float("-inf")], "t": "x\ud83d"})
    assert written == b'{"a":null,"b":[null],"t":"x?"}'
