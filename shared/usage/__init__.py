"""Usage events: one per request that reached (or was about to reach) a model."""
