"""The model catalog: data, not code (seeded from default_catalog.json, stored in DynamoDB)."""
