"""Per-request simulator controls, from ``x-sim-*`` headers or a marker in the last user message.

The marker form lets a test that goes through the gateway (which does not forward ``x-sim-*``
headers) pick a fault: ``[sim:fault=http_503]`` or ``[sim:fail_times=1;key=abc;fault=http_503]``.
Headers win over the marker. Keys and their headers:

- ``fault`` / ``x-sim-fault``: a ``FaultName``.
- ``fail_times`` / ``x-sim-fail-times`` with ``key`` / ``x-sim-fail-key``: only the first N
  requests with that key get the fault (``http_503`` unless ``fault`` says otherwise).
- ``hang_seconds`` / ``x-sim-hang-seconds``: how long ``hang`` and ``hang_after_first`` wait.
- ``token_rate`` / ``x-sim-token-rate``: tokens per second for this request (0 = no pacing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sluice.simulator.faults import DEFAULT_FAIL_ONCE_FAULT, FailureCounter, FaultName
from sluice.simulator.wire import InvalidRequest

HEADERS = {
    "fault": "x-sim-fault",
    "fail_times": "x-sim-fail-times",
    "key": "x-sim-fail-key",
    "hang_seconds": "x-sim-hang-seconds",
    "token_rate": "x-sim-token-rate",
}
_MARKER = re.compile(r"\[sim:([^\]]*)\]")


@dataclass(frozen=True)
class Controls:
    """What a request asked of the simulator beyond a normal answer."""

    fault: FaultName | None = None
    fail_times: int | None = None
    fail_key: str | None = None
    hang_seconds: float | None = None
    token_rate: float | None = None

    def active_fault(self, counter: FailureCounter) -> FaultName | None:
        """The fault for this request, counting it against its fail key if it has one."""
        if self.fail_times is None:
            return self.fault
        if not self.fail_key:
            raise InvalidRequest("fail_times needs a fail key (x-sim-fail-key or key=...)", "x-sim-fail-key")
        if counter.should_fail(self.fail_key, self.fail_times):
            return self.fault or DEFAULT_FAIL_ONCE_FAULT
        return None


def marker_settings(text: str) -> dict[str, str]:
    """Settings of every ``[sim:key=value;...]`` marker in ``text``, later markers winning."""
    settings: dict[str, str] = {}
    for body in _MARKER.findall(text):
        for item in filter(None, (part.strip() for part in body.split(";"))):
            key, separator, value = item.partition("=")
            if not separator or key.strip() not in HEADERS:
                raise InvalidRequest(f"unknown simulator marker setting {item!r}", "messages")
            settings[key.strip()] = value.strip()
    return settings


def read_controls(headers: Mapping[str, str], last_user_text: str) -> Controls:
    """Controls from ``x-sim-*`` headers, falling back to markers in the last user message."""
    settings = marker_settings(last_user_text)
    for key, header in HEADERS.items():
        if headers.get(header):
            settings[key] = headers[header]
    return Controls(
        fault=_parse(settings, "fault", FaultName),
        fail_times=_parse(settings, "fail_times", _non_negative_int),
        fail_key=settings.get("key"),
        hang_seconds=_parse(settings, "hang_seconds", _non_negative_float),
        token_rate=_parse(settings, "token_rate", _non_negative_float),
    )


def _parse[T](settings: Mapping[str, str], key: str, convert: Callable[[str], T]) -> T | None:
    if key not in settings:
        return None
    try:
        return convert(settings[key])
    except ValueError as error:
        raise InvalidRequest(f"invalid {HEADERS[key]}: {settings[key]!r}", HEADERS[key]) from error


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value
