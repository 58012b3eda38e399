"""What a visitor sends to ``POST /api/contact``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Topic = Literal["general", "support", "billing", "sales", "partnership", "privacy", "abuse", "other"]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>\"]{1,64}@[^@\s<>\"]+\.[^@\s<>\"]+$"
    ),
]


class ContactForm(BaseModel):
    """``website`` is a honeypot: hidden from people, filled in by bots; it must stay empty."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    email: Email
    topic: Topic = "general"
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5_000)]
    website: Annotated[str, StringConstraints(max_length=500)] = ""

    @property
    def is_spam(self) -> bool:
        return bool(self.website.strip())
