"""``MotoProcess.start``: a moto server interrupted while it starts is not left running.

Found by pressing Ctrl-C in the first fraction of a second of ``make dev``: the KeyboardInterrupt
came while the stack waited for moto's port, before anything held the process, so ``stop()``
could not reach it and it outlived the stack.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sluice.local import moto_server


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, TimeoutError])
def test_a_server_interrupted_while_it_starts_is_killed(monkeypatch, interruption) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(*_args, **kwargs):  # a real child that would run until killed
        child = real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)
        started.append(child)
        return child

    def interrupted(*_args, **_kwargs):
        raise interruption

    monkeypatch.setattr(moto_server.subprocess, "Popen", popen)
    monkeypatch.setattr(moto_server, "wait_for_port", interrupted)

    with pytest.raises(interruption):
        moto_server.MotoProcess.start()

    [child] = started
    assert child.poll() is not None, "the child was left running"
