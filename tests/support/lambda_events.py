"""Sample events of events/ and a Lambda context, for driving handlers through their entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"


def load_event(function: str, name: str) -> dict[str, Any]:
    return json.loads((EVENTS / function / f"{name}.json").read_text(encoding="utf-8"))


class FakeContext:
    """A Lambda context with every attribute of mangum's ``LambdaContext`` protocol."""

    function_name = "test"
    aws_request_id = "test-request"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    function_version = "$LATEST"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "test"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000
