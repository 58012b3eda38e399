"""The embedded AWS: moto behind a single-threaded werkzeug server, run as a child process.

Single-threaded on purpose: moto's threaded server is not atomic under concurrent conditional
writes, and DynamoDB itself serialises conditional writes per item. One request at a time makes
the local stack's concurrency behaviour (rate limits, credit reservations) as exact as AWS's.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, processes=1, use_reloader=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout} s")


@dataclass
class MotoProcess:
    """A running moto server child process."""

    process: subprocess.Popen[bytes] | None
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, port: int | None = None, timeout: float = 20.0) -> MotoProcess:
        port = port or free_port()
        env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "sluice.local.moto_server", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port("127.0.0.1", port, timeout)
        except TimeoutError:
            process.kill()
            raise
        return cls(process=process, port=port)

    @classmethod
    def attach(cls, endpoint: str) -> MotoProcess:
        """A server another process started (and will stop): several local stacks can share it."""
        port = int(endpoint.rsplit(":", 1)[1].strip("/"))
        wait_for_port("127.0.0.1", port, 5.0)
        return cls(process=None, port=port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description="single-threaded moto server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
