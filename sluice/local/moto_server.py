"""The embedded AWS: moto served one request at a time, run as a child process.

One request at a time on purpose: moto's threaded server is not atomic under concurrent
conditional writes, and DynamoDB itself serialises conditional writes per item. Serial processing
makes the local stack's concurrency behaviour (rate limits, credit reservations) as exact as AWS's.

uvicorn serves moto's WSGI application and calls it synchronously on its event loop, so
requests are processed strictly one after another while connections stay open between them
(keep-alive, as with AWS). werkzeug's single-threaded server, used before, closes every
connection after one response, which made each client pay a new TCP connection per call.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


class SerialWsgi:
    """An ASGI application that runs a WSGI application inline: while it runs, the event loop
    (and so every other request) waits. Bodies are small AWS API payloads, read whole."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi = wsgi

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await whole_body(receive)
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers

        chunks = self.wsgi(_environ(scope, body), start_response)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        skip = {"content-length", "connection", "transfer-encoding"}
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in answer["headers"]
            if k.lower() not in skip
        ]
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": answer["status"], "headers": headers})
        await send({"type": "http.response.body", "body": content})


async def whole_body(receive: Any) -> bytes:
    """An ASGI request's body, read to its end."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return bytes(body)


def _environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("127.0.0.1", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"],
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def serve(host: str, port: int) -> None:
    import uvicorn
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from sluice.local import moto_speedups, moto_transactions

    moto_transactions.install()
    moto_speedups.install()
    app = SerialWsgi(DomainDispatcherApplication(create_backend_app))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")


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
            process_group=0,  # a Ctrl-C reaches the parent alone, which stops its children in order
        )
        try:
            wait_for_port("127.0.0.1", port, timeout)
        except BaseException:  # a timeout, or a Ctrl-C while it starts: no caller holds it yet
            process.kill()
            process.wait()
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
    parser = argparse.ArgumentParser(description="moto, one request at a time, keep-alive connections")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
