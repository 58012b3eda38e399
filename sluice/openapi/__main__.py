"""``python -m sluice.openapi [--out FILE]``: print (or write) the generated OpenAPI document."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sluice.openapi.document import render_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sluice.openapi", description=__doc__)
    parser.add_argument("--out", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = render_document()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
