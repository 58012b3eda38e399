"""``count_tokens``: an estimate, stated as such (no upstream tokenizer is available offline).

The estimate counts characters of everything the model would read (system, messages, tool
definitions) at 4 characters per token, plus a fixed cost per image. Real tokenizers differ by
model; the response says ``"estimate": true``.
"""

from __future__ import annotations

import json
import math

from shared.chat.canonical import ChatRequest, Image, Tool, ToolResult
from shared.chat.messages import message_chars

CHARS_PER_TOKEN = 4
TOKENS_PER_IMAGE = 1_600  # Anthropic's documented upper bound for a ~1.15 megapixel image


def estimate_input_tokens(request: ChatRequest) -> int:
    chars = sum(len(t.text) for t in request.system)
    images = 0
    for message in request.messages:
        chars += message_chars(message)
        for part in message.parts:
            if isinstance(part, Image):
                images += 1
            elif isinstance(part, ToolResult):
                images += sum(isinstance(p, Image) for p in part.content)
    for tool in request.tools:
        if isinstance(tool, Tool):
            chars += len(tool.name) + len(tool.description or "") + len(json.dumps(tool.parameters))
    return math.ceil(chars / CHARS_PER_TOKEN) + images * TOKENS_PER_IMAGE
