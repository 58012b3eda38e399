"""Print template.yaml as SAM translates it (run with aws-sam-cli's Python, which has samtranslator).

Code locations are replaced by placeholder S3 URIs first, as `sam validate` does.
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _NoManagedPolicies:
    def load(self) -> dict:
        return {}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        document = yaml_parse(handle.read())
    for resource in document.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://placeholder/code.zip"
    json.dump(transform(document, {}, _NoManagedPolicies()), sys.stdout, default=str)


if __name__ == "__main__":
    main()
