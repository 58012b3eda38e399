#!/bin/bash
# Lambda Web Adapter entry point: uvicorn serves the ASGI app; the adapter streams its responses.
PATH="$PATH:$LAMBDA_TASK_ROOT/bin" PYTHONPATH="$PYTHONPATH:/opt/python:$LAMBDA_RUNTIME_DIR" \
  exec python -m uvicorn --port="$PORT" --no-access-log app:app
