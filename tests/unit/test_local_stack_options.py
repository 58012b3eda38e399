"""The local stack's options: the RateLimitPreset template parameter from SLUICE_RATE_LIMIT_PRESET
or --rate-limit-preset reaches every function's environment (the template default otherwise)."""

from __future__ import annotations

import pytest

from sluice.local.__main__ import _options
from sluice.local.resources import LocalResources
from sluice.local.stack import RATE_LIMIT_PRESETS, StackOptions
from sluice.local.template import parse_template

UPSTREAM = "http://127.0.0.1:1/v1"


def preset_seen_by_functions(options: StackOptions) -> set[str]:
    template = parse_template()
    resources = LocalResources(template, parameters=options.template_parameters(UPSTREAM))
    return {resources.environment(name)["SLUICE_RATE_LIMIT_PRESET"] for name in template.functions}


def test_the_environment_variable_sets_the_template_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_RATE_LIMIT_PRESET", "credit_balance")

    options = _options([])

    assert options.rate_limit_preset == "credit_balance"
    assert preset_seen_by_functions(options) == {"credit_balance"}


def test_the_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_RATE_LIMIT_PRESET", "credit_balance")

    assert preset_seen_by_functions(_options(["--rate-limit-preset", "endpoint"])) == {"endpoint"}


def test_without_either_the_template_default_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLUICE_RATE_LIMIT_PRESET", raising=False)

    options = _options([])

    assert options.rate_limit_preset is None
    assert "RateLimitPreset" not in options.template_parameters(UPSTREAM)
    assert preset_seen_by_functions(options) == {"endpoint"}


@pytest.mark.parametrize("source", ["env", "flag"])
def test_an_unknown_preset_is_refused(monkeypatch: pytest.MonkeyPatch, capsys, source: str) -> None:
    monkeypatch.setenv("SLUICE_RATE_LIMIT_PRESET", "generous" if source == "env" else "endpoint")
    argv = ["--rate-limit-preset", "generous"] if source == "flag" else []

    with pytest.raises(SystemExit) as exited:
        _options(argv)

    assert exited.value.code == 2 and "credit_balance" in capsys.readouterr().err


def test_the_presets_are_the_templates_allowed_values() -> None:
    parameter = parse_template().document["Parameters"]["RateLimitPreset"]
    assert tuple(parameter["AllowedValues"]) == RATE_LIMIT_PRESETS
