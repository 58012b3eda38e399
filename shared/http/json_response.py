"""A JSON response written by ``shared/json_codec.py``, for bodies that carry an upstream's answer."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from shared import json_codec


class UpstreamJSONResponse(JSONResponse):
    """Starlette's ``JSONResponse`` with ``json_codec.dumps``. Starlette writes with
    ``json.dumps(allow_nan=False)`` and then UTF-8: an answer holding a lone surrogate (half an
    emoji, from an upstream's detokenizer) or a non-finite number failed there, after the
    upstream call, as a 500. Here they are written ``?`` and ``null``, as streamed frames are."""

    def render(self, content: Any) -> bytes:
        return json_codec.dumps(content)
