"""The secret that signs playground tokens.

- ``SLUICE_PLAYGROUND_SECRET``: the secret itself (local stack, tests);
- otherwise in the local environment: ``LOCAL_DEV_SECRET`` (documented in docs/DASHBOARD.md);
- deployed: the Secrets Manager secret ``SLUICE_PLAYGROUND_SECRET_ARN`` (template resource
  ``PlaygroundTokenSecret``), fetched on first use through Powertools parameters and cached for
  ``CACHE_SECONDS``.
"""

from __future__ import annotations

import os

from shared.errors import ServiceUnavailable
from shared.settings import get_settings

LOCAL_DEV_SECRET = "sluice-local-playground-secret-not-for-production"  # noqa: S105 - documented local default
CACHE_SECONDS = 300
MIN_CHARS = 32


def playground_secret() -> bytes:
    explicit = os.environ.get("SLUICE_PLAYGROUND_SECRET")
    if explicit:
        value = explicit
    elif get_settings().environment == "local":
        value = LOCAL_DEV_SECRET
    else:
        arn = os.environ.get("SLUICE_PLAYGROUND_SECRET_ARN")
        if not arn:
            raise ServiceUnavailable("The playground token secret is not configured.")
        from aws_lambda_powertools.utilities import parameters

        fetched = parameters.get_secret(arn, max_age=CACHE_SECONDS)
        value = fetched if isinstance(fetched, str) else ""
    if len(value) < MIN_CHARS:
        raise ServiceUnavailable("The playground token secret is missing or too short.")
    return value.encode("utf-8")
