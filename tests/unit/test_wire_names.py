"""The one rule for names and titles people give things (shared/wire/names.py)."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, BeforeValidator, StringConstraints, ValidationError

from shared.wire.names import human_name


class Named(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=8), BeforeValidator(human_name)]


def refusal(value: object) -> str:
    with pytest.raises(ValidationError) as refused:
        Named.model_validate({"name": value})
    (error,) = refused.value.errors()
    assert error["loc"] == ("name",)
    return str(error["msg"])


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("a\u0000b\nc", "U+0000 at index 1"),
        ("ab\nc", "U+000A at index 2"),
        ("tab\there", "U+0009 at index 3"),
        ("\u007f", "U+007F at index 0"),
        ("\u0085x", "U+0085 at index 0"),
    ],
)
def test_control_characters_are_refused_wherever_they_are(value, found) -> None:
    assert refusal(value) == f"String should not contain control characters ({found})"


def test_a_lone_surrogate_is_not_text() -> None:
    assert "lone surrogate U+D800" in refusal("a\ud800")


@pytest.mark.parametrize("value", ["", "   ", "\u200b", "\ufeff", " \u200b\u2060 ", "\u00a0\u3000", "\u200d"])
def test_a_name_with_nothing_visible_is_refused(value) -> None:
    assert refusal(value).startswith("String should contain a visible character")


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("  laptop  ", "laptop"),
        ("😀 ü", "😀 ü"),
        ("👩\u200d💻", "👩\u200d💻"),  # the joiner inside an emoji sequence stays
        ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", None),  # a tag flag
        ("Ključ", "Ključ"),
        ("日本語のキー", "日本語のキー"),
        ("مفتاح", "مفتاح"),
        ("<b>", "<b>"),  # markup is text: it is escaped where it is shown, not refused here
    ],
)
def test_letters_of_any_script_and_emoji_are_kept(value, kept) -> None:
    assert Named(name=value).name == (value if kept is None else kept)


def test_the_length_is_counted_after_trimming_and_other_types_keep_their_own_check() -> None:
    assert Named(name="  12345678  ").name == "12345678"
    assert "at most 8 characters" in refusal("123456789")
    assert refusal(7) == "Input should be a valid string"
