"""The chat gateway: usage limits, plan gates, routing and the request pipeline (format-agnostic)."""
