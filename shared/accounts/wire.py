"""What the dashboard sends to the account function (validated at the edge)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from shared.wire.names import human_name

PolicyVersion = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=80), BeforeValidator(human_name)]
KeyName = Annotated[str, StringConstraints(min_length=1, max_length=64), BeforeValidator(human_name)]


class ConsentVersions(BaseModel):
    """Versions of the three policies the user accepts."""

    model_config = ConfigDict(extra="forbid")

    terms_version: PolicyVersion
    privacy_version: PolicyVersion
    responsible_ai_version: PolicyVersion


class ProfileUpdate(BaseModel):
    """PATCH /api/profile. The plan is not here: only the operator sets it."""

    model_config = ConfigDict(extra="forbid")

    name: DisplayName | None = None
    consent: ConsentVersions | None = None


class CreateKeyRequest(BaseModel):
    """POST /api/keys."""

    model_config = ConfigDict(extra="forbid")

    name: KeyName = "default"
