"""The payment webhook's signing secret.

- ``SLUICE_BILLING_WEBHOOK_SECRET``: the secret itself (local stack, tests);
- otherwise in the local environment: ``LOCAL_DEV_SECRET`` (documented in docs/CREDITS.md);
- deployed: Secrets Manager, ``SLUICE_BILLING_WEBHOOK_SECRET_ARN``, fetched on first use through
  Powertools parameters and cached for ``CACHE_SECONDS``.
"""

from __future__ import annotations

import os

from shared.errors import ServiceUnavailable
from shared.settings import get_settings

LOCAL_DEV_SECRET = "sluice-local-webhook-secret"  # noqa: S105 - the local stack's documented default
CACHE_SECONDS = 300


def webhook_secret() -> str:
    """The signing secret, from the first source that has one (see the module docstring)."""
    explicit = os.environ.get("SLUICE_BILLING_WEBHOOK_SECRET")
    if explicit:
        return explicit
    if get_settings().environment == "local":
        return LOCAL_DEV_SECRET
    arn = os.environ.get("SLUICE_BILLING_WEBHOOK_SECRET_ARN")
    if not arn:
        raise ServiceUnavailable("The billing webhook secret is not configured.")
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(arn, max_age=CACHE_SECONDS)
    if not isinstance(value, str) or not value:
        raise ServiceUnavailable("The billing webhook secret is empty.")
    return value
