"""The simulator served by uvicorn on a loopback port, in a background thread.

For tests and for the local stack to embed; ``python -m sluice.simulator`` runs it standalone.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from sluice.simulator.app import create_app
from sluice.simulator.config import SimulatorConfig
from sluice.simulator.pacing import SimulatedConnectionReset

START_TIMEOUT = 10.0


class QuietResets(logging.Filter):
    """Drops uvicorn's traceback for ``reset_mid_stream``: the reset is the point, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not _is_simulated_reset(error)


def _is_simulated_reset(error: BaseException | None) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return all(_is_simulated_reset(inner) for inner in error.exceptions)
    return isinstance(error, SimulatedConnectionReset)


def quiet_simulated_resets() -> None:
    """Install ``QuietResets`` on uvicorn's error logger (once)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, QuietResets) for existing in logger.filters):
        logger.addFilter(QuietResets())


class SimulatorServer:
    """A simulator on ``host`` (loopback by default) and a free port, served from a daemon thread."""

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (after ``start``)."""
        if self._socket is None:
            raise RuntimeError("simulator server is not started")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> SimulatorServer:
        """Bind, start serving, and return once the server accepts connections."""
        quiet_simulated_resets()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self._requested_port))
        config = uvicorn.Config(
            create_app(self.config), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="sluice-simulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("simulator server failed to start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (open requests get one second to finish) and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
