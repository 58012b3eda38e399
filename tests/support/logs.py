"""The platform's log lines in a test, formatted as Powertools writes them (JSON lines)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared.observability import get_logger


class LogCapture(logging.Handler):
    """Every record of the platform's logger, formatted as Powertools writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(get_logger().registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture(name="logs")
def log_capture() -> Iterator[LogCapture]:
    """The platform's log lines of one test (import this fixture as ``log_capture``; use it as ``logs``)."""
    capture = LogCapture()
    logger = logging.getLogger(get_logger().service)
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
