"""Run a function's Lambda handler the way the Lambda runtime does: one event at a time per instance.

Each "instance" is a thread with its own event loop (Mangum drives the ASGI app on the loop of
the thread that calls it). A pool of instances lets the local stack serve concurrent requests.
"""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sluice.local.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    function_name: str
    timeout_s: float = 30.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def _new_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


def load_attribute(spec: FunctionSpec) -> Any:
    return getattr(importlib.import_module(spec.module), spec.attribute)


class InstancePool:
    """Invokes one function's handler on a pool of single-event threads."""

    def __init__(self, spec: FunctionSpec, instances: int = 4) -> None:
        self.spec = spec
        self._executor = ThreadPoolExecutor(
            max_workers=instances, thread_name_prefix=f"lambda-{spec.name}", initializer=_new_loop
        )
        self._handler: Handler | None = None

    def _invoke_sync(self, event: dict[str, Any]) -> Any:
        if self._handler is None:
            self._handler = load_attribute(self.spec)
        return self._handler(event, LambdaContext(function_name=self.spec.name))

    async def invoke(self, event: dict[str, Any]) -> Any:
        return await asyncio.wrap_future(self._executor.submit(self._invoke_sync, event))

    def invoke_blocking(self, event: dict[str, Any]) -> Any:
        return self._executor.submit(self._invoke_sync, event).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
