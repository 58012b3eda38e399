"""Adapters: the only code in shared/ that does I/O (DynamoDB, SQS, Cognito, upstream providers)."""
