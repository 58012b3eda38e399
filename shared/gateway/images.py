"""Images in a request, made safe before the upstream call.

Remote http(s) URLs are fetched server-side (SSRF-safe) and inlined as base64; inline images are
decoded and sniffed too (PNG, JPEG, WEBP, GIF only; 6 MB original, 8 MB encoded), whatever
media type the client declared.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from shared.chat.canonical import ChatRequest, Image, Message, Part, ToolResult


def _images(part: Part) -> bool:
    return isinstance(part, Image) or (
        isinstance(part, ToolResult) and any(isinstance(p, Image) for p in part.content)
    )


def has_images(request: ChatRequest) -> bool:
    return any(_images(part) for message in request.messages for part in message.parts)


async def _inline(image: Image, param: str) -> Image:
    from shared.images.resolve import inline_image

    url = image.url if image.url is not None else f"data:{image.media_type};base64,{image.data}"
    checked = await inline_image(url, param=param)
    return Image(media_type=checked.media_type, data=checked.data_b64, detail=image.detail, cache=image.cache)


async def inline_images(request: ChatRequest) -> ChatRequest:
    """The request with every image checked, and every http(s) image fetched and inlined."""
    if not has_images(request):
        return request

    async def message(index: int, msg: Message) -> Message:
        parts: list[Part] = []
        for n, part in enumerate(msg.parts):
            param = f"messages.{index}.content.{n}"
            if isinstance(part, Image):
                parts.append(await _inline(part, param))
            elif isinstance(part, ToolResult) and _images(part):
                content = [await _inline(p, param) if isinstance(p, Image) else p for p in part.content]
                parts.append(replace(part, content=tuple(content)))
            else:
                parts.append(part)
        return replace(msg, parts=tuple(parts))

    messages = await asyncio.gather(*(message(i, m) for i, m in enumerate(request.messages)))
    return replace(request, messages=tuple(messages))
