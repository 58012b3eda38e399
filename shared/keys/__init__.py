"""API keys: generation, hashing and the stored record. The raw key exists only at creation."""
