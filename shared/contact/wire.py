"""What a visitor sends to ``POST /api/contact``."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from shared.wire.names import human_name

Topic = Literal["general", "support", "billing", "sales", "partnership", "privacy", "abuse", "other"]
EMAIL_PATTERN = r"^[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]+$"


def _an_email(address: str) -> str:
    """Said in words: a visitor gets no use from the pattern an address failed."""
    if not re.fullmatch(EMAIL_PATTERN, address):
        raise PydanticCustomError("email", "Input should be a valid email address, such as name@example.com")
    return address


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_an_email),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN}),
]


class ContactForm(BaseModel):
    """``website`` is a honeypot: hidden from people, filled in by bots; it must stay empty (a
    JSON null counts as empty)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=100), BeforeValidator(human_name)]
    email: Email
    topic: Topic = "general"
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5_000)]
    website: Annotated[str, StringConstraints(max_length=500)] | None = ""

    @property
    def is_spam(self) -> bool:
        return bool(self.website and self.website.strip())
