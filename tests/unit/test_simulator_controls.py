"""The upstream simulator's per-request controls: ``x-sim-*`` headers and ``[sim:...]`` markers in
the text select faults (the headers winning), bad controls are invalid requests, and
``fail_times`` fails the first requests of each key."""

from __future__ import annotations

import pytest

from sluice.simulator.controls import Controls, marker_settings, read_controls
from sluice.simulator.faults import FailureCounter, FaultName
from sluice.simulator.wire import InvalidRequest

# Controls


def test_markers_and_headers_select_faults_headers_winning() -> None:
    text = "hi [sim:fail_times=1;key=abc;fault=http_503] there"

    assert marker_settings(text) == {"fail_times": "1", "key": "abc", "fault": "http_503"}
    controls = read_controls({"x-sim-fault": "http_429"}, text)
    assert controls == Controls(fault=FaultName.HTTP_429, fail_times=1, fail_key="abc")


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({"x-sim-fault": "explode"}, ""),
        ({"x-sim-token-rate": "-1"}, ""),
        ({"x-sim-fail-times": "many"}, ""),
        ({}, "[sim:colour=blue]"),
    ],
)
def test_bad_controls_are_invalid_requests(headers: dict[str, str], text: str) -> None:
    with pytest.raises(InvalidRequest):
        read_controls(headers, text)


def test_fail_times_fails_the_first_n_requests_per_key() -> None:
    counter = FailureCounter()
    twice = Controls(fail_times=2, fail_key="a")
    once_other = Controls(fail_times=1, fail_key="b", fault=FaultName.HTTP_500)

    outcomes = [twice.active_fault(counter) for _ in range(3)]

    assert outcomes == [FaultName.HTTP_503, FaultName.HTTP_503, None]
    assert [once_other.active_fault(counter) for _ in range(2)] == [FaultName.HTTP_500, None]
    with pytest.raises(InvalidRequest):
        Controls(fail_times=1).active_fault(counter)
