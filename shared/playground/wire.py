"""What the browser sends to the playground routes (validated at the edge; sizes by plan)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from shared.wire.names import human_name
from shared.wire.strict import HasText, Number

ModelId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=120), BeforeValidator(human_name)]


class CreateSession(BaseModel):
    """POST /api/playground/sessions."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    model: ModelId = "auto"
    system_prompt: Annotated[str, StringConstraints(min_length=1)] | None = None


class PlaygroundChat(BaseModel):
    """POST /api/playground/chat: one user message in a session; the reply streams by default.
    JSON's types, as on the chat routes (``"0.5"``, ``"yes"`` are refused); a message of only
    whitespace is refused as an empty one."""

    model_config = ConfigDict(extra="forbid")

    session_id: Annotated[str, StringConstraints(max_length=64)]
    message: Annotated[str, StringConstraints(min_length=1), HasText]
    model: ModelId | None = None  # default: the session's model
    system_prompt: Annotated[str, StringConstraints(min_length=1)] | None = None  # replaces the session's
    temperature: Annotated[float, Field(ge=0, le=2), Number] | None = None
    max_tokens: Annotated[int, Field(ge=1), Number] | None = None
    stream: StrictBool = True
