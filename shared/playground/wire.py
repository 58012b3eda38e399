"""What the browser sends to the playground routes (validated at the edge; sizes by plan)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from shared.wire.names import human_name

ModelId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=120), BeforeValidator(human_name)]


class CreateSession(BaseModel):
    """POST /api/playground/sessions."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    model: ModelId = "auto"
    system_prompt: Annotated[str, StringConstraints(min_length=1)] | None = None


class PlaygroundChat(BaseModel):
    """POST /api/playground/chat: one user message in a session; the reply streams by default."""

    model_config = ConfigDict(extra="forbid")

    session_id: Annotated[str, StringConstraints(max_length=64)]
    message: Annotated[str, StringConstraints(min_length=1)]
    model: ModelId | None = None  # default: the session's model
    system_prompt: Annotated[str, StringConstraints(min_length=1)] | None = None  # replaces the session's
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    stream: bool = True
