"""``sluice``: operate a Sluice deployment (accounts, keys, credits, catalog, usage, DLQs; schedules)."""

from __future__ import annotations

import argparse
import os
import sys

from sluice.cli import commands, dlq, schedules
from sluice.cli.target import LOCAL_ENV, use_local, use_stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice", description=__doc__)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--stack", help="a deployed stack: names come from its outputs")
    target.add_argument("--local", action="store_true", help=f"the local stack ({LOCAL_ENV})")
    target.add_argument("--env", action="store_true", help="use SLUICE_*_TABLE from the environment")
    sub = parser.add_subparsers(dest="area", required=True)
    commands.register(sub)
    schedules.register(sub)
    dlq.register(sub)
    return parser


def _select_target(args: argparse.Namespace) -> None:
    if args.stack:
        use_stack(args.stack)
    elif args.local or (not args.env and LOCAL_ENV.exists()):
        use_local(LOCAL_ENV)  # exits, naming the file, when there is no local stack


def main(argv: list[str] | None = None) -> int:
    """The command's exit status; 141, as for SIGPIPE, when the reader of its output went away
    (``sluice dlq peek ... | head``): no traceback for what nobody reads."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, where a closed pipe can still be caught, not at exit
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes again at exit
        return 141


def _run(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "needs_tables", True):  # `schedules` talks to the local stack over HTTP
        _select_target(args)
    from shared.errors import SluiceError

    try:
        args.run(args)
    except SluiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
