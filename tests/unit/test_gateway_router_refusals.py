"""A route whose provider refuses the request before calling (what its protocol or model cannot
carry: ``n > 1`` on Claude, ``top_k`` on Llama) is left for the next route at once, as a failed
one is, and the refusal reaches the client only when no route answers."""

from __future__ import annotations

import asyncio

import pytest
from support.router_fakes import ANSWER, Script, complete, entry, read_stream, text_stream

from shared.errors import InvalidRequest, UpstreamUnavailable
from shared.gateway import router
from shared.providers.base import failed_status


def refusal(param: str) -> InvalidRequest:
    return InvalidRequest(f"{param} is not supported by this model.", param=param)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "BACKOFF_BASE_S", 0.0)


def test_a_refusing_route_is_not_retried_and_the_next_one_answers() -> None:
    script = Script({"a": [refusal("n")], "b": ["ok"]})

    target, answer = complete(script, entry("m", "a", "b"))

    assert script.calls == ["a", "b"] and target.route.model == "b" and answer is ANSWER


def test_a_stream_refused_by_its_first_route_opens_on_the_next() -> None:
    script = Script({"a": [[refusal("top_k")]], "b": [text_stream("hello")]})

    route, events = asyncio.run(read_stream(script, entry("m", "a", "b")))

    assert route == "b" and script.calls == ["a", "b"]
    assert events == text_stream("hello")


def test_auto_moves_on_to_a_candidate_model_that_can_carry_the_request() -> None:
    script = Script({"a": [refusal("logprobs")], "b": ["ok"]})

    target, _ = complete(script, entry("first", "a"), entry("second", "b"))

    assert target.entry.id == "second"


@pytest.mark.parametrize("stream", [False, True])
def test_when_every_route_refuses_the_first_refusal_is_the_clients_400(stream: bool) -> None:
    first, second = refusal("n"), refusal("top_k")
    script = Script({"a": [[first] if stream else first], "b": [[second] if stream else second]})
    models = [entry("m", "a"), entry("n", "b")]

    with pytest.raises(InvalidRequest) as refused:
        if stream:
            asyncio.run(read_stream(script, *models))
        else:
            complete(script, *models)

    assert refused.value.param == "n" and script.calls == ["a", "b"]


def test_a_route_that_could_answer_but_failed_outweighs_an_earlier_refusal() -> None:
    """The model could carry the request, so its unavailability is the client's error."""
    script = Script({"a": [refusal("n")], "b": [failed_status(503)]})

    with pytest.raises(UpstreamUnavailable):
        complete(script, entry("m", "a", "b"))

    assert script.calls == ["a", "b", "b"]
