"""Shared fixtures: the embedded AWS (a single-threaded moto server), fresh tables per test.

Helpers that tests import live in tests/support/ (two conftest.py modules cannot both be imported
as ``conftest``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.local.moto_server import MotoProcess
from sluice.local.resources import LocalResources
from sluice.local.stack import LOCAL_AWS_ENV
from sluice.local.template import LocalTemplate, parse_template

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"


@pytest.fixture(scope="session")
def template() -> LocalTemplate:
    return parse_template()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoProcess]:
    server = MotoProcess.start()
    saved = {k: os.environ.get(k) for k in [*LOCAL_AWS_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update({**LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": server.endpoint})
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _reset_caches() -> None:
    from shared.adapters.aws import client
    from shared.adapters.catalog_store import clear_catalog_cache
    from shared.limits import known
    from shared.settings import get_settings

    get_settings.cache_clear()
    client.cache_clear()
    clear_catalog_cache()
    known.clear()  # counters and balances of the last test's tables


@pytest.fixture
def aws(
    moto_server: MotoProcess, template: LocalTemplate, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalResources]:
    """Fresh tables and queues from template.yaml for one test, and the environment pointing at them."""
    import boto3

    resources = LocalResources(template, prefix=f"t{uuid.uuid4().hex[:10]}")
    session = boto3.session.Session(region_name="us-east-1")
    resources.provision(session.client("dynamodb"), session.client("sqs"))
    for function in template.functions:
        for key, value in resources.environment(function).items():
            monkeypatch.setenv(key, value)
    _reset_caches()
    yield resources
    _reset_caches()


@pytest.fixture
def seeded_catalog(aws: LocalResources) -> None:
    from shared.adapters.catalog_store import write_catalog
    from shared.catalog.loader import load_catalog_file

    write_catalog(load_catalog_file())


@pytest.fixture(autouse=True)
def _event_loop_for_mangum() -> Iterator[None]:
    """Mangum drives a handler on the thread's current loop, as on Lambda; ``asyncio.run`` in an
    earlier test leaves the main thread without one, so each test starts with an open loop."""
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()
