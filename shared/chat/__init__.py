"""Chat translation, hub and spoke: one canonical shape (``canonical``, ``events``) and pure
functions between it and each wire format (no I/O anywhere in this package).

- Client requests in: ``from_openai.request_from_openai``, ``from_anthropic.request_from_anthropic``.
- Upstream requests out: ``to_openai.request_to_openai``, ``to_anthropic.request_to_anthropic``.
- Upstream answers in: ``from_openai_response.response_from_openai``, ``from_anthropic_response.response_from_anthropic``.
- Client answers out: ``to_openai_response.response_to_openai``,
  ``to_anthropic_response.response_to_anthropic`` (fresh ids from ``ids``).
- Streams: ``stream_openai`` / ``stream_anthropic`` (parsers of upstream chunks/events, writers of
  client chunks/events); SSE bytes in ``sse``.
- OpenAI's deprecated ``functions`` / ``function_call``, both ways: ``openai_legacy``.
"""
