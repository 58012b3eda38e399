"""Playground: short-lived browser tokens, sessions that keep messages, history and export."""
