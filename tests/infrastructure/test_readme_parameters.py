"""The README's Configuration section names every deploy-time parameter of template.yaml."""

from __future__ import annotations

from pathlib import Path

from sluice.local.template import LocalTemplate

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_template_parameter_is_in_the_readme_configuration(template: LocalTemplate) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    parameters = template.document["Parameters"]

    missing = [name for name in parameters if f"`{name}`" not in section]

    assert parameters and not missing, f"README.md, Configuration, does not name {missing}"
