"""``sluice ... | head``: the reader leaving early is not an error worth a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_with_reader_gone(*args: str) -> subprocess.CompletedProcess[bytes]:
    read, write = os.pipe()
    os.close(read)  # nobody will read what the command prints
    try:
        return subprocess.run(
            [sys.executable, "-m", "sluice.cli.main", *args],
            cwd=ROOT,
            stdout=write,
            stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},  # as in a shell
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)


def test_output_to_a_closed_pipe_exits_as_sigpipe_would_and_quietly() -> None:
    done = _run_with_reader_gone("--help")

    assert done.returncode == 141
    assert b"BrokenPipeError" not in done.stderr and b"Traceback" not in done.stderr, done.stderr


def test_errors_still_reach_stderr_when_stdout_is_closed() -> None:
    done = _run_with_reader_gone("--stack")  # argparse: the option needs a value

    assert done.returncode == 2
    assert b"expected one argument" in done.stderr
