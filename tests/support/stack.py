"""The local stack as a subprocess (what `make dev` runs), for the e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from sluice.local.moto_server import free_port

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class RunningStack:
    base_url: str
    api_key: str
    moto_endpoint: str
    env_file: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


def sluice_cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    """`sluice <args>` where the stack's .sluice/local.env is (the CLI's default target), with
    none of this process's SLUICE_/AWS_ settings, as a developer runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "sluice.cli.main", *args],
        cwd=stack.env_file.parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_output(stack: RunningStack, *args: str) -> str:
    """What `sluice <args>` printed; the test fails if the command did."""
    result = sluice_cli(stack, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def start_stack(
    workdir: Path,
    *,
    token_rate: float = 400.0,
    extra_env: dict[str, str] | None = None,
    aws_endpoint: str | None = None,
) -> RunningStack:
    port = free_port()
    env_file = workdir / ".sluice" / "local.env"
    log_file = workdir / "stack.log"
    env = {**os.environ, "SLUICE_SIM_TOKEN_RATE": str(token_rate), **(extra_env or {})}
    env.pop("AWS_ENDPOINT_URL", None)
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sluice.local",
                "--port",
                str(port),
                "--env-file",
                str(env_file),
                "--no-schedules",
                *(["--aws-endpoint", aws_endpoint] if aws_endpoint else []),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local stack exited early:\n{log_file.read_text()}")
        try:
            if env_file.exists() and httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200:
                values = _read_env(env_file)
                return RunningStack(
                    base_url,
                    values["SLUICE_API_KEY"],
                    values["SLUICE_AWS_ENDPOINT_URL"],
                    env_file,
                    log_file,
                    process,
                )
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"local stack not ready after {READY_TIMEOUT_S} s:\n{log_file.read_text()}")


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise
