"""Authentication: API keys for the public API, user tokens for the dashboard."""
