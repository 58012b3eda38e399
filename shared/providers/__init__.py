"""Upstream providers: one adapter per protocol behind one interface (the only upstream I/O)."""
