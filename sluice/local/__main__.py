"""``make dev``: start the local stack on http://127.0.0.1:3000 and print a demo key.

Environment: ``SLUICE_LOCAL_STATE`` (a directory: keep state across restarts),
``SLUICE_CATALOG_FILE`` (load this catalog instead of the default), ``SLUICE_SIM_TOKEN_RATE``
(simulator tokens per second), ``SLUICE_RATE_LIMIT_PRESET`` (the ``RateLimitPreset`` template
parameter: ``endpoint`` or ``credit_balance``). Ctrl-C or SIGTERM stops every process it started.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sluice.local.stack import RATE_LIMIT_PRESETS, LocalStack, StackOptions, stop_on_sigterm


def _options(argv: list[str] | None) -> StackOptions:
    parser = argparse.ArgumentParser(prog="python -m sluice.local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SLUICE_LOCAL_PORT", "3000")))
    parser.add_argument("--state-dir", default=os.environ.get("SLUICE_LOCAL_STATE") or None)
    parser.add_argument("--catalog-file", default=os.environ.get("SLUICE_CATALOG_FILE") or None)
    parser.add_argument(
        "--token-rate", type=float, default=float(os.environ.get("SLUICE_SIM_TOKEN_RATE", "50"))
    )
    parser.add_argument(
        "--rate-limit-preset",
        choices=RATE_LIMIT_PRESETS,
        default=os.environ.get("SLUICE_RATE_LIMIT_PRESET") or None,
        help="the RateLimitPreset template parameter (default: the template's, endpoint)",
    )
    parser.add_argument("--env-file", default=".sluice/local.env")
    parser.add_argument(
        "--no-schedules", action="store_true", help="do not run rate() schedules on their own"
    )
    parser.add_argument(
        "--aws-endpoint", default=None, help="use this running embedded AWS (moto) instead of starting one"
    )
    args = parser.parse_args(argv)
    if args.rate_limit_preset not in (None, *RATE_LIMIT_PRESETS):  # a default from the environment
        parser.error(f"SLUICE_RATE_LIMIT_PRESET must be one of {', '.join(RATE_LIMIT_PRESETS)}")
    return StackOptions(
        host=args.host,
        port=args.port,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        catalog_file=Path(args.catalog_file) if args.catalog_file else None,
        token_rate=args.token_rate,
        env_file=Path(args.env_file),
        run_schedules=not args.no_schedules,
        aws_endpoint=args.aws_endpoint,
        rate_limit_preset=args.rate_limit_preset,
    )


def _read_known_key(env_file: Path) -> str | None:
    if not env_file.exists():
        return None
    for line in env_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("SLUICE_API_KEY="):
            return line.split("=", 1)[1].strip() or None
    return None


def _write_env_file(env_file: Path, base_url: str, raw_key: str, moto: str) -> None:
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text(
        f"SLUICE_BASE_URL={base_url}\nSLUICE_API_KEY={raw_key}\nSLUICE_AWS_ENDPOINT_URL={moto}\n",
        encoding="utf-8",
    )
    env_file.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    options = _options(argv)
    stack = LocalStack(options)
    stop_on_sigterm()
    try:
        stack.start_backends()
        restored = stack.load_state()
        from sluice.local.seed import seed_catalog, seed_demo_account

        seed_catalog(options.catalog_file)
        known = _read_known_key(options.env_file) if options.state_dir else None
        seeded = seed_demo_account(known)
        stack.start_workers()
        gateway = stack.build_gateway()
        base_url = f"http://{options.host}:{options.port}"
        assert stack.moto is not None
        _write_env_file(options.env_file, base_url, seeded.raw_key, stack.moto.endpoint)
        import uvicorn

        from shared.http.server import protocol, serve

        config = uvicorn.Config(
            gateway,
            host=options.host,
            port=options.port,
            http=protocol(),
            proxy_headers=False,  # the local gateway sets the request context from the peer
            log_level="warning",
            lifespan="off",
            access_log=False,
        )

        def ready() -> None:  # once the port is listening
            print(
                f"Sluice local stack ready in {time.monotonic() - started:.1f} s"
                f"{f' (restored {restored} items)' if restored else ''}\n"
                f"  base URL     {base_url}   (OpenAI SDK: {base_url}/v1, Anthropic SDK: {base_url})\n"
                f"  demo API key {seeded.raw_key}\n"
                f"  written to   {options.env_file}\n"
                "  the upstream is the bundled simulator (deterministic text, not a model); Ctrl-C stops",
                flush=True,
            )

        serve(config, collect_first=True, on_ready=ready)  # the seeding above left garbage
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
