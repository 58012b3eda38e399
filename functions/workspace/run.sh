#!/bin/bash
# Lambda Web Adapter entry point: uvicorn (shared/http/server.py) serves the ASGI app; the adapter streams its responses.
PATH="$PATH:$LAMBDA_TASK_ROOT/bin" PYTHONPATH="$PYTHONPATH:/opt/python:$LAMBDA_RUNTIME_DIR" \
  exec python -m shared.http.server --port="$PORT" app:app
