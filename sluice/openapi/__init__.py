"""The OpenAPI 3.1 document of Sluice's HTTP API, generated, never written by hand.

- paths and methods: the ``Api`` events of ``template.yaml`` (the deployed route table);
- handlers: the Starlette route of each function's ``app`` that serves each template route;
- request bodies, query parameters, headers, success statuses and API-key security: read from
  the handler code (``sluice.openapi.introspect``), request schemas from the pydantic wire models;
- error responses: the statuses of the ``SluiceError`` hierarchy, in the wire format that
  ``shared.http.error_render.format_for_path`` gives each path.

``python -m sluice.openapi > docs/openapi.json`` writes the committed copy; the local stack
serves the same document at ``GET /openapi.json``.
"""

from sluice.openapi.document import build_document, render_document

__all__ = ["build_document", "render_document"]
