"""boto3 clients, built on first use and kept for the life of the Lambda instance.

boto3 itself honours ``AWS_ENDPOINT_URL`` (the local stack points it at the moto server).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shared.settings import get_settings


@lru_cache(maxsize=8)
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        max_pool_connections=32,
    )
    return boto3.session.Session().client(service, region_name=get_settings().region, config=config)


def dynamodb() -> Any:
    return client("dynamodb")


def sqs() -> Any:
    return client("sqs")
