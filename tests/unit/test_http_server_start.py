"""shared/http/server.py: how the functions' HTTP server starts (``main``, ``serve``)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from shared.http import server as server_module


@pytest.fixture(name="unfrozen")
def _unfrozen():
    """The test process's heap as the collector sees it, before and after: nothing frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_serve_imports_the_app_then_freezes_what_is_alive_before_the_server_runs(
    monkeypatch, unfrozen
) -> None:
    seen: dict[str, Any] = {}

    class Recorded:
        def __init__(self, config: uvicorn.Config) -> None:
            self.config = config

        def run(self) -> None:
            tracked = gc.get_objects()  # every generation but the frozen objects
            seen["loaded"] = self.config.loaded
            seen["frozen"] = gc.get_freeze_count()
            seen["app tracked"] = any(o is self.config.loaded_app for o in tracked)
            seen["new tracked"] = any(o is marker for o in tracked)

    monkeypatch.setattr(server_module, "server_class", lambda: Recorded)
    config = uvicorn.Config(Starlette(), lifespan="off")  # loading wraps the app in uvicorn's middleware
    assert not config.loaded
    marker: list[object] = []
    server_module.serve(config)

    assert seen["loaded"] and seen["frozen"] > 0
    assert not seen["app tracked"], "the app as loaded (built inside serve) is frozen with the rest"
    assert not seen["new tracked"]
    fresh: list[object] = []
    assert any(o is fresh for o in gc.get_objects()), "what is built afterwards is collected as before"


class _Node:
    me: object = None


@pytest.mark.parametrize("collect_first", [True, False])
def test_garbage_made_before_serving_is_collected_first_when_the_caller_says_so(
    monkeypatch, unfrozen, collect_first: bool
) -> None:
    """Frozen garbage is never freed: with ``collect_first`` a reference cycle dropped before
    ``serve`` is gone when the server runs; without it, it is frozen with the rest."""
    seen: dict[str, bool] = {}

    class Recorded:
        def __init__(self, config: uvicorn.Config) -> None:
            pass

        def run(self) -> None:
            seen["alive"] = cycle() is not None

    monkeypatch.setattr(server_module, "server_class", lambda: Recorded)
    node = _Node()
    node.me = node
    cycle = weakref.ref(node)
    del node
    gc.disable()  # no automatic collection between here and the server
    try:
        server_module.serve(uvicorn.Config(Starlette(), lifespan="off"), collect_first=collect_first)
    finally:
        gc.enable()

    assert seen["alive"] is not collect_first


def test_on_ready_is_called_once_the_port_is_listening(monkeypatch, unfrozen) -> None:
    """What ``python -m sluice.local`` prints its "ready" banner from: a connection made from the
    callback is accepted."""
    import socket

    from sluice.local.moto_server import free_port

    port = free_port()
    accepted: list[bool] = []

    class OneTurn(server_module.server_class()):  # type: ignore[misc]
        async def main_loop(self) -> None:  # stops once started
            self.should_exit = True

    def ready() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            accepted.append(True)

    monkeypatch.setattr(server_module, "server_class", lambda: OneTurn)
    config = uvicorn.Config(Starlette(), port=port, lifespan="off", log_level="error")
    server_module.serve(config, on_ready=ready)

    assert accepted == [True]


def test_the_functions_entry_point_serves_the_chat_app(tmp_path) -> None:
    """What run.sh runs under the Lambda Web Adapter: ``python -m shared.http.server app:app`` from
    the function's directory, answering the adapter's readiness check."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from sluice.local.moto_server import free_port

    repo = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(repo), "PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "shared.http.server", "app:app"],
        cwd=repo / "functions" / "chat",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("wb"),
    )
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_ready", timeout=2) as response:
                    answer = (response.status, response.read())
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert answer == (200, b"ok"), (tmp_path / "server.log").read_text()
