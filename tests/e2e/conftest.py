"""The local stack as a subprocess (what `make dev` runs), shared by the e2e tests of a session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from support.stack import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    yield stack
    stop_stack(stack)


@pytest.fixture
def stack_aws(local_stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningStack]:
    """Point this test process's boto3 and settings at the running stack's moto server and tables."""
    from shared.adapters.aws import client
    from shared.settings import get_settings
    from sluice.cli.target import use_local

    saved = dict(os.environ)
    use_local(local_stack.env_file)
    changed = {key: value for key, value in os.environ.items() if saved.get(key) != value}
    os.environ.clear()
    os.environ.update(saved)
    for key, value in changed.items():  # through monkeypatch, so that they are restored afterwards
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    client.cache_clear()
    yield local_stack
    get_settings.cache_clear()
    client.cache_clear()
