"""Web-layer glue shared by every HTTP function (Starlette): app factory, errors, request context."""
