"""The whole stack in one process tree: moto, the upstream simulator, the API and the workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sluice.local.event_sources import ScheduleRunner, SqsPoller
from sluice.local.gateway import LocalGateway
from sluice.local.lambda_runtime import InstancePool
from sluice.local.moto_server import MotoProcess, free_port, wait_for_port
from sluice.local.resources import REGION, LocalResources
from sluice.local.template import LocalTemplate, parse_template

STOP_WAIT_S = 5.0  # how long stop() lets a poll or scheduled run in hand finish
RATE_LIMIT_PRESETS = ("endpoint", "credit_balance")  # template.yaml's RateLimitPreset AllowedValues

LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "SLUICE_ENVIRONMENT": "local",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SLUICE_UPSTREAM_API_KEY": "simulator",
}


def _aws_endpoints(moto_endpoint: str, sim_port: int) -> dict[str, str]:
    """moto for every AWS service but Bedrock Runtime, which the simulator speaks (Converse and
    ConverseStream), so that a catalog route with ``provider: bedrock`` works offline."""
    return {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{sim_port}",
    }


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the caller's ``finally: stack.stop()`` runs. uvicorn
    re-raises the SIGTERM it caught once it has shut down; under the default handler that would
    kill the process before the cleanup, leaving moto and the simulator running."""
    signal.signal(signal.SIGTERM, _interrupt)


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    state_dir: Path | None = None
    catalog_file: Path | None = None
    token_rate: float = 50.0
    env_file: Path = Path(".sluice/local.env")
    run_schedules: bool = True
    aws_endpoint: str | None = None  # share an already running embedded AWS (several stack processes)
    rate_limit_preset: str | None = None  # the RateLimitPreset parameter; None: the template's default

    def template_parameters(self, upstream_base_url: str) -> dict[str, str]:
        """The template parameters the local stack sets (the others keep their defaults)."""
        parameters = {"Stage": "local", "UpstreamBaseUrl": upstream_base_url}
        if self.rate_limit_preset is not None:
            parameters["RateLimitPreset"] = self.rate_limit_preset
        return parameters


@dataclass
class LocalStack:
    options: StackOptions
    template: LocalTemplate = field(default_factory=parse_template)
    moto: MotoProcess | None = None
    simulator: subprocess.Popen[bytes] | None = None
    resources: LocalResources | None = None
    gateway: LocalGateway | None = None
    pollers: list[SqsPoller] = field(default_factory=list)
    schedules: dict[str, ScheduleRunner] = field(default_factory=dict)
    pools: dict[str, InstancePool] = field(default_factory=dict)

    def start_backends(self) -> None:
        """moto and the simulator as child processes; tables and queues from template.yaml."""
        self.moto = (
            MotoProcess.attach(self.options.aws_endpoint)
            if self.options.aws_endpoint
            else MotoProcess.start()
        )
        sim_port = free_port()
        self.simulator = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "sluice.simulator",
                "--port",
                str(sim_port),
                "--token-rate",
                str(self.options.token_rate),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log_file("simulator.log"),
            process_group=0,  # as moto: stopped by stop(), after the pollers that call it
        )
        os.environ.update({**LOCAL_AWS_ENV, **_aws_endpoints(self.moto.endpoint, sim_port)})
        self.resources = LocalResources(
            self.template, parameters=self.options.template_parameters(f"http://127.0.0.1:{sim_port}/v1")
        )
        import boto3

        session = boto3.session.Session(region_name=REGION)
        self.resources.provision(session.client("dynamodb"), session.client("sqs"))
        from sluice.local.cognito import provision_cognito

        os.environ.update(provision_cognito(self.resources, session.client("cognito-idp")))
        environment: dict[str, str] = {}
        for name in self.template.functions:
            environment.update(self.resources.environment(name))
        os.environ.update({k: v for k, v in environment.items() if not k.startswith("AWS_LWA")})
        os.environ.update({**LOCAL_AWS_ENV, **_aws_endpoints(self.moto.endpoint, sim_port)})
        from shared.settings import get_settings

        get_settings.cache_clear()
        wait_for_port("127.0.0.1", sim_port, 20)

    def _log_file(self, name: str) -> IO[bytes]:
        """Child-process logs go to .sluice/<name> next to the env file, not to the console."""
        path = self.options.env_file.parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("ab")

    def _pool(self, function: str) -> InstancePool:
        if function not in self.pools:
            self.pools[function] = InstancePool(self.template.functions[function], instances=2)
        return self.pools[function]

    def start_workers(self) -> None:
        """SQS event-source mappings and schedules, as Lambda and EventBridge would run them."""
        assert self.resources is not None
        from shared.adapters.aws import sqs

        for mapping in self.template.queue_mappings:
            poller = SqsPoller(
                mapping=mapping,
                queue_url=self.resources.names[mapping.queue],
                queue_arn=self.resources.arns[mapping.queue],
                pool=self._pool(mapping.function),
                sqs=sqs(),
            )
            poller.start()
            self.pollers.append(poller)
        for schedule in self.template.schedules:
            runner = ScheduleRunner(schedule=schedule, pool=self._pool(schedule.function))
            self.schedules[f"{schedule.function}.{schedule.name}"] = runner
            if self.options.run_schedules:
                runner.start()

    def build_gateway(self) -> LocalGateway:
        authorizer = None
        if any(route.authorized for route in self.template.routes):
            from sluice.local.auth import local_authorizer

            authorizer = local_authorizer
        from sluice.local.control import LocalControl

        self.gateway = LocalGateway(
            self.template, authorizer=authorizer, control=LocalControl(self.schedules)
        )
        return self.gateway

    def save_state(self) -> int:
        if self.options.state_dir is None or self.resources is None:
            return 0
        from shared.adapters.aws import dynamodb
        from sluice.local.state import save_tables

        tables = {k: v for k, v in self.resources.names.items() if not v.startswith("http")}
        return save_tables(dynamodb(), tables, self.options.state_dir)

    def load_state(self) -> int:
        if self.options.state_dir is None or self.resources is None:
            return 0
        from shared.adapters.aws import dynamodb
        from sluice.local.state import load_tables

        tables = {k: v for k, v in self.resources.names.items() if not v.startswith("http")}
        return load_tables(dynamodb(), tables, self.options.state_dir)

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        for runner in self.schedules.values():
            runner.stop()
        # Let a poll or a scheduled run in hand finish while the embedded AWS is still up.
        for poller in self.pollers:
            poller.stop(wait_s=STOP_WAIT_S)
        for runner in self.schedules.values():
            runner.stop(wait_s=STOP_WAIT_S)
        try:
            self.save_state()
        finally:
            for pool in self.pools.values():
                pool.shutdown()
            if self.gateway is not None:
                self.gateway.shutdown()
            if self.simulator is not None and self.simulator.poll() is None:
                self.simulator.terminate()
                self.simulator.wait(timeout=5)
            if self.moto is not None:
                self.moto.stop()

    def info(self) -> dict[str, Any]:
        assert self.resources is not None and self.moto is not None
        return {"moto": self.moto.endpoint, "resources": dict(self.resources.names)}
