"""Fixtures of the integration tier: the simulator and the chat function's world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from chat_support import TestAccount, install_catalog, make_account

from sluice.local.resources import LocalResources
from sluice.simulator import SimulatorConfig, SimulatorServer


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(SimulatorConfig(token_rate=0)).start()
    yield server
    server.stop()


@dataclass(frozen=True)
class ChatWorld:
    aws: LocalResources
    pro: TestAccount
    free: TestAccount
    simulator: SimulatorServer

    @property
    def usage_queue(self) -> str:
        return self.aws.names["UsageQueue"]


@pytest.fixture
def chat_world(aws: LocalResources, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> ChatWorld:
    monkeypatch.setenv("SLUICE_UPSTREAM_BASE_URL", simulator.base_url)
    monkeypatch.setenv("SLUICE_UPSTREAM_API_KEY", "simulator")
    install_catalog()
    return ChatWorld(
        aws, make_account("acct_pro", "pro", 1000), make_account("acct_free", "free", 100), simulator
    )
