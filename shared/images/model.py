"""The one shape every image takes once validated: a sniffed media type and base64 data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InlineImage:
    """A validated image, ready to forward upstream. ``media_type`` comes from the bytes, not a header."""

    media_type: str
    data_b64: str

    def as_data_url(self) -> str:
        """The image as a ``data:`` URL (what OpenAI-style upstreams accept)."""
        return f"data:{self.media_type};base64,{self.data_b64}"
