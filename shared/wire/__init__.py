"""Wire models: what clients and upstreams send, as pydantic models (OpenAI and Anthropic)."""
