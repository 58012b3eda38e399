"""The local gateway's own control routes (``/__local/schedules``): every schedule of template.yaml
listed and run on demand, by full name or by a function or event name that fits one alone; an
unknown name is a 404 listing the names; none of it is part of the template's API."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest

from sluice.local.control import SCHEDULES_PATH, LocalControl, resolve_schedule
from sluice.local.event_sources import ScheduleRunner
from sluice.local.gateway import LocalGateway
from sluice.local.template import parse_template

CREDIT_JOB = "CreditExpiryFunction.Every5Minutes"


class FakePool:
    """Stands in for the function's instance pool: records the events it is invoked with."""

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result, self.error = result, error

    async def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error is not None:
            raise self.error
        return self.result


def runners(**pools: FakePool) -> dict[str, ScheduleRunner]:
    """Runners for template.yaml's schedules, each on the pool given by its function's name."""
    found = {}
    for schedule in parse_template().schedules:
        pool = pools.get(schedule.function, FakePool())
        found[f"{schedule.function}.{schedule.name}"] = ScheduleRunner(schedule, cast(Any, pool))
    return found


def call(control: LocalControl | None, method: str, path: str) -> httpx.Response:
    """One request to the local gateway, with these control routes (or none, as deployed)."""
    gateway = LocalGateway(parse_template(), control=control)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            return await client.request(method, path)

    return asyncio.run(go())


def test_the_credit_job_is_listed_and_runs_now_through_the_gateway() -> None:
    pool = FakePool(result={"lots_expired": 2})
    control = LocalControl(runners(CreditExpiryFunction=pool))

    listed = call(control, "GET", SCHEDULES_PATH)
    ran = call(control, "POST", f"{SCHEDULES_PATH}/{CREDIT_JOB}")

    assert listed.status_code == 200
    assert {"name": CREDIT_JOB, "expression": "rate(5 minutes)"}.items() <= listed.json()["data"][0].items()
    assert ran.status_code == 200, ran.text
    assert ran.json()["schedule"] == CREDIT_JOB and ran.json()["result"] == {"lots_expired": 2}
    [event] = pool.events
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"


@pytest.mark.parametrize("name", ["CreditExpiryFunction", "Every5Minutes"])
def test_a_function_or_event_name_that_fits_one_schedule_runs_it(name: str) -> None:
    pool = FakePool(result={})
    assert (
        call(LocalControl(runners(CreditExpiryFunction=pool)), "POST", f"{SCHEDULES_PATH}/{name}").json()[
            "schedule"
        ]
        == CREDIT_JOB
    )
    assert len(pool.events) == 1


def test_an_unknown_schedule_is_a_404_listing_the_names() -> None:
    response = call(LocalControl(runners()), "POST", f"{SCHEDULES_PATH}/credit-expiry")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "schedule_not_found" and response.json()["schedules"] == [
        CREDIT_JOB
    ]
    assert CREDIT_JOB in response.json()["error"]["message"]


def test_a_failing_run_is_a_500_naming_the_error() -> None:
    control = LocalControl(runners(CreditExpiryFunction=FakePool(error=RuntimeError("ledger down"))))

    response = call(control, "POST", f"{SCHEDULES_PATH}/{CREDIT_JOB}")

    assert response.status_code == 500 and "ledger down" in response.json()["error"]["message"]


def test_wrong_methods_are_405s() -> None:
    control = LocalControl(runners())
    assert call(control, "GET", f"{SCHEDULES_PATH}/{CREDIT_JOB}").headers["allow"] == "POST"
    assert call(control, "POST", SCHEDULES_PATH).headers["allow"] == "GET"


def test_an_ambiguous_name_resolves_to_nothing() -> None:
    names = ["A.Nightly", "B.Nightly", "B.Hourly"]
    assert resolve_schedule(names, "Nightly") is None and resolve_schedule(names, "B") is None
    assert resolve_schedule(names, "Hourly") == "B.Hourly" and resolve_schedule(names, "A") == "A.Nightly"


def test_the_control_routes_are_not_part_of_the_template_api() -> None:
    assert not [r for r in parse_template().routes if r.path.startswith("/__local")]
    assert call(None, "POST", f"{SCHEDULES_PATH}/{CREDIT_JOB}").status_code == 404, "only the local stack's"


def test_the_cli_runs_schedules_in_the_local_stack_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from sluice.cli.main import main

    with pytest.raises(SystemExit, match="local stack only"):
        main(["--env", "schedules", "run", "CreditExpiryFunction"])
    monkeypatch.chdir(tmp_path)  # no .sluice/local.env here: no local stack running
    with pytest.raises(SystemExit, match="start the local stack"):
        main(["schedules", "list"])
