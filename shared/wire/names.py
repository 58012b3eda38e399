"""The one rule for names and titles people give things: keys, tools, playground sessions, their
own display name, the name on a contact message. Each field states its length around it::

    KeyName = Annotated[str, StringConstraints(min_length=1, max_length=64), BeforeValidator(human_name)]

A name is shown back in lists, exports, logs and other people's terminals, so it must be text a
person can see: a NUL or a line break in it breaks the lines that show it, and a name of only
invisible characters (U+200B) looks like no name at all. Letters of any script and emoji stay,
including the invisible joiners inside an emoji sequence (U+200D) next to visible characters.
"""

from __future__ import annotations

import unicodedata

from pydantic_core import PydanticCustomError

_REFUSED = {
    "Cc": "String should not contain control characters (U+{code} at index {index})",
    "Cs": "String should be valid Unicode text (a lone surrogate U+{code} at index {index})",
}


def human_name(value: object) -> object:
    """``value`` trimmed of surrounding whitespace; refused (a 400 naming the field) with a
    control character (category Cc, line breaks and tabs included), a lone surrogate (not text:
    DynamoDB refuses it), or nothing but whitespace and invisible format characters (category
    Cf: U+200B, U+FEFF, ...). Anything but a string is left to the field's own type check."""
    if not isinstance(value, str):
        return value
    for index, char in enumerate(value):
        message = _REFUSED.get(unicodedata.category(char))
        if message is not None:
            raise PydanticCustomError(
                "name_characters", message, {"code": f"{ord(char):04X}", "index": index}
            )
    if all(char.isspace() or unicodedata.category(char) == "Cf" for char in value):
        raise PydanticCustomError(
            "name_blank", "String should contain a visible character, not only spaces or invisible ones"
        )
    return value.strip()
