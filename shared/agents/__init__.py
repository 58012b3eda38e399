"""Agent runs: multi-step background tasks driven one step per SQS message (docs/AGENTS.md)."""
