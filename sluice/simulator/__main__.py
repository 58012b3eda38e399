"""``python -m sluice.simulator``: run the upstream simulator standalone."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import uvicorn

from sluice.simulator.app import create_app
from sluice.simulator.config import API_KEY_ENV, DEFAULT_MODELS, TOKEN_RATE_ENV, SimulatorConfig
from sluice.simulator.server import quiet_simulated_resets


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: ``--host``, ``--port``, ``--token-rate``, ``--api-key``, ``--model``."""
    parser = argparse.ArgumentParser(
        prog="python -m sluice.simulator",
        description="Run the Sluice upstream simulator (an OpenAI-compatible test double).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--token-rate",
        type=float,
        default=float(os.environ.get(TOKEN_RATE_ENV) or 0),
        help=f"tokens per second, 0 = as fast as possible (default: ${TOKEN_RATE_ENV} or 0)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV) or None,
        help=f"require this bearer token (default: ${API_KEY_ENV}; unset = accept any request)",
    )
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        help=f"a model id for GET /v1/models, repeatable (default: {', '.join(DEFAULT_MODELS)})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the simulator in the foreground until interrupted."""
    args = parse_args(argv)
    config = SimulatorConfig(
        token_rate=args.token_rate, api_key=args.api_key, models=tuple(args.models or DEFAULT_MODELS)
    )
    quiet_simulated_resets()
    uvicorn.run(create_app(config), host=args.host, port=args.port, lifespan="off")


if __name__ == "__main__":
    main()
