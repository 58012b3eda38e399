"""Settings of one upstream simulator instance."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MODELS = ("sluice-sim",)
TOKEN_RATE_ENV = "SLUICE_SIM_TOKEN_RATE"  # noqa: S105 - a variable name, not a secret
API_KEY_ENV = "SLUICE_SIM_API_KEY"


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulator behaves.

    ``token_rate`` is tokens per second (0 = as fast as possible). ``api_key``, when set, is the
    bearer token every request must present; when ``None`` any request is accepted. ``models`` is
    what ``GET /v1/models`` lists; chat completions accept any model name.
    """

    token_rate: float = 0.0
    api_key: str | None = None
    models: tuple[str, ...] = DEFAULT_MODELS
    default_hang_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.token_rate < 0:
            raise ValueError("token_rate must be >= 0")
        if self.default_hang_seconds < 0:
            raise ValueError("default_hang_seconds must be >= 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimulatorConfig:
        """Read ``SLUICE_SIM_TOKEN_RATE`` and ``SLUICE_SIM_API_KEY`` (both optional)."""
        env = os.environ if environ is None else environ
        return cls(
            token_rate=float(env.get(TOKEN_RATE_ENV) or 0),
            api_key=env.get(API_KEY_ENV) or None,
        )
