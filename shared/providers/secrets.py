"""Upstream secrets by reference, resolved on first use and cached (never at import, never logged).

- ``env:NAME``: an environment variable (the local stack, tests);
- ``ssm:/path``: an SSM SecureString, through Powertools parameters (cached 5 minutes);
- ``secretsmanager:name-or-arn``: a Secrets Manager secret, likewise.
"""

from __future__ import annotations

import os
import re

from shared.errors import UpstreamError

CACHE_SECONDS = 300
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def resolve_secret(ref: str | None) -> str | None:
    if not ref:
        return None
    kind, _, name = ref.partition(":")
    if kind == "env":
        return os.environ.get(name) or None
    if kind == "ssm":
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(name, decrypt=True, max_age=CACHE_SECONDS))
    if kind == "secretsmanager":
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(name, max_age=CACHE_SECONDS))
    raise UpstreamError(f"Unknown secret reference kind '{kind}' in the catalog.")


def expand_base_url(base_url: str | None) -> str:
    """``${VAR}`` placeholders in a route's base URL come from the environment."""
    if not base_url:
        raise UpstreamError("A catalog route has no base_url.")

    def lookup(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if not value:
            raise UpstreamError(f"The catalog route's base URL needs {match.group(1)}, which is not set.")
        return value

    return _PLACEHOLDER.sub(lookup, base_url).rstrip("/")
