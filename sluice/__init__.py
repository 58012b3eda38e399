"""Operator and developer tooling: the `sluice` CLI, the local stack and the upstream simulator.

Not shipped to Lambda: the functions import only ``shared``.
"""
