"""Settings read once from the environment, lazily (nothing happens at import time)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Every environment variable a function may read. Names match template.yaml."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    stage: Annotated[str, Field(alias="SLUICE_STAGE")] = "local"
    region: Annotated[str, Field(alias="AWS_REGION")] = "us-east-1"
    keys_table: Annotated[str, Field(alias="SLUICE_KEYS_TABLE")] = "sluice-keys"
    accounts_table: Annotated[str, Field(alias="SLUICE_ACCOUNTS_TABLE")] = "sluice-accounts"
    catalog_table: Annotated[str, Field(alias="SLUICE_CATALOG_TABLE")] = "sluice-catalog"
    limits_table: Annotated[str, Field(alias="SLUICE_LIMITS_TABLE")] = "sluice-limits"
    ledger_table: Annotated[str, Field(alias="SLUICE_LEDGER_TABLE")] = "sluice-ledger"
    usage_table: Annotated[str, Field(alias="SLUICE_USAGE_TABLE")] = "sluice-usage"
    usage_queue_url: Annotated[str, Field(alias="SLUICE_USAGE_QUEUE_URL")] = ""
    tools_table: Annotated[str, Field(alias="SLUICE_TOOLS_TABLE")] = "sluice-tools"
    sessions_table: Annotated[str, Field(alias="SLUICE_SESSIONS_TABLE")] = "sluice-sessions"
    contact_table: Annotated[str, Field(alias="SLUICE_CONTACT_TABLE")] = "sluice-contact"
    contact_queue_url: Annotated[str, Field(alias="SLUICE_CONTACT_QUEUE_URL")] = ""
    contact_notify_email: Annotated[str, Field(alias="SLUICE_CONTACT_NOTIFY_EMAIL")] = ""
    idempotency_table: Annotated[str, Field(alias="SLUICE_IDEMPOTENCY_TABLE")] = "sluice-idempotency"
    agent_runs_table: Annotated[str, Field(alias="SLUICE_AGENT_RUNS_TABLE")] = "sluice-agent-runs"
    agent_runs_queue_url: Annotated[str, Field(alias="SLUICE_AGENT_RUNS_QUEUE_URL")] = ""
    # Agent worker retries (docs/AGENTS.md): equal to AgentRunsQueue's maxReceiveCount.
    agent_max_receives: Annotated[int, Field(alias="SLUICE_AGENT_MAX_RECEIVES", ge=1)] = 3
    agent_retry_base_seconds: Annotated[float, Field(alias="SLUICE_AGENT_RETRY_BASE_SECONDS", ge=0)] = 10.0
    agent_retry_max_seconds: Annotated[float, Field(alias="SLUICE_AGENT_RETRY_MAX_SECONDS", ge=0)] = 600.0
    agent_step_lease_seconds: Annotated[int, Field(alias="SLUICE_AGENT_STEP_LEASE_SECONDS", ge=1)] = 960
    playground_token_seconds: Annotated[
        int, Field(alias="SLUICE_PLAYGROUND_TOKEN_SECONDS", ge=60, le=900)
    ] = 900
    key_prefix: Annotated[str, Field(alias="SLUICE_KEY_PREFIX", min_length=3, max_length=16)] = "sk_sluice_"
    key_cache_seconds: Annotated[float, Field(alias="SLUICE_KEY_CACHE_SECONDS", ge=0, le=60)] = 30.0
    catalog_cache_seconds: Annotated[float, Field(alias="SLUICE_CATALOG_CACHE_SECONDS", ge=0)] = 30.0
    rate_limit_preset: Annotated[
        Literal["endpoint", "credit_balance"], Field(alias="SLUICE_RATE_LIMIT_PRESET")
    ] = "endpoint"
    log_prompts: Annotated[bool, Field(alias="SLUICE_LOG_PROMPTS")] = False
    image_fetch_allowlist: Annotated[str, Field(alias="SLUICE_IMAGE_FETCH_ALLOWLIST")] = ""
    image_fetch_timeout: Annotated[float, Field(alias="SLUICE_IMAGE_FETCH_TIMEOUT", gt=0, le=60)] = 10.0
    upstream_connect_timeout: Annotated[float, Field(alias="SLUICE_UPSTREAM_CONNECT_TIMEOUT", gt=0)] = 30.0
    upstream_read_timeout: Annotated[float, Field(alias="SLUICE_UPSTREAM_READ_TIMEOUT", gt=0)] = 600.0
    aws_endpoint_url: Annotated[str | None, Field(alias="AWS_ENDPOINT_URL")] = None
    environment: Annotated[Literal["aws", "local"], Field(alias="SLUICE_ENVIRONMENT")] = "aws"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, validated on first use."""
    return Settings.model_validate(dict(os.environ))
