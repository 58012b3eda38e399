"""Sluice's common library, shipped to every function as a Lambda layer.

Dependencies point one way: ``functions`` -> domain modules here -> ``shared.adapters``.
Domain modules never import boto3, httpx or the web framework.
"""
