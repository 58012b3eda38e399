"""Logger, metrics and tracer shared by every function (Powertools).

Built lazily on first use, so that importing a handler module costs no configuration work.
Never log an event, a body, a prompt or a key: log ids, counts and outcomes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "sluice"


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE, log_uncaught_exceptions=True)


@lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Sluice", service=SERVICE)
