"""The upstream simulator: a server that stands in for a real model server, speaking OpenAI Chat
Completions, the Anthropic Messages API (``anthropic``) and Bedrock Converse (``bedrock``).

It answers deterministically (see ``replies`` and ``tokens``), streams at a configurable token
rate, answers tool calls, and injects faults on request (see ``faults`` and ``controls``), so the
platform works offline and its tests are exact. It says it is a simulator everywhere.
"""

from sluice.simulator.app import create_app
from sluice.simulator.config import SimulatorConfig
from sluice.simulator.faults import FaultName
from sluice.simulator.server import SimulatorServer

__all__ = ["FaultName", "SimulatorConfig", "SimulatorServer", "create_app"]
