"""Images in chat requests: data URLs and remote URLs, validated and inlined as base64.

Pure logic lives here (URL parsing, address classification, magic-byte sniffing); the network
fetch is ``shared.adapters.image_fetcher``. This package imports nothing that does I/O.
"""

from shared.images.model import InlineImage

__all__ = ["InlineImage"]
